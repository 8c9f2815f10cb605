"""A real local Dask cluster for tests: a scheduler and two single-threaded workers on 127.0.0.1,
each its own process (no nanny), started from the venv's `dask` command and stopped by process id."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.servers import find_binary, free_port, stop

START_TIMEOUT = 60.0


@dataclass
class LocalCluster:
    """The scheduler's address and the processes, to stop (or kill) one by its id."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)


def _wait_for_workers(info: Path, count: int, processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    """Until the scheduler file lists `count` workers (the scheduler rewrites it as they join)."""
    from distributed import Client

    address = json.loads(info.read_text())["address"]
    with Client(address, timeout=START_TIMEOUT, set_as_default=False) as client:
        deadline = time.monotonic() + START_TIMEOUT
        while len(client.scheduler_info()["workers"]) < count:
            for process in processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a Dask process exited:\n{log.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Dask workers did not join within {START_TIMEOUT} s")
            time.sleep(0.2)


@contextlib.contextmanager
def local_cluster(tmp: Path, workers: int = 2) -> Iterator[LocalCluster]:
    """A scheduler and `workers` worker processes on 127.0.0.1; all stopped by pid at the end."""
    pytest.importorskip("distributed")
    dask = find_binary("dask")
    if dask is None:
        pytest.skip("the dask command is not installed")
    info, log = tmp / "scheduler.json", tmp / "dask.log"
    port = free_port()
    common = ["--no-dashboard"]
    with log.open("wb") as out:
        scheduler = subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--scheduler-file",
                str(info),
                *common,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        cluster = LocalCluster(f"tcp://127.0.0.1:{port}", scheduler)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not info.is_file():
                if scheduler.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the Dask scheduler did not start:\n{log.read_text(errors='replace')}"
                    )
                time.sleep(0.1)
            for _ in range(workers):
                cluster.workers.append(
                    subprocess.Popen(
                        [
                            dask,
                            "worker",
                            "--scheduler-file",
                            str(info),
                            "--host",
                            "127.0.0.1",
                            "--nthreads",
                            "1",
                            "--no-nanny",
                            *common,
                        ],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            _wait_for_workers(info, workers, [scheduler, *cluster.workers], log)
            yield cluster
        finally:
            for process in [*cluster.workers, scheduler]:
                stop(process)
