"""The query library on the example corpus: every query's rows, its header, safe parameters."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyoxigraph
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.cli import main
from kg.pipeline.export import build
from kg.rdf.vocab import PREFIXES
from kg.sparql import library as query_library
from kg.sparql import query
from kg.sparql.binding import QueryError, bind
from kg.sparql.library import library
from kg.sparql.query import run
from kg.store.load import collect, load_store
from tests.conftest import EXAMPLES
from tests.helpers import facts as expect
from tests.helpers.queries import CASES, HOSTILE, TAXONOMY, add_taxonomy
from tests.helpers.taxonomy_facts import curations_about


@pytest.fixture(scope="module")
def nquads() -> bytes:
    return build([EXAMPLES]).nquads()


@pytest.fixture(scope="module")
def facts(nquads: bytes) -> list[expect.Facts]:
    return expect.curation_facts(nquads)


@pytest.fixture(scope="module")
def store() -> pyoxigraph.Store:
    s = pyoxigraph.Store()
    load_store(s, collect([EXAMPLES]))
    add_taxonomy(s)
    return s


def test_the_example_facts_are_what_the_readme_says(facts: list[expect.Facts]) -> None:
    assert len(facts) == 16
    first = expect.topic_counts(facts)[:2]
    assert first == [
        {"scheme": "KLAS", "topic": "Telehealth", "curations": 7},
        {"scheme": "Symplur", "topic": "COVID-19", "curations": 4},
    ]


def _front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    data: dict[str, object] = yaml.safe_load(text.split("\n---", 1)[0].removeprefix("---\n"))
    return data


def test_brand_and_community_counts_agree_with_the_raw_front_matter(store: pyoxigraph.Store) -> None:
    """A second, independent source: the YAML itself, read without kg's parser."""
    front = [_front_matter(p) for p in sorted(EXAMPLES.glob("*.md"))]
    brands = Counter(str(fm["link"]["brand"]) for fm in front if (fm.get("link") or {}).get("brand"))  # type: ignore[attr-defined,index]
    communities = Counter(str(fm["identifier"]).strip() for fm in front if fm.get("identifier"))
    assert {r["brand"]: r["curations"] for r in run("brand-counts", store)} == dict(brands)
    assert {r["community"]: r["curations"] for r in run("community-summary", store)} == dict(communities)


@pytest.mark.parametrize(
    ("name", "params", "expected", "args"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_library_query_rows(
    store: pyoxigraph.Store,
    facts: list[expect.Facts],
    name: str,
    params: dict[str, object],
    expected: Callable[..., list[dict[str, object]]],
    args: tuple[object, ...],
) -> None:
    assert run(name, store, **params) == expected(facts, *args)


@pytest.mark.corpus
@pytest.mark.slow
def test_library_queries_on_the_real_corpus(corpus_dir: Path) -> None:
    """The 400-file corpus: many more topics, brands and gaps than the examples."""
    exported = build([corpus_dir])
    facts = expect.curation_facts(exported.nquads())
    corpus_store = pyoxigraph.Store()
    load_store(corpus_store, collect([corpus_dir]))
    add_taxonomy(corpus_store)
    for name, params, expected, args in CASES:
        assert run(name, corpus_store, **params) == expected(facts, *args), name


def test_every_library_query_is_tested_on_rows(facts: list[expect.Facts]) -> None:
    """Each query has a case, and its expectation is not trivially empty on the examples."""
    assert {c[0] for c in CASES} == set(library())
    assert all(any(fn(facts, *args) for n, _, fn, args in CASES if n == name) for name in library())


def test_some_curations_have_quality_gaps(store: pyoxigraph.Store) -> None:
    gaps = {r["missing"] for r in run("quality-gaps", store)}
    assert {"topics", "image", "source-link"} <= gaps


# --- the library's files ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(library()))
def test_query_header_matches_the_query(store: pyoxigraph.Store, name: str) -> None:
    q = library()[name]
    assert q.summary and q.declared and q.columns, f"{name}: header needs a summary, Parameters: and Columns:"
    params = {p.name: "Telehealth" for p in q.params if p.required}
    answer = query.execute(q, store, params)
    assert tuple(answer.variables()) == q.columns
    code = re.sub(r"#.*", "", q.body)
    for p in q.params:
        assert re.search(rf"\?{p.name}\b", code), f"{name}: parameter {p.name} is not used"
        assert p.description
        if p.default is not None:
            p.term(p.default)  # the default has the declared type


@pytest.mark.parametrize("name", sorted(library()))
def test_queries_use_the_shared_prefixes_and_plain_patterns(name: str) -> None:
    body = library()[name].body
    assert not re.search(r"^\s*PREFIX\b", body, re.IGNORECASE | re.MULTILINE), "prefixes come from kg.rdf"
    used = set(re.findall(r"\b([a-z]+):[A-Za-z]", re.sub(r"#.*", "", body)))
    assert used <= set(PREFIXES), used - set(PREFIXES)
    code = re.sub(r"#.*", "", body)
    if "GRAPH" in code:  # plain SPARQL over the union; a query naming graphs says why
        assert "GRAPH ?g" in body.split("SELECT", 1)[0], f"{name} names graphs without saying why"
    assert "COUNT(?" not in body, "count with COUNT(DISTINCT ...)"


def test_queries_ship_inside_the_package() -> None:
    assert query_library.QUERY_DIR.parent == Path(query_library.__file__).parent
    assert len(library()) >= 8


def test_unknown_and_missing_parameters_are_refused(store: pyoxigraph.Store) -> None:
    with pytest.raises(QueryError, match="needs --param topic"):
        run("curations-by-topic", store)
    with pytest.raises(QueryError, match="no parameter 'topics'"):
        run("curations-by-topic", store, topic="x", topics="y")
    with pytest.raises(QueryError, match="must be an integer"):
        run("topic-cooccurrence", store, min="2 } DROP ALL {")
    with pytest.raises(QueryError, match="no query named"):
        run("topic-count", store)


def test_a_query_file_and_adhoc_text(tmp_path: Path, store: pyoxigraph.Store) -> None:
    rq = tmp_path / "titles.rq"
    rq.write_text(
        "# Titles by mdName.\n#\n# Parameters:\n#   md  string  required  the mdName\n# Columns: title\n"
        "SELECT ?title WHERE { GRAPH ?g { ?c kg:mdName ?md ; schema:name ?title } }\n"
    )
    rows = run(rq, store, md="732200df-b075-580d-8e39-56f848fdf54e")
    assert rows == [{"title": "Can Symptom Checker Apps Ease the Load on Nurse Hotlines?"}]
    # An undeclared parameter of a header-less query binds a string, if the variable exists.
    text = "SELECT ?c WHERE { GRAPH ?g { ?c schema:name ?title } }"
    assert query.execute(text, store, {"title": rows[0]["title"]}).rows() != []
    with pytest.raises(QueryError, match="no variable"):
        query.execute(text, store, {"titel": "x"})


def test_updates_are_refused(store: pyoxigraph.Store) -> None:
    before = len(store)
    for text in ("DROP ALL", "INSERT DATA { <http://a> <http://b> <http://c> }", "CLEAR DEFAULT"):
        with pytest.raises(QueryError, match="read-only"):
            query.execute(text, store)
    assert len(store) == before


# --- hostile parameters ---------------------------------------------------------------------


def _hostile_store(base: pyoxigraph.Store, title: str) -> pyoxigraph.Store:
    """The examples plus one curation whose title is `title`."""
    s = pyoxigraph.Store()
    s.extend(base)
    g = pyoxigraph.NamedNode("https://example.org/graph/hostile")
    c = pyoxigraph.NamedNode("https://example.org/curation/hostile")
    kg, schema = PREFIXES["kg"], PREFIXES["schema"]
    rdf_type = pyoxigraph.NamedNode(PREFIXES["rdf"] + "type")
    s.add(pyoxigraph.Quad(c, rdf_type, pyoxigraph.NamedNode(kg + "Curation"), g))
    s.add(pyoxigraph.Quad(c, pyoxigraph.NamedNode(schema + "name"), pyoxigraph.Literal(title), g))
    return s


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_parameter_is_only_ever_a_value(store: pyoxigraph.Store, text: str) -> None:
    before = set(store)
    # No example title contains it: a literal match finds nothing, and nothing is changed.
    assert run("search", store, text=text) == []
    assert run("curations-by-topic", store, topic=text) == []
    assert run("curations-per-month", store, community=text) == []
    assert set(store) == before
    # Where a title does contain it, exactly that curation is found, and nothing else.
    hostile = _hostile_store(store, f"Title with {text} inside")
    found = run("search", hostile, text=text)
    assert [r["curation"] for r in found] == ["https://example.org/curation/hostile"]
    assert found[0]["title"] == f"Title with {text} inside"
    assert len(hostile) == len(before) + 2


HOSTILE_NAMES = [
    "o } } INSERT DATA { <http://a> <http://b> <http://c> } #",
    "o } UNION { ?s ?p ?o",
    "o#",
    "o.x",
    "o-x",
    "o ",
    "?o",
    "",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_parameter_name_that_is_not_a_variable_name_is_refused(store: pyoxigraph.Store, name: str) -> None:
    """Issue 13: a parameter *name* was pasted into the query text (`VALUES ?{name} ...`) once
    the body matched it, and the body is searched as text: a name found in a string or a
    comment passed. Names must be SPARQL VARNAMEs, checked before anything is bound."""
    text = f'SELECT ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?o != "?{name}") }} # ?{name}\n'
    before = set(store)
    for params in ({name: "x"}, {"o": "x", name: "y"}):
        with pytest.raises(QueryError, match="not a SPARQL variable name"):
            query.execute(text, store, params)
    with pytest.raises(QueryError, match="not a SPARQL variable name"):
        run("search", store, text="x", **{name: "y"})
    assert set(store) == before


def test_a_parameter_binds_only_a_variable_the_query_uses() -> None:
    """Not one written in a comment, a string or an IRI."""
    named = query_library.adhoc('SELECT ?s WHERE { ?s <http://x/?p> "?o" } # ?t\n')
    assert named.bindings({"s": "x"}) == {"s": pyoxigraph.Literal("x")}
    for name in ("p", "o", "t"):
        with pytest.raises(QueryError, match="no variable"):
            named.bindings({name: "x"})


def test_bind_refuses_a_name_that_is_not_a_variable_name() -> None:
    with pytest.raises(QueryError, match="not a SPARQL variable name"):
        bind("SELECT * WHERE { ?s ?p ?o }", {"o } } DROP ALL {": pyoxigraph.Literal("x")})
    with pytest.raises(QueryError, match="not a SPARQL variable name"):
        bind("SELECT * WHERE { ?s ?p ?o }", {}, [(("o) {} } DROP ALL {",), [(None,)])])


def test_the_cli_refuses_a_bad_parameter_name_with_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    for args in (["--show"], ["--data", str(EXAMPLES)]):
        result = CliRunner().invoke(
            main,
            [
                "query",
                "--sparql",
                'SELECT ?o WHERE { ?s ?p ?o FILTER(?o != "?o } } INSERT") }',
                "--param",
                "o } } INSERT=1",
                *args,
            ],
        )
        assert result.exit_code == 2, result.output
        assert "not a SPARQL variable name" in result.output and "Traceback" not in result.output


def test_a_hostile_iri_parameter_is_refused(tmp_path: Path, store: pyoxigraph.Store) -> None:
    rq = tmp_path / "by-iri.rq"
    rq.write_text(
        "# Title of a curation.\n# Parameters:\n#   c  iri  required  the curation\n# Columns: title\n"
        "SELECT ?title WHERE { GRAPH ?g { ?c schema:name ?title } }\n"
    )
    assert run(rq, store, c="cur:732200df-b075-580d-8e39-56f848fdf54e") != []
    for bad in ("http://x> } DROP ALL { <http://y", "not an iri", 'http://a/"b'):
        with pytest.raises(QueryError, match="must be an IRI"):
            run(rq, store, c=bad)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",))))
def test_any_string_binds_to_exactly_itself(text: str) -> None:
    bound = bind("SELECT ?x WHERE { }", {"x": pyoxigraph.Literal(text)})
    rows = list(pyoxigraph.Store().query(bound))
    assert len(rows) == 1 and rows[0]["x"] == pyoxigraph.Literal(text)


# --- finding where to bind ------------------------------------------------------------------

TERM = pyoxigraph.Literal("v")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * WHERE { ?s ?p ?x }", 'SELECT * WHERE { VALUES ?x { "v" }\n ?s ?p ?x }'),
        ("SELECT * { ?s ?p ?x }", 'SELECT * { VALUES ?x { "v" }\n ?s ?p ?x }'),
        ("ASK { ?s ?p ?x }", 'ASK { VALUES ?x { "v" }\n ?s ?p ?x }'),
        (
            '# WHERE { in a comment\nSELECT ("}{" AS ?b) ?where WHERE { ?s ex:WHERE ?x }',
            '# WHERE { in a comment\nSELECT ("}{" AS ?b) ?where WHERE { VALUES ?x { "v" }\n ?s ex:WHERE ?x }',
        ),
        (
            "SELECT ?x WHERE { SELECT ?x WHERE { ?s ?p ?x } }",
            'SELECT ?x WHERE { VALUES ?x { "v" } { SELECT ?x WHERE { ?s ?p ?x } } }',
        ),
        (
            "CONSTRUCT { ?s ?p ?x } WHERE { ?s ?p ?x }",
            'CONSTRUCT { ?s ?p ?x } WHERE { VALUES ?x { "v" }\n ?s ?p ?x }',
        ),
        ("CONSTRUCT { ?s ?p ?x } { ?s ?p ?x }", 'CONSTRUCT { ?s ?p ?x } { VALUES ?x { "v" }\n ?s ?p ?x }'),
        ("DESCRIBE ?s { ?s ?p ?x }", 'DESCRIBE ?s { VALUES ?x { "v" }\n ?s ?p ?x }'),
    ],
)
def test_bind_finds_the_where_group(text: str, expected: str) -> None:
    assert bind(text, {"x": TERM}) == expected


def test_bind_refuses_what_it_cannot_place() -> None:
    with pytest.raises(QueryError):
        bind("CONSTRUCT { ?s ?p ?x } ", {"x": TERM})
    with pytest.raises(QueryError, match="short form"):
        bind("CONSTRUCT WHERE { ?s ?p ?x }", {"x": TERM})
    with pytest.raises(QueryError):
        bind("DESCRIBE <http://a>", {"x": TERM})
    with pytest.raises(QueryError):
        bind('SELECT * WHERE { ?s ?p "unterminated }', {"x": TERM})


@pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if library()[c[0]].lookups])
def test_a_lookup_only_narrows(store: pyoxigraph.Store, index: int) -> None:
    """A query with a `Lookup:` gives the same rows when run without it (the plain path)."""
    name, params, _, _ = CASES[index]
    named = library()[name]
    plain = dataclasses.replace(named, lookups=())
    assert query.execute(named, store, params).rows() == query.execute(plain, store, params).rows()


def test_lookup_headers_name_existing_lookups() -> None:
    with_lookups = {name: q.lookups for name, q in library().items() if q.lookups}
    assert with_lookups == {"curations-by-topic": ("topics-by-label",)}
    for names in with_lookups.values():
        for lookup in names:
            assert query_library.lookup(lookup).columns and query_library.lookup(lookup).params
    for bad in ("nope", "../curations-by-topic", "topics-by-label.rq"):
        with pytest.raises(QueryError, match="no lookup query named"):
            query_library.lookup(bad)


def test_a_lookup_row_with_a_blank_node_does_not_narrow(store: pyoxigraph.Store) -> None:
    """VALUES cannot carry a blank node: the main query then runs on its own, with every row."""
    s = pyoxigraph.Store()
    s.extend(store)
    g, c, topic = (
        pyoxigraph.NamedNode("https://example.org/g"),
        pyoxigraph.NamedNode("https://example.org/c"),
        pyoxigraph.BlankNode(),
    )
    kg, skos = PREFIXES["kg"], PREFIXES["skos"]
    s.add(pyoxigraph.Quad(c, pyoxigraph.NamedNode(kg + "topic"), topic, g))
    s.add(
        pyoxigraph.Quad(topic, pyoxigraph.NamedNode(skos + "prefLabel"), pyoxigraph.Literal("Telehealth"), g)
    )
    text = (
        "# Curations with a topic label.\n#\n# Parameters:\n#   topic  string  required  label\n"
        "# Lookup: topics-by-label\n# Columns: c\n"
        "SELECT DISTINCT ?c WHERE { ?c kg:topic ?t . ?t skos:prefLabel ?l "
        "FILTER (LCASE(STR(?l)) = LCASE(STR(?topic))) } ORDER BY ?c\n"
    )
    named = query_library.parse_query_file(text, "labelled")
    assert named.lookups == ("topics-by-label",)
    rows = query.execute(named, s, {"topic": "telehealth"}).rows()
    plain = query.execute(dataclasses.replace(named, lookups=()), s, {"topic": "telehealth"}).rows()
    assert rows == plain and {"c": "https://example.org/c"} in rows and len(rows) > 1


def test_curations_about_follows_narrower_topics(tmp_path: Path, facts: list[expect.Facts]) -> None:
    """A taxonomy whose KLAS "Virtual Care" has the examples' "Telehealth" as a narrower topic:
    asking about Virtual Care finds the Telehealth curations, by relation "narrower"."""
    taxonomy = json.loads(TAXONOMY.read_text(encoding="utf-8"))
    parent = next(r for r in taxonomy if r.get("subclasslabel"))
    taxonomy.append(
        {**parent, "classname": "Virtual_Care", "label": "Virtual Care", "description": None}
        | {"subclassname": "Telehealth", "subclasslabel": "Telehealth", "subclassdescription": None}
    )
    path = tmp_path / "category-whole-data.json"
    path.write_text(json.dumps(taxonomy), encoding="utf-8")
    s = pyoxigraph.Store()
    load_store(s, collect([EXAMPLES]))
    add_taxonomy(s, path)
    rows = run("curations-about", s, topic="virtual care", scheme="KLAS")
    assert rows == curations_about(facts, path, "Virtual Care", "KLAS")
    assert {r["relation"] for r in rows} == {"narrower"}
    assert len(rows) == len(expect.curations_by_topic(facts, "Telehealth", "KLAS")) > 0


@pytest.mark.corpus
def test_cooccurrence_shows_the_strongest_pairs_by_default_and_pages_with_offset(
    tmp_path: Path, corpus_dir: Path
) -> None:
    """`Limit: 100` in its header: `kg query` shows the first 100 rows unless --limit or --all
    says otherwise, and --offset pages; the Python API returns every row."""
    named = library()["topic-cooccurrence"]
    assert named.default_limit == 100
    nq = tmp_path / "c.nq"
    nq.write_bytes(build([corpus_dir]).nquads())
    pairs = expect.topic_cooccurrence(expect.curation_facts(nq.read_bytes()))
    assert len(pairs) > 100
    shown = query.execute(named, str(nq), {}, default_limit=True).rows()
    assert shown == pairs[:100]
    page = query.execute(named, str(nq), {}, 5, 10, default_limit=True).rows()
    assert page == pairs[10:15]
    assert query.execute(named, str(nq), {}, None, 60).rows() == pairs[60:]
    assert run("topic-cooccurrence", str(nq)) == pairs  # the API: every row

    def cli(*args: str) -> tuple[int, str, str]:
        r = CliRunner().invoke(main, ["query", "topic-cooccurrence", "--data", str(nq), "-f", "csv", *args])
        return r.exit_code, r.stdout, r.stderr

    code, out, err = cli("--limit", "3", "--offset", "1")
    assert code == 0 and len(out.strip().splitlines()) == 1 + 3 and "(3 rows, the first 3: --limit)" in err
    code, out, err = cli()
    assert code == 0 and len(out.strip().splitlines()) == 1 + 100 and "the query's default limit" in err
    code, out, err = cli("--all")
    assert code == 0 and len(out.strip().splitlines()) == 1 + len(pairs)
    assert cli("--all", "--limit", "3")[0] == 2


def test_a_bad_limit_line_is_refused() -> None:
    with pytest.raises(QueryError, match="bad limit line"):
        query_library.parse_query_file("# Q\n# Limit: many\nSELECT * WHERE { ?s ?p ?o }", "q")
