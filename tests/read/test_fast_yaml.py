"""The fast YAML path (ryaml where it is sure to agree, `kg.read.yaml_loader.fast_value`) gives
exactly `PlainCurationLoader`'s values, types included, and PyYAML's own errors.

ryaml resolves plain scalars by YAML 1.2's rules and handles tags, anchors and duplicate keys
its own way; these tests feed it every spelling where YAML 1.1 and 1.2 part, in keys and
values, plain and quoted, and check that `load_yaml` still equals the reference, and that the
cases known to differ are the ones `fast_value` leaves to PyYAML.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.read import yaml_loader
from kg.read.frontmatter import decode, split_front_matter
from kg.read.sources import parse_bytes
from kg.read.yaml_loader import UNSURE, PlainCurationLoader, fast_value, load_yaml
from tests.conftest import ROOT, SHARED
from tests.read.test_hostile import documents

#: Plain scalars whose value YAML 1.1 (PyYAML) and 1.2 (ryaml) may resolve differently, and
#: neighbours that both read alike.
SPELLINGS = [
    "017", "08", "0o17", "-0o17", "0o", "0x1F", "0X1F", "+0x1F", "-0x1F", "0x", "0xFF_FF", "0b101",
    "-0b1", "0B1", "+12", "-0", "0", "00", "-012", "0_1", "1_000", "1__0", "1:20", "190:20:30.15",
    "-1:20", "1e3", "1E3", "1.5e3", "1.5e+3", "12e03", "-.5", ".5", "+.5", "1.", "0.", "+1.5", "-1.5",
    "01.5", ".nan", ".NaN", "-.NaN", ".Inf", "-.inf", "+.inf", "inf", "nan", "infinity", "1e400",
    "-1e400", "1180591620717411303424", "-1180591620717411303424", "18446744073709551615",
    "18446744073709551616", "-9223372036854775808", "-9223372036854775809", "9223372036854775807",
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
    "true", "True", "TRUE", "tRue", "false", "False", "FALSE", "null", "Null", "NULL", "nULL", "~",
    "<<", "=", "*", "!", "&", "%", "2021-02-30", "2001-12-14t21:59:43.10-05:00", "2020-09-08", "",
    "a b", "Risk & Compliance", "x !y", "x &y",
]  # fmt: skip
#: Characters numbers and the YAML 1.1 forms are made of, for spellings nobody listed.
_NUMBERISH = "0123456789+-._:eExXoObB"
spelling = st.sampled_from(SPELLINGS) | st.text(alphabet=_NUMBERISH, min_size=1, max_size=7)


def _styled(text: str, style: str) -> str:
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "double":
        return json.dumps(text)
    return text  # plain: may not be valid YAML, then both fail


scalar = st.builds(_styled, spelling, st.sampled_from(["plain", "plain", "single", "double"]))


def _node(draw: st.DrawFn, indent: str) -> str:
    """` value`, a flow list or mapping, or a block list or mapping below the key."""
    shape = draw(st.sampled_from(["scalar", "scalar", "flow-list", "flow-map", "block-list", "block-map"]))
    if shape == "scalar":
        return " " + draw(scalar)
    items = draw(st.lists(scalar, min_size=1, max_size=3))
    if shape == "flow-list":
        return " [" + ", ".join(items) + "]"
    keys = draw(st.lists(scalar, min_size=len(items), max_size=len(items)))
    if shape == "flow-map":
        return " {" + ", ".join(f"{k}: {v}" for k, v in zip(keys, items, strict=True)) + "}"
    if shape == "block-list":
        return "".join(f"\n{indent}- {v}" for v in items)
    return "".join(f"\n{indent}  {k}: {v}" for k, v in zip(keys, items, strict=True))


@st.composite
def spelled_documents(draw: st.DrawFn) -> str:
    """A block mapping of tricky keys to tricky scalars, lists and mappings, sometimes with
    a tag or an anchor and alias somewhere."""
    lines = [f"{draw(scalar)}:{_node(draw, '')}" for _ in range(draw(st.integers(1, 5)))]
    extras = ["", "", "", "t: !!str 12", "a: &x [1]\nb: *x", "c: !custom 1", "s: !!set {a}"]
    extra = draw(st.sampled_from(extras))
    return "\n".join([*lines, extra]) + "\n"


def _loaded(text: str, loader: type | None = None) -> str:
    """The repr of what `loader` (None: `load_yaml`) makes of `text` (types, NaN included), or
    the error."""
    try:
        return repr(load_yaml(text) if loader is None else yaml.load(text, Loader=loader))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spelled_documents())
def test_load_yaml_equals_pyyaml_on_every_spelling_yaml_versions_part_on(document: str) -> None:
    assert _loaded(document) == _loaded(document, PlainCurationLoader)


_PLACES = ["t: T\nv: {}", "t: T\n{}: v", "t: T\nl:\n- {}", "t: T\nf: [{}, x]", "m: {{{}: {}}}", "{}"]


@pytest.mark.parametrize("place", _PLACES)
@pytest.mark.parametrize("style", ["plain", "single", "double"])
def test_each_spelling_alone_in_each_place_loads_as_pyyaml_loads_it(place: str, style: str) -> None:
    """Every listed spelling as a value, key, list item, flow item, flow key and value, and the
    whole document: where `fast_value` answers, its answer is PyYAML's."""
    fast = 0
    for text in SPELLINGS:
        scalar_text = _styled(text, style)
        document = place.format(scalar_text, scalar_text) + "\n"
        value = fast_value(document)
        if value is not UNSURE:
            fast += 1
            assert repr(value) == _loaded(document, PlainCurationLoader), document
        assert _loaded(document) == _loaded(document, PlainCurationLoader), document
    assert fast > len(SPELLINGS) // 4  # the fast path is exercised, not always avoided


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_the_fast_path_equals_pyyaml_on_hostile_front_matter(document: str) -> None:
    """The hostile documents of tests/read/test_hostile.py, through `fast_value` alone."""
    fast = fast_value(document)
    if fast is not UNSURE:
        assert repr(fast) == _loaded(document, PlainCurationLoader)


@pytest.mark.parametrize(
    "text",
    [
        "a: 0o17",  # ryaml 15, PyYAML "0o17"
        "a: 017",  # ryaml "017", PyYAML 15
        "a: yes",  # ryaml "yes", PyYAML True
        "a: 1_000",
        "a: 1:20",
        "a: 1e3",  # ryaml 1000.0, PyYAML "1e3"
        "a: -.5",
        "<<: {x: 1}",  # a merge key: ryaml keeps "<<"
        "a: =",
        "a: !!python/object:os.system x",  # ryaml drops the tag: "x"
        "a: !!binary aGk=",
        "a: !!set {a, b}",
        "a: ! 12",
        "a: !custom y",
        "a: &x 1\nb: &x 2",  # PyYAML refuses the repeated anchor, ryaml does not
        "a: &x [1]\nb: *x",
        "dup: 1\ndup: 2",  # ryaml refuses, PyYAML keeps the last
        "a: " + "[" * 200 + "]" * 200,  # ryaml refuses nesting deeper than 128
        "a: 18446744073709551616",
        "%YAML 1.1\n---\na: 1",
        "a: '\\ud800'\nb: \x01",
        "a: 'yes'",  # the string "yes", in both; but so is a plain yes for ryaml: unsure
        "a: '1_000'",
    ],
)
def test_what_ryaml_reads_otherwise_is_left_to_pyyaml(text: str) -> None:
    assert fast_value(text) is UNSURE
    assert _loaded(text) == _loaded(text, PlainCurationLoader)


@pytest.mark.parametrize(
    "text",
    [
        # quoted, spelled as what ryaml would resolve like PyYAML when plain: text in both
        "d: ''\ne: 'null'\nf: '12'\ng: '1.5'\nh: 'true'\ni: '-7'",
        "a: 12\nb: -0\nc: 0x1F\nd: 0b101\ne: true\nf: ~\ng:\nh: 2021-02-30\n",
        "topics:\n- 'KLAS: Risk & Compliance'\n- Frost & Sullivan\n",
        "1: int key\ntrue: bool key\n~: null key",
        "a: [x, {b: [y, '2020-09-08T13:29:57.872538Z']}]",
        "plain scalar",
        "",
        "# only a comment",
    ],
)
def test_what_both_read_alike_takes_the_fast_path(text: str) -> None:
    fast = fast_value(text)
    assert fast is not UNSURE
    assert repr(fast) == _loaded(text, PlainCurationLoader)


def _front_matters(*folders: Path) -> list[str]:
    texts = []
    for folder in folders:
        for path in sorted(folder.rglob("*.md")):
            split = split_front_matter(decode(path.read_bytes()))
            if split is not None:
                texts.append(split[0])
    return texts


def test_the_real_front_matter_mostly_takes_the_fast_path_with_the_same_values(corpus_dir: Path) -> None:
    texts = _front_matters(corpus_dir, SHARED / "corpus" / "site-sample", ROOT / "examples")
    assert len(texts) > 420
    fast = 0
    for text in texts:
        value = fast_value(text)
        if value is not UNSURE:
            fast += 1
            assert repr(value) == _loaded(text, PlainCurationLoader)
    assert fast >= 0.9 * len(texts), (fast, len(texts))  # measured: 407 of 422 (+ the examples)


def test_without_ryaml_the_values_and_errors_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["a: yes\nb: [1, '2']", "a: 1\n  b: 2", "a: !custom y"]
    with_ryaml = [_loaded(t) for t in texts]
    monkeypatch.setattr(yaml_loader, "_fast_loads", None)
    assert fast_value(texts[0]) is UNSURE
    assert [_loaded(t) for t in texts] == with_ryaml


def test_errors_keep_pyyamls_line_and_column_through_the_fast_path() -> None:
    """ryaml fails on the text first (its message differs); the file fails with PyYAML's."""
    yaml_text = "title: T\nmdName: m\ndescription: 'x\n  y: [\n"
    assert fast_value(yaml_text) is UNSURE
    result = parse_bytes(f"---\n{yaml_text}---\n".encode(), "x.md")
    assert (result.status, result.reason) == (
        "failed",
        "front matter is not valid YAML at line 6, column 1: found unexpected end of stream",
    )
