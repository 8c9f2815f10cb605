"""Query answers as people and files get them (kg/sparql/results.py, `kg query -o/--limit`): the
first N rows read without touching the query, a table that fits a terminal (in a real pseudo
terminal), results written atomically in the W3C formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.sparql.library import resolve
from kg.sparql.query import execute
from kg.sparql.results import cut, display_width, fit_widths, format_table
from tests.conftest import ROOT
from tests.helpers.terminal import run_on_a_terminal

DATA = ROOT / "outputs" / "curations.nq"
TERMS = """
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT ?i ?x ?y WHERE {
  VALUES (?i ?x ?y) {
    (1 <https://example.org/a> "plain")
    (2 "chat"@fr 12)
    (3 "2024-01-02"^^xsd:date UNDEF)
    (4 "漢字 wide" "1.5"^^xsd:decimal)
  }
  OPTIONAL { BIND(BNODE() AS ?b) }
} ORDER BY ?i
"""
#: Rows wider than any terminal: each curation's IRI, property and a long value.
WIDE = """
PREFIX schema: <https://schema.org/>
SELECT ?c ?p ?o WHERE { GRAPH ?g { ?c ?p ?o FILTER(?p IN (schema:description, schema:name, schema:url)) } }
ORDER BY ?c ?p ?o LIMIT 40
"""


@pytest.fixture(scope="module")
def store() -> pyoxigraph.Store:
    s = pyoxigraph.Store()
    s.load(path=str(DATA), format=pyoxigraph.RdfFormat.N_QUADS)
    return s


def test_the_first_rows_are_those_of_the_whole_answer(store: pyoxigraph.Store) -> None:
    whole = execute(TERMS, store)
    for limit in (0, 1, 3, 4, 10):
        first = execute(TERMS, store, limit=limit)
        assert first.variables() == whole.variables()
        assert first.terms() == whole.terms()[:limit]
        assert first.first(2).terms() == whole.terms()[: min(limit, 2)]  # a remote answer, cut after
        assert json.loads(first.serialize("json"))["head"]["vars"] == ["i", "x", "y"]
    assert execute("ASK { ?s ?p ?o }", store, limit=0).boolean() is True
    graph = execute("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", store, limit=5)
    assert graph.kind == "graph" and len(graph.data.splitlines()) == 5
    assert len(graph.first(2).data.splitlines()) == 2


def test_a_limit_stops_reading_without_changing_the_query(store: pyoxigraph.Store) -> None:
    """A query's own LIMIT still holds, a trailing comment cannot swallow the limit (nothing is
    pasted after it), and a cross product of 882^3 rows answers its first three at once."""
    own = execute("SELECT ?s WHERE { ?s ?p ?o } LIMIT 2", store, limit=5)
    assert len(own.terms()) == 2
    commented = execute("SELECT ?s WHERE { ?s ?p ?o } # LIMIT", store, limit=4)
    assert len(commented.terms()) == 4
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "query", "--data", str(DATA), "--limit", "3", "--format", "csv",
         "--sparql", "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 4 and "the first 3: --limit" in done.stderr


def test_a_table_fits_the_width_it_is_given(store: pyoxigraph.Store) -> None:
    results = execute(WIDE, store)
    full = format_table(results)
    assert max(display_width(line) for line in full.splitlines()) > 100
    for width in (100, 60, 30, 12, 5):
        table = format_table(results, width)
        lines = table.splitlines()
        assert len(lines) == 42 and all(display_width(line) <= width for line in lines), width
        assert "…" in table
    wide = format_table(execute(TERMS, store), 14)
    assert all(display_width(line) <= 14 for line in wide.splitlines())
    assert format_table(execute(TERMS, store), 200) == format_table(execute(TERMS, store))


def test_cells_are_cut_by_the_columns_they_take() -> None:
    assert display_width("漢字") == 4 and display_width("e\u0301") == 1
    assert cut("漢字漢字", 5) == "漢字…" and display_width(cut("漢字漢字", 5)) == 5
    assert cut("short", 5) == "short" and cut("longer", 5) == "long…"
    assert fit_widths([10, 50, 100], 80) == [10, 33, 33]  # the widest narrowed first
    assert sum(fit_widths([100] * 5, 80)) + 2 * 4 == 80
    assert fit_widths([5, 5], 100) == [5, 5]


def test_on_a_terminal_the_table_is_never_wider_than_it() -> None:
    args = ["query", "--data", str(DATA), "--sparql", WIDE, "--limit", "30"]
    code, shown = run_on_a_terminal(args, "stdout", columns=70, timeout=60)
    assert code == 0
    lines = shown.splitlines()
    assert len(lines) == 32 and all(display_width(line) <= 70 for line in lines)
    assert "…" in shown
    piped = CliRunner().invoke(main, ["query", "--data", str(DATA), "--sparql", WIDE, "--limit", "30"])
    assert max(display_width(line) for line in piped.stdout.splitlines()) > 70  # not a terminal: whole


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "table"])
def test_results_are_written_to_a_file_atomically(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"brands.{fmt}"
    args = ["query", "brand-counts", "--data", str(DATA), "--format", fmt, "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and f"-> {out}" in result.stderr
    expected = CliRunner().invoke(main, args[:-2])
    written = out.read_bytes()
    if fmt == "table":
        assert written.decode() == expected.stdout
    else:  # the W3C format's own bytes
        direct = execute(resolve("brand-counts"), [DATA]).serialize(fmt)
        assert written == direct
    # a failing query leaves the previous file as it was, and no temporary beside it
    bad = CliRunner().invoke(main, ["query", "--sparql", "SELECT {", "--data", str(DATA), "-o", str(out)])
    assert bad.exit_code == 2 and out.read_bytes() == written
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]
