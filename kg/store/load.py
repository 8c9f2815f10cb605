"""Load curation graphs into a store: the embedded on-disk Oxigraph store, or a remote one
through the SPARQL 1.1 Graph Store HTTP Protocol.

Loading is idempotent: every graph is *replaced*, never appended to. A curation lives in its
own named graph and each shared node it links to in one of its own (see docs/graph-model.md,
"Named graphs"), so loading the same data twice leaves the store as one load does, and loading
a changed curation leaves only its new values. Sources loaded this way describe the shared
nodes they use from themselves, less what a taxonomy graph loaded in the same call states
(`kg load SOURCES --taxonomy FILE`, or `kg load SOURCES TAXONOMY.nq`, loads what `kg export
SOURCES --taxonomy FILE` writes); a node no
curation uses any more keeps its graph until the store is synced with an export
(`kg load OUTPUT_DIR`, `kg.store.sync`), which drops it. In the embedded store a graph
already present is removed then loaded again (see `load_store`), graphs not yet present are
bulk-loaded together; on a remote store each graph is one `PUT`. A failure midway raises
`LoadError` naming the graphs that were and were not written; running the same load again
completes it.

What can be loaded (`collect`):
- curation sources: `.md` files and folders (read recursively for `*.md`), exported in memory
  with `kg.pipeline.export.build`, one graph per curation;
- RDF files by extension: `.nq` and `.trig` keep their named graphs; triples of `.ttl`, `.nt`,
  `.jsonld`, `.rdf`, ... (and default-graph triples of `.nq`/`.trig`) go into a graph named
  after the file, `{base}graph/file/{file name}`, so reloading the file replaces it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from kg.errors import KgError
from kg.map.curation import IriScheme
from kg.map.nodes import NodeGraph
from kg.pipeline.export import ExportReport, build
from kg.rdf.terms import nt_line
from kg.read.rdf import RDF_EXTENSIONS
from kg.read.selection import Selection
from kg.store.http import Endpoint, RemoteError

#: Where `kg load` and `kg query` keep the embedded store unless told otherwise.
DEFAULT_STORE = Path(".kg-store")

#: Why `--taxonomy` needs curation sources: it links their topics as they are exported.
NO_SOURCES_FOR_TAXONOMY = (
    "--taxonomy links the topics of curation sources (.md files, folders) as they are exported; "
    "RDF files are loaded as they are: load a taxonomy graph by name (kg taxonomy FILE -o taxonomy.nq)"
)

#: What writing one graph can raise: the store's or server's refusal, I/O, unparsable data.
WRITE_ERRORS = (RemoteError, OSError, SyntaxError, ValueError)


class LoadError(KgError):
    """A load stopped midway: `written` graphs are in the store, `not_written` are not."""

    #: The last line of `details`: how to finish the job.
    rerun = "Loading replaces graphs, so running the same load again completes it."

    def __init__(self, cause: str, written: list[str], not_written: list[str]) -> None:
        super().__init__(cause)
        self.cause = cause
        self.written = written
        self.not_written = not_written

    def details(self, shown: int = 10) -> str:
        lines = [
            f"{len(self.written)} of {len(self.written) + len(self.not_written)} graphs written; "
            f"{len(self.not_written)} not written:"
        ]
        lines += [f"  {g}" for g in self.not_written[:shown]]
        if len(self.not_written) > shown:
            lines.append(f"  ... and {len(self.not_written) - shown} more")
        lines.append(self.rerun)
        return "\n".join(lines)


class DataError(KgError):
    """Input that cannot be loaded: unknown file type, unreadable or invalid RDF."""


@dataclass(slots=True)
class Collected:
    """Graphs to load, by graph IRI: their distinct N-Triples lines (in first-seen order)."""

    graphs: dict[str, dict[str, None]] = field(default_factory=dict)
    reports: list[ExportReport] = field(default_factory=list)

    def add(self, graph: str, line: str) -> None:
        lines = self.graphs.get(graph)
        if lines is None:
            lines = self.graphs[graph] = {}
        lines[line] = None

    @property
    def triples(self) -> int:
        return sum(len(lines) for lines in self.graphs.values())

    def failed_files(self) -> int:
        return sum(r.count("failed") for r in self.reports)

    def ntriples(self, graph: str) -> str:
        return "".join(self.graphs[graph])


def is_source(path: Path) -> bool:
    """Curation sources are folders and `.md` files; anything else is read as RDF."""
    return path.is_dir() or path.suffix.lower() == ".md"


def file_graph(path: Path, iris: IriScheme) -> str:
    """The graph that receives the triples of an RDF file that has no graph names of its own."""
    return iris.file_graph(path.name)


def _rdf_without_sources(path: Path) -> list[str]:
    """The RDF files directly in folder `path` when it holds no curation source (.md) at all."""
    if not path.is_dir() or next(path.rglob("*.md"), None) is not None:
        return []
    return sorted(p.name for p in path.iterdir() if p.suffix.lower() in RDF_EXTENSIONS)


def collect(
    paths: list[Path],
    iris: IriScheme | None = None,
    jobs: int | None = None,
    select: Selection | None = None,
    taxonomy: Path | None = None,
) -> Collected:
    """Read sources and RDF files into graphs (see the module docstring); `select` chooses
    among the source files (--include/--exclude). With a `taxonomy` (the site's JSON), the
    sources are exported with it as `kg export --taxonomy` does: topics linked to its concepts,
    its graph collected too, the node graphs without what it states. `DataError` when there are
    no sources to link, `kg.read.taxonomy.TaxonomyError` when it cannot be read."""
    iris = iris or IriScheme()
    out = Collected()
    sources = [p for p in paths if is_source(p)]
    if taxonomy is not None and not sources:
        raise DataError(NO_SOURCES_FOR_TAXONOMY)
    for folder in sources:
        rdf = _rdf_without_sources(folder)
        if rdf:  # e.g. an export folder copied without its manifest: loading it would load nothing
            named = next((n for n in rdf if n.endswith((".nq", ".trig"))), rdf[0])  # keeps the graphs
            raise DataError(
                f"{folder}: holds RDF files ({', '.join(rdf)}) but no curation source (.md) and no "
                "manifest of kg export (.kg-manifest.json), so it is neither sources nor an export "
                f"folder kg can sync; load the files by name, e.g. {folder / named}"
            )
    files = Collected()  # read first: a taxonomy among them shapes the node graphs
    for path in paths:
        if not is_source(path):
            _add_file(files, path, iris)
    if sources:
        exported = build(sources, iris, jobs=jobs, select=select, taxonomy=taxonomy)
        out.reports.append(exported.report)
        for g in exported.graphs:
            _add_quads(out, g.nquads.encode("utf-8"), pyoxigraph.RdfFormat.N_QUADS, g.graph, g.path)
        if exported.taxonomy is not None:  # its node graphs are without what it states already
            tax = exported.taxonomy
            _add_quads(
                out, tax.nquads().encode("utf-8"), pyoxigraph.RdfFormat.N_QUADS, tax.graph.graph, tax.path
            )
        stated = files.graphs.get(iris.taxonomy_graph(), {})
        for node in exported.nodes:  # described from these sources (kg.map.nodes)
            _add_node_graph(out, node, stated)
    for graph, lines in files.graphs.items():
        for line in lines:
            out.add(graph, line)
    return out


def _add_file(out: Collected, path: Path, iris: IriScheme) -> None:
    """The graphs of one RDF file (see the module docstring); `DataError` if it cannot be."""
    fmt = RDF_EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(RDF_EXTENSIONS)
        raise DataError(f"{path}: not a curation source (.md or folder) nor an RDF file ({known})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    _add_quads(out, data, fmt, file_graph(path, iris), str(path))


def _add_node_graph(out: Collected, node: NodeGraph, stated: dict[str, None]) -> None:
    """A shared node's graph less the triples a taxonomy graph loaded beside it states (its
    lines in `stated`), as `kg export --taxonomy` writes it: each fact in one graph. A node the
    taxonomy describes whole gets no graph, as in such an export."""
    node_only = Collected()
    _add_quads(node_only, node.nquads().encode("utf-8"), pyoxigraph.RdfFormat.N_QUADS, node.graph, node.graph)
    typed = nt_line(node.typed)  # (an IRI triple: the same line as pyoxigraph's)
    lines = [line for line in node_only.graphs[node.graph] if line not in stated]
    if any(line != typed for line in lines):
        for line in lines:
            out.add(node.graph, line)


def _add_quads(out: Collected, data: bytes, fmt: pyoxigraph.RdfFormat, fallback: str, origin: str) -> None:
    try:
        for item in pyoxigraph.parse(data, format=fmt):
            if isinstance(item, pyoxigraph.Quad):
                triple, name = item.triple, item.graph_name
                if isinstance(name, pyoxigraph.BlankNode):
                    raise DataError(f"{origin}: a graph named by a blank node cannot be loaded")
                graph = name.value if isinstance(name, pyoxigraph.NamedNode) else fallback
            else:
                triple, graph = item, fallback
            out.add(graph, f"{triple} .\n")
    except (SyntaxError, ValueError) as exc:
        raise DataError(f"{origin}: invalid RDF: {exc}") from None
    except MemoryError:  # one token over the parser's buffer (see kg.read.rdf.parse_rdf)
        raise DataError(
            f"{origin}: cannot be read: it holds a term larger than the RDF parser's limit "
            "(16 MiB in N-Triples, N-Quads and Turtle; 8 MiB for a JSON-LD string), or memory ran out"
        ) from None


def memory_store(
    paths: list[Path], iris: IriScheme | None = None, taxonomy: Path | None = None
) -> pyoxigraph.Store:
    """An in-memory store holding `paths` loaded as `kg load` would (for `kg query --data`)."""
    store = pyoxigraph.Store()
    load_store(store, collect(paths, iris, taxonomy=taxonomy))
    return store


def is_store_dir(path: Path) -> bool:
    """A folder holding an embedded (RocksDB) store, as `kg load --store` makes."""
    return (path / "CURRENT").is_file() and any(path.glob("MANIFEST-*"))


def open_store(location: Path, read_only: bool = False) -> pyoxigraph.Store:
    """The embedded store at `location` (created on first write)."""
    try:
        if read_only:
            if not location.is_dir():
                raise DataError(f"no store at {location}: load one with `kg load --store {location}`")
            return pyoxigraph.Store.read_only(str(location))
        location.mkdir(parents=True, exist_ok=True)
        return pyoxigraph.Store(str(location))
    except OSError as exc:
        hint = " (is another kg load writing to it?)" if "lock" in str(exc).lower() else ""
        raise DataError(f"cannot open the store at {location}: {exc}{hint}") from None


@dataclass(slots=True)
class LoadResult:
    graphs: int
    triples: int
    seconds: float


Progress = Callable[[int, int], None]


def load_store(store: pyoxigraph.Store, data: Collected, progress: Progress | None = None) -> LoadResult:
    """Replace every collected graph in an embedded store.

    A graph the store already holds is replaced by `remove_graph` then `load` of its N-Triples
    (each one transaction: a crash in between leaves the graph absent, never mixed). Graphs the
    store does not hold yet are added together by one `bulk_load` of their N-Quads, which
    skips the SPARQL parser and the per-graph transactions (a first load is several times
    faster) but is not transactional: a crash during it can leave some of those graphs
    partly written. Either way running the same load again repairs the store, because then
    every graph present is removed before being written again.
    """
    started = time.perf_counter()
    names = list(data.graphs)
    fresh = [g for g in names if not store.contains_named_graph(pyoxigraph.NamedNode(g))]
    fresh_set = set(fresh)
    existing = [g for g in names if g not in fresh_set]
    ordered = existing + fresh
    done = 0
    try:
        for graph in existing:
            replace_graph(store, graph, data.ntriples(graph))
            done += 1
            if progress is not None:
                progress(done, len(names))
        if fresh:
            store.bulk_load(_nquads(data, fresh), format=pyoxigraph.RdfFormat.N_QUADS)
            done = len(names)
            if progress is not None:
                progress(done, len(names))
        store.flush()
    except (OSError, SyntaxError, ValueError) as exc:
        graph = ordered[done] if done < len(ordered) else "(flush)"
        raise LoadError(f"graph {graph}: {exc}", ordered[:done], ordered[done:]) from None
    return LoadResult(len(names), data.triples, time.perf_counter() - started)


def _nquads(data: Collected, graphs: list[str]) -> bytes:
    """The N-Quads of `graphs`: each collected N-Triples line (`... .\n`) with the graph added."""
    out: list[str] = []
    for graph in graphs:
        suffix = f" {pyoxigraph.NamedNode(graph)} .\n"
        out.extend(line[:-3] + suffix for line in data.graphs[graph])
    return "".join(out).encode("utf-8")


def replace_graph(store: pyoxigraph.Store, graph: str, ntriples: str) -> None:
    """Replace `graph` in an embedded store with these N-Triples: `remove_graph`, then `load`.

    Two transactions, not one (a SPARQL `DROP` + `INSERT DATA` update is one, but parses every
    triple through the SPARQL parser: several times slower): a crash in between leaves the graph
    absent, never mixed, and writing it again repairs it.
    """
    name = pyoxigraph.NamedNode(graph)  # a checked IRI
    store.remove_graph(name)
    store.load(ntriples, format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=name)


def load_endpoint(endpoint: Endpoint, data: Collected, progress: Progress | None = None) -> LoadResult:
    """Replace every collected graph on a Graph Store Protocol endpoint, one PUT per graph."""
    try:
        return _load_each(data, lambda g: endpoint.put_graph(g, data.ntriples(g).encode("utf-8")), progress)
    finally:
        endpoint.close()


def _load_each(data: Collected, write: Callable[[str], None], progress: Progress | None) -> LoadResult:
    started = time.perf_counter()
    names = list(data.graphs)
    for done, graph in enumerate(names):
        try:
            write(graph)
        except WRITE_ERRORS as exc:
            raise LoadError(f"graph {graph}: {exc}", names[:done], names[done:]) from None
        if progress is not None:
            progress(done + 1, len(names))
    return LoadResult(len(names), data.triples, time.perf_counter() - started)
