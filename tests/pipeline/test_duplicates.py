"""One curation published in two files (same mdName) is one curation: the first path's content,
both files in its provenance, a warning naming both when they differ, and no output holding a
line twice; the same bytes in full and incremental exports, serial and parallel."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pyoxigraph
import pytest

from kg.pipeline.export import FORMATS, REPORT_NAME, export
from tests.conftest import CORPUS, SHARED
from tests.helpers.trees import curation, write_tree

SITE_SAMPLE = SHARED / "corpus" / "site-sample"
NEWS = "news/{}-curations/content-auto/0afb636b-989b-57f4-a9b6-75990f63abdc.md"
SOURCE_PATH = "https://w3id.org/medigy/kg#sourcePath"
OUTPUTS = [*FORMATS.values(), REPORT_NAME]


def _rows(out: Path) -> dict[str, dict[str, object]]:
    report = json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))
    return {row["path"]: row for row in report["files"]}


def _source_paths(out: Path, md_name: str) -> list[str]:
    graph = f"https://w3id.org/medigy/kg/id/graph/curation/{md_name}"
    quads = pyoxigraph.parse(path=str(out / "curations.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    return sorted(
        q.object.value for q in quads if q.predicate.value == SOURCE_PATH and q.subject.value == graph
    )


def _assert_no_line_twice(out: Path) -> None:
    for name in ("curations.nq", "curations.nt"):
        lines = (out / name).read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(set(lines)), name
    # Turtle and JSON-LD: one statement per triple (the same count as the N-Triples lines)
    triples = len((out / "curations.nt").read_text(encoding="utf-8").splitlines())
    for name, fmt in (
        ("curations.ttl", pyoxigraph.RdfFormat.TURTLE),
        ("curations.jsonld", pyoxigraph.RdfFormat.JSON_LD),
    ):
        assert len(list(pyoxigraph.parse(path=str(out / name), format=fmt))) == triples, name


def test_site_sample_curation_in_two_news_folders_is_one_curation(tmp_path: Path) -> None:
    if not SITE_SAMPLE.is_dir():
        pytest.skip(f"site sample not present at {SITE_SAMPLE}")
    out = tmp_path / "out"
    export([SITE_SAMPLE], out)
    first, second = NEWS.format("dropmark"), NEWS.format("openproject")
    assert _source_paths(out, "0afb636b-989b-57f4-a9b6-75990f63abdc") == [first, second]
    _assert_no_line_twice(out)
    rows = _rows(out)
    assert rows[first]["reason"] is None and "problems" not in rows[first]
    assert rows[second]["status"] == "exported" and first in str(rows[second]["reason"])
    [warning] = rows[second]["problems"]  # type: ignore[misc]
    assert warning["severity"] == "warning" and first in warning["message"]
    text = (out / "curations.nq").read_text(encoding="utf-8")
    assert "Radhika" not in text  # the author of the second file only: the first path wins
    assert '"Admin"' in text


def _compare(src: Path, out: Path, fresh: Path, jobs: int) -> str | None:
    """Export into `out` (incrementally) and afresh; the same bytes. Returns why not incremental."""
    report = export([src], out, jobs=jobs)
    shutil.rmtree(fresh, ignore_errors=True)
    export([src], fresh, jobs=jobs, full=True)
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    _assert_no_line_twice(out)
    return report.why_full


@pytest.mark.parametrize("jobs", [1, 2])
def test_two_copies_of_a_corpus_file_incremental_equals_full(tmp_path: Path, jobs: int) -> None:
    src, out, fresh = tmp_path / "src", tmp_path / "out", tmp_path / "fresh"
    original = sorted(CORPUS.glob("*.md"))[0] if CORPUS.is_dir() else None
    if original is None:
        pytest.skip("real corpus not present")
    text = original.read_text(encoding="utf-8")
    found = re.search(r"(?m)^mdName: '?([0-9a-f-]+)", text)
    assert found is not None
    md_name = found.group(1)
    write_tree(src, {f"fill/f{i:03d}.md": curation(f"f{i:03d}") for i in range(70)})  # a pool at -j 2
    write_tree(src, {"b/copy.md": text, "c/copy.md": text})
    # a/copy.md added takes the curation from b/copy.md, whose reused blocks say it all: the
    # export starts again in full (so does b/copy.md added back before the c/copy.md left)
    steps: list[tuple[Callable[[], None], list[str], int]] = [
        (lambda: None, ["b/copy.md", "c/copy.md"], 0),  # the same bytes: no warning
        (
            lambda: write_tree(src, {"c/copy.md": text.replace("title: '", "title: 'Edited ", 1)}),
            ["b/copy.md", "c/copy.md"],
            1,
        ),
        (
            lambda: write_tree(src, {"a/copy.md": text}),
            ["a/copy.md", "b/copy.md", "c/copy.md"],
            1,
        ),  # a new first
        (lambda: (src / "a/copy.md").unlink(), ["b/copy.md", "c/copy.md"], 1),
        (lambda: (src / "b/copy.md").unlink(), ["c/copy.md"], 0),  # the second becomes the only one
        (lambda: write_tree(src, {"b/copy.md": text}), ["b/copy.md", "c/copy.md"], 1),
    ]
    why_full = []
    for edit, paths, warnings in steps:
        edit()
        why_full.append(_compare(src, out, fresh, jobs))
        rows = _rows(out)
        assert _source_paths(out, md_name) == paths
        assert sum(len(r.get("problems", [])) for r in rows.values()) == warnings  # type: ignore[arg-type]
        assert all(rows[p]["reason"] is None for p in paths[:1])
        assert all(paths[0] in str(rows[p]["reason"]) for p in paths[1:])
    restarted = "{} is now a second source of the curation {} publishes"
    assert why_full == [
        "no manifest of a previous export",
        None,
        restarted.format("b/copy.md", "a/copy.md"),
        None,
        None,
        restarted.format("c/copy.md", "b/copy.md"),
    ]
