"""Query answers: the `Results` of a query, its rows as Python values, and the plain-text
table `kg query` shows people. No store, no network.

Every answer travels as W3C SPARQL JSON results, whatever the target, and is parsed back by
pyoxigraph: rows, the table and the CSV/TSV/JSON outputs come from that one representation.
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Literal

import pyoxigraph

from kg.rdf.namespaces import (
    DEFAULT_PREFIXES,
    PREFIXES,
)
from kg.sparql.binding import QueryError

JSON_RESULTS = "application/sparql-results+json"
ResultKind = Literal["solutions", "boolean", "graph"]


@dataclass(frozen=True, slots=True)
class Results:
    """A query answer: SPARQL JSON results (SELECT, ASK) or N-Triples (CONSTRUCT, DESCRIBE)."""

    kind: ResultKind
    data: bytes

    def parsed(self) -> pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean:
        if self.kind == "graph":
            raise QueryError("a CONSTRUCT or DESCRIBE query returns triples, not rows")
        return pyoxigraph.parse_query_results(self.data, pyoxigraph.QueryResultsFormat.JSON)

    def variables(self) -> list[str]:
        parsed = self.parsed()
        return [v.value for v in parsed.variables] if isinstance(parsed, pyoxigraph.QuerySolutions) else []

    def boolean(self) -> bool | None:
        parsed = self.parsed()
        return bool(parsed) if isinstance(parsed, pyoxigraph.QueryBoolean) else None

    def terms(self) -> list[dict[str, object]]:
        """Rows as {variable: pyoxigraph term or None}."""
        parsed = self.parsed()
        if isinstance(parsed, pyoxigraph.QueryBoolean):
            raise QueryError("an ASK query returns a boolean, not rows")
        names = [v.value for v in parsed.variables]
        # A solution iterates over its values in the order of the variables (None: unbound);
        # that is several times faster than solution[name] for each name.
        return [dict(zip(names, solution, strict=True)) for solution in parsed]

    def rows(self) -> list[dict[str, object]]:
        """Rows as {variable: Python value}: see `python_value`."""
        return [{k: python_value(v) for k, v in row.items()} for row in self.terms()]

    def serialize(self, fmt: str) -> bytes:
        """W3C SPARQL results in `fmt` (json, csv, tsv, xml); N-Triples for graph results."""
        if self.kind == "graph":
            return self.data
        formats = {
            "json": pyoxigraph.QueryResultsFormat.JSON,
            "csv": pyoxigraph.QueryResultsFormat.CSV,
            "tsv": pyoxigraph.QueryResultsFormat.TSV,
            "xml": pyoxigraph.QueryResultsFormat.XML,
        }
        return self.parsed().serialize(format=formats[fmt]) or b""

    def first(self, limit: int | None, offset: int = 0) -> Results:
        """The answer cut to `limit` rows (graph results: triples; None: all) after skipping
        `offset`; a boolean as it is. Reads the answer row by row and stops at the window's end
        (see `first_solutions`)."""
        end = None if limit is None else offset + limit
        if self.kind == "graph":
            lines = self.data.splitlines(keepends=True)
            return Results("graph", b"".join(lines[offset:end])) if (offset or end is not None) else self
        parsed = self.parsed()
        if isinstance(parsed, pyoxigraph.QueryBoolean):
            return self
        return Results("solutions", first_solutions(parsed, limit, offset))


def first_solutions(solutions: pyoxigraph.QuerySolutions, limit: int | None, offset: int = 0) -> bytes:
    """`limit` solutions (None: all) after the first `offset`, as SPARQL JSON results, reading
    no further: on a local store the rest is never evaluated (Oxigraph evaluates as it is read),
    so `kg query --limit` on a large graph stops early. The query text is not touched (no LIMIT
    or OFFSET pasted into it)."""
    names = [v.value for v in solutions.variables]
    bindings = [
        {name: term_json(term) for name, term in zip(names, solution, strict=True) if term is not None}
        for solution in itertools.islice(solutions, offset, None if limit is None else offset + limit)
    ]
    answer = {"head": {"vars": names}, "results": {"bindings": bindings}}
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def term_json(term: object) -> dict[str, object]:
    """An RDF term as a SPARQL 1.1 JSON results binding (RDF 1.2 triple terms included)."""
    if isinstance(term, pyoxigraph.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, pyoxigraph.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, pyoxigraph.Literal):
        out: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD + "string":
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, pyoxigraph.Triple):
        parts = ("subject", "predicate", "object")
        return {"type": "triple", "value": {k: term_json(getattr(term, k)) for k in parts}}
    raise QueryError(f"a result holds a term kg cannot write: {term!r}")


_INTEGER_TYPES = {
    "integer",
    "int",
    "long",
    "short",
    "byte",
    "nonNegativeInteger",
    "positiveInteger",
    "nonPositiveInteger",
    "negativeInteger",
    "unsignedLong",
    "unsignedInt",
    "unsignedShort",
    "unsignedByte",
}
XSD = PREFIXES["xsd"]


_DATETIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?")
_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)")


def _timezone(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def _temporal(local: str, lexical: str) -> object:
    """xsd:dateTime -> datetime, xsd:date (without zone) -> date; else the lexical form.

    Stores write the same instant differently ("...14.88342Z" or "...14.883420Z"); as Python
    values they compare equal. Fractions beyond microseconds are cut.
    """
    try:
        if local == "dateTime" and (m := _DATETIME.fullmatch(lexical)):
            fraction = int((m[7] or "0")[:6].ljust(6, "0"))
            y, mo, d, h, mi, sec = (int(m[i]) for i in range(1, 7))
            return datetime(y, mo, d, h, mi, sec, fraction, tzinfo=_timezone(m[8]))
        if local == "date" and (m := _DATE.fullmatch(lexical)):
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:  # year 0, hour 24, ...: keep the text
        pass
    return lexical


def python_value(term: object) -> object:
    """IRI -> str; xsd integers -> int, decimal -> Decimal, double/float -> float, boolean ->
    bool, dateTime -> datetime, date -> date; any other literal -> its lexical form; unbound ->
    None."""
    if term is None:
        return None
    if isinstance(term, pyoxigraph.NamedNode):
        return term.value
    if isinstance(term, pyoxigraph.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, pyoxigraph.Literal):
        datatype = term.datatype.value
        local = datatype[len(XSD) :] if datatype.startswith(XSD) else None
        try:
            if local in _INTEGER_TYPES:
                return int(term.value)
            if local == "decimal":
                return Decimal(term.value)
            if local in ("double", "float"):
                return float(term.value)
        except ValueError:
            return term.value
        if local == "boolean":
            return term.value in ("true", "1")
        if local in ("dateTime", "date"):
            return _temporal(local, term.value)
        return term.value
    return str(term)


# --- showing results to people ---------------------------------------------------------------

CELL_WIDTH = 100
#: Spaces between two columns of a table.
GAP = 2
#: The narrowest a column is made to fit a terminal (a cell then shows a character and `…`).
MIN_COLUMN = 2


def compact(iri: str) -> str:
    """kg's prefixes for people (a namespace IRI alone shows as `prefix:`)."""
    split = DEFAULT_PREFIXES.split(iri, empty_local=True)
    return iri if split is None else f"{split[0]}:{split[1]}"


def _char_width(char: str) -> int:
    """Columns a character takes on a terminal: 2 for wide East Asian ones, 0 for combining
    marks and controls, else 1."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Cc", "Cf", "Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal (not its length: `漢` takes two, `é` as e + ◌́ one)."""
    return sum(_char_width(c) for c in text)


def cut(text: str, width: int) -> str:
    """`text` in at most `width` columns: cut, ending with `…`, when it is wider."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        w = _char_width(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - display_width(text))
    return space + text if right else text + space


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, pyoxigraph.NamedNode):
        text = compact(term.value)
    elif isinstance(term, pyoxigraph.Literal):
        text = term.value
    else:
        text = str(term)
    return cut(" ".join(text.split()), CELL_WIDTH)


def fit_widths(widths: list[int], total: int) -> list[int]:
    """Column widths that fit in `total` columns with `GAP` between them: the widest columns
    are narrowed first, each to no less than `MIN_COLUMN` (or its own width); when even that
    does not fit, as they are (the caller cuts the lines)."""
    room = total - GAP * (len(widths) - 1)
    fitted = list(widths)
    while (excess := sum(fitted) - room) > 0:
        widest = max(range(len(fitted)), key=lambda i: (fitted[i], -i))
        floor = min(MIN_COLUMN, widths[widest])
        if fitted[widest] <= floor:
            break
        second = max((w for i, w in enumerate(fitted) if i != widest), default=0)
        fitted[widest] = max(floor, fitted[widest] - max(1, min(excess, fitted[widest] - second)))
    return fitted


def format_table(results: Results, width: int | None = None) -> str:
    """A plain-text table for people: IRIs shortened with kg's prefixes, long cells cut.

    With `width` (a terminal's columns), no line is wider: the widest columns are narrowed
    and their cells cut with `…` (a table of more columns than fit has its lines cut too)."""
    if results.kind == "boolean":
        return "true" if results.boolean() else "false"
    columns = results.variables()
    rows = results.terms()
    cells = [[_cell(row[c]) for c in columns] for row in rows]
    numeric = [
        all(
            row[c] is None
            or (isinstance(row[c], pyoxigraph.Literal) and isinstance(python_value(row[c]), int))
            for row in rows
        )
        for c in columns
    ]
    widths = [max([display_width(c), *(display_width(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    if width is not None:
        widths = fit_widths(widths, width)

    def line(values: Iterable[str]) -> str:
        parts = [
            _pad(cut(v, w), w, num) for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        text = (" " * GAP).join(parts).rstrip()
        return text if width is None else cut(text, width)

    out = [line(columns), line("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)
