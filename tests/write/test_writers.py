"""The writers on edge cases: every rendered term parses back to the same IRI or literal."""

from __future__ import annotations

import pyoxigraph
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph

from kg.rdf.namespaces import Prefixes
from kg.rdf.terms import XSD_DATETIME, XSD_INTEGER, XSD_STRING, Lit, Triple, nt_line
from kg.write.jsonld import JsonLdWriter
from kg.write.ntriples import NTriplesWriter
from kg.write.protocol import RDF_TYPE, sort_triples
from kg.write.turtle import TurtleWriter

NS = "https://example.org/id/"
PREFIXES = Prefixes({"ex": NS, "schema": "https://schema.org/"})
TURTLE, JSONLD = TurtleWriter(PREFIXES), JsonLdWriter(PREFIXES)
LOCALS = ["-a", ".a", "a.", "a~b", "a/b/c", "a%20b", "%zz", "a:b", "a b", "é", "_", "a..b", "0", "a#b"]


@pytest.mark.parametrize("local", LOCALS)
def test_turtle_iri_rendering_round_trips(local: str) -> None:
    iri = NS + local.replace(" ", "%20").replace("é", "%C3%A9").replace("%zz", "%25zz")
    text = TURTLE.header() + TURTLE.block([(iri, iri, iri)])
    [triple] = list(pyoxigraph.parse(text.encode(), format=pyoxigraph.RdfFormat.TURTLE))
    assert triple.subject.value == iri
    [(s, _, _)] = list(Graph().parse(data=text, format="turtle"))
    assert str(s) == iri


def test_turtle_literals_and_grouping() -> None:
    triples = sort_triples(
        [
            (NS + "a", "https://schema.org/name", Lit('quote " back \\ nl \n tab \t nul \x00')),
            (NS + "a", "https://schema.org/width", Lit("12", XSD_INTEGER)),
            (NS + "a", "https://schema.org/width", Lit("007", XSD_INTEGER)),
            (NS + "a", "https://schema.org/date", Lit("2020-01-01T00:00:00Z", XSD_DATETIME)),
            (NS + "a", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", NS + "T"),
            (NS + "b", "https://schema.org/name", Lit("x", language="en")),
        ]
    )
    text = TURTLE.header() + TURTLE.block(triples)
    assert "ex:a a ex:T ;" in text and '"007"^^' in text and ", 12 ." in text
    parsed = {str(t) for t in pyoxigraph.parse(text.encode(), format=pyoxigraph.RdfFormat.TURTLE)}
    expected = {
        str(pyoxigraph.Triple(pyoxigraph.NamedNode(s), pyoxigraph.NamedNode(p), _term(o)))
        for s, p, o in triples
    }
    assert parsed == expected


def _term(o: str | Lit) -> pyoxigraph.NamedNode | pyoxigraph.Literal:
    if isinstance(o, str):
        return pyoxigraph.NamedNode(o)
    if o.language:
        return pyoxigraph.Literal(o.lexical, language=o.language)
    return pyoxigraph.Literal(o.lexical, datatype=pyoxigraph.NamedNode(o.datatype))


def test_jsonld_never_compacts_into_an_absolute_looking_iri() -> None:
    assert JSONLD.iri(NS + "//x") == NS + "//x"
    assert JSONLD.iri(NS + "x") == "ex:x"
    assert JSONLD.iri("https://other.org/x") == "https://other.org/x"


_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]) | st.sampled_from('"\\\n\r\t\x00\x7f'), max_size=12
)
_OBJECTS = (
    st.builds(Lit, _TEXT)
    | st.builds(Lit, _TEXT, st.just(XSD_STRING), st.sampled_from(["en", "fr-CA"]))
    | st.builds(Lit, st.sampled_from(["12", "007", "-3", "x"]), st.just(XSD_INTEGER))
    | st.builds(Lit, _TEXT, st.just(XSD_DATETIME))
    | st.sampled_from([NS + "T", NS + "a.", "https://schema.org/x"])
)
_TRIPLES = st.lists(
    st.tuples(
        st.sampled_from([NS + "a", NS + "b/c", "https://other.org/s"]),
        st.sampled_from(["https://schema.org/name", NS + "p", RDF_TYPE]),
        _OBJECTS,
    ),
    max_size=12,
).map(lambda triples: sort_triples(dict.fromkeys(triples)))


@settings(max_examples=300, deadline=None)
@given(_TRIPLES)
def test_blocks_cut_from_the_ntriples_lines_equal_blocks_rendered_alone(triples: list[Triple]) -> None:
    """Turtle takes its escaped literals from the N-Triples lines when it has them (and the
    N-Triples writer joins them): the text is the same as rendered from the triples alone."""
    lines = [nt_line(t) for t in triples]
    for writer in (TURTLE, JSONLD, NTriplesWriter(PREFIXES)):
        assert writer.block(triples, lines) == writer.block(triples)
