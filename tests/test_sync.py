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

import shutil
from collections.abc import Callable
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg import sync
from kg.cli import main
from kg.export import export
from kg.incremental import Manifest
from kg.query import execute
from kg.remote import Endpoint
from kg.store import collect, load_store
from kg.vocab import DEFAULT_BASE_IRI
from tests.servers import FakeServer, Recorded, Reply, Server, running, stop
from tests.test_incremental import curation, write_tree

STATE = sync.state_graph(DEFAULT_BASE_IRI)
CHECK = sync.check_graph(DEFAULT_BASE_IRI)
ALL_QUADS = "SELECT ?g ?s ?p ?o (DATATYPE(?o) AS ?t) (LANG(?o) AS ?l) WHERE { GRAPH ?g { ?s ?p ?o } }"
Quads = set[tuple[str, ...]]
NO_GRAPHS = b'{"head": {"vars": ["g"]}, "results": {"bindings": []}}'


def quads_of(target: pyoxigraph.Store | Endpoint, text: str = ALL_QUADS) -> Quads:
    """Every quad in the store's named graphs, as kg.query rows them (kg's data has no blank nodes)."""
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
    assert (len(first.plan.added), first.plan.had_state) == (5, False)
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
    assert sync.forget(sync.EmbeddedTarget(store, "store"), DEFAULT_BASE_IRI, collect([old_nq]).graphs) == 5
    again = sync.sync(sync.EmbeddedTarget(store, "store"), Manifest(out))
    assert len(again.plan.changed) == 5
    assert terms(store) == terms(fresh_sync(src, tmp_path)[0])


def test_cli_sync_dry_run_full_and_a_plain_load_marking_graphs_pending(tmp_path: Path) -> None:
    src, out = start_tree(tmp_path)
    store = str(tmp_path / "store")
    runner = CliRunner()

    def load(*args: str) -> str:
        result = runner.invoke(main, ["load", *args, "--store", store])
        assert result.exit_code == 0, result.stderr
        return result.stderr

    assert "5 graphs replaced (5 added, 0 changed), 0 dropped, 0 unchanged" in load(str(out))
    assert "0 graphs replaced (0 added, 0 changed), 0 dropped, 5 unchanged" in load(str(out))
    write_tree(src, {"c1.md": curation("c1", "New title")})
    (src / "c2.md").unlink()
    export([src], out)
    assert "would sync" in load(str(out), "--dry-run")
    assert "1 graphs replaced (0 added, 1 changed), 1 dropped, 3 unchanged" in load(str(out))
    assert "4 graphs replaced (0 added, 4 changed), 0 dropped, 0 unchanged" in load(str(out), "--full")
    load(str(out / "curations.nq"))  # a plain load: its graphs are pending for the next sync
    assert "4 graphs replaced (0 added, 4 changed)" in load(str(out))

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


# --- a real Oxigraph server, stopped midway ---------------------------------------------------


@pytest.mark.server
def test_server_sync_survives_a_store_going_down_midway(oxigraph_server: Server, tmp_path: Path) -> None:
    src, out = start_tree(tmp_path)
    gsp = Endpoint(oxigraph_server.store_url, backoff=0.01, retries=2)
    query = Endpoint(oxigraph_server.query_url)
    sync.sync(sync.RemoteTarget(gsp), Manifest(out))
    assert quads_of(query) == quads_of(fresh_sync(src, tmp_path)[0])

    # Change three curations and remove one, then stop the server after the second write.
    for i in (0, 1, 4):
        write_tree(src, {f"c{i}.md": curation(f"c{i}", f"Changed {i}")})
    (src / "c2.md").unlink()
    export([src], out)
    assert oxigraph_server.process is not None

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            stop(oxigraph_server.process)  # type: ignore[arg-type]

    with pytest.raises(sync.SyncError) as info:
        sync.sync(sync.RemoteTarget(gsp), Manifest(out), progress=stop_after_two)
    error = info.value
    assert len(error.written) == 2 and len(error.not_written) == 2
    assert "cannot connect after 3 attempts" in error.cause
    assert "2 of 4 graphs written; 2 not written" in error.details()
    assert error.not_written[0] in error.details() and "running the same kg load again" in error.details()

    # The server comes back (same data, same port); running the sync again completes it.
    with running(oxigraph_server.command, oxigraph_server.ready_url, tmp_path / "again.log"):
        result = CliRunner().invoke(main, ["load", str(out), "--endpoint", oxigraph_server.store_url])
        assert result.exit_code == 0, result.stderr
        # The state could not be recorded while the server was down, so the pending marks
        # stand for all four writes: the three puts are made again (harmless: whole graphs);
        # the graph dropped before the server went down is not in the store's list any more.
        assert "3 graphs replaced (0 added, 3 changed), 0 dropped, 1 unchanged" in result.stderr
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
    assert "3 of 5 graphs written; 2 not written" in result.stderr
    # Before any graph: every graph pending. After the failure: the 3 written have digests.
    first, last = state_puts[0].decode(), state_puts[-1].decode()
    assert first.count('"pending"') == 5
    assert last.count('"pending"') == 2 and last.count(sync.KG.graphDigest) == 5


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
    assert info.value.written == [] and len(info.value.not_written) == 5
    assert len(store) > 0  # half of the quads made it in
    monkeypatch.setattr(sync.EmbeddedTarget, "add_new", real)
    again = sync.sync(sync.EmbeddedTarget(store, "store"), Manifest(out))
    assert again.plan.had_state and len(again.plan.replaced) == 5
    assert terms(store) == terms(fresh_sync(src, tmp_path)[0])
