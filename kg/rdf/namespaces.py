"""The project's one prefix map and IRI bases, as plain strings (no rdflib needed).

`PREFIXES` feeds graph bindings, the Turtle writer, the JSON-LD context and the query
prefixes, so a prefix is spelled once; `Prefixes` shortens an IRI to `prefix:local` and back
with one rule (`compress`/`expand`; module-level `compress`/`expand` use kg's map and the
default instance prefixes). `KGTerms` is the ontology's terms as strings, generated.
`kg.rdf.vocab` adds the closed `KG` DefinedNamespace and rdflib namespaces on top; this module
is what the export path imports, so `kg export` does not load rdflib (~0.1 s of every run).
Imports nothing of kg.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

KG_NS = "https://w3id.org/medigy/kg#"

#: Default base under which instance IRIs (curations, topics, brands, ...) are minted.
DEFAULT_BASE_IRI = "https://w3id.org/medigy/kg/id/"


class KGTerms:
    """The IRI of every term of `ontology/kg.ttl`, as a plain string: what the mapping emits.
    Generated from the ontology by `make docs` (cog); `tests/test_docs.py` fails when stale."""

    # [[[cog
    # from kg.rdf.codegen import plain_string_lines
    # for line in plain_string_lines():
    #     cog.outl(line)
    # ]]]
    Curation: Final = "https://w3id.org/medigy/kg#Curation"
    LegacyCuration: Final = "https://w3id.org/medigy/kg#LegacyCuration"
    OwlTypeClass: Final = "https://w3id.org/medigy/kg#OwlTypeClass"
    WorkPackageTypeClass: Final = "https://w3id.org/medigy/kg#WorkPackageTypeClass"
    Community: Final = "https://w3id.org/medigy/kg#Community"
    SourceArticle: Final = "https://w3id.org/medigy/kg#SourceArticle"
    CurationGraph: Final = "https://w3id.org/medigy/kg#CurationGraph"
    NodeGraph: Final = "https://w3id.org/medigy/kg#NodeGraph"
    SyncState: Final = "https://w3id.org/medigy/kg#SyncState"
    topic: Final = "https://w3id.org/medigy/kg#topic"
    community: Final = "https://w3id.org/medigy/kg#community"
    sourceBrand: Final = "https://w3id.org/medigy/kg#sourceBrand"
    sourceArticle: Final = "https://w3id.org/medigy/kg#sourceArticle"
    favicon: Final = "https://w3id.org/medigy/kg#favicon"
    featuredPdf: Final = "https://w3id.org/medigy/kg#featuredPdf"
    originalUrl: Final = "https://w3id.org/medigy/kg#originalUrl"
    cleanUrl: Final = "https://w3id.org/medigy/kg#cleanUrl"
    sourceUrl: Final = "https://w3id.org/medigy/kg#sourceUrl"
    workPackageId: Final = "https://w3id.org/medigy/kg#workPackageId"
    mdName: Final = "https://w3id.org/medigy/kg#mdName"
    slug: Final = "https://w3id.org/medigy/kg#slug"
    alias: Final = "https://w3id.org/medigy/kg#alias"
    searchCategory: Final = "https://w3id.org/medigy/kg#searchCategory"
    basePath: Final = "https://w3id.org/medigy/kg#basePath"
    bodyFormat: Final = "https://w3id.org/medigy/kg#bodyFormat"
    mastHead: Final = "https://w3id.org/medigy/kg#mastHead"
    path: Final = "https://w3id.org/medigy/kg#path"
    sourcePath: Final = "https://w3id.org/medigy/kg#sourcePath"
    syncedExport: Final = "https://w3id.org/medigy/kg#syncedExport"
    graphDigest: Final = "https://w3id.org/medigy/kg#graphDigest"
    stateDigest: Final = "https://w3id.org/medigy/kg#stateDigest"
    # [[[end]]]


PREFIXES: dict[str, str] = {
    "kg": KG_NS,
    "schema": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
}


def instance_prefixes(base_iri: str) -> dict[str, str]:
    """Prefixes for minted instance IRIs under `base_iri` (used for readable Turtle)."""
    return {
        "cur": base_iri + "curation/",
        "topic": base_iri + "topic/",
        "scheme": base_iri + "scheme/",
        "brand": base_iri + "brand/",
        "person": base_iri + "person/",
        "community": base_iri + "community/",
        "owltype": base_iri + "owl-type/",
        "wptype": base_iri + "work-package-type/",
        "graph": base_iri + "graph/",
    }


def sparql_prefix_header(prefixes: dict[str, str] | None = None) -> str:
    """`PREFIX` lines for SPARQL from the shared prefix map."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in (prefixes or PREFIXES).items())


class Prefixes:
    """A prefix map, and the one rule for shortening IRIs with it: the longest namespace wins.

    `expand(compress(iri)) == iri` for every IRI. Ties (two prefixes for one namespace) go to
    the prefix met first in the map.
    """

    __slots__ = ("_by_length", "map")

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.map: dict[str, str] = dict(prefixes)
        self._by_length = sorted(self.map.items(), key=lambda kv: -len(kv[1]))

    def split(self, iri: str, *, empty_local: bool = False) -> tuple[str, str] | None:
        """(prefix, local name) by the longest namespace `iri` starts with, or None when none
        does. The local name is never empty unless `empty_local` (then the namespace IRI itself
        splits as `(prefix, "")`)."""
        for prefix, ns in self._by_length:
            if iri.startswith(ns) and (empty_local or len(iri) > len(ns)):
                return prefix, iri[len(ns) :]
        return None

    def compress(self, iri: str) -> str:
        """`prefix:local` for `iri`, or `iri` unchanged when no namespace leaves a local name, or
        when the local name starts with `//` (`p://x` reads as an absolute IRI, not a CURIE)."""
        split = self.split(iri)
        if split is None or split[1].startswith("//"):
            return iri
        return f"{split[0]}:{split[1]}"

    def expand(self, curie: str) -> str:
        """The IRI `prefix:local` stands for, or `curie` unchanged when its prefix is not in the
        map or it reads as an absolute IRI (`http://...`: a local name starting with `//`)."""
        prefix, sep, local = curie.partition(":")
        ns = self.map.get(prefix) if sep else None
        if ns is None or local.startswith("//"):
            return curie
        return ns + local


#: kg's vocabulary prefixes and the instance prefixes under the default base.
DEFAULT_PREFIXES = Prefixes({**PREFIXES, **instance_prefixes(DEFAULT_BASE_IRI)})


def compress(iri: str) -> str:
    """`DEFAULT_PREFIXES.compress`: `https://schema.org/name` -> `schema:name`."""
    return DEFAULT_PREFIXES.compress(iri)


def expand(curie: str) -> str:
    """`DEFAULT_PREFIXES.expand`: `schema:name` -> `https://schema.org/name`."""
    return DEFAULT_PREFIXES.expand(curie)
