"""The W3C SHACL test suite (core/ and sparql/) through every engine kg offers.

Each manifest entry is its own test per engine. Expected, as issue 18 asks:
- `auto` (the default): the expected report on every core case; on sparql/, the expected
  report or a refusal; `sht:Failure` cases refused;
- `fast`: the expected report or a refusal (exit 2), never a wrong answer;
- `pyshacl`: the same (kg works around pySHACL's one wrong core answer, uniqueLang-002).

Reports are compared as the suite specifies (see `tests.helpers.w3c_suite`). Skipped with a reason when
`../shared/w3c/shacl-tests` is absent.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rdflib import Graph

from kg.shacl.engine import ValidationError, quiet_literals
from kg.shacl.fast import auto_engine, fast_engine
from kg.shacl.reference import pyshacl_engine
from tests.helpers.w3c_suite import W3C, W3CCase, actual, cases, expected, graphs

ENGINES: dict[str, Callable[[Graph, Graph], Graph]] = {
    "auto": auto_engine,
    "fast": fast_engine,
    "pyshacl": pyshacl_engine,
}
#: What each engine may do on each section besides giving the expected report.
MAY_REFUSE = {("auto", "core"): False}

#: Cases the engine refuses today (refusing is allowed except for auto on core); listed so a
#: change shows: a refusal turned into an answer must be a right answer, and is then removed here.
REFUSED: dict[str, set[str]] = {
    "auto": {"sparql/pre-binding/shapesGraph-001"},
    "fast": {
        "core/complex/personexample",
        "core/complex/shacl-shacl",
        "core/path/path-alternative-001",
        "core/path/path-complex-001",
        "core/path/path-complex-002",
        "core/path/path-inverse-001",
        "core/path/path-oneOrMore-001",
        "core/path/path-sequence-001",
        "core/path/path-sequence-002",
        "core/path/path-sequence-duplicate-001",
        "core/path/path-strange-001",
        "core/path/path-strange-002",
        "core/path/path-zeroOrMore-001",
        "core/path/path-zeroOrOne-001",
        "sparql/component/optional-001",
        "sparql/component/propertyValidator-select-001",
        "sparql/component/validator-001",
        "sparql/node/sparql-002",
        "sparql/node/sparql-003",
        "sparql/pre-binding/pre-binding-001",
        "sparql/pre-binding/pre-binding-002",
        "sparql/pre-binding/pre-binding-003",
        "sparql/pre-binding/pre-binding-004",
        "sparql/pre-binding/pre-binding-005",
        "sparql/pre-binding/pre-binding-007",
        "sparql/pre-binding/shapesGraph-001",
    },
    "pyshacl": {"sparql/node/prefixes-001", "sparql/pre-binding/shapesGraph-001"},
}


def _params() -> list[object]:
    out: list[object] = []
    for section in ("core", "sparql"):
        for case in cases(section):
            for engine in ENGINES:
                out.append(pytest.param(case, engine, id=f"{engine}:{case.name}"))
    if not out:
        out.append(pytest.param(None, "auto", id="absent", marks=pytest.mark.skip(f"no W3C suite at {W3C}")))
    return out


@pytest.mark.parametrize(("case", "engine"), _params())
def test_w3c_case(case: W3CCase, engine: str) -> None:
    want = expected(case)
    data, shapes = graphs(case)
    try:
        with quiet_literals():
            report = ENGINES[engine](data, shapes)
    except ValidationError:
        assert want is None or case.name in REFUSED[engine], f"{engine} refused {case.name}"
        return
    assert want is not None, f"{engine} ran a query SHACL forbids ({case.name}): it must refuse"
    assert case.name not in REFUSED[engine], f"{engine} now answers {case.name}: remove it from REFUSED"
    assert actual(report) == want


def test_the_suite_is_complete() -> None:
    """98 core cases, 22 sparql ones (7 of them sht:Failure), as in the suite's manifests."""
    if not cases("core"):
        pytest.skip(f"no W3C suite at {W3C}")
    assert len(cases("core")) == 98
    assert len(cases("sparql")) == 22
    assert sum(1 for c in cases("sparql") if expected(c) is None) == 7
