"""`kg load EXPORT_FOLDER`: a store synced after any sequence of edits equals a fresh load.

Each step edits a source tree, exports it incrementally into one folder and syncs a store
from that folder (sometimes skipping a sync, as a data team that misses a day would). The
store is then compared, quad for quad, with a store synced once from a fresh full export of
the same tree, and (curation graphs only) with a plain load of that export's curations.nq.
The writes are counted: a sync sends only what changed. Stores: the embedded one, and a
real `oxigraph serve` on 127.0.0.1 (default configuration), stopped midway to check that a
failed sync names what was and was not written and that running it again completes it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.map.curation import IriScheme
from kg.pipeline.export import export
from kg.pipeline.incremental import Manifest
from kg.rdf.vocab import DEFAULT_BASE_IRI, KG
from kg.sparql.query import execute
from kg.store import remote_graphs, sync
from kg.store.http import Endpoint
from kg.store.load import collect, load_store
from tests.conftest import EXAMPLES
from tests.helpers.servers import FakeServer, Recorded, Reply, Server, running, stop
from tests.helpers.trees import curation, write_tree

STATE = IriScheme(DEFAULT_BASE_IRI).sync_state_graph()
CHECK = f"{DEFAULT_BASE_IRI}graph/kg-sync-check"
ALL_QUADS = "SELECT ?g ?s ?p ?o (DATATYPE(?o) AS ?t) (LANG(?o) AS ?l) WHERE { GRAPH ?g { ?s ?p ?o } }"
Quads = set[tuple[str, ...]]
NO_GRAPHS = b'{"head": {"vars": ["g"]}, "results": {"bindings": []}}'
#: `start_tree`'s graphs: its 5 curations' and the graphs of the 5 shared nodes they link to
#: (kg.map.nodes: their two topics, the topics' scheme, the brand and the author).
START_CURATIONS = tuple(f"{DEFAULT_BASE_IRI}graph/curation/c{i}" for i in range(5))
START_NODES = tuple(
    f"{DEFAULT_BASE_IRI}graph/{node}"
    for node in ("brand/example.org", "person/Jane_Doe", "scheme/KLAS", "topic/KLAS/T0", "topic/KLAS/T1")
)
START_GRAPHS = len(START_CURATIONS) + len(START_NODES)


def quads_of(target: pyoxigraph.Store | Endpoint, text: str = ALL_QUADS) -> Quads:
    """Every quad in the store's named graphs, as kg.sparql.query rows them (kg's data has no blank nodes)."""
    rows = execute(text, target).rows()
    out = {tuple(str(r.get(k)) for k in ("g", "s", "p", "o", "t", "l")) for r in rows}
    assert not any(q[1].startswith("_:") or q[3].startswith("_:") for q in out)
    return out


def terms(store: pyoxigraph.Store) -> Quads:
    return {(str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)) for q in store}


def fresh_sync(src: Path, work: Path) -> tuple[pyoxigraph.Store, Path]:
    """A full export of `src` synced into an empty embedded store."""
    out = work / "fresh-out"
    shutil.rmtree(out, ignore_errors=True)
    export([src], out)
    store = pyoxigraph.Store()
    sync.sync(sync.EmbeddedTarget(store, "fresh"), Manifest(out))
    return store, out


def without_state(quads: Quads) -> Quads:
    return {q for q in quads if q[0] not in (f"<{STATE}>", f"<{CHECK}>")}


class Counting:
    """Wraps a target and records every write, to check that a sync sends only what changed."""

    def __init__(self, inner: sync.EmbeddedTarget | sync.RemoteTarget) -> None:
        self.inner = inner
        self.where = inner.where
        self.puts: list[str] = []
        self.drops: list[str] = []

    def read(self, graph: str) -> list[pyoxigraph.Triple] | None:
        return self.inner.read(graph)

    def graphs(self, prefix: str) -> set[str]:
        return self.inner.graphs(prefix)

    def put(self, graph: str, ntriples: bytes) -> None:
        self.inner.put(graph, ntriples)
        if graph not in (STATE, CHECK):
            self.puts.append(graph)

    def drop(self, graph: str) -> None:
        self.inner.drop(graph)
        self.drops.append(graph)


def edit_steps(src: Path) -> list[tuple[str, Callable[[], None], bool]]:
    """(name, edit, sync after it?): every kind of change, and two exports without a sync."""

    def rename() -> None:
        (src / "c0.md").rename(src / "renamed.md")  # same mdName: the same graph, a new source path

    return [
        ("edit a title", lambda: write_tree(src, {"c1.md": curation("c1", "New title")}), True),
        ("remove a file", lambda: (src / "c2.md").unlink(), True),
        ("add a file", lambda: write_tree(src, {"c5.md": curation("c5", "Added")}), True),
        ("break a file", lambda: (src / "c3.md").write_bytes(b"---\ntitle: caf\xe9\n---\n"), False),
        ("repair it", lambda: write_tree(src, {"c3.md": curation("c3", "Repaired")}), False),
        ("rename a file", rename, True),
        (
            "a second file with c1's mdName",
            lambda: write_tree(src, {"twin.md": curation("c1", "Twin")}),
            True,
        ),
        ("re-add the removed file", lambda: write_tree(src, {"c2.md": curation("c2")}), True),
        (
            "change a shared topic",
            lambda: write_tree(src, {"c4.md": curation("c4", topics=("KLAS: EHR",))}),
            True,
        ),
        (
            "the last curation of a topic leaves it",  # (EHR's graph is dropped)
            lambda: write_tree(src, {"c4.md": curation("c4", topics=("KLAS: T0",))}),
            True,
        ),
        ("nothing changed", lambda: None, True),
    ]


def start_tree(tmp_path: Path) -> tuple[Path, Path]:
    src, out = tmp_path / "src", tmp_path / "out"
    write_tree(src, {f"c{i}.md": curation(f"c{i}", topics=(f"KLAS: T{i % 2}",)) for i in range(5)})
    export([src], out)
    return src, out


def test_embedded_store_equals_a_fresh_load_after_every_sync(tmp_path: Path) -> None:
    src, out = start_tree(tmp_path)
    store = pyoxigraph.Store()
    first = sync.sync(sync.EmbeddedTarget(store, "store"), Manifest(out))
    assert (first.plan.added, first.plan.had_state) == (sorted(START_CURATIONS + START_NODES), False)
    synced_graphs = Manifest(out).graphs
    for name, edit, then_sync in edit_steps(src):
        edit()
        export([src], out)
        if not then_sync:
            continue
        manifest = Manifest(out)
        target = Counting(sync.EmbeddedTarget(store, "store"))
        result = sync.sync(target, manifest)
        # Only what differs from what the store held: replaced if new or changed, dropped if gone.
        wanted = manifest.graphs
        assert sorted(target.puts) == sorted(g for g in wanted if synced_graphs.get(g) != wanted[g]), name
        assert sorted(target.drops) == sorted(g for g in synced_graphs if g not in wanted), name
        assert result.plan.unchanged == sum(1 for g in wanted if synced_graphs.get(g) == wanted[g]), name
        synced_graphs = wanted

        fresh, fresh_out = fresh_sync(src, tmp_path)
        assert terms(store) == terms(fresh), name
        plain = pyoxigraph.Store()
        load_store(plain, collect([fresh_out / "curations.nq"]))
        assert without_state(terms(store)) == terms(plain), name


def test_a_plain_load_in_between_is_not_trusted(tmp_path: Path) -> None:
    """Loading older data by hand after a sync: the next sync replaces it again."""
    src, out = start_tree(tmp_path)
    old_nq = tmp_path / "old.nq"
    shutil.copy(out / "curations.nq", old_nq)
    store = pyoxigraph.Store()
    sync.sync(sync.EmbeddedTarget(store, "store"), Manifest(out))
    write_tree(src, {"c1.md": curation("c1", "New title")})
    export([src], out)
    sync.sync(sync.EmbeddedTarget(store, "store"), Manifest(out))
    load_store(store, collect([old_nq]))  # what `kg load old.nq` does, minus the state marks
    # Every graph of old.nq (curations and shared nodes alike) was synced, so each is forgotten.
    marked = sync.forget(sync.EmbeddedTarget(store, "store"), DEFAULT_BASE_IRI, collect([old_nq]).graphs)
    assert marked == START_GRAPHS
    again = sync.sync(sync.EmbeddedTarget(store, "store"), Manifest(out))
    assert again.plan.changed == sorted(START_CURATIONS + START_NODES)
    assert terms(store) == terms(fresh_sync(src, tmp_path)[0])


def test_cli_sync_dry_run_full_and_a_plain_load_marking_graphs_pending(tmp_path: Path) -> None:
    src, out = start_tree(tmp_path)
    store = str(tmp_path / "store")
    runner = CliRunner()

    def load(*args: str) -> str:
        result = runner.invoke(main, ["load", *args, "--store", store])
        assert result.exit_code == 0, result.stderr
        return result.stderr

    n = START_GRAPHS  # 5 curation graphs + 5 node graphs
    assert f"{n} graphs replaced ({n} added, 0 changed), 0 dropped, 0 unchanged" in load(str(out))
    assert f"0 graphs replaced (0 added, 0 changed), 0 dropped, {n} unchanged" in load(str(out))
    # c1 retitled, and moved from topic T1 (still c3's) to Telehealth (a new node graph); c2
    # removed (its topic T0 is still c0's and c4's: that graph stays, unchanged).
    write_tree(src, {"c1.md": curation("c1", "New title", topics=("KLAS: Telehealth",))})
    (src / "c2.md").unlink()
    export([src], out)
    assert "would sync" in load(str(out), "--dry-run")
    assert f"2 graphs replaced (1 added, 1 changed), 1 dropped, {n - 2} unchanged" in load(str(out))
    assert f"{n} graphs replaced (0 added, {n} changed), 0 dropped, 0 unchanged" in load(str(out), "--full")
    load(str(out / "curations.nq"))  # a plain load: its graphs are pending for the next sync
    assert f"{n} graphs replaced (0 added, {n} changed)" in load(str(out))

    usage = runner.invoke(main, ["load", str(out), str(src), "--store", store])
    assert usage.exit_code == 2 and "export folder" in usage.stderr
    usage = runner.invoke(main, ["load", str(src), "--dry-run", "--store", store])
    assert usage.exit_code == 2 and "--dry-run apply to an export folder" in usage.stderr


def test_an_export_folder_changed_after_its_manifest_is_refused(tmp_path: Path) -> None:
    _, out = start_tree(tmp_path)
    with (out / "curations.nq").open("ab") as handle:
        handle.write(b"\n")
    result = CliRunner().invoke(main, ["load", str(out), "--store", str(tmp_path / "store")])
    assert result.exit_code == 2 and "not the ones the manifest describes" in result.stderr


def test_failed_source_files_exit_1_after_a_sync(tmp_path: Path) -> None:
    src, out = start_tree(tmp_path)
    (src / "c3.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    export([src], out)
    result = CliRunner().invoke(main, ["load", str(out), "--store", str(tmp_path / "store")])
    assert result.exit_code == 1 and "1 source files failed to export" in result.stderr


@pytest.mark.parametrize("how", ["removed", "changes its topic"])
def test_a_topic_whose_last_curation_goes_loses_its_graph(tmp_path: Path, how: str) -> None:
    """A node no curation uses has no graph in the export (kg.map.nodes): the next sync drops
    the one the store holds, and nothing else, and the store equals a fresh load."""
    src, out = start_tree(tmp_path)  # topic T1: c1 and c3
    store = pyoxigraph.Store()
    sync.sync(sync.EmbeddedTarget(store, "store"), Manifest(out))
    _, c1, _, c3, _ = START_CURATIONS
    t1 = f"{DEFAULT_BASE_IRI}graph/topic/KLAS/T1"

    def sync_counted() -> tuple[list[str], list[str]]:
        export([src], out)
        target = Counting(sync.EmbeddedTarget(store, "store"))
        sync.sync(target, Manifest(out))
        return sorted(target.puts), sorted(target.drops)

    (src / "c3.md").unlink()  # T1 is c1's alone now: its graph stays, unchanged
    assert sync_counted() == ([], [c3])
    assert t1 in {g.value for g in store.named_graphs() if isinstance(g, pyoxigraph.NamedNode)}
    if how == "removed":
        (src / "c1.md").unlink()
    else:
        write_tree(src, {"c1.md": curation("c1", topics=("KLAS: T0",))})
    assert sync_counted() == (([], [c1, t1]) if how == "removed" else ([c1], [t1]))

    assert t1 not in {g.value for g in store.named_graphs() if isinstance(g, pyoxigraph.NamedNode)}
    topic = pyoxigraph.NamedNode(f"{DEFAULT_BASE_IRI}topic/KLAS/T1")
    assert [*store.quads_for_pattern(topic, None, None), *store.quads_for_pattern(None, None, topic)] == []
    fresh, fresh_out = fresh_sync(src, tmp_path)
    assert terms(store) == terms(fresh)
    plain = pyoxigraph.Store()
    load_store(plain, collect([fresh_out / "curations.nq"]))
    assert without_state(terms(store)) == terms(plain)


# --- a real Oxigraph server, stopped midway ---------------------------------------------------


@pytest.mark.server
def test_server_sync_survives_a_store_going_down_midway(oxigraph_server: Server, tmp_path: Path) -> None:
    src, out = start_tree(tmp_path)
    gsp = Endpoint(oxigraph_server.store_url, backoff=0.01, retries=2)
    query = Endpoint(oxigraph_server.query_url)
    sync.sync(sync.RemoteTarget(gsp), Manifest(out))
    assert quads_of(query) == quads_of(fresh_sync(src, tmp_path)[0])

    # Change three curations and remove one, then stop the server after the second write. The
    # changed ones move to the topic Telehealth, so T0 loses its last curations (c0, c2, c4):
    # the writes are two drops (c2's graph, T0's), then c0, c1, c4 and Telehealth's new graph.
    for i in (0, 1, 4):
        write_tree(src, {f"c{i}.md": curation(f"c{i}", f"Changed {i}")})
    (src / "c2.md").unlink()
    export([src], out)
    c0, c1, c2, _, c4 = START_CURATIONS
    t0, telehealth = (f"{DEFAULT_BASE_IRI}graph/topic/KLAS/{t}" for t in ("T0", "Telehealth"))
    assert oxigraph_server.process is not None

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            stop(oxigraph_server.process)  # type: ignore[arg-type]

    with pytest.raises(sync.SyncError) as info:
        sync.sync(sync.RemoteTarget(gsp), Manifest(out), progress=stop_after_two)
    error = info.value
    assert (error.written, error.not_written) == ([c2, t0], [c0, c1, c4, telehealth])
    assert "cannot connect after 3 attempts" in error.cause
    assert "2 of 6 graphs written; 4 not written" in error.details()
    assert error.not_written[0] in error.details() and "running the same kg load again" in error.details()

    # The server comes back (same data, same port); running the sync again completes it.
    with running(oxigraph_server.command, oxigraph_server.ready_url, tmp_path / "again.log"):
        result = CliRunner().invoke(main, ["load", str(out), "--endpoint", oxigraph_server.store_url])
        assert result.exit_code == 0, result.stderr
        # The state could not be recorded while the server was down, so the pending marks
        # stand for all six writes: the three puts are made again (harmless: whole graphs),
        # Telehealth's graph is still missing; the graphs dropped before the server went down
        # are not in the store's list any more. Unchanged: c3 and the 4 other node graphs.
        assert "4 graphs replaced (1 added, 3 changed), 0 dropped, 5 unchanged" in result.stderr
        assert quads_of(query) == quads_of(fresh_sync(src, tmp_path)[0])


@pytest.mark.server
def test_server_sync_equals_a_fresh_load_after_every_step(oxigraph_server: Server, tmp_path: Path) -> None:
    src, out = start_tree(tmp_path)
    target = sync.RemoteTarget(Endpoint(oxigraph_server.store_url))
    query = Endpoint(oxigraph_server.query_url)
    sync.sync(target, Manifest(out))
    for name, edit, then_sync in edit_steps(src):
        edit()
        export([src], out)
        if then_sync:
            sync.sync(target, Manifest(out))
            assert quads_of(query) == quads_of(fresh_sync(src, tmp_path)[0]), name


# --- scripted failures ------------------------------------------------------------------------


def test_a_500_midway_is_retried_then_reported_and_nothing_is_claimed(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    _, out = start_tree(tmp_path)
    state_puts: list[bytes] = []

    def script(seen: list[Recorded], req: Recorded) -> Reply:
        if req.method == "GET":
            return 404, {}, b"no such graph"
        if req.method == "POST":  # the query listing the store's graphs: none
            return 200, {"Content-Type": "application/sparql-results+json"}, NO_GRAPHS
        if "kg-sync" in req.path:
            if req.path.endswith("kg-sync"):  # (not the check graph)
                state_puts.append(req.body)
            return 204, {}, b""
        graph_puts = sum(1 for r in seen if r.method == "PUT" and "kg-sync" not in r.path)
        return (204, {}, b"") if graph_puts <= 3 else (500, {}, b"disk full")

    fake_server.script = script
    result = CliRunner().invoke(
        main, ["load", str(out), "--endpoint", fake_server.url + "/store", "--retries", "1"]
    )
    assert result.exit_code == 2
    assert "HTTP 500" in result.stderr and "disk full" in result.stderr
    n = START_GRAPHS  # 5 curation graphs + 5 node graphs
    assert f"3 of {n} graphs written; {n - 3} not written" in result.stderr
    # Before any graph: every graph pending. After the failure: the 3 written have digests.
    first, last = state_puts[0].decode(), state_puts[-1].decode()
    assert first.count('"pending"') == n
    assert last.count('"pending"') == n - 3 and last.count(KG.graphDigest) == n


@pytest.mark.server
@pytest.mark.slow
def test_virtuoso_sync_equals_a_fresh_load(virtuoso_server: Server, tmp_path: Path) -> None:
    """Virtuoso (default graph = union; GSP with digest auth) ends in the same state."""
    src, out = start_tree(tmp_path)
    auth = {"user": virtuoso_server.user, "password": virtuoso_server.password}
    target = sync.RemoteTarget(Endpoint(virtuoso_server.store_url, **auth))  # type: ignore[arg-type]
    query = Endpoint(virtuoso_server.query_url, **auth)  # type: ignore[arg-type]
    mine = f'FILTER (STRSTARTS(STR(?g), "{DEFAULT_BASE_IRI}"))'  # not Virtuoso's own graphs
    text = ALL_QUADS.replace("} }", f"}} {mine} }}")

    sync.sync(target, Manifest(out))
    for _name, edit, then_sync in edit_steps(src)[:3]:
        edit()
        export([src], out)
        if then_sync:
            sync.sync(target, Manifest(out))
    assert quads_of(query, text) == quads_of(fresh_sync(src, tmp_path)[0], text)


def test_a_bulk_load_that_fails_halfway_is_repaired_by_the_next_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded store bulk-loads graphs it lacks: half-written ones stay pending, then get replaced."""
    src, out = start_tree(tmp_path)
    store = pyoxigraph.Store()
    real = sync.EmbeddedTarget.add_new

    def half_then_fail(self: sync.EmbeddedTarget, nquads: bytes) -> None:
        lines = nquads.splitlines(keepends=True)
        real(self, b"".join(lines[: len(lines) // 2]))
        raise OSError("disk full")

    monkeypatch.setattr(sync.EmbeddedTarget, "add_new", half_then_fail)
    with pytest.raises(sync.SyncError) as info:
        sync.sync(sync.EmbeddedTarget(store, "store"), Manifest(out))
    every = sorted(START_CURATIONS + START_NODES)
    assert info.value.written == [] and sorted(info.value.not_written) == every
    assert len(store) > 0  # half of the quads made it in
    monkeypatch.setattr(sync.EmbeddedTarget, "add_new", real)
    again = sync.sync(sync.EmbeddedTarget(store, "store"), Manifest(out))
    assert again.plan.had_state and again.plan.replaced == every
    assert terms(store) == terms(fresh_sync(src, tmp_path)[0])


# --- a sync state lost, stale or damaged: verified against the graphs the store holds ---------
#
# Written with what kg had before the check (the CLI, the state graph's IRI, a target's read, put
# and drop), so that each case can be run against the code before the fix too.

OTHER_GRAPH = "http://example.org/graph/not-kg"


@dataclass
class Store:
    """One store under test: the CLI options that select it, a target to tamper with its
    state, and its quads (kg's graphs, and one graph of someone else that kg must keep)."""

    options: list[str]
    target: Callable[[], sync.EmbeddedTarget | sync.RemoteTarget]
    quads: Callable[[], Quads]


def embedded_store(tmp_path: Path) -> Store:
    where = tmp_path / "store"

    def target() -> sync.EmbeddedTarget:
        return sync.EmbeddedTarget(pyoxigraph.Store(str(where)), str(where))

    def quads() -> Quads:
        store = pyoxigraph.Store(str(where))
        try:
            return quads_of(store)
        finally:
            del store

    return Store(["--store", str(where)], target, quads)


def remote_store(server: Server) -> Store:
    auth: dict[str, str] = {"user": server.user, "password": server.password} if server.user else {}
    options = ["--endpoint", server.store_url] + [f"--{k}={v}" for k, v in auth.items()]
    mine = f'FILTER (STRSTARTS(STR(?g), "{DEFAULT_BASE_IRI}graph/") || ?g = <{OTHER_GRAPH}>)'
    text = ALL_QUADS.replace("} }", f"}} {mine} }}")  # not Virtuoso's own graphs
    return Store(
        options,
        lambda: sync.RemoteTarget(Endpoint(server.store_url, **auth)),  # type: ignore[arg-type]
        lambda: quads_of(Endpoint(server.query_url, **auth), text),  # type: ignore[arg-type]
    )


def kg_load(store: Store, out: Path) -> str:
    result = CliRunner().invoke(main, ["load", str(out), *store.options])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.stderr
    return result.stderr


def tamper(store: Store, action: Callable[[sync.EmbeddedTarget | sync.RemoteTarget], None]) -> None:
    target = store.target()
    try:
        action(target)
    finally:
        target.close()


def put_ntriples(target: sync.EmbeddedTarget | sync.RemoteTarget, graph: str, triples: list[str]) -> None:
    target.put(graph, "".join(f"{t} .\n" for t in triples).encode("utf-8"))


def assert_equals_a_clean_load(store: Store, src: Path, tmp_path: Path, out: Path) -> None:
    """kg's data graphs (the curations' and the shared nodes'): those of a plain load of the
    export; kg's state graphs: those of a fresh sync (so the next sync trusts them); the graph
    that is not kg's: untouched."""
    fresh, _ = fresh_sync(src, tmp_path)
    plain = pyoxigraph.Store()
    load_store(plain, collect([out / "curations.nq"]))
    got = store.quads()
    kg_graphs = {q for q in got if q[0].startswith(f"{DEFAULT_BASE_IRI}graph/")}
    data = {q for q in kg_graphs if q[0] not in (STATE, CHECK)}
    assert data == quads_of(plain)
    assert {q[0] for q in data} == set(Manifest(out).graphs)  # no graph of a node no curation uses
    assert kg_graphs == quads_of(fresh)
    assert [q[:4] for q in got - kg_graphs] == [(OTHER_GRAPH, "http://x/s", "http://x/p", "kept")]
    assert " 0 graphs replaced (0 added, 0 changed), 0 dropped" in kg_load(store, out)


def lost_or_stale(store: Store, tmp_path: Path, how: str) -> None:
    """Sync, lose or age the state, remove a curation (and re-export twice, so the manifest no
    longer records the removal), sync: the store must equal a clean load of the export."""
    src, out = start_tree(tmp_path)
    tamper(store, lambda t: put_ntriples(t, OTHER_GRAPH, ['<http://x/s> <http://x/p> "kept"']))
    kg_load(store, out)
    old: list[pyoxigraph.Triple] = []
    tamper(store, lambda t: old.extend(t.read(STATE) or []))
    # Then a curation is added and another retitled, and that is synced too.
    write_tree(src, {"c5.md": curation("c5", "Added"), "c1.md": curation("c1", "Retitled")})
    export([src], out)
    kg_load(store, out)
    if how == "lost":
        tamper(store, lambda t: t.drop(STATE))
    elif how == "check lost":  # (or a state written by a kg that kept no check)
        tamper(store, lambda t: t.drop(CHECK))
    elif how == "check damaged":
        tamper(store, lambda t: put_ntriples(t, CHECK, [f'<{STATE}> <{KG}stateDigest> "{"0" * 64}"']))
    else:  # stale: the state of the first sync put back
        tamper(store, lambda t: put_ntriples(t, STATE, [str(x) for x in old]))
    # Back to what the old state says; c5 and the retitled c1 were topic Telehealth's only
    # curations, so its graph goes too.
    (src / "c5.md").unlink()
    write_tree(src, {"c1.md": curation("c1", topics=("KLAS: T1",))})
    export([src], out)
    export([src], out)
    kg_load(store, out)
    assert_equals_a_clean_load(store, src, tmp_path, out)


@pytest.mark.parametrize("how", ["lost", "stale", "check lost", "check damaged"])
def test_embedded_sync_with_a_lost_or_stale_state_equals_a_clean_load(tmp_path: Path, how: str) -> None:
    lost_or_stale(embedded_store(tmp_path), tmp_path, how)


@pytest.mark.server
@pytest.mark.parametrize("how", ["lost", "stale"])
def test_server_sync_with_a_lost_or_stale_state_equals_a_clean_load(
    oxigraph_server: Server, tmp_path: Path, how: str
) -> None:
    lost_or_stale(remote_store(oxigraph_server), tmp_path, how)


@pytest.mark.parametrize("empty_pattern", [True, False], ids=["GRAPH ?g {} answered", "not (Virtuoso)"])
def test_graphs_cut_by_a_row_cap_are_listed_page_by_page(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch, empty_pattern: bool
) -> None:
    """A server that answers at most 3 rows (as Virtuoso's ResultSetMaxRows cuts answers):
    every graph is still found, page by page; graphs outside the prefix are not listed."""
    monkeypatch.setattr(remote_graphs, "LIST_PAGE", 2)
    store = pyoxigraph.Store()
    mine = {f"{DEFAULT_BASE_IRI}graph/curation/c{i}" for i in range(7)}
    x = pyoxigraph.NamedNode("http://x/x")
    for graph in [*mine, f"{DEFAULT_BASE_IRI}other/g", OTHER_GRAPH]:
        store.add(pyoxigraph.Quad(x, x, x, pyoxigraph.NamedNode(graph)))

    def script(seen: list[Recorded], req: Recorded) -> Reply:
        text = parse_qs(req.body.decode())["query"][0]
        solutions = store.query(text)
        assert isinstance(solutions, pyoxigraph.QuerySolutions)
        names = [v.value for v in solutions.variables]
        rows = [
            {n: {"type": "uri" if isinstance(v, pyoxigraph.NamedNode) else "literal", "value": v.value}}
            for row in solutions
            for n in names
            if (v := row[n]) is not None
        ]
        if not empty_pattern and re.search(r"GRAPH \?g \{\s*\}", text):
            rows = []  # as Virtuoso answers GRAPH ?g {}
        body = {"head": {"vars": names}, "results": {"bindings": rows[:3]}}
        return 200, {"Content-Type": "application/sparql-results+json"}, json.dumps(body).encode()

    fake_server.script = script
    target = sync.RemoteTarget(Endpoint(fake_server.url + "/store"))
    assert target.graphs(f"{DEFAULT_BASE_IRI}graph/") == mine
    assert all(r.path == "/query" for r in fake_server.requests)
    assert len(fake_server.requests) >= 4  # probe, count, one answer cut, then pages of 2


@pytest.mark.server
def test_server_sync_names_a_query_endpoint_that_does_not_answer(
    oxigraph_server: Server, tmp_path: Path
) -> None:
    _, out = start_tree(tmp_path)
    nowhere = oxigraph_server.store_url.replace("/store", "/nowhere")
    options = ["--endpoint", oxigraph_server.store_url, "--retries=0", f"--query-endpoint={nowhere}"]
    result = CliRunner().invoke(main, ["load", str(out), *options])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "cannot list the store's graphs" in result.stderr and "--query-endpoint" in result.stderr
    assert quads_of(Endpoint(oxigraph_server.query_url)) == set()  # nothing written
    usage = CliRunner().invoke(main, ["load", str(out), "--query-endpoint", oxigraph_server.query_url])
    assert usage.exit_code == 2 and "--query-endpoint applies to" in usage.stderr


def test_the_query_endpoint_beside_a_graph_store_url() -> None:
    expected = {
        "http://h:7878/store": "http://h:7878/query",
        "http://h:8890/sparql-graph-crud-auth": "http://h:8890/sparql-auth",
        "http://h:8890/sparql-graph-crud/": "http://h:8890/sparql",
        "https://h/fuseki/ds/data?x=1": "https://h/fuseki/ds/query",
        "http://h/rdf4j-server/repositories/kg/rdf-graphs/service": "http://h/rdf4j-server/repositories/kg",
        "http://h:3030/ds": "http://h:3030/ds",
    }
    assert {url: remote_graphs.query_url_for(url) for url in expected} == expected


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("how", ["lost", "stale"])
def test_virtuoso_sync_with_a_lost_or_stale_state_equals_a_clean_load(
    virtuoso_server: Server, tmp_path: Path, how: str
) -> None:
    lost_or_stale(remote_store(virtuoso_server), tmp_path, how)


DAMAGES = {
    "a digest typed as a number": '<{g}> <{kg}graphDigest> "42"^^<http://www.w3.org/2001/XMLSchema#integer>',
    "a digest that is not one": '<{g}> <{kg}graphDigest> "\\u0000 not a digest"',
    "a digest in a language": '<{g}> <{kg}graphDigest> "{d}"@en',
    "a digest as an IRI": "<{g}> <{kg}graphDigest> <http://example.org/{d}>",
    "two digests for a graph": '<{g}> <{kg}graphDigest> "{z}"',
    "the export as a number": '<{s}> <{kg}syncedExport> "1.5"^^<http://www.w3.org/2001/XMLSchema#decimal>',
    "a digest of another's graph": f'<{OTHER_GRAPH}> <{{kg}}graphDigest> "{{z}}"',
    "a stranger's triple": '<{s}> <http://example.org/p> "x"',
    "no type": None,
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_state_is_ignored_with_a_warning(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No traceback, exit 0, a warning, and a store equal to a clean load; a graph that is not
    kg's (even one the damaged state lists) is kept."""
    store = embedded_store(tmp_path)
    src, out = start_tree(tmp_path)
    tamper(store, lambda t: put_ntriples(t, OTHER_GRAPH, ['<http://x/s> <http://x/p> "kept"']))
    kg_load(store, out)
    (src / "c4.md").unlink()
    export([src], out)
    export([src], out)
    manifest = Manifest(out)
    graph, digest = sorted(manifest.graphs.items())[0]
    values = {"g": graph, "d": digest, "z": "0" * 64, "s": STATE, "kg": str(KG)}

    def damage_it(target: sync.EmbeddedTarget | sync.RemoteTarget) -> None:
        triples = [str(t) for t in target.read(STATE) or []]
        extra = DAMAGES[damage]
        if extra is None:
            triples = [t for t in triples if "SyncState" not in t]
        else:
            triples.append(extra.format(**values))
        put_ntriples(target, STATE, triples)

    tamper(store, damage_it)
    caplog.clear()
    stderr = kg_load(store, out)
    warnings = [r.getMessage() for r in caplog.records if r.name == "kg.store.sync"]
    assert_equals_a_clean_load(store, src, tmp_path, out)
    assert "(no usable sync state in the store: every graph sent)" in stderr
    assert len(warnings) == 1 and f"sync state in graph {STATE}" in warnings[0], warnings


def test_an_export_folder_whose_manifest_is_a_fifo_is_refused_not_loaded_as_sources(tmp_path: Path) -> None:
    """A FIFO (or a folder) in place of the manifest: exit 2 naming it, never a hang, and the
    folder is not taken for a sources folder (which would load nothing and exit 0)."""
    out = tmp_path / "out"
    export([EXAMPLES], out)
    manifest = out / ".kg-manifest.json"
    manifest.unlink()
    os.mkfifo(manifest)
    result = CliRunner().invoke(main, ["load", str(out), "--store", str(tmp_path / "store")])
    assert result.exit_code == 2 and "not a regular file" in result.output
