"""Faults while writing: kill -9 mid-run, a full disk, an unwritable folder, a concurrent export.

In every case the outputs already in the folder stay complete and valid (byte for byte what
they were), nothing partial becomes visible, and the CLI exits 2 with the folder named.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.pipeline.export import FORMATS, REPORT_NAME, export
from kg.pipeline.incremental import MANIFEST_NAME, recorder
from kg.publish import DESCRIPTION_NAME
from tests.conftest import EXAMPLES, ROOT, oxigraph_triples
from tests.helpers.trees import make_tree

OUTPUTS = sorted([*FORMATS.values(), DESCRIPTION_NAME, REPORT_NAME])
RDF_FORMATS = {
    "curations.ttl": pyoxigraph.RdfFormat.TURTLE,
    "curations.jsonld": pyoxigraph.RdfFormat.JSON_LD,
    "curations.nt": pyoxigraph.RdfFormat.N_TRIPLES,
    "curations.nq": pyoxigraph.RdfFormat.N_QUADS,
}




def snapshot(out: Path) -> dict[str, bytes]:
    """The visible outputs (temporaries are dot-files and may stay after a kill -9)."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".")}


def temporaries(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp"))


def assert_valid_rdf(outputs: dict[str, bytes]) -> None:
    reference = oxigraph_triples(outputs["curations.nt"], pyoxigraph.RdfFormat.N_TRIPLES)
    for name, fmt in RDF_FORMATS.items():
        assert oxigraph_triples(outputs[name], fmt) == reference, name


def kg_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kg.cli", "export", *args]


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.monotonic() - started


@pytest.mark.slow
def test_kill_9_at_any_moment_leaves_complete_outputs(tmp_path: Path) -> None:
    """Kill a real `kg export` (its whole process group) at moments spread over its run.

    The moments are fractions of how long the same run takes on this machine, from start-up
    to past its end (so some kills land in the renames, or after them).
    """
    src, out, expected, probe = (tmp_path / name for name in ("src", "out", "expected", "probe"))
    make_tree(src, 150)  # 2,400 curations
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    full_run = timed(kg_command(str(src), "-o", str(out)), env)
    old = snapshot(out)
    assert sorted(old) == OUTPUTS
    make_tree(src, 10, start=150)  # the next export differs: 160 more curations
    export([src], expected)
    new = snapshot(expected)
    assert_valid_rdf(old)
    assert_valid_rdf(new)
    shutil.copytree(out, probe)  # keeps modification times: still a usable manifest
    incremental_run = timed(kg_command(str(src), "-o", str(probe)), env)

    moments = [(f * incremental_run, "--jobs=2") for f in (0.4, 0.8)]  # incremental runs
    moments += [(f * full_run, "--full") for f in (0.1, 0.4, 0.7, 0.9, 1.0, 1.15)]
    killed_mid_run = 0
    for delay, mode in moments:
        proc = subprocess.Popen(
            kg_command(str(src), "-o", str(out), mode),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the kill takes the workers too
        )
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed_mid_run += proc.returncode == -signal.SIGKILL
        now = snapshot(out)
        state = "old" if now == old else "new" if now == new else "mixed"
        print(
            f"kill -9 after {delay:.2f} s ({mode}): exit {proc.returncode}, outputs {state}, "
            f"{len(temporaries(out))} temporaries left"
        )
        assert sorted(now) == OUTPUTS, (delay, mode)  # no partial or temporary file among them
        for name, data in now.items():  # each output is the old or the new file, whole
            assert data in (old[name], new[name]), (delay, mode, name)
        if now[REPORT_NAME] == new[REPORT_NAME]:  # report.json is renamed last
            assert now == new, (delay, mode)
    assert killed_mid_run >= 3  # kills really interrupted exports (the run time varies with the load)

    done = subprocess.run(kg_command(str(src), "-o", str(out)), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert temporaries(out) == []  # what the killed runs left is cleaned by the next one
    assert snapshot(out) == new


def test_stale_temporaries_of_kg_are_removed_and_others_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ours = [".curations.ttl.k3j_9x2a.tmp", ".report.json.abcdefgh.tmp", "..kg-manifest.json.0a1b2c3d.tmp"]
    theirs = [
        ".notes.tmp",
        ".curations.ttl.tmp",
        ".curations.ttl.abc.tmp",
        "draft.curations.ttl.12345678.tmp",
    ]
    for name in ours + theirs:
        (out / name).write_text("left over")
    export([EXAMPLES], out)
    assert temporaries(out) == sorted(theirs)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 200 KB tmpfs: a disk that fills up (needs root; skipped otherwise)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tiny tmpfs needs root and mount(8)")
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_keeps_the_previous_outputs_and_exits_2(tiny_disk: Path, tmp_path: Path) -> None:
    out = tiny_disk / "out"
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(sorted(EXAMPLES.glob("*.md"))[0], one)
    runner = CliRunner()
    assert runner.invoke(main, ["export", str(one), "-o", str(out)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}  # the manifest too
    result = runner.invoke(main, ["export", str(EXAMPLES), "-o", str(out)])  # ~600 KB: does not fit
    assert result.exit_code == 2
    assert f"cannot write outputs: {out}: " in result.stderr and "No space left on device" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing partial, no temporary


@pytest.mark.parametrize("failing", [1, 3])
def test_disk_full_midway_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int) -> None:
    """The same without root: a write of blocks fails with ENOSPC (the first, or a later one)."""
    from kg.pipeline.incremental import blocks

    out = tmp_path / "out"
    export([EXAMPLES], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = blocks._write_at
    calls = iter(range(1, 1000))

    def write_at(target: int, data: bytes, at: int) -> None:
        if next(calls) == failing:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(target, data, at)

    monkeypatch.setattr(blocks, "_write_at", write_at)
    result = CliRunner().invoke(main, ["export", str(EXAMPLES), "-o", str(out), "--full"])
    assert result.exit_code == 2 and f"{out}: " in result.stderr and "No space left" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("where", ["writeback", "copy"])
def test_an_io_error_in_a_background_write_fails_the_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Outputs are flushed to disk and unchanged blocks copied by threads: their errors count.

    An I/O error is reported once per file (Linux), so the one the writeback thread meets must
    fail the export even though the final fsync would not see it again.
    """
    from kg.pipeline import commit
    from kg.pipeline.incremental import blocks
    from kg.write.streams import OutputStreams

    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(EXAMPLES, src)
    export([src], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (src / sorted(p.name for p in src.glob("*.md"))[3]).write_text("---\ntitle: edited\n---\n")
    if where == "writeback":
        monkeypatch.setattr(commit.StagedOutputs, "WRITEBACK_BYTES", 1)
        monkeypatch.setattr(commit.StagedOutputs, "WRITEBACK_EVERY", 0.0)

        def fdatasync(fd: int) -> None:
            raise OSError(errno.EIO, "Input/output error")

        monkeypatch.setattr(os, "fdatasync", fdatasync)
        real_finish = OutputStreams.finish

        def finish(self: object, shared: object) -> None:  # give the writeback thread a look
            time.sleep(0.05)
            real_finish(self, shared)  # type: ignore[arg-type]

        monkeypatch.setattr(OutputStreams, "finish", finish)
    else:

        def copy_range(*args: int) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(blocks, "_copy_range", copy_range)
    running = set(threading.enumerate())  # (other tests' threads, e.g. the HTTP client's watchdog)
    result = CliRunner().invoke(main, ["export", str(src), "-o", str(out)])
    assert result.exit_code == 2 and f"{out}: " in result.stderr, result.stderr
    assert ("Input/output error" if where == "writeback" else "No space left") in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    left = [t.name for t in set(threading.enumerate()) - running if t.is_alive() and t.name.startswith("kg-")]
    assert left == [], "the export's own threads outlive it"


def test_output_path_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    result = CliRunner().invoke(main, ["export", str(EXAMPLES), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and f"'{tmp_path / 'out'}' is a file" in result.stderr


@pytest.mark.parametrize("how", ["a file in the way", "a read-only folder"])
def test_unwritable_output_folder_exits_2_naming_it(tmp_path: Path, how: str) -> None:
    out = tmp_path / "out"
    if how == "a file in the way":
        (tmp_path / "file").write_text("not a folder")
        out = tmp_path / "file" / "out"
    else:
        out.mkdir()
        if os.geteuid() == 0:  # root writes anywhere: a read-only mount is read-only for root too
            mounted = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", str(out)],
                capture_output=True,
                text=True,
            )
            if mounted.returncode != 0:
                pytest.skip(f"cannot mount a read-only tmpfs: {mounted.stderr.strip()}")
        else:
            out.chmod(0o555)
    try:
        result = CliRunner().invoke(main, ["export", str(EXAMPLES), "-o", str(out)])
        assert result.exit_code == 2, result.output
        assert f"cannot write outputs: {out}: " in result.stderr
        if how == "a read-only folder":
            assert list(out.iterdir()) == []
    finally:
        if how == "a read-only folder" and os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(out)], check=False)


def test_a_second_export_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export([EXAMPLES], out)
    before = snapshot(out)
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a running export holds it
        result = CliRunner().invoke(main, ["export", str(EXAMPLES), "-o", str(out), "--full"])
    finally:
        os.close(fd)
    assert result.exit_code == 2
    assert f"cannot write outputs: {out}: another kg export is writing to this folder" in result.stderr
    assert snapshot(out) == before


def test_a_file_edited_during_the_export_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    shutil.copytree(EXAMPLES, src)
    victim = sorted(src.glob("*.md"))[0]
    import kg.pipeline.workers

    real = kg.pipeline.workers.process

    def process_then_edit(
        source: kg.pipeline.workers.SourceFile, job: kg.pipeline.workers.Job
    ) -> kg.pipeline.workers.FileOutcome:
        outcome = real(source, job)
        if Path(source.path) == victim:  # edited right after it was read
            victim.write_text(victim.read_text() + "\nmore\n")
        return outcome

    monkeypatch.setattr(kg.pipeline.workers, "process", process_then_edit)
    runner = CliRunner()
    result = runner.invoke(main, ["export", str(src), "-o", str(tmp_path / "out"), "--jobs=1"])
    assert result.exit_code == 0
    assert f"CHANGED during the export (written as first read; run again): {victim.name}" in result.stderr
    report = (tmp_path / "out" / REPORT_NAME).read_text()
    assert f'"changed_during_run": [\n  "{victim.name}"\n ]' in report
    monkeypatch.setattr(kg.pipeline.workers, "process", real)
    again = runner.invoke(main, ["export", str(src), "-o", str(tmp_path / "out")])
    assert "1 processed" in again.stderr and "CHANGED" not in again.stderr


def test_a_reused_file_edited_during_the_export_is_picked_up_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file reused unread is exported as it was when listed; edited after that, the next run
    processes it (its stamp no longer matches), and the outputs equal a fresh full export."""
    import kg.pipeline.workers

    monkeypatch.setattr(recorder, "TRUST_MARGIN_NS", 0)  # every stamp recorded: reused unread
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(EXAMPLES, src)
    first, *_, last = sorted(src.glob("*.md"))
    assert export([src], out, jobs=1).reuse.processed > 2
    first.write_text(first.read_text() + "\nedited before the run\n")
    real = kg.pipeline.workers.process

    def process_then_edit(
        source: kg.pipeline.workers.SourceFile, job: kg.pipeline.workers.Job
    ) -> kg.pipeline.workers.FileOutcome:
        if Path(source.path) == first:  # `last` is listed already and is reused unread
            last.write_text(last.read_text() + "\nedited during the run\n")
        return real(source, job)

    monkeypatch.setattr(kg.pipeline.workers, "process", process_then_edit)
    during = export([src], out, jobs=1)
    assert (during.reuse.processed, during.changed_during_run) == (1, [])
    monkeypatch.setattr(kg.pipeline.workers, "process", real)
    after = export([src], out, jobs=1)
    assert after.reuse.processed == 1 and after.changed_during_run == []
    export([src], tmp_path / "fresh", jobs=1)
    for name in FORMATS.values():
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


def test_manifest_is_written_with_the_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export([EXAMPLES], out)
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUTS, MANIFEST_NAME])


def _everything(out: Path) -> dict[str, bytes]:
    """Every file in `out`, dot-files (manifest, temporaries) included."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def _two_exports(tmp_path: Path) -> tuple[Path, Path]:
    """An export of the examples in `out`, and a source tree whose export would differ."""
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(EXAMPLES, src)
    export([src], out)
    for victim in sorted(src.glob("*.md"))[:2]:
        victim.write_text(victim.read_text().replace("title:", "title: Edited", 1))
    return src, out


def test_a_folder_where_an_output_goes_replaces_no_output(tmp_path: Path) -> None:
    """report.json is renamed last: with a folder in its place, every other output was already
    replaced. The commit is all or nothing: nothing is replaced, exit 2 naming the file."""
    src, out = _two_exports(tmp_path)
    (out / REPORT_NAME).unlink()
    (out / REPORT_NAME).mkdir()
    before = _everything(out)
    result = CliRunner().invoke(main, ["export", str(src), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert f"cannot write outputs: {out / REPORT_NAME}: " in result.stderr
    assert "Traceback" not in result.stderr
    assert _everything(out) == before and (out / REPORT_NAME).is_dir()


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """Files made immutable with chattr +i (made mutable again at the end); skipped where
    chattr is missing or refused (not root, a filesystem without the attribute)."""
    files: list[Path] = []
    yield files
    for path in files:
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)


def test_an_immutable_output_replaces_no_output(tmp_path: Path, immutable: list[Path]) -> None:
    src, out = _two_exports(tmp_path)
    target = out / "curations.nq"  # renamed after .ttl, .jsonld and .nt
    if shutil.which("chattr") is None:
        pytest.skip("no chattr here")
    made = subprocess.run(["chattr", "+i", str(target)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {made.stderr.strip()}")
    immutable.append(target)
    before = _everything(out)
    result = CliRunner().invoke(main, ["export", str(src), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert f"cannot write outputs: {target}: " in result.stderr and "no output was replaced" in result.stderr
    assert _everything(out) == before


@pytest.mark.parametrize("failing", range(1, 8))
@pytest.mark.parametrize("previous", [True, False], ids=["previous outputs", "first export"])
def test_a_rename_failing_midway_puts_back_those_already_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int, previous: bool
) -> None:
    """The same for any of the seven renames (four formats, manifest, void.ttl, report), simulated."""
    src, out = _two_exports(tmp_path)
    if not previous:
        shutil.rmtree(out)
    before = _everything(out) if previous else {}
    real = os.replace
    calls = iter(range(1, 1000))

    def replace(source: str, target: str) -> None:
        if next(calls) == failing:
            raise OSError(errno.EIO, "Input/output error")
        real(source, target)

    monkeypatch.setattr("kg.pipeline.commit.os.replace", replace)
    result = CliRunner().invoke(main, ["export", str(src), "-o", str(out)])
    monkeypatch.setattr("kg.pipeline.commit.os.replace", real)
    assert result.exit_code == 2, result.output
    assert "Input/output error; no output was replaced" in result.stderr
    assert _everything(out) == before  # no temporary, nothing kept aside left either
    assert CliRunner().invoke(main, ["export", str(src), "-o", str(out)]).exit_code == 0
