"""Hostile input: property-based front matter, hostile names, and the N-Triples escaper."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from kg.cli import main
from kg.pipeline.export import export
from kg.rdf.terms import _ESCAPES, escape_lexical
from kg.read.normalize import MAX_TERM_BYTES
from kg.read.sources import parse_bytes
from tests.conftest import ROOT, oxigraph_triples

# The reference escaper: one table lookup per character (what kg did before; slow on 20 MB).
_REFERENCE = str.maketrans({**{chr(c): f"\\u{c:04X}" for c in range(0x20)}, "\x7f": "\\u007F", **_ESCAPES})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters() | st.characters(categories=["Cs", "Cc"]), max_size=80))
def test_escape_lexical_equals_the_per_character_table(text: str) -> None:
    assert escape_lexical(text) == text.translate(_REFERENCE)


# ---------------------------------------------------------------- front matter from hypothesis

#: Characters that break naive writers and parsers: quotes, escapes, brackets, controls, line
#: breaks YAML knows (NEL, LS, PS), bidi marks, a 4-byte emoji. (Lone surrogates come from
#: RAW_LINES and hostile bodies: anywhere in the YAML they fail the whole file.)
_NASTY = [
    *"\"'\\<>{}[]&#%@:,|`^~!*?",
    "\n",
    "\r",
    "\t",
    "\x00",
    "\x01",
    "\x1b",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\u200e",
    "\u200f",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "-hash-",
    ": ",
    "../",
    "%zz",
    "http://",
    "https://x.org/",
    " ",
]
hostile = st.lists(st.sampled_from(_NASTY) | st.text(max_size=4), max_size=6).map("".join)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | hostile
    | st.dates().map(str)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile, inner, max_size=3),
    max_leaves=8,
)

#: Every key kg reads, with nested ones, so each gets wrong types as well as right ones.
KNOWN = [
    "title", "mdName", "id", "owlType", "openProjectWorkPackageType", "description", "date",
    "publishDate", "lastMod", "lastmod", "eventStartDate", "eventDate", "eventEndDate", "author",
    "authors", "communityTopics", "identifier", "mastHead", "breadcrumbs", "breadcrumbLinks",
    "link", "openProjectCustomFields", "featuredImage", "favIconImage", "featuredPdf", "tags",
    "aliases", "slug", "searchCategory", "basePath",
]  # fmt: skip
_NESTED = {
    "link": st.fixed_dictionaries({}, optional={"brand": values, "href": values, "original": values}),
    "openProjectCustomFields": st.fixed_dictionaries(
        {}, optional={"cleanUrl": values, "sourceUrl": values, "medigyTopics": values | hostile.map(repr)}
    ),
    **{
        media: st.fixed_dictionaries(
            {},
            optional={
                "href": values,
                "size": values | st.lists(values, max_size=3),
                "format": values,
                "alt": values,
            },
        )
        for media in ("featuredImage", "favIconImage", "featuredPdf")
    },
}
#: Mostly usable titles and names (so the other fields are reached), sometimes anything.
usable = st.text(min_size=1, max_size=3).map("x".__add__) | hostile.map("t".__add__)
front_matter = st.fixed_dictionaries(
    {"title": st.one_of(usable, usable, usable, values), "mdName": st.one_of(usable, usable, usable, values)},
    optional={key: (_NESTED[key] | values) if key in _NESTED else values for key in KNOWN[2:]},
).flatmap(
    lambda known: st.dictionaries(hostile | st.integers() | st.booleans(), values, max_size=3).map(
        lambda extra: {**extra, **known}
    )
)

#: YAML that yaml.safe_dump never writes: tags, anchors, complex keys, escapes, odd numbers.
RAW_LINES = [
    'esc: "\\x01 \\x85 \\u2028 \\U0001F600 \\" \\\\ \\N \\_ \\e \\0 \\u202e"',
    'lone: "\\ud800"',  # libyaml refuses a lone surrogate, even escaped: the file fails
    "bin: !!binary aGVsbG8=",
    "anchored: &a [1, 2]\nalias: *a",
    "? [complex, key]\n: value",
    "? {a: 1}\n: mapping key",
    "set: !!set {a, b}",
    "omap: !!omap [a: 1, b: 2]",
    "nan: .nan",
    "inf: -.inf",
    "huge: 1e400",
    "octal: 0o17",
    "sexagesimal: 1:20",
    "when: 2021-02-30",
    "stamp: 2001-12-14t21:59:43.10-05:00",
    "folded: >\n  a\n  b",
    "literal: |-\n  x\n   y",
    "merge: &m {x: 1}\nother:\n  <<: *m\n  y: 2",
    "empty:",
    "tilde: ~",
]


def _document(
    data: dict[object, object], style: str | None, flow: bool, unicode: bool, raw: list[str]
) -> str:
    dumped = yaml.safe_dump(
        data, allow_unicode=unicode, default_style=style, default_flow_style=flow, width=40
    )
    if flow:  # a flow mapping on one line: raw lines would not fit in it
        return dumped
    return dumped + "".join(line + "\n" for line in raw)


documents = st.builds(
    _document,
    front_matter,
    st.sampled_from([None, '"', "'", "|"]),
    st.booleans(),
    st.booleans(),
    st.lists(st.sampled_from(RAW_LINES), max_size=3, unique=True),
)


def _no_internal_errors(rows: list[dict[str, object]]) -> None:
    for row in rows:
        assert row["status"] in ("exported", "skipped", "failed"), row
        reason = str(row["reason"])
        assert not reason.startswith("internal error"), row  # the catch-all hides a kg bug
        if row["status"] != "exported":
            assert row["reason"], row


@settings(
    max_examples=int(os.environ.get("KG_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(
    docs=st.lists(documents, min_size=1, max_size=3),
    bodies=st.lists(hostile | st.just("x\ud800y"), min_size=3, max_size=3),
)
def test_hostile_front_matter_is_exported_or_reported_and_outputs_reparse(
    docs: list[str], bodies: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src, out, again = Path(tmp) / "src", Path(tmp) / "out", Path(tmp) / "again"
        src.mkdir()
        for i, (doc, body) in enumerate(zip(docs, bodies, strict=False)):
            text = f"---\n{doc}---\n{body}\n"
            (src / f"c{i}.md").write_bytes(text.encode("utf-8", "surrogatepass"))
        report = export([src], out)  # never raises
        rows = json.loads((out / "report.json").read_text(encoding="utf-8"))["files"]
        assert [r["path"] for r in rows] == [f"c{i}.md" for i in range(len(docs))]
        _no_internal_errors(rows)
        assert report.count("exported") == sum(r["status"] == "exported" for r in rows)
        nt = (out / "curations.nt").read_bytes()
        reference = oxigraph_triples(nt, pyoxigraph.RdfFormat.N_TRIPLES)
        for name, fmt in (
            ("curations.ttl", pyoxigraph.RdfFormat.TURTLE),
            ("curations.jsonld", pyoxigraph.RdfFormat.JSON_LD),
            ("curations.nq", pyoxigraph.RdfFormat.N_QUADS),
        ):
            assert oxigraph_triples((out / name).read_bytes(), fmt) == reference, name
        turtle = Graph().parse(data=(out / "curations.ttl").read_bytes(), format="turtle")
        assert set(turtle) == set(Graph().parse(data=nt, format="nt"))  # rdflib agrees too
        shutil.copytree(out, again)  # (keeps modification times: the manifest stays usable)
        export([src], again)  # reusing every file gives the same bytes
        for name in ("curations.ttl", "curations.jsonld", "curations.nt", "curations.nq", "report.json"):
            assert (again / name).read_bytes() == (out / name).read_bytes(), name


# ---------------------------------------------------------------- regressions found here


def _front(lines: str) -> bytes:
    return f"---\ntitle: T\nmdName: m\n{lines}\n---\nbody\n".encode()


def test_billion_laughs_is_shown_in_bounded_time() -> None:
    """Aliases nested 30 deep make a value with 9**30 leaves: repr() of it never ended."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 30)]
    lines += ["description: *a29", "tags: *a29", "author: *a29", "link: *a29"]
    started = time.monotonic()
    result = parse_bytes(_front("\n".join(lines)), "x.md")
    assert time.monotonic() - started < 2
    assert result.status == "exported"
    assert {p.field for p in result.problems} == {"description", "tags", "author", "link"}
    assert all(len(p.value or "") <= 120 for p in result.problems)


def test_recursive_aliases_are_field_problems() -> None:
    result = parse_bytes(_front("description: &r [*r]\ntags: &s {a: *s}"), "x.md")
    assert result.status == "exported"
    description, tags = result.problems
    assert description.value == "[" * 119 + "\u2026"
    assert tags.value is not None and tags.value.startswith("{'a': {'a': ") and len(tags.value) == 120


def test_deeply_nested_front_matter_fails_that_file_instead_of_crashing_kg() -> None:
    """100,000 nested brackets overflowed the C stack in PyYAML's composer: a segfault.

    Run in a subprocess, so that a regression fails this test instead of killing pytest.
    """
    code = (
        "from kg.read.sources import parse_bytes\n"
        "for deep in ('[' * 100000 + ']' * 100000, '{a: ' * 100000 + '1' + '}' * 100000):\n"
        "    r = parse_bytes(b'---\\ntitle: T\\nmdName: m\\nd: ' + deep.encode() + b'\\n---\\n', 'x.md')\n"
        "    print(r.status, r.reason)\n"
        "r = parse_bytes(b'---\\ntitle: T\\nmdName: m\\nd:\\n' + b'- ' * 100000 + b'x\\n---\\n', 'x.md')\n"
        "print(r.status, r.reason)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # kg's own depth check or, from PyYAML 6.0.4, libyaml's nesting limit may name it first:
    # either way that file fails, saying why, and the process lives on
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        status, _, reason = line.partition(" ")
        assert status == "failed" and "nest" in reason, line
    shallow = parse_bytes(_front("d: " + "[" * 900 + "]" * 900), "x.md")
    assert shallow.status == "exported"  # deep, but not too deep: a field problem only


def test_medigy_topics_json_nested_too_deeply_is_a_field_problem() -> None:
    deep = "[" * 100000 + "]" * 100000
    result = parse_bytes(_front(f"openProjectCustomFields:\n  medigyTopics: '{deep}'"), "x.md")
    assert result.status == "exported"
    [problem] = result.problems
    assert problem.field == "communityTopics" and "nested too deeply" in problem.message


@pytest.mark.parametrize("char", ["\x00", "\x01", "\ufffe", "\uffff", "\x80", "\x9f", "\ud7ff\x00"])
def test_a_character_yaml_refuses_is_reported_at_its_line_and_column(char: str) -> None:
    """libyaml reports where a refused character is as a byte offset ("position 35"); kg says
    the line and column of the file, in characters, counting non-ASCII text before it."""
    text = f"---\ntitle: Éé\nmdName: m\ndescription: «x» {char} y\n---\nbody\n"
    result = parse_bytes(text.encode("utf-8"), "x.md")
    assert result.status == "failed"
    column = len("description: «x» ") + 1 + (1 if char.startswith("\ud7ff") else 0)
    assert result.reason is not None
    assert f"at line 4, column {column}:" in result.reason, result.reason
    assert f"U+{ord(char[-1]):04X}" in result.reason
    assert "position" not in result.reason


def test_sets_are_shown_in_a_stable_order() -> None:
    result = parse_bytes(_front("description: !!set {c, a, b}"), "x.md")
    assert [p.value for p in result.problems] == ["{'a', 'b', 'c'}"]


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['echo hacked']",
        "!!python/object/new:os.system ['echo hacked']",
        "!!python/object:builtins.object {}",
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/tuple [1, 2]",
        "!!python/bytes aGk=",
        "!custom {a: 1}",
        "!<tag:example.org,2024:thing> x",
    ],
)
def test_yaml_object_and_unknown_tags_are_refused(tagged: str) -> None:
    result = parse_bytes(_front(f"description: {tagged}"), "evil.md")
    assert result.status == "failed"
    assert result.reason is not None and "could not determine a constructor" in result.reason


def test_standard_yaml_tags_are_values_not_code() -> None:
    result = parse_bytes(_front("description: !!binary aGVsbG8=\ntags: !!set {a}\nslug: !!str 12"), "x.md")
    assert result.status == "exported" and result.curation is not None
    assert result.curation.slug == "12"
    assert [(p.field, p.message, p.value) for p in result.problems] == [
        ("description", "expected text, got bytes; field left out", "b'hello'"),
        ("tags", "expected text, got set; field left out", "{'a'}"),
    ]


# ---------------------------------------------------------------- the fast YAML constructor


def _loaded(text: str, loader: type | None = None) -> str:
    """What `loader` (None: `kg.read.yaml_loader.load_yaml`) makes of `text`: the repr of the value
    (types and NaN included), or the error."""
    from kg.read.yaml_loader import load_yaml

    try:
        return repr(load_yaml(text) if loader is None else yaml.load(text, Loader=loader))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_the_fast_yaml_constructor_gives_pyyamls_values_and_errors(document: str) -> None:
    from kg.read.yaml_loader import PlainCurationLoader

    assert _loaded(document) == _loaded(document, PlainCurationLoader)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [1, {b: 2}]\nc: *x\nd: *x",  # an anchor built once, shared as PyYAML shares it
        "a: &x [1, *x]",  # a list that holds itself
        "base: &b {x: 1, y: [2]}\nm:\n  <<: *b\n  y: 3",  # merge key
        "m: {=: default, x: 1}",  # value key
        "? [a, b]\n: complex",
        "1: int key\ntrue: bool key\n~: null key\n1.5: float key\n!!binary aGk=: bytes key",
        "n: [0x1F, 0o17, 1_000, 1:20, .inf, -.NaN, 1e3, yes, No, ~, '', null, 2021-02-30]",
        "t: !!str 12\ns: !!set {a, b}\no: !!omap [a: 1]\np: !!pairs [a: 1, a: 2]\nf: !!float 1",
        "a: [!!python/object:os.system x]\nb: !custom y",  # two errors: PyYAML's order names !custom
        "- just\n- a list",
        "plain scalar",
        "",
        "dup: 1\ndup: 2",
        "deep: " + "[" * 100 + "x" + "]" * 100,
    ],
)
def test_the_fast_yaml_constructor_on_every_kind_of_node(text: str) -> None:
    from kg.read.yaml_loader import CurationLoader, PlainCurationLoader

    plain = _loaded(text, PlainCurationLoader)
    assert _loaded(text) == plain
    if text != "a: [!!python/object:os.system x]\nb: !custom y":  # without load_yaml's retry too
        assert _loaded(text, CurationLoader) == plain
    if text.startswith("a: &x [1, {b"):  # the alias is the same object, not a copy
        data = yaml.load(text, Loader=CurationLoader)
        assert data["c"] is data["a"] and data["d"] is data["a"]


def test_the_fast_yaml_constructor_on_the_real_corpus_and_the_examples(corpus_dir: Path) -> None:
    from kg.read.frontmatter import decode, split_front_matter
    from kg.read.yaml_loader import CurationLoader, PlainCurationLoader

    texts = []
    for path in sorted([*corpus_dir.rglob("*.md"), *(ROOT / "examples").rglob("*.md")]):
        split = split_front_matter(decode(path.read_bytes()))
        if split is not None:
            texts.append(split[0])
    assert len(texts) > 400
    for text in texts:
        assert _loaded(text, CurationLoader) == _loaded(text, PlainCurationLoader)


# ---------------------------------------------------------------- terms every reader can read back

_MAX = MAX_TERM_BYTES


def test_a_value_over_the_term_limit_is_a_field_problem_and_every_output_reads_back(tmp_path: Path) -> None:
    """Issue 13: a 16 MB body exported fine, but Oxigraph reads no token over 16 MiB (no JSON-LD
    string over 8 MiB): `kg load`, `kg validate` and `kg query --data` died with MemoryError.
    A value whose written term (escapes included, or the IRI minted from it) would exceed
    MAX_TERM_BYTES is a field warning; the curation is exported without it."""
    src = tmp_path / "src"
    src.mkdir()
    cases = {
        # file: (front-matter lines, body, the field expected to be left out)
        "body.md": ("", "x" * (_MAX + 1), "body"),
        "escaped-body.md": ("", "a\x01" * (_MAX // 7 + 1), "body"),  # 7 bytes written per pair
        "quoted-body.md": ("", '"' * (_MAX // 2 + 1), "body"),
        "description.md": (f"description: {'d' * (_MAX + 1)}\n", "", "description"),
        "md-name.md": ("", "", "mdName"),  # mdName set below: its IRI is too large
        "topic.md": (f"communityTopics:\n  - 'Src: {'€' * (_MAX // 9 + 1)}'\n", "", "communityTopics"),
        "image.md": (f"featuredImage:\n  href: '{'é/' * (_MAX // 7 + 1)}'\n", "", "featuredImage.href"),
        "link.md": (f"link:\n  href: 'https://x.org/{'é' * (_MAX // 2 + 1)}'\n", "", "link.href"),
    }
    for name, (lines, body, _) in cases.items():
        md_name = "é" * (_MAX // 6 + 1) if name == "md-name.md" else name
        (src / name).write_text(f"---\ntitle: T\nid: 7\nmdName: '{md_name}'\n{lines}---\n{body}\n", "utf-8")
    out = tmp_path / "out"
    report = export([src], out)
    by_path = {row["path"]: row for row in report.files}
    for name, (_, _, field) in cases.items():
        row = by_path[name]
        assert row["status"] == "exported", row
        assert [(p["field"], p["severity"]) for p in row.get("problems", [])] == [(field, "warning")], name
        assert "too large" in row["problems"][0]["message"]
    runner = CliRunner()
    for args in (
        ["validate", str(out / "curations.nq")],
        ["validate", str(out / "curations.jsonld")],
        ["query", "topic-counts", "--data", str(out / "curations.nq")],
        ["load", str(out / "curations.nq"), "--store", str(tmp_path / "store")],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code in (0, 1), (args, result.output, result.exception)  # 1: violations

    # The largest value kept: every output format reads back (Oxigraph), a store loads it.
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "kept.md").write_text(f"---\ntitle: T\nmdName: kept\n---\n{'k' * (_MAX - 10)}\n", "utf-8")
    kept_out = tmp_path / "kept-out"
    assert [row.get("problems") for row in export([kept], kept_out).files] == [None]
    formats = {
        "curations.nq": pyoxigraph.RdfFormat.N_QUADS,
        "curations.nt": pyoxigraph.RdfFormat.N_TRIPLES,
        "curations.ttl": pyoxigraph.RdfFormat.TURTLE,
        "curations.jsonld": pyoxigraph.RdfFormat.JSON_LD,
    }
    for name, fmt in formats.items():
        triples = list(pyoxigraph.parse((kept_out / name).read_bytes(), format=fmt))  # no MemoryError
        bodies = [t for t in triples if getattr(t, "predicate", None) == _ARTICLE_BODY]
        assert [len(t.object.value) for t in bodies] == [_MAX - 10], name
    for args in (
        ["query", "topic-counts", "--data", str(kept_out / "curations.nq")],
        ["load", str(kept_out / "curations.nq"), "--store", str(tmp_path / "store")],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output, result.exception)


_ARTICLE_BODY = pyoxigraph.NamedNode("https://schema.org/articleBody")


def test_a_title_over_the_term_limit_fails_that_curation() -> None:
    result = parse_bytes(f"---\ntitle: {'t' * (_MAX + 1)}\nmdName: m\n---\n".encode(), "x.md")
    assert result.status == "failed" and result.reason is not None and "too large" in result.reason


def test_an_rdf_file_with_a_term_too_large_to_read_is_an_error_naming_it(tmp_path: Path) -> None:
    """Not kg's own outputs (they hold no such term), but a reader of RDF never dies with a
    traceback: the file is named, exit 2."""
    nq = tmp_path / "huge.nq"
    nq.write_bytes(b'<http://x/s> <http://x/p> "' + b"x" * (17 * 1024 * 1024) + b'" <http://x/g> .\n')
    jsonld = tmp_path / "huge.jsonld"
    jsonld.write_text(json.dumps({"@id": "http://x/s", "http://x/p": "x" * (9 * 1024 * 1024)}))
    runner = CliRunner()
    for file in (nq, jsonld):
        for args in (
            ["validate", str(file)],
            ["query", "--sparql", "ASK {}", "--data", str(file)],
            ["load", str(file), "--store", str(tmp_path / "store")],
        ):
            result = runner.invoke(main, args)
            assert result.exit_code == 2, (args, result.output, result.exception)
            assert str(file) in result.output and "Traceback" not in result.output
