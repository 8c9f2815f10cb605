"""The topic taxonomy: reading the site's JSON, its SKOS graph, `kg taxonomy`, topic matching.

The handmade fixture (tests/fixtures/taxonomy/) covers every rule in a few records; the site's
real taxonomy (../shared/corpus/taxonomy/, 2,358 records) is checked for its counts, computed
independently from the raw JSON (tests/taxonomy_facts.py), when it is present.
"""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
import yaml
from click.testing import CliRunner

from kg.cli import main
from kg.map.curation import IriScheme
from kg.map.taxonomy import render, taxonomy_graph, taxonomy_rdf
from kg.map.topics import TopicMatcher, check_sources, osa_distance
from kg.model import Topic
from kg.pipeline.export import build
from kg.rdf.namespaces import PREFIXES
from kg.read.taxonomy import TaxonomyError, parse_taxonomy, read_taxonomy
from kg.sparql.query import execute
from kg.store.load import collect, load_store, memory_store
from kg.validation.validate import load_shapes, validate_inputs
from tests.conftest import EXAMPLES, ROOT, SHARED, oxigraph_triples
from tests.helpers import taxonomy_facts as tx

FIXTURE = ROOT / "tests" / "fixtures" / "taxonomy" / "category-whole-data.json"
REAL = SHARED / "corpus" / "taxonomy" / "category-whole-data.json"
SKOS = PREFIXES["skos"]
IRIS = IriScheme()


@pytest.fixture
def real_taxonomy() -> Path:
    if not REAL.is_file():
        pytest.skip(f"the site's taxonomy is not present at {REAL}")
    return REAL


def _write(tmp_path: Path, records: Any, name: str = "taxonomy.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def _record(label: Any = "Telehealth", source: Any = "KLAS", **extra: Any) -> dict[str, Any]:
    rec = {"classname": str(label).replace(" ", "_"), "label": label, "description": None}
    rec.update(parentclassname=str(source), parentclasslabel=source, equalentCollections=[])
    rec.update(extra)
    return rec


def _kg(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


# --- reading ---------------------------------------------------------------------------------


def test_a_bad_record_is_skipped_and_named_by_index_and_field(tmp_path: Path) -> None:
    records = [
        _record(),
        42,
        _record(label=None),
        _record(label=7),
        _record(source="  "),
        _record("Telemedicine", description="%%% not base64"),
        _record("Remote Care", description=base64.b64encode(b"\xff\xfe").decode()),
        _record("Home Care", equalentCollections="KLAS: Telehealth"),
        _record("Virtual Care", equalentCollections=["KLAS: Telehealth"]),
    ]
    taxonomy = read_taxonomy(_write(tmp_path, records))
    assert [r.label for r in taxonomy.records] == [
        "Telehealth",
        "Telemedicine",
        "Remote Care",
        "Home Care",
        "Virtual Care",
    ]
    found = [(p.index, p.field, p.severity) for p in taxonomy.problems]
    assert found == [
        (1, None, "error"),
        (2, "label", "error"),
        (3, "label", "error"),
        (4, "parentclasslabel", "error"),
        (5, "description", "warning"),
        (6, "description", "warning"),
        (7, "equalentCollections", "warning"),
        (8, "equalentCollections[0]", "warning"),
    ]
    assert all(
        str(p).startswith(f"{tmp_path / 'taxonomy.json'}: record {p.index}") for p in taxonomy.problems
    )
    assert taxonomy.records[1].definition is None  # bad base64: no definition, the topic stays


def test_the_cli_reports_bad_records_and_exits_1_with_the_rest_written(tmp_path: Path) -> None:
    src = _write(tmp_path, [_record(), {"label": "No source"}])
    out = tmp_path / "taxonomy.nq"
    result = _kg("taxonomy", str(src), "-o", str(out))
    assert result.exit_code == 1, result.output
    assert f"{src}: record 1, field parentclasslabel: missing; record skipped" in result.stderr
    assert "Traceback" not in result.output
    assert IRIS.topic("KLAS", "Telehealth") in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'{"classname": "x"}', "expected a JSON list of topic records, got an object"),
        (b"[{", "not valid JSON at line 1"),
        (b"[" * 100_000, "not valid JSON"),
        (b"\xff\xfe[]", "not UTF-8"),
    ],
)
def test_an_unreadable_file_is_exit_2_naming_it(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "taxonomy.json"
    path.write_bytes(content)
    with pytest.raises(TaxonomyError, match=says):
        parse_taxonomy(content, str(path))
    result = _kg("taxonomy", str(path), "-o", str(tmp_path / "t.nq"))
    assert result.exit_code == 2
    assert str(path) in result.stderr and says in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "t.nq").exists()


def test_missing_file_folder_and_unknown_suffix_are_exit_2(tmp_path: Path) -> None:
    for given in (tmp_path / "missing.json", tmp_path):
        result = _kg("taxonomy", str(given), "-o", str(tmp_path / "t.nq"))
        assert result.exit_code == 2 and str(given) in result.stderr, result.output
    result = _kg("taxonomy", str(FIXTURE), "-o", str(tmp_path / "t.json"))
    assert result.exit_code == 2 and "--output" in result.output and ".nq" in result.output


# --- the SKOS graph --------------------------------------------------------------------------


def _quads(path: Path) -> list[pyoxigraph.Quad]:
    return list(pyoxigraph.parse(path.read_bytes(), format=pyoxigraph.RdfFormat.N_QUADS))


def _objects(quads: list[pyoxigraph.Quad], s: str, p: str) -> set[str]:
    return {q.object.value for q in quads if q.subject.value == s and q.predicate.value == SKOS + p}


def test_the_fixture_as_skos(tmp_path: Path) -> None:
    out = tmp_path / "taxonomy.nq"
    assert _kg("taxonomy", str(FIXTURE), "-o", str(out)).exit_code == 0
    quads = _quads(out)
    assert {q.graph_name.value for q in quads} == {taxonomy_graph(IRIS)}
    klas = IRIS.scheme("KLAS")
    telehealth = IRIS.topic("KLAS", "Telehealth")
    assert _objects(quads, telehealth, "prefLabel") == {"Telehealth"}
    assert _objects(quads, telehealth, "inScheme") == {klas}
    assert _objects(quads, telehealth, "topConceptOf") == {klas}
    assert telehealth in _objects(quads, klas, "hasTopConcept")
    assert _objects(quads, klas, "prefLabel") == {"KLAS"}
    assert _objects(quads, klas, "notation") == {"KlasresearchCategories"}
    # definitions: decoded base64, UTF-8 (an em dash)
    assert _objects(quads, telehealth, "definition") == {
        "Care delivered at a distance — by video, phone or app."
    }
    # closeMatch both ways, also where the file gives only one direction; never to itself
    mesh = IRIS.topic("Medical Subject Headings (MeSH)", "Telemedicine")
    assert _objects(quads, telehealth, "closeMatch") == {
        IRIS.topic("Medigy", "Telemedicine"),
        mesh,
        IRIS.topic("HIMSS", "Telehealth"),
    }
    assert _objects(quads, mesh, "closeMatch") == {telehealth}
    assert not [q for q in quads if q.predicate.value == SKOS + "closeMatch" and q.subject == q.object]
    # two records with one source and label are one concept, both classnames kept as notations
    assert _objects(quads, mesh, "notation") == {"Telemedicine_MeSH", "OWLClass_0001"}
    # subclass*: narrower/broader; a subclass that is no record becomes a concept of the source
    rpm, devices = IRIS.topic("KLAS", "Remote Patient Monitoring"), IRIS.topic("KLAS", "RPM Devices")
    assert _objects(quads, rpm, "narrower") == {devices}
    assert _objects(quads, devices, "broader") == {rpm}
    assert _objects(quads, devices, "topConceptOf") == set()
    assert _objects(quads, devices, "definition") == {"Devices that measure vital signs at home."}
    pandemic, vaccine = IRIS.topic("Medigy", "Pandemic"), IRIS.topic("Medigy", "Vaccine Safety")
    assert _objects(quads, vaccine, "broader") == {pandemic}


def test_the_counts_match_the_raw_json() -> None:
    graph = taxonomy_rdf(read_taxonomy(FIXTURE))
    facts = tx.read(FIXTURE)
    assert graph.concepts == len(facts.concepts) == 15
    assert graph.definitions == len(facts.definitions) == 4
    assert graph.broader_links == sum(map(len, facts.narrower.values())) == 2
    assert graph.close_matches == sum(map(len, facts.close.values())) == 14
    assert [p.field for p in graph.problems] == ["description", "equalentCollections[0]"]


def test_topic_iris_are_the_curations_topic_iris() -> None:
    """`KLAS: Telehealth` on a curation and in the taxonomy is one node (and a trailing NBSP in
    the taxonomy's label is trimmed as in the front matter)."""
    exported = build([EXAMPLES])
    used = {
        line.split(" ")[2][1:-1]
        for line in exported.nquads().decode("utf-8").splitlines()
        if f" <{PREFIXES['kg']}topic> " in line
    }
    concepts = {s for s, p, o in taxonomy_rdf(read_taxonomy(FIXTURE)).triples if o == SKOS + "Concept"}
    shared = used & concepts
    assert IRIS.topic("KLAS", "Telehealth") in shared
    assert IRIS.topic("Medigy", "Vaccine Safety") in shared
    taxonomy = read_taxonomy(FIXTURE)
    check = check_sources(TopicMatcher.from_taxonomy(taxonomy), [EXAMPLES])
    assert shared == {m.iri for m in check.matches.values() if m.kind == "exact"}
    assert len(shared) == 13


def test_output_is_deterministic_whatever_the_record_order(tmp_path: Path) -> None:
    records = json.loads(FIXTURE.read_text(encoding="utf-8"))
    outputs = []
    for seed in (1, 2):
        random.Random(seed).shuffle(records)
        src = _write(tmp_path, records, f"t{seed}.json")
        for suffix in (".nq", ".ttl", ".nt"):
            out = tmp_path / f"out{seed}{suffix}"
            assert _kg("taxonomy", str(src), "-o", str(out)).exit_code == 0
        outputs.append([(tmp_path / f"out{seed}{s}").read_bytes() for s in (".nq", ".ttl", ".nt")])
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("path", [FIXTURE, REAL], ids=["fixture", "site"])
def test_round_trip_through_oxigraph(tmp_path: Path, path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"the site's taxonomy is not present at {path}")
    graph = taxonomy_rdf(read_taxonomy(path))
    expected = "".join(render(graph, "ntriples", IRIS.base)).encode("utf-8")
    want = oxigraph_triples(expected, pyoxigraph.RdfFormat.N_TRIPLES)
    assert len(want) == len(graph.triples)
    for suffix, fmt in ((".nq", pyoxigraph.RdfFormat.N_QUADS), (".ttl", pyoxigraph.RdfFormat.TURTLE)):
        out = tmp_path / f"taxonomy{suffix}"
        assert _kg("taxonomy", str(path), "-o", str(out)).exit_code == 0
        assert oxigraph_triples(out.read_bytes(), fmt) == want


@pytest.mark.parametrize("engine", ["fast", pytest.param("pyshacl", marks=pytest.mark.slow)])
def test_the_taxonomy_graph_conforms_to_kgs_shapes(tmp_path: Path, engine: str) -> None:
    """Alone and beside the curations: the shapes for topics and schemes apply to it."""
    from kg.shacl.fast import fast_engine
    from kg.shacl.reference import pyshacl_engine

    out = tmp_path / "taxonomy.nq"
    assert _kg("taxonomy", str(FIXTURE), "-o", str(out)).exit_code == 0
    chosen = fast_engine if engine == "fast" else pyshacl_engine
    alone = validate_inputs([out], load_shapes(), engine=chosen)
    assert alone.results == []
    together = validate_inputs([out, EXAMPLES], load_shapes(), engine=chosen)
    without = validate_inputs([EXAMPLES], load_shapes(), engine=chosen)
    assert [r.message for r in together.results] == [r.message for r in without.results]


def test_kg_validate_on_the_site_taxonomy(tmp_path: Path, real_taxonomy: Path) -> None:
    out = tmp_path / "taxonomy.nq"
    assert _kg("taxonomy", str(real_taxonomy), "-o", str(out)).exit_code == 0
    result = _kg("validate", str(out), "--fail-on", "info")
    assert result.exit_code == 0, result.output


def test_kg_load_puts_it_beside_the_curations(tmp_path: Path) -> None:
    """`kg load SOURCES TAXONOMY.nq` gives the store a load of `kg export SOURCES --taxonomy`
    gives: the taxonomy graph beside the curation graphs, and the shared nodes' graphs without
    the facts the taxonomy states (each fact in one graph: docs/graph-model.md, "Named graphs")."""
    out = tmp_path / "taxonomy.nq"
    assert _kg("taxonomy", str(FIXTURE), "-o", str(out)).exit_code == 0
    store = pyoxigraph.Store()
    load_store(store, collect([EXAMPLES, out]))
    graphs = {g.value for g in store.named_graphs()}
    # 16 curation graphs + the taxonomy's + 58 node graphs: 20 of the examples' 78 shared nodes
    # (13 topics, 7 schemes) are described by the taxonomy alone.
    assert taxonomy_graph(IRIS) in graphs and len(graphs) == 16 + 1 + 58
    exported = tmp_path / "export"
    assert _kg("export", str(EXAMPLES), "-o", str(exported), "--taxonomy", str(FIXTURE)).exit_code == 0
    assert set(store) == set(memory_store([exported / "curations.nq"]))
    concepts = execute("SELECT ?t ?l WHERE { ?t a skos:Concept ; skos:prefLabel ?l }", store).rows()
    rows = [(r["t"], r["l"]) for r in concepts]
    assert len(rows) == len(set(rows)) == 35  # over the union, no row twice (74 rows before the fix)


# --- the site's taxonomy ---------------------------------------------------------------------


def test_the_site_taxonomy_counts(real_taxonomy: Path) -> None:
    taxonomy = read_taxonomy(real_taxonomy)
    graph = taxonomy_rdf(taxonomy)
    facts = tx.read(real_taxonomy)
    raw = json.loads(real_taxonomy.read_text(encoding="utf-8"))
    assert len(taxonomy.records) == facts.records == 2358
    assert len({r["parentclasslabel"] for r in raw}) == graph.schemes == 13
    assert sum(1 for r in raw if r["description"]) == 717  # records with a definition
    assert sum(1 for r in raw if r["equalentCollections"]) == 325  # records with equivalents
    # 108 records repeat a (source, label) of another: one concept each (kg mints the IRI from it)
    assert graph.concepts == len(facts.concepts) == 2250
    assert graph.definitions == len(facts.definitions) == 698
    definitions = sum(1 for t in graph.triples if t[1] == SKOS + "definition")
    assert definitions == sum(map(len, facts.definitions.values())) == 711
    # subclass* is null in every record: no hierarchy beyond each source's top concepts
    assert graph.broader_links == sum(map(len, facts.narrower.values())) == 0
    assert sum(1 for t in graph.triples if t[1] == SKOS + "topConceptOf") == 2250
    # 1,463 equivalents: 1 names no topic, 10 name the concept itself (a duplicate label)
    assert sum(len(r["equalentCollections"]) for r in raw) == 1463
    assert graph.close_matches == sum(map(len, facts.close.values())) == 1480
    assert graph.concepts_with_matches == len(facts.close) == 327
    assert facts.unresolved == 1 and facts.bad_base64 == 0
    assert [(p.index, p.field) for p in graph.problems] == [(2201, "equalentCollections[1]")]


# --- matching curation topics ----------------------------------------------------------------


@pytest.fixture(scope="module")
def matcher() -> TopicMatcher:
    return TopicMatcher.from_taxonomy(read_taxonomy(FIXTURE))


@pytest.mark.parametrize(
    ("given", "kind", "canonical", "suggestion"),
    [
        ("KLAS: Telehealth", "exact", "KLAS: Telehealth", None),
        ("Medigy: Vaccine Safety", "exact", "Medigy: Vaccine Safety", None),
        ("KLAS: telehealth", "case-space", "KLAS: Telehealth", None),
        ("klas:   Tele health", "unknown-topic", None, "Telehealth"),
        ("KLAS:  TELEHEALTH ", "case-space", "KLAS: Telehealth", None),
        ("Symplur: #covid19", "case-space", "Symplur: #COVID19", None),
        ("Symplur: -hash-COVID19", "exact", "Symplur: #COVID19", None),
        ("Medical Subject Headings (MeSH): Coronavirus\u00a0 infections", "case-space", None, None),
        ("KLAS: Telehelth", "unknown-topic", None, "Telehealth"),
        ("KLAS: Population Health", "unknown-topic", None, None),
        ("KLSA: Telehealth", "unknown-source", None, "KLAS"),
        ("Medgy: Pandemic", "unknown-source", None, "Medigy"),
        ("Healthcare IT News: Telehealth", "unknown-source", None, None),
        ("Telehealth", "no-source", None, "HIMSS: Telehealth"),
    ],
)
def test_topic_matching(
    matcher: TopicMatcher, given: str, kind: str, canonical: str | None, suggestion: str | None
) -> None:
    m = matcher.match_text(given)
    assert m is not None
    assert m.kind == kind
    if canonical is not None:
        assert m.canonical is not None and f"{m.canonical.source}: {m.canonical.label}" == canonical
        assert m.iri == IRIS.topic(m.canonical.source, m.canonical.label)
    assert m.suggestion == suggestion
    assert (m.message() is None) == (kind == "exact")


def test_a_case_space_match_links_to_the_canonical_concept(matcher: TopicMatcher) -> None:
    m = matcher.match(Topic("Medical Subject Headings (MeSH)", "coronavirus  infections"))
    assert m.kind == "case-space"
    assert m.iri == IRIS.topic("Medical Subject Headings (MeSH)", "Coronavirus Infections")
    message = m.message() or ""
    assert "coronavirus  infections" in message and "Coronavirus Infections" in message


def test_edit_distance() -> None:
    assert osa_distance("klsa", "klas") == 1  # a transposition is one edit
    assert osa_distance("", "abc") == 3
    assert osa_distance("gartner", "gartner") == 0
    assert osa_distance("medigy", "mediggy") == 1


def test_check_names_the_file_of_each_topic_that_does_not_match(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "---\nmdName: a\ntitle: A\ncommunityTopics:\n  - 'KLSA: Telehealth'\n  - 'KLAS: Telehealth'\n---\n",
        encoding="utf-8",
    )
    result = _kg("taxonomy", str(FIXTURE), "--check", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "a.md: communityTopics: topic 'KLSA: Telehealth': source 'KLSA'" in result.stderr
    assert "did you mean 'KLAS'?" in result.stderr
    assert "2 distinct topics in 1 curations: 1 exact, 0 case-space" in result.stderr
    missing = _kg("taxonomy", str(FIXTURE), "--check", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "nowhere" in missing.stderr


def _raw_topics(folder: Path) -> Counter[tuple[str | None, str]]:
    """Distinct topics of a folder, read with yaml and json only (not kg's parser)."""
    found: Counter[tuple[str | None, str]] = Counter()
    for path in sorted(folder.glob("*.md")):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("\n---", 1)[0].removeprefix("---\n"))
        values = list(front.get("communityTopics") or [])
        medigy = (front.get("openProjectCustomFields") or {}).get("medigyTopics")
        if medigy:
            values += json.loads(medigy) if isinstance(medigy, str) else medigy
        for value in {str(v).replace("-hash-", "#").strip() for v in values if str(v).strip()}:
            source, sep, label = value.partition(": ")
            found[(source.strip(), label.strip()) if sep else (None, value)] += 1
    return found


@pytest.mark.corpus
def test_corpus_topics_against_the_site_taxonomy(corpus_dir: Path, real_taxonomy: Path) -> None:
    """The figures for the issue, on the 400-curation corpus (issue 15 quotes 275/4/1 of 280 on
    1,028 curations of the whole site)."""
    check = check_sources(TopicMatcher.from_taxonomy(read_taxonomy(real_taxonomy)), [corpus_dir])
    assert check.curations == 400
    assert len(check.matches) == 204
    assert check.counts() == {
        "exact": 200,
        "case-space": 3,
        "unknown-topic": 1,
        "unknown-source": 0,
        "no-source": 0,
    }
    # the same split from the raw YAML and JSON, by plain string comparison
    facts = tx.read(real_taxonomy)
    loose = {(s.casefold(), " ".join(label.casefold().split())) for s, label in facts.concepts}
    raw = _raw_topics(corpus_dir)
    assert len(raw) == 204
    exact = {t for t in raw if t in facts.concepts}
    loosely = {
        t
        for t in raw
        if t not in exact and (str(t[0]).casefold(), " ".join(t[1].casefold().split())) in loose
    }
    assert (len(exact), len(loosely), len(raw) - len(exact) - len(loosely)) == (200, 3, 1)
    assert {
        (m.given.source, m.given.label) for m in check.matches.values() if m.kind == "case-space"
    } == loosely


# --- the taxonomy queries on real servers ------------------------------------------------------


def _taxonomy_cases() -> list[tuple[str, dict[str, object]]]:
    from tests.helpers.queries import CASES

    names = {"topic-equivalents", "source-counts", "equivalence-group-counts"}
    return [(name, params) for name, params, _, _ in CASES if name in names]


@pytest.mark.server
@pytest.mark.parametrize(
    "server_name", ["oxigraph_server", pytest.param("virtuoso_server", marks=pytest.mark.slow)]
)
def test_taxonomy_queries_give_the_same_rows_on_a_server(
    request: pytest.FixtureRequest, server_name: str, tmp_path: Path
) -> None:
    """Examples and taxonomy loaded with `kg load` into Oxigraph's server and Virtuoso (whose
    default graph is the union): the same rows as the embedded store."""
    from kg.sparql.query import run
    from kg.store.load import load_endpoint
    from tests.helpers.store import endpoints

    server = request.getfixturevalue(server_name)
    out = tmp_path / "taxonomy.nq"
    assert _kg("taxonomy", str(FIXTURE), "-o", str(out)).exit_code == 0
    data = collect([EXAMPLES, out])
    embedded = pyoxigraph.Store()
    load_store(embedded, data)
    store_ep, query_ep = endpoints(server)
    load_endpoint(store_ep, data)
    cases = _taxonomy_cases()
    assert len(cases) >= 3
    for name, params in cases:
        rows = run(name, embedded, **params)
        assert bool(rows) == (params.get("topic") != "no such topic"), (name, params)
        assert run(name, query_ep, **params) == rows, (name, params)


@pytest.mark.corpus
@pytest.mark.slow
def test_taxonomy_queries_on_the_corpus_with_the_site_taxonomy(corpus_dir: Path, real_taxonomy: Path) -> None:
    """400 curations and 2,250 concepts: the rows the raw JSON and the exported curations give."""
    from kg.sparql.query import run
    from tests.helpers.facts import curation_facts
    from tests.helpers.queries import add_taxonomy

    facts = curation_facts(build([corpus_dir]).nquads())
    store = pyoxigraph.Store()
    load_store(store, collect([corpus_dir]))
    add_taxonomy(store, real_taxonomy)
    for topic in ("Telehealth", "telemedicine", "COVID-19", "Value Based Care"):
        assert run("topic-equivalents", store, topic=topic) == tx.topic_equivalents(
            facts, real_taxonomy, topic
        )
    assert run("topic-equivalents", store, topic="Telehealth", scheme="KLAS") == tx.topic_equivalents(
        facts, real_taxonomy, "Telehealth", "KLAS"
    )
    sources = run("source-counts", store)
    assert sources == tx.source_counts(facts, real_taxonomy)
    assert len(sources) == 13 and sources[0]["scheme"] == "Medigy"
    groups = run("equivalence-group-counts", store)
    assert groups == tx.equivalence_group_counts(facts, real_taxonomy)
    assert len(groups) == 325
