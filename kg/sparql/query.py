"""Running a query on any store kg can reach: a pyoxigraph `Store`, the folder of an embedded
store, an `Endpoint` or an http(s) URL (SPARQL 1.1 Protocol), or RDF files and curation
sources loaded into memory (`execute`, `run`).

A query from the library (`kg.sparql.library`) has its parameters bound as VALUES
(`kg.sparql.binding`), its lookups run first, and its answer returned as `Results`
(`kg.sparql.results`). A query on local data never reaches the network: one that calls a
remote service (`SERVICE`) is refused.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Union

import pyoxigraph

from kg.sparql.binding import UPDATE_OPERATIONS, QueryError, Table, Term, bind, query_form, syntax_tokens
from kg.sparql.library import NamedQuery, adhoc, lookup, resolve
from kg.sparql.results import JSON_RESULTS, ResultKind, Results, first_solutions
from kg.store.http import Endpoint
from kg.store.load import is_store_dir, memory_store, open_store

Target = Union[pyoxigraph.Store, Endpoint, str, os.PathLike[str], Sequence[Union[str, os.PathLike[str]]]]  # noqa: UP007


def execute(
    query: NamedQuery | str,
    target: Target,
    params: Mapping[str, object] | None = None,
    limit: int | None = None,
    offset: int = 0,
    *,
    default_limit: bool = False,
) -> Results:
    """Bind `params` into `query` and run it on `target`: a pyoxigraph `Store`, the folder of
    an embedded store (`kg load --store DIR`), an `Endpoint` or an http(s) URL (SPARQL 1.1
    Protocol), or RDF files / curation sources (a path or a list of paths, loaded into an
    in-memory store as `kg load` would).

    `limit`: at most that many rows (triples of a CONSTRUCT), by reading no further than them,
    never by editing the query text (`Results.first`): a local store stops evaluating there; an
    endpoint still computes and sends the whole answer (put a LIMIT in the query to spare it).
    `offset`: the rows skipped first, the same way. With `default_limit` (`kg query` without
    --limit or --all) and no `limit`, a query whose header gives one (`Limit: N`, e.g.
    topic-cooccurrence) returns that many rows; the Python API returns every row."""
    if (limit is not None and limit < 0) or offset < 0:
        raise QueryError(f"a limit or offset of rows cannot be negative ({limit}, {offset})")
    named = query if isinstance(query, NamedQuery) else adhoc(query)
    if limit is None and default_limit:
        limit = named.default_limit
    bindings = named.bindings(params or {})
    if query_form(bind(named.text(), bindings)) in UPDATE_OPERATIONS:
        raise QueryError("this is a SPARQL update; kg query is read-only (use kg load to change a store)")
    send = _sender(target)
    tables = [t for t in (_lookup_table(lookup(name), bindings, send) for name in named.lookups) if t]
    return send(bind(named.text(), bindings, tables), limit, offset)


#: Runs bound query text on a target, with a limit of rows or None and an offset.
Sender = Callable[[str, "int | None", int], Results]


def _sender(target: Target) -> Sender:
    """A function that runs bound query text on `target` (a store or file target is opened once)."""
    if isinstance(target, Endpoint):
        endpoint = target
        return lambda text, limit, offset: _remote(endpoint, text, limit, offset)
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        endpoint = Endpoint.from_env(target)
        return lambda text, limit, offset: _remote(endpoint, text, limit, offset)
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
    return lambda text, limit, offset: _local(store, text, limit, offset)


def _lookup_table(
    named: NamedQuery, bindings: Mapping[str, Term], send: Sender
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
    rows = send(bind(named.text(), own), None, 0).terms()
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
    pyoxigraph and Oxigraph's server would otherwise override with the union. Each fact kg
    writes is in one graph only (a shared node in its own: `kg.map.nodes`), so the union
    holds no duplicate rows of kg's data."""
    return not any(token == "FROM" for _, token in syntax_tokens(text))


def _local(store: pyoxigraph.Store, text: str, limit: int | None = None, offset: int = 0) -> Results:
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
    try:
        windowed = limit is not None or offset > 0
        if isinstance(answer, pyoxigraph.QueryTriples):
            if not windowed:
                return Results("graph", answer.serialize(format=pyoxigraph.RdfFormat.N_TRIPLES) or b"")
            window = itertools.islice(answer, offset, None if limit is None else offset + limit)
            return Results("graph", "".join(f"{t} .\n" for t in window).encode())
        if isinstance(answer, pyoxigraph.QuerySolutions) and windowed:
            return Results("solutions", first_solutions(answer, limit, offset))
        data = answer.serialize(format=pyoxigraph.QueryResultsFormat.JSON) or b""
    except (OSError, RuntimeError) as exc:  # an evaluation error met while reading the answer
        raise QueryError(f"the query failed: {exc}") from None
    return Results("boolean" if isinstance(answer, pyoxigraph.QueryBoolean) else "solutions", data)


_MAY_NAME_SERVICE = re.compile(r"service|\\u|\\U", re.IGNORECASE)


@lru_cache(maxsize=256)
def uses_service(query: str) -> bool:
    """True when `query` holds a `SERVICE` pattern (a federated query: the engine would open a
    connection to the IRI it names; Oxigraph does, to any address).

    Decided by parsing, so that `SERVICE` in a comment, a string or an IRI is not a hit: by
    rdflib's SPARQL 1.1 parser (it expands `\\u` escapes first, as the grammar says), looking
    for a ServiceGraphPattern anywhere in the parse tree; and by kg's own lexer (`syntax_tokens`,
    which skips comments, strings, IRIs, variables and prefixed names), which also decides
    alone for a query rdflib cannot parse (SPARQL 1.2 forms Oxigraph accepts). Either finding
    one is enough: the check errs on refusing. A text with neither `service` nor an escape
    cannot name the keyword and is not parsed (rdflib's parser takes ~50 ms).
    """
    if not _MAY_NAME_SERVICE.search(query):
        return False
    try:
        if any(token == "SERVICE" for _, token in syntax_tokens(query)):
            return True
    except QueryError:  # an unterminated string: the parser decides
        pass
    # lazy: rdflib's SPARQL parser costs ~0.24 s to import; only a text that may name SERVICE needs it.
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
    # lazy: only called once rdflib's parser is loaded (`uses_service`).
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


def _remote(endpoint: Endpoint, text: str, limit: int | None = None, offset: int = 0) -> Results:
    answer = _remote_answer(endpoint, text)
    return answer if limit is None and not offset else answer.first(limit, offset)


def _remote_answer(endpoint: Endpoint, text: str) -> Results:
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
