"""Sync a store with an export folder: send only the graphs that changed since the last sync.

`kg load OUTPUT_DIR` (a folder written by `kg export`, holding `.kg-manifest.json`) makes the
store's curation graphs equal to that export's: every graph whose content differs from what
the store holds is replaced, every curation graph the store got from an earlier sync that
the export no longer has is dropped, and the rest is not sent at all. The result equals a
fresh load of a full export, whatever happened in between (exports skipped, several edits,
files removed and re-added, a sync that failed midway).

The store remembers what it holds in one graph of its own, `{base}graph/kg-sync`:

    <{base}graph/kg-sync> a kg:SyncState ; kg:syncedExport "<export id>" .
    <graph IRI> kg:graphDigest "<sha256 of the graph as exported>" .   # one per graph

A sync compares these digests with the manifest's (`Manifest.graphs`): a graph is replaced
when its digest differs or is unknown, dropped when the state lists it and the export does
not. A store with no state (never synced) gets every graph of the export, and the graphs
the manifest records as removed since the previous export are dropped.

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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyoxigraph

from kg.incremental import MANIFEST_NAME, Manifest, ManifestError
from kg.remote import Endpoint, RemoteError
from kg.store import WRITE_ERRORS, LoadError, replace_graph
from kg.vocab import KG

#: The digest recorded for a graph while a write of it may be incomplete.
PENDING = "pending"
#: Graphs per bulk load when the embedded store lacks them.
BULK_BATCH = 1000
_RDF_TYPE = pyoxigraph.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SYNC_STATE = pyoxigraph.NamedNode(str(KG.SyncState))
_SYNCED_EXPORT = pyoxigraph.NamedNode(str(KG.syncedExport))
_GRAPH_DIGEST = pyoxigraph.NamedNode(str(KG.graphDigest))


def state_graph(base_iri: str) -> str:
    """The graph in which a store keeps its sync state for exports minted under `base_iri`."""
    return f"{base_iri}graph/kg-sync"


def is_export_folder(path: Path) -> bool:
    """A folder `kg export` wrote: it holds a manifest."""
    return path.is_dir() and (path / MANIFEST_NAME).is_file()


@dataclass(slots=True)
class State:
    """What a store holds according to its sync state: the export id and each graph's digest."""

    export: str | None = None
    digests: dict[str, str] = field(default_factory=dict)

    def ntriples(self, graph: str) -> bytes:
        """The state as the N-Triples of its graph (sorted: the same state, the same bytes)."""
        me = pyoxigraph.NamedNode(graph)
        lines = [f"{me} {_RDF_TYPE} {_SYNC_STATE} .\n"]
        if self.export is not None:
            lines.append(f"{me} {_SYNCED_EXPORT} {pyoxigraph.Literal(self.export)} .\n")
        lines += [
            f"{pyoxigraph.NamedNode(g)} {_GRAPH_DIGEST} {pyoxigraph.Literal(d)} .\n"
            for g, d in sorted(self.digests.items())
        ]
        return "".join(lines).encode("utf-8")

    @classmethod
    def from_triples(cls, triples: Iterable[pyoxigraph.Triple]) -> State:
        state = cls()
        for t in triples:
            if not isinstance(t.object, pyoxigraph.Literal):
                continue
            if t.predicate == _GRAPH_DIGEST and isinstance(t.subject, pyoxigraph.NamedNode):
                state.digests[t.subject.value] = t.object.value
            elif t.predicate == _SYNCED_EXPORT:
                state.export = t.object.value
        return state


class Target(Protocol):
    """A store a sync writes to: whole graphs replaced or dropped, and one graph read back."""

    where: str

    def read(self, graph: str) -> list[pyoxigraph.Triple] | None:
        """The triples of `graph`, or None when the store has no such graph."""

    def put(self, graph: str, ntriples: bytes) -> None:
        """Replace `graph` with these triples."""

    def drop(self, graph: str) -> None:
        """Drop `graph`; a graph that is not there counts as dropped."""


class EmbeddedTarget:
    """The embedded store (`kg load --store`): a graph is replaced by `kg.store.replace_graph`
    (remove, then load: a crash in between leaves it absent and pending), dropped in one update."""

    def __init__(self, store: pyoxigraph.Store, where: str) -> None:
        self.store = store
        self.where = where

    def read(self, graph: str) -> list[pyoxigraph.Triple] | None:
        name = pyoxigraph.NamedNode(graph)
        if not self.store.contains_named_graph(name):
            return None
        return [q.triple for q in self.store.quads_for_pattern(None, None, None, name)]

    def put(self, graph: str, ntriples: bytes) -> None:
        replace_graph(self.store, graph, ntriples.decode("utf-8"))

    def lacks(self, graph: str) -> bool:
        return not self.store.contains_named_graph(pyoxigraph.NamedNode(graph))

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
    """A Graph Store Protocol endpoint: GET, PUT and DELETE of one graph per request."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
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

    def put(self, graph: str, ntriples: bytes) -> None:
        self.endpoint.put_graph(graph, ntriples)

    def drop(self, graph: str) -> None:
        self.endpoint.delete_graph(graph)

    def close(self) -> None:
        self.endpoint.close()


def read_state(target: Target, graph: str) -> State | None:
    triples = target.read(graph)
    return None if triples is None else State.from_triples(triples)


@dataclass(slots=True)
class Plan:
    """What a sync sends: graphs to replace (added, changed, unknown) and graphs to drop."""

    export: str
    added: list[str]
    changed: list[str]  # in the state with another digest, or pending
    dropped: list[str]
    unchanged: int
    had_state: bool

    @property
    def replaced(self) -> list[str]:
        return sorted(self.added + self.changed)

    def summary(self) -> str:
        return (
            f"{len(self.added) + len(self.changed)} graphs replaced ({len(self.added)} added, "
            f"{len(self.changed)} changed), {len(self.dropped)} dropped, {self.unchanged} unchanged"
        )


def plan(manifest: Manifest, state: State | None, full: bool = False) -> Plan:
    """The writes that make a store in `state` equal to a fresh load of `manifest`'s export."""
    wanted = manifest.graphs
    if state is None:  # never synced: send everything; drop what the export itself removed
        dropped = sorted(g for g in manifest.changes.get("removed", []) if g not in wanted)
        return Plan(manifest.export, sorted(wanted), [], dropped, 0, had_state=False)
    held = state.digests
    added = sorted(g for g in wanted if g not in held)
    changed = sorted(g for g, d in wanted.items() if g in held and (full or held[g] != d))
    dropped = sorted(g for g in held if g not in wanted)
    unchanged = len(wanted) - len(added) - len(changed)
    return Plan(manifest.export, added, changed, dropped, unchanged, had_state=True)


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
    if manifest.base_iri is None:
        raise ManifestError(f"{manifest.out_dir}: the manifest does not record the base IRI")
    if not manifest.current():
        raise ManifestError(
            f"{manifest.out_dir}: the outputs are not the ones the manifest describes "
            "(changed by hand, or an export is running); run kg export again"
        )
    me = state_graph(manifest.base_iri)
    state = read_state(target, me)
    todo = plan(manifest, state, full)
    if dry_run:
        return SyncResult(todo, 0, time.perf_counter() - started)
    current = State(state.export if state else None, dict(state.digests) if state else {})
    # Graphs the embedded store lacks are bulk-loaded in batches (a first sync several times
    # faster); the rest are replaced one by one. Either way a graph stays pending until written.
    embedded = target if isinstance(target, EmbeddedTarget) else None
    new = {g for g in todo.replaced if embedded is not None and embedded.lacks(g)}
    writes = (
        [("drop", g) for g in todo.dropped]
        + [("put", g) for g in todo.replaced if g not in new]
        + [("new", g) for g in todo.replaced if g in new]
    )
    if writes:
        for _, graph in writes:
            current.digests[graph] = PENDING
        try:
            target.put(me, current.ntriples(me))
        except WRITE_ERRORS as exc:
            raise SyncError(f"sync state {me}: {exc}", [], [g for _, g in writes]) from None
    triples = 0
    with manifest.open_nquads() as nquads:
        done = 0
        while done < len(writes):
            op, graph = writes[done]
            step = writes[done : done + BULK_BATCH] if op == "new" else [writes[done]]
            try:
                if op == "drop":
                    target.drop(graph)
                    del current.digests[graph]
                elif op == "put":
                    data = _ntriples(nquads(graph))
                    target.put(graph, data)
                    triples += data.count(b"\n")
                    current.digests[graph] = manifest.graphs[graph]
                else:
                    assert embedded is not None  # only an embedded store gets "new" writes
                    data = b"".join(nquads(g) for _, g in step)
                    embedded.add_new(data)
                    triples += data.count(b"\n")
                    current.digests.update((g, manifest.graphs[g]) for _, g in step)
            except WRITE_ERRORS as exc:
                _record_best_effort(target, me, current)
                raise SyncError(
                    f"graph {graph}: {exc}", [g for _, g in writes[:done]], [g for _, g in writes[done:]]
                ) from None
            done += len(step)
            if progress is not None:
                progress(done, len(writes))
    current.export = manifest.export
    current.digests = dict(manifest.graphs)
    if writes or state is None or state.export != manifest.export:
        try:
            target.put(me, current.ntriples(me))
        except WRITE_ERRORS as exc:
            raise SyncError(
                f"sync state {me}: every graph was written, but the state could not be: {exc}",
                [g for _, g in writes],
                [],
            ) from None
    return SyncResult(todo, triples, time.perf_counter() - started)


def forget(target: Target, base_iri: str, graphs: Iterable[str]) -> int:
    """Mark `graphs` pending in the store's sync state (before a plain load writes them).

    Returns how many were marked. Without a sync state there is nothing to mark.
    """
    me = state_graph(base_iri)
    state = read_state(target, me)
    if state is None:
        return 0
    marked = [g for g in graphs if state.digests.get(g, PENDING) != PENDING]
    if marked:
        for graph in marked:
            state.digests[graph] = PENDING
        target.put(me, state.ntriples(me))
    return len(marked)


def _record_best_effort(target: Target, graph: str, state: State) -> None:
    """Record what a failed sync did write; if the store cannot take it, the pending marks stay."""
    with contextlib.suppress(*WRITE_ERRORS):
        target.put(graph, state.ntriples(graph))


def _ntriples(nquads: bytes) -> bytes:
    """One graph's N-Quads block as N-Triples (parsed, so any line kg writes is read right)."""
    return "".join(
        f"{q.triple} .\n" for q in pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS)
    ).encode("utf-8")
