"""What SHACL-SPARQL allows in a query, checked before any engine runs it.

SHACL (section 5.2.1 and Appendix A, pre-binding) forbids in constraint and validator queries:
`MINUS`, `VALUES`, federated queries (`SERVICE`), `AS ?var` for a pre-bound variable, and
subqueries that do not return the pre-bound variables. kg also refuses dataset clauses
(`FROM`, `FROM NAMED`): with `SERVICE` they are how a query would reach a network, and
validating local data never fetches anything. Every engine (fast, pySHACL, auto) refuses such
shapes graphs (exit 2) instead of running them: pySHACL would die on an AssertionError or,
for `SERVICE`, send a request.

The check reads the query's tokens (`kg.sparql.binding.lex`, the one scanner of query text),
so a keyword inside a string, comment, IRI, prefixed name or language tag (`"values"`,
`ex:SERVICE`, `"x"@service`) is not a keyword.
"""

from __future__ import annotations

from collections.abc import Iterator

from rdflib import Graph, Literal
from rdflib.namespace import SH

from kg.errors import bounded
from kg.sparql.binding import QueryError, lex

#: Variables pre-bound in every SHACL-SPARQL query.
PRE_BOUND = frozenset({"this", "shapesGraph", "currentShape"})


def problems(query: str, pre_bound: frozenset[str] = PRE_BOUND) -> list[str]:
    """Why SHACL (or kg, for network access) refuses `query`; empty when it is allowed."""
    try:
        toks = list(lex(query))
    except QueryError as exc:  # no engine could parse it either
        return [f"{exc} (it cannot be parsed)"]
    words = [t.text.upper() if t.kind == "word" else t.text for t in toks]
    found = []
    if "SERVICE" in words:
        found.append("SERVICE (a federated query would send requests over the network)")
    if "FROM" in words:
        found.append("FROM (a dataset clause may load graphs over the network)")
    for keyword in ("MINUS", "VALUES"):
        if keyword in words:
            found.append(f"{keyword} (not allowed in SHACL-SPARQL)")
    for i, word in enumerate(words[:-1]):
        after = toks[i + 1]
        if word == "AS" and after.kind == "var" and after.text[1:] in pre_bound:
            found.append(f"AS {after.text} (binds a pre-bound variable)")
    selects = [i for i, w in enumerate(words) if w == "SELECT"]
    for i in selects[1:]:  # subqueries must return the pre-bound variables they may see
        projected = set()
        star = False
        for _, kind, text in toks[i + 1 :]:
            if text == "{" or (kind == "word" and text.upper() == "WHERE"):
                break
            if kind == "var":
                projected.add(text[1:])
            star = star or text == "*"
        if "this" not in projected:
            found.append("a subquery that does not return $this" + (" (SELECT *)" if star else ""))
    return found


def _queries(shapes: Graph) -> Iterator[tuple[str, frozenset[str]]]:
    """Every sh:select / sh:ask text in the shapes graph, with its pre-bound variables."""
    for predicate in (SH.select, SH.ask):
        for node, text in shapes.subject_objects(predicate):
            if not isinstance(text, Literal):
                continue
            pre_bound = PRE_BOUND
            validator = predicate == SH.ask or any(
                True
                for p in (SH.validator, SH.nodeValidator, SH.propertyValidator)
                for _ in shapes.subjects(p, node)
            )
            if validator:  # a constraint component's validator: $value and its parameters too
                names = {"value", "PATH"}
                for component in shapes.subjects(None, node):
                    for parameter in shapes.objects(component, SH.parameter):
                        path = shapes.value(parameter, SH.path)
                        if path is not None:
                            names.add(str(path).rsplit("#", 1)[-1].rsplit("/", 1)[-1])
                pre_bound = pre_bound | names
            yield str(text), pre_bound


def check_shapes(shapes: Graph) -> None:
    """Raise ValueError naming every query of `shapes` that SHACL or kg refuses."""
    found = []
    for text, pre_bound in _queries(shapes):
        for problem in problems(text, pre_bound):
            found.append(f"{problem} in the query {bounded(' '.join(text.split()))}")
    if found:
        raise ValueError("; ".join(sorted(set(found))))
