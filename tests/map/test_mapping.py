"""The graph an analyst queries: types, classes, topics, community, brand, provenance."""

from __future__ import annotations

import pyoxigraph
from rdflib import Graph

from kg.map.curation import IriScheme, curation_triples
from kg.rdf.terms import nt_line
from kg.read.frontmatter import parse_text
from tests.conftest import ROOT

SEED = ROOT.parent / "shared" / "seeds" / "000_f2cc07d3b2d718e0.md"
BASE = "https://example.org/kg/"
PREFIXES = (
    "PREFIX kg: <https://w3id.org/medigy/kg#> PREFIX schema: <https://schema.org/> "
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX owl: <http://www.w3.org/2002/07/owl#> "
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX prov: <http://www.w3.org/ns/prov#> "
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
)

TEXT = """---
title: Telehealth Profits
mdName: d40d2213-a212-58f1-b060-7b018285bdaf
id: 3368
owlType: Medigy Communities
openProjectWorkPackageType: Curated News
identifier: Chronic Care Management (CCM)
mastHead: Chronic Care Management (CCM) CoP
breadcrumbs: [Home, Communities, Chronic Care Management (CCM)]
breadcrumbLinks: [/, /communities/, /communities/chronic-care-management/]
date: '2020-09-08T13:29:57.872538Z'
author: [Saima Andrabi]
communityTopics: ['KLAS: Telehealth', 'Medigy: Telemedicine', 'Remote care']
featuredImage: {href: d40d-featuredImage.png, size: [225, 300], format: PNG}
link: {brand: hfma.org, href: 'https://www.hfma.org/a b', original: 'https://www.hfma.org/a b'}
---
Body text
"""


def store_for(text: str, path: str = "ccm/a.md") -> pyoxigraph.Store:
    result = parse_text(text, path)
    assert result.curation is not None
    _, triples = curation_triples(result.curation, IriScheme(BASE))
    store = pyoxigraph.Store()
    data = "".join(nt_line(t) for t in triples).encode()
    store.load(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


def ask(store: pyoxigraph.Store, query: str) -> bool:
    return bool(store.query(PREFIXES + "ASK { " + query + " }"))


def test_curation_is_typed_by_owl_type_and_work_package_type() -> None:
    store = store_for(TEXT)
    c = f"<{BASE}curation/d40d2213-a212-58f1-b060-7b018285bdaf>"
    assert ask(
        store,
        f"{c} a kg:Curation, schema:NewsArticle, ?owl, ?wp . "
        "?owl a owl:Class, kg:OwlTypeClass ; rdfs:label 'Medigy Communities' ; "
        "rdfs:subClassOf kg:Curation . "
        "?wp a owl:Class, kg:WorkPackageTypeClass ; rdfs:label 'Curated News' ; "
        "rdfs:subClassOf kg:Curation .",
    )
    assert ask(
        store,
        f"{c} schema:name 'Telehealth Profits' ; kg:workPackageId 3368 ; "
        "kg:mdName 'd40d2213-a212-58f1-b060-7b018285bdaf' ; "
        "schema:datePublished '2020-09-08T13:29:57.872538Z'^^xsd:dateTime ; "
        "schema:articleBody 'Body text' ; kg:bodyFormat 'text/markdown'",
    )


def test_topics_are_concepts_in_schemes_per_source() -> None:
    store = store_for(TEXT)
    assert ask(
        store,
        "?c kg:topic ?t . ?t a skos:Concept ; skos:prefLabel 'Telehealth' ; "
        "skos:inScheme ?s . ?s a skos:ConceptScheme ; skos:prefLabel 'KLAS'",
    )
    assert ask(
        store,
        "?c kg:topic ?t . ?t skos:prefLabel 'Remote care' ; skos:inScheme ?s . "
        "?s skos:prefLabel '(no source)'",
    )
    rows = list(store.query(PREFIXES + "SELECT ?t WHERE { ?c kg:topic ?t }"))
    assert len(rows) == 3


def test_community_brand_article_image_and_author() -> None:
    store = store_for(TEXT)
    assert ask(
        store,
        "?c kg:community ?m . ?m a kg:Community ; "
        "rdfs:label 'Chronic Care Management (CCM)' ; "
        "kg:mastHead 'Chronic Care Management (CCM) CoP' ; "
        "kg:path '/communities/chronic-care-management/'",
    )
    assert ask(
        store,
        "?c kg:sourceBrand ?b ; kg:sourceArticle ?a . "
        "?b a schema:Organization ; schema:name 'hfma.org' ; schema:url <https://hfma.org/> . "
        "?a schema:url <https://www.hfma.org/a%20b> ; schema:publisher ?b",
    )
    assert not ask(store, "?a kg:originalUrl ?o")  # same as href: not repeated
    assert ask(
        store,
        "?c schema:image ?i . ?i a schema:ImageObject ; schema:width 225 ; "
        f"schema:height 300 ; schema:encodingFormat 'PNG' ; "
        f"schema:contentUrl <{BASE}asset/d40d-featuredImage.png>",
    )
    assert ask(store, "?c schema:author ?p . ?p a schema:Person ; schema:name 'Saima Andrabi'")


def test_provenance_names_source_path_and_no_blank_nodes() -> None:
    store = store_for(TEXT, "ccm/a.md")
    assert ask(
        store,
        f"?g a kg:CurationGraph ; prov:wasDerivedFrom <{BASE}source/ccm/a.md> ; kg:sourcePath 'ccm/a.md'",
    )
    assert not ask(store, "{ ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }")


def test_same_topic_in_two_curations_is_one_iri() -> None:
    other = TEXT.replace("d40d2213-a212-58f1-b060-7b018285bdaf", "0000aaaa-a212-58f1-b060-7b018285bdaf")
    g = Graph()
    for text in (TEXT, other):
        c = parse_text(text, "x.md").curation
        assert c is not None
        g.parse(data="".join(nt_line(t) for t in curation_triples(c, IriScheme(BASE))[1]), format="nt")
    rows = list(
        g.query(PREFIXES + "SELECT DISTINCT ?t WHERE { ?c kg:topic ?t . ?t skos:prefLabel 'Telehealth' }")
    )
    assert len(rows) == 1
    rows = list(g.query(PREFIXES + "SELECT DISTINCT ?c WHERE { ?c kg:topic ?t }"))
    assert len(rows) == 2


def test_id_only_curation_gets_work_package_iri() -> None:
    # (an id alone marks no curation: kg.read.kinds; with a work-package type it is one)
    result = parse_text("---\ntitle: T\nid: 77\nopenProjectWorkPackageType: Ideas\n---\n", "x.md")
    assert result.curation is not None
    _, triples = curation_triples(result.curation, IriScheme(BASE))
    assert triples[0][0] == f"{BASE}work-package/77"


def test_a_legacy_curation_graph_is_one_the_sync_owns() -> None:
    """Sync drops and replaces only graphs under `curation_graph_prefixes`: a legacy curation's
    graph must be one of them, or a removed legacy page would stay in the store for ever."""
    text = "---\ntitle: T\nslug: 10-ransomware\nsource: Opsfolio-curations\n---\n"
    result = parse_text(text, "x.md")
    assert result.curation is not None and result.curation.legacy
    iris = IriScheme(BASE)
    graph, _ = curation_triples(result.curation, iris)
    assert graph == f"{BASE}graph/legacy-curation/10-ransomware"
    assert graph.startswith(iris.curation_graph_prefixes())
