"""`kg export --scheduler`: the per-file work done by a real local Dask cluster (a scheduler and
two worker processes on 127.0.0.1) gives the same output bytes as a single-machine export."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.helpers.cluster import LocalCluster, local_cluster
from tests.helpers.servers import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with local_cluster(tmp_path_factory.mktemp("dask")) as running:
        yield running


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """The real corpus, copied so that a test may edit it."""
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not present at {CORPUS}")
    return Path(shutil.copytree(CORPUS, tmp_path / "sources"))


def kg(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *map(str, args)], capture_output=True, text=True, timeout=600
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def outputs(folder: Path) -> dict[str, bytes]:
    """Every output file's bytes (report.json holds no timings), the manifest aside (it records
    the files' stamps)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != ".kg-manifest.json"}


def test_cluster_export_equals_a_single_machine_export(
    cluster: LocalCluster, sources: Path, tmp_path: Path
) -> None:
    local = kg("export", sources, "-o", tmp_path / "local", "--validate", "-j", "2")
    before = [cpu_seconds(w.pid) for w in cluster.workers]
    remote = kg("export", sources, "-o", tmp_path / "cluster", "--validate", "--scheduler", cluster.address)
    worked = [cpu_seconds(w.pid) - b for w, b in zip(cluster.workers, before, strict=True)]
    assert all(seconds > 0.2 for seconds in worked), f"CPU seconds per worker: {worked}"  # both did work
    assert local.returncode == remote.returncode, remote.stderr
    assert remote.returncode in (0, 1), remote.stderr
    assert outputs(tmp_path / "cluster") == outputs(tmp_path / "local")
    assert json.loads((tmp_path / "cluster" / "report.json").read_bytes())["totals"]["exported"] > 300


def test_incremental_cluster_export_equals_a_full_one(
    cluster: LocalCluster, sources: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert kg("export", sources, "-o", out, "--scheduler", cluster.address).returncode in (0, 1)
    edited = sorted(sources.glob("*.md"))[7]
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("title:", "title: Edited", 1), encoding="utf-8"
    )
    again = kg("export", sources, "-o", out, "--scheduler", cluster.address)
    assert again.returncode in (0, 1), again.stderr
    assert kg("export", sources, "-o", tmp_path / "full", "--full", "-j", "1").returncode in (0, 1)
    assert outputs(out) == outputs(tmp_path / "full")
    assert b"Edited" in (out / "curations.nq").read_bytes()


def test_unreachable_scheduler_is_exit_2_and_replaces_nothing(sources: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    assert kg("export", sources, "-o", out).returncode in (0, 1)
    before = outputs(out)
    edited = sorted(sources.glob("*.md"))[3]  # so that there is work to send
    edited.write_text(edited.read_text(encoding="utf-8") + "\nmore body\n", encoding="utf-8")
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    result = kg("export", sources, "-o", out, "--scheduler", address, "--scheduler-timeout", "2")
    assert result.returncode == 2, result.stderr
    assert f"cannot reach the Dask scheduler at {address}" in result.stderr
    assert "Traceback" not in result.stderr
    assert outputs(out) == before


def test_jobs_and_scheduler_exclude_each_other(tmp_path: Path) -> None:
    result = kg("export", "-o", tmp_path / "out", "-j", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert result.returncode == 2
    assert "exclude each other" in result.stderr
