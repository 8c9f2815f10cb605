"""Binding parameters into SPARQL text safely, and the small SPARQL lexer that needs.

Parameters are never pasted into the query as text. Each value is first turned into an RDF
term of its declared type (a pyoxigraph `Literal` or `NamedNode`, which refuses what is not
a valid IRI), and the term's own serialisation, which escapes quotes, backslashes and line
breaks, goes into a `VALUES` clause at the start of the query's top-level WHERE group. A
parameter therefore binds a variable and can never add syntax; the same bound query text runs
on the embedded store, on files and on a remote endpoint, so all three give the same rows.
(pyoxigraph's `substitutions` would do for the embedded store only, and it accepts only
variables that the query projects.) Consequence for query authors: use a parameter in a
triple pattern or in a FILTER of the top-level group, not only inside a nested group.

The lexer (`lex`) reads comments, strings, IRIs, variables, language tags and prefixed names
whole, so that a keyword or a brace inside one of them is never taken for syntax; it is the one
scanner of query text in kg (`kg.sparql.check` and `kg.shacl.sparql` read its tokens too). Pure text
work: no store, no file, no network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple, Union

import pyoxigraph

from kg.errors import KgError
from kg.rdf.namespaces import (
    expand,
)

Term = Union[pyoxigraph.NamedNode, pyoxigraph.Literal]  # noqa: UP007 - runtime alias on 3.10


class QueryError(KgError):
    """A query that cannot be found, parsed, bound or run; the message says why."""


def expand_iri(text: str) -> str:
    """`prefix:local` with a known prefix (kg's map plus the default instance prefixes) -> IRI."""
    return expand(text)


_QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_OPERATIONS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")


def query_form(query: str) -> str | None:
    """SELECT, ASK, CONSTRUCT, DESCRIBE, the first keyword of an update, or None."""
    for _, token in syntax_tokens(query):
        if token in _QUERY_FORMS or token in UPDATE_OPERATIONS:
            return token
    return None


def syntax_tokens(query: str) -> Iterator[tuple[int, str]]:
    """(offset, token) for braces, parentheses and bare keywords (upper-cased): what `lex`
    finds outside comments, strings, IRIs, variables, language tags and prefixed names."""
    for token in lex(query):
        if token.kind == "word":
            yield token.offset, token.text.upper()
        elif token.kind == "punct" and token.text in "{}()":
            yield token.offset, token.text


class Token(NamedTuple):
    """One token of a query: where it starts, its kind and its text as written.

    Kinds: `word` (a bare name: a keyword, a function, `a`), `pname` (a prefixed name or a
    blank node label, `ex:p`, `:x`, `_:b`), `var` (`?x`, `$x`), `iri` (`<...>`), `string`,
    `langtag` (`@en`), `number`, `punct` (any other single character).
    """

    offset: int
    kind: str
    text: str


#: SPARQL 1.1's VARNAME (grammar rule 166): what may follow `?` or `$`.
_PN_CHARS_U = (
    "A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_VARNAME = re.compile(f"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*")
_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_LANGTAG = re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*")
# PNAME_NS / PNAME_LN / BLANK_NODE_LABEL, loosely (any letter past U+00C0): a name may hold
# dots but not end with one (`ex:a.` is `ex:a` then the `.` ending a triple).
_PN = r"[\w\-\u00b7\u00c0-\uffff]"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PNAME = re.compile(
    rf"(?:[A-Za-z_\u00c0-\uffff](?:(?:{_PN}|\.)*{_PN})?)?:"
    rf"(?:(?:{_PN}|:|{_PLX})(?:(?:{_PN}|[:.]|{_PLX})*(?:{_PN}|:|{_PLX}))?)?"
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d+\.\d*[eE][+-]?\d+|\.?\d+[eE][+-]?\d+|\d*\.\d+|\d+")


def lex(query: str) -> Iterator[Token]:
    """The tokens of `query`, comments and white space left out. One scanner for every reader
    of query text (binding, the SHACL-SPARQL check, the fast engine's constraint analysis), so
    they agree on what is syntax. Raises QueryError for a string that is not closed."""
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        kind, end = _token_at(query, i, ch)
        yield Token(i, kind, query[i:end])
        i = end


def _token_at(query: str, i: int, ch: str) -> tuple[str, int]:
    """(kind, end) of the token starting at `i` (not a comment, not white space)."""
    if ch in "\"'":
        return "string", _skip_string(query, i)
    if ch == "<" and (m := _IRIREF.match(query, i)):
        return "iri", m.end()
    if ch in "?$" and (m := _VARNAME.match(query, i + 1)):
        return "var", m.end()
    if ch == "@" and (m := _LANGTAG.match(query, i)):  # `"chat"@en`: not a keyword
        return "langtag", m.end()
    if m := _PNAME.match(query, i):
        return "pname", m.end()
    if m := _WORD.match(query, i):
        return "word", m.end()
    if (ch.isdigit() or ch == ".") and (m := _NUMBER.match(query, i)):
        return "number", m.end()
    return "punct", i + 1


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
    return {token.text[1:] for token in lex(query) if token.kind == "var"}


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
    stream = syntax_tokens(query)
    for offset, token in stream:
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
                _close(query, offset, stream)  # skip the template
                template_done = True
                continue
            return _close(query, offset, stream)
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
