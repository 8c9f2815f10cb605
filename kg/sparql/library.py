"""The query library: named, documented, parameterised SPARQL queries shipped as `.rq` files,
and the comment header that documents each one. Reads the `.rq` files; runs nothing.

The library is `kg/sparql/queries/*.rq`. Each file starts with a comment header: a one-line summary,
free text, a `Parameters:` block (`name  type  required|optional|default=VALUE  description`,
type one of string, integer, iri) and a `Columns:` line. The files hold no PREFIX lines: the
shared map of `kg.rdf.vocab` is prepended (`sparql_prefix_header()`), so a prefix is spelled once.

A query may name lookups in its header (`Lookup: NAME`, a file `kg/sparql/queries/lookups/NAME.rq`
with the same header form): each is run first with the parameters it declares, and its rows,
RDF terms as returned, are bound as one multi-row `VALUES` clause of its columns. A lookup only
narrows: the main query keeps every condition itself, so its answer is the same with or without
the lookup, and the lookup lets the store start from a few shared nodes (topic IRIs, say)
instead of joining every curation graph first. Lookup rows that hold a blank node (which VALUES
cannot carry) make the main query run without that lookup (`kg.sparql.query`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import pyoxigraph

from kg.rdf.vocab import sparql_prefix_header
from kg.sparql.binding import QueryError, Term, check_variable_name, expand_iri, variables

QUERY_DIR = Path(__file__).resolve().parent / "queries"
LOOKUP_DIR = QUERY_DIR / "lookups"
PARAM_TYPES = ("string", "integer", "iri")


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
    default_limit: int | None = None  # rows returned unless the caller asks otherwise (Limit: line)

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
    default_limit: int | None = None
    declared = False
    section = "description"
    for line in header:
        if line.startswith("Limit:"):
            default_limit = _limit_line(name, line)
        elif line.startswith("Lookup:"):
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
        default_limit=default_limit,
    )


def _limit_line(name: str, line: str) -> int:
    """The rows of a `Limit: N` header line (the first word after the colon)."""
    words = line.removeprefix("Limit:").split()
    if not words or not words[0].isdigit() or int(words[0]) < 1:
        raise QueryError(f"{name}: bad limit line {line!r}; expected 'Limit: N' with N a whole number from 1")
    return int(words[0])


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
