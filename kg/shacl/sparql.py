"""SPARQL-based constraints (`sh:sparql`) in the fast engine: which it runs, and running them.

A constraint is compiled only when running its query once, set-based, over every focus node
gives what SHACL's pre-binding of `$this` gives (`_set_based_problem`); the others are left to
the reference engine. Each query then runs once over an Oxigraph store holding only the
triples whose predicates the queries name (`sparql_predicates`, `needed_lines`), and its rows
are kept for the shape's focus nodes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pyoxigraph
from rdflib import Graph, Literal
from rdflib.namespace import OWL, SH

from kg.rdf.terms import Lit, Object, Triple, nt_line, nt_object
from kg.shacl.model import (
    RDF_LANGSTRING,
    RDF_TYPE,
    RDFS_SUBCLASS,
    CompiledShapes,
    Result,
    Shape,
    SparqlConstraint,
    UnsupportedShape,
    walk,
)
from kg.shacl.terms import TRUE, node_text
from kg.sparql.binding import QueryError, lex

_EMPTY = pyoxigraph.Store()  # parses (and runs, on nothing) each query once at compile time
_SPARQL_COMPONENT = str(SH.SPARQLConstraintComponent)

# ---------------------------------------------------------------------- compiling


def sparql_constraints(g: Graph, node: Any, shape: Shape) -> list[SparqlConstraint]:
    """The active `sh:sparql` constraints of shape `node`, each query ready to run set-based
    (prefixes prepended, `$PATH` replaced); UnsupportedShape for any other."""
    found = []
    for constraint in sorted(g.objects(node, SH.sparql), key=str):
        if TRUE in set(g.objects(constraint, SH.deactivated)):
            continue
        selects = list(g.objects(constraint, SH.select))
        if len(selects) != 1 or not isinstance(selects[0], Literal):
            raise UnsupportedShape(f"{shape.iri}: only SELECT-based SPARQL constraints are supported")
        query = str(selects[0])
        reason = _set_based_problem(query)
        if reason:
            raise UnsupportedShape(f"{shape.iri}: SPARQL constraint {reason}")
        if shape.path is not None:
            query = re.sub(r"\$PATH\b", f"<{shape.path}>", query)
        elif "$PATH" in query:
            raise UnsupportedShape(f"{shape.iri}: $PATH in a node shape's SPARQL constraint")
        cmsg = g.value(constraint, SH.message)
        query = _prefixes(g, constraint) + query
        try:
            _EMPTY.query(query)
        except (SyntaxError, ValueError, OSError) as exc:
            raise UnsupportedShape(f"{shape.iri}: the SPARQL query cannot be parsed: {exc}") from None
        found.append(SparqlConstraint(node_text(constraint), query, str(cmsg) if cmsg else None))
    return found


def _prefixes(g: Graph, constraint: Any) -> str:
    """PREFIX lines of the constraint's sh:prefixes, following owl:imports in the shapes graph."""
    lines = []
    todo = list(g.objects(constraint, SH.prefixes))
    declarers = []
    while todo:
        declarer = todo.pop()
        if declarer in declarers:
            continue
        declarers.append(declarer)
        todo.extend(g.objects(declarer, OWL.imports))
    for declarer in declarers:
        for decl in g.objects(declarer, SH.declare):
            prefix, ns = g.value(decl, SH.prefix), g.value(decl, SH.namespace)
            if prefix is None or ns is None or not re.fullmatch(r"[A-Za-z][\w\-.]*|", str(prefix)):
                raise UnsupportedShape(f"{node_text(constraint)}: a malformed sh:declare")
            lines.append(f"PREFIX {prefix}: <{ns}>\n")
    return "".join(lines)


_SET_BASED_FORBIDDEN = {
    "OPTIONAL",
    "UNION",
    "MINUS",
    "VALUES",
    "BIND",
    "SERVICE",
    "GRAPH",
    "EXISTS",
    "NOT",
    "FROM",
    "GROUP",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "AS",
    "COUNT",
    "SUM",
    "MIN",
    "MAX",
    "AVG",
    "SAMPLE",
    "GROUP_CONCAT",
    "ASK",
    "CONSTRUCT",
    "DESCRIBE",
}


def _set_based_problem(query: str) -> str | None:
    """Why the query cannot run once for all focus nodes (None: it can).

    Running `SELECT $this ... WHERE { BGP FILTER* }` once, unbound, and keeping the rows whose
    ?this is a focus node gives exactly what SHACL's pre-binding gives when $this occurs in a
    triple pattern of that single group: the filters see the same solutions. Anything else
    (nested groups, OPTIONAL, EXISTS, a $this only in a FILTER, other pre-bound variables) is
    left to the reference engine.
    """
    try:
        toks = [(kind, text) for _, kind, text in lex(query)]
    except QueryError as exc:
        return f"that cannot be parsed: {exc}"
    words = [text.upper() if kind == "word" else text for kind, text in toks]
    if words.count("SELECT") != 1:
        return "with a subquery"
    bad = sorted(_SET_BASED_FORBIDDEN.intersection(words))
    if bad:
        return f"using {', '.join(bad)}"
    if words.count("{") != 1 or words.count("}") != 1 or "[" in words:
        return "with nested groups or blank-node property lists"
    if any(t[0] == "var" and t[1][1:] in ("shapesGraph", "currentShape") for t in toks):
        return "using $shapesGraph or $currentShape"
    select = words.index("SELECT")
    brace = words.index("{")
    projection = [t for t in toks[select + 1 : brace] if t[0] == "var" or t[1] == "*"]
    if not any(t[1] == "*" or t[1][1:] == "this" for t in projection):
        return "that does not select $this"
    # $this in a triple pattern: outside every FILTER(...) of the group
    body = toks[brace + 1 :]
    depth = 0
    in_filter = False
    outside = False
    for i, (kind, text) in enumerate(body):
        if kind == "word" and text.upper() == "FILTER" and depth == 0:
            in_filter = True
            continue
        if in_filter:
            if text == "(":
                depth += 1
            elif text == ")":
                depth -= 1
                if depth == 0:
                    in_filter = False
            continue
        if kind == "var" and text[1:] == "this":
            outside = True
        del i
    if not outside:
        return "where $this is not in a triple pattern"
    return None


def _variable_predicate(query: str) -> bool:
    """Whether a triple pattern of a set-based query (`_set_based_problem` is None) has a
    variable predicate: then it reads every triple, not those of the predicates it names."""
    toks = [(kind, text) for _, kind, text in lex(query)]
    start = next(i for i, t in enumerate(toks) if t[1] == "{")
    position = 0  # 0 subject, 1 predicate, 2 object
    depth = 0  # inside FILTER ( ... )
    in_filter = False
    skip = False  # the datatype after ^^
    for kind, text in toks[start + 1 :]:
        if in_filter:
            depth += {"(": 1, ")": -1}.get(text, 0)
            in_filter = depth > 0
            continue
        if kind == "word" and text.upper() == "FILTER":
            in_filter = True
            continue
        if skip:
            skip = text == "^"
            continue
        if text == "^":
            skip = True
        elif kind == "langtag":  # part of the literal before it
            continue
        elif text == ".":
            position = 0
        elif text == ";":
            position = 1
        elif text == ",":
            position = 2
        elif text == "}":
            break
        else:
            if position == 1 and kind == "var":
                return True
            position = min(position + 1, 2)
    return False


def sparql_predicates(targeted: list[Shape]) -> frozenset[str]:
    """The predicates whose triples the SPARQL constraints read (`{"*"}`: every triple)."""
    predicates: set[str] | None = {RDF_TYPE, RDFS_SUBCLASS}
    for shape in walk(targeted):
        for constraint in shape.sparql:
            found = None if _variable_predicate(constraint.query) else _query_predicates(constraint.query)
            if found is None:
                predicates = None
            elif predicates is not None:
                predicates |= found
    return frozenset(predicates) if predicates is not None else frozenset({"*"})


_IRI_IN_QUERY = re.compile(r"<([^<>\s]+)>|\b([A-Za-z][\w\-]*)?:([\w\-]+)")
_PREFIX_DECL = re.compile(r"PREFIX\s+([\w\-]*):\s*<([^>]+)>", re.I)


def _query_predicates(query: str) -> set[str] | None:
    """Every IRI the query names (None: it uses a variable predicate, so it needs every triple)."""
    prefixes = dict(_PREFIX_DECL.findall(query))
    found = set()
    for iri, prefix, local in _IRI_IN_QUERY.findall(query):
        if iri:
            found.add(iri)
        elif (prefix or "") in prefixes:
            found.add(prefixes[prefix or ""] + local)
    return found


# ---------------------------------------------------------------------- running


def _nt(triple: Triple) -> str:
    """One N-Triples line; subjects and objects may be blank nodes (`_:x`)."""
    s, p, o = triple
    subject = s if s.startswith("_:") else f"<{s}>"
    obj = o if isinstance(o, str) and o.startswith("_:") else nt_object(o)
    return f"{subject} <{p}> {obj} .\n"


def needed_lines(triples: Iterable[Triple], wanted: frozenset[str]) -> list[str]:
    """N-Triples lines of the triples the SPARQL constraints read."""
    # an IRI never starts with "_" (it starts with its scheme): only blank nodes need _nt
    return [
        _nt(t) if t[0][0] == "_" or (isinstance(t[2], str) and t[2][0] == "_") else nt_line(t)
        for t in triples
        if t[1] in wanted or "*" in wanted
    ]


def run_sparql_constraints(
    compiled: CompiledShapes,
    nt_lines: list[str],
    deferred: Iterable[tuple[int, Object]],
    whole_graph: bool = False,
) -> list[Result]:
    """Run each SPARQL constraint once over the needed triples; keep rows for focus nodes.

    Focus nodes come from `deferred`, the (shape number, node) pairs found elsewhere, and, in
    the export pipeline (not `whole_graph`), also from the store (targetClass, targetNode).
    Only queries for which this equals SHACL's pre-binding are compiled (`_set_based_problem`).
    """
    roots = [(n, root) for n, root in enumerate(compiled.targeted) if any(s.sparql for s in walk([root]))]
    if not roots:
        return []
    store = _store_of(nt_lines)
    type_index = _type_index(store)
    found_elsewhere: dict[int, set[Object]] = defaultdict(set)
    for number, node in deferred:
        found_elsewhere[number].add(node)
    results: list[Result] = []
    for number, root in roots:
        focus = found_elsewhere[number]
        if not whole_graph:
            focus = focus | _focus_from_store(root, store, type_index)
        for shape in walk([root]):
            if shape.deactivated:
                continue
            # the root or one of its property shapes (see kg.shacl.compile): the root's focus nodes
            for constraint in shape.sparql:
                results.extend(_constraint_results(store, shape, constraint, focus))
    return results


def _store_of(nt_lines: list[str]) -> pyoxigraph.Store:
    """An Oxigraph store of the lines (each once), blank nodes keeping their labels."""
    store = pyoxigraph.Store()
    try:
        unique = list(dict.fromkeys(nt_lines))
        plain = "".join(line for line in unique if "_:" not in line)
        blank = "".join(line for line in unique if "_:" in line)
        store.bulk_load(plain.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
        if blank:  # bulk_load renames blank nodes; parse + extend keeps their labels
            store.extend(
                pyoxigraph.Quad(q.subject, q.predicate, q.object)
                for q in pyoxigraph.parse(blank.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
            )
    except (SyntaxError, ValueError) as exc:
        raise UnsupportedShape(f"the data cannot be loaded for the SPARQL constraints: {exc}") from exc
    return store


def _constraint_results(
    store: pyoxigraph.Store, shape: Shape, constraint: SparqlConstraint, focus: set[Object]
) -> list[Result]:
    """The results of one constraint's rows whose $this is one of the focus nodes."""
    try:
        rows = store.query(constraint.query)
    except (SyntaxError, ValueError, OSError) as exc:
        raise UnsupportedShape(f"{constraint.iri}: the query cannot be run: {exc}") from exc
    if not isinstance(rows, pyoxigraph.QuerySolutions):
        raise UnsupportedShape(f"{constraint.iri}: sh:select must be a SELECT query")
    results = []
    for row in rows:
        if not _bound(row, "this"):
            continue
        this = _from_ox(row["this"])
        if this not in focus:
            continue
        value = _from_ox(row["value"]) if _bound(row, "value") else (this if shape.path is None else None)
        path = _from_ox(row["path"]) if _bound(row, "path") else shape.path
        message = _fill(constraint.message or shape.message, row)
        results.append(
            Result(
                this,
                path if isinstance(path, str) and not path.startswith("_:") else None,
                value,
                _SPARQL_COMPONENT,
                shape.iri,
                shape.severity,
                message,
            )
        )
    return results


def _bound(row: Any, name: str) -> bool:
    try:
        return row[name] is not None
    except (KeyError, IndexError):
        return False


def _fill(message: str | None, row: Any) -> str | None:
    if message is None:
        return None

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if _bound(row, name):
            term = row[name]
            return term.value if hasattr(term, "value") else str(term)
        return match.group(0)

    return re.sub(r"\{[?$](\w+)\}", sub, message)


def _type_index(store: pyoxigraph.Store) -> dict[str, set[str]]:
    types: dict[str, set[str]] = defaultdict(set)
    for quad in store.quads_for_pattern(None, pyoxigraph.NamedNode(RDF_TYPE), None):
        if isinstance(quad.object, pyoxigraph.NamedNode) and isinstance(quad.subject, pyoxigraph.NamedNode):
            types[quad.object.value].add(quad.subject.value)
    return types


def _focus_from_store(shape: Shape, store: pyoxigraph.Store, types: dict[str, set[str]]) -> set[Object]:
    nodes: set[Object] = set(shape.target_nodes)
    for cls in shape.target_classes:
        nodes |= types.get(cls, set())
        subclass_of = pyoxigraph.NamedNode(RDFS_SUBCLASS)
        for quad in store.quads_for_pattern(None, subclass_of, pyoxigraph.NamedNode(cls)):
            if isinstance(quad.subject, pyoxigraph.NamedNode):
                nodes |= types.get(quad.subject.value, set())
    return nodes


def _from_ox(term: Any) -> Object:
    if isinstance(term, pyoxigraph.NamedNode):
        return term.value
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Lit(term.value, RDF_LANGSTRING, term.language)
        return Lit(term.value, term.datatype.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return f"_:{term.value}"
    return str(term)
