"""JUnit for CI (kg.validation.reports): files relative to the repository root or --path-base,
with the line, and pages that are not curations skipped, not passed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph

from kg.cli import main
from kg.validation.model import Location, ValidationReport, ValidationResult
from kg.validation.reports import text_report
from tests.helpers.ci_sources import BROKEN_LINES, make_repository


def junit(*args: str) -> tuple[int, ET.Element]:
    result = CliRunner().invoke(main, ["validate", *args, "-f", "junit"], catch_exceptions=False)
    return result.exit_code, ET.fromstring(result.stdout)


def test_junit_names_files_from_the_repository_root_with_their_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_repository(tmp_path / "repo")
    monkeypatch.chdir(tmp_path)  # outside the repository: the paths are still from its root
    code, suites = junit(str(folder), "--fail-on", "warning")
    assert code == 1
    assert (suites.get("tests"), suites.get("failures"), suites.get("skipped")) == ("3", "2", "1")
    cases = {c.get("name"): c for c in suites.iter("testcase")}
    broken = cases["broken.md"]
    assert broken.get("file") == "content/curations/broken.md"
    assert broken.get("line") == str(BROKEN_LINES["link.href"][0])  # the first failing result with a line
    failure = broken.find("failure")
    assert failure is not None
    assert f"content/curations/broken.md:{BROKEN_LINES['link.href'][0]}: WARNING" in (failure.text or "")
    assert cases["bad-yaml.md"].get("line") == "4"


def test_pages_that_are_not_curations_are_skipped_with_the_reason(tmp_path: Path) -> None:
    folder = make_repository(tmp_path)
    _, suites = junit(str(folder))
    page = next(c for c in suites.iter("testcase") if c.get("name") == "page.md")
    skipped = page.find("skipped")
    assert skipped is not None and "no front matter" in (skipped.get("message") or "")
    assert page.find("failure") is None
    passed = [c for c in suites.iter("testcase") if len(c) == 0 or c[0].tag == "system-out"]
    assert [c.get("name") for c in passed] == ["broken.md"]  # a warning passes; the page is not a pass


def test_path_base_names_files_from_the_folder_given(tmp_path: Path) -> None:
    folder = make_repository(tmp_path / "repo")
    _, suites = junit(str(folder), "--path-base", str(tmp_path / "repo" / "content"))
    files = sorted(str(c.get("file")) for c in suites.iter("testcase"))
    assert files == ["curations/bad-yaml.md", "curations/broken.md", "curations/page.md"]


def test_a_shared_result_lists_its_place_in_every_file() -> None:
    shared = ValidationResult(
        focus_node="https://example.org/topic/x",
        path=None,
        value=None,
        severity="Violation",
        message="two labels",
        source_shape=None,
        constraint_component=None,
        source_files=("a.md", "b.md"),
        key="communityTopics",
        locations=(("a.md", Location("src/a.md", 9, 3)), ("b.md", Location("src/b.md"))),
    )
    text = text_report(ValidationReport([shared], Graph(), files=["a.md", "b.md"]))
    assert "shared by 2 files: a.md, b.md\n  VIOLATION communityTopics: two labels\n" in text
    assert "\n            at src/a.md:9:3, src/b.md\n" in text
