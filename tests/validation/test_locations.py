"""Results on sources carry the line and column of their front-matter key (kg.validation.locations)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.map.curation import IriScheme
from kg.rdf.vocab import KG
from kg.validation.locations import Locator, artifact_path
from kg.validation.model import Location, ValidationResult
from kg.validation.validate import load_shapes, validate_inputs
from tests.helpers.ci_sources import BROKEN_LINES, make_repository


def test_results_on_sources_point_at_the_line_and_column_of_their_key(tmp_path: Path) -> None:
    folder = make_repository(tmp_path)
    report = validate_inputs([folder], load_shapes())
    places = {r.key: r.location() for r in report.results if r.source_files == ("broken.md",)}
    broken = str(folder / "broken.md")
    assert places == {
        "slug": Location(broken, *BROKEN_LINES["slug"]),
        "link.href": Location(broken, *BROKEN_LINES["link.href"]),  # no href: the `link` it belongs in
        "featuredImage": Location(broken),  # not written in the file: no line
    }
    [failed] = [r for r in report.results if r.source_files == ("bad-yaml.md",)]
    assert failed.location() == Location(str(folder / "bad-yaml.md"), 4, 1)  # where the YAML breaks


def test_a_result_about_one_list_item_points_at_that_item(tmp_path: Path) -> None:
    folder = make_repository(tmp_path)
    iris = IriScheme()
    topic = ValidationResult(
        focus_node=iris.base + "curation/x",
        path=str(KG.topic),
        value=iris.topic("Medigy", "Telemedicine"),
        severity="Violation",
        message="m",
        source_shape=None,
        constraint_component=None,
        source_files=("broken.md",),
        key="communityTopics",
    )
    located = Locator({"broken.md": str(folder / "broken.md")}, iris).locate(topic)
    assert located.location() == Location(str(folder / "broken.md"), *BROKEN_LINES["communityTopics[1]"])
    other = Locator({"broken.md": str(folder / "broken.md")}, iris).locate(
        ValidationResult(**{**_fields(topic), "value": iris.topic("Other", "Topic")})
    )
    assert other.location() == Location(str(folder / "broken.md"), 9, 1)  # not an item: the list's key


def _fields(r: ValidationResult) -> dict[str, object]:
    return {name: getattr(r, name) for name in ValidationResult.__dataclass_fields__}


def test_results_of_rdf_files_have_no_location(tmp_path: Path) -> None:
    folder = make_repository(tmp_path)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["export", str(folder), "-o", str(out)]).exit_code == 1  # bad-yaml.md
    report = validate_inputs([out / "curations.nq"], load_shapes())
    assert report.results and all(r.locations == () for r in report.results)


def test_the_text_report_shows_path_line_and_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_repository(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "content/curations"])
    assert result.exit_code == 1
    line, column = BROKEN_LINES["slug"]
    expected = f"\n  content/curations/broken.md:{line}:{column}: INFO      slug: slug starts with '-'"
    assert expected in result.stdout
    assert "\n  content/curations/broken.md: WARNING   featuredImage: No featured image" in result.stdout


def test_paths_are_relative_to_the_repository_root_or_the_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_repository(tmp_path / "repo")
    monkeypatch.chdir(folder)
    assert artifact_path("broken.md") == "content/curations/broken.md"
    assert artifact_path(str(folder / "broken.md"), tmp_path) == "repo/content/curations/broken.md"
    outside = tmp_path / "elsewhere" / "x.md"
    outside.parent.mkdir()
    outside.write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert artifact_path(str(outside)) == "x.md"  # no .git above it: the current folder


def test_json_results_carry_the_line_and_column(tmp_path: Path) -> None:
    folder = make_repository(tmp_path)
    result = CliRunner().invoke(main, ["validate", str(folder), "-f", "json"])
    slug = next(r for r in json.loads(result.stdout) if r["key"] == "slug")
    line, column = BROKEN_LINES["slug"]
    assert (slug["line"], slug["column"]) == (line, column)
    path = str(folder / "broken.md")
    assert slug["locations"] == [{"source_file": "broken.md", "path": path, "line": line, "column": column}]
