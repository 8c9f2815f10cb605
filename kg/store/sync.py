"""Sync a store with an export folder: send only the graphs that changed since the last sync.

`kg load OUTPUT_DIR` (a folder written by `kg export`, holding `.kg-manifest.json`) makes the
store's curation graphs equal to that export's: every graph whose content differs from what
the store holds is replaced, every curation graph the store holds that the export does not
is dropped, and the rest is not sent at all. The result equals a fresh load of a full
export, whatever happened in between (exports skipped, several edits, files removed and
re-added, a sync that failed midway or was killed, a sync state lost or put back).

The store remembers what it holds in a sync state of its own, two graphs under
`{base}graph/` (their form, and when the state is trusted: `kg.store.syncstate`).

The state is verified before it is trusted. A sync lists the curation graphs the store
actually holds (`IriScheme.curation_graph_prefixes`: `{base}graph/curation/...` and `.../work-package/...`;
the embedded store's named graphs, or a SPARQL `SELECT DISTINCT ?g` on a remote store's
query endpoint), then compares the export with that list, using a digest only for a graph
the store holds: a graph the store holds and the export does not is dropped, whatever the
state says; a graph the export holds is sent when the store lacks it, or when its digest is
unknown, pending or different. A state that is damaged (a triple kg does not write: wrong
types, garbage literals) or does not match the check graph (lost, replaced by an older
copy, half-written) is not trusted: kg warns, and treats the store as one with no state
(every graph of the export is sent, the rest dropped). A store with no state (never synced)
is treated the same way. Graphs outside those prefixes (plain loads of RDF files,
`{base}graph/file/...`, anyone else's) are never dropped.

Crash safety. The state never claims content the store may not have: before anything is
written, every graph about to be replaced or dropped is marked "pending" in the state; a
graph's digest is recorded only after it was written, in the state written at the end (or,
best effort, when a sync fails midway). An interrupted sync (store down, HTTP 500 after the
retries, kill -9) leaves pending marks, and the next sync sends those graphs again; a graph
already dropped counts as dropped. Every write replaces or drops a whole graph, so sending
one twice is harmless. A plain `kg load` of files marks the graphs it writes as pending in
the same way, so a later sync does not trust digests of content it did not write.

In the embedded store, graphs it does not hold yet are bulk-loaded, `BULK_BATCH` at a time
(a first sync several times faster than graph by graph); a bulk load is not one transaction,
so a crash during one can leave some of those graphs partly written, still marked pending:
the next sync replaces them whole.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyoxigraph

from kg.map.curation import IriScheme
from kg.pipeline.incremental import MANIFEST_NAME, Manifest, ManifestError
from kg.store import load as plain
from kg.store.http import Endpoint, RemoteError
from kg.store.load import WRITE_ERRORS, LoadError, replace_graph
from kg.store.remote_graphs import list_graphs, query_url_for
from kg.store.syncstate import PENDING, GraphStore, State, owned_graphs, read_state, write_state

#: Graphs per bulk load when the embedded store lacks them.
BULK_BATCH = 1000
log = logging.getLogger("kg.store.sync")
#: One write of a sync: ("drop" | "put" | "new", graph IRI); "new" graphs are bulk-loaded.
Write = tuple[str, str]


def is_export_folder(path: Path) -> bool:
    """A folder `kg export` wrote: it holds a manifest (of any kind: a FIFO or a folder in its
    place is then refused by the manifest reader, naming it, rather than the folder being
    loaded as sources)."""
    return path.is_dir() and os.path.lexists(path / MANIFEST_NAME)


class Target(GraphStore, Protocol):
    """A store a sync writes to: whole graphs replaced or dropped, one graph read back, and
    the names of the graphs it holds."""

    where: str

    def graphs(self, prefix: str) -> set[str]:
        """The named graphs the store holds whose IRI starts with `prefix`."""

    def drop(self, graph: str) -> None:
        """Drop `graph`; a graph that is not there counts as dropped."""


class EmbeddedTarget:
    """The embedded store (`kg load --store`): a graph is replaced by `kg.store.load.replace_graph`
    (remove, then load: a crash in between leaves it absent and pending), dropped in one update."""

    def __init__(self, store: pyoxigraph.Store, where: str) -> None:
        self.store = store
        self.where = where

    def read(self, graph: str) -> list[pyoxigraph.Triple] | None:
        name = pyoxigraph.NamedNode(graph)
        if not self.store.contains_named_graph(name):
            return None
        return [q.triple for q in self.store.quads_for_pattern(None, None, None, name)]

    def graphs(self, prefix: str) -> set[str]:
        return {
            g.value
            for g in self.store.named_graphs()
            if isinstance(g, pyoxigraph.NamedNode) and g.value.startswith(prefix)
        }

    def put(self, graph: str, ntriples: bytes) -> None:
        replace_graph(self.store, graph, ntriples.decode("utf-8"))

    def add_new(self, nquads: bytes) -> None:
        """Add graphs the store lacks, in one bulk load (not transactional: see `sync`)."""
        self.store.bulk_load(nquads, format=pyoxigraph.RdfFormat.N_QUADS)

    def drop(self, graph: str) -> None:
        self.store.update(f"DROP SILENT GRAPH {pyoxigraph.NamedNode(graph)}")

    def close(self) -> None:
        """Flush and let go of the store, releasing its lock for the next command in this process."""
        self.store.flush()
        del self.store


class RemoteTarget:
    """A Graph Store Protocol endpoint: GET, PUT and DELETE of one graph per request; the
    graphs it holds are listed through its SPARQL query endpoint (`query`, by default
    `query_url_for` the store's URL, with the same credentials and limits)."""

    def __init__(self, endpoint: Endpoint, query: Endpoint | None = None) -> None:
        self.endpoint = endpoint
        self.query = query
        self.where = endpoint.display_url

    def read(self, graph: str) -> list[pyoxigraph.Triple] | None:
        got = self.endpoint.get_graph(graph)
        if got is None:
            return None
        content_type, body = got
        fmt = (
            pyoxigraph.RdfFormat.from_media_type(content_type.split(";")[0].strip()) if content_type else None
        )
        try:  # N-Triples is Turtle: Turtle reads what a server sends without a usable media type
            items = pyoxigraph.parse(body, format=fmt or pyoxigraph.RdfFormat.TURTLE)
            return [i.triple if isinstance(i, pyoxigraph.Quad) else i for i in items]
        except SyntaxError as exc:
            raise RemoteError(f"GET {self.where} (graph {graph}): unreadable answer: {exc}") from None

    def graphs(self, prefix: str) -> set[str]:
        """The graph names, by SPARQL on the query endpoint (`kg.store.remote_graphs`)."""
        if self.query is None:
            e = self.endpoint
            self.query = Endpoint(
                query_url_for(e.url),
                user=e.user,
                password=e.password,
                timeout=e.timeout,
                retries=e.retries,
                backoff=e.backoff,
            )
        return list_graphs(self.query, prefix)

    def put(self, graph: str, ntriples: bytes) -> None:
        self.endpoint.put_graph(graph, ntriples)

    def drop(self, graph: str) -> None:
        self.endpoint.delete_graph(graph)

    def close(self) -> None:
        self.endpoint.close()
        if self.query is not None:
            self.query.close()


@dataclass(slots=True)
class Plan:
    """What a sync sends: graphs to replace (added, changed, unknown) and graphs to drop."""

    export: str
    added: list[str]  # the store does not hold them
    changed: list[str]  # held, with another digest in the state, none, or pending
    dropped: list[str]  # held, and not in the export
    unchanged: int
    had_state: bool  # a trusted sync state was found
    distrusted: str | None = None  # why a state found in the store was not trusted

    @property
    def replaced(self) -> list[str]:
        return sorted(self.added + self.changed)

    def summary(self) -> str:
        return (
            f"{len(self.added) + len(self.changed)} graphs replaced ({len(self.added)} added, "
            f"{len(self.changed)} changed), {len(self.dropped)} dropped, {self.unchanged} unchanged"
        )


def plan(manifest: Manifest, state: State | None, held: set[str], full: bool = False) -> Plan:
    """The writes that make a store equal to a fresh load of `manifest`'s export.

    `held` lists the curation graphs the store holds (`Target.graphs`), `state` is its trusted
    sync state or None: a digest counts only for a graph the store holds.
    """
    wanted = manifest.graphs
    digests = state.digests if state is not None else {}
    added = sorted(g for g in wanted if g not in held)
    changed = sorted(g for g, d in wanted.items() if g in held and (full or digests.get(g) != d))
    dropped = sorted(g for g in held if g not in wanted)
    unchanged = len(wanted) - len(added) - len(changed)
    return Plan(manifest.export, added, changed, dropped, unchanged, had_state=state is not None)


class SyncError(LoadError):
    """A sync stopped midway; `written`/`not_written` list the graph writes done and not done."""

    rerun = (
        "Those are marked pending in the store's sync state: running the same kg load again "
        "completes the sync."
    )


@dataclass(slots=True)
class SyncResult:
    plan: Plan
    triples: int
    seconds: float


def sync(
    target: Target,
    manifest: Manifest,
    full: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SyncResult:
    """Make `target`'s curation graphs equal to the export `manifest` describes (module docstring)."""
    started = time.perf_counter()
    iris = _iri_scheme(manifest)
    state, distrusted = read_state(target, iris)
    if distrusted is not None:
        log.warning("%s: %s; every graph of the export is sent again", target.where, distrusted)
    owned = owned_graphs(iris)
    held = {g for g in target.graphs(iris.graph_namespace()) if g.startswith(owned)}
    todo = plan(manifest, state, held, full)
    todo.distrusted = distrusted
    if dry_run:
        return SyncResult(todo, 0, time.perf_counter() - started)
    current = State(
        state.export if state else None,
        {g: d for g, d in state.digests.items() if g in held} if state else {},
    )
    writes = _writes(todo, target)
    _mark_pending(target, iris, current, writes)
    triples = _write_all(target, manifest, iris, current, writes, progress)
    final = State(manifest.export, dict(manifest.graphs))
    if final != state:
        try:
            write_state(target, iris, final)
        except WRITE_ERRORS as exc:
            raise SyncError(
                f"sync state {iris.sync_state_graph()}: every graph was written, but the state "
                f"could not be: {exc}",
                [g for _, g in writes],
                [],
            ) from None
    return SyncResult(todo, triples, time.perf_counter() - started)


def _iri_scheme(manifest: Manifest) -> IriScheme:
    """The IRI scheme of the export `manifest` describes; `ManifestError` if it cannot be synced."""
    base = manifest.base_iri
    if base is None:
        raise ManifestError(f"{manifest.out_dir}: the manifest does not record the base IRI")
    if not manifest.current():
        raise ManifestError(
            f"{manifest.out_dir}: the outputs are not the ones the manifest describes "
            "(changed by hand, or an export is running); run kg export again"
        )
    return IriScheme(base)


def _writes(todo: Plan, target: Target) -> list[Write]:
    """The writes of a plan, in order: drops, replacements, then graphs to bulk-load.

    Graphs the embedded store lacks are bulk-loaded in batches (a first sync several times
    faster); the rest are replaced one by one. Either way a graph stays pending until written.
    """
    new = set(todo.added) if isinstance(target, EmbeddedTarget) else set()
    return (
        [("drop", g) for g in todo.dropped]
        + [("put", g) for g in todo.replaced if g not in new]
        + [("new", g) for g in todo.replaced if g in new]
    )


def _mark_pending(target: Target, iris: IriScheme, current: State, writes: list[Write]) -> None:
    """Before anything is written, mark every graph about to be written pending in the state."""
    if not writes:
        return
    for _, graph in writes:
        current.digests[graph] = PENDING
    try:
        write_state(target, iris, current)
    except WRITE_ERRORS as exc:
        raise SyncError(f"sync state {iris.sync_state_graph()}: {exc}", [], [g for _, g in writes]) from None


def _write_all(
    target: Target,
    manifest: Manifest,
    iris: IriScheme,
    current: State,
    writes: list[Write],
    progress: Callable[[int, int], None] | None,
) -> int:
    """Do the writes, recording each graph's digest in `current` once written; the triples sent.

    On a failure, what was written is recorded (best effort) and `SyncError` says what was not.
    """
    triples = 0
    with manifest.open_nquads() as nquads:
        done = 0
        while done < len(writes):
            op, graph = writes[done]
            step = writes[done : done + BULK_BATCH] if op == "new" else [writes[done]]
            try:
                triples += _write(target, manifest, current, step, nquads)
            except WRITE_ERRORS as exc:
                _record_best_effort(target, iris, current)
                raise SyncError(
                    f"graph {graph}: {exc}", [g for _, g in writes[:done]], [g for _, g in writes[done:]]
                ) from None
            done += len(step)
            if progress is not None:
                progress(done, len(writes))
    return triples


def _write(
    target: Target, manifest: Manifest, current: State, step: list[Write], nquads: Callable[[str], bytes]
) -> int:
    """One write (a drop, a replacement, or a batch of "new" graphs bulk-loaded); triples sent."""
    op, graph = step[0]
    if op == "drop":
        target.drop(graph)
        del current.digests[graph]
        return 0
    if op == "put":
        data = _ntriples(nquads(graph))
        target.put(graph, data)
        current.digests[graph] = manifest.graphs[graph]
        return data.count(b"\n")
    assert isinstance(target, EmbeddedTarget)  # only an embedded store gets "new" writes
    data = b"".join(nquads(g) for _, g in step)
    target.add_new(data)
    current.digests.update((g, manifest.graphs[g]) for _, g in step)
    return data.count(b"\n")


def forget(target: Target, base_iri: str, graphs: Iterable[str]) -> int:
    """Mark `graphs` pending in the store's sync state (before a plain load writes them).

    Returns how many were marked. Without a trusted sync state there is nothing to mark: the
    next sync sends every graph anyway.
    """
    iris = IriScheme(base_iri)
    state, _ = read_state(target, iris)
    if state is None:
        return 0
    marked = [g for g in graphs if state.digests.get(g, PENDING) != PENDING]  # (only synced graphs have one)
    if marked:
        state.digests.update(dict.fromkeys(marked, PENDING))
        write_state(target, iris, state)
    return len(marked)


def load(
    target: EmbeddedTarget | RemoteTarget, base_iri: str, data: plain.Collected,
    progress: plain.Progress | None = None,
) -> plain.LoadResult:
    """A plain load (`kg load DATA`): mark the graphs pending in the store's sync state, so a
    later sync does not trust a digest of other content, then replace each one (`progress`)."""
    forget(target, base_iri, data.graphs)
    if isinstance(target, RemoteTarget):
        return plain.load_endpoint(target.endpoint, data, progress)
    return plain.load_store(target.store, data, progress)


def _record_best_effort(target: Target, iris: IriScheme, state: State) -> None:
    """Record what a failed sync did write; if the store cannot take it, the pending marks stay."""
    with contextlib.suppress(*WRITE_ERRORS):
        write_state(target, iris, state)


def _ntriples(nquads: bytes) -> bytes:
    """One graph's N-Quads block as N-Triples (parsed, so any line kg writes is read right)."""
    return "".join(
        f"{q.triple} .\n" for q in pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS)
    ).encode("utf-8")
