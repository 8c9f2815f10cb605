"""Map one normalised `Curation` to RDF triples. Pure: no file access, no global state.

Every curation gets a named graph of its own holding its *own* triples; the shared nodes it links
to (its classes, topics and their schemes, community, brand, authors) are described once each,
in graphs of their own (`kg.map.nodes`). See docs/graph-model.md, "IRI scheme", for the minting
rules, and "Named graphs" for the layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kg.model import Curation, Media, Temporal
from kg.rdf.iri import base_iri_problem, segment, to_iri
from kg.rdf.namespaces import DEFAULT_BASE_IRI, PREFIXES, KGTerms
from kg.rdf.terms import XSD_DATE, XSD_DATETIME, XSD_INTEGER, Lit, Triple
from kg.read.normalize import has_scheme, web_iri

# Terms as plain strings (kg.rdf.vocab's rdflib namespaces are not loaded on the export path);
# the kg: ones are the generated `KGTerms`, so a term the ontology does not declare is an error.
RDF, RDFS, OWL = PREFIXES["rdf"], PREFIXES["rdfs"], PREFIXES["owl"]
SKOS, PROV, SCHEMA = PREFIXES["skos"], PREFIXES["prov"], PREFIXES["schema"]
A = RDF + "type"
C_CURATION = KGTerms.Curation
C_LEGACY = KGTerms.LegacyCuration
C_OWL_TYPE = KGTerms.OwlTypeClass
C_WP_TYPE = KGTerms.WorkPackageTypeClass
C_COMMUNITY = KGTerms.Community
C_SOURCE_ARTICLE = KGTerms.SourceArticle
C_GRAPH = KGTerms.CurationGraph
OWL_CLASS = OWL + "Class"
RDFS_LABEL = RDFS + "label"
RDFS_SUBCLASS = RDFS + "subClassOf"
SKOS_CONCEPT = SKOS + "Concept"
SKOS_SCHEME = SKOS + "ConceptScheme"
SKOS_PREF = SKOS + "prefLabel"
SKOS_IN_SCHEME = SKOS + "inScheme"
PROV_DERIVED = PROV + "wasDerivedFrom"
S_ORG = SCHEMA + "Organization"
S_PERSON = SCHEMA + "Person"
S_IMAGE = SCHEMA + "ImageObject"
S_MEDIA = SCHEMA + "MediaObject"
S_NAME = SCHEMA + "name"
S_DESCRIPTION = SCHEMA + "description"
S_URL = SCHEMA + "url"
S_AUTHOR = SCHEMA + "author"
S_IMAGE_P = SCHEMA + "image"
S_KEYWORDS = SCHEMA + "keywords"
S_BODY = SCHEMA + "articleBody"
S_CREATED = SCHEMA + "dateCreated"
S_PUBLISHED = SCHEMA + "datePublished"
S_MODIFIED = SCHEMA + "dateModified"
S_START = SCHEMA + "startDate"
S_END = SCHEMA + "endDate"
S_PUBLISHER = SCHEMA + "publisher"
S_CONTENT_URL = SCHEMA + "contentUrl"
S_WIDTH = SCHEMA + "width"
S_HEIGHT = SCHEMA + "height"
S_FORMAT = SCHEMA + "encodingFormat"
S_CAPTION = SCHEMA + "caption"
K_TOPIC = KGTerms.topic
K_COMMUNITY = KGTerms.community
K_BRAND = KGTerms.sourceBrand
K_ARTICLE = KGTerms.sourceArticle
K_FAVICON = KGTerms.favicon
K_PDF = KGTerms.featuredPdf
K_WP_ID = KGTerms.workPackageId
K_MD_NAME = KGTerms.mdName
K_SLUG = KGTerms.slug
K_ALIAS = KGTerms.alias
K_SEARCH = KGTerms.searchCategory
K_BASE_PATH = KGTerms.basePath
K_BODY_FORMAT = KGTerms.bodyFormat
K_ORIGINAL = KGTerms.originalUrl
K_CLEAN = KGTerms.cleanUrl
K_SOURCE_URL = KGTerms.sourceUrl
K_MAST_HEAD = KGTerms.mastHead
K_PATH = KGTerms.path
K_SOURCE_PATH = KGTerms.sourcePath

#: schema.org types for work-package types where one fits (compared case-insensitively).
#: Unlisted types still get their own minted class; they are typed schema:CreativeWork.
SCHEMA_TYPES: dict[str, str] = {
    "curated content": SCHEMA + "Article",
    "contributed content": SCHEMA + "Article",
    "curated news": SCHEMA + "NewsArticle",
    "curated video": SCHEMA + "VideoObject",
    "curated event": SCHEMA + "Event",
    "infographics": SCHEMA + "ImageObject",
    "recent updates & reports": SCHEMA + "Report",
}
S_CREATIVE_WORK = SCHEMA + "CreativeWork"

_DOMAIN = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


@dataclass(frozen=True, slots=True)
class IriScheme:
    """Mints every IRI kg emits from the base IRI (see docs/graph-model.md, "IRI scheme")."""

    base: str = DEFAULT_BASE_IRI
    asset_base: str | None = None  # where relative image/PDF hrefs resolve; default base + asset/

    def __post_init__(self) -> None:
        """Refuse a base under which minted IRIs would not parse (ValueError, saying why)."""
        problem = base_iri_problem(self.base) or (
            None if self.asset_base is None else base_iri_problem(self.asset_base, "asset base", ending=False)
        )
        if problem is not None:
            raise ValueError(problem)

    def curation(self, c: Curation) -> str:
        """`curation/{mdName}`, else `work-package/{id}`; a legacy curation `legacy-curation/{slug}`."""
        if c.legacy and c.slug is not None:
            return f"{self.base}legacy-curation/{segment(c.slug)}"
        if c.md_name is not None:
            return f"{self.base}curation/{segment(c.md_name)}"
        return f"{self.base}work-package/{c.work_package_id}"

    def graph(self, curation_iri: str) -> str:
        return f"{self.base}graph/{curation_iri[len(self.base) :]}"

    def graph_namespace(self) -> str:
        """Where every graph kg names is, the sync's own included: `{base}graph/`."""
        return f"{self.base}graph/"

    def taxonomy_graph(self) -> str:
        """The named graph that holds the site's topic taxonomy: `{base}graph/taxonomy`."""
        return self.graph_namespace() + "taxonomy"

    def dataset(self) -> str:
        """The export as a dataset, in its VoID/DCAT description: `{base}dataset`."""
        return f"{self.base}dataset"

    def curation_graph_prefixes(self) -> tuple[str, ...]:
        """Where the graphs of `curation` IRIs are (all forms: by mdName, by work-package id, and
        legacy curations by slug)."""
        kinds = ("curation", "work-package", "legacy-curation")
        return tuple(self.graph(f"{self.base}{kind}/") for kind in kinds)

    def file_graph(self, file_name: str) -> str:
        """The graph that receives the triples of an RDF file that has no graph names of its own."""
        return f"{self.graph_namespace()}file/{segment(file_name)}"

    def sync_state_graph(self) -> str:
        """The graph in which a store keeps its sync state for exports minted under this base."""
        return self.graph_namespace() + "kg-sync"

    def sync_check_graph(self) -> str:
        """The graph holding the digest of the sync state last written."""
        return self.graph_namespace() + "kg-sync-check"

    def source_file(self, path: str) -> str:
        return self.base + "source/" + "/".join(segment(part) for part in path.split("/"))

    def owl_type(self, value: str) -> str:
        return f"{self.base}owl-type/{segment(value)}"

    def work_package_type(self, value: str) -> str:
        return f"{self.base}work-package-type/{segment(value)}"

    def topic(self, source: str | None, label: str) -> str:
        if source is None:
            return f"{self.base}topic/{segment(label)}"
        return f"{self.base}topic/{segment(source)}/{segment(label)}"

    def scheme(self, source: str | None) -> str:
        return f"{self.base}scheme/{segment(source)}" if source else f"{self.base}scheme-none"

    def community(self, identifier: str) -> str:
        return f"{self.base}community/{segment(identifier)}"

    def brand(self, name: str) -> str:
        return f"{self.base}brand/{segment(name)}"

    def person(self, name: str) -> str:
        return f"{self.base}person/{segment(name)}"

    def asset(self, href: str) -> str | None:
        """An absolute IRI for an image/PDF href; relative hrefs resolve under the asset base.

        An absolute href must be an http(s) URL (`kg.read.normalize.href` made any other a field
        problem); one that is not, from a `Curation` built by other code, gives None.
        """
        if has_scheme(href):
            return web_iri(href)
        base = self.asset_base or f"{self.base}asset/"
        return to_iri(base + "/".join(segment(p) for p in href.lstrip("/").split("/")))


#: Label of the scheme that holds topics written without a `Source: ` prefix.
NO_SOURCE_LABEL = "(no source)"


@dataclass(frozen=True, slots=True)
class CurationRDF:
    """One curation's triples, split by who owns the subject.

    `own` triples have the curation, its child nodes (`/source`, `/featured-image`, ...) or its
    graph as subject: no other curation states them. `shared` triples describe nodes that many
    curations link to (classes, topics, schemes, community, brand, authors); writers merge them.
    """

    graph: str
    subject: str
    own: list[Triple]
    shared: list[Triple]

    @property
    def triples(self) -> list[Triple]:
        return self.own + self.shared


def curation_triples(c: Curation, iris: IriScheme) -> tuple[str, list[Triple]]:
    """Return (graph IRI, all triples) for one curation; no blank nodes."""
    rdf = curation_rdf(c, iris)
    return rdf.graph, rdf.triples


def curation_rdf(c: Curation, iris: IriScheme) -> CurationRDF:
    """Map one curation to its own and shared triples."""
    s = iris.curation(c)
    g = iris.graph(s)
    own: list[Triple] = []
    shared: list[Triple] = []
    add = own.append
    share = shared.append
    _types(add, share, s, c, iris)
    _describe(add, s, c)
    _links(add, share, s, c, iris)
    _source(add, share, s, c, iris)
    _media(add, s, S_IMAGE_P, s + "/featured-image", S_IMAGE, c.featured_image, iris)
    _media(add, s, K_FAVICON, s + "/favicon", S_IMAGE, c.favicon, iris)
    _media(add, s, K_PDF, s + "/featured-pdf", S_MEDIA, c.featured_pdf, iris)
    _site(add, s, c)
    add((g, A, C_GRAPH))
    own += provenance_triples(g, c.source_path, iris)
    return CurationRDF(g, s, own, list(dict.fromkeys(shared)))


def provenance_triples(graph: str, path: str, iris: IriScheme) -> list[Triple]:
    """The graph's record of one source file it was made from (a curation published in two
    files has both: see `kg.pipeline.duplicates`)."""
    return [(graph, PROV_DERIVED, iris.source_file(path)), (graph, K_SOURCE_PATH, Lit(path))]


_Add = Callable[[Triple], None]


def _types(add: _Add, share: _Add, s: str, c: Curation, iris: IriScheme) -> None:
    """kg:Curation (and kg:LegacyCuration), the minted owlType and work-package type classes,
    and a schema.org type."""
    add((s, A, C_CURATION))
    if c.legacy:
        add((s, A, C_LEGACY))
    wp_schema = S_CREATIVE_WORK
    if c.owl_type:
        cls = iris.owl_type(c.owl_type)
        add((s, A, cls))
        _declare_class(share, cls, c.owl_type, C_OWL_TYPE)
    if c.work_package_type:
        cls = iris.work_package_type(c.work_package_type)
        add((s, A, cls))
        _declare_class(share, cls, c.work_package_type, C_WP_TYPE)
        wp_schema = SCHEMA_TYPES.get(c.work_package_type.casefold(), S_CREATIVE_WORK)
    add((s, A, wp_schema))


def _describe(add: _Add, s: str, c: Curation) -> None:
    """Name, description, identifiers and dates."""
    add((s, S_NAME, Lit(c.title)))
    if c.description:
        add((s, S_DESCRIPTION, Lit(c.description)))
    if c.md_name is not None:
        add((s, K_MD_NAME, Lit(c.md_name)))
    if c.work_package_id is not None:
        add((s, K_WP_ID, Lit(str(c.work_package_id), XSD_INTEGER)))
    for prop, value in (
        (S_CREATED, c.date_created),
        (S_PUBLISHED, c.date_published),
        (S_MODIFIED, c.date_modified),
        (S_START, c.event_start),
        (S_END, c.event_end),
    ):
        if value is not None:
            add((s, prop, _temporal(value)))


def _links(add: _Add, share: _Add, s: str, c: Curation, iris: IriScheme) -> None:
    """Authors, topics (with their schemes) and the community, each described as shared."""
    for name in c.authors:
        person = iris.person(name)
        add((s, S_AUTHOR, person))
        share((person, A, S_PERSON))
        share((person, S_NAME, Lit(name)))
    for topic in c.topics:
        concept = iris.topic(topic.source, topic.label)
        scheme = iris.scheme(topic.source)
        add((s, K_TOPIC, concept))
        share((concept, A, SKOS_CONCEPT))
        share((concept, SKOS_PREF, Lit(topic.label)))
        share((concept, SKOS_IN_SCHEME, scheme))
        share((scheme, A, SKOS_SCHEME))
        share((scheme, SKOS_PREF, Lit(topic.source or NO_SOURCE_LABEL)))
    if c.community is not None:
        m = iris.community(c.community.identifier)
        add((s, K_COMMUNITY, m))
        share((m, A, C_COMMUNITY))
        share((m, RDFS_LABEL, Lit(c.community.identifier)))
        if c.community.mast_head:
            share((m, K_MAST_HEAD, Lit(c.community.mast_head)))
        if c.community.path:
            share((m, K_PATH, Lit(c.community.path)))


def _source(add: _Add, share: _Add, s: str, c: Curation, iris: IriScheme) -> None:
    """The brand (shared) and the source article (`{s}/source`) with its URLs."""
    brand = None
    if c.brand:
        brand = iris.brand(c.brand)
        add((s, K_BRAND, brand))
        share((brand, A, S_ORG))
        share((brand, S_NAME, Lit(c.brand)))
        if _DOMAIN.match(c.brand):
            share((brand, S_URL, f"https://{c.brand.lower()}/"))
    if c.url:
        article = s + "/source"
        add((s, K_ARTICLE, article))
        add((article, A, C_SOURCE_ARTICLE))
        add((article, S_URL, c.url))
        for prop, other_url in (
            (K_ORIGINAL, c.original_url),
            (K_CLEAN, c.clean_url),
            (K_SOURCE_URL, c.source_url),
        ):
            if other_url:
                add((article, prop, other_url))
        if brand:
            add((article, S_PUBLISHER, brand))


def _site(add: _Add, s: str, c: Curation) -> None:
    """Tags, aliases, the site's slug, search category and path, and the body."""
    for tag in c.tags:
        add((s, S_KEYWORDS, Lit(tag)))
    for alias in c.aliases:
        add((s, K_ALIAS, Lit(alias)))
    if c.slug:
        add((s, K_SLUG, Lit(c.slug)))
    if c.search_category:
        add((s, K_SEARCH, Lit(c.search_category)))
    if c.base_path:
        add((s, K_BASE_PATH, Lit(c.base_path)))
    if c.body:
        add((s, S_BODY, Lit(c.body)))
        add((s, K_BODY_FORMAT, Lit(c.body_format or "text/markdown")))


def _declare_class(add: _Add, cls: str, label: str, metaclass: str) -> None:
    add((cls, A, OWL_CLASS))
    add((cls, A, metaclass))
    add((cls, RDFS_LABEL, Lit(label)))
    add((cls, RDFS_SUBCLASS, C_CURATION))


def _temporal(value: Temporal) -> Lit:
    return Lit(value.lexical, XSD_DATETIME if value.datatype == "dateTime" else XSD_DATE)


def _media(
    add: _Add,
    subject: str,
    prop: str,
    node: str,
    cls: str,
    media: Media | None,
    iris: IriScheme,
) -> None:
    if media is None:
        return
    content = iris.asset(media.href)
    add((subject, prop, node))
    add((node, A, cls))
    if content:
        add((node, S_CONTENT_URL, content))
    if media.width is not None:
        add((node, S_WIDTH, Lit(str(media.width), XSD_INTEGER)))
    if media.height is not None:
        add((node, S_HEIGHT, Lit(str(media.height), XSD_INTEGER)))
    if media.format:
        add((node, S_FORMAT, Lit(media.format)))
    if media.caption:
        add((node, S_CAPTION, Lit(media.caption)))
