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


# --- issue 18: behaviours the W3C suite only touches, each checked on every engine ----------

_TTL = """@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
EX = "http://example.org/"

#: name -> (shapes, data, expected (focus, path, value, component) with ex: and sh: shortened)
BEHAVIOURS: dict[str, tuple[str, str, set[tuple[str, str | None, str | None, str]]]] = {
    "targetNode in no triple": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:ghost ; sh:class ex:C .",
        "ex:a ex:p 1 .",
        {("ex:ghost", None, "ex:ghost", "Class")},
    ),
    "implicit class target": (
        "ex:C a rdfs:Class, sh:NodeShape ; sh:property [ sh:path ex:p ; sh:minCount 2 ] .",
        "ex:a a ex:C ; ex:p 1 . ex:b ex:p 1 .",
        {("ex:a", "ex:p", None, "MinCount")},
    ),
    "property shape in a property shape": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ;"
        " sh:property [ sh:path ex:p ; sh:property [ sh:path ex:q ; sh:minCount 1 ] ] .",
        "ex:a ex:p ex:b, ex:c . ex:c ex:q 1 .",
        {("ex:b", "ex:q", None, "MinCount")},
    ),
    "ill-formed dateTime": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:d ;"
        " sh:property [ sh:path ex:d ; sh:datatype xsd:dateTime ] .",
        'ex:a ex:d "2021-02-30T10:00:00Z"^^xsd:dateTime . ex:b ex:d "2021-02-28T10:00:00Z"^^xsd:dateTime .',
        {("ex:a", "ex:d", '"2021-02-30T10:00:00Z"^^xsd:dateTime', "Datatype")},
    ),
    "NaN under numeric bounds": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:n ; sh:property [ sh:path ex:n ; sh:minInclusive 0 ] .",
        'ex:a ex:n "NaN"^^xsd:double . ex:b ex:n "1e0"^^xsd:double .',
        {("ex:a", "ex:n", '"NaN"^^xsd:double', "MinInclusive")},
    ),
    "qualifiedMaxCount 0": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ;"
        " sh:qualifiedValueShape [ sh:class ex:Bad ] ; sh:qualifiedMaxCount 0 ] .",
        "ex:a ex:p ex:x . ex:x a ex:Bad . ex:b ex:p ex:y .",
        {("ex:a", "ex:p", None, "QualifiedMaxCount")},
    ),
    "qualifiedValueShapesDisjoint": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:h ;"
        " sh:property ex:P1, ex:P2 ."
        " ex:P1 sh:path ex:f ; sh:qualifiedValueShape [ sh:class ex:Thumb ] ; sh:qualifiedMinCount 1 ;"
        "   sh:qualifiedValueShapesDisjoint true ."
        " ex:P2 sh:path ex:f ; sh:qualifiedValueShape [ sh:class ex:Finger ] ; sh:qualifiedMinCount 1 ;"
        "   sh:qualifiedValueShapesDisjoint true .",
        "ex:h ex:f ex:x . ex:x a ex:Thumb, ex:Finger .",
        {("ex:h", "ex:f", None, "QualifiedMinCount")},
    ),
    "deactivated nested shape": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:node ex:Off ."
        " ex:Off sh:deactivated true ; sh:class ex:Never .",
        "ex:a ex:p 1 .",
        set(),
    ),
    "blank-node values under pattern and minLength": (
        'ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:pattern "." ;'
        " sh:minLength 1 ] .",
        "ex:a ex:p [ ex:q 1 ] .",
        {("ex:a", "ex:p", "_", "Pattern"), ("ex:a", "ex:p", "_", "MinLength")},
    ),
    "dateTime by value across time zones and fractional seconds": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:t ; sh:property [ sh:path ex:t ;"
        ' sh:maxInclusive "2021-01-01T10:00:00Z"^^xsd:dateTime ] .',
        'ex:a ex:t "2021-01-01T11:00:00+01:00"^^xsd:dateTime .'  # the same instant: conforms
        ' ex:b ex:t "2021-01-01T10:00:00.5Z"^^xsd:dateTime .'  # half a second later
        ' ex:c ex:t "2021-01-01T10:30:00+01:00"^^xsd:dateTime .',  # earlier: conforms
        {("ex:b", "ex:t", '"2021-01-01T10:00:00.5Z"^^xsd:dateTime', "MaxInclusive")},
    ),
    "$PATH substitution and $this pre-binding": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a, ex:b ; sh:property [ sh:path ex:p ;"
        ' sh:sparql [ sh:select "SELECT $this ?value WHERE { $this $PATH ?value . FILTER (?value > 1) }" ]'
        " ] .",
        "ex:a ex:p 1, 2 . ex:b ex:p 3 . ex:c ex:p 5 .",
        {("ex:a", "ex:p", '"2"^^xsd:integer', "SPARQL"), ("ex:b", "ex:p", '"3"^^xsd:integer', "SPARQL")},
    ),
    "sh:sparql constraint as a blank node, on a blank focus node": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ;"
        ' sh:sparql [ sh:select "SELECT $this WHERE { $this <http://example.org/p> 2 . }" ] .',
        "[] ex:p 2 . ex:a ex:p 1 .",
        {("_", None, "_", "SPARQL")},
    ),
    "sh:value is the data's term": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:t ; sh:property [ sh:path ex:t ;"
        ' sh:maxExclusive "2021-01-01T10:00:00Z"^^xsd:dateTime ] .',
        'ex:a ex:t "2021-01-01T10:00:50.292Z"^^xsd:dateTime .',
        {("ex:a", "ex:t", '"2021-01-01T10:00:50.292Z"^^xsd:dateTime', "MaxExclusive")},
    ),
}


def _short(term: object) -> str | None:
    from rdflib import BNode

    if term is None:
        return None
    if isinstance(term, BNode):
        return "_"
    if isinstance(term, Literal):
        return (
            term.n3().replace("<http://www.w3.org/2001/XMLSchema#", "xsd:").replace(">", "")
            if (term.datatype)
            else term.n3()
        )
    return str(term).replace(EX, "ex:")


def _behaviour(engine: str, name: str) -> tuple[set[tuple[str | None, ...]], bool]:
    from kg.fastshacl import auto_engine, fast_engine
    from kg.validate import QueryCachingGraph, pyshacl_engine
    from tests.w3c_suite import graph_of

    shapes_ttl, data_ttl, _ = BEHAVIOURS[name]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "s.ttl").write_text(_TTL + shapes_ttl, encoding="utf-8")
        (Path(tmp) / "d.ttl").write_text(_TTL + data_ttl, encoding="utf-8")
        shapes = graph_of(Path(tmp) / "s.ttl")
        data = graph_of(Path(tmp) / "d.ttl")
        graph_of.cache_clear()
    assert isinstance(data, QueryCachingGraph)
    engines = {"auto": auto_engine, "fast": fast_engine, "pyshacl": pyshacl_engine}
    report = engines[engine](data, shapes)
    root = next(report.subjects(RDF.type, SH.ValidationReport))
    keys = set()
    for r in report.objects(root, SH.result):
        component = str(report.value(r, SH.sourceConstraintComponent)).rsplit("#", 1)[1]
        keys.add(
            (
                _short(report.value(r, SH.focusNode)),
                _short(report.value(r, SH.resultPath)),
                _short(report.value(r, SH.value)),
                component.removesuffix("ConstraintComponent"),
            )
        )
    conforms = report.value(root, SH.conforms)
    return keys, bool(conforms is not None and conforms.toPython())


@pytest.mark.parametrize("engine", ["auto", "fast", "pyshacl"])
@pytest.mark.parametrize("name", sorted(BEHAVIOURS))
def test_behaviour(name: str, engine: str) -> None:
    keys, conforms = _behaviour(engine, name)
    assert keys == BEHAVIOURS[name][2]
    assert conforms == (not keys)


def test_kgs_shapes_are_all_the_fast_engines_and_read_only_named_predicates() -> None:
    """kg's own shapes need no pySHACL, and their SPARQL constraints load only the triples of
    the predicates they name into Oxigraph (not every article body): the export stays fast."""
    from kg.fastshacl import compile_split

    graph = Graph()
    for path in shape_files():
        graph.parse(path)
    compiled = compile_split(graph)
    assert compiled.unsupported == {}
    assert "*" not in compiled.sparql_predicates
    assert "https://w3id.org/medigy/kg#mdName" in compiled.sparql_predicates
