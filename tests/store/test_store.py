"""Loading into the embedded store: idempotent, replacing, from sources or RDF files; the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.map.curation import IriScheme
from kg.pipeline.export import export
from kg.sparql.query import execute, run
from kg.store.load import DataError, collect, file_graph, load_store, memory_store, open_store
from tests.conftest import EXAMPLES, ROOT
from tests.helpers.store import CHANGED, CHANGED_IRI, EXAMPLE_GRAPHS, EXAMPLE_QUADS, change_curation


def counts(store: pyoxigraph.Store) -> tuple[int, int]:
    return len(store), len(list(store.named_graphs()))


def copy_examples(tmp_path: Path) -> Path:
    src = tmp_path / "curations"
    shutil.copytree(EXAMPLES, src)
    return src


def topic_count(store: pyoxigraph.Store, scheme: str, topic: str) -> int:
    rows = [r for r in run("topic-counts", store) if r["scheme"] == scheme and r["topic"] == topic]
    return int(str(rows[0]["curations"])) if rows else 0


def title_of(store: pyoxigraph.Store, iri: str) -> list[object]:
    rows = execute(f"SELECT ?title WHERE {{ GRAPH ?g {{ <{iri}> schema:name ?title }} }}", store).rows()
    return sorted(r["title"] for r in rows)


def test_loading_twice_changes_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path / "store")
    first = load_store(store, collect([EXAMPLES]))
    assert (first.graphs, first.triples) == (EXAMPLE_GRAPHS, EXAMPLE_QUADS)
    assert counts(store) == (EXAMPLE_QUADS, EXAMPLE_GRAPHS)
    load_store(store, collect([EXAMPLES]))
    assert counts(store) == (EXAMPLE_QUADS, EXAMPLE_GRAPHS)


def test_a_changed_curation_shows_only_its_new_values(tmp_path: Path) -> None:
    src = copy_examples(tmp_path)
    store = open_store(tmp_path / "store")
    load_store(store, collect([src]))
    assert topic_count(store, "Symplur", "COVID-19") == 4
    change_curation(src)
    load_store(store, collect([src / CHANGED]))  # reload just the changed file
    assert title_of(store, CHANGED_IRI) == ["A Retitled Curation"]
    assert topic_count(store, "Symplur", "COVID-19") == 3
    assert len(list(store.named_graphs())) == EXAMPLE_GRAPHS  # COVID-19 has 3 curations left: its graph stays
    # The same as loading the changed sources into an empty store.
    fresh = memory_store([src])
    assert set(store) == set(fresh)


def test_the_store_persists_on_disk(tmp_path: Path) -> None:
    location = tmp_path / "store"
    store = open_store(location)
    load_store(store, collect([EXAMPLES]))
    del store
    reopened = open_store(location, read_only=True)
    assert counts(reopened) == (EXAMPLE_QUADS, EXAMPLE_GRAPHS)
    # The API takes the folder too; a source folder is not mistaken for a store.
    assert run("brand-counts", location) == run("brand-counts", reopened) == run("brand-counts", EXAMPLES)


def test_rdf_files_keep_their_graphs_or_get_one_named_after_the_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export([EXAMPLES], out, ["nquads", "turtle"])
    store = pyoxigraph.Store()
    load_store(store, collect([out / "curations.nq", out / "curations.ttl"]))
    ttl_graph = pyoxigraph.NamedNode(file_graph(out / "curations.ttl", IriScheme()))
    assert ttl_graph.value == "https://w3id.org/medigy/kg/id/graph/file/curations.ttl"
    assert len(list(store.named_graphs())) == EXAMPLE_GRAPHS + 1  # the .nq's graphs, and the .ttl's
    union_triples = len(list(store.quads_for_pattern(None, None, None, ttl_graph)))
    assert union_triples == json.loads((out / "report.json").read_text())["totals"]["triples"]
    before = len(store)
    load_store(store, collect([out / "curations.ttl", out / "curations.nq"]))
    assert len(store) == before


def test_files_and_sources_give_the_same_answers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export([EXAMPLES], out, ["nquads"])
    from_files = run("topic-counts", [out / "curations.nq"])
    assert from_files == run("topic-counts", EXAMPLES) == run("topic-counts", str(EXAMPLES))


def test_bad_data_is_reported(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="not a curation source"):
        collect([tmp_path / "notes.txt"])
    (tmp_path / "broken.nq").write_text("<http://a> <http://b> .\n")
    with pytest.raises(DataError, match="invalid RDF"):
        collect([tmp_path / "broken.nq"])
    with pytest.raises(DataError, match="no store at"):
        open_store(tmp_path / "nowhere", read_only=True)


# --- the command line -----------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_load_then_query(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    code, _, err = invoke("load", str(EXAMPLES), "--store", store)
    assert code == 0 and f"{EXAMPLE_GRAPHS} graphs ({EXAMPLE_QUADS} triples)" in err
    code, _, err = invoke("load", "--store", store)  # no DATA: the bundled examples again
    assert code == 0
    code, out, err = invoke("query", "topic-counts", "--store", store)
    assert code == 0 and "(33 rows)" in err
    assert out.splitlines()[2].split() == ["KLAS", "Telehealth", "7"]
    code, out, _ = invoke(
        "query", "--sparql", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", "--store", store
    )
    assert out.split()[-1] == str(EXAMPLE_QUADS)


def test_cli_formats_follow_the_w3c_results_formats(tmp_path: Path) -> None:
    args = ["query", "brand-counts", "--data", str(EXAMPLES)]
    _, csv_out, _ = invoke(*args, "--format", "csv")
    assert csv_out.splitlines()[:2] == ["brand,curations", "hfma.org,3"]
    _, tsv_out, _ = invoke(*args, "--format", "tsv")
    assert tsv_out.splitlines()[:2] == ["?brand\t?curations", '"hfma.org"\t3']
    _, json_out, _ = invoke(*args, "--format", "json")
    data = json.loads(json_out)
    assert data["head"]["vars"] == ["brand", "curations"]
    assert data["results"]["bindings"][0]["curations"] == {
        "type": "literal",
        "value": "3",
        "datatype": "http://www.w3.org/2001/XMLSchema#integer",
    }
    parsed = list(pyoxigraph.parse_query_results(json_out.encode(), pyoxigraph.QueryResultsFormat.JSON))
    assert len(parsed) == 9


def test_cli_list_show_and_errors(tmp_path: Path) -> None:
    code, out, _ = invoke("query", "--list")
    assert code == 0 and "topic-counts" in out and "--param topic=" in out
    code, out, _ = invoke("query", "search", "-p", 'text=a"b } DROP ALL {', "--show")
    assert code == 0 and 'VALUES ?text { "a\\"b } DROP ALL {" }' in out
    code, _, err = invoke("query", "curations-by-topic", "--data", str(EXAMPLES))
    assert code == 2 and "needs --param topic" in err
    code, _, err = invoke("query", "topic-counts", "--store", str(tmp_path / "none"))
    assert code == 2 and "no store at" in err
    code, _, err = invoke("query", "--sparql", "DROP ALL", "--data", str(EXAMPLES))
    assert code == 2 and "read-only" in err
    code, _, err = invoke(
        "query", "topic-counts", "--data", str(EXAMPLES), "--endpoint", "http://127.0.0.1:1/q"
    )
    assert code == 2 and "choose one of" in err
    code, _, err = invoke("query", "search", "-p", "novalue", "--data", str(EXAMPLES))
    assert code == 2 and "NAME=VALUE" in err
    code, _, err = invoke("load", "--store", str(tmp_path / "s"), "--endpoint", "http://127.0.0.1:1/store")
    assert code == 2 and "choose one of" in err


def test_cli_load_reports_failed_sources_and_still_loads_the_rest(tmp_path: Path) -> None:
    src = copy_examples(tmp_path)
    (src / "bad.md").write_bytes(b"---\ntitle: x\nmdName: y\nbad: [\n---\n")
    code, _, err = invoke("load", str(src), "--store", str(tmp_path / "store"))
    assert code == 1 and "1 failed" in err and f" {EXAMPLE_GRAPHS} graphs ({EXAMPLE_QUADS} triples)" in err


def test_a_partly_written_graph_is_repaired_by_loading_again(tmp_path: Path) -> None:
    """What a crash during the (non-transactional) bulk load, or between removing and loading
    a graph, can leave: a graph with only some of its quads, or none. Loading again repairs it."""
    store = open_store(tmp_path / "store")
    load_store(store, collect([EXAMPLES]))
    graph = pyoxigraph.NamedNode(CHANGED_IRI.replace("/curation/", "/graph/curation/"))
    quads = list(store.quads_for_pattern(None, None, None, graph))
    assert len(quads) > 10
    for q in quads[: len(quads) // 2]:
        store.remove(q)
    other = next(g for g in store.named_graphs() if g != graph)
    store.remove_graph(other)
    assert len(store) < EXAMPLE_QUADS
    load_store(store, collect([EXAMPLES]))
    assert counts(store) == (EXAMPLE_QUADS, EXAMPLE_GRAPHS)
    assert set(store) == set(memory_store([EXAMPLES]))


def test_a_folder_of_rdf_files_without_sources_or_manifest_is_refused(tmp_path: Path) -> None:
    """An export folder copied without its manifest (the committed outputs/ is one) once loaded
    zero graphs with exit 0: it is neither sources nor an export kg can sync. Now exit 2, naming
    the folder and the file to load instead; that file loads."""
    from click.testing import CliRunner

    from kg.cli import main

    folder = tmp_path / "copied"
    folder.mkdir()
    for name in ("curations.nq", "curations.ttl", "report.json"):
        (folder / name).write_bytes((ROOT / "outputs" / name).read_bytes())
    result = CliRunner().invoke(main, ["load", str(folder), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert f"{folder}: holds RDF files (curations.nq, curations.ttl)" in result.stderr
    assert str(folder / "curations.nq") in result.stderr
    loaded = CliRunner().invoke(main, ["load", str(folder / "curations.nq"), "--store", str(tmp_path / "s")])
    assert loaded.exit_code == 0 and f" {EXAMPLE_GRAPHS} graphs ({EXAMPLE_QUADS} triples)" in loaded.stderr
