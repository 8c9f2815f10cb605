"""The project's vocabulary as code, with the one prefix map used everywhere.

`KG` is a closed `DefinedNamespace` generated from `ontology/kg.ttl` (as rdflib's own
`namespace/_SKOS.py` is from SKOS): using a term the ontology does not declare raises. The prefix
map (`PREFIXES`, from `kg.rdf.namespaces`) feeds graph bindings, the Turtle writer, the JSON-LD
context and the query prefixes, so a prefix is spelled once.
"""

from __future__ import annotations

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

from kg.rdf.namespaces import (
    DEFAULT_BASE_IRI,
    KG_NS,
    PREFIXES,
    instance_prefixes,
    sparql_prefix_header,
)

__all__ = [
    "DCTERMS",
    "DEFAULT_BASE_IRI",
    "KG",
    "KG_NS",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SKOS",
    "XSD",
    "instance_prefixes",
    "sparql_prefix_header",
]


class KG(DefinedNamespace):
    """Terms of the kg ontology (`ontology/kg.ttl`), generated from it: edit the ontology, then
    `make docs` (cog) rewrites the lines below; `tests/test_docs.py` fails when they are stale."""

    _fail = True
    _NS = Namespace(KG_NS)

    # [[[cog
    # from kg.rdf.codegen import defined_namespace_lines
    # for line in defined_namespace_lines():
    #     cog.outl(line)
    # ]]]
    # classes
    #: A piece of external health-technology content selected and summarised by a Medigy curator.
    #: Every class minted from an owlType or a work-package type is a subclass.
    Curation: URIRef
    #: A curation published before OpenProject, kept by the site from WordPress or Opsfolio (front-
    #: matter source WordPress-curations, Opsfolio-curations): it has no mdName, work-package id or
    #: owlType. Named by its slug (IRI legacy-curation/{slug}); its work-package type class is
    #: minted from the site section it is listed in, its community from its breadcrumbs, its topics
    #: from its WordPress categories.
    LegacyCuration: URIRef
    #: Metaclass of the classes minted from a curation's owlType value (e.g. 'Medigy Communities');
    #: their rdfs:label is the owlType string exactly. Each such class is declared an owl:Class in
    #: the data (OWL 2 punning keeps this OWL 2 DL).
    OwlTypeClass: URIRef
    #: Metaclass of the classes minted from a curation's openProjectWorkPackageType (e.g. 'Curated
    #: News'), or from the site section a legacy curation is listed in (e.g. 'Infographics', the
    #: same kinds); their rdfs:label is that string exactly. Each such class is declared an
    #: owl:Class in the data.
    WorkPackageTypeClass: URIRef
    #: A Medigy community of practice (e.g. 'Chronic Care Management (CCM)'); rdfs:label is its
    #: identifier string exactly.
    Community: URIRef
    #: The external web page a curation summarises; schema:url is its link, schema:publisher its
    #: brand.
    SourceArticle: URIRef
    #: The named graph holding one curation's triples, derived from one source file.
    CurationGraph: URIRef
    #: The named graph describing, once, one node that curations share (a topic, concept scheme,
    #: class, community, brand or person): every triple the curations state about it. It exists
    #: while a curation links to the node.
    NodeGraph: URIRef
    #: What `kg load` of an export folder last wrote to a store: kept in the store's graph
    #: {base}graph/kg-sync, so the next sync sends only the graphs that changed.
    SyncState: URIRef

    # object properties
    #: A topic (skos:Concept) the curation is about, from communityTopics or medigyTopics.
    topic: URIRef
    #: The community the curation was published in (front-matter key identifier).
    community: URIRef
    #: The brand (publisher) of the curated source, from link.brand.
    sourceBrand: URIRef
    #: The external page the curation summarises.
    sourceArticle: URIRef
    #: The source site's favicon image (favIconImage).
    favicon: URIRef
    #: A PDF attached to the curation (featuredPdf).
    featuredPdf: URIRef
    #: link.original, kept where it differs from the article's schema:url.
    originalUrl: URIRef
    #: openProjectCustomFields.cleanUrl, kept where it differs from schema:url.
    cleanUrl: URIRef
    #: openProjectCustomFields.sourceUrl, kept where it differs from schema:url.
    sourceUrl: URIRef

    # datatype properties
    #: The numeric OpenProject work-package id of the curation (front-matter key id).
    workPackageId: URIRef
    #: The curation's UUID (front-matter key mdName), the basis of its IRI.
    mdName: URIRef
    #: The URL slug of the curation page.
    slug: URIRef
    #: An alternative site path of the curation page (front-matter key aliases).
    alias: URIRef
    #: The site search category (e.g. News, Offerings).
    searchCategory: URIRef
    #: The site section path the curation lives under (front-matter key basePath).
    basePath: URIRef
    #: Media type of schema:articleBody as written by the curator: text/html or text/markdown.
    bodyFormat: URIRef
    #: The community's masthead title (e.g. 'Chronic Care Management (CCM) CoP').
    mastHead: URIRef
    #: The community's site path, from the breadcrumb link whose label is the community identifier.
    path: URIRef
    #: POSIX path of the source file relative to the source root; the literal twin of
    #: prov:wasDerivedFrom.
    sourcePath: URIRef
    #: The export id (sha256 of its graph IRIs and digests) the store was last fully synced to.
    syncedExport: URIRef
    #: sha256 of a curation graph as exported (its IRI and N-Triples lines), recorded when the
    #: graph was written to the store; 'pending' while a write of it may be incomplete.
    graphDigest: URIRef
    #: sha256 of the N-Triples of a store's sync state as kg last wrote it, kept in the store's
    #: graph {base}graph/kg-sync-check: a state graph lost, damaged or replaced by an older copy
    #: does not match it, and is not trusted.
    stateDigest: URIRef
    # [[[end]]]


SCHEMA = Namespace(PREFIXES["schema"])
SKOS = Namespace(PREFIXES["skos"])
DCTERMS = Namespace(PREFIXES["dcterms"])
PROV = Namespace(PREFIXES["prov"])
OWL = Namespace(PREFIXES["owl"])
RDF = Namespace(PREFIXES["rdf"])
RDFS = Namespace(PREFIXES["rdfs"])
XSD = Namespace(PREFIXES["xsd"])
