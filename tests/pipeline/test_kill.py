"""A real `kg export` stopped by signals: Ctrl-C, SIGTERM, SIGHUP and kill -9, at seeded moments.

Each case starts `kg export --full --jobs=2` as a subprocess over a copy of the previous
outputs, stops it (once its worker processes exist, or at a seeded moment of its run, or at a
chosen step of the output commit), then checks that:
- stopped by SIGINT, SIGTERM or SIGHUP, it exits 2 with one line saying so, and every file in
  the output folder is byte for byte what it was (all or nothing);
- killed with SIGKILL, each output is the old or the new file, whole;
- no worker process outlives its parent (waited for, at most `GONE_WITHIN` seconds);
- the next export, started at once, succeeds, and its outputs are byte for byte a clean run's.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.pipeline.export import FORMATS, REPORT_NAME, export
from kg.publish import DESCRIPTION_NAME
from tests.conftest import ROOT
from tests.helpers.trees import make_tree

OUTPUTS = sorted([*FORMATS.values(), DESCRIPTION_NAME, REPORT_NAME])
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
#: Seconds a worker may take to die after its parent (Linux kills it with the parent).
GONE_WITHIN = 10.0
#: Seconds any one kg command may take here (a bound, not a measure: the machine may be busy).
RUN_WITHIN = 120.0
#: Runs `kg` after making the process kill itself (`signal` argv[3]) at the argv[2]-th call of
#: os.<argv[1]>: `link` keeps an output's previous version aside, `replace` renames one into place.
STOP_AT_CALL = """
import os, signal, sys
name, nth, signame = sys.argv[1], int(sys.argv[2]), sys.argv[3]
real, calls = getattr(os, name), [0]
def stop_at(*args, **kwargs):
    calls[0] += 1
    if calls[0] == nth:
        os.kill(os.getpid(), getattr(signal, signame))
    return real(*args, **kwargs)
setattr(os, name, stop_at)
from kg.cli import main
main(sys.argv[4:], prog_name="kg")
"""


@dataclass(frozen=True)
class Corpus:
    src: Path  # the sources the stopped exports export
    old: Path  # a previous export of other sources: what an export stopped midway must leave
    clean: Path  # a clean export of `src`: what the next export must give
    seconds: float  # how long a full export of `src` took here


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """1,024 curations (a pool of two workers runs for a while), and 64 more for the next export."""
    root = tmp_path_factory.mktemp("kill")
    src, old, clean = root / "src", root / "old", root / "clean"
    make_tree(src, 60)
    export([src], old, jobs=2)
    make_tree(src, 4, start=60)
    started = time.monotonic()
    export([src], clean, jobs=2)
    return Corpus(src, old, clean, time.monotonic() - started)


def everything(out: Path) -> dict[str, bytes]:
    """Every file in `out`, dot-files included (the manifest, temporaries)."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def changed(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """The names of the files added, removed or changed."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def visible(out: Path) -> dict[str, bytes]:
    return {name: data for name, data in everything(out).items() if not name.startswith(".")}


def kg(*args: str, stop_at: tuple[str, int, str] | None = None) -> list[str]:
    if stop_at is None:
        return [sys.executable, "-m", "kg.cli", *args]
    name, nth, signame = stop_at
    return [sys.executable, "-c", STOP_AT_CALL, name, str(nth), signame, *args]


_started: list[subprocess.Popen[bytes]] = []


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:  # a file, not a pipe: a surviving worker would hold a pipe open
        proc = subprocess.Popen(
            command, env=ENV, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
    _started.append(proc)
    return proc


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat from the state on (state, ppid, ...), None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def workers_of(pid: int) -> dict[int, str]:
    """The children of `pid`: pid -> start time (to tell a reused pid apart)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and fields[1] == str(pid):
                children[int(entry)] = fields[19]
    return children


def alive(workers: dict[int, str]) -> list[int]:
    """Those of `workers` still running (a zombie has died: only its exit status is left)."""
    left = []
    for pid, started in workers.items():
        fields = _stat(pid)
        if fields is not None and fields[19] == started and fields[0] != "Z":
            left.append(pid)
    return left


def wait_for_workers(proc: subprocess.Popen[bytes], count: int = 2) -> dict[int, str]:
    """The export's workers, once `count` of them run (empty if it ended first)."""
    deadline = time.monotonic() + RUN_WITHIN
    while proc.poll() is None and time.monotonic() < deadline:
        workers = workers_of(proc.pid)
        if len(workers) >= count:
            return workers
        time.sleep(0.002)
    return {}


def assert_workers_die(workers: dict[int, str]) -> None:
    deadline = time.monotonic() + GONE_WITHIN
    while alive(workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    left = {pid: _describe(pid) for pid in alive(workers)}
    assert left == {}, "workers outlived their parent"


def _describe(pid: int) -> str:
    """What a process is doing (for the message of a failed test)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        stack = Path(f"/proc/{pid}/wchan").read_text()
    except OSError as exc:
        return str(exc)
    keep = ("State", "PPid", "SigBlk", "SigIgn", "SigCgt")
    return " ".join(line for line in status if line.split(":")[0] in keep) + f" wchan {stack}"


@pytest.fixture
def out(tmp_path: Path, corpus: Corpus) -> Path:
    """The previous outputs (manifest too, times kept), for a stopped export to leave as they were."""
    folder = tmp_path / "out"
    shutil.copytree(corpus.old, folder)
    return folder


@pytest.fixture(autouse=True)
def _no_process_left() -> Iterator[None]:
    """Whatever a failed test left running (each kg runs in a process group of its own) is killed."""
    yield
    for proc in _started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    _started.clear()


def assert_next_export_is_clean(corpus: Corpus, out: Path) -> None:
    """Run at once (no wait for the lock): exit 0, and the outputs of a clean run."""
    done = subprocess.run(
        kg("export", str(corpus.src), "-o", str(out)), env=ENV, capture_output=True, timeout=RUN_WITHIN
    )
    assert done.returncode == 0, done.stderr.decode()
    assert visible(out) == visible(corpus.clean)
    assert [name for name in everything(out) if name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGINT, True), (signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGHUP, False)],
    ids=["ctrl-c", "sigint", "sigterm", "sighup"],
)
def test_a_stop_signal_ends_the_export_with_exit_2_and_the_outputs_as_they_were(
    corpus: Corpus, out: Path, tmp_path: Path, signum: int, group: bool
) -> None:
    """Ctrl-C reaches the whole process group (workers included), `kill` only the parent."""
    before = everything(out)
    log = tmp_path / "stderr"
    proc = start(kg("export", str(corpus.src), "-o", str(out), "--full", "--jobs=2"), log)
    workers = wait_for_workers(proc)
    assert workers, "the export ended before its workers could be seen"
    (os.killpg if group else os.kill)(proc.pid, signum)
    proc.wait(timeout=RUN_WITHIN)
    stderr = log.read_text()
    name = signal.Signals(signum).name
    assert_workers_die(workers)
    assert changed(before, everything(out)) == [], (proc.returncode, stderr)
    assert_next_export_is_clean(corpus, out)
    assert (proc.returncode, stderr) == (2, f"kg export: interrupted by {name}; nothing was replaced\n")


@pytest.mark.parametrize("command", ["load", "validate"])
def test_ctrl_c_ends_any_command_with_exit_2_and_a_message(
    corpus: Corpus, tmp_path: Path, command: str
) -> None:
    """Not click's "Aborted!" and exit 1 (which means "some files failed")."""
    if command == "validate" and (os.cpu_count() or 1) < 2:
        pytest.skip("kg validate exports in one process here: no worker to wait for")
    log = tmp_path / "stderr"
    extra = ["--store", str(tmp_path / "store"), "--jobs=2"] if command == "load" else []
    proc = start(kg(command, str(corpus.src), *extra), log)
    workers = wait_for_workers(proc)
    assert workers, f"kg {command} ended before its workers could be seen"
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=RUN_WITHIN)
    assert (proc.returncode, log.read_text()) == (2, f"kg {command}: interrupted by SIGINT\n")
    assert_workers_die(workers)


def test_kill_9_of_the_parent_takes_its_workers_and_its_lock(
    corpus: Corpus, out: Path, tmp_path: Path
) -> None:
    old = visible(out)
    proc = start(kg("export", str(corpus.src), "-o", str(out), "--full", "--jobs=2"), tmp_path / "log")
    workers = wait_for_workers(proc)
    assert workers, "the export ended before its workers could be seen"
    os.kill(proc.pid, signal.SIGKILL)  # the parent only: its workers must go by themselves
    proc.wait(timeout=RUN_WITHIN)
    assert visible(out) == old  # killed while its workers ran: nothing renamed yet
    assert_next_export_is_clean(corpus, out)  # at once: no worker holds the lock
    assert_workers_die(workers)


def _moments(corpus: Corpus) -> list[tuple[str, float | tuple[str, int, str]]]:
    """Seeded moments of the run, and steps of the output commit (six outputs with the manifest)."""
    rng = random.Random(13)
    moments: list[tuple[str, float | tuple[str, int, str]]] = [
        (f"at {f:.2f} of the run", f * corpus.seconds)
        for f in sorted(rng.uniform(0.05, 1.1) for _ in range(3))
    ]
    moments += [
        (f"before keeping output {n} aside", ("link", n, "SIGKILL")) for n in rng.sample(range(1, 7), 1)
    ]
    moments += [
        (f"before renaming output {n}", ("replace", n, "SIGKILL")) for n in sorted(rng.sample(range(1, 7), 2))
    ]
    return moments


@pytest.mark.slow
def test_kill_9_at_seeded_moments_then_a_rerun_gives_a_clean_runs_outputs(
    corpus: Corpus, tmp_path: Path
) -> None:
    """kill -9 of the parent alone, at seeded moments of its run and inside the commit of the
    outputs: each output is left old or new and whole, no worker outlives the parent, and
    the next run's outputs are a clean run's, byte for byte."""
    old, clean = visible(corpus.old), visible(corpus.clean)
    killed_while_running = 0
    for n, (moment, when) in enumerate(_moments(corpus)):
        out = tmp_path / f"out{n}"
        shutil.copytree(corpus.old, out)
        command = ["export", str(corpus.src), "-o", str(out), "--full", "--jobs=2"]
        proc = start(kg(*command, stop_at=None if isinstance(when, float) else when), tmp_path / "log")
        workers: dict[int, str] = {}
        if isinstance(when, float):
            deadline = time.monotonic() + when
            while proc.poll() is None and time.monotonic() < deadline:
                workers.update(workers_of(proc.pid))
                time.sleep(0.005)
            if proc.poll() is None:  # (else it ended first: its outputs are checked all the same)
                os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=RUN_WITHIN)
        killed_while_running += isinstance(when, float) and proc.returncode == -signal.SIGKILL
        left = visible(out)
        assert sorted(left) == OUTPUTS, moment
        for name, data in left.items():
            assert data in (old[name], clean[name]), (moment, name)
        if not isinstance(when, float):  # the commit renames in order: so many are new
            now = everything(out)
            renamed = [name for name, data in everything(corpus.old).items() if now[name] != data]
            assert proc.returncode == -signal.SIGKILL, moment
            assert len(renamed) == (when[1] - 1 if when[0] == "replace" else 0), moment
        assert_workers_die(workers)
        assert_next_export_is_clean(corpus, out)
    assert killed_while_running >= 1  # (the run's length varies with the machine's load)


@pytest.mark.parametrize("step", [("link", 3), ("replace", 1), ("replace", 4), ("replace", 6)])
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_stop_signal_during_the_commit_puts_back_the_outputs_already_renamed(
    corpus: Corpus, out: Path, tmp_path: Path, step: tuple[str, int], signame: str
) -> None:
    before = everything(out)
    log = tmp_path / "stderr"
    proc = start(kg("export", str(corpus.src), "-o", str(out), "--jobs=2", stop_at=(*step, signame)), log)
    proc.wait(timeout=RUN_WITHIN)
    assert changed(before, everything(out)) == [], log.read_text()
    assert (proc.returncode, log.read_text()) == (
        2,
        f"kg export: interrupted by {signame}; nothing was replaced\n",
    )
    assert_next_export_is_clean(corpus, out)


def test_a_process_forked_during_an_export_does_not_keep_its_lock(tmp_path: Path) -> None:
    """The lock is the parent's alone: a child forked while it is held (as the workers are) does
    not hold it, so it is free once the export is over, whatever the child does meanwhile."""
    import fcntl

    from kg.pipeline.commit import output_folder

    out = tmp_path / "out"
    started, running = os.pipe()
    with output_folder(out):
        child = os.fork()
        if child == 0:  # the child outlives the export by far, unless killed
            os.write(running, b"!")
            time.sleep(30)
            os._exit(0)
        assert os.read(started, 1) == b"!"  # (as workers run long before the export ends)
    os.close(started)
    os.close(running)
    try:
        fd = os.open(out, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if the child held it
        finally:
            os.close(fd)
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
