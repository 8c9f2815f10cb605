"""`kg stats` (kg/publish/stats.py): an export folder's numbers, read from its void.ttl, equal
those the library queries count on the same data as files, in the embedded store after a sync
(with a taxonomy and plain files loaded beside it), on the examples and the real corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.pipeline.export import export
from kg.publish import stats
from tests.conftest import EXAMPLES
from tests.helpers.queries import TAXONOMY
from tests.helpers.servers import Server


def _stats(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["stats", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize("which", ["examples", "corpus"])
def test_every_target_gives_the_numbers_of_the_export(
    tmp_path: Path, which: str, request: pytest.FixtureRequest
) -> None:
    sources = EXAMPLES if which == "examples" else request.getfixturevalue("corpus_dir")
    out, store = tmp_path / "out", tmp_path / "store"
    report = export([sources], out)
    from_void = _stats(str(out))
    assert from_void["triples"] == report.triples
    assert _stats("--data", str(out / "curations.nq")) == from_void
    assert _stats("--data", str(out / "curations.ttl")) == from_void  # the union graph: no graph names
    assert CliRunner().invoke(main, ["load", str(out), "--store", str(store)]).exit_code == 0
    taxonomy = tmp_path / "taxonomy.nq"
    assert CliRunner().invoke(main, ["taxonomy", str(TAXONOMY), "-o", str(taxonomy)]).exit_code == 0
    loaded = CliRunner().invoke(main, ["load", str(taxonomy), str(out / "void.ttl"), "--store", str(store)])
    assert loaded.exit_code == 0, loaded.output
    assert _stats("--store", str(store)) == from_void  # only the curation graphs are counted
    if which == "examples":
        assert {k: from_void[k] for k in stats.TOTALS} == {
            "triples": 960, "curations": 16, "topics": 33, "brands": 9, "communities": 5,
        }  # fmt: skip
        classes = {row["class"]: row["instances"] for row in from_void["classes"]}  # type: ignore[attr-defined]
        assert classes["https://w3id.org/medigy/kg#Curation"] == 16
    else:  # the real corpus: every exported file is one curation
        assert from_void["curations"] == report.count("exported") == 400


def test_the_table_for_people(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export([EXAMPLES], out)
    result = CliRunner().invoke(main, ["stats", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["triples", "960"] and lines[1].split() == ["curations", "16"]
    assert "kg:Curation  " in result.stdout and "kg:topic  " in result.stdout
    topic = next(line for line in lines if line.startswith("kg:topic "))
    assert topic.split() == ["kg:topic", "53", "33"]  # triples, distinct objects (topics)


def test_what_is_not_an_export_or_not_one_target_is_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(main, ["stats", str(tmp_path)])
    assert empty.exit_code == 2 and "holds no void.ttl" in empty.output
    both = runner.invoke(main, ["stats", str(tmp_path), "--data", str(EXAMPLES)])
    assert both.exit_code == 2 and "choose one of" in both.output
    (tmp_path / "void.ttl").write_text("<a:b> <a:c> 'broken")
    broken = runner.invoke(main, ["stats", str(tmp_path)])
    assert broken.exit_code == 2 and f"{tmp_path / 'void.ttl'}: cannot be read" in broken.output
    (tmp_path / "void.ttl").write_text("<a:b> <a:c> <a:d> .\n")
    foreign = runner.invoke(main, ["stats", str(tmp_path)])
    assert foreign.exit_code == 2 and "not a dataset description kg wrote" in foreign.output
    assert "Traceback" not in broken.output + foreign.output


def test_an_empty_store_has_zeros() -> None:
    empty = stats.of_store(pyoxigraph.Store())
    assert empty.to_json() == {
        "triples": 0, "curations": 0, "topics": 0, "brands": 0, "communities": 0,
        "classes": [], "properties": [],
    }  # fmt: skip


@pytest.mark.server
def test_an_endpoint_gives_the_numbers_of_the_export(tmp_path: Path, oxigraph_server: Server) -> None:
    """On a real Oxigraph server, loaded by a sync of the export (its default graph is not the
    union: the queries name their graphs), and `kg query --limit` cuts its answer."""
    out = tmp_path / "out"
    export([EXAMPLES], out)
    runner = CliRunner()
    synced = runner.invoke(main, ["load", str(out), "--endpoint", oxigraph_server.store_url])
    assert synced.exit_code == 0, synced.output
    assert _stats("--endpoint", oxigraph_server.query_url) == _stats(str(out))
    limited = runner.invoke(
        main, ["query", "class-counts", "--endpoint", oxigraph_server.query_url, "--limit", "3", "-f", "csv"]
    )
    assert limited.exit_code == 0, limited.output
    assert len(limited.stdout.splitlines()) == 4 and "the first 3: --limit" in limited.stderr


def test_a_sync_of_an_export_folder_does_not_load_its_description(tmp_path: Path) -> None:
    """void.ttl describes the files; `kg load OUT` sends only the curation graphs."""
    out, store = tmp_path / "out", tmp_path / "store"
    export([EXAMPLES], out)
    assert CliRunner().invoke(main, ["load", str(out), "--store", str(store)]).exit_code == 0
    described = CliRunner().invoke(
        main, ["query", "--store", str(store), "--sparql",
               "ASK { GRAPH ?g { ?d a <http://rdfs.org/ns/void#Dataset> } }"],
    )  # fmt: skip
    assert described.exit_code == 0 and described.stdout.strip() == "false"
