"""The shapes themselves: well-formed SHACL, every shape exercised both ways, exact results."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from tests.helpers.shacl_cases import (
    SHAPES_FILE,
    Case,
    base_data,
    broken_graph,
    cases,
    observed,
    run,
    shapes_graph,
)

PYSHACL_ASSETS = Path(__import__("pyshacl").__file__).parent / "assets"
#: Parameters that make a shape check something itself (not only through sh:property).
CONSTRAINT_PARAMETERS = {
    SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.minExclusive,
    SH.minInclusive, SH.maxExclusive, SH.maxInclusive, SH.minLength, SH.maxLength, SH.pattern,
    SH.languageIn, SH.uniqueLang, SH.equals, SH.disjoint, SH.lessThan, SH["not"], SH["and"],
    SH["or"], SH.xone, SH.node, SH.qualifiedValueShape, SH.closed, SH.hasValue, SH["in"], SH.sparql,
}  # fmt: skip


def test_shapes_conform_to_shacl_for_shacl() -> None:
    import pyshacl

    meta = Graph().parse(PYSHACL_ASSETS / "shacl-shacl.ttl")
    conforms, _, text = pyshacl.validate(shapes_graph(), shacl_graph=meta, inference="none")
    assert conforms, text


def test_every_shape_has_an_iri_and_a_message() -> None:
    g = shapes_graph()
    shapes = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
    shapes |= set(g.objects(None, SH.property)) | set(g.subjects(SH.path, None))
    constraints = set(g.objects(None, SH.sparql))
    assert len(shapes) > 60
    for node in shapes | constraints:
        assert isinstance(node, URIRef), f"anonymous shape or constraint: {node!r}"
        assert g.value(node, SH.message) is not None, f"{node} has no sh:message"
    severities = {g.value(s, SH.severity) for s in shapes} - {None}
    assert severities == {SH.Warning, SH.Info}  # the rest default to sh:Violation


def _checking_shapes(g: Graph) -> set[URIRef]:
    """Shapes that can be the sh:sourceShape of a result: property shapes attached to a node
    shape, and targeted node shapes with a constraint of their own."""
    out = {s for s in g.objects(None, SH.property) if isinstance(s, URIRef)}
    targets = (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf)
    for shape in g.subjects(RDF.type, SH.NodeShape):
        has_target = any((shape, t, None) in g for t in targets)
        if has_target and any((shape, p, None) in g for p in CONSTRAINT_PARAMETERS):
            out.add(shape)  # type: ignore[arg-type]
    return out


def test_every_shape_has_a_non_conforming_case() -> None:
    covered = {URIRef(e[0]) for case in cases() for e in case.expected}
    missing = _checking_shapes(shapes_graph()) - covered
    assert not missing, f"shapes without a failing fixture in tests/fixtures/shapes/cases: {sorted(missing)}"


def test_conforming_fixture_exercises_every_shape() -> None:
    """The base fixture has focus nodes for every shape, and a value for every property
    shape's path, so its zero results mean each shape was checked and passed."""
    g = shapes_graph()
    data = Graph().parse(data=base_data().ntriples, format="nt")
    empty: list[str] = []
    for node_shape in g.subjects(RDF.type, SH.NodeShape):
        focus: set[object] = set()
        for cls in g.objects(node_shape, SH.targetClass):
            q = "SELECT ?x WHERE { ?x a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* ?c }"
            focus |= {row[0] for row in data.query(q, initBindings={"c": cls})}  # type: ignore[index]
        for prop in g.objects(node_shape, SH.targetObjectsOf):
            focus |= set(data.objects(None, prop))
        if not list(g.objects(node_shape, SH.targetClass)) + list(g.objects(node_shape, SH.targetObjectsOf)):
            continue  # a value shape, used through sh:or / sh:not / sh:qualifiedValueShape
        if not focus:
            empty.append(f"{node_shape}: no focus node")
        for prop_shape in g.objects(node_shape, SH.property):
            path = g.value(prop_shape, SH.path)
            if not any((f, path, None) in data for f in focus):
                empty.append(f"{prop_shape}: no value of {path}")
    assert not empty, "\n".join(empty)


def test_conforming_fixture_has_no_result_at_any_severity() -> None:
    from kg.shacl.reference import QueryCachingGraph

    report = run(QueryCachingGraph.from_ntriples(base_data().ntriples))
    assert report.results == []
    assert report.curations == 2 and report.files == ["full.md", "workpackage.md"]


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_non_conforming_case_gives_exactly_the_expected_results(case: Case) -> None:
    report = run(broken_graph(case))
    assert observed(report) == set(case.expected)
    for result in report.results:
        assert result.message and "{" not in result.message, result.message


def test_shapes_file_is_the_packaged_one() -> None:
    from kg.validation.validate import shape_files

    assert shape_files() == [SHAPES_FILE]
