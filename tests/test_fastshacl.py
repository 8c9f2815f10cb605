"""The fast SHACL engine gives exactly pySHACL's results (pySHACL is the reference)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD

from kg.export import build
from kg.resources import resource_dir
from tests.conftest import EXAMPLES

Key = tuple[object, ...]


def shape_files() -> list[Path]:
    files = sorted(resource_dir("shapes").glob("*.ttl"))
    if not files:
        pytest.skip("no shapes in shapes/")
    return files


def _canonical(term: object) -> object:
    """Compare literals by value: rdflib rewrites dateTime lexical forms (Z -> +00:00)."""
    if isinstance(term, Literal):
        datatype = term.datatype or (None if term.language else XSD.string)
        return (term.toPython(), str(datatype), term.language)
    if isinstance(term, URIRef):
        return str(term)
    return term


def fast_keys(sources: list[Path], shapes: list[Path], jobs: int = 1) -> set[Key]:
    built = build(sources, shapes=shapes, jobs=jobs)
    assert built.report.validation is not None
    keys = set()
    for r in built.report.validation:
        value = r.value
        if value is not None and not isinstance(value, str):
            value = Literal(
                value.lexical,
                lang=value.language or None,
                datatype=None if value.language else URIRef(value.datatype),
            )
        keys.add((str(r.focus), r.path, _canonical(value), r.component, r.shape, r.severity))
    return keys


def pyshacl_keys(sources: list[Path], shapes: list[Path]) -> set[Key]:
    data = Graph().parse(data=build(sources).ntriples().decode(), format="nt")
    shapes_graph = Graph()
    for path in shapes:
        shapes_graph.parse(path)
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes_graph, inference="none")
    keys = set()
    for res in report.subjects(RDF.type, SH.ValidationResult):
        path = report.value(res, SH.resultPath)
        keys.add(
            (
                str(report.value(res, SH.focusNode)),
                str(path) if path is not None else None,
                _canonical(report.value(res, SH.value)),
                str(report.value(res, SH.sourceConstraintComponent)),
                str(report.value(res, SH.sourceShape)),
                str(report.value(res, SH.resultSeverity)),
            )
        )
    return keys


def broken_copy(src: Path, dst: Path) -> Path:
    """A copy of `src` with a removed title, swapped dates, a duplicate id and a duplicate mdName."""
    shutil.copytree(src, dst)
    files = sorted(dst.glob("*.md"))
    text = files[0].read_text(encoding="utf-8-sig")
    files[0].write_text(re.sub(r"(?m)^title:.*(\n  .*)*\n", "", text, count=1) + "", encoding="utf-8")
    text = files[1].read_text(encoding="utf-8-sig")
    text = text.replace("lastMod: '2", "lastMod: '1999-01-01T00:00:00Z'\nold: '2", 1)
    files[1].write_text(text, encoding="utf-8")
    first_id = re.search(r"(?m)^id: (\d+)", files[2].read_text(encoding="utf-8-sig"))
    assert first_id is not None
    text = files[3].read_text(encoding="utf-8-sig")
    files[3].write_text(re.sub(r"(?m)^id: \d+", f"id: {first_id.group(1)}", text), encoding="utf-8")
    md_name = re.search(r"(?m)^mdName: (\S+)", files[4].read_text(encoding="utf-8-sig"))
    assert md_name is not None
    text = files[5].read_text(encoding="utf-8-sig")
    files[5].write_text(re.sub(r"(?m)^mdName: \S+", f"mdName: {md_name.group(1)}", text), encoding="utf-8")
    return dst


def test_fast_engine_equals_pyshacl_on_examples() -> None:
    shapes = shape_files()
    assert fast_keys([EXAMPLES], shapes) == pyshacl_keys([EXAMPLES], shapes)


def test_fast_engine_equals_pyshacl_on_broken_examples(tmp_path: Path) -> None:
    shapes = shape_files()
    src = broken_copy(EXAMPLES, tmp_path / "broken")
    fast = fast_keys([src], shapes)
    assert fast == pyshacl_keys([src], shapes)
    assert any(k[3].endswith("MinCountConstraintComponent") for k in fast)  # the removed title
    assert any(k[3].endswith("SPARQLConstraintComponent") for k in fast)  # dates, duplicate id


def test_parallel_fast_validation_equals_serial(tmp_path: Path) -> None:
    shapes = shape_files()
    src = tmp_path / "many"
    for i in range(3):
        shutil.copytree(EXAMPLES, src / f"copy{i}")  # same identities: duplicates across copies
    for i in range(30):
        shutil.copytree(EXAMPLES, src / f"x{i}", ignore=shutil.ignore_patterns("*.md"))
    for path in sorted((src / "copy0").glob("*.md")):
        text = path.read_text(encoding="utf-8-sig")
        for i in range(30):
            changed = re.sub(r"(?m)^mdName: (\S+)", lambda m, i=i: f"mdName: {m.group(1)[:-4]}{i:04d}", text)
            changed = re.sub(
                r"(?m)^id: (\d+)", lambda m, i=i: f"id: {int(m.group(1)) + 10000 * (i + 1)}", changed
            )
            (src / f"x{i}" / path.name).write_text(changed, encoding="utf-8")
    assert fast_keys([src], shapes, jobs=2) == fast_keys([src], shapes, jobs=1)


@pytest.mark.corpus
@pytest.mark.slow
def test_fast_engine_equals_pyshacl_on_real_corpus(corpus_dir: Path) -> None:
    shapes = shape_files()
    assert fast_keys([corpus_dir], shapes) == pyshacl_keys([corpus_dir], shapes)
