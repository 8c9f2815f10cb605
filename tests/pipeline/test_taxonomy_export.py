"""`kg export --taxonomy FILE`: the taxonomy's graph in the outputs, topics linked to its concepts,
a warning naming file and key for every topic not an exact match; incremental and parallel
exports equal a full one, and a store synced from the folder holds the taxonomy graph."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph
import pytest
import yaml
from click.testing import CliRunner

from kg.cli import main
from kg.map.curation import IriScheme
from kg.map.taxonomy import read_taxonomy, render, taxonomy_rdf
from kg.pipeline.export import FORMATS, REPORT_NAME, export
from kg.pipeline.incremental import Manifest
from kg.store.load import open_store
from kg.store.sync import EmbeddedTarget, sync
from tests.conftest import EXAMPLES, SHARED
from tests.helpers.trees import curation, write_tree

TAXONOMY = SHARED / "corpus" / "taxonomy" / "category-whole-data.json"
TAXONOMY_GRAPH = "https://w3id.org/medigy/kg/id/graph/taxonomy"
TOPIC = "https://w3id.org/medigy/kg/id/topic/"
OUTPUTS = [*FORMATS.values(), REPORT_NAME]


@pytest.fixture
def taxonomy() -> Path:
    if not TAXONOMY.is_file():
        pytest.skip(f"the site's taxonomy is not present at {TAXONOMY}")
    return TAXONOMY


def _same_outputs(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _topic_warnings(out: Path) -> set[tuple[str, str]]:
    """(file, key) of every topic warning in report.json."""
    report = json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))
    return {
        (row["path"], p["field"])
        for row in report["files"]
        for p in row.get("problems", [])
        if p["message"].startswith("topic ")
    }


def _independent_warnings(corpus: Path, taxonomy: Path) -> set[tuple[str, str]]:
    """The same, worked out from the JSON and the front matter with nothing of kg: a topic
    `Source: Label` is exact when the file has a record with that source and label (ends
    trimmed, `-hash-` read as `#`); every other topic of a file is one warning, at the first
    key and index it is written under."""
    records = json.loads(taxonomy.read_text(encoding="utf-8"))
    known = {(r["parentclasslabel"].strip(), r["label"].replace("-hash-", "#").strip()) for r in records}
    warnings = set()
    for path in sorted(corpus.glob("*.md")):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("\n---", 1)[0].removeprefix("---\n"))
        medigy = (front.get("openProjectCustomFields") or {}).get("medigyTopics") or "[]"
        seen = set()
        for key, items in (
            ("communityTopics", front.get("communityTopics") or []),
            ("openProjectCustomFields.medigyTopics", json.loads(medigy)),
        ):
            for i, item in enumerate(items):
                text = str(item).replace("-hash-", "#").strip()
                source, _, label = text.partition(": ")
                pair = (source.strip(), label.strip())
                if pair in seen:
                    continue
                seen.add(pair)
                if pair not in known:
                    warnings.add((path.name, f"{key}[{i}]"))
    return warnings


def test_corpus_topic_warnings_match_an_independent_count(
    corpus_dir: Path, taxonomy: Path, tmp_path: Path
) -> None:
    report = export([corpus_dir], tmp_path / "out", taxonomy=taxonomy)
    expected = _independent_warnings(corpus_dir, taxonomy)
    assert len(expected) == 7  # 6 differ in case or spacing, 1 is not in the taxonomy (docs/taxonomy.md)
    assert _topic_warnings(tmp_path / "out") == expected
    assert report.problems == 7 and report.exit_code() == 0
    data = json.loads((tmp_path / "out" / REPORT_NAME).read_text(encoding="utf-8"))
    assert data["taxonomy"]["concepts"] == 2250 and data["taxonomy"]["errors"] == 0
    assert len(data["taxonomy"]["problems"]) == 1  # the equivalent naming no topic


def test_taxonomy_graph_is_in_the_outputs_and_topics_link_to_its_concepts(
    corpus_dir: Path, taxonomy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export([corpus_dir], out, taxonomy=taxonomy)
    expected = "".join(render(taxonomy_rdf(read_taxonomy(taxonomy), IriScheme()), "nquads", IriScheme().base))
    lines = (out / "curations.nq").read_text(encoding="utf-8").splitlines(keepends=True)
    assert "".join(line for line in lines if line.endswith(f"<{TAXONOMY_GRAPH}> .\n")) == expected
    assert len(lines) == len(set(lines))
    quads = set(pyoxigraph.parse(path=str(out / "curations.nq"), format=pyoxigraph.RdfFormat.N_QUADS))
    union = {pyoxigraph.Quad(q.subject, q.predicate, q.object) for q in quads}
    for name, fmt in (
        ("curations.nt", pyoxigraph.RdfFormat.N_TRIPLES),
        ("curations.ttl", pyoxigraph.RdfFormat.TURTLE),
        ("curations.jsonld", pyoxigraph.RdfFormat.JSON_LD),
    ):  # no graphs: the union of the curation graphs and the taxonomy graph
        assert set(pyoxigraph.parse(path=str(out / name), format=fmt)) == union, name
    text = (out / "curations.nq").read_text(encoding="utf-8")
    assert f"<{TOPIC}Healthcare_IT_News/Virtual_Care>" in text
    assert "Virtual_care>" not in text  # the case-space topic links to the taxonomy's concept
    assert '"Virtual care"' not in text


def test_without_taxonomy_nothing_changes_and_with_one_incremental_equals_full(
    taxonomy: Path, tmp_path: Path
) -> None:
    src, out, fresh = tmp_path / "src", tmp_path / "out", tmp_path / "fresh"
    shutil.copytree(EXAMPLES, src)
    tax = tmp_path / "taxonomy.json"
    shutil.copy(taxonomy, tax)
    plain = export([src], tmp_path / "plain")
    assert plain.taxonomy is None and "taxonomy" not in Manifest(tmp_path / "plain").data["settings"]
    export([src], out, taxonomy=tax)
    again = export([src], out, taxonomy=tax)
    assert again.why_full is None and again.reuse is not None and again.reuse.processed == 0
    export([src], fresh, taxonomy=tax, full=True, jobs=1)
    _same_outputs(out, fresh)
    records = json.loads(tax.read_text(encoding="utf-8"))
    records = [r for r in records if r["label"] != "Telehealth"]  # the examples' main topic goes
    tax.write_text(json.dumps(records), encoding="utf-8")
    changed = export([src], out, taxonomy=tax)
    assert changed.why_full == "settings changed since the last export"
    shutil.rmtree(fresh)
    export([src], fresh, taxonomy=tax)
    _same_outputs(out, fresh)
    assert any(field == "communityTopics[0]" for _, field in _topic_warnings(out))
    without = export([src], out)  # the taxonomy dropped: its graph goes, as settings changed
    assert without.why_full == "settings changed since the last export"
    _same_outputs(out, tmp_path / "plain")


def test_parallel_export_with_taxonomy_equals_serial(
    corpus_dir: Path, taxonomy: Path, tmp_path: Path
) -> None:
    export([corpus_dir], tmp_path / "j1", taxonomy=taxonomy, jobs=1)
    export([corpus_dir], tmp_path / "j2", taxonomy=taxonomy, jobs=2)
    _same_outputs(tmp_path / "j1", tmp_path / "j2")


def test_sync_loads_the_taxonomy_graph_and_drops_it_when_the_export_has_none(
    taxonomy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export([EXAMPLES], out, taxonomy=taxonomy)
    store = open_store(tmp_path / "store")
    target = EmbeddedTarget(store, "store")
    sync(target, Manifest(out))
    graph = pyoxigraph.NamedNode(TAXONOMY_GRAPH)
    loaded = {str(q) for q in store.quads_for_pattern(None, None, None, graph)}
    written = [
        line
        for line in (out / "curations.nq").read_text(encoding="utf-8").splitlines()
        if TAXONOMY_GRAPH in line
    ]
    assert len(loaded) == len(written) > 15000
    assert sync(target, Manifest(out)).plan.replaced == []  # the second sync sends nothing
    export([EXAMPLES], out)
    assert TAXONOMY_GRAPH in sync(target, Manifest(out)).plan.dropped
    assert not list(store.quads_for_pattern(None, None, None, graph))


def test_cli_taxonomy_option_and_unreadable_taxonomy(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "taxonomy" / "category-whole-data.json"
    src = tmp_path / "src"
    write_tree(src, {"a.md": curation("a", topics=("KLSA: Telehealth", "KLAS: telehealth"))})
    runner = CliRunner()
    result = runner.invoke(
        main, ["export", str(src), "-o", str(tmp_path / "out"), "--taxonomy", str(fixture)]
    )
    assert result.exit_code == 0, result.output
    problems = json.loads((tmp_path / "out" / REPORT_NAME).read_text(encoding="utf-8"))["files"][0][
        "problems"
    ]
    assert [(p["field"], p["severity"]) for p in problems] == [
        ("communityTopics[0]", "warning"),
        ("communityTopics[1]", "warning"),
    ]
    assert "did you mean 'KLAS'" in problems[0]["message"] and "case or spacing" in problems[1]["message"]
    before = (tmp_path / "out" / REPORT_NAME).read_bytes()
    missing = runner.invoke(
        main, ["export", str(src), "-o", str(tmp_path / "out"), "--taxonomy", str(tmp_path / "no.json")]
    )
    assert missing.exit_code == 2 and "no.json: no such file" in missing.output
    assert (tmp_path / "out" / REPORT_NAME).read_bytes() == before


def test_a_legacy_curations_topic_warning_names_its_categories_key(taxonomy: Path, tmp_path: Path) -> None:
    """Legacy curations carry their topics as WordPress `categories` (or `Categories`), topics
    without a source, so none is in the taxonomy: each is a warning naming that key and index."""
    sample = SHARED / "corpus" / "site-sample"
    if not sample.is_dir():
        pytest.skip(f"site sample not present at {sample}")
    export([sample], tmp_path / "out", taxonomy=taxonomy)
    expected = set()
    for path in sorted(sample.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if not text.startswith("---\n"):
            continue
        front = yaml.safe_load(text.split("\n---", 1)[0].removeprefix("---\n")) or {}
        if not str(front.get("source", "")).endswith("-curations") or "mdName" in front:
            continue
        key = "categories" if "categories" in front else "Categories"
        seen: set[str] = set()
        for i, item in enumerate(front.get(key) or []):
            if str(item).strip() not in seen:
                seen.add(str(item).strip())
                expected.add((path.relative_to(sample).as_posix(), f"{key}[{i}]"))
    warned = {w for w in _topic_warnings(tmp_path / "out") if "ategories" in w[1]}
    assert expected and warned == expected
