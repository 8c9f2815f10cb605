"""The SHACL fixtures: a conforming base graph and one SPARQL Update per non-conforming case.

`tests/fixtures/shapes/curations/` holds two curation files whose export conforms with no
result at any severity (together they use every property the shapes check). Each
`tests/fixtures/shapes/cases/*.ru` breaks that export in one way; its `# expect:` lines give
the exact results: shape | path | severity | focus | source files | front-matter key
(`-` for none). Prefixed names use `PREFIXES` below.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph

from kg.rdf.vocab import DEFAULT_BASE_IRI, instance_prefixes
from kg.rdf.vocab import PREFIXES as VOCAB_PREFIXES
from kg.read.rdf import InputData
from kg.shacl.reference import QueryCachingGraph
from kg.validation.inputs import read_inputs
from kg.validation.keys import SHAPES_NS
from kg.validation.model import ValidationReport
from kg.validation.validate import load_shapes, validate
from tests.conftest import ROOT, TESTS

FIXTURES = TESTS / "fixtures" / "shapes"
CURATIONS = FIXTURES / "curations"
CASES = FIXTURES / "cases"
SHAPES_FILE = ROOT / "shapes" / "kg.shapes.ttl"

FULL = DEFAULT_BASE_IRI + "curation/11111111-2222-5333-8444-555555555555"
WORK_PACKAGE = DEFAULT_BASE_IRI + "work-package/9002"

PREFIXES: dict[str, str] = {
    **VOCAB_PREFIXES,
    **instance_prefixes(DEFAULT_BASE_IRI),
    "kgsh": SHAPES_NS,
    "wp": DEFAULT_BASE_IRI + "work-package/",
    "F": FULL + "/",
    "W": WORK_PACKAGE + "/",
    "G": DEFAULT_BASE_IRI + "graph/curation/",
    "tklas": DEFAULT_BASE_IRI + "topic/KLAS/",
    "tmedigy": DEFAULT_BASE_IRI + "topic/Medigy/",
}
SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())

Expected = tuple[str, str | None, str, str, tuple[str, ...], str | None]


def expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return PREFIXES[prefix] + local.replace("\\/", "/")


@dataclass(frozen=True)
class Case:
    name: str
    update: str
    expected: frozenset[Expected]
    pyrudof_note: str | None


def load_case(path: Path) -> Case:
    expected: set[Expected] = set()
    note = None
    body = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            shape, rpath, severity, focus, files, key = (c.strip() for c in line[9:].split("|"))
            expected.add(
                (
                    expand(shape),
                    None if rpath == "-" else expand(rpath),
                    severity,
                    expand(focus),
                    () if files == "-" else tuple(sorted(files.split(","))),
                    None if key == "-" else key,
                )
            )
        elif line.startswith("# pyrudof:"):
            note = line[10:].strip()
        elif not line.startswith("#"):
            body.append(line)
    return Case(path.stem, "\n".join(body), frozenset(expected), note)


def cases() -> list[Case]:
    return [load_case(p) for p in sorted(CASES.glob("*.ru"))]


@lru_cache(maxsize=1)
def base_data() -> InputData:
    """The export of the fixture curations (N-Triples and curation -> graph provenance)."""
    return read_inputs([CURATIONS])


@lru_cache(maxsize=1)
def shapes_graph() -> Graph:
    """The packaged shapes, parsed once (validation does not change them)."""
    return load_shapes()


def broken_graph(case: Case) -> QueryCachingGraph:
    """The base export with the case's update applied (rdflib updates only plain Graphs)."""
    graph = Graph()
    graph += QueryCachingGraph.from_ntriples(base_data().ntriples)  # lexical forms as exported
    graph.update(SPARQL_PREFIXES + case.update)
    return QueryCachingGraph.from_ntriples(graph.serialize(format="nt"))


def run(graph: QueryCachingGraph) -> ValidationReport:
    return validate(graph, shapes_graph(), curation_graphs=base_data().curation_graphs)


def observed(report: ValidationReport) -> set[Expected]:
    return {
        (r.source_shape or "", r.path, r.severity, r.focus_node, r.source_files, r.key)
        for r in report.results
    }
