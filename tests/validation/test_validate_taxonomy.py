"""`kg validate SOURCES --taxonomy FILE` (and `kg.validate(..., taxonomy=)`): every topic the
taxonomy does not hold exactly is a Warning of its file, key and line, like any field problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import kg
from kg.cli import main
from kg.shacl.engine import ValidationError
from tests.conftest import CORPUS, SHARED, TESTS
from tests.helpers.trees import curation, write_tree

FIXTURE = TESTS / "fixtures" / "taxonomy" / "category-whole-data.json"
SITE_TAXONOMY = SHARED / "corpus" / "taxonomy" / "category-whole-data.json"


def _tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    write_tree(
        src, {"a.md": curation("a", topics=("KLSA: Telehealth", "KLAS: telehealth", "KLAS: Telehealth"))}
    )
    return src


def _topic_results(results: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return sorted(
        (r["source_file"], r["key"], r["line"], r["column"], r["severity"], r["value"], r["message"])
        for r in results
        if str(r["message"]).startswith("topic ")
    )


def test_topic_warnings_name_file_key_and_line(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(src), "--taxonomy", str(FIXTURE), "-f", "json"])
    assert result.exit_code == 1, result.output  # (the curation's mdName is no UUID: a violation)
    lines = (src / "a.md").read_text(encoding="utf-8").splitlines()
    assert lines[6:9] == ["- 'KLSA: Telehealth'", "- 'KLAS: telehealth'", "- 'KLAS: Telehealth'"]
    found = _topic_results(json.loads(result.stdout))
    assert [row[:6] for row in found] == [
        ("a.md", "communityTopics[0]", 7, 3, "Warning", "KLSA: Telehealth"),
        ("a.md", "communityTopics[1]", 8, 3, "Warning", "KLAS: telehealth"),
    ]
    assert "did you mean 'KLAS'" in str(found[0][6])
    assert "differs from the taxonomy's 'KLAS: Telehealth' in case or spacing" in str(found[1][6])
    plain = runner.invoke(main, ["validate", str(src), "-f", "json"])
    assert _topic_results(json.loads(plain.stdout)) == []  # without a taxonomy: nothing to say
    text = runner.invoke(main, ["validate", str(src), "--taxonomy", str(FIXTURE)])
    assert "a.md:7:3: WARNING   communityTopics[0]: topic 'KLSA: Telehealth'" in text.stdout


def test_the_api_gives_the_same_warnings(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    report = kg.validate([src], taxonomy=FIXTURE)
    topics = [r for r in report.results if r.message.startswith("topic ")]
    assert sorted((r.source_files, r.key, r.severity) for r in topics) == [
        (("a.md",), "communityTopics[0]", "Warning"),
        (("a.md",), "communityTopics[1]", "Warning"),
    ]
    assert not report.conforms("Warning")


def test_refused_without_sources_or_with_an_unreadable_taxonomy(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    runner = CliRunner()
    missing = runner.invoke(main, ["validate", str(src), "--taxonomy", str(tmp_path / "no.json")])
    assert missing.exit_code == 2 and "no.json" in missing.output
    rdf = tmp_path / "x.nt"
    rdf.write_text(
        "<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n", encoding="utf-8"
    )
    only_rdf = runner.invoke(main, ["validate", str(rdf), "--taxonomy", str(FIXTURE)])
    assert only_rdf.exit_code == 2 and "--taxonomy links the topics of curation sources" in only_rdf.output
    with pytest.raises(ValidationError, match="--taxonomy links"):
        kg.validate([rdf], taxonomy=FIXTURE)


def test_the_corpus_with_the_site_taxonomy_warns_about_its_seven_topics() -> None:
    if not SITE_TAXONOMY.is_file() or not CORPUS.is_dir():
        pytest.skip("the corpus or the site's taxonomy is not present")
    plain = kg.validate([CORPUS])
    report = kg.validate([CORPUS], taxonomy=SITE_TAXONOMY)
    added = [r for r in report.results if r not in plain.results]
    assert len(added) == 7  # 6 differ in case or spacing, 1 is not in the taxonomy (docs/taxonomy.md)
    assert all(r.message.startswith("topic ") and r.severity == "Warning" for r in added)
    assert all(r.key and r.key.startswith("communityTopics[") for r in added)
    assert report.conforms() and plain.conforms()
