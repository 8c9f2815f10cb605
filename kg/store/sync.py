"""Sync a store with an export folder: send only the graphs that changed since the last sync.

`kg load OUTPUT_DIR` (a folder written by `kg export`, holding `.kg-manifest.json`) makes the
store's curation graphs equal to that export's: every graph whose content differs from what
the store holds is replaced, every curation graph the store holds that the export does not
is dropped, and the rest is not sent at all. The result equals a fresh load of a full
export, whatever happened in between (exports skipped, several edits, files removed and
re-added, a sync that failed midway or was killed, a sync state lost or put back).

The store remembers what it holds in one graph of its own, `{base}graph/kg-sync`:

    <{base}graph/kg-sync> a kg:SyncState ; kg:syncedExport "<export id>" .
    <graph IRI> kg:graphDigest "<sha256 of the graph as exported>" .   # one per graph

and the digest of that state in a second one, `{base}graph/kg-sync-check`:

    <{base}graph/kg-sync> kg:stateDigest "<sha256 of the state graph's N-Triples>" .

The state is verified before it is trusted. A sync lists the curation graphs the store
actually holds (`synced_prefixes`: `{base}graph/curation/...` and `.../work-package/...`;
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
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph

from kg.map.curation import IriScheme
from kg.pipeline.incremental import MANIFEST_NAME, Manifest, ManifestError
from kg.rdf.vocab import KG
from kg.store.http import Endpoint, RemoteError
from kg.store.load import WRITE_ERRORS, LoadError, replace_graph

#: The digest recorded for a graph while a write of it may be incomplete.
PENDING = "pending"
#: Graphs per bulk load when the embedded store lacks them.
BULK_BATCH = 1000
#: Graph names per query when a remote store's answer listing its graphs was cut by a row
#: cap: below the caps servers apply (Virtuoso's ResultSetMaxRows: 10,000 by default).
LIST_PAGE = 5000
log = logging.getLogger("kg.store.sync")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_XSD_STRING = pyoxigraph.NamedNode("http://www.w3.org/2001/XMLSchema#string")
_STATE_DIGEST = pyoxigraph.NamedNode(str(KG.stateDigest))
_RDF_TYPE = pyoxigraph.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SYNC_STATE = pyoxigraph.NamedNode(str(KG.SyncState))
_SYNCED_EXPORT = pyoxigraph.NamedNode(str(KG.syncedExport))
_GRAPH_DIGEST = pyoxigraph.NamedNode(str(KG.graphDigest))


def state_graph(base_iri: str) -> str:
    """The graph in which a store keeps its sync state for exports minted under `base_iri`."""
    return f"{base_iri}graph/kg-sync"


def check_graph(base_iri: str) -> str:
    """The graph holding the digest of the state last written: a state graph lost, damaged or
    replaced by an older copy does not match it, and is not trusted."""
    return f"{base_iri}graph/kg-sync-check"


def graph_namespace(base_iri: str) -> str:
    """Where every graph kg names is, the sync's own included: `{base}graph/`."""
    return f"{base_iri}graph/"


def synced_prefixes(base_iri: str) -> tuple[str, ...]:
    """Where the curation graphs of exports minted under `base_iri` are (`IriScheme.graph`).

    A sync makes the store's graphs under these equal to the export's, dropping any other;
    it never drops a graph elsewhere (a plain load's `{base}graph/file/...`, anyone else's).
    """
    iris = IriScheme(base_iri)
    return tuple(iris.graph(f"{base_iri}{kind}/") for kind in ("curation", "work-package"))


def is_export_folder(path: Path) -> bool:
    """A folder `kg export` wrote: it holds a manifest (of any kind: a FIFO or a folder in its
    place is then refused by the manifest reader, naming it, rather than the folder being
    loaded as sources)."""
    return path.is_dir() and os.path.lexists(path / MANIFEST_NAME)


class DamagedState(Exception):
    """A sync state graph holding what kg does not write (the message says what)."""


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

    def digest(self, graph: str) -> str:
        """sha256 of `ntriples(graph)`: what the check graph records for this state."""
        return hashlib.sha256(self.ntriples(graph)).hexdigest()

    @classmethod
    def from_triples(cls, triples: Iterable[pyoxigraph.Triple], graph: str, owned: tuple[str, ...]) -> State:
        """The state kept in `graph`; `DamagedState` if it holds any triple kg does not write
        there (another subject or predicate, a value of the wrong type, a malformed digest, a
        digest of a graph outside `owned`, two values where kg writes one) or lacks its type."""
        state = cls()
        me = pyoxigraph.NamedNode(graph)
        typed = False
        for t in triples:
            s, p, value = t.subject, t.predicate, _string(t.object)
            if p == _RDF_TYPE and s == me and t.object == _SYNC_STATE:
                typed = True
            elif p == _SYNCED_EXPORT and s == me and value is not None and state.export is None:
                state.export = value
            elif (
                p == _GRAPH_DIGEST
                and isinstance(s, pyoxigraph.NamedNode)
                and s.value.startswith(owned)
                and s.value not in state.digests
                and value is not None
                and (value == PENDING or _DIGEST.fullmatch(value))
            ):
                state.digests[s.value] = value
            else:
                raise DamagedState(f"a triple kg does not write there: {_shorten(str(t))}")
        if not typed:
            raise DamagedState(f"it does not say {me} a {_SYNC_STATE}")
        return state


def _string(term: object) -> str | None:
    """The value of a plain string literal (as kg writes them), else None."""
    if isinstance(term, pyoxigraph.Literal) and term.datatype == _XSD_STRING and not term.language:
        return term.value
    return None


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class Target(Protocol):
    """A store a sync writes to: whole graphs replaced or dropped, one graph read back, and
    the names of the graphs it holds."""

    where: str

    def read(self, graph: str) -> list[pyoxigraph.Triple] | None:
        """The triples of `graph`, or None when the store has no such graph."""

    def graphs(self, prefix: str) -> set[str]:
        """The named graphs the store holds whose IRI starts with `prefix`."""

    def put(self, graph: str, ntriples: bytes) -> None:
        """Replace `graph` with these triples."""

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


#: Graph Store Protocol paths and the query endpoint beside them, by server:
#: Oxigraph, Virtuoso (authenticated and not), Fuseki (/DATASET/data), RDF4J and GraphDB.
QUERY_PATHS = (
    ("/store", "/query"),
    ("/sparql-graph-crud-auth", "/sparql-auth"),
    ("/sparql-graph-crud", "/sparql"),
    ("/data", "/query"),
    ("/rdf-graphs/service", ""),
)


def query_url_for(store_url: str) -> str:
    """The SPARQL query endpoint beside a Graph Store Protocol URL (`QUERY_PATHS`); the URL
    itself when its path is none of those (servers such as Fuseki answer both at one URL)."""
    parts = urlsplit(store_url)
    path = parts.path.rstrip("/")
    for gsp, query in QUERY_PATHS:
        if path.endswith(gsp):
            return urlunsplit((parts.scheme, parts.netloc, path[: -len(gsp)] + query, "", ""))
    return store_url


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
        """The graph names, by SPARQL on the query endpoint: how many there are, then all of
        them in one answer; if a server's row cap cut that answer (Virtuoso's
        ResultSetMaxRows), page by page in IRI order, `LIST_PAGE` names after the last one.

        `GRAPH ?g {}` lists a store's graphs without reading their triples (Oxigraph, Jena);
        Virtuoso answers it with nothing at all. When it finds no graph at all, the graphs are
        found by reading the triples, `GRAPH ?g { ?s ?p ?o }` (on a store without named
        graphs, that reads nothing).
        """
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
        pattern = "" if self._column("SELECT ?g WHERE { GRAPH ?g {} } LIMIT 1", "g") else "?s ?p ?o"
        where = f"GRAPH ?g {{ {pattern} }} FILTER (STRSTARTS(STR(?g), {pyoxigraph.Literal(prefix)})"
        counted = self._column(f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ {where}) }}", "n")
        total = int(counted[0]) if counted and counted[0].isdigit() else 0
        found = set(self._column(f"SELECT DISTINCT ?g WHERE {{ {where}) }}", "g"))
        after = ""
        while len(found) < total:
            text = (
                f"SELECT DISTINCT ?g WHERE {{ {where} && STR(?g) > {pyoxigraph.Literal(after)}) }} "
                f"ORDER BY STR(?g) LIMIT {LIST_PAGE}"
            )
            page = [g for g in self._column(text, "g") if g > after]
            if not page:
                break
            found.update(page)
            after = max(page)
        return found

    def _column(self, text: str, name: str) -> list[str]:
        """The values of one variable in a query's answer (IRIs and literals)."""
        assert self.query is not None
        url = self.query.display_url
        hint = "; name the store's SPARQL query endpoint with --query-endpoint"
        try:
            content_type, body = self.query.query(text)
        except RemoteError as exc:
            why = f"cannot list the store's graphs to check its sync state: {exc}"
            raise RemoteError(why + hint) from None
        media = content_type.split(";")[0].strip().lower()
        fmt = pyoxigraph.QueryResultsFormat.from_media_type(media) if media else None
        try:
            results = pyoxigraph.parse_query_results(body, format=fmt or pyoxigraph.QueryResultsFormat.JSON)
            if not isinstance(results, pyoxigraph.QuerySolutions):
                raise ValueError("not a table of results")
            values = (row[name] for row in results)
            return [v.value for v in values if isinstance(v, pyoxigraph.NamedNode | pyoxigraph.Literal)]
        except (SyntaxError, ValueError) as exc:
            raise RemoteError(f"POST {url}: listing the store's graphs: unreadable: {exc}{hint}") from None

    def put(self, graph: str, ntriples: bytes) -> None:
        self.endpoint.put_graph(graph, ntriples)

    def drop(self, graph: str) -> None:
        self.endpoint.delete_graph(graph)

    def close(self) -> None:
        self.endpoint.close()
        if self.query is not None:
            self.query.close()


def read_state(target: Target, base_iri: str) -> tuple[State | None, str | None]:
    """The store's sync state if it can be trusted, else None and (if there was one) why not.

    Trusted: the state graph holds only what kg writes there (`State.from_triples`) and its
    digest is the one recorded in the check graph, so it is the state kg wrote last, whole.
    """
    me = state_graph(base_iri)
    triples = target.read(me)
    if triples is None:
        return None, None
    try:
        state = State.from_triples(triples, me, synced_prefixes(base_iri))
    except DamagedState as exc:
        return None, f"the sync state in graph {me} is damaged ({exc}), so it is ignored"
    check = check_graph(base_iri)
    recorded = _recorded_digest(target.read(check) or [], me)
    if recorded != state.digest(me):
        return None, (
            f"the sync state in graph {me} does not match the digest in graph {check} (an older "
            "copy put back, a write of it interrupted, or written by an older kg), so it is ignored"
        )
    return state, None


def _recorded_digest(triples: list[pyoxigraph.Triple], graph: str) -> str | None:
    """The state digest the check graph records, if it holds exactly that and nothing else."""
    if len(triples) != 1:
        return None
    t = triples[0]
    value = _string(t.object)
    if t.subject != pyoxigraph.NamedNode(graph) or t.predicate != _STATE_DIGEST or value is None:
        return None
    return value if _DIGEST.fullmatch(value) else None


def write_state(target: Target, base_iri: str, state: State) -> None:
    """Write the state, then its digest in the check graph (a crash in between leaves the two
    unmatched: the next sync does not trust the state, and sends every graph)."""
    me = state_graph(base_iri)
    data = state.ntriples(me)
    target.put(me, data)
    digest = hashlib.sha256(data).hexdigest()  # (`State.digest`)
    check = f"{pyoxigraph.NamedNode(me)} {_STATE_DIGEST} {pyoxigraph.Literal(digest)} .\n"
    target.put(check_graph(base_iri), check.encode("utf-8"))


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
    base = manifest.base_iri
    if base is None:
        raise ManifestError(f"{manifest.out_dir}: the manifest does not record the base IRI")
    if not manifest.current():
        raise ManifestError(
            f"{manifest.out_dir}: the outputs are not the ones the manifest describes "
            "(changed by hand, or an export is running); run kg export again"
        )
    state, distrusted = read_state(target, base)
    if distrusted is not None:
        log.warning("%s: %s; every graph of the export is sent again", target.where, distrusted)
    owned = synced_prefixes(base)
    held = {g for g in target.graphs(graph_namespace(base)) if g.startswith(owned)}
    todo = plan(manifest, state, held, full)
    todo.distrusted = distrusted
    if dry_run:
        return SyncResult(todo, 0, time.perf_counter() - started)
    current = State(
        state.export if state else None,
        {g: d for g, d in state.digests.items() if g in held} if state else {},
    )
    # Graphs the embedded store lacks are bulk-loaded in batches (a first sync several times
    # faster); the rest are replaced one by one. Either way a graph stays pending until written.
    embedded = target if isinstance(target, EmbeddedTarget) else None
    new = set(todo.added) if embedded is not None else set()
    writes = (
        [("drop", g) for g in todo.dropped]
        + [("put", g) for g in todo.replaced if g not in new]
        + [("new", g) for g in todo.replaced if g in new]
    )
    if writes:
        for _, graph in writes:
            current.digests[graph] = PENDING
        try:
            write_state(target, base, current)
        except WRITE_ERRORS as exc:
            raise SyncError(f"sync state {state_graph(base)}: {exc}", [], [g for _, g in writes]) from None
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
                _record_best_effort(target, base, current)
                raise SyncError(
                    f"graph {graph}: {exc}", [g for _, g in writes[:done]], [g for _, g in writes[done:]]
                ) from None
            done += len(step)
            if progress is not None:
                progress(done, len(writes))
    final = State(manifest.export, dict(manifest.graphs))
    if final != state:
        try:
            write_state(target, base, final)
        except WRITE_ERRORS as exc:
            raise SyncError(
                f"sync state {state_graph(base)}: every graph was written, but the state could not be: {exc}",
                [g for _, g in writes],
                [],
            ) from None
    return SyncResult(todo, triples, time.perf_counter() - started)


def forget(target: Target, base_iri: str, graphs: Iterable[str]) -> int:
    """Mark `graphs` pending in the store's sync state (before a plain load writes them).

    Returns how many were marked. Without a trusted sync state there is nothing to mark: the
    next sync sends every graph anyway.
    """
    state, _ = read_state(target, base_iri)
    if state is None:
        return 0
    marked = [g for g in graphs if state.digests.get(g, PENDING) != PENDING]  # (only synced graphs have one)
    if marked:
        for graph in marked:
            state.digests[graph] = PENDING
        write_state(target, base_iri, state)
    return len(marked)


def _record_best_effort(target: Target, base_iri: str, state: State) -> None:
    """Record what a failed sync did write; if the store cannot take it, the pending marks stay."""
    with contextlib.suppress(*WRITE_ERRORS):
        write_state(target, base_iri, state)


def _ntriples(nquads: bytes) -> bytes:
    """One graph's N-Quads block as N-Triples (parsed, so any line kg writes is read right)."""
    return "".join(
        f"{q.triple} .\n" for q in pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS)
    ).encode("utf-8")
