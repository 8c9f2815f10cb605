"""Value-level normalisers for front-matter fields. Pure functions, no I/O.

Each returns the normalised value, or None for "absent", and raises `FieldError` when a
value is present but unusable; the caller turns that into a per-field `Problem`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from kg.model import Temporal, Topic
from kg.rdf.iri import to_iri
from kg.rdf.terms import escape_lexical


class FieldError(ValueError):
    """A present value of the wrong type or form; the message says what was expected."""


#: The largest term kg writes, in bytes of UTF-8 as written: a literal's lexical form with its
#: escapes (`"` -> `\"`, a control character -> `\u0001`), or an IRI. A larger value is a
#: field problem. Why: every output must be readable back, and Oxigraph, the store and the
#: parser of `kg load`, `kg validate` and `kg query --data`, reads no token over 16 MiB in
#: N-Triples, N-Quads and Turtle and no JSON string over 8 MiB in JSON-LD (it fails with
#: MemoryError); 4 MiB is half the smallest, room for other readers. A body of plain text may
#: be 4 MiB: ~a thousand pages, where real curations hold a few kilobytes.
MAX_TERM_BYTES = 4 * 1024 * 1024
#: A character is written as at most 6 bytes in a literal (`\u0001`) and 12 in an IRI segment
#: (4 bytes of UTF-8, each `%XX`): a value shorter than these many characters cannot be too
#: large, and is not measured.
_LITERAL_SAFE_CHARS = MAX_TERM_BYTES // 6
_IRI_SAFE_CHARS = MAX_TERM_BYTES // 12


def _too_large(size: int, written: str) -> FieldError:
    return FieldError(
        f"too large: {size:,} bytes written as {written}, over kg's limit of {MAX_TERM_BYTES:,} "
        "(see MAX_TERM_BYTES: larger terms cannot be read back)"
    )


def literal(value: str) -> str:
    """`value` unchanged, or FieldError when written as a literal it exceeds `MAX_TERM_BYTES`."""
    if len(value) > _LITERAL_SAFE_CHARS:
        size = len(escape_lexical(value).encode("utf-8", "surrogatepass"))
        if size > MAX_TERM_BYTES:
            raise _too_large(size, "a literal")
    return value


def iri_segments(*values: str | None) -> None:
    """FieldError when the IRI path segments minted from `values` (`kg.rdf.iri.segment`, as the
    mapping mints curation, topic, person, brand ... IRIs), joined by `/`, exceed
    `MAX_TERM_BYTES`."""
    present = [v for v in values if v]
    if sum(map(len, present)) + len(present) <= _IRI_SAFE_CHARS:
        return
    size = sum(map(_segment_size, present)) + len(present) - 1
    if size > MAX_TERM_BYTES:
        raise _too_large(size, "an IRI")


_SEGMENT_AS_IS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.~ ")


def _segment_size(value: str) -> int:
    """`len(segment(value))` without building it (that runs per character, ~2 s a megabyte):
    unreserved ASCII and space take one character, every other UTF-8 byte three (`%XX`)."""
    data = value.encode("utf-8", "surrogatepass")
    encoded = len(data.translate(None, delete=bytes(_SEGMENT_AS_IS)))
    return len(data) + 2 * encoded


def _utf8_size(url: str) -> None:
    """FieldError, before the (per character) work of `to_iri`, for a URL whose IRI must be too
    large: each of its UTF-8 bytes becomes at least one character of the IRI."""
    if len(url) > MAX_TERM_BYTES // 4:
        size = len(url.encode("utf-8", "surrogatepass"))
        if size > MAX_TERM_BYTES:
            raise _too_large(size, "an IRI (at least)")


def _iri_size(iri: str) -> str:
    if len(iri) > MAX_TERM_BYTES:  # an IRI from to_iri is ASCII: characters are bytes
        raise _too_large(len(iri), "an IRI")
    return iri


_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_string(text: str) -> str:
    """Replace lone surrogates (not encodable as UTF-8) with U+FFFD; everything else stays."""
    return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text


def text(value: Any) -> str | None:
    """A trimmed, non-empty string; '' and null mean absent; integers are taken as their digits."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise FieldError("expected text, got a YAML boolean (quote the value)")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise FieldError(f"expected text, got {kind_of(value)}")
    value = clean_string(value).strip()
    return literal(value) or None


def name(value: Any) -> str | None:
    """`text` that the mapping also mints an IRI from (mdName, brand, community, type names):
    both the literal and the IRI segment must be within `MAX_TERM_BYTES`."""
    t = text(value)
    if t is not None and len(t) > _IRI_SAFE_CHARS:  # (short values: no call, on the hot path)
        iri_segments(t)
    return t


def body(value: str) -> str | None:
    """The Markdown or HTML body after the front matter: trimmed, '' means absent; within
    `MAX_TERM_BYTES` written as a literal, else a field problem (the curation keeps the rest)."""
    return literal(clean_string(value).strip()) or None


def text_list(value: Any, item_fn: Callable[[Any], str | None] | None = None) -> list[str]:
    """A list of strings from a string or list of strings; empty and null items are dropped,
    and so are repeats (the first one stays where it is).

    Repeats are found with a dict (insertion-ordered), so the time is linear in the number of
    items: a membership test on the list was quadratic (8.8 s for 40,000 tags). Each item is
    normalised by `item_fn` (default `text`; `name` for people, who get an IRI each).
    """
    if value is None:
        return []
    items: Iterable[Any] = value if isinstance(value, list) else [value]
    out: dict[str, None] = {}
    normalise = item_fn or text
    for item in items:
        if isinstance(item, (dict, list)):
            raise FieldError(f"expected text items, got {kind_of(item)}")
        t = normalise(item)
        if t is not None:
            out[t] = None
    return list(out)


def integer(value: Any) -> int | None:
    """An integer, from an int or a string of digits."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FieldError("expected an integer, got a YAML boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        try:
            return int(value)
        except ValueError:  # over Python's 4,300 digits for int(str)
            raise FieldError("expected an integer, got one with too many digits") from None
    raise FieldError(f"expected an integer, got {kind_of(value)}")


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def temporal(value: Any) -> Temporal | None:
    """An xsd:dateTime (or xsd:date for a bare date) from a string or a YAML date/datetime.

    Accepts ISO 8601 with or without microseconds, `Z` or an offset, `T` or a space. A naive
    time stays naive (no timezone is invented); UTC is written as `Z`.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return Temporal(_format_datetime(value), "dateTime")
    if isinstance(value, dt.date):
        return Temporal(value.isoformat(), "date")
    if not isinstance(value, str):
        raise FieldError(f"expected a date or dateTime, got {kind_of(value)}")
    raw = value.strip()
    if not raw:
        return None
    if _DATE_ONLY.match(raw):
        try:
            return Temporal(dt.date.fromisoformat(raw).isoformat(), "date")
        except ValueError as exc:
            raise FieldError(f"impossible date: {exc}") from None
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise FieldError(f"not an ISO 8601 date or dateTime: {exc}") from None
    return Temporal(_format_datetime(parsed), "dateTime")


def _format_datetime(value: dt.datetime) -> str:
    text_ = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text_ += f".{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset()
    if offset is None:
        return text_
    if offset == dt.timedelta(0):
        return text_ + "Z"
    total = int(offset.total_seconds())
    sign = "+" if total >= 0 else "-"
    hours, minutes = divmod(abs(total) // 60, 60)
    return f"{text_}{sign}{hours:02d}:{minutes:02d}"


_WEB_URL = re.compile(r"^\s*https?://[^/?#\s]", re.IGNORECASE)
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*):")


def has_scheme(text: str) -> bool:
    """True when `text` starts with a URI scheme (`http:`, `javascript:`, `data:`, ...): it is
    an absolute URL, not a relative path (RFC 3986: a relative path's first segment has no `:`)."""
    return _SCHEME.match(text) is not None


def web_iri(text: str) -> str | None:
    """`text` as a valid absolute http(s) IRI (illegal characters percent-encoded), or None when
    it is not an http(s) URL with a host, or cannot be made valid.

    The one rule for every URL kg turns into an IRI: links, source URLs and media hrefs. Only
    web URLs are kept: a `javascript:`, `data:` or `file:` URL would become a link that a page
    rendering the graph follows or runs.
    """
    return to_iri(text) if _WEB_URL.match(text) else None


def url(value: Any) -> str | None:
    """A valid absolute http(s) IRI from a URL string; '' and null mean absent.

    Only web URLs are accepted: a `javascript:` or `file:` link is a field problem.
    """
    t = text(value)
    if t is None:
        return None
    if not _WEB_URL.match(t):
        raise FieldError("not an absolute http(s) URL")
    _utf8_size(t)
    iri = web_iri(t)
    if iri is None:
        raise FieldError("not a valid URL (its port is not a number)")
    return _iri_size(iri)


def href(value: Any) -> str | None:
    """An image or PDF href, as given: an absolute http(s) URL, or a relative path (which the
    mapping resolves against the asset base); '' and null mean absent.

    Any other absolute URL (`javascript:`, `data:`, `file:`, `ftp:`, ...) is a field problem:
    the same rule as `url`, which relative paths pass because they stay under the asset base.
    """
    t = text(value)
    if t is None:
        return None
    scheme = _SCHEME.match(t)
    if scheme is None:
        iri_segments(*t.split("/"))  # resolved segment by segment under the asset base
        return t
    if not _WEB_URL.match(t):
        raise FieldError(f"a {scheme.group(1).lower()}: URL; only http(s) URLs and relative paths are kept")
    _utf8_size(t)
    iri = web_iri(t)
    if iri is None:
        raise FieldError("not a valid URL (its port is not a number)")
    _iri_size(iri)
    return t


def topic(value: str) -> Topic | None:
    """Split `Source: Label` at the first ': '; `-hash-` is the site's spelling of `#`."""
    value = clean_string(value).replace("-hash-", "#").strip()
    if not value:
        return None
    source, sep, label = value.partition(": ")
    if sep and source.strip() and label.strip():
        return Topic(source.strip(), label.strip())
    return Topic(None, value)


def topics(community_topics: Any, medigy_topics_json: Any) -> list[Topic]:
    """`communityTopics` united with the JSON string `openProjectCustomFields.medigyTopics`.

    Order of first appearance is kept; duplicates (after `-hash-` decoding) are dropped, found
    with a dict of the (hashable) topics, so the time is linear in the number of topics.
    """
    raw: list[str] = text_list(community_topics)
    if medigy_topics_json not in (None, ""):
        if isinstance(medigy_topics_json, list):
            decoded: Any = medigy_topics_json
        elif isinstance(medigy_topics_json, str):
            try:
                decoded = json.loads(medigy_topics_json)
            except json.JSONDecodeError as exc:
                raise FieldError(f"medigyTopics is not valid JSON: {exc.msg}") from None
            except RecursionError:  # json.loads recurses per nesting level
                raise FieldError("medigyTopics is not valid JSON: nested too deeply") from None
        else:
            raise FieldError(f"expected a JSON list string, got {kind_of(medigy_topics_json)}")
        if not isinstance(decoded, list):
            raise FieldError("medigyTopics JSON is not a list")
        raw.extend(text_list([item for item in decoded if isinstance(item, (str, int))]))
    out: dict[Topic, None] = {}
    for item in raw:
        t = topic(item)
        if t is not None:
            if len(item) > _IRI_SAFE_CHARS:  # topic/{source}/{label}; both are parts of item
                iri_segments(t.source, t.label)
            out[t] = None
    return list(out)


def dimensions(value: Any) -> tuple[int | None, int | None]:
    """`size: [width, height]` as positive integers; anything else is a FieldError."""
    if value is None or value == []:
        return None, None
    if not isinstance(value, list) or len(value) != 2:
        raise FieldError("expected [width, height]")
    width, height = (integer(v) for v in value)
    if (width is not None and width <= 0) or (height is not None and height <= 0):
        raise FieldError("width and height must be positive")
    return width, height


def show(value: Any, limit: int = 120) -> str:
    """A short printable rendering of a value for error messages: `repr`, cut at `limit`.

    Rendered only as far as the limit: YAML aliases can make a value whose full `repr` is
    exponentially long (a "billion laughs" of nested lists), recursive (`&a [*a]`) or deeper
    than Python's recursion limit, and `repr` would hang, exhaust memory or raise. Sets are
    shown sorted, so the report is the same from run to run.
    """
    parts: list[str] = []
    budget = [limit + 1]

    def emit(text: str) -> None:
        parts.append(text[: budget[0]])
        budget[0] -= len(text)
        if budget[0] <= 0:
            raise _Enough

    def walk(item: Any) -> None:
        if isinstance(item, list):
            emit("[")
            for i, element in enumerate(item):
                emit(", " if i else "")
                walk(element)
            emit("]")
        elif isinstance(item, dict):
            emit("{")
            for i, (key, element) in enumerate(item.items()):
                emit(", " if i else "")
                walk(key)
                emit(": ")
                walk(element)
            emit("}")
        elif isinstance(item, tuple):
            emit("(")
            for i, element in enumerate(item):
                emit(", " if i else "")
                walk(element)
            emit(",)" if len(item) == 1 else ")")
        elif isinstance(item, (set, frozenset)):
            emit("{" + ", ".join(sorted(repr(element) for element in item)) + "}" if item else "set()")
        elif isinstance(item, str) and len(item) > limit:
            emit(repr(item[: limit + 1]))  # the same first characters as repr(item)
        else:
            emit(repr(item))

    with contextlib.suppress(_Enough):
        walk(value)
    shown = "".join(parts)
    return shown if len(shown) <= limit else shown[: limit - 1] + "\u2026"


class _Enough(Exception):
    """`show` has rendered past its limit."""


def kind_of(value: Any) -> str:
    """What `value` is, for messages: `a list`, `a mapping`, `text`, ... (YAML's words)."""
    return {
        "list": "a list",
        "dict": "a mapping",
        "float": "a number",
        "int": "an integer",
        "str": "text",
    }.get(type(value).__name__, type(value).__name__)
