"""Each output format, re-parsed by parsers other than kg's writers, gives the same graph."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import RDF, Dataset, Graph, URIRef

from kg.pipeline.export import export
from kg.rdf.namespaces import PREFIXES
from tests.conftest import EXAMPLES, assert_same_graph, oxigraph_triples

KG = PREFIXES["kg"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("formats")
    report = export([EXAMPLES], out)
    assert report.exit_code() == 0
    return out


def test_all_formats_give_the_same_graph_with_oxigraph(exported: Path) -> None:
    reference = oxigraph_triples((exported / "curations.nt").read_bytes(), pyoxigraph.RdfFormat.N_TRIPLES)
    assert len(reference) > 100
    for name, fmt in (
        ("curations.ttl", pyoxigraph.RdfFormat.TURTLE),
        ("curations.jsonld", pyoxigraph.RdfFormat.JSON_LD),
        ("curations.nq", pyoxigraph.RdfFormat.N_QUADS),
    ):
        assert oxigraph_triples((exported / name).read_bytes(), fmt) == reference, name


def test_turtle_and_jsonld_agree_under_rdflib_too(exported: Path) -> None:
    nt = Graph().parse(exported / "curations.nt", format="nt")
    assert_same_graph(nt, Graph().parse(exported / "curations.ttl", format="turtle"))
    assert_same_graph(nt, Graph().parse(exported / "curations.jsonld", format="json-ld"))


def test_nquads_has_one_named_graph_per_curation_and_per_shared_node(exported: Path) -> None:
    ds = Dataset()
    ds.parse(exported / "curations.nq", format="nquads")
    typed: dict[str, set[str]] = {}
    for g in ds.graphs():
        for kind in ("CurationGraph", "NodeGraph"):
            if (g.identifier, RDF.type, URIRef(KG + kind)) in g:
                typed.setdefault(kind, set()).add(str(g.identifier))
    named = {str(g.identifier) for g in ds.graphs() if len(g)}
    report = json.loads((exported / "report.json").read_text())
    assert len(typed["CurationGraph"]) == report["totals"]["exported"]
    assert named == typed["CurationGraph"] | typed["NodeGraph"]  # every graph is one or the other
    # a node graph describes its node (subject: the graph IRI without "graph/"), and nothing else
    for graph in typed["NodeGraph"]:
        node = graph.replace("/graph/", "/", 1)
        subjects = {str(s) for s in ds.graph(URIRef(graph)).subjects()}
        assert subjects == {node, graph}, graph
    quads = list(
        pyoxigraph.parse((exported / "curations.nq").read_bytes(), format=pyoxigraph.RdfFormat.N_QUADS)
    )
    assert len(quads) == report["totals"]["quads"]
    assert all(isinstance(q.graph_name, pyoxigraph.NamedNode) for q in quads)
    # each fact in one graph only: the union of the graphs is curations.nt, with no triple twice
    union = oxigraph_triples((exported / "curations.nt").read_bytes(), pyoxigraph.RdfFormat.N_TRIPLES)
    assert len(quads) == len({q.triple for q in quads}) == len(union)


def test_jsonld_is_compacted_with_the_local_context(exported: Path) -> None:
    doc = json.loads((exported / "curations.jsonld").read_text())
    context = json.loads((EXAMPLES.parent.parent / "ontology" / "context.jsonld").read_text())["@context"]
    assert all(doc["@context"][k] == v for k, v in context.items())
    assert isinstance(doc["@context"], dict)  # inline: no remote context to fetch

    def types(node: dict[str, object]) -> list[object]:
        value = node.get("@type", [])
        return value if isinstance(value, list) else [value]

    curations = [n for n in doc["@graph"] if "kg:Curation" in types(n)]
    assert curations and all("schema:name" in n for n in curations)


def test_turtle_uses_prefixes(exported: Path) -> None:
    text = (exported / "curations.ttl").read_text()
    assert "@prefix schema: <https://schema.org/> ." in text
    assert "a kg:Curation" in text or "kg:Curation ," in text or ", kg:Curation" in text
