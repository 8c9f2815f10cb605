"""Shared by several test modules (moved out of test_queries)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph

from tests.conftest import ROOT
from tests.helpers import facts as expect
from tests.helpers import taxonomy_facts as tx

#: A handmade taxonomy of the examples' topics (the site's format), loaded beside them so the
#: taxonomy queries have equivalents to find and the other queries are shown unaffected by it.
TAXONOMY = ROOT / "tests" / "fixtures" / "taxonomy" / "category-whole-data.json"


HOSTILE = [
    '"} DROP ALL {',
    "} DROP ALL { ",
    'x" } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o . FILTER("',
    "'''\"\"\" } DROP ALL {",
    "line one\nline two\r\n} DROP ALL {\t",
    'back\\slash \\" \\u0022 } DROP ALL {',
    "# comment } DROP ALL {",
    "> } DROP ALL { <http://evil/>",
]


def add_taxonomy(store: pyoxigraph.Store, path: Path = TAXONOMY) -> None:
    """Load a taxonomy file's SKOS graph into `store`, as `kg taxonomy F -o t.nq; kg load t.nq` does."""
    from kg.map.taxonomy import render, taxonomy_rdf
    from kg.read.taxonomy import read_taxonomy

    graph = taxonomy_rdf(read_taxonomy(path))
    data = "".join(render(graph, "nquads", "")).encode("utf-8")
    store.load(data, format=pyoxigraph.RdfFormat.N_QUADS)


E = expect


#: (query, parameters, expectation, its extra arguments): expected rows = expectation(facts, *args).
CASES: list[tuple[str, dict[str, object], Callable[..., list[dict[str, object]]], tuple[object, ...]]] = [
    ("topic-counts", {}, E.topic_counts, ()),
    ("brand-counts", {}, E.brand_counts, ()),
    ("community-summary", {}, E.community_summary, ()),
    ("curations-by-topic", {"topic": "Telehealth"}, E.curations_by_topic, ("Telehealth",)),
    ("curations-by-topic", {"topic": "tELEHEALTH"}, E.curations_by_topic, ("Telehealth",)),
    (
        "curations-by-topic",
        {"topic": "COVID-19", "scheme": "Symplur"},
        E.curations_by_topic,
        ("COVID-19", "Symplur"),
    ),
    ("curations-by-topic", {"topic": "COVID-19", "scheme": "symplur"}, lambda f: [], ()),
    ("curations-by-topic", {"topic": "no such topic"}, lambda f: [], ()),
    ("topic-cooccurrence", {}, E.topic_cooccurrence, ()),
    ("topic-cooccurrence", {"min": 2}, E.topic_cooccurrence, (2,)),
    ("topic-cooccurrence", {"min": "3"}, E.topic_cooccurrence, (3,)),
    ("curations-per-month", {}, E.curations_per_month, ()),
    (
        "curations-per-month",
        {"community": "Pandemic Community"},
        E.curations_per_month,
        ("Pandemic Community",),
    ),
    ("search", {"text": "telehealth"}, E.search, ("telehealth",)),
    ("search", {"text": "SYMPTOM CHECKER"}, E.search, ("symptom checker",)),
    ("search", {"text": "care"}, E.search, ("care",)),
    ("quality-gaps", {}, E.quality_gaps, ()),
    ("topic-equivalents", {"topic": "Telehealth"}, tx.topic_equivalents, (TAXONOMY, "Telehealth")),
    ("topic-equivalents", {"topic": "tELEMEDICINE"}, tx.topic_equivalents, (TAXONOMY, "Telemedicine")),
    (
        "topic-equivalents",
        {"topic": "Telemedicine", "scheme": "Medigy"},
        tx.topic_equivalents,
        (TAXONOMY, "Telemedicine", "Medigy"),
    ),
    ("topic-equivalents", {"topic": "COVID-19"}, tx.topic_equivalents, (TAXONOMY, "COVID-19")),
    (
        "topic-equivalents",
        {"topic": "Remote Patient Monitoring"},
        tx.topic_equivalents,
        (TAXONOMY, "Remote Patient Monitoring"),
    ),
    ("topic-equivalents", {"topic": "no such topic"}, lambda f: [], ()),
    ("source-counts", {}, tx.source_counts, (TAXONOMY,)),
    ("brand-coverage", {}, E.brand_coverage, ()),
    ("brand-coverage", {"community": "Pandemic Community"}, E.brand_coverage, ("Pandemic Community",)),
    ("brand-coverage", {"community": "no such community"}, lambda f: [], ()),
    ("topic-trend", {}, E.topic_trend, ()),
    ("topic-trend", {"scheme": "KLAS"}, E.topic_trend, ("KLAS",)),
    (
        "topic-trend",
        {"scheme": "Symplur", "community": "Pandemic Community"},
        E.topic_trend,
        ("Symplur", "Pandemic Community"),
    ),
    ("curations-about", {"topic": "Telehealth"}, tx.curations_about, (TAXONOMY, "Telehealth")),
    ("curations-about", {"topic": "tELEMEDICINE"}, tx.curations_about, (TAXONOMY, "Telemedicine")),
    (
        "curations-about",
        {"topic": "Telemedicine", "scheme": "Medigy"},
        tx.curations_about,
        (TAXONOMY, "Telemedicine", "Medigy"),
    ),
    (
        "curations-about",
        {"topic": "Remote Patient Monitoring"},
        tx.curations_about,
        (TAXONOMY, "Remote Patient Monitoring"),
    ),
    ("curations-about", {"topic": "no such topic"}, lambda f: [], ()),
    ("equivalence-group-counts", {}, tx.equivalence_group_counts, (TAXONOMY,)),
    ("dataset-totals", {}, E.dataset_totals, ()),
    ("class-counts", {}, E.class_counts, ()),
    ("property-counts", {}, E.property_counts, ()),
]
