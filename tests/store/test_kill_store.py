"""kill -9 of `kg load` and of a sync (`kg load EXPORT_FOLDER`) at seeded random points.

Each case starts from the same store (the embedded one on disk, or a real `oxigraph serve` on
127.0.0.1) holding an older export, runs the command as a real process, kills its process
group with SIGKILL at a point drawn from a seeded generator, then runs the same command
again: it must exit 0 and leave the store equal, quad for quad, to a clean run's. The corpus:
a few hundred curations (the examples, copied with new names); the newer export drops some,
changes some and adds some.

The points are measured in the command's progress, not in seconds (a loaded machine would
move every kill into the start-up): a first, uninterrupted run is watched to learn how much
progress a whole run makes, then each kill lands at a seeded fraction of it.
- Embedded store: progress is the number of changes seen in the store folder's files
  (polled every millisecond: transactions, bulk-loaded files, compactions).
- Server: the command talks to the server through a relay on 127.0.0.1 that counts the bytes
  the command sends; at the seeded byte the relay forwards nothing more (so the server gets
  a request cut at that byte) and the command is killed.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph
import pytest
import requests

from kg.pipeline.export import export
from kg.pipeline.incremental import Manifest
from kg.store import sync
from kg.store.load import collect, load_store
from tests.conftest import ROOT
from tests.helpers.servers import Server
from tests.helpers.trees import make_tree

#: Kills per case, and the seed of the points they land at.
KILLS = 3
SEED = 13
#: Copies of the 16 examples: the older export holds copies 0-11 (192 curations), the newer
#: 3-14 (3-5 edited): 48 curations dropped, 48 changed, 48 added, 96 the same. A server
#: writes a graph per request (and syncs each to disk): the half, copies 0-5 and 2-7, there.
OLD, NEW, EDITED = range(0, 12), range(3, 15), range(3, 6)
HALF = range(0, 6), range(2, 8), range(2, 4)
RUN_TIMEOUT = 60.0
Quads = set[pyoxigraph.Quad]  # (kg's graphs have no blank nodes: sets of quads compare as graphs)


@dataclass
class Exports:
    old: Path  # export folders, and their curations.nq for plain loads
    new: Path


def make_exports(work: Path, old: range, new: range, edited: range) -> Exports:
    folders = []
    for name, copies in (("old", old), ("new", new)):
        src = work / f"{name}-src"
        make_tree(src, len(copies), start=copies.start)
        if name == "new":
            for copy in edited:
                for path in (src / f"copy{copy:04d}").glob("*.md"):
                    path.write_text(path.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
        export([src], work / name)
        folders.append(work / name)
    return Exports(*folders)


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    return make_exports(tmp_path_factory.mktemp("kill-corpus"), OLD, NEW, EDITED)


@pytest.fixture(scope="module")
def half(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    return make_exports(tmp_path_factory.mktemp("kill-corpus-half"), *HALF)


def kg(*args: str) -> list[str]:
    return [sys.executable, "-m", "kg.cli", "load", *args]


def run(command: list[str]) -> str:
    """Run to the end: exit 0, no traceback; its last line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return (done.stderr.strip().splitlines() or [""])[-1]


def watched(command: list[str], progress: Callable[[], int], kill_at: int | None) -> tuple[int, int]:
    """Run `command` in its own process group, polling `progress` every millisecond; SIGKILL
    the group once it reaches `kill_at`. Returns (exit code, progress seen)."""
    process = subprocess.Popen(
        command,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the kill takes any worker process too
    )
    deadline = time.monotonic() + RUN_TIMEOUT
    seen = 0
    try:
        while process.poll() is None and time.monotonic() < deadline:
            seen = progress()
            if kill_at is not None and seen >= kill_at:
                os.killpg(process.pid, signal.SIGKILL)
                break
            time.sleep(0.001)
    finally:
        if process.poll() is None and time.monotonic() >= deadline:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=RUN_TIMEOUT)
    return process.returncode, max(seen, progress())


def killed_then_rerun(
    command: list[str],
    rerun: list[str],
    reset: Callable[[int | None], Callable[[], int]],
    quads: Callable[[], Quads],
    clean: Quads,
) -> None:
    """Watch one whole run, then for each seeded point: reset the store (`reset(point)` puts
    it back and returns a fresh progress counter), kill the command at that point, run
    `rerun`; the store must equal `clean` after each re-run."""
    code, whole = watched(command, reset(None), None)
    assert code == 0 and whole > 0
    assert quads() == clean  # the uninterrupted run is a clean run
    rng = random.Random(SEED)
    points = [1 + int((i + rng.random()) * whole / KILLS) for i in range(KILLS)]  # one per KILLS-th
    interrupted = 0
    for point in points:
        code, _ = watched(command, reset(point), point)
        interrupted += code == -signal.SIGKILL
        said = run(rerun)
        assert quads() == clean, f"kill -9 at {point} of {whole} (exit {code})"
        print(f"kill -9 at {point} of {whole} (exit {code}), then: {said}")
    assert interrupted >= KILLS - 1  # the kills landed while the command was running


# --- reference results ------------------------------------------------------------------------


def clean_sync(exports: Exports) -> Quads:
    """An empty store synced once from the newer export."""
    store = pyoxigraph.Store()
    sync.sync(sync.EmbeddedTarget(store, "clean"), Manifest(exports.new))
    return set(store)


def clean_load(exports: Exports) -> Quads:
    """An empty store loaded with the older export's curations.nq, then the newer one's."""
    store = pyoxigraph.Store()
    for folder in (exports.old, exports.new):
        load_store(store, collect([folder / "curations.nq"]))
    return set(store)


# --- the embedded store -----------------------------------------------------------------------


class FolderChanges:
    """Counts the changes seen in a folder's files (sizes and names) between calls."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.last: dict[str, int] = {}
        self.changes = 0

    def __call__(self) -> int:
        now: dict[str, int] = {}
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.folder):
                with contextlib.suppress(FileNotFoundError):  # (removed meanwhile: a compaction)
                    now[entry.name] = entry.stat().st_size
        if now != self.last:
            self.changes += 1
            self.last = now
        return self.changes


def embedded(
    tmp_path: Path, prepare: Callable[[pyoxigraph.Store], object]
) -> tuple[Path, Callable[[int | None], Callable[[], int]], Callable[[], Quads]]:
    """A store folder, a reset that puts back the prepared store, and its quads."""
    prepared, where = tmp_path / "prepared", tmp_path / "store"
    store = pyoxigraph.Store(str(prepared))
    prepare(store)
    store.flush()
    del store

    def reset(point: int | None) -> Callable[[], int]:
        shutil.rmtree(where, ignore_errors=True)
        shutil.copytree(prepared, where)
        changes = FolderChanges(where)
        changes()  # (as it is before the command runs)
        changes.changes = 0
        return changes

    def quads() -> Quads:
        store = pyoxigraph.Store(str(where))
        try:
            return set(store)
        finally:
            del store

    return where, reset, quads


@pytest.mark.slow
def test_kill_9_of_an_embedded_sync(exports: Exports, tmp_path: Path) -> None:
    where, reset, quads = embedded(
        tmp_path, lambda s: sync.sync(sync.EmbeddedTarget(s, "prepared"), Manifest(exports.old))
    )
    command = kg(str(exports.new), "--store", str(where))
    killed_then_rerun(command, command, reset, quads, clean_sync(exports))


@pytest.mark.slow
def test_kill_9_of_an_embedded_load(exports: Exports, tmp_path: Path) -> None:
    where, reset, quads = embedded(tmp_path, lambda s: load_store(s, collect([exports.old / "curations.nq"])))
    command = kg(str(exports.new / "curations.nq"), "--store", str(where))
    killed_then_rerun(command, command, reset, quads, clean_load(exports))


# --- a real Oxigraph server -------------------------------------------------------------------


class Relay:
    """A TCP relay on 127.0.0.1 to a server, counting the bytes clients send through it. Once
    `limit` bytes went through, it forwards nothing more and closes every connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url_port: int = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.sent = 0
        self.limit: int | None = None
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self, limit: int | None = None) -> Callable[[], int]:
        with self.lock:
            self.sent, self.limit = 0, limit
        return lambda: self.sent

    def close(self) -> None:
        self.listener.close()
        self._close_all()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.port), timeout=RUN_TIMEOUT)
            except OSError:
                return
            with self.lock:
                self.open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                cut = False
                if counted:
                    with self.lock:
                        room = len(data) if self.limit is None else max(self.limit - self.sent, 0)
                        cut = room < len(data)
                        data = data[:room]
                        self.sent += len(data)
                if data:
                    sink.sendall(data)
                if cut:
                    self._close_all()
                    return
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _close_all(self) -> None:
        with self.lock:
            sockets, self.open = self.open, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.close()


@pytest.fixture
def relay(oxigraph_server: Server) -> Iterator[Relay]:
    port = urlsplit(oxigraph_server.store_url).port
    assert port is not None
    relay = Relay(port)
    try:
        yield relay
    finally:
        relay.close()


def server_quads(server: Server) -> Quads:
    """Every quad the server holds (its Graph Store endpoint, the whole dataset as N-Quads)."""
    got = requests.get(server.store_url, headers={"Accept": "application/n-quads"}, timeout=RUN_TIMEOUT)
    got.raise_for_status()
    return set(pyoxigraph.parse(got.content, format=pyoxigraph.RdfFormat.N_QUADS))  # type: ignore[arg-type]


def put_back(server: Server, store: pyoxigraph.Store) -> None:
    """Make the server hold exactly what `store` holds: DROP ALL, then one POST of its quads."""
    update = server.query_url.replace("/query", "/update")
    requests.post(update, data={"update": "DROP ALL"}, timeout=RUN_TIMEOUT).raise_for_status()
    body = store.dump(format=pyoxigraph.RdfFormat.N_QUADS)
    headers = {"Content-Type": "application/n-quads"}
    requests.post(server.store_url, data=body, headers=headers, timeout=RUN_TIMEOUT).raise_for_status()
    assert server_quads(server) == set(store)


def kill_on_server(
    server: Server, relay: Relay, old: pyoxigraph.Store, args: list[str], clean: Quads
) -> None:
    """Through the relay, which stops the command's traffic at the kill point (then the
    command is killed); the re-run goes to the server directly."""

    def reset(point: int | None) -> Callable[[], int]:
        put_back(server, old)
        return relay.reset(point)

    through = urlsplit(server.store_url)._replace(netloc=f"127.0.0.1:{relay.url_port}").geturl()
    command, rerun = kg(*args, "--endpoint", through), kg(*args, "--endpoint", server.store_url)
    killed_then_rerun(command, rerun, reset, lambda: server_quads(server), clean)


@pytest.mark.server
@pytest.mark.slow
def test_kill_9_of_a_server_sync(oxigraph_server: Server, relay: Relay, half: Exports) -> None:
    old = pyoxigraph.Store()  # what a sync of the older export leaves in a store
    sync.sync(sync.EmbeddedTarget(old, "old"), Manifest(half.old))
    kill_on_server(oxigraph_server, relay, old, [str(half.new)], clean_sync(half))


@pytest.mark.server
@pytest.mark.slow
def test_kill_9_of_a_server_load(oxigraph_server: Server, relay: Relay, half: Exports) -> None:
    old = pyoxigraph.Store()
    load_store(old, collect([half.old / "curations.nq"]))
    kill_on_server(oxigraph_server, relay, old, [str(half.new / "curations.nq")], clean_load(half))
