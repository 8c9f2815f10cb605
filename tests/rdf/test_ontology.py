"""Code and ontology stay in step: every kg term used is declared, labelled and commented."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Graph, URIRef

from kg.pipeline.export import export
from kg.rdf.vocab import KG, KG_NS
from kg.resources import ontology_path
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ontology_path(), format="turtle")


def declared(ontology: Graph) -> set[str]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    return {str(s) for k in kinds for s in ontology.subjects(RDF.type, k) if str(s).startswith(KG_NS)}


def test_defined_namespace_equals_ontology(ontology: Graph) -> None:
    in_code = {KG_NS + name for name in KG.__annotations__}
    assert in_code == declared(ontology)


def test_every_term_is_labelled_commented_and_aligned(ontology: Graph) -> None:
    for term in declared(ontology):
        iri = URIRef(term)
        assert ontology.value(iri, RDFS.label), term
        assert ontology.value(iri, RDFS.comment), term
    for cls in ("Curation", "Community", "SourceArticle", "CurationGraph"):
        assert ontology.value(URIRef(KG_NS + cls), RDFS.subClassOf) is not None, cls


def test_exported_terms_are_declared(ontology: Graph, tmp_path: Path) -> None:
    export([EXAMPLES], tmp_path, ["ntriples"])
    data = Graph().parse(tmp_path / "curations.nt", format="nt")
    used = {str(p) for p in data.predicates() if str(p).startswith(KG_NS)}
    used |= {str(o) for o in data.objects(None, RDF.type) if str(o).startswith(KG_NS)}
    assert used, "export used no kg terms"
    assert used <= declared(ontology), used - declared(ontology)


def test_undeclared_term_raises() -> None:
    with pytest.raises(AttributeError):
        _ = KG.notATerm


def test_data_plus_ontology_validates_as_the_data_alone(tmp_path: Path) -> None:
    """kg:Community rdfs:subClassOf schema:Organization made every community a target of the
    brand shape once the ontology was loaded with the data (5 Violations on the examples)."""
    from kg.shacl.fast import auto_engine
    from kg.validation.validate import load_shapes, validate_inputs

    export([EXAMPLES], tmp_path, ["nquads"])
    shapes = load_shapes()

    def results(paths: list[Path]) -> set[tuple[object, ...]]:
        report = validate_inputs(paths, shapes, engine=auto_engine)
        return {(r.focus_node, r.path, r.value, r.severity, r.source_shape) for r in report.results}

    alone = results([tmp_path / "curations.nq"])
    assert results([tmp_path / "curations.nq", ontology_path()]) == alone


def test_ontology_uses_no_owl_vocabulary_as_a_class_and_declares_external_terms(ontology: Graph) -> None:
    """OWL 2 DL where it costs nothing: no rdfs:subClassOf owl:Class (a metaclass axiom), and
    every external class or property used in an axiom is declared."""
    assert (None, RDFS.subClassOf, OWL.Class) not in ontology
    kinds = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty}
    for predicate in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range):
        for term in ontology.objects(None, predicate):
            if str(term).startswith(("http://www.w3.org/2001/XMLSchema#", str(RDF))):
                continue
            assert set(ontology.objects(term, RDF.type)) & kinds, term


def test_an_owl_rl_reasoner_loads_the_ontology(ontology: Graph) -> None:
    """owlrl (OWL 2 RL, the reasoner pySHACL uses) expands it without error."""
    import owlrl

    closure = Graph()
    closure += ontology
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    organization = URIRef("https://schema.org/Organization")
    assert (URIRef(KG_NS + "Community"), RDFS.subClassOf, organization) in closure
