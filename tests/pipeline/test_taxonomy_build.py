"""`build(..., taxonomy=)`: the in-memory export (`kg load` and `kg validate` on sources) does
with a taxonomy what `export --taxonomy` does, byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kg.pipeline.export import REPORT_NAME, build, export
from kg.read.taxonomy import TaxonomyError
from tests.conftest import EXAMPLES, SHARED, TESTS
from tests.helpers.trees import curation, write_tree

FIXTURE = TESTS / "fixtures" / "taxonomy" / "category-whole-data.json"
SITE_TAXONOMY = SHARED / "corpus" / "taxonomy" / "category-whole-data.json"
TAXONOMY_GRAPH = "https://w3id.org/medigy/kg/id/graph/taxonomy"


def _tree(tmp_path: Path) -> Path:
    """The examples, plus a curation with a misspelled source and a case-differing topic."""
    src = tmp_path / "src"
    shutil.copytree(EXAMPLES, src)
    write_tree(src, {"odd.md": curation("odd", topics=("KLSA: Telehealth", "KLAS: telehealth"))})
    return src


@pytest.mark.parametrize("which", ["fixture", "site"])
def test_build_with_a_taxonomy_equals_the_export_byte_for_byte(tmp_path: Path, which: str) -> None:
    taxonomy = FIXTURE if which == "fixture" else SITE_TAXONOMY
    if not taxonomy.is_file():
        pytest.skip(f"the site's taxonomy is not present at {taxonomy}")
    src = _tree(tmp_path)
    out = tmp_path / "out"
    report = export([src], out, ["nquads", "ntriples"], taxonomy=taxonomy)
    built = build([src], taxonomy=taxonomy)
    assert built.nquads() == (out / "curations.nq").read_bytes()
    assert built.ntriples() == (out / "curations.nt").read_bytes()
    assert f"<{TAXONOMY_GRAPH}> .\n".encode() in built.nquads()
    written = json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))
    assert built.report.taxonomy == report.taxonomy == written["taxonomy"]
    assert (built.report.triples, built.report.quads) == (report.triples, report.quads)
    assert built.report.files == report.files
    odd = next(row for row in built.report.files if row["path"] == "odd.md")
    assert [p["field"] for p in odd["problems"]] == ["communityTopics[0]", "communityTopics[1]"]  # type: ignore[union-attr]


def test_build_without_a_taxonomy_is_unchanged_and_an_unreadable_one_is_refused(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    export([src], tmp_path / "out", ["nquads"])
    plain = build([src])
    assert plain.taxonomy is None and plain.report.taxonomy is None
    assert plain.nquads() == (tmp_path / "out" / "curations.nq").read_bytes()
    assert TAXONOMY_GRAPH.encode() not in plain.nquads()
    with pytest.raises(TaxonomyError, match=r"no\.json"):
        build([src], taxonomy=tmp_path / "no.json")
