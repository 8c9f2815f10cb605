"""Shared by several test modules (moved out of test_remote, test_store, test_union)."""

from __future__ import annotations

from pathlib import Path

from kg.store.http import Endpoint
from tests.helpers.servers import Server

CHANGED = "covid-19-pandemic__curated-news__732200df-b075-580d-8e39-56f848fdf54e.md"


CHANGED_IRI = "https://w3id.org/medigy/kg/id/curation/732200df-b075-580d-8e39-56f848fdf54e"


#: The bundled examples as kg exports and loads them (docs/graph-model.md, "Named graphs"):
#: 16 curation graphs, and 78 graphs of the shared nodes they link to (33 topics, 11
#: work-package types, 9 brands, 9 schemes, 8 persons, 5 communities, 2 owlType classes and
#: the "no scheme" scheme), each node described once.
EXAMPLE_CURATIONS = 16
EXAMPLE_NODE_GRAPHS = 78
EXAMPLE_GRAPHS = EXAMPLE_CURATIONS + EXAMPLE_NODE_GRAPHS
#: Quads in those graphs: 648 in the curation graphs + 312 in the node graphs.
EXAMPLE_QUADS = 960


def change_curation(src: Path) -> None:
    """Retitle one curation and drop its 'Symplur: COVID-19' topic (from both topic fields)."""
    path = src / CHANGED
    text = path.read_text(encoding="utf-8")
    assert "title: Can Symptom Checker Apps Ease the Load on Nurse Hotlines?" in text
    text = text.replace(
        "title: Can Symptom Checker Apps Ease the Load on Nurse Hotlines?", "title: A Retitled Curation"
    )
    text = text.replace("- 'Symplur: COVID-19'\n", "").replace('"Symplur: COVID-19",', "")
    path.write_text(text, encoding="utf-8")


#: Curations per topic, written as analysts write SPARQL: no GRAPH.
PLAIN = (
    "SELECT ?topic (COUNT(DISTINCT ?c) AS ?curations) WHERE { ?c a kg:Curation ; kg:topic ?t . "
    "?t skos:prefLabel ?topic } GROUP BY ?topic ORDER BY DESC(?curations) ?topic"
)


def endpoints(server: Server) -> tuple[Endpoint, Endpoint]:
    """(graph store endpoint, query endpoint)."""
    auth = {"user": server.user, "password": server.password}
    return Endpoint(server.store_url, **auth), Endpoint(server.query_url, **auth)  # type: ignore[arg-type]
