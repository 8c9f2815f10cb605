"""SHACL validation of the exported graph, each result traced back to a source file and key.

`validate(data_graph, shapes_graph)` runs an engine (pySHACL by default, no inference, no
owl:imports) and reads the standard SHACL report graph it returns, so another engine that
produces a report graph can be swapped in and compared. Each result is then located:

- the curation it is about: the focus node itself, the curation that owns it (its
  `…/source` article, `…/featured-image`, ...), or, for a shared node (a topic, scheme, brand,
  community, person, class), every curation that refers to it;
- the source file of each such curation: from the quads when they are known (the curation node
  sits in the named graph whose `kg:sourcePath` is recorded), else from the IRI scheme (the graph
  of curation `{base}curation/X` is `{base}graph/curation/X`, see `kg.map.curation.IriScheme.graph`);
- the front-matter key, from the predicate and the kind of node (`schema:name` on a curation is
  `title`, on a brand `link.brand`, `schema:width` on a featured image `featuredImage.size`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from kg.map.curation import IriScheme
from kg.rdf.vocab import KG, PREFIXES, RDF, RDFS, SCHEMA, SKOS
from kg.resources import resource_dir
from kg.shacl.engine import Engine, ValidationError, quiet_literals
from kg.shacl.reference import QueryCachingGraph, pyshacl_engine

Severity = Literal["Violation", "Warning", "Info"]
#: Severities from the most to the least serious; `--fail-on X` fails on X and everything above.
SEVERITIES: tuple[Severity, ...] = ("Violation", "Warning", "Info")
SHAPES_NS = "https://w3id.org/medigy/kg/shapes#"



@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One result: what is wrong, where in the graph, and where in the sources."""

    focus_node: str
    path: str | None
    value: str | None
    severity: Severity
    message: str
    source_shape: str | None
    constraint_component: str | None
    source_files: tuple[str, ...] = ()
    key: str | None = None

    @property
    def source_file(self) -> str | None:
        return self.source_files[0] if self.source_files else None

    def engine_key(self) -> tuple[str, str | None, str | None]:
        """(focus node, path, constraint component): what two engines must agree on."""
        return (self.focus_node, self.path, self.constraint_component)


@dataclass(slots=True)
class ValidationReport:
    """The results of one validation, plus what is needed to write every report format."""

    results: list[ValidationResult]
    report_graph: Graph
    files: list[str] = field(default_factory=list)  # every source file seen (JUnit test cases)
    reference_shapes: list[str] = field(default_factory=list)  # evaluated by pySHACL, not the fast engine
    triples: int = 0
    curations: int = 0
    seconds: float = 0.0

    def count(self, severity: Severity) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def failing(self, fail_on: Severity = "Violation") -> list[ValidationResult]:
        """Results at or above the threshold."""
        allowed = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        return [r for r in self.results if r.severity in allowed]

    def conforms(self, fail_on: Severity = "Violation") -> bool:
        return not self.failing(fail_on)


def severity_named(name: str) -> Severity:
    """`violation`, `warning` or `info` (any case) as a Severity."""
    for s in SEVERITIES:
        if s.lower() == name.lower():
            return s
    raise ValueError(f"unknown severity {name!r}; choose from violation, warning, info")



def validate(
    data_graph: Graph,
    shapes_graph: Graph,
    *,
    engine: Engine = pyshacl_engine,
    curation_graphs: Mapping[str, Iterable[str]] | None = None,
) -> ValidationReport:
    """Validate `data_graph` against `shapes_graph`; every result located in the sources.

    `curation_graphs` (curation IRI -> named graph IRIs) is the provenance the quads give; without
    it the IRI scheme is used (see the module docstring).
    """
    started = time.perf_counter()
    if not isinstance(data_graph, QueryCachingGraph):
        cached = QueryCachingGraph()
        cached += data_graph
        data_graph = cached
    with quiet_literals():
        report_graph = engine(data_graph, shapes_graph)
    provenance = Provenance.from_graph(data_graph, curation_graphs)
    results = [provenance.locate(r, data_graph) for r in read_report(report_graph)]
    results.sort(key=_order)
    return ValidationReport(
        results,
        report_graph,
        reference_shapes=list(getattr(report_graph, "reference_shapes", [])),
        files=provenance.files(),
        triples=len(data_graph),
        curations=len(provenance.curations),
        seconds=time.perf_counter() - started,
    )


def _order(r: ValidationResult) -> tuple[Any, ...]:
    return (
        r.source_files,
        SEVERITIES.index(r.severity),
        r.focus_node,
        r.path or "",
        r.source_shape or "",
        r.value or "",
    )


def read_report(report_graph: Graph) -> list[ValidationResult]:
    """The results of a standard SHACL report graph (any engine), not yet located.

    Only the report's own results (`sh:result`): the nested ones under `sh:detail` explain a
    result, they are not results of their own.
    """
    out = []
    g = report_graph
    nodes = [r for root in g.subjects(RDF.type, SH.ValidationReport) for r in g.objects(root, SH.result)]
    for node in sorted(set(nodes), key=str):
        severity = g.value(node, SH.resultSeverity)
        messages = sorted(str(m) for m in g.objects(node, SH.resultMessage))
        out.append(
            ValidationResult(
                focus_node=_term_text(g.value(node, SH.focusNode)) or "",
                path=_path_text(g, g.value(node, SH.resultPath)),
                value=_term_text(g.value(node, SH.value)),
                severity=_severity(severity),
                message=messages[0] if messages else "",
                source_shape=_term_text(g.value(node, SH.sourceShape)),
                constraint_component=_term_text(g.value(node, SH.sourceConstraintComponent)),
            )
        )
    return out


def _severity(node: Node | None) -> Severity:
    if node == SH.Warning:
        return "Warning"
    if node == SH.Info:
        return "Info"
    return "Violation"  # sh:Violation, and any custom severity is taken as the most serious


def _term_text(node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, BNode):
        return f"_:{node}"
    return str(node)


def _path_text(g: Graph, node: Node | None) -> str | None:
    """A predicate path as its IRI; a complex path in SPARQL property-path syntax."""
    if node is None:
        return None
    if isinstance(node, URIRef):
        return str(node)
    return _sparql_path(g, node)


def _sparql_path(g: Graph, node: Node) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if (node, RDF.first, None) in g:
        return "(" + " / ".join(_sparql_path(g, item) for item in Collection(g, node)) + ")"
    for prop, template in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        inner = g.value(node, prop)
        if inner is not None:
            return template.format(_sparql_path(g, inner))
    alternatives = g.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + " | ".join(_sparql_path(g, item) for item in Collection(g, alternatives)) + ")"
    return _term_text(node) or ""


# ---------------------------------------------------------------------------------------------
# Provenance: results back to source files and front-matter keys
# ---------------------------------------------------------------------------------------------

_A = RDF.type
_CURATION = URIRef(str(KG.Curation))
_SOURCE_PATH = URIRef(str(KG.sourcePath))

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


# ---------------------------------------------------------------------------------------------
# Inputs: RDF files and curation sources
# ---------------------------------------------------------------------------------------------


def validate_inputs(
    paths: list[Path],
    shapes_graph: Graph,
    *,
    iris: IriScheme | None = None,
    engine: Engine = pyshacl_engine,
) -> ValidationReport:
    """Validate RDF files and curation sources together (`kg validate DATA...`).

    Sources are exported in memory first; a file the exporter could not export at all is a
    Violation of its own (SHACL never sees it), and a per-field problem a Warning, both with
    the file and the key, so the report is complete for CI.
    """
    from kg.read.rdf import InputError, read_inputs

    iris = iris or IriScheme()
    try:
        data = read_inputs(paths, iris)
        graph = QueryCachingGraph.from_ntriples(data.ntriples)
    except InputError as exc:
        raise ValidationError(str(exc)) from None
    report = validate(graph, shapes_graph, engine=engine, curation_graphs=data.curation_graphs)
    extra = export_results(data.export_rows, iris)
    if extra:
        report.results = sorted(extra + report.results, key=_order)
    report.files = sorted(set(report.files) | {str(row["path"]) for row in data.export_rows})
    return report


def export_results(rows: list[dict[str, Any]], iris: IriScheme) -> list[ValidationResult]:
    """The exporter's findings (report.json rows) as results: failed files, field problems."""
    out = []
    for row in rows:
        path = str(row["path"])
        problems: list[dict[str, Any]] = list(row.get("problems") or [])
        focus = iris.source_file(path)
        if row["status"] == "failed":
            fields = [str(p["field"]) for p in problems if p.get("field")]
            out.append(
                ValidationResult(
                    focus_node=focus,
                    path=None,
                    value=None,
                    severity="Violation",
                    message=f"the file could not be exported: {row['reason']}",
                    source_shape=None,
                    constraint_component=None,
                    source_files=(path,),
                    key=fields[0] if fields else None,
                )
            )
            continue
        for p in problems:
            out.append(
                ValidationResult(
                    focus_node=focus,
                    path=None,
                    value=None if p.get("value") is None else str(p["value"]),
                    severity="Violation" if p.get("severity") == "error" else "Warning",
                    message=str(p["message"]),
                    source_shape=None,
                    constraint_component=None,
                    source_files=(path,),
                    key=None if p.get("field") is None else str(p["field"]),
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------


def shape_files(location: Path | None = None) -> list[Path]:
    """The RDF files of a shapes folder (sorted), or the one file given."""
    from kg.read.rdf import RDF_EXTENSIONS

    location = location or resource_dir("shapes")
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise ValidationError(f"{location}: no such shapes file or folder")
    files = sorted(p for p in location.iterdir() if p.is_file() and p.suffix.lower() in RDF_EXTENSIONS)
    if not files:
        raise ValidationError(f"{location}: no shapes files ({', '.join(RDF_EXTENSIONS)})")
    return files


def load_shapes(location: Path | None = None) -> Graph:
    """The shapes graph from a folder of RDF files (default: the packaged `shapes/`)."""
    from kg.read.rdf import InputError, read_rdf

    try:
        loaded = read_rdf(shape_files(location))
    except InputError as exc:
        raise ValidationError(f"shapes: {exc}") from None
    graph = Graph()
    graph.parse(data=loaded.ntriples, format="nt")
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    graph.bind("kgsh", SHAPES_NS)
    return graph


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
                severity=_severity(URIRef(r.severity)),
                message=r.message or "",
                source_shape=r.shape,
                constraint_component=r.component,
                source_files=files,
                key=SHAPE_KEYS.get(r.shape) or CURATION_KEYS.get(r.path or ""),
            )
        )
    all_files = sorted({p for paths in graph_files.values() for p in paths})
    return ValidationReport(
        sorted(located, key=_order), Graph(), files=all_files, triples=triples, curations=len(graph_files)
    )
