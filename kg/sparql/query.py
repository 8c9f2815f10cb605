"""Named, documented, parameterised SPARQL queries, run on any store kg can reach.

The library is `kg/sparql/queries/*.rq`. Each file starts with a comment header: a one-line summary,
free text, a `Parameters:` block (`name  type  required|optional|default=VALUE  description`,
type one of string, integer, iri) and a `Columns:` line. The files hold no PREFIX lines: the
shared map of `kg.rdf.vocab` is prepended (`sparql_prefix_header()`), so a prefix is spelled once.

Parameters are never pasted into the query as text. Each value is first turned into an RDF
term of its declared type (a pyoxigraph `Literal` or `NamedNode`, which refuses what is not
a valid IRI), and the term's own serialisation, which escapes quotes, backslashes and line
breaks, goes into a `VALUES` clause at the start of the query's top-level WHERE group. A
parameter therefore binds a variable and can never add syntax; the same bound query text runs
on the embedded store, on files and on a remote endpoint, so all three give the same rows.
(pyoxigraph's `substitutions` would do for the embedded store only, and it accepts only
variables that the query projects.) Consequence for query authors: use a parameter in a
triple pattern or in a FILTER of the top-level group, not only inside a nested group.

A query may name lookups in its header (`Lookup: NAME`, a file `kg/sparql/queries/lookups/NAME.rq`
with the same header form): each is run first with the parameters it declares, and its rows,
RDF terms as returned, are bound as one multi-row `VALUES` clause of its columns. A lookup only
narrows: the main query keeps every condition itself, so its answer is the same with or without
the lookup, and the lookup lets the store start from a few shared nodes (topic IRIs, say)
instead of joining every curation graph first. Lookup rows that hold a blank node (which VALUES
cannot carry) make the main query run without that lookup.

Every answer travels as W3C SPARQL JSON results, whatever the target, and is parsed back by
pyoxigraph: rows, the table and the CSV/TSV/JSON outputs come from that one representation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal, Union

import pyoxigraph

from kg.errors import KgError
from kg.rdf.vocab import DEFAULT_BASE_IRI, PREFIXES, instance_prefixes, sparql_prefix_header
from kg.store.http import Endpoint
from kg.store.load import is_store_dir, memory_store, open_store

QUERY_DIR = Path(__file__).resolve().parent / "queries"
LOOKUP_DIR = QUERY_DIR / "lookups"
PARAM_TYPES = ("string", "integer", "iri")

Term = Union[pyoxigraph.NamedNode, pyoxigraph.Literal]  # noqa: UP007 - runtime alias on 3.10
Target = Union[pyoxigraph.Store, Endpoint, str, os.PathLike[str], Sequence[Union[str, os.PathLike[str]]]]  # noqa: UP007


class QueryError(KgError):
    """A query that cannot be found, parsed, bound or run; the message says why."""


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter: binds the query variable of the same name."""

    name: str
    type: str  # string, integer or iri
    required: bool
    default: str | None
    description: str

    def term(self, value: object) -> Term:
        """The RDF term for `value` (a Python value or the text given on the command line)."""
        text = str(value)
        if self.type == "integer":
            if isinstance(value, bool) or not re.fullmatch(r"[+-]?[0-9]+", text.strip()):
                raise QueryError(f"parameter {self.name!r} must be an integer, got {text!r}")
            return pyoxigraph.Literal(int(text.strip()))
        if self.type == "iri":
            try:
                return pyoxigraph.NamedNode(expand_iri(text.strip()))
            except ValueError as exc:
                raise QueryError(f"parameter {self.name!r} must be an IRI, got {text!r}: {exc}") from None
        return pyoxigraph.Literal(text)

    def usage(self) -> str:
        need = "required" if self.required else f"default {self.default}" if self.default else "optional"
        return f"{self.type}, {need}: {self.description}"


@dataclass(frozen=True, slots=True)
class NamedQuery:
    """A query from the library or a file, with what its header declares."""

    name: str
    body: str  # the text as written, header comments included, without PREFIX lines
    summary: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    columns: tuple[str, ...] = ()
    path: Path | None = None
    declared: bool = False  # the header has a Parameters: block
    lookups: tuple[str, ...] = ()  # names of kg/sparql/queries/lookups/*.rq run first (Lookup: line)

    def text(self) -> str:
        """The query as sent: the shared PREFIX lines, then the body."""
        return sparql_prefix_header() + self.body

    def bindings(self, values: Mapping[str, object]) -> dict[str, Term]:
        """Terms for the given values (and defaults); checks names, required and types."""
        declared = {p.name: p for p in self.params}
        out: dict[str, Term] = {}
        for name, value in values.items():
            check_variable_name(name)
            param = declared.get(name)
            if param is None:
                if self.declared:
                    known = ", ".join(declared) or "none"
                    raise QueryError(f"{self.name} has no parameter {name!r} (parameters: {known})")
                if name not in variables(self.body):
                    raise QueryError(f"the query has no variable ?{name} to bind --param {name}")
                param = Param(name, "string", False, None, "")
            out[name] = param.term(value)
        for param in self.params:
            if param.name in out:
                continue
            if param.default is not None:
                out[param.name] = param.term(param.default)
            elif param.required:
                raise QueryError(f"{self.name} needs --param {param.name}=... ({param.usage()})")
        return out


_PARAM_LINE = re.compile(
    r"^\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<type>\w+)\s+"
    r"(?P<need>required|optional|default=\S+)(?:\s+(?P<description>.*))?$"
)


def parse_query_file(text: str, name: str, path: Path | None = None) -> NamedQuery:
    """Read the comment header of a query (see the module docstring for its form)."""
    header: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line[1:].removeprefix(" ").rstrip())
    summary, notes, params = "", [], []
    columns: tuple[str, ...] = ()
    lookups: tuple[str, ...] = ()
    declared = False
    section = "description"
    for line in header:
        if line.startswith("Lookup:"):
            lookups = tuple(n.strip() for n in line.removeprefix("Lookup:").split(",") if n.strip())
            section = "lookup"
        elif line.startswith("Parameters:"):
            declared, section = True, "params"
            rest = line.removeprefix("Parameters:").strip()
            if rest not in ("", "none"):
                raise QueryError(f"{name}: write the parameters one per line below 'Parameters:'")
        elif line.startswith("Columns:"):
            columns = tuple(c.strip() for c in line.removeprefix("Columns:").split(",") if c.strip())
            section = "done"
        elif section == "params" and line.strip():
            m = _PARAM_LINE.match(line)
            if m is None or m["type"] not in PARAM_TYPES:
                raise QueryError(
                    f"{name}: bad parameter line {line!r}; expected "
                    f"'  name  {'|'.join(PARAM_TYPES)}  required|optional|default=VALUE  description'"
                )
            need = m["need"]
            default = need.removeprefix("default=") if need.startswith("default=") else None
            params.append(Param(m["name"], m["type"], need == "required", default, m["description"] or ""))
        elif section == "description":
            if not summary:
                summary = line.strip()
            else:
                notes.append(line)
    return NamedQuery(
        name=name,
        body=text,
        summary=summary,
        description="\n".join(notes).strip(),
        params=tuple(params),
        columns=columns,
        path=path,
        declared=declared,
        lookups=lookups,
    )


@lru_cache(maxsize=1)
def library() -> dict[str, NamedQuery]:
    """The shipped queries by name (the file name without `.rq`), sorted by name."""
    return {
        path.stem: parse_query_file(path.read_text(encoding="utf-8"), path.stem, path)
        for path in sorted(QUERY_DIR.glob("*.rq"))
    }


@cache
def lookup(name: str) -> NamedQuery:
    """A lookup query (`kg/sparql/queries/lookups/NAME.rq`), named by a query's `Lookup:` line."""
    path = LOOKUP_DIR / f"{name}.rq"
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name) or not path.is_file():
        raise QueryError(f"no lookup query named {name!r} in {LOOKUP_DIR}")
    return parse_query_file(path.read_text(encoding="utf-8"), name, path)


def resolve(name_or_path: str | os.PathLike[str]) -> NamedQuery:
    """A library query by name, or a `.rq` file."""
    text = os.fspath(name_or_path)
    queries = library()
    if text in queries:
        return queries[text]
    path = Path(text)
    if path.suffix == ".rq" or path.is_file():
        try:
            return parse_query_file(path.read_text(encoding="utf-8"), path.stem, path)
        except OSError as exc:
            raise QueryError(f"cannot read query file {text}: {exc.strerror or exc}") from None
    raise QueryError(f"no query named {text!r}; the library has: {', '.join(queries)}")


def adhoc(text: str) -> NamedQuery:
    """A query given as text (`kg query --sparql`)."""
    return parse_query_file(text, "query")


def expand_iri(text: str) -> str:
    """`prefix:local` with a known prefix (kg's map plus the default instance prefixes) -> IRI."""
    prefix, sep, local = text.partition(":")
    known = {**PREFIXES, **instance_prefixes(DEFAULT_BASE_IRI)}
    if sep and prefix in known and not local.startswith("//"):
        return known[prefix] + local
    return text


# --- binding parameters -------------------------------------------------------------------

_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_NAME = re.compile(r"[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_\-.\u00B7\u00C0-\uFFFF]*")
_LANGTAG = re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*")
_QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_UPDATE_OPERATIONS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")


def query_form(query: str) -> str | None:
    """SELECT, ASK, CONSTRUCT, DESCRIBE, the first keyword of an update, or None."""
    for _, token in _tokens(query):
        if token in _QUERY_FORMS or token in _UPDATE_OPERATIONS:
            return token
    return None


def _tokens(query: str) -> Iterator[tuple[int, str]]:
    """(offset, token) for braces, parentheses and bare keywords; skips comments, strings,
    IRIs, variables, language tags and prefixed names, which may contain any of those."""
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch in "\"'":
            i = _skip_string(query, i)
        elif ch == "<" and (m := _IRIREF.match(query, i)):
            i = m.end()
        elif ch in "?$":
            m = _NAME.match(query, i + 1)
            i = m.end() if m else i + 1
        elif ch == "@" and (m := _LANGTAG.match(query, i)):  # `"chat"@en`: not a keyword
            i = m.end()
        elif ch in "{}()":
            yield i, ch
            i += 1
        elif m := _NAME.match(query, i):
            prefixed = query.startswith(":", m.end()) or (i > 0 and query[i - 1] == ":")
            if not prefixed:
                yield i, m.group().upper()
            i = m.end()
        else:
            i += 1


#: SPARQL 1.1's VARNAME (grammar rule 166): what may follow `?` or `$`.
_PN_CHARS_U = (
    "A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_VARNAME = re.compile(f"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*")


def check_variable_name(name: str) -> None:
    """Raise QueryError unless `name` is a SPARQL variable name (VARNAME: letters, digits, `_`).

    A parameter's name becomes `?name` in the bound query text: anything else (a space, a
    brace, `#`) could add syntax to the query, so it is refused before anything is bound.
    """
    if not _VARNAME.fullmatch(name):
        raise QueryError(
            f"parameter name {name!r} is not a SPARQL variable name (letters, digits and _ only)"
        )


def variables(query: str) -> set[str]:
    """The names of the variables (`?x`, `$x`) the query text uses, outside comments, strings
    and IRIs (where `?x` is not a variable)."""
    found: set[str] = set()
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch in "\"'":
            i = _skip_string(query, i)
        elif ch == "<" and (m := _IRIREF.match(query, i)):
            i = m.end()
        elif ch in "?$" and (m := _VARNAME.match(query, i + 1)):
            found.add(m.group())
            i = m.end()
        else:
            i += 1
    return found


def _skip_string(query: str, start: int) -> int:
    quote = query[start]
    long = query.startswith(quote * 3, start)
    i = start + (3 if long else 1)
    while i < len(query):
        if query[i] == "\\":
            i += 2
        elif long and query.startswith(quote * 3, i):
            return i + 3
        elif not long and query[i] == quote:
            return i + 1
        else:
            i += 1
    raise QueryError("the query has an unterminated string")


def _where_group(query: str) -> tuple[int, int, bool]:
    """(offset of '{', offset of its matching '}', the group is a sub-SELECT) of the WHERE group."""
    form: str | None = None
    seen_where = template_done = False
    parens = 0
    tokens = _tokens(query)
    for offset, token in tokens:
        if token == "(":
            parens += 1
        elif token == ")":
            parens -= 1
        elif token in _QUERY_FORMS and form is None:
            form = token
        elif token == "WHERE" and parens == 0:
            seen_where = True
        elif token == "{" and parens == 0:
            if form is None:
                break
            if form == "CONSTRUCT" and not template_done:
                if seen_where:
                    raise QueryError(
                        "parameters cannot be bound in the short form CONSTRUCT WHERE { ... }; "
                        "write CONSTRUCT { template } WHERE { ... }"
                    )
                _close(query, offset, tokens)  # skip the template
                template_done = True
                continue
            return _close(query, offset, tokens)
    raise QueryError("cannot find the query's WHERE clause to bind parameters")


def _close(query: str, start: int, tokens: Iterator[tuple[int, str]]) -> tuple[int, int, bool]:
    depth, first = 1, None
    for offset, token in tokens:
        if first is None:
            first = token
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return start, offset, first == "SELECT"
    raise QueryError("the query's WHERE clause is not closed")


Table = tuple[tuple[str, ...], Sequence[Sequence[Union[Term, None]]]]  # noqa: UP007 - columns, rows


def bind(query: str, bindings: Mapping[str, Term], tables: Sequence[Table] = ()) -> str:
    """`query` with one `VALUES ?name { term }` per binding, then one
    `VALUES (?a ?b) { (term term) ... }` per table (a lookup's rows; None is UNDEF), at the
    start of its WHERE group."""
    if not bindings and not tables:
        return query
    for name in [*bindings, *(c for columns, _ in tables for c in columns)]:
        check_variable_name(name)  # the only text that is pasted: checked against the grammar
    clauses = [f"VALUES ?{name} {{ {term} }}" for name, term in bindings.items()]
    for columns, rows in tables:
        names = " ".join(f"?{c}" for c in columns)
        cells = " ".join("(" + " ".join("UNDEF" if t is None else str(t) for t in row) + ")" for row in rows)
        clauses.append(f"VALUES ({names}) {{ {cells} }}")
    values = " ".join(clauses)
    open_brace, close_brace, sub_select = _where_group(query)
    if sub_select:  # `WHERE { SELECT ... }` admits nothing beside the sub-select: wrap it
        return (
            f"{query[: open_brace + 1]} {values} {{{query[open_brace + 1 : close_brace]}}} "
            f"{query[close_brace:]}"
        )
    return f"{query[: open_brace + 1]} {values}\n{query[open_brace + 1 :]}"


# --- running --------------------------------------------------------------------------------

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


def execute(query: NamedQuery | str, target: Target, params: Mapping[str, object] | None = None) -> Results:
    """Bind `params` into `query` and run it on `target`: a pyoxigraph `Store`, the folder of
    an embedded store (`kg load --store DIR`), an `Endpoint` or an http(s) URL (SPARQL 1.1
    Protocol), or RDF files / curation sources (a path or a list of paths, loaded into an
    in-memory store as `kg load` would)."""
    named = query if isinstance(query, NamedQuery) else adhoc(query)
    bindings = named.bindings(params or {})
    if query_form(bind(named.text(), bindings)) in _UPDATE_OPERATIONS:
        raise QueryError("this is a SPARQL update; kg query is read-only (use kg load to change a store)")
    send = _sender(target)
    tables = [t for t in (_lookup_table(lookup(name), bindings, send) for name in named.lookups) if t]
    return send(bind(named.text(), bindings, tables))


def _sender(target: Target) -> Callable[[str], Results]:
    """A function that runs bound query text on `target` (a store or file target is opened once)."""
    if isinstance(target, Endpoint):
        endpoint = target
        return lambda text: _remote(endpoint, text)
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        endpoint = Endpoint.from_env(target)
        return lambda text: _remote(endpoint, text)
    if isinstance(target, (str, os.PathLike)) and is_store_dir(Path(target)):
        target = open_store(Path(target), read_only=True)
    if not isinstance(target, pyoxigraph.Store):
        paths = [target] if isinstance(target, (str, os.PathLike)) else list(target)
        try:
            target = memory_store([Path(p) for p in paths])
        except MemoryError:  # Oxigraph's parser on a term over its buffer (16 MiB), or real exhaustion
            names = ", ".join(os.fspath(p) for p in paths)
            raise QueryError(
                f"cannot read {names}: a file holds a term larger than the RDF parser's limit "
                "(16 MiB in N-Triples, N-Quads and Turtle; 8 MiB for a JSON-LD string), or memory ran out"
            ) from None
    store = target
    return lambda text: _local(store, text)


def _lookup_table(
    named: NamedQuery, bindings: Mapping[str, Term], send: Callable[[str], Results]
) -> Table | None:
    """The rows of a lookup as a VALUES table of its columns; None (do not narrow) when a row
    holds a term VALUES cannot carry (a blank node or a quoted triple)."""
    own: dict[str, Term] = {}
    for param in named.params:  # the main query's terms as they are: they were checked there
        if param.name in bindings:
            own[param.name] = bindings[param.name]
        elif param.default is not None:
            own[param.name] = param.term(param.default)
        elif param.required:
            raise QueryError(f"lookup {named.name} needs parameter {param.name}, which is not bound")
    rows = send(bind(named.text(), own)).terms()
    table: list[tuple[Term | None, ...]] = []
    for row in rows:
        cells = tuple(row.get(c) for c in named.columns)
        if not all(c is None or isinstance(c, (pyoxigraph.NamedNode, pyoxigraph.Literal)) for c in cells):
            return None
        table.append(cells)  # type: ignore[arg-type]
    return named.columns, table


def run(name_or_path: str | os.PathLike[str], target: Target, **params: object) -> list[dict[str, object]]:
    """Run a library query (by name) or a `.rq` file on `target`; rows as dicts.

    >>> run("curations-by-topic", "outputs/curations.nq", topic="Telehealth")[0]["title"]  # doctest: +SKIP
    """
    return execute(resolve(name_or_path), target, params).rows()


def union_default_graph(text: str) -> bool:
    """Whether `text` is evaluated with the default graph as the union of the named graphs
    (issue 15): yes, so that plain SPARQL written without `GRAPH ?g` answers on the embedded
    store, on files and on an Oxigraph server as it does on Virtuoso, whose default graph is
    the union; no when the query names its own dataset (`FROM`, `FROM NAMED`), which both
    pyoxigraph and Oxigraph's server would otherwise override with the union. Queries written
    with `GRAPH ?g` (the library's) give the same rows either way."""
    return not any(token == "FROM" for _, token in _tokens(text))


def _local(store: pyoxigraph.Store, text: str) -> Results:
    """Run bound query text on a local store (embedded or in memory): never over the network."""
    if uses_service(text):
        raise QueryError(
            "the query calls a remote SPARQL service (SERVICE): queries on local data (the "
            "embedded store, --data) never reach the network; run it with --endpoint on a store "
            "that may make such calls"
        )
    try:
        answer = store.query(text, use_default_graph_as_union=union_default_graph(text))
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from None
    except (OSError, RuntimeError) as exc:  # the store cannot be read, an evaluation error
        raise QueryError(f"the query failed: {exc}") from None
    if isinstance(answer, pyoxigraph.QueryTriples):
        return Results("graph", answer.serialize(format=pyoxigraph.RdfFormat.N_TRIPLES) or b"")
    data = answer.serialize(format=pyoxigraph.QueryResultsFormat.JSON) or b""
    return Results("boolean" if isinstance(answer, pyoxigraph.QueryBoolean) else "solutions", data)


_MAY_NAME_SERVICE = re.compile(r"service|\\u|\\U", re.IGNORECASE)


@lru_cache(maxsize=256)
def uses_service(query: str) -> bool:
    """True when `query` holds a `SERVICE` pattern (a federated query: the engine would open a
    connection to the IRI it names; Oxigraph does, to any address).

    Decided by parsing, so that `SERVICE` in a comment, a string or an IRI is not a hit: by
    rdflib's SPARQL 1.1 parser (it expands `\\u` escapes first, as the grammar says), looking
    for a ServiceGraphPattern anywhere in the parse tree; and by kg's own lexer (`_tokens`,
    which skips comments, strings, IRIs, variables and prefixed names), which also decides
    alone for a query rdflib cannot parse (SPARQL 1.2 forms Oxigraph accepts). Either finding
    one is enough: the check errs on refusing. A text with neither `service` nor an escape
    cannot name the keyword and is not parsed (rdflib's parser takes ~50 ms).
    """
    if not _MAY_NAME_SERVICE.search(query):
        return False
    try:
        if any(token == "SERVICE" for _, token in _tokens(query)):
            return True
    except QueryError:  # an unterminated string: the parser decides
        pass
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    for parse in (parseQuery, parseUpdate):
        try:
            return _has_service(parse(query))
        except (ParseException, ValueError, TypeError, RecursionError):
            continue
    return False


def _has_service(tree: object) -> bool:
    """A ServiceGraphPattern anywhere in an rdflib SPARQL parse tree (iteratively: no depth limit)."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    todo, seen = [tree], set()
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                return True
            todo.extend(node.values())
        elif isinstance(node, dict):
            todo.extend(node.values())
        elif isinstance(node, (list, tuple, ParseResults)):
            todo.extend(node)
    return False


def _remote(endpoint: Endpoint, text: str) -> Results:
    content_type, data = endpoint.query(text, union_default_graph=union_default_graph(text))
    if content_type.startswith(JSON_RESULTS) or content_type.startswith("application/json"):
        try:
            parsed = pyoxigraph.parse_query_results(data, pyoxigraph.QueryResultsFormat.JSON)
        except SyntaxError as exc:
            raise QueryError(f"{endpoint.display_url} sent results kg cannot read: {exc}") from None
        kind: ResultKind = "boolean" if isinstance(parsed, pyoxigraph.QueryBoolean) else "solutions"
        return Results(kind, data)
    if content_type.startswith("application/n-triples"):
        return Results("graph", data)
    raise QueryError(f"{endpoint.display_url} answered with {content_type or 'no content type'}")


# --- showing results to people ---------------------------------------------------------------

CELL_WIDTH = 100


def _compact(iri: str) -> str:
    known = {**PREFIXES, **instance_prefixes(DEFAULT_BASE_IRI)}
    best = max((ns for ns in known.values() if iri.startswith(ns)), key=len, default=None)
    if best is None:
        return iri
    prefix = next(p for p, ns in known.items() if ns == best)
    return f"{prefix}:{iri[len(best) :]}"


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, pyoxigraph.NamedNode):
        text = _compact(term.value)
    elif isinstance(term, pyoxigraph.Literal):
        text = term.value
    else:
        text = str(term)
    text = " ".join(text.split())
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def format_table(results: Results) -> str:
    """A plain-text table for people: IRIs shortened with kg's prefixes, long cells cut."""
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
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(columns), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def describe_library() -> str:
    """`kg query --list`: every library query with its summary and parameters."""
    queries = library()
    width = max(len(name) for name in queries)
    lines: list[str] = []
    for name, q in queries.items():
        lines.append(f"{name.ljust(width)}  {q.summary}")
        for p in q.params:
            lines.append(f"{'':{width}}    --param {p.name}=...  ({p.usage()})")
    return "\n".join(lines)
