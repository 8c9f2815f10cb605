"""Shared fixtures: data locations, and graph comparison with a readable diff."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, to_isomorphic

TESTS = Path(__file__).resolve().parent
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "curations"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
CORPUS = SHARED / "corpus" / "curations"
GOLDEN = Path(__file__).resolve().parent / "golden"

# Real SPARQL servers (oxigraph, Virtuoso) and a scripted one, as fixtures.
pytest_plugins = ["tests.helpers.servers"]


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not present at {CORPUS}")
    return CORPUS


@pytest.fixture
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"seeds not present at {SEEDS}")
    return SEEDS


def assert_same_graph(expected: Graph, actual: Graph) -> None:
    """Compare as graphs (blank-node aware); on failure show only the differing triples."""
    iso_expected, iso_actual = to_isomorphic(expected), to_isomorphic(actual)
    if iso_expected == iso_actual:
        return
    _, only_expected, only_actual = graph_diff(iso_expected, iso_actual)

    def dump(g: Graph) -> str:
        lines = sorted(g.serialize(format="nt").splitlines())
        shown = "\n".join(lines[:40])
        return shown + (f"\n... {len(lines) - 40} more" if len(lines) > 40 else "")

    pytest.fail(
        f"graphs differ\n--- only in expected ({len(only_expected)}):\n{dump(only_expected)}"
        f"\n+++ only in actual ({len(only_actual)}):\n{dump(only_actual)}",
        pytrace=False,
    )


def oxigraph_triples(data: bytes, fmt: pyoxigraph.RdfFormat) -> set[str]:
    """Parse with Oxigraph (not rdflib) and return canonical N-Triples lines of the triples."""
    out = set()
    for item in pyoxigraph.parse(data, format=fmt):
        triple = item.triple if isinstance(item, pyoxigraph.Quad) else item
        out.add(pyoxigraph.serialize([triple], format=pyoxigraph.RdfFormat.N_TRIPLES).decode())
    return out
