"""Plain SPARQL works (issue 15, item 3): a query written without `GRAPH ?g`, as analysts write
SPARQL, answers over the union of the named graphs on every target kg queries: the embedded
store, files given with --data, an Oxigraph server in its default configuration (whose default
graph is NOT the union: kg sends Oxigraph's `union-default-graph` request parameter) and
Virtuoso (whose default graph is the union), with the same rows everywhere. A query that names
its own dataset (FROM) keeps it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.pipeline.export import export
from kg.sparql.query import union_default_graph
from kg.store.http import Endpoint
from kg.store.load import collect, load_endpoint
from tests.conftest import EXAMPLES
from tests.helpers.facts import curation_facts
from tests.helpers.servers import Server
from tests.helpers.store import PLAIN

CURATIONS = "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a kg:Curation }"


def query(*args: str) -> str:
    """`kg query ... -f csv`'s output; the command must succeed."""
    result = CliRunner().invoke(main, ["query", *args, "-f", "csv"])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def example_nq(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    export([EXAMPLES], out, ["nquads"])
    return out / "curations.nq"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, example_nq: Path) -> Path:
    store = tmp_path_factory.mktemp("store") / "kg-store"
    result = CliRunner().invoke(main, ["load", str(example_nq), "--store", str(store)])
    assert result.exit_code == 0, result.output
    return store


@pytest.fixture(scope="module")
def expected(example_nq: Path) -> str:
    """PLAIN's answer, computed from the exported quads in Python (tests.helpers.facts), as CSV."""
    counts: dict[str, int] = {}
    for facts in curation_facts(example_nq.read_bytes()):
        for label in {t[2] for t in facts.topics}:
            counts[label] = counts.get(label, 0) + 1
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [("topic", "curations"), *sorted(counts.items(), key=lambda r: (-r[1], r[0]))]
    )
    answer = out.getvalue()
    assert answer.splitlines()[1] == "Telehealth,7"
    return answer


def test_plain_sparql_answers_on_the_embedded_store_and_on_files(
    store_dir: Path, example_nq: Path, expected: str
) -> None:
    assert query("--sparql", PLAIN, "--store", str(store_dir)) == expected
    assert query("--sparql", PLAIN, "--data", str(example_nq)) == expected
    assert query("--sparql", PLAIN, "--data", str(EXAMPLES)) == expected
    assert query("--sparql", CURATIONS, "--store", str(store_dir)).split() == ["n", "16"]


def test_a_query_that_names_its_dataset_keeps_it(store_dir: Path, example_nq: Path) -> None:
    """FROM <g>: the default graph is that graph only, not the union (both pyoxigraph and
    Oxigraph's server would let the union override FROM, so kg does not ask for it then)."""
    graph = example_nq.read_text(encoding="utf-8").splitlines()[0].rsplit(" ", 2)[1]
    in_graph = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"
    from_graph = f"SELECT (COUNT(*) AS ?n) FROM {graph} WHERE {{ ?s ?p ?o }}"
    one = query("--sparql", in_graph, "--store", str(store_dir))
    assert int(one.split()[1]) < 1170
    assert query("--sparql", from_graph, "--store", str(store_dir)) == one
    assert query("--sparql", from_graph, "--data", str(example_nq)) == one
    assert not union_default_graph(from_graph)
    assert union_default_graph(PLAIN) and union_default_graph('SELECT * { ?s ?p "FROM" } # FROM')


def _load(server: Server, example_nq: Path) -> None:
    endpoint = Endpoint(server.store_url, user=server.user, password=server.password)
    load_endpoint(endpoint, collect([example_nq]))


@pytest.mark.server
def test_plain_sparql_answers_on_an_oxigraph_server(
    oxigraph_server: Server, example_nq: Path, expected: str
) -> None:
    """The fixture's server runs in Oxigraph's default configuration: its default graph is
    empty, so before the fix the plain query returned no rows."""
    _load(oxigraph_server, example_nq)
    assert query("--sparql", PLAIN, "--endpoint", oxigraph_server.query_url) == expected
    assert query("--sparql", CURATIONS, "--endpoint", oxigraph_server.query_url).split() == ["n", "16"]


@pytest.mark.server
@pytest.mark.slow
def test_plain_sparql_answers_on_virtuoso(virtuoso_server: Server, example_nq: Path, expected: str) -> None:
    _load(virtuoso_server, example_nq)
    assert query("--sparql", PLAIN, "--endpoint", virtuoso_server.query_url) == expected
    assert query("--sparql", CURATIONS, "--endpoint", virtuoso_server.query_url).split() == ["n", "16"]
