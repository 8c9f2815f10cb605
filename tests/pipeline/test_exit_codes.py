"""`kg export` exit codes, as the README documents them: 0 all exported or skipped, 1 some files
failed (the rest still written), 2 usage or fatal error (nothing replaced)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import EXAMPLES, ROOT
from tests.helpers.trees import SITE


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["export", *args])
    return result.exit_code, result.stderr


def test_0_everything_exported(tmp_path: Path) -> None:
    assert run(str(EXAMPLES), "-o", str(tmp_path))[0] == 0


def test_0_when_the_other_pages_are_skipped(tmp_path: Path) -> None:
    assert run(str(SITE), "-o", str(tmp_path))[0] == 0


def test_1_some_files_failed_and_the_rest_is_written(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(EXAMPLES, src)
    (src / "broken.md").write_text("---\ntitle: [unclosed\nmdName: x\n---\n")
    code, stderr = run(str(src), "-o", str(tmp_path / "out"))
    assert code == 1 and "FAILED  broken.md: front matter is not valid YAML at line" in stderr
    assert "16 exported" in stderr and (tmp_path / "out" / "curations.nq").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "no such file or folder"),
        (["{examples}", "-f", "xml"], "unknown format 'xml'"),
        (["{examples}", "--base-iri", "https://example.org/id"], "must end with '/' or '#'"),
        (["{examples}", "--no-such-option"], "No such option"),
        (["{examples}", "--jobs", "0"], "--jobs"),
    ],
)
def test_2_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    values = {"missing": str(tmp_path / "missing"), "examples": str(EXAMPLES)}
    code, stderr = run(*[a.format(**values) for a in args], "-o", str(tmp_path / "out"))
    assert code == 2 and message in stderr
    assert not (tmp_path / "out" / "curations.ttl").exists()


def test_2_strict_stops_at_the_first_problem_and_writes_nothing(tmp_path: Path) -> None:
    code, stderr = run(str(SITE), "-o", str(tmp_path), "--strict")
    assert code == 2 and "--strict: " in stderr and "zero-trust-for-clinics.md: date" in stderr
    assert list(tmp_path.iterdir()) == []


def test_2_a_source_folder_that_cannot_be_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: object) -> object:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("kg.read.sources.os.scandir", refuse)
    code, stderr = run(str(EXAMPLES), "-o", str(tmp_path))
    assert code == 2 and f"{EXAMPLES}: cannot list the folder: Permission denied" in stderr


def test_2_an_internal_error_is_fatal_not_a_file_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    run(str(EXAMPLES), "-o", str(out))
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("kg.write.streams.OutputStreams.finish", bug)
    code, stderr = run(str(EXAMPLES), "-o", str(out), "--full")
    assert code == 2 and "kg export: internal error: RuntimeError: a bug; nothing was replaced" in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_2_when_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("kg.write.streams.OutputStreams.finish", interrupt)
    code, stderr = run(str(EXAMPLES), "-o", str(tmp_path))
    assert code == 2 and "kg export: interrupted; nothing was replaced" in stderr
    assert [p.name for p in tmp_path.iterdir()] == []


def test_exit_codes_are_documented() -> None:
    root = ROOT
    guide = (root / "docs" / "export.md").read_text()
    section = guide.split("## Guarantees: bad input, crashes and re-runs", 1)[1]
    readme = (root / "README.md").read_text().split("## Exit codes", 1)[1]
    for code in ("**0**", "**1**", "**2**"):
        assert code in section and code in readme


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root reads every file: covered with a simulation in test_sources"
)
def test_1_an_unreadable_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(EXAMPLES, src)
    locked = sorted(src.glob("*.md"))[0]
    locked.chmod(0)
    code, stderr = run(str(src), "-o", str(tmp_path / "out"))
    assert code == 1 and f"{locked.name}: cannot read: Permission denied" in stderr
