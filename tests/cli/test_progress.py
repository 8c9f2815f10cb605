"""Progress on long commands only on a terminal; --quiet and --verbose (kg.cli.progress)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kg.cli import main
from tests.helpers.ci_sources import make_repository
from tests.helpers.terminal import run_on_a_terminal

#: The graphs of `make_repository`'s one exported curation (broken.md), under `{base}graph/`.
BROKEN_GRAPHS = (
    "curation/3f1c2b9e-0a4d-4e5b-9c6d-7e8f9a0b1c2d",
    "topic/KLAS/Telehealth",
    "topic/Medigy/Telemedicine",
    "scheme/KLAS",
    "scheme/Medigy",
    "community/Chronic_Care_Management_%28CCM%29",
    "brand/example.com",
    "owl-type/Medigy_Communities",
    "work-package-type/Curated_Content",
)


def test_validate_draws_progress_on_a_terminal_only(corpus_dir: Path, tmp_path: Path) -> None:
    code, drawn = run_on_a_terminal(["validate", str(corpus_dir), "-o", str(tmp_path / "r.txt")], "stderr")
    assert code == 0
    assert "validating" in drawn and "100%" in drawn
    piped = subprocess.run(
        [sys.executable, "-m", "kg.cli", "validate", str(corpus_dir), "-o", str(tmp_path / "r.txt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert piped.returncode == 0
    assert piped.stderr.startswith("kg validate: 400 curations") and piped.stderr.count("\n") == 1
    assert "\r" not in piped.stderr and "validating" not in piped.stderr


def test_load_draws_no_progress_when_not_a_terminal(corpus_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["load", str(corpus_dir), "--store", str(tmp_path / "store")])
    assert result.exit_code == 0
    # 400 curation graphs + 363 graphs of the shared nodes they link to (kg.map.nodes)
    assert result.stderr.startswith("kg load: 763 graphs") and "\r" not in result.stderr
    assert "loading" not in result.stderr


def test_quiet_keeps_errors_and_the_exit_code_and_drops_the_rest(tmp_path: Path) -> None:
    folder = make_repository(tmp_path / "repo")
    load = CliRunner().invoke(main, ["load", str(folder), "--store", str(tmp_path / "s"), "--quiet"])
    assert load.exit_code == 1  # bad-yaml.md failed to export
    assert "1 failed" in load.stderr and "bad-yaml.md" in load.stderr
    assert "graphs (" not in load.stderr  # the summary of what was loaded
    validate = CliRunner().invoke(main, ["validate", str(folder), "--quiet"])
    assert validate.exit_code == 1
    assert "VIOLATION the file could not be exported" in validate.stdout
    assert "WARNING" not in validate.stdout and "INFO" not in validate.stdout  # below --fail-on
    broken = str(folder / "broken.md")
    written = CliRunner().invoke(main, ["validate", broken, "-q", "-o", str(tmp_path / "r")])
    assert written.exit_code == 0 and written.stderr == ""  # conforms: nothing to say


def test_verbose_adds_a_line_per_file(tmp_path: Path) -> None:
    folder = make_repository(tmp_path / "repo")
    validate = CliRunner().invoke(main, ["validate", str(folder), "--verbose", "-o", str(tmp_path / "r")])
    assert validate.stderr.splitlines()[:3] == [
        "kg validate: bad-yaml.md: fails (1 violation)",
        "kg validate: broken.md: ok (2 warnings, 1 info)",
        "kg validate: page.md: skipped: no front matter (file does not start with '---')",
    ]
    load = CliRunner().invoke(main, ["load", str(folder), "--store", str(tmp_path / "s"), "-v"])
    assert "kg load: broken.md: exported\n" in load.stderr
    assert "kg load: page.md: skipped: no front matter" in load.stderr
    both = CliRunner().invoke(main, ["load", str(folder), "-q", "-v"])
    assert both.exit_code == 2 and "choose one of --quiet, --verbose" in both.stderr


def test_sync_says_each_graph_when_verbose_and_nothing_when_quiet(tmp_path: Path) -> None:
    folder = make_repository(tmp_path / "repo")
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["export", str(folder), "-o", str(out)]).exit_code == 1  # bad-yaml.md
    store = str(tmp_path / "store")
    verbose = CliRunner().invoke(main, ["load", str(out), "--store", store, "-v"])
    assert verbose.exit_code == 1  # the export has a failed file
    replaced = [line for line in verbose.stderr.splitlines() if line.startswith("kg load: replaced ")]
    # broken.md's graph and those of the 8 shared nodes it links to (its 2 topics and their 2
    # schemes, its community, brand, owlType and work-package type), one line each
    base = "kg load: replaced https://w3id.org/medigy/kg/id/graph/"
    assert sorted(replaced) == [base + g for g in sorted(BROKEN_GRAPHS)]
    quiet = CliRunner().invoke(main, ["load", str(out), "--store", store, "--full", "-q"])
    assert quiet.exit_code == 1
    assert quiet.stderr == f"kg load: 1 source files failed to export (see {out}/report.json)\n"
