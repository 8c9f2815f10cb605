"""kill -9 of `kg load` and of a sync (`kg load EXPORT_FOLDER`) at seeded random moments.

Each case starts from the same store (the embedded one on disk, or a real `oxigraph serve` on
127.0.0.1) holding an older export, runs the command as a real process, kills its process
group with SIGKILL at a moment drawn from a seeded generator over the command's own run time
(measured first on this machine), then runs the same command again: it must exit 0 and leave
the store equal, quad for quad, to a clean run's. The corpus: a few hundred curations (the
examples, copied with new names), where the newer export drops some, changes some, adds some.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest
import requests

from kg import sync
from kg.export import export
from kg.incremental import Manifest
from kg.store import collect, load_store
from tests.conftest import ROOT
from tests.servers import Server
from tests.test_faults import make_tree

#: Kills per case, and the seed of the moments they land at.
KILLS = 3
SEED = 13
#: Copies of the 16 examples: the older export holds copies 0-11 (192 curations), the newer
#: 3-14 (3-5 edited): 48 curations dropped, 48 changed, 48 added, 96 the same.
OLD, NEW, EDITED = range(0, 12), range(3, 15), range(3, 6)
RUN_TIMEOUT = 60.0


@dataclass
class Exports:
    old: Path  # export folders, and their curations.nq for plain loads
    new: Path


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    work = tmp_path_factory.mktemp("kill-corpus")
    folders = []
    for name, copies in (("old", OLD), ("new", NEW)):
        src = work / f"{name}-src"
        make_tree(src, len(copies), start=copies.start)
        if name == "new":
            for copy in EDITED:
                for path in (src / f"copy{copy:04d}").glob("*.md"):
                    path.write_text(path.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
        export([src], work / name)
        folders.append(work / name)
    return Exports(*folders)


def kg(*args: str) -> list[str]:
    return [sys.executable, "-m", "kg.cli", "load", *args]


def run(command: list[str], exit_code: int = 0) -> tuple[float, str]:
    """Run to the end (exit 0, or the given code); how long it took, and its last line."""
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert done.returncode == exit_code, done.stderr
    assert "Traceback" not in done.stderr
    return time.monotonic() - started, (done.stderr.strip().splitlines() or [""])[-1]


def kill_at(command: list[str], delay: float) -> int:
    """Start `command` in its own process group, SIGKILL the group after `delay` s; its exit code."""
    process = subprocess.Popen(
        command,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=RUN_TIMEOUT)
    return process.returncode


def moments(startup: float, total: float) -> list[float]:
    """Seeded moments over the command's work, from the end of its start-up (measured) to a
    little past the end of a full run: one drawn in each of KILLS equal spans."""
    rng = random.Random(SEED)
    span = max(total * 1.1 - startup, 0.05) / KILLS
    return [startup + (i + rng.random()) * span for i in range(KILLS)]


def killed_then_rerun(
    command: list[str], startup: float, reset: Callable[[], None], quads: Callable[[], Quads], clean: Quads
) -> None:
    """Measure the command, then for each moment: reset the store, kill the command at that
    moment, run it again; the store must equal `clean` after every re-run."""
    reset()
    total, _ = run(command)
    assert quads() == clean  # the uninterrupted run is a clean run
    interrupted = 0
    for delay in moments(startup, total):
        reset()
        code = kill_at(command, delay)
        interrupted += code == -signal.SIGKILL
        _, said = run(command)
        assert quads() == clean, f"kill -9 after {delay:.2f} s (exit {code})"
        print(f"kill -9 after {delay:.2f} s of a {total:.2f} s run (exit {code}), then: {said}")
    assert interrupted >= KILLS // 2  # most kills landed while the command was running


# --- reference results ------------------------------------------------------------------------

Quads = set[pyoxigraph.Quad]  # (kg's graphs have no blank nodes: sets of quads compare as graphs)


def clean_sync(exports: Exports) -> pyoxigraph.Store:
    """An empty store synced once from the newer export."""
    store = pyoxigraph.Store()
    sync.sync(sync.EmbeddedTarget(store, "clean"), Manifest(exports.new))
    return store


def clean_load(exports: Exports) -> pyoxigraph.Store:
    """An empty store loaded with the older export's curations.nq, then the newer one's."""
    store = pyoxigraph.Store()
    for folder in (exports.old, exports.new):
        load_store(store, collect([folder / "curations.nq"]))
    return store


# --- the embedded store -----------------------------------------------------------------------


def embedded(
    tmp_path: Path, prepare: Callable[[pyoxigraph.Store], object]
) -> tuple[Path, Callable[[], None], Callable[[], Quads]]:
    """A store folder, a reset that puts back the prepared store, and its quads."""
    prepared, where = tmp_path / "prepared", tmp_path / "store"
    store = pyoxigraph.Store(str(prepared))
    prepare(store)
    store.flush()
    del store

    def reset() -> None:
        shutil.rmtree(where, ignore_errors=True)
        shutil.copytree(prepared, where)

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
    reset()
    startup, _ = run([*command, "--dry-run"])  # up to the plan: nothing written
    killed_then_rerun(command, startup, reset, quads, set(clean_sync(exports)))


@pytest.mark.slow
def test_kill_9_of_an_embedded_load(exports: Exports, tmp_path: Path) -> None:
    where, reset, quads = embedded(tmp_path, lambda s: load_store(s, collect([exports.old / "curations.nq"])))
    nq = str(exports.new / "curations.nq")
    command = kg(nq, "--store", str(where))
    (tmp_path / "file").touch()  # a store that cannot be opened: start-up, up to opening it
    startup, _ = run(kg(nq, "--store", str(tmp_path / "file" / "store")), exit_code=2)
    killed_then_rerun(command, startup, reset, quads, set(clean_load(exports)))


# --- a real Oxigraph server -------------------------------------------------------------------


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


@pytest.mark.server
@pytest.mark.slow
def test_kill_9_of_a_server_sync(oxigraph_server: Server, exports: Exports) -> None:
    old = pyoxigraph.Store()  # what a sync of the older export leaves in a store
    sync.sync(sync.EmbeddedTarget(old, "old"), Manifest(exports.old))
    command = kg(str(exports.new), "--endpoint", oxigraph_server.store_url)
    put_back(oxigraph_server, old)
    startup, _ = run([*command, "--dry-run"])  # up to the plan: nothing written
    killed_then_rerun(
        command,
        startup,
        lambda: put_back(oxigraph_server, old),
        lambda: server_quads(oxigraph_server),
        set(clean_sync(exports)),
    )


@pytest.mark.server
@pytest.mark.slow
def test_kill_9_of_a_server_load(oxigraph_server: Server, exports: Exports) -> None:
    old = pyoxigraph.Store()
    load_store(old, collect([exports.old / "curations.nq"]))
    nq = str(exports.new / "curations.nq")
    command = kg(nq, "--endpoint", oxigraph_server.store_url)
    nowhere = oxigraph_server.store_url.replace("/store", "/nowhere")  # up to the first write (a 404)
    startup, _ = run(kg(nq, "--endpoint", nowhere, "--retries=0"), exit_code=2)
    killed_then_rerun(
        command,
        startup,
        lambda: put_back(oxigraph_server, old),
        lambda: server_quads(oxigraph_server),
        set(clean_load(exports)),
    )
