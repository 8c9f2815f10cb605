"""Front-matter keys of validation results: which key of a curation's file a predicate (or a
shape of kg's own) is about, by the kind of node it is on.

`schema:name` on a curation is `title`, on a brand `link.brand`; `schema:width` on a
featured image is `featuredImage.size`. `kg.validation.provenance` picks the table.
"""

from __future__ import annotations

from kg.rdf.vocab import KG, RDFS, SCHEMA, SKOS

#: The namespace of kg's own shapes (`shapes/*.ttl`), prefix `kgsh`.
SHAPES_NS = "https://w3id.org/medigy/kg/shapes#"

#: Predicate on a curation -> front-matter key.
CURATION_KEYS: dict[str, str] = {
    str(SCHEMA.name): "title",
    str(SCHEMA.description): "description",
    str(SCHEMA.dateCreated): "date",
    str(SCHEMA.datePublished): "date/publishDate",
    str(SCHEMA.dateModified): "lastMod",
    str(SCHEMA.startDate): "eventStartDate",
    str(SCHEMA.endDate): "eventEndDate",
    str(SCHEMA.author): "author",
    str(KG.topic): "communityTopics",
    str(KG.community): "identifier",
    str(KG.sourceBrand): "link.brand",
    str(KG.sourceArticle): "link.href",
    str(SCHEMA.image): "featuredImage",
    str(KG.favicon): "favIconImage",
    str(KG.featuredPdf): "featuredPdf",
    str(SCHEMA.keywords): "tags",
    str(KG.alias): "aliases",
    str(KG.slug): "slug",
    str(KG.searchCategory): "searchCategory",
    str(KG.basePath): "basePath",
    str(SCHEMA.articleBody): "(body)",
    str(KG.bodyFormat): "(body)",
    str(KG.workPackageId): "id",
    str(KG.mdName): "mdName",
}
#: Shapes on rdf:type whose key is not found from the predicate.
SHAPE_KEYS: dict[str, str] = {
    SHAPES_NS + "CurationOwlTypeShape": "owlType",
    SHAPES_NS + "CurationWorkPackageTypeShape": "openProjectWorkPackageType",
}
#: Predicate from a curation to a node it owns (minted under the curation's IRI) -> key.
OWNED_LINKS: dict[str, str] = {
    str(KG.sourceArticle): "link",
    str(SCHEMA.image): "featuredImage",
    str(KG.favicon): "favIconImage",
    str(KG.featuredPdf): "featuredPdf",
}
SOURCE_ARTICLE_KEYS: dict[str, str] = {
    str(SCHEMA.url): "link.href",
    str(KG.originalUrl): "link.original",
    str(KG.cleanUrl): "openProjectCustomFields.cleanUrl",
    str(KG.sourceUrl): "openProjectCustomFields.sourceUrl",
    str(SCHEMA.publisher): "link.brand",
}
MEDIA_KEYS: dict[str, str] = {
    str(SCHEMA.contentUrl): "href",
    str(SCHEMA.width): "size",
    str(SCHEMA.height): "size",
    str(SCHEMA.encodingFormat): "format",
    str(SCHEMA.caption): "alt",
}
#: Predicate by which a curation (or a node it links to) refers to a shared node -> key.
SHARED_LINKS: dict[str, str] = {
    str(KG.topic): "communityTopics",
    str(SKOS.inScheme): "communityTopics",
    str(KG.community): "identifier",
    str(KG.sourceBrand): "link.brand",
    str(SCHEMA.publisher): "link.brand",
    str(SCHEMA.author): "author",
}
COMMUNITY_KEYS: dict[str, str] = {
    str(RDFS.label): "identifier",
    str(KG.mastHead): "mastHead",
    str(KG.path): "breadcrumbLinks",
}
CLASS_KEYS: dict[str, str] = {
    str(KG.OwlTypeClass): "owlType",
    str(KG.WorkPackageTypeClass): "openProjectWorkPackageType",
}
