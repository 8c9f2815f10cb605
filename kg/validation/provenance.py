"""Where a validation result comes from: the source files and front-matter key of its focus node.

- the curation it is about: the focus node itself, the curation that owns it (its
  `…/source` article, `…/featured-image`, ...), or, for a shared node (a topic, scheme, brand,
  community, person, class), every curation that refers to it;
- the source file of each such curation: from the quads when they are known (the curation node
  sits in the named graph whose `kg:sourcePath` is recorded), else from the IRI scheme (the graph
  of curation `{base}curation/X` is `{base}graph/curation/X`, see `kg.map.curation.IriScheme.graph`);
- the front-matter key, from the predicate and the kind of node (`kg.validation.keys`).

`Provenance` reads this from an rdflib data graph (`kg validate`); `report_from_pipeline`
from what the export pipeline knows (`kg export --validate`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

from kg.rdf.vocab import KG, RDF
from kg.validation.keys import (
    CLASS_KEYS,
    COMMUNITY_KEYS,
    CURATION_KEYS,
    MEDIA_KEYS,
    OWNED_LINKS,
    SHAPE_KEYS,
    SHARED_LINKS,
    SOURCE_ARTICLE_KEYS,
)
from kg.validation.model import ValidationReport, ValidationResult, result_order
from kg.validation.report_graph import severity_of

_A = RDF.type
_CURATION = URIRef(str(KG.Curation))
_SOURCE_PATH = URIRef(str(KG.sourcePath))


@dataclass(slots=True)
class Provenance:
    """Which source files each curation came from, read from the data graph itself."""

    curations: dict[str, tuple[str, ...]]  # curation IRI -> source paths (two on a duplicate mdName)
    graph_files: dict[str, tuple[str, ...]]  # curation-graph IRI -> source paths

    @classmethod
    def from_graph(
        cls, data: Graph, curation_graphs: Mapping[str, Iterable[str]] | None = None
    ) -> Provenance:
        graph_files: dict[str, list[str]] = defaultdict(list)
        for graph_node, path in data.subject_objects(_SOURCE_PATH):
            graph_files[str(graph_node)].append(str(path))
        curations: dict[str, set[str]] = defaultdict(set)
        placed: set[str] = set()
        for curation, graphs in (curation_graphs or {}).items():
            for graph_iri in graphs:
                curations[curation].update(graph_files.get(graph_iri, ()))
                placed.add(graph_iri)
        for graph_iri, paths in graph_files.items():  # graphs the quads did not place: by IRI scheme
            found = curation_of_graph(graph_iri) if graph_iri not in placed else None
            if found is not None and (URIRef(found), None, None) in data:
                curations[found].update(paths)
        for c in data.subjects(_A, _CURATION):
            curations.setdefault(str(c), set())
        return cls(
            {c: tuple(sorted(p)) for c, p in curations.items()},
            {g: tuple(sorted(set(p))) for g, p in graph_files.items()},
        )

    def files(self) -> list[str]:
        return sorted({p for paths in self.graph_files.values() for p in paths})

    def locate(self, result: ValidationResult, data: Graph) -> ValidationResult:
        """The result with its source files and front-matter key filled in."""
        focus = result.focus_node
        path = result.path or ""
        shape_key = SHAPE_KEYS.get(result.source_shape or "")
        if focus in self.curations:
            return replace(
                result, source_files=self.curations[focus], key=shape_key or CURATION_KEYS.get(path)
            )
        if focus in self.graph_files:
            return replace(result, source_files=self.graph_files[focus])
        node = URIRef(focus) if not focus.startswith("_:") else BNode(focus[2:])
        referrers = list(data.subject_predicates(node))
        owners = [
            (str(s), str(p)) for s, p in referrers if str(s) in self.curations and str(p) in OWNED_LINKS
        ]
        if owners:
            files = _union(self.curations[s] for s, _ in owners)
            link = owners[0][1]
            if link == str(KG.sourceArticle):
                key = SOURCE_ARTICLE_KEYS.get(path, "link")
            else:
                part = MEDIA_KEYS.get(path)
                key = f"{OWNED_LINKS[link]}.{part}" if part else OWNED_LINKS[link]
            return replace(result, source_files=files, key=key)
        files = self._referring_files(node, data)
        return replace(result, source_files=files, key=_shared_key(node, path, data))

    def _referring_files(self, node: Node, data: Graph) -> tuple[str, ...]:
        """Files of the curations that refer to `node` directly or through one node between."""
        found: set[str] = set()
        for s in set(data.subjects(None, node)):
            if str(s) in self.curations:
                found.update(self.curations[str(s)])
                continue
            for s2 in data.subjects(None, s):
                if str(s2) in self.curations:
                    found.update(self.curations[str(s2)])
        return tuple(sorted(found))


def _union(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(sorted({p for group in groups for p in group}))


def _shared_key(node: Node, path: str, data: Graph) -> str | None:
    for cls in data.objects(node, _A):
        if str(cls) in CLASS_KEYS:
            return CLASS_KEYS[str(cls)]
        if cls == URIRef(str(KG.Community)):
            return COMMUNITY_KEYS.get(path, "identifier")
    for _, p in data.subject_predicates(node):
        if str(p) == str(KG.community):
            return COMMUNITY_KEYS.get(path, "identifier")
        if str(p) in SHARED_LINKS:
            return SHARED_LINKS[str(p)]
        if p == _A:
            return "owlType/openProjectWorkPackageType"
    return None


def curation_of_graph(graph_iri: str) -> str | None:
    """Invert `IriScheme.graph`: `{base}graph/{kind}/{name}` -> `{base}{kind}/{name}`.

    Names are single path segments (`/` is percent-encoded when minted), so the last two
    segments are the kind and the name whatever the base.
    """
    head, sep, tail = graph_iri.rpartition("/")
    head, sep2, kind = head.rpartition("/")
    if not (sep and sep2 and head.endswith("graph")):
        return None
    return f"{head[: -len('graph')]}{kind}/{tail}"


def report_from_pipeline(
    results: list[Any], graph_files: Mapping[str, list[str]], triples: int
) -> ValidationReport:
    """The fast engine's results from inside the export pipeline (`kg export --validate`),
    located without an rdflib data graph: a curation, its child nodes (`/source`, ...) and its
    graph by the graph's source files; shared nodes (topics, brands, ...) carry no file."""
    curation_files: dict[str, tuple[str, ...]] = {}
    for graph_iri, paths in graph_files.items():
        files = tuple(sorted(set(paths)))
        curation_files[graph_iri] = files
        curation = curation_of_graph(graph_iri)
        if curation is not None:
            curation_files[curation] = files
    located = []
    for r in results:
        focus = r.focus if isinstance(r.focus, str) else r.focus.lexical
        files = curation_files.get(focus) or curation_files.get(focus.rsplit("/", 1)[0], ())
        value = None if r.value is None else (r.value if isinstance(r.value, str) else r.value.lexical)
        located.append(
            ValidationResult(
                focus_node=focus,
                path=r.path,
                value=value,
                severity=severity_of(URIRef(r.severity)),
                message=r.message or "",
                source_shape=r.shape,
                constraint_component=r.component,
                source_files=files,
                key=SHAPE_KEYS.get(r.shape) or CURATION_KEYS.get(r.path or ""),
            )
        )
    all_files = sorted({p for paths in graph_files.values() for p in paths})
    return ValidationReport(
        sorted(located, key=result_order),
        Graph(),
        files=all_files,
        triples=triples,
        curations=len(graph_files),
    )
