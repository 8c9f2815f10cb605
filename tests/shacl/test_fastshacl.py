"""The fast SHACL engine gives exactly pySHACL's results (pySHACL is the reference)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pyshacl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD

from kg.pipeline.export import build
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
    from kg.shacl.fast import auto_engine, fast_engine
    from kg.shacl.reference import QueryCachingGraph, pyshacl_engine
    from tests.helpers.w3c_suite import graph_of

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
    from kg.shacl.fast import compile_split

    graph = Graph()
    for path in shape_files():
        graph.parse(path)
    compiled = compile_split(graph)
    assert compiled.unsupported == {}
    assert "*" not in compiled.sparql_predicates
    assert "https://w3id.org/medigy/kg#mdName" in compiled.sparql_predicates


# --- issue 18: the fast engine equals pySHACL beyond the suite (hypothesis) ---------------------

_OBJECTS = [
    "ex:n0", "ex:n1", "ex:n2", "_:b0",
    '"a"', '"ab"', '"ab"@en', '"ab"@fr', "1", "2", '"1.5"^^xsd:decimal', '"NaN"^^xsd:double',
    '"2021-01-01T10:00:00Z"^^xsd:dateTime', '"2021-01-01T11:00:00+01:00"^^xsd:dateTime',
    '"2021-01-01T10:00:00.5Z"^^xsd:dateTime', '"2021-02-30"^^xsd:date', '"2021-02-28"^^xsd:date',
    '"x"^^xsd:integer', "true",
]  # fmt: skip
_NODE_CONSTRAINTS = [
    "sh:class ex:C", "sh:class ex:D", "sh:datatype xsd:integer", "sh:datatype xsd:dateTime",
    "sh:datatype xsd:date", "sh:datatype xsd:string", "sh:datatype rdf:langString", "sh:nodeKind sh:IRI",
    "sh:nodeKind sh:Literal", "sh:nodeKind sh:BlankNodeOrIRI", "sh:minInclusive 1", "sh:maxExclusive 2",
    'sh:minExclusive "1.0"^^xsd:decimal', 'sh:maxInclusive "2021-01-01T10:00:00Z"^^xsd:dateTime',
    "sh:minLength 2", "sh:maxLength 1", 'sh:pattern "^a"', 'sh:pattern "B" ; sh:flags "i"',
    'sh:languageIn ( "en" )', 'sh:in ( ex:n0 "a" 1 )', "sh:hasValue ex:n0",
    "sh:not [ sh:class ex:C ]", "sh:or ( [ sh:datatype xsd:integer ] [ sh:nodeKind sh:IRI ] )",
    "sh:and ( [ sh:nodeKind sh:Literal ] [ sh:minLength 2 ] )",
    "sh:xone ( [ sh:class ex:C ] [ sh:class ex:D ] )",
    "sh:node [ sh:property [ sh:path ex:q ; sh:minCount 1 ] ]",
]  # fmt: skip
_PROPERTY_CONSTRAINTS = [
    "sh:minCount 1", "sh:maxCount 1", "sh:uniqueLang true", "sh:equals ex:q", "sh:disjoint ex:q",
    "sh:lessThan ex:q", "sh:lessThanOrEquals ex:q",
    "sh:qualifiedValueShape [ sh:class ex:C ] ; sh:qualifiedMinCount 1",
    "sh:qualifiedValueShape [ sh:nodeKind sh:Literal ] ; sh:qualifiedMaxCount 1",
]  # fmt: skip
_TARGETS = [
    "sh:targetNode ex:n0, ex:n1",
    "sh:targetClass ex:C",
    "sh:targetSubjectsOf ex:p",
    "sh:targetObjectsOf ex:p",
]


@st.composite
def _case(draw: st.DrawFn) -> tuple[str, str]:
    subjects = ["ex:n0", "ex:n1", "ex:n2", "_:b0"]
    triples = draw(
        st.lists(
            st.tuples(
                st.sampled_from(subjects), st.sampled_from(["ex:p", "ex:q"]), st.sampled_from(_OBJECTS)
            ),
            max_size=8,
        )
    )
    types = draw(
        st.lists(st.tuples(st.sampled_from(subjects), st.sampled_from(["ex:C", "ex:D"])), max_size=3)
    )
    data = "ex:D rdfs:subClassOf ex:C .\n" + "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
    data += "".join(f"{s} a {c} .\n" for s, c in types)
    target = draw(st.sampled_from(_TARGETS))
    node = draw(st.lists(st.sampled_from(_NODE_CONSTRAINTS), max_size=2, unique=True))
    prop = draw(st.lists(st.sampled_from(_NODE_CONSTRAINTS + _PROPERTY_CONSTRAINTS), max_size=3, unique=True))
    path = draw(st.sampled_from(["ex:p", "ex:q"]))
    severity = draw(st.sampled_from(["", " ; sh:severity sh:Warning"]))
    shapes = f"ex:S a sh:NodeShape ; {target}{severity}"
    shapes += "".join(f" ; {c}" for c in node)
    if prop:
        shapes += f" ; sh:property [ sh:path {path} ; " + " ; ".join(prop) + " ]"
    return shapes + " .\n", data


_PREFIX = _TTL + "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n"


@settings(max_examples=int(os.environ.get("KG_HYPOTHESIS_SHACL", "120")), deadline=None)
@given(_case())
def test_fast_engine_equals_pyshacl_on_generated_shapes(case: tuple[str, str]) -> None:
    """Small shapes graphs from the Core components the fast engine implements and small data
    graphs: the fast engine's report (sh:conforms and results) equals pySHACL's.

    pySHACL's known wrong answers, excluded (each also checked in test_pyshacl_known_bugs):
    - values a range constraint cannot compare (sh:min*/sh:max*/sh:lessThan*): pySHACL 0.40
      lets "NaN"^^xsd:double pass sh:maxExclusive 2 (SHACL: `NaN < 2` is false, a result),
      "x"^^xsd:integer pass sh:minExclusive, "2021-02-28"^^xsd:date pass sh:maxExclusive 2
      (SHACL: not comparable, a result), and stops on NaN against an xsd:decimal bound; so
      range constraints are compared on numeric data only (the W3C cases and
      test_behaviour cover the rest);
    - sh:lessThan / sh:lessThanOrEquals compare IRIs as strings in pySHACL (`ex:n0 < ex:n1`
      holds), where SPARQL's `<` on IRIs is an error, so a result; on a blank node pySHACL
      stops with an error;
    - uniqueLang on "1"^^xsd:boolean (not generated; kg's pyshacl_engine works around it)."""
    import tempfile

    from kg.shacl.engine import ValidationError, quiet_literals
    from kg.shacl.fast import fast_engine
    from kg.shacl.reference import pyshacl_engine
    from tests.helpers.w3c_suite import actual, graph_of

    shapes_ttl, data_ttl = case
    ranges = ("sh:minExclusive", "sh:minInclusive", "sh:maxExclusive", "sh:maxInclusive", "sh:lessThan")
    numbers = {"1", "2", '"1.5"^^xsd:decimal'}
    objects = {
        line.split(" ", 2)[2].rsplit(" .", 1)[0] for line in data_ttl.splitlines() if " ex:" in line[4:]
    }
    if any(k in shapes_ttl for k in ranges) and not objects <= numbers:
        return  # pySHACL bug, see above
    if "sh:lessThan" in shapes_ttl and any(
        f" {n} .\n" in data_ttl for n in ("ex:n0", "ex:n1", "ex:n2", "_:b0")
    ):
        return  # pySHACL bug, see above
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "s.ttl").write_text(_PREFIX + shapes_ttl, encoding="utf-8")
        (Path(tmp) / "d.ttl").write_text(_PREFIX + data_ttl, encoding="utf-8")
        shapes, data = graph_of(Path(tmp) / "s.ttl"), graph_of(Path(tmp) / "d.ttl")
        graph_of.cache_clear()
    with quiet_literals():
        try:
            fast = fast_engine(data, shapes)
        except ValidationError:
            return  # a refusal is never a wrong answer
        assert actual(fast) == actual(pyshacl_engine(data, shapes)), (shapes_ttl, data_ttl)


def test_pyshacl_known_bugs() -> None:
    """pySHACL's wrong answer on NaN under sh:maxExclusive, asserted so an upgrade that fixes it
    shows (then drop the exclusion above); kg's engines give the right one."""
    import tempfile

    from kg.shacl.fast import auto_engine
    from kg.shacl.reference import pyshacl_engine
    from tests.helpers.w3c_suite import actual, graph_of

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "s.ttl").write_text(
            _PREFIX
            + "ex:S a sh:NodeShape ; sh:targetNode ex:n0 ;"
            + " sh:property [ sh:path ex:p ; sh:maxExclusive 2 ] .",
            encoding="utf-8",
        )
        (Path(tmp) / "d.ttl").write_text(_PREFIX + 'ex:n0 ex:p "NaN"^^xsd:double .', encoding="utf-8")
        shapes, data = graph_of(Path(tmp) / "s.ttl"), graph_of(Path(tmp) / "d.ttl")
        graph_of.cache_clear()
    assert actual(pyshacl_engine(data, shapes)) == (True, ())
    conforms, results = actual(auto_engine(data, shapes))
    assert not conforms and len(results) == 1


def test_a_sparql_constraint_that_cannot_be_read_is_unsupported_not_a_crash() -> None:
    """A string left open in sh:select: the fast engine declines the shape (the auto engine
    then hands it to pySHACL, which says what is wrong) instead of failing with a lexer error."""
    from kg.shacl.compile import compile_shapes
    from kg.shacl.model import UnsupportedShape

    shapes = Graph().parse(
        data=_TTL + "ex:S a sh:NodeShape ; sh:targetNode ex:a ;"
        " sh:sparql [ sh:select \"SELECT $this WHERE { $this ex:p 'open }\" ] .",
        format="turtle",
    )
    with pytest.raises(UnsupportedShape, match="unterminated string"):
        compile_shapes(shapes)
