"""`kg validate --format sarif`: SARIF 2.1.0 valid against the official schema (vendored in
tests/fixtures/sarif), rules from the shapes, results located at file, line and column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import TESTS
from tests.helpers.ci_sources import BROKEN_LINES, make_repository

SCHEMA = TESTS / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"


def sarif(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", *args, "-f", "sarif"], catch_exceptions=False)
    return result.exit_code, result.stdout


def assert_valid(log: Any) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_the_schema_check_can_fail() -> None:
    with pytest.raises(AssertionError):
        assert_valid({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})  # a driver needs a name


def test_sarif_is_valid_and_locates_results_at_their_key(tmp_path: Path) -> None:
    folder = make_repository(tmp_path / "repo")
    code, text = sarif(str(folder))
    assert code == 1  # bad-yaml.md could not be exported
    log = json.loads(text)
    assert_valid(log)
    [run] = log["runs"]
    assert run["columnKind"] == "unicodeCodePoints"
    by_rule = {r["ruleId"]: r for r in run["results"]}
    slug = by_rule["kgsh:CurationSlugPrefixShape"]
    line, column = BROKEN_LINES["slug"]
    assert slug["level"] == "note"
    assert slug["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "content/curations/broken.md", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": line, "startColumn": column},
            }
        }
    ]
    image = by_rule["kgsh:CurationImageRecommendedShape"]
    assert image["level"] == "warning"  # not written in the file: the front matter's first line
    assert image["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert by_rule["kg:export-failed"]["level"] == "error"
    assert by_rule["kg:export-failed"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


def test_rules_are_the_shapes_that_fired_with_help_and_level_from_the_shapes(tmp_path: Path) -> None:
    _, text = sarif(str(make_repository(tmp_path)))
    [run] = json.loads(text)["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(
        [
            "kg:export-failed",
            "kgsh:CurationImageRecommendedShape",
            "kgsh:CurationSlugPrefixShape",
            "kgsh:CurationSourceArticleRecommendedShape",
        ]
    )
    slug = next(r for r in rules if r["id"] == "kgsh:CurationSlugPrefixShape")
    assert slug["name"] == "CurationSlugPrefixShape"
    assert slug["defaultConfiguration"] == {"level": "note"}  # sh:severity sh:Info
    assert slug["help"]["text"].startswith("slug starts with '-'")  # the shape's sh:message
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_sarif_is_deterministic_and_honours_path_base(tmp_path: Path) -> None:
    folder = make_repository(tmp_path / "repo")
    first, second = sarif(str(folder))[1], sarif(str(folder))[1]
    assert first == second
    _, based = sarif(str(folder), "--path-base", str(folder))
    results = json.loads(based)["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"broken.md", "bad-yaml.md"}


def test_the_real_corpus_gives_valid_sarif_with_a_line_for_every_result(corpus_dir: Path) -> None:
    code, text = sarif(str(corpus_dir))
    assert code == 0
    log = json.loads(text)
    assert_valid(log)
    results = log["runs"][0]["results"]
    assert len(results) == 136  # 101 warnings + 35 infos, each of one file
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)
