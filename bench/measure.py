"""Measuring helpers: stage timers, peak RSS of this process, and of a whole process tree.

Peak RSS is measured per pipeline in a fresh child process, so earlier pipelines cannot pollute
it: the child reports its own `ru_maxrss` after every stage (a high-water mark: "peak so far"),
and the parent samples the proportional set size (PSS) of the child and all its descendants
(worker processes included) from /proc while it runs.
"""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def peak_rss_self_mb() -> float:
    """High-water resident set size of this process in MB (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_children_mb() -> float:
    """Largest high-water RSS among this process's terminated, waited-for children, in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@dataclass
class Stages:
    """Ordered stage timings of one pipeline run, with the peak RSS reached by each stage's end."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str, **extra: Any) -> Iterator[dict[str, Any]]:
        row: dict[str, Any] = {"stage": name, **extra}
        started = time.perf_counter()
        yield row
        row["seconds"] = time.perf_counter() - started
        row["peak_rss_mb"] = peak_rss_self_mb()
        self.rows.append(row)

    @contextmanager
    def part(self, name: str) -> Iterator[dict[str, Any]]:
        """Time one part of stage `name`: the parts' seconds add up in one row (first use orders it).

        For stages run batch by batch, so that what one batch makes is dropped before the next.
        """
        row = next((r for r in self.rows if r["stage"] == name and "seconds" in r), None)
        if row is None:
            row = {"stage": name, "seconds": 0.0}
            self.rows.append(row)
        started = time.perf_counter()
        yield row
        row["seconds"] += time.perf_counter() - started
        row["peak_rss_mb"] = peak_rss_self_mb()

    def note(self, name: str, message: str) -> None:
        """A stage that was not run, with the reason (printed in the report)."""
        self.rows.append({"stage": name, "skipped": message})


def _tree_pss_bytes(root: int) -> int:
    """Current PSS of `root` and all its descendants (0 when it has exited).

    PSS (proportional set size) shares pages that forked workers still have in common with
    their parent, so the sum is the memory the tree really holds; summing RSS would count
    copy-on-write pages once per process.

    Descendants are found from the parent pid in /proc/PID/stat (not every kernel offers
    /proc/PID/task/TID/children).
    """
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(name)] = int(fields[1])
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue
    return total


@dataclass
class ChildRun:
    returncode: int
    seconds: float
    tree_peak_pss_mb: float
    stdout: str
    stderr: str
    #: High-water RSS of the largest single process of the tree (the child or a waited-for
    #: descendant), from wait4's rusage: exact, where the sampled PSS can miss a short peak.
    max_rss_mb: float = 0.0
    #: User + system CPU seconds of the child and its waited-for descendants (wait4's rusage):
    #: the work done, which other load on a shared machine disturbs less than the wall time.
    cpu_seconds: float = 0.0


def run_child(cmd: list[str], env: dict[str, str], cwd: Path, interval: float = 0.2) -> ChildRun:
    """Run `cmd` to completion, sampling the peak PSS of its whole process tree."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err, text=True)
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, _tree_pss_bytes(proc.pid))
                stop.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            stop.set()
            sampler.join()
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(proc.returncode, seconds, peak / 2**20, stdout, stderr, usage.ru_maxrss / 1024, cpu)
