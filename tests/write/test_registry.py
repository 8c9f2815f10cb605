"""The format registry: every format kg writes has one writer behind the one protocol, and a
document put together only through the protocol parses back to the triples given."""

from __future__ import annotations

import pyoxigraph
import pytest

from kg.rdf.terms import XSD_INTEGER, Lit, Triple, nt_line
from kg.write.ntriples import quads
from kg.write.protocol import sort_triples
from kg.write.registry import FORMATS, WRITERS, Writers

NS = "https://example.org/id/"
TRIPLES: list[Triple] = sort_triples(
    [
        (NS + "a", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", NS + "T"),
        (NS + "a", "https://schema.org/name", Lit('a "quoted"\nname')),
        (NS + "a", "https://schema.org/width", Lit("12", XSD_INTEGER)),
        (NS + "b", "https://schema.org/name", Lit("b", language="en")),
        (NS + "c", "https://schema.org/about", NS + "a"),
    ]
)
PARSERS = {
    "turtle": pyoxigraph.RdfFormat.TURTLE,
    "jsonld": pyoxigraph.RdfFormat.JSON_LD,
    "ntriples": pyoxigraph.RdfFormat.N_TRIPLES,
}


def test_every_format_has_a_writer_and_a_file() -> None:
    assert list(WRITERS) == list(FORMATS)


def test_an_unknown_format_is_refused_by_name() -> None:
    with pytest.raises(KeyError, match=r"'rdfxml'.*turtle, jsonld, ntriples, nquads"):
        Writers({})["rdfxml"]


def test_writers_are_made_once_per_format() -> None:
    writers = Writers({"ex": NS})
    assert writers["turtle"] is writers["turtle"]


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_document_through_the_protocol_parses_back(name: str) -> None:
    """Header, blocks with the separator between them, footer: the same triples (two blocks,
    so the separator is exercised)."""
    writer = Writers({"ex": NS, "schema": "https://schema.org/"})[name]
    blocks = [writer.block(TRIPLES[:3]), writer.block(TRIPLES[3:])]
    text = writer.header() + writer.separator.join(blocks) + writer.footer()
    parsed = {str(t) for t in pyoxigraph.parse(text.encode(), format=PARSERS[name])}
    expected = {
        str(t) for t in pyoxigraph.parse("".join(map(nt_line, TRIPLES)).encode(), format=PARSERS["ntriples"])
    }
    assert parsed == expected


def test_nquads_holds_named_graphs_only() -> None:
    """Triples outside any graph (the shared nodes) make no N-Quads; `quads` puts lines in a graph."""
    writer = Writers({})["nquads"]
    assert writer.header() == writer.block(TRIPLES) == writer.footer() == ""
    graph = NS + "graph/g"
    parsed = list(
        pyoxigraph.parse(quads(map(nt_line, TRIPLES), graph).encode(), format=pyoxigraph.RdfFormat.N_QUADS)
    )
    assert len(parsed) == len(TRIPLES) and {q.graph_name.value for q in parsed} == {graph}  # type: ignore[union-attr]


def test_turtle_compacts_with_the_longest_namespace_like_the_prefix_map() -> None:
    """The Turtle writer splits IRIs by `kg.rdf.namespaces.Prefixes`: the longest namespace wins."""
    writers = Writers({"ex": NS, "exb": NS + "b/"})
    text = writers["turtle"].block([(NS + "b/x", NS + "p", NS + "a")])
    assert text.startswith("exb:x ex:p ex:a")
    assert writers.prefixes.compress(NS + "b/x") == "exb:x"
