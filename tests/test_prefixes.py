"""The one prefix map's compress/expand (`kg.rdf.namespaces.Prefixes`): longest namespace wins,
a CURIE always expands back to the IRI it came from, and text that is not a CURIE of the map
is left as it is."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kg.rdf.namespaces import (
    DEFAULT_BASE_IRI,
    DEFAULT_PREFIXES,
    PREFIXES,
    KGTerms,
    Prefixes,
    compress,
    expand,
    instance_prefixes,
)

NESTED = Prefixes(
    {"ex": "http://example.org/", "deep": "http://example.org/a/", "same": "http://example.org/"}
)


def test_the_default_map_is_kgs_prefixes_and_the_default_instance_prefixes() -> None:
    assert DEFAULT_PREFIXES.map == {**PREFIXES, **instance_prefixes(DEFAULT_BASE_IRI)}


@pytest.mark.parametrize(
    ("iri", "curie"),
    [
        ("https://schema.org/name", "schema:name"),
        (KGTerms.topic, "kg:topic"),
        (DEFAULT_BASE_IRI + "topic/KLAS/Telehealth", "topic:KLAS/Telehealth"),
        (DEFAULT_BASE_IRI + "graph/curation/x", "graph:curation/x"),
        ("http://example.org/x", "http://example.org/x"),  # no namespace fits
        ("https://schema.org/", "https://schema.org/"),  # a namespace alone: no local name
        ("https://schema.org///x", "https://schema.org///x"),  # `schema://x` would read as an IRI
        ("", ""),
    ],
)
def test_compress(iri: str, curie: str) -> None:
    assert compress(iri) == curie
    assert expand(compress(iri)) == iri


@pytest.mark.parametrize(
    ("text", "iri"),
    [
        ("schema:name", "https://schema.org/name"),
        ("topic:KLAS/Telehealth", DEFAULT_BASE_IRI + "topic/KLAS/Telehealth"),
        ("kg:", "https://w3id.org/medigy/kg#"),
        ("nope:x", "nope:x"),  # an unknown prefix
        ("https://schema.org/name", "https://schema.org/name"),  # already an IRI
        ("schema://x", "schema://x"),  # reads as an absolute IRI, not a CURIE
        ("name", "name"),
    ],
)
def test_expand(text: str, iri: str) -> None:
    assert expand(text) == iri


def test_the_longest_namespace_wins_and_ties_go_to_the_first_prefix() -> None:
    assert NESTED.compress("http://example.org/a/b") == "deep:b"
    assert NESTED.compress("http://example.org/b") == "ex:b"
    assert NESTED.split("http://example.org/a/b") == ("deep", "b")
    # the namespace IRI of `deep` has no local name under `deep`, so `ex` takes it
    assert NESTED.compress("http://example.org/a/") == "ex:a/"
    assert NESTED.expand("same:x") == "http://example.org/x"


def test_split_gives_an_empty_local_name_only_when_asked() -> None:
    assert DEFAULT_PREFIXES.split("https://schema.org/") is None
    assert DEFAULT_PREFIXES.split("https://schema.org/", empty_local=True) == ("schema", "")
    assert DEFAULT_PREFIXES.split("urn:x", empty_local=True) is None


@given(st.sampled_from(sorted(DEFAULT_PREFIXES.map.values())), st.text(max_size=20))
def test_expand_undoes_compress(namespace: str, local: str) -> None:
    iri = namespace + local
    assert expand(compress(iri)) == iri
    assert Prefixes({}).compress(iri) == iri
