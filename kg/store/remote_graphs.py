"""Which named graphs a remote store holds: found by SPARQL on its query endpoint, the one
beside its Graph Store Protocol URL (`query_url_for`), page by page where a server caps the
rows of an answer. Reads only; used by `kg.store.sync.RemoteTarget`.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pyoxigraph

from kg.store.http import Endpoint, RemoteError

#: Graph names per query when a remote store's answer listing its graphs was cut by a row
#: cap: below the caps servers apply (Virtuoso's ResultSetMaxRows: 10,000 by default).
LIST_PAGE = 5000

#: Graph Store Protocol paths and the query endpoint beside them, by server:
#: Oxigraph, Virtuoso (authenticated and not), Fuseki (/DATASET/data), RDF4J and GraphDB.
QUERY_PATHS = (
    ("/store", "/query"),
    ("/sparql-graph-crud-auth", "/sparql-auth"),
    ("/sparql-graph-crud", "/sparql"),
    ("/data", "/query"),
    ("/rdf-graphs/service", ""),
)


def query_url_for(store_url: str) -> str:
    """The SPARQL query endpoint beside a Graph Store Protocol URL (`QUERY_PATHS`); the URL
    itself when its path is none of those (servers such as Fuseki answer both at one URL)."""
    parts = urlsplit(store_url)
    path = parts.path.rstrip("/")
    for gsp, query in QUERY_PATHS:
        if path.endswith(gsp):
            return urlunsplit((parts.scheme, parts.netloc, path[: -len(gsp)] + query, "", ""))
    return store_url


def list_graphs(query: Endpoint, prefix: str) -> set[str]:
    """The names of the graphs whose IRI starts with `prefix`, by SPARQL on the query endpoint
    `query`: how many there are, then all of them in one answer; if a server's row cap cut
    that answer (Virtuoso's ResultSetMaxRows), page by page in IRI order, `LIST_PAGE` names
    after the last one.

    `GRAPH ?g {}` lists a store's graphs without reading their triples (Oxigraph, Jena);
    Virtuoso answers it with nothing at all. When it finds no graph at all, the graphs are
    found by reading the triples, `GRAPH ?g { ?s ?p ?o }` (on a store without named
    graphs, that reads nothing).
    """
    pattern = "" if _column(query, "SELECT ?g WHERE { GRAPH ?g {} } LIMIT 1", "g") else "?s ?p ?o"
    where = f"GRAPH ?g {{ {pattern} }} FILTER (STRSTARTS(STR(?g), {pyoxigraph.Literal(prefix)})"
    counted = _column(query, f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ {where}) }}", "n")
    total = int(counted[0]) if counted and counted[0].isdigit() else 0
    found = set(_column(query, f"SELECT DISTINCT ?g WHERE {{ {where}) }}", "g"))
    after = ""
    while len(found) < total:
        text = (
            f"SELECT DISTINCT ?g WHERE {{ {where} && STR(?g) > {pyoxigraph.Literal(after)}) }} "
            f"ORDER BY STR(?g) LIMIT {LIST_PAGE}"
        )
        page = [g for g in _column(query, text, "g") if g > after]
        if not page:
            break
        found.update(page)
        after = max(page)
    return found


def _column(query: Endpoint, text: str, name: str) -> list[str]:
    """The values of one variable in a query's answer (IRIs and literals)."""
    url = query.display_url
    hint = "; name the store's SPARQL query endpoint with --query-endpoint"
    try:
        content_type, body = query.query(text)
    except RemoteError as exc:
        why = f"cannot list the store's graphs to check its sync state: {exc}"
        raise RemoteError(why + hint) from None
    media = content_type.split(";")[0].strip().lower()
    fmt = pyoxigraph.QueryResultsFormat.from_media_type(media) if media else None
    try:
        results = pyoxigraph.parse_query_results(body, format=fmt or pyoxigraph.QueryResultsFormat.JSON)
        if not isinstance(results, pyoxigraph.QuerySolutions):
            raise ValueError("not a table of results")
        values = (row[name] for row in results)
        return [v.value for v in values if isinstance(v, pyoxigraph.NamedNode | pyoxigraph.Literal)]
    except (SyntaxError, ValueError) as exc:
        raise RemoteError(f"POST {url}: listing the store's graphs: unreadable: {exc}{hint}") from None
