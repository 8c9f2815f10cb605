"""kg's YAML loader for front matter: libyaml's safe loader, faster, with dates left as text.

`load_yaml` loads a front matter's text with ryaml (Rust) when the result is sure to be the
one of `CurationLoader` (PyYAML's `CSafeLoader` with a faster constructor; `PlainCurationLoader`
is the reference of both in the tests), else with `CurationLoader`; `too_deep` refuses
nesting that would crash libyaml before it is loaded; `line_and_column` places a reader error
for people. Pure: no file access. Used by `kg.read.frontmatter`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

_fast_loads: Callable[[str], Any] | None
try:
    from ryaml import loads as _fast_loads  # type: ignore[attr-defined]  # (from ryaml._ryaml)
except ImportError:  # pragma: no cover - optional (kg[fast]); the tests run both ways
    _fast_loads = None

if not hasattr(yaml, "CSafeLoader"):  # pragma: no cover - depends on the PyYAML build
    raise ImportError(
        "kg needs PyYAML built with libyaml (yaml.CSafeLoader); the pure-Python loader is ~9x "
        "slower. Reinstall PyYAML from a wheel."
    )


class PlainCurationLoader(yaml.CSafeLoader):
    """libyaml's safe loader, with timestamps left as strings.

    Safe: object tags (`!!python/object`) are refused. Timestamps stay text so that an
    impossible date (`2021-02-30`) is a per-field problem, not a failure of the whole file.
    `CurationLoader` gives the same values, faster; this one is its reference in the tests.
    """


PlainCurationLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE_KEYS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")  # keys with a meaning of their own
#: Plain scalars seen often (keys, topics, brands): their tag, so the resolver's patterns run
#: once per value; cleared when full, so it cannot grow with the corpus.
_TAG_CACHE: dict[str, str] = {}
#: First characters for which the resolver has patterns (every pattern is keyed by one; "" is
#: the empty scalar's); a plain scalar starting otherwise is a string.
_RESOLVED_FIRST = frozenset(PlainCurationLoader.yaml_implicit_resolvers)
if None in _RESOLVED_FIRST:  # pragma: no cover - PyYAML's safe resolver has no wildcard pattern
    raise ImportError("CurationLoader assumes every implicit resolver is keyed by a first character")
_TAG_CACHE_SIZE = 8192
#: Nesting below which collections are built by `CurationLoader._build` (real front matter
#: nests 4 levels); deeper ones by PyYAML's own constructor.
_FAST_DEPTH = 64


class CurationLoader(PlainCurationLoader):
    """`PlainCurationLoader`'s values (equal, same types), built in ~40% less time.

    PyYAML's constructor dispatches every node through generic machinery (tag lookup,
    recursion bookkeeping, generators for collections) and the resolver tries its patterns on
    every plain scalar; front matter is nearly all plain strings in small mappings and lists.
    Here strings, string-keyed mappings and lists are built directly (an anchored node is
    built once, as PyYAML shares it), the tag of a plain scalar is cached, and everything
    else (numbers, booleans, null, other tags, merge keys, complex keys, deep nesting) goes
    through PyYAML's constructor unchanged. Measured on 3,000 generated front matters (CPU
    time, median of 5): 0.59 -> 0.40 ms each; the largest part left is libyaml's parsing and
    composing of nodes (C).
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode or not implicit[0] or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        if value[:1] not in _RESOLVED_FIRST:  # no pattern starts so: a string (no hashing of long text)
            return _STR
        tag = _TAG_CACHE.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if len(_TAG_CACHE) >= _TAG_CACHE_SIZE:
                _TAG_CACHE.clear()
            _TAG_CACHE[value] = tag
        return tag

    def construct_document(self, node: Any) -> Any:
        data = self._build(node, {}, 0)
        # as PyYAML's construct_document ends (the fallbacks build deep, so nothing is deferred)
        while self.state_generators:
            generators, self.state_generators = self.state_generators, []
            for generator in generators:
                for _ in generator:
                    pass
        self.constructed_objects, self.recursive_objects, self.deep_construct = {}, {}, False
        return data

    def _build(self, node: Any, built: dict[int, Any], depth: int) -> Any:
        kind = node.__class__
        if kind is ScalarNode:
            return node.value if node.tag == _STR else self.construct_object(node, deep=True)
        if depth > _FAST_DEPTH:
            return self.construct_object(node, deep=True)
        if id(node) in built:  # an alias: the node its anchor named (the tree keeps it alive)
            return built[id(node)]
        if kind is SequenceNode and node.tag == _SEQ:
            items: list[Any] = []
            built[id(node)] = items
            items.extend([self._build(item, built, depth + 1) for item in node.value])
            return items
        if kind is MappingNode and node.tag == _MAP:
            pairs = node.value
            for key, _ in pairs:
                if key.__class__ is not ScalarNode or key.tag in _MERGE_KEYS:
                    return self.construct_object(node, deep=True)
            mapping: dict[Any, Any] = {}
            built[id(node)] = mapping
            for key, value in pairs:
                name = key.value if key.tag == _STR else self.construct_object(key, deep=True)
                mapping[name] = self._build(value, built, depth + 1)
            return mapping
        return self.construct_object(node, deep=True)


#: Front matter nested deeper than this is refused: PyYAML's C composer recurses once per
#: level and overflows the C stack near 25,000 levels, killing the process (a segmentation
#: fault, not an exception). Real front matter nests 4 levels.
MAX_DEPTH = 1000


def too_deep(yaml_text: str) -> bool:
    """True when `yaml_text` nests collections deeper than `MAX_DEPTH`.

    Cheap first: every collection opens with a flow bracket or a block indicator (`-` entry,
    `?` key, `:` value), so the count of those characters bounds the depth (real front matter
    has under 300); only a text over the bound is walked through libyaml's events (iterative,
    so safe at any depth).
    """
    if sum(map(yaml_text.count, "-?:[{")) <= MAX_DEPTH:
        return False
    depth = 0
    try:
        for event in yaml.parse(yaml_text, Loader=CurationLoader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return True
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return False  # loading reports the error, at a depth already known to be safe
    return False


# -- the fast path: ryaml, where it is sure to agree ---------------------------------------------
#
# ryaml 0.5 is serde_yaml 0.9 (whose scanner and parser are libyaml's, translated to Rust), so
# it reads the same syntax as PyYAML's CSafeLoader, but it resolves plain scalars by YAML 1.2's
# rules, drops or rewrites tags, copies aliased nodes, and refuses duplicate keys and deep
# nesting. Its value is used only when nothing in the text or the value can differ from
# CurationLoader's; otherwise (and on any error, so that errors are PyYAML's own, as before)
# the text is loaded by CurationLoader. Measured (`python -m bench.yaml_loaders`, CPU time per
# front matter, median document of the median of 5 runs): on the 422 real ones of
# ../shared/corpus (curations and site sample) CurationLoader 0.150 ms, ryaml alone 0.071,
# load_yaml 0.089, ryaml taking 407 (the 15 others have a float, or `yes`/`on`/`no`, or a `!`
# or an anchor); on 1,000 generated (bench/generate) 0.159 -> 0.090, ryaml taking all.
# The whole rule:

#: Characters after which a tag, an anchor or a directive can start a token (a superset:
#: whitespace too, by `str.isspace`).
_TOKEN_AFTER = frozenset("[]{},:?\ufeff")


def _text_could_differ(text: str) -> bool:
    """True when `text` has a tag (`!`), an anchor (`&name`, and so any alias) or a directive
    (`%`) where a token can start (ryaml ignores or rewrites tags, and allows a repeated anchor
    PyYAML refuses), or `0o` (ryaml reads `0o17` as 15, PyYAML as the text "0o17").

    Over-matching costs only time; `& ` (`Risk & Compliance`, in a third of real front
    matters) is no anchor, in either. `str.find` rather than one regular expression with a
    look-behind: 0.004 ms per front matter against 0.09 ms (half of ryaml's own time).
    """
    if "0o" in text:
        return True
    for mark in "!&%":
        at = text.find(mark)
        while at >= 0:
            before = text[at - 1] if at else " "
            if (before.isspace() or before in _TOKEN_AFTER) and (
                mark != "&" or not text[at + 1 : at + 2].isspace()
            ):
                return True
            at = text.find(mark, at + 1)
    return False


#: Plain scalars ryaml resolves to null, a boolean, an integer or a float as PyYAML does: a
#: string with this spelling came from a quoted scalar, which both read as text.
_SAME_PLAIN = re.compile(
    r"|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:0|[1-9][0-9]*)|[-+]?[0-9]+\.[0-9]*"
)
#: Strings seen: whether PyYAML would have resolved them otherwise (bounded, cleared when full).
_DIFFERS_CACHE: dict[str, bool] = {}


def _could_differ(text: str) -> bool:
    """True when a plain scalar `text` is not text for PyYAML (YAML 1.1: `yes`, `1_000`,
    `1:20`, `<<`, `1.5`, ...) while ryaml would make it the string `text`: from ryaml's
    string alone, one cannot tell which of the two was written."""
    differs = _DIFFERS_CACHE.get(text)
    if differs is None:
        implicit = PlainCurationLoader.yaml_implicit_resolvers.get(text[:1], [])
        tag = next((tag for tag, rx in implicit if rx.match(text)), _STR)
        differs = tag != _STR and not _SAME_PLAIN.fullmatch(text)
        if len(_DIFFERS_CACHE) >= _TAG_CACHE_SIZE:
            _DIFFERS_CACHE.clear()
        _DIFFERS_CACHE[text] = differs
    return differs


def _agrees(value: Any) -> bool:
    """True when every part of ryaml's `value` is what CurationLoader makes of the same text:
    strings (keys too) that no plain scalar PyYAML resolves otherwise could have written,
    integers, booleans and nulls (the spellings where the two disagree are strings for ryaml,
    or `0o`, excluded by `_text_could_differ`), lists and dicts of those. A float is refused:
    ryaml reads `1e3` and `-.5` as numbers, PyYAML as text, and the value does not tell which.
    (Recursive: ryaml refuses nesting deeper than 128.)"""
    kind = value.__class__
    if kind is str:
        return not (value[:1] in _RESOLVED_FIRST and _could_differ(value))
    # (loops: `all()` over a generator took a third longer)
    if kind is dict:
        for key, item in value.items():  # noqa: SIM110
            if not (_agrees(key) and _agrees(item)):
                return False
        return True
    if kind is list:
        for item in value:  # noqa: SIM110
            if not _agrees(item):
                return False
        return True
    return kind is int or kind is bool or value is None


#: What `fast_value` returns when ryaml's value could differ from CurationLoader's, or ryaml
#: failed or is not installed.
UNSURE: Any = object()


def fast_value(yaml_text: str) -> Any:
    """ryaml's value of `yaml_text` when it is sure to be CurationLoader's (the rule above),
    else `UNSURE`."""
    if _fast_loads is None or _text_could_differ(yaml_text):
        return UNSURE
    try:
        data = _fast_loads(yaml_text)
    except Exception:  # any error (ryaml's messages differ): PyYAML loads it and says what
        return UNSURE
    return data if _agrees(data) else UNSURE


def load_yaml(yaml_text: str) -> Any:
    """Load front matter with the safe libyaml loader (no object tags, timestamps as text).

    ryaml's value when it is sure to be CurationLoader's (`fast_value`), else CurationLoader's.
    When loading fails, the error is PyYAML's own (`PlainCurationLoader`'s): it builds nested
    collections in another order, so with two bad values it may name the other one first.
    """
    data = fast_value(yaml_text)
    if data is not UNSURE:
        return data
    try:
        return yaml.load(yaml_text, Loader=CurationLoader)
    except Exception:
        return yaml.load(yaml_text, Loader=PlainCurationLoader)


def line_and_column(yaml_text: str, offset: int) -> tuple[int, int]:
    """(0-based line, 1-based column in characters) of a libyaml reader error's offset.

    libyaml reads the text as UTF-8 and reports where a character it refuses (NUL, U+FFFE, a
    C1 control, ...) starts as a byte offset into that encoding; people need a line and column.
    """
    before = yaml_text.encode("utf-8", "surrogatepass")[: max(offset, 0)].decode("utf-8", "ignore")
    line_start = before.rfind("\n") + 1
    return before.count("\n"), len(before) - line_start + 1
