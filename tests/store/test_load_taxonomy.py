"""`kg load SOURCES --taxonomy FILE` (and `kg.load(..., taxonomy=)`): the store ends as a sync of
`kg export SOURCES --taxonomy FILE` leaves it; --taxonomy is refused where it links nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

import kg
from kg.cli import main
from kg.pipeline.export import export
from kg.store.load import DataError
from tests.conftest import EXAMPLES, SHARED, TESTS
from tests.helpers.trees import curation, write_tree

FIXTURE = TESTS / "fixtures" / "taxonomy" / "category-whole-data.json"
SITE_TAXONOMY = SHARED / "corpus" / "taxonomy" / "category-whole-data.json"
BASE = "https://w3id.org/medigy/kg/id/"
TAXONOMY_GRAPH = BASE + "graph/taxonomy"
Quads = set[tuple[str, str, str, str]]


def _tree(tmp_path: Path) -> Path:
    """The examples, plus a curation with a misspelled source and a case-differing topic."""
    src = tmp_path / "src"
    shutil.copytree(EXAMPLES, src)
    write_tree(src, {"odd.md": curation("odd", topics=("KLSA: Telehealth", "KLAS: telehealth"))})
    return src


def _content(store: pyoxigraph.Store) -> Quads:
    """Every quad but those of the sync's own state graphs (kg-sync, kg-sync-check)."""
    return {
        (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))
        for q in store
        if not str(q.graph_name).startswith(f"<{BASE}graph/kg-sync")
    }


def _graph(quads: Quads, graph: str) -> Quads:
    return {q for q in quads if q[0] == f"<{graph}>"}


@pytest.mark.parametrize("which", ["fixture", "site"])
def test_loading_sources_with_a_taxonomy_equals_syncing_its_export(tmp_path: Path, which: str) -> None:
    taxonomy = FIXTURE if which == "fixture" else SITE_TAXONOMY
    if not taxonomy.is_file():
        pytest.skip(f"the site's taxonomy is not present at {taxonomy}")
    src, out = _tree(tmp_path), tmp_path / "out"
    runner = CliRunner()
    loaded = runner.invoke(
        main, ["load", str(src), "--taxonomy", str(taxonomy), "--store", str(tmp_path / "loaded")]
    )
    assert loaded.exit_code == 0, loaded.output
    export([src], out, taxonomy=taxonomy)
    synced = runner.invoke(main, ["load", str(out), "--store", str(tmp_path / "synced")])
    assert synced.exit_code == 0, synced.output
    a = _content(pyoxigraph.Store.read_only(str(tmp_path / "loaded")))
    b = _content(pyoxigraph.Store.read_only(str(tmp_path / "synced")))
    assert a == b
    taxonomy_quads = _graph(a, TAXONOMY_GRAPH)
    written = [
        line
        for line in (out / "curations.nq").read_text(encoding="utf-8").splitlines()
        if TAXONOMY_GRAPH in line
    ]
    assert len(taxonomy_quads) == len(written) > 0
    # the topic a curation and the taxonomy share is described by the taxonomy only, once
    topic = f"<{BASE}topic/KLAS/Telehealth>"
    labels = {q for q in a if q[1] == topic and q[2].endswith("#prefLabel>")}
    assert {q[0] for q in labels} == {f"<{TAXONOMY_GRAPH}>"}
    # the case-differing topic links to the taxonomy's concept
    odd = _graph(a, BASE + "graph/curation/odd")
    assert any(q[3] == topic for q in odd)
    assert not any("telehealth>" in q[3] for q in odd)


def test_without_a_taxonomy_the_store_has_no_taxonomy_graph_and_topics_keep_their_graphs(
    tmp_path: Path,
) -> None:
    src = _tree(tmp_path)
    kg.load([src], store=tmp_path / "plain")
    store = pyoxigraph.Store.read_only(str(tmp_path / "plain"))
    assert not _graph(_content(store), TAXONOMY_GRAPH)
    assert _graph(_content(store), BASE + "graph/topic/KLAS/Telehealth")


def test_the_api_loads_and_builds_with_a_taxonomy_as_the_command_does(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    store = pyoxigraph.Store()
    result = kg.load([src], store=store, taxonomy=FIXTURE)
    assert result.graphs > 0
    assert _content(store) == _content(kg.build([src], taxonomy=FIXTURE))
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["load", str(src), "--taxonomy", str(FIXTURE), "--store", str(tmp_path / "s")]
        ).exit_code
        == 0
    )
    assert _content(store) == _content(pyoxigraph.Store.read_only(str(tmp_path / "s")))
    rdf = tmp_path / "x.nq"
    rdf.write_text(f"<{BASE}a> <{BASE}b> <{BASE}c> <{BASE}g> .\n", encoding="utf-8")
    with pytest.raises(DataError, match="--taxonomy links the topics of curation sources"):
        kg.load([rdf], store=pyoxigraph.Store(), taxonomy=FIXTURE)


def test_verbose_lists_the_topic_warnings(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    result = CliRunner().invoke(
        main, ["load", str(src), "--taxonomy", str(FIXTURE), "--store", str(tmp_path / "s"), "--verbose"]
    )
    assert result.exit_code == 0, result.output
    assert "kg load: odd.md: communityTopics[0]: topic 'KLSA: Telehealth'" in result.output
    assert "did you mean 'KLAS'" in result.output
    assert "kg load: odd.md: communityTopics[1]: topic 'KLAS: telehealth' differs" in result.output


def test_taxonomy_is_refused_for_an_export_folder_rdf_files_only_and_an_unreadable_file(
    tmp_path: Path,
) -> None:
    src, out = _tree(tmp_path), tmp_path / "out"
    export([src], out, taxonomy=FIXTURE)
    runner = CliRunner()
    store = tmp_path / "store"
    folder = runner.invoke(main, ["load", str(out), "--taxonomy", str(FIXTURE), "--store", str(store)])
    assert folder.exit_code == 2
    assert "export folder, which already carries its taxonomy" in folder.output
    rdf = runner.invoke(
        main, ["load", str(out / "curations.nq"), "--taxonomy", str(FIXTURE), "--store", str(store)]
    )
    assert rdf.exit_code == 2
    assert "--taxonomy links the topics of curation sources" in rdf.output
    missing = runner.invoke(
        main, ["load", str(src), "--taxonomy", str(tmp_path / "no.json"), "--store", str(store)]
    )
    assert missing.exit_code == 2
    assert (
        "--taxonomy: " in missing.output
        and "no.json" in missing.output
        and "nothing was loaded" in missing.output
    )
    assert not store.exists()  # nothing was opened, let alone loaded
