"""What SHACL-SPARQL refuses, found by reading the query's tokens: a keyword counts only where
it is syntax, never inside a string, a comment, an IRI, a prefixed name or a language tag."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kg.sparql.binding import query_form, variables
from kg.sparql.check import check_shapes, problems

ALLOWED = {
    "in a string": 'SELECT $this WHERE { $this ex:p ?o FILTER(?o != "SERVICE <http://x/> {}") }',
    "in a long string with quotes": 'SELECT $this WHERE { $this ex:p """a "" VALUES "SERVICE" """ }',
    "after an escaped quote": r'SELECT $this WHERE { $this ex:p "a \" MINUS { } \\" }',
    "in a single-quoted string": "SELECT $this WHERE { $this ex:p 'it\\'s a SERVICE' }",
    "in a comment": "# SERVICE <http://x/> { }\nSELECT $this WHERE { $this ex:p ?o } # FROM <g>",
    "in an IRI": "SELECT $this WHERE { $this <http://x/service> <http://x/FROM/MINUS> }",
    "as a local name": "SELECT $this WHERE { $this ex:SERVICE ex:values ; :MINUS ?o }",
    "as a prefix": "PREFIX service: <http://x/>\nSELECT $this WHERE { $this service:p ?o }",
    "as a language tag": "SELECT $this WHERE { $this ex:p 'x'@service }",
    "as a blank node label": "SELECT $this WHERE { $this ex:p _:values }",
    "less-than, not an IRI": "SELECT $this WHERE { $this ex:p ?a FILTER(?a < 3 && ?a<?b) }",
    "a subtraction": "SELECT $this WHERE { $this ex:p ?a BIND(?a-?b AS ?c) BIND(?a-1 AS ?d) }",
    "a subquery returning $this": "SELECT $this WHERE { { SELECT ?this (COUNT(*) AS ?n) { ?this ?p ?o } } }",
}

REFUSED = {
    "SERVICE": ("SELECT $this WHERE { SERVICE <http://x/> { $this ?p ?o } }", "SERVICE"),
    "lower-case service": ("SELECT $this WHERE { service silent <http://x/> { } }", "SERVICE"),
    "FROM": ("SELECT $this FROM <http://x/g> WHERE { $this ?p ?o }", "FROM"),
    "FROM NAMED": ("SELECT $this FROM NAMED <http://x/g> WHERE { $this ?p ?o }", "FROM"),
    "MINUS after a string": ("SELECT $this WHERE { $this ex:p 'a\\'' MINUS { $this ex:q ?v } }", "MINUS"),
    "VALUES after a comment": ("SELECT $this WHERE { # {\n VALUES ?x { 1 } }", "VALUES"),
    "AS a pre-bound variable": ("SELECT $this WHERE { $this ex:p ?a BIND(?a-?b AS ?this) }", "AS ?this"),
    "a subquery without $this": ("SELECT $this WHERE { { SELECT ?x WHERE { ?x ?p ?o } } }", "subquery"),
    "a subquery SELECT *": ("SELECT $this WHERE { { SELECT * WHERE { ?x ?p ?o } } }", "(SELECT *)"),
    "an unterminated string": ("SELECT $this WHERE { $this ex:p 'oops }", "unterminated"),
}


@pytest.mark.parametrize("query", ALLOWED.values(), ids=ALLOWED)
def test_a_keyword_that_is_not_syntax_is_not_refused(query: str) -> None:
    assert problems(query) == []


@pytest.mark.parametrize(("query", "named"), REFUSED.values(), ids=REFUSED)
def test_what_shacl_or_kg_refuses_is_named(query: str, named: str) -> None:
    found = problems(query)
    assert len(found) == 1 and named in found[0], found


def test_the_binding_scanner_reads_the_same_cases_alike() -> None:
    """`query_form` and `variables` (the binding side) see syntax where the check does."""
    assert query_form("# CONSTRUCT\nPREFIX select: <x:> ASK { ?s select:p 'DELETE' }") == "ASK"
    assert variables("SELECT ?a WHERE { ?a ex:p ?b FILTER(?a-?b > 0 && ?c < 2) '?d' <x:?e> # ?f\n }") == {
        "a",
        "b",
        "c",
    }
    assert variables("SELECT * { ?s ex:p 'x'@en, ?o. }") == {"s", "o"}


def test_a_refused_query_is_named_by_its_start_and_end_in_bounded_text() -> None:
    """A long query is named in one line, cut in the middle and marked so, not silently cut."""
    shapes = Graph().parse(
        data="@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        '[] sh:select """SELECT $this WHERE {\n  $this ?p ?o .\n'
        + "  ?o ?q ?r .\n" * 40
        + '  SERVICE <http://x/> { } } # the end"""  .',
        format="turtle",
    )
    with pytest.raises(ValueError, match="SERVICE") as caught:
        check_shapes(shapes)
    named = str(caught.value).split(" in the query ", 1)[1]
    assert named.startswith("'SELECT $this WHERE { $this ?p ?o . ?o ?q ?r .")
    assert named.endswith("} # the end'")
    assert "..." in named and "\n" not in named and len(named) <= 100
