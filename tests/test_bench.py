"""The benchmark's own machinery: a deterministic generator whose files kg exports cleanly, a
baseline that builds the same graph as kg, and a runner that writes a report.

No timing assertions: speed targets live in the benchmark (`python -m bench.run`), not in tests.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kg.pipeline.export import build, export
from tests.conftest import ROOT, SHARED

TAXONOMY = SHARED / "corpus" / "taxonomy" / "category-whole-data.json"


@pytest.fixture(scope="module")
def taxonomy() -> Path:
    if not TAXONOMY.is_file():
        pytest.skip(f"taxonomy not present at {TAXONOMY}")
    return TAXONOMY


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, taxonomy: Path) -> Path:
    from bench.generate import generate

    out = tmp_path_factory.mktemp("corpus")
    generate(30, out, seed=7, taxonomy=taxonomy)
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path: Path, corpus: Path, taxonomy: Path) -> None:
    from bench.generate import generate

    generate(30, tmp_path / "again", seed=7, taxonomy=taxonomy)
    first, second = _files(corpus), _files(tmp_path / "again")
    assert len([n for n in first if n.endswith(".md")]) == 30
    assert first == second
    generate(30, tmp_path / "other", seed=8, taxonomy=taxonomy)
    assert _files(tmp_path / "other") != first


def test_generated_files_are_shaped_like_the_real_ones(corpus: Path) -> None:
    names = [p.name for p in corpus.rglob("*.md")]
    assert all(re.fullmatch(r"[a-z0-9-]+__[a-z0-9-]+__[0-9a-f-]{36}\.md", n) for n in names)
    for path in corpus.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("---\naliases: ")
        assert re.search(r"^date: '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z'$", text, re.MULTILINE)
        assert "\nopenProjectCustomFields:\n" in text and "  medigyTopics: '[" in text
        body = text.split("\n---\n\n", 1)[1]
        assert body.startswith("<") and 1000 <= len(body.encode()) <= 3000


def test_every_generated_file_exports_with_kg(tmp_path: Path, corpus: Path) -> None:
    report = export([corpus], tmp_path / "out", jobs=1)
    assert report.count("exported") == 30
    assert report.count("failed") == 0 and report.count("skipped") == 0
    assert report.problems == 0


_DATETIME = re.compile(r'"([^"]*)"\^\^<http://www\.w3\.org/2001/XMLSchema#dateTime>')


def _canonical(lines: list[str]) -> set[str]:
    """N-Triples lines with dateTime literals compared by value (rdflib writes Z as +00:00)."""

    def norm(m: re.Match[str]) -> str:
        return f'"{dt.datetime.fromisoformat(m.group(1)).isoformat()}"^^<dt>'

    return {_DATETIME.sub(norm, line) for line in lines if line.strip()}


def test_baseline_builds_the_same_graph_as_kg(corpus: Path) -> None:
    from bench import baseline
    from bench.floor import list_files

    graph = baseline.build(baseline.parse(list_files(corpus), corpus))
    ours = _canonical(graph.serialize(format="nt").splitlines())
    theirs = _canonical(build([corpus], jobs=1).ntriples().decode("utf-8").splitlines())
    assert ours == theirs


def test_quick_run_writes_a_markdown_report(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "bench.run", "--sizes", "50", "--quick", "--out", str(out)]
    done = subprocess.run(
        [*cmd, "--cache", str(tmp_path / "cache"), "--kg-root", str(ROOT)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks")
    assert "| pipeline | N | seconds | curations/s | triples/s | peak memory MB |" in text
    assert re.search(r"^\| kg export, all formats, jobs=2 \| 50 \| [0-9.]+ \|", text, re.MULTILINE)
    assert re.search(r"^\| floor, 1 process \| 50 \|", text, re.MULTILINE)
    assert "## Targets" in text and "## Machine and software" in text


@pytest.mark.corpus
def test_baseline_and_kg_give_the_same_graph_on_the_real_corpus(corpus_dir: Path) -> None:
    """Speed never changes results: the plain rdflib pipeline and kg's fast path agree."""
    import pyoxigraph

    from bench import baseline
    from bench.floor import list_files

    def canonical_lines(nt: bytes) -> list[str]:  # Oxigraph re-serializes: one escaping style
        triples = pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_TRIPLES)
        return pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES).decode().splitlines()

    graph = baseline.build(baseline.parse(list_files(corpus_dir), corpus_dir))
    plain = _canonical(canonical_lines(graph.serialize(format="nt", encoding="utf-8")))
    fast = _canonical(canonical_lines(build([corpus_dir], jobs=2).ntriples()))
    assert len(plain) == len(fast) > 16000
    assert plain == fast


def test_baseline_core_and_sparql_halves_find_what_the_whole_shapes_find(corpus: Path) -> None:
    """The honest baseline validates SHACL Core in pySHACL and times the SPARQL constraints apart:
    the two halves together must report exactly what the whole shapes graph reports, so neither
    half drops or duplicates a constraint."""
    import pyshacl
    from rdflib import SH, Graph, Literal
    from rdflib.namespace import RDF

    from bench import baseline
    from bench.floor import list_files
    from kg.rdf.vocab import KG

    data = baseline.build(baseline.parse(list_files(corpus)[:6], corpus))
    first, second = sorted(data.subjects(RDF.type, KG.Curation))[:2]
    data.add((second, KG.mdName, next(data.objects(first, KG.mdName))))  # a SPARQL violation
    data.add((first, KG.workPackageId, Literal("not a number")))  # Core violations
    shapes = Graph()
    for path in baseline.shape_files(ROOT / "shapes"):
        shapes.parse(path)
    core, sparql, removed = baseline.split_sparql(shapes)
    assert removed == len(set(shapes.subject_objects(SH.sparql))) > 0
    assert not list(core.subject_objects(SH.sparql))

    def results(shapes_graph: Graph) -> set[tuple[str, ...]]:
        _, report, _ = pyshacl.validate(data, shacl_graph=shapes_graph, inference="none")
        keys = (SH.focusNode, SH.sourceShape, SH.sourceConstraintComponent, SH.value)
        return {
            tuple(str(report.value(r, p)) for p in keys)
            for r in report.subjects(RDF.type, SH.ValidationResult)
        }

    core_results, sparql_results = results(core), results(sparql)
    assert core_results and sparql_results
    assert core_results | sparql_results == results(shapes)
    assert not core_results & sparql_results


def test_maplib_peer_maps_the_same_graph_as_kg_but_for_datetime_spelling(
    tmp_path: Path, corpus: Path
) -> None:
    """bench/maplib_map.py (the peer of issue 17) maps the fields kg maps: its N-Triples and
    Turtle parse, hold the triples kg writes for a known curation, and the whole graph equals
    kg's once `xsd:dateTime` values are compared by value (maplib writes `+00:00` for `Z`) and
    naive event times are read as UTC, as maplib writes them."""
    pytest.importorskip("maplib", reason="maplib (the bench extra) is not installed")
    import pyoxigraph
    import yaml

    from bench import maplib_map
    from bench.floor import front_matter, list_files

    _, triples = maplib_map.run(corpus, tmp_path / "maplib", ["ntriples", "turtle"])
    nt = (tmp_path / "maplib" / "curations.nt").read_text(encoding="utf-8")
    parsed = list(pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert len(parsed) == len(set(parsed)) == triples > 30 * 20
    ttl = pyoxigraph.parse(path=tmp_path / "maplib" / "curations.ttl", format=pyoxigraph.RdfFormat.TURTLE)
    assert set(ttl) == set(parsed)
    maplib_map.run(corpus, tmp_path / "jobs2", ["ntriples"], jobs=2)  # parsed in 2 processes, merged
    assert set(pyoxigraph.parse(path=tmp_path / "jobs2" / "curations.nt")) == set(parsed)

    known = list_files(corpus)[0]
    fm = yaml.load(front_matter(known.read_bytes()), Loader=yaml.CSafeLoader)
    c = pyoxigraph.NamedNode(f"https://w3id.org/medigy/kg/id/curation/{fm['mdName']}")
    about = {(t.predicate.value, t.object) for t in parsed if t.subject == c}
    schema, kgns, xsd = (
        "https://schema.org/",
        "https://w3id.org/medigy/kg#",
        "http://www.w3.org/2001/XMLSchema#",
    )
    assert (schema + "name", pyoxigraph.Literal(fm["title"])) in about
    assert (kgns + "mdName", pyoxigraph.Literal(fm["mdName"])) in about
    assert (
        kgns + "workPackageId",
        pyoxigraph.Literal(str(fm["id"]), datatype=pyoxigraph.NamedNode(xsd + "integer")),
    ) in about
    assert (kgns + "slug", pyoxigraph.Literal(fm["slug"])) in about
    assert {o.value for p, o in about if p == schema + "keywords"} == set(fm["tags"])
    assert len({o for p, o in about if p == kgns + "topic"}) == len(fm["communityTopics"])
    # kg's union also types each shared node's named graph (kg:NodeGraph): layout, not a field
    kg_lines = [
        line
        for line in build([corpus], jobs=1).ntriples().decode("utf-8").splitlines()
        if "#NodeGraph>" not in line
    ]
    assert {line for line in _canonical(kg_lines) if line.startswith(f"<{c.value}")} == {
        line for line in _canonical(nt.splitlines()) if line.startswith(f"<{c.value}")
    }
    # maplib has no naive xsd:dateTime (a Polars datetime without a zone is written as UTC): the
    # generated events' unquoted `2021-04-20 09:00:00` are its only lossy difference from kg.
    ours, theirs = _canonical(nt.splitlines()), _canonical(kg_lines)
    assert all(re.search(r"/(start|end)Date> ", line) for line in theirs - ours)
    assert {_NAIVE.sub(r'"\1+00:00"^^<dt>', line) for line in theirs} == ours


_NAIVE = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)"\^\^<dt>')
