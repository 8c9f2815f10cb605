"""The project's vocabulary as code, with the one prefix map used everywhere.

`KG` is a closed `DefinedNamespace`: using a term that is not declared here raises, and
`tests/test_ontology.py` keeps it equal to the terms declared in `ontology/kg.ttl`. The prefix
map (`PREFIXES`, from `kg.namespaces`) feeds graph bindings, the Turtle writer, the JSON-LD
context and the query prefixes, so a prefix is spelled once.
"""

from __future__ import annotations

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

from kg.namespaces import (
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
    """Terms of the kg ontology (`ontology/kg.ttl`)."""

    _fail = True
    _NS = Namespace(KG_NS)

    # classes
    Curation: URIRef  # base class of every curation; subclass of schema:CreativeWork
    OwlTypeClass: URIRef  # metaclass: classes minted from an `owlType` value
    WorkPackageTypeClass: URIRef  # metaclass: classes minted from `openProjectWorkPackageType`
    Community: URIRef  # a Medigy community of practice
    SourceArticle: URIRef  # the external page a curation points at
    CurationGraph: URIRef  # the named graph holding one curation's triples
    SyncState: URIRef  # what `kg load` of an export folder last wrote to a store

    # relations
    topic: URIRef  # curation -> skos:Concept
    community: URIRef  # curation -> kg:Community
    sourceBrand: URIRef  # curation -> schema:Organization (the source brand)
    sourceArticle: URIRef  # curation -> kg:SourceArticle
    favicon: URIRef  # curation -> schema:ImageObject (the source's favicon)
    featuredPdf: URIRef  # curation -> schema:MediaObject

    # literals on curations
    workPackageId: URIRef  # numeric OpenProject work-package id (`id`)
    mdName: URIRef  # the curation's UUID (`mdName`)
    slug: URIRef
    alias: URIRef
    searchCategory: URIRef
    basePath: URIRef
    bodyFormat: URIRef  # media type of schema:articleBody: text/html or text/markdown

    # literals on source articles
    originalUrl: URIRef  # `link.original` where it differs from schema:url
    cleanUrl: URIRef  # `openProjectCustomFields.cleanUrl` where it differs
    sourceUrl: URIRef  # `openProjectCustomFields.sourceUrl` where it differs

    # communities
    mastHead: URIRef
    path: URIRef

    # provenance
    sourcePath: URIRef  # source file path relative to the source root

    # store sync state (kg.sync), in the graph {base}graph/kg-sync of a store
    syncedExport: URIRef  # the export id the store was last synced to
    graphDigest: URIRef  # digest of a curation graph as written to the store, or "pending"
    stateDigest: URIRef  # digest of the sync state, in the graph {base}graph/kg-sync-check


SCHEMA = Namespace(PREFIXES["schema"])
SKOS = Namespace(PREFIXES["skos"])
DCTERMS = Namespace(PREFIXES["dcterms"])
PROV = Namespace(PREFIXES["prov"])
OWL = Namespace(PREFIXES["owl"])
RDF = Namespace(PREFIXES["rdf"])
RDFS = Namespace(PREFIXES["rdfs"])
XSD = Namespace(PREFIXES["xsd"])
