"""Parse one curation file's text into a normalised `Curation`. Pure: no file access.

Rules (see docs/graph-model.md, "Bad input"):
- not UTF-8, unclosed front matter, YAML that does not parse, front matter that is not a
  mapping, or a curation without a title or an identity (`mdName` or `id`): *failed*;
- no front matter at all, or front matter with none of the curation keys: *skipped*
  (it is some other page, not a curation);
- a present value of the wrong type or form: a per-field *warning*; the curation is exported
  without that field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from kg.model import Community, Curation, Media, ParseResult, Problem
from kg.read import normalize as nz

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


#: Front-matter keys that mark a page as a curation; a page with none of them is skipped.
CURATION_KEYS = ("mdName", "id", "owlType", "openProjectWorkPackageType")

_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
_END_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_TOML_FENCE = re.compile(r"\+\+\+[ \t]*(?:\n|$)")  # Hugo's other front matter formats: TOML and JSON
_HTML_START = re.compile(r"\s*<[A-Za-z!/]")

T = TypeVar("T")


def decode(data: bytes) -> str:
    """UTF-8 with or without BOM; CRLF and lone CR become LF. Raises UnicodeDecodeError."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Return (yaml_text, body, first_yaml_line) or None when there is no front matter.

    Raises ValueError when the opening fence has no closing fence.
    """
    first_line_end = text.find("\n")
    first_line = text if first_line_end < 0 else text[:first_line_end]
    if not _FENCE.match(first_line):
        return None
    start = len(first_line) + 1
    end = _END_FENCE.search(text, start)
    if end is None:
        raise ValueError("front matter opened with '---' is never closed")
    body_start = text.find("\n", end.end())
    body = "" if body_start < 0 else text[body_start + 1 :]
    return text[start : end.start()], body, 2


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


def load_yaml(yaml_text: str) -> Any:
    """Load front matter with the safe libyaml loader (no object tags, timestamps as text).

    When loading fails, the error is PyYAML's own (`PlainCurationLoader`'s): it builds nested
    collections in another order, so with two bad values it may name the other one first.
    """
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


def parse_text(text: str, path: str) -> ParseResult:
    """Parse the decoded text of one file (named `path` in messages) into a ParseResult."""
    try:
        split = split_front_matter(text)
    except ValueError as exc:
        return ParseResult(path, "failed", reason=str(exc))
    if split is None:
        if _TOML_FENCE.match(text):
            return ParseResult(
                path, "skipped", reason="TOML front matter ('+++'): not a curation (curations use YAML)"
            )
        if text.lstrip().startswith("{"):
            return ParseResult(
                path, "skipped", reason="JSON front matter: not a curation (curations use YAML)"
            )
        return ParseResult(path, "skipped", reason="no front matter (file does not start with '---')")
    yaml_text, body, first_line = split
    if too_deep(yaml_text):
        return ParseResult(path, "failed", reason=f"front matter nests deeper than {MAX_DEPTH} levels")
    try:
        data = load_yaml(yaml_text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" at line {mark.line + first_line}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        return ParseResult(path, "failed", reason=f"front matter is not valid YAML{line}: {problem}")
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: no mark, an offset
        row, column = line_and_column(yaml_text, exc.position)
        return ParseResult(
            path,
            "failed",
            reason=f"front matter is not valid YAML at line {row + first_line}, column {column}: "
            f"unacceptable character U+{exc.character:04X} ({exc.reason})",
        )
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return ParseResult(path, "failed", reason=f"front matter is not valid YAML: {exc}")
    if data is None:
        return ParseResult(path, "skipped", reason="front matter is empty")
    if not isinstance(data, dict):
        return ParseResult(path, "failed", reason=f"front matter is not a mapping (got {nz._kind(data)})")
    if not any(key in data for key in CURATION_KEYS):
        return ParseResult(
            path,
            "skipped",
            reason="not a curation: front matter has none of " + ", ".join(CURATION_KEYS),
        )
    return _to_curation(data, body, path)


class _Fields:
    """Collects per-field problems while normalising; a failed field becomes None."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def get(self, key: str, value: Any, fn: Callable[[Any], T], default: T) -> T:
        try:
            return fn(value)
        except nz.FieldError as exc:
            self.problems.append(
                Problem(
                    self.path,
                    key,
                    f"{exc}; field left out",
                    nz.show(value),
                    "warning",
                )
            )
            return default

    def mapping(self, data: dict[Any, Any], key: str) -> dict[Any, Any]:
        value = data.get(key)
        if value is None or value == "":
            return {}
        if isinstance(value, dict):
            return value
        self.problems.append(
            Problem(
                self.path,
                key,
                f"expected a mapping, got {nz._kind(value)}; field left out",
                nz.show(value),
                "warning",
            )
        )
        return {}


def _to_curation(data: dict[Any, Any], body: str, path: str) -> ParseResult:
    f = _Fields(path)
    try:
        title = nz.text(data.get("title"))
    except nz.FieldError as exc:
        return ParseResult(
            path,
            "failed",
            reason=f"title: {exc}",
            problems=[Problem(path, "title", str(exc), nz.show(data.get("title")))],
        )
    md_name = f.get("mdName", data.get("mdName"), nz.name, None)
    wp_id = f.get("id", data.get("id"), nz.integer, None)
    missing = [name for name, v in (("title", title), ("mdName or id", md_name or wp_id)) if v is None]
    if missing:
        reason = "not exported: missing " + " and ".join(missing)
        return ParseResult(
            path,
            "failed",
            reason=reason,
            problems=[*f.problems, *(Problem(path, m, "missing") for m in missing)],
        )
    assert title is not None

    link = f.mapping(data, "link")
    custom = f.mapping(data, "openProjectCustomFields")
    urls = {
        "link.href": f.get("link.href", link.get("href"), nz.url, None),
        "openProjectCustomFields.cleanUrl": f.get(
            "openProjectCustomFields.cleanUrl", custom.get("cleanUrl"), nz.url, None
        ),
        "openProjectCustomFields.sourceUrl": f.get(
            "openProjectCustomFields.sourceUrl", custom.get("sourceUrl"), nz.url, None
        ),
        "link.original": f.get("link.original", link.get("original"), nz.url, None),
    }
    url = next((u for u in urls.values() if u), None)

    def differing(key: str) -> str | None:
        value = urls[key]
        return value if value and value != url else None

    created = f.get("date", data.get("date"), nz.temporal, None)
    published = f.get("publishDate", data.get("publishDate"), nz.temporal, None)
    mod_key = "lastMod" if "lastMod" in data else "lastmod"
    body_text = f.get("body", body, nz.body, None)
    curation = Curation(
        source_path=path,
        md_name=md_name,
        work_package_id=wp_id,
        title=title,
        description=f.get("description", data.get("description"), nz.text, None),
        owl_type=f.get("owlType", data.get("owlType"), nz.name, None),
        work_package_type=f.get(
            "openProjectWorkPackageType", data.get("openProjectWorkPackageType"), nz.name, None
        ),
        date_created=created,
        date_published=published or created,
        date_modified=f.get(mod_key, data.get(mod_key), nz.temporal, None),
        event_start=_first_temporal(f, data, ("eventStartDate", "eventDate")),
        event_end=_first_temporal(f, data, ("eventEndDate",)),
        authors=f.get(
            "author", data.get("author", data.get("authors")), lambda v: nz.text_list(v, nz.name), []
        ),
        topics=f.get(
            "communityTopics",
            (data.get("communityTopics"), custom.get("medigyTopics")),
            lambda pair: nz.topics(*pair),
            [],
        ),
        community=_community(f, data),
        brand=f.get("link.brand", link.get("brand"), nz.name, None),
        url=url,
        original_url=differing("link.original"),
        clean_url=differing("openProjectCustomFields.cleanUrl"),
        source_url=differing("openProjectCustomFields.sourceUrl"),
        featured_image=_media(f, data, "featuredImage"),
        favicon=_media(f, data, "favIconImage"),
        featured_pdf=_media(f, data, "featuredPdf"),
        tags=f.get("tags", data.get("tags"), nz.text_list, []),
        aliases=f.get("aliases", data.get("aliases"), nz.text_list, []),
        slug=f.get("slug", data.get("slug"), nz.text, None),
        search_category=f.get("searchCategory", data.get("searchCategory"), nz.text, None),
        base_path=f.get("basePath", data.get("basePath"), nz.text, None),
        body=body_text,
        body_format=(
            None if body_text is None else "text/html" if _HTML_START.match(body_text) else "text/markdown"
        ),
    )
    return ParseResult(path, "exported", curation=curation, problems=f.problems)


def _first_temporal(f: _Fields, data: dict[Any, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if data.get(key) not in (None, ""):
            return f.get(key, data[key], nz.temporal, None)
    return None


def _community(f: _Fields, data: dict[Any, Any]) -> Community | None:
    identifier = f.get("identifier", data.get("identifier"), nz.name, None)
    if identifier is None:
        return None
    path = None
    crumbs, links = data.get("breadcrumbs"), data.get("breadcrumbLinks")
    if isinstance(crumbs, list) and isinstance(links, list):
        for crumb, link in zip(crumbs, links, strict=False):
            if isinstance(crumb, str) and crumb.strip() == identifier and isinstance(link, str):
                path = f.get("breadcrumbLinks", link, nz.text, None)
                break
    return Community(identifier, f.get("mastHead", data.get("mastHead"), nz.text, None), path)


def _media(f: _Fields, data: dict[Any, Any], key: str) -> Media | None:
    raw = f.mapping(data, key)
    href = f.get(f"{key}.href", raw.get("href"), nz.href, None)
    if href is None:
        return None
    no_size: tuple[int | None, int | None] = (None, None)
    width, height = f.get(f"{key}.size", raw.get("size"), nz.dimensions, no_size)
    return Media(
        href=href,
        width=width,
        height=height,
        format=f.get(f"{key}.format", raw.get("format"), nz.text, None),
        caption=f.get(f"{key}.alt", raw.get("alt"), nz.text, None),
    )
