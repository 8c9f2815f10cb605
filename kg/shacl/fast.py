"""A fast SHACL engine for kg's graphs, checked against pySHACL (the reference) by the tests.

Why: pySHACL evaluates node by node over one big rdflib graph and costs as much as the whole
export; it cannot run in parallel. kg's graphs have a property that makes validation cheap:
each curation's named graph is self-contained (it holds the curation, its own nodes and the
descriptions of the shared nodes it links to). So:

- focus nodes owned by a curation (its node, source article, images, graph) are validated in
  the worker that built the curation, against that curation's triples only;
- focus nodes shared between curations (topics, schemes, brands, persons, communities,
  classes) are validated once, in the parent, against the merged shared triples;
- SPARQL-based constraints (`sh:sparql`) run once, set-based, over an Oxigraph store holding
  only the triples whose predicates the queries mention; their rows are kept for the shape's
  focus nodes.

The engine interprets the shapes graph (no shape is hard-coded). It evaluates exactly the SHACL
Core components with IRI paths (literal values by XSD semantics, `kg.shacl.xsd`) and SPARQL
constraints whose set-based run equals SHACL's pre-binding; a shape using anything else (a
complex path, other SPARQL, SPARQL-based components, SHACL-AF targets) is unsupported:
`compile_shapes` raises `UnsupportedShape` (the export pipeline), `fast_engine` refuses (exit
2), and `auto_engine`, the default of `kg validate`, evaluates just those shapes with pySHACL on
the same data and names them in the report. With kg's own shapes nothing goes to pySHACL.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD

from kg.rdf.terms import XSD_STRING, Lit, Object, Triple, nt_line, nt_object
from kg.shacl.xsd import COMPARABLE_TYPES, compare, well_formed
from kg.sparql.check import tokens

RDF_TYPE = str(RDF.type)
RDFS_SUBCLASS = str(RDFS.subClassOf)
RDF_LANGSTRING = str(RDF.langString)
VIOLATION = str(SH.Violation)
_TRUE = Literal("true", datatype=XSD.boolean)


class UnsupportedShape(ValueError):
    """The shapes use a feature the fast engine does not implement (exactly)."""


@dataclass(frozen=True, slots=True)
class Result:
    """One validation result, in the same terms pySHACL's report gives."""

    focus: Object
    path: str | None
    value: Object | None
    component: str
    shape: str
    severity: str
    message: str | None


@dataclass(eq=False, slots=True)
class Shape:
    iri: str
    path: str | None = None
    is_property: bool = False
    deactivated: bool = False
    severity: str = VIOLATION
    message: str | None = None
    constraints: list[tuple[str, Any, str]] = field(default_factory=list)  # name, parameter, component
    properties: list[Shape] = field(default_factory=list)
    target_classes: list[str] = field(default_factory=list)
    target_objects_of: list[str] = field(default_factory=list)
    target_subjects_of: list[str] = field(default_factory=list)
    target_nodes: list[Object] = field(default_factory=list)
    sparql: list[SparqlConstraint] = field(default_factory=list)
    #: per constraint, a value-node test (None: the constraint looks at all values at once)
    checks: list[Callable[[Object, Index], bool] | None] = field(default_factory=list)

    @property
    def has_targets(self) -> bool:
        return bool(
            self.target_classes or self.target_objects_of or self.target_subjects_of or self.target_nodes
        )


@dataclass(slots=True)
class SparqlConstraint:
    iri: str
    query: str
    message: str | None


#: Constraint parameters the fast engine evaluates exactly (SHACL Core, IRI paths).
_CORE = {
    str(SH[name])
    for name in [
        "class",
        "datatype",
        "nodeKind",
        "minCount",
        "maxCount",
        "minExclusive",
        "minInclusive",
        "maxExclusive",
        "maxInclusive",
        "minLength",
        "maxLength",
        "pattern",
        "languageIn",
        "uniqueLang",
        "in",
        "hasValue",
        "equals",
        "disjoint",
        "lessThan",
        "lessThanOrEquals",
        "or",
        "and",
        "not",
        "xone",
        "node",
        "qualifiedValueShape",
        "closed",
    ]
}
#: Predicates that are not constraints of their own (read with the constraint that uses them).
_IGNORED = {
    str(SH[name])
    for name in [
        "message",
        "severity",
        "path",
        "property",
        "targetClass",
        "targetObjectsOf",
        "targetSubjectsOf",
        "targetNode",
        "flags",
        "qualifiedMinCount",
        "qualifiedMaxCount",
        "qualifiedValueShapesDisjoint",
        "ignoredProperties",
        "name",
        "description",
        "order",
        "group",
        "deactivated",
        "sparql",
        "prefixes",
        "declare",
        "select",
        "defaultValue",
    ]
}
_SH = str(SH)
_PROPERTY_ONLY = {"minCount", "maxCount", "uniqueLang", "qualifiedValueShape"}
_SHAPE_TYPES = (SH.NodeShape, SH.PropertyShape)


def _term(node: Any) -> Object:
    if isinstance(node, URIRef):
        return str(node)
    if isinstance(node, Literal):
        if node.language:
            return Lit(str(node), RDF_LANGSTRING, node.language)
        return Lit(str(node), str(node.datatype or XSD_STRING))
    raise UnsupportedShape(f"blank node value {node!r} in a shape parameter")


def _node_text(node: Any) -> str:
    return f"_:{node}" if isinstance(node, BNode) else str(node)


def _list(g: Graph, head: Any, what: str) -> list[Any]:
    """The members of a well-formed RDF list (a malformed one is not handled exactly)."""
    items = []
    seen = set()
    node = head
    while node != RDF.nil:
        if (
            node in seen
            or len(list(g.objects(node, RDF.first))) != 1
            or len(list(g.objects(node, RDF.rest))) != 1
        ):
            raise UnsupportedShape(f"{what} is not a well-formed RDF list")
        seen.add(node)
        items.append(g.value(node, RDF.first))
        node = g.value(node, RDF.rest)
    return items


class ShapesCompiler:
    """Turns an rdflib shapes graph into `Shape` objects (each shape compiled once).

    A shape using anything the fast engine does not evaluate exactly raises UnsupportedShape
    (its whole closure: sh:node, sh:property, sh:or/and/xone/not, sh:qualifiedValueShape).
    """

    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.shapes: dict[Any, Shape] = {}
        self.failed: dict[Any, str] = {}
        self._active: list[Any] = []
        # parameters of SPARQL-based constraint components declared in the shapes graph: a
        # shape using one is not for the fast engine
        self.custom_parameters = {
            str(path)
            for parameter in graph.objects(None, SH.parameter)
            for path in graph.objects(parameter, SH.path)
        }

    def shape(self, node: Any) -> Shape:
        if node in self.failed:
            raise UnsupportedShape(self.failed[node])
        if node in self._active:  # a recursive shape: SHACL leaves its meaning open
            raise UnsupportedShape(f"{_node_text(node)}: recursive shape")
        if node in self.shapes:
            return self.shapes[node]
        self._active.append(node)
        try:
            shape = self._compile(node)
        except (UnsupportedShape, re.error, ValueError, TypeError) as exc:
            reason = str(exc) if isinstance(exc, UnsupportedShape) else f"{_node_text(node)}: {exc}"
            self.failed[node] = reason
            raise UnsupportedShape(reason) from exc
        finally:
            self._active.pop()
        self.shapes[node] = shape
        return shape

    def _compile(self, node: Any) -> Shape:
        g = self.g
        iri = _node_text(node)
        shape = Shape(iri)
        if isinstance(node, Literal):
            raise UnsupportedShape(f"{iri}: a literal used as a shape")
        paths = list(g.objects(node, SH.path))
        if len(paths) > 1:
            raise UnsupportedShape(f"{iri}: several sh:path values")
        if paths:
            if not isinstance(paths[0], URIRef):
                raise UnsupportedShape(f"{iri}: only IRI paths are evaluated by the fast engine")
            shape.path = str(paths[0])
            shape.is_property = True
        deactivated = list(g.objects(node, SH.deactivated))
        shape.deactivated = _TRUE in deactivated
        severities = list(g.objects(node, SH.severity))
        if len(severities) > 1 or (severities and not isinstance(severities[0], URIRef)):
            raise UnsupportedShape(f"{iri}: sh:severity must be one IRI")
        if severities:
            shape.severity = str(severities[0])
        message = g.value(node, SH.message)
        shape.message = str(message) if message is not None else None
        shape.target_classes = [str(c) for c in g.objects(node, SH.targetClass) if isinstance(c, URIRef)]
        if any(not isinstance(c, URIRef) for c in g.objects(node, SH.targetClass)):
            raise UnsupportedShape(f"{iri}: sh:targetClass must be an IRI")
        if (node, RDF.type, RDFS.Class) in g and any((node, RDF.type, t) in g for t in _SHAPE_TYPES):
            if not isinstance(node, URIRef):
                raise UnsupportedShape(f"{iri}: implicit class target on a blank node")
            shape.target_classes.append(str(node))
        shape.target_objects_of = [str(p) for p in g.objects(node, SH.targetObjectsOf)]
        shape.target_subjects_of = [str(p) for p in g.objects(node, SH.targetSubjectsOf)]
        for target in g.objects(node, SH.targetNode):
            shape.target_nodes.append(_from_rdflib(target))
        for p, o in sorted(g.predicate_objects(node), key=lambda po: (str(po[0]), str(po[1]))):
            key = str(p)
            if key in _CORE:
                name = key.rsplit("#", 1)[1]
                if name in _PROPERTY_ONLY and not shape.is_property:
                    raise UnsupportedShape(f"{iri}: sh:{name} on a node shape")
                param = self._parameter(node, key, o, shape)
                if param is _SKIP:
                    continue
                shape.constraints.append((name, param, _component_iri(key)))
            elif key.startswith(_SH) and key not in _IGNORED:
                raise UnsupportedShape(f"{iri}: {key} is not evaluated by the fast engine")
            elif key in self.custom_parameters:
                raise UnsupportedShape(f"{iri}: {key} is a parameter of a SPARQL-based constraint component")
        shape.constraints.sort(key=lambda c: c[0])
        shape.checks = [_make_check(name, param) for name, param, _ in shape.constraints]
        shape.properties = [self.shape(p) for p in sorted(g.objects(node, SH.property), key=str)]
        for constraint in sorted(g.objects(node, SH.sparql), key=str):
            if _TRUE in set(g.objects(constraint, SH.deactivated)):
                continue
            selects = list(g.objects(constraint, SH.select))
            if len(selects) != 1 or not isinstance(selects[0], Literal):
                raise UnsupportedShape(f"{iri}: only SELECT-based SPARQL constraints are supported")
            query = str(selects[0])
            reason = _set_based_problem(query)
            if reason:
                raise UnsupportedShape(f"{iri}: SPARQL constraint {reason}")
            if shape.path is not None:
                query = re.sub(r"\$PATH\b", f"<{shape.path}>", query)
            elif "$PATH" in query:
                raise UnsupportedShape(f"{iri}: $PATH in a node shape's SPARQL constraint")
            cmsg = g.value(constraint, SH.message)
            query = self._prefixes(constraint) + query
            try:
                _EMPTY.query(query)
            except (SyntaxError, ValueError, OSError) as exc:
                raise UnsupportedShape(f"{iri}: the SPARQL query cannot be parsed: {exc}") from None
            shape.sparql.append(SparqlConstraint(_node_text(constraint), query, str(cmsg) if cmsg else None))
        return shape

    def _prefixes(self, constraint: Any) -> str:
        """PREFIX lines of the constraint's sh:prefixes, following owl:imports in the shapes graph."""
        lines = []
        todo = list(self.g.objects(constraint, SH.prefixes))
        declarers = []
        while todo:
            declarer = todo.pop()
            if declarer in declarers:
                continue
            declarers.append(declarer)
            todo.extend(self.g.objects(declarer, OWL.imports))
        for declarer in declarers:
            for decl in self.g.objects(declarer, SH.declare):
                prefix, ns = self.g.value(decl, SH.prefix), self.g.value(decl, SH.namespace)
                if prefix is None or ns is None or not re.fullmatch(r"[A-Za-z][\w\-.]*|", str(prefix)):
                    raise UnsupportedShape(f"{_node_text(constraint)}: a malformed sh:declare")
                lines.append(f"PREFIX {prefix}: <{ns}>\n")
        return "".join(lines)

    def _parameter(self, node: Any, key: str, value: Any, shape: Shape) -> Any:
        g = self.g
        name = key.rsplit("#", 1)[1]
        if len(list(g.objects(node, URIRef(key)))) > 1 and name in _SINGLE_VALUED:
            raise UnsupportedShape(f"{shape.iri}: several sh:{name} values")
        if name in ("or", "and", "xone"):
            return [self.shape(member) for member in _list(g, value, f"{shape.iri} sh:{name}")]
        if name in ("not", "node"):
            return self.shape(value)
        if name == "qualifiedValueShape":
            low = list(g.objects(node, SH.qualifiedMinCount))
            high = list(g.objects(node, SH.qualifiedMaxCount))
            bounds = [_integer(b, shape.iri, "qualified count") for b in low + high]
            if len(low) > 1 or len(high) > 1:
                raise UnsupportedShape(f"{shape.iri}: several qualified counts")
            disjoint = list(g.objects(node, SH.qualifiedValueShapesDisjoint))
            siblings: list[Shape] = []
            if _TRUE in disjoint:
                for parent in g.subjects(SH.property, node):
                    for sibling in g.objects(parent, SH.property):
                        for q in g.objects(sibling, SH.qualifiedValueShape):
                            if q != value:
                                siblings.append(self.shape(q))
            return (
                self.shape(value),
                bounds[0] if low else None,
                bounds[-1] if high else None,
                siblings,
            )
        if name == "in":
            return [_from_rdflib(member) for member in _list(g, value, f"{shape.iri} sh:in")]
        if name == "languageIn":
            tags = _list(g, value, f"{shape.iri} sh:languageIn")
            if not all(isinstance(t, Literal) and not t.language for t in tags):
                raise UnsupportedShape(f"{shape.iri}: sh:languageIn must list strings")
            return [str(t).lower() for t in tags]
        if name == "pattern":
            flags = list(g.objects(node, SH.flags))
            if len(flags) > 1 or not isinstance(value, Literal):
                raise UnsupportedShape(f"{shape.iri}: sh:pattern with several flags or not a string")
            text = str(flags[0]) if flags else ""
            bits = 0
            for flag in text:
                bit = {"i": re.I, "s": re.S, "m": re.M, "x": re.X}.get(flag)
                if bit is None:
                    raise UnsupportedShape(f"{shape.iri}: sh:flags {text!r}")
                bits |= bit
            return re.compile(str(value), bits)
        if name in ("minCount", "maxCount", "minLength", "maxLength"):
            return _integer(value, shape.iri, f"sh:{name}")
        if name in ("uniqueLang", "closed"):
            # only the literal true activates them; any other value (false, "1"^^xsd:boolean) does not
            if not (value == _TRUE and str(value) == "true"):
                return _SKIP
            if name == "uniqueLang":
                return True
            allowed = set()
            for prop in g.objects(node, SH.property):
                for path in g.objects(prop, SH.path):
                    if isinstance(path, URIRef):
                        allowed.add(str(path))
            for ignored in g.objects(node, SH.ignoredProperties):
                allowed.update(str(p) for p in _list(g, ignored, f"{shape.iri} sh:ignoredProperties"))
            return frozenset(allowed)
        if name in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
            if not isinstance(value, URIRef):
                raise UnsupportedShape(f"{shape.iri}: sh:{name} must be an IRI")
            return str(value)
        if name in ("minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
            bound = _term(value)
            if not isinstance(bound, Lit) or bound.datatype not in COMPARABLE_TYPES:
                raise UnsupportedShape(f"{shape.iri}: sh:{name} {value!r} is not compared by the fast engine")
            return bound
        if name == "nodeKind":
            if value not in _NODE_KINDS:
                raise UnsupportedShape(f"{shape.iri}: unknown sh:nodeKind {value!r}")
            return str(value)
        if name in ("class", "datatype"):
            if not isinstance(value, URIRef):
                raise UnsupportedShape(f"{shape.iri}: sh:{name} must be an IRI")
            return str(value)
        return _from_rdflib(value)


#: Parameters SHACL allows once per shape: a shape with two is ill-formed (pySHACL refuses it).
_SINGLE_VALUED = {
    "datatype", "nodeKind", "minCount", "maxCount", "minExclusive", "minInclusive", "maxExclusive",
    "maxInclusive", "minLength", "maxLength", "pattern", "languageIn", "uniqueLang", "in", "closed",
    "qualifiedValueShape",
}  # fmt: skip
_SKIP = object()
_NONE: list[Object] = []  # no values (never mutated)
_EMPTY = pyoxigraph.Store()  # parses (and runs, on nothing) each query once at compile time
_NODE_KINDS = {SH.IRI, SH.Literal, SH.BlankNode, SH.BlankNodeOrIRI, SH.IRIOrLiteral, SH.BlankNodeOrLiteral}


def _integer(value: Any, iri: str, what: str) -> int:
    if (
        not isinstance(value, Literal)
        or value.datatype != XSD.integer
        or not re.fullmatch(r"[+-]?\d+", str(value))
    ):
        raise UnsupportedShape(f"{iri}: {what} must be an xsd:integer, not {value!r}")
    return int(str(value))


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
    toks = tokens(query)
    words = [t[1].upper() if t[0] == "word" else t[1] for t in toks]
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
    toks = tokens(query)
    start = next(i for i, t in enumerate(toks) if t[1] == "{")
    position = 0  # 0 subject, 1 predicate, 2 object
    depth = 0  # inside FILTER ( ... )
    in_filter = False
    skip = False  # the datatype IRI or language tag after ^^ / @
    for kind, text in toks[start + 1 :]:
        if in_filter:
            depth += {"(": 1, ")": -1}.get(text, 0)
            in_filter = depth > 0
            continue
        if kind == "word" and text.upper() == "FILTER":
            in_filter = True
            continue
        if skip:
            skip = text in ("^", "@")
            continue
        if text in ("^", "@"):
            skip = True
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


@dataclass(slots=True)
class CompiledShapes:
    """All shapes with targets, and the predicates the SPARQL constraints read."""

    targeted: list[Shape]
    sparql_predicates: frozenset[str]
    #: shapes with targets the fast engine cannot evaluate exactly -> why (compile_split only)
    unsupported: dict[str, str] = field(default_factory=dict)
    #: their shapes-graph nodes, for the reference engine
    unsupported_nodes: list[Any] = field(default_factory=list)
    supported_nodes: list[Any] = field(default_factory=list)


def _walk(shapes: Iterable[Shape]) -> Iterator[Shape]:
    seen: set[int] = set()
    stack = list(shapes)
    while stack:
        shape = stack.pop()
        if id(shape) in seen:
            continue
        seen.add(id(shape))
        yield shape
        stack.extend(shape.properties)


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


def shape_roots(graph: Graph) -> list[Any]:
    """Every shape with a target, explicit or implicit (a shape that is also an rdfs:Class)."""
    roots: set[Any] = set()
    for predicate in (SH.targetClass, SH.targetObjectsOf, SH.targetSubjectsOf, SH.targetNode, SH.target):
        roots.update(graph.subjects(predicate, None))
    for cls in graph.subjects(RDF.type, RDFS.Class):
        if any((cls, RDF.type, t) in graph for t in _SHAPE_TYPES):
            roots.add(cls)
    return sorted(roots, key=lambda n: (isinstance(n, BNode), str(n)))


def compile_split(graph: Graph) -> CompiledShapes:
    """Compile every shape with a target; those the fast engine cannot do are listed, not raised."""
    compiler = ShapesCompiler(graph)
    targeted = []
    out = CompiledShapes([], frozenset())
    for node in shape_roots(graph):
        if (node, SH.deactivated, _TRUE) in graph:
            continue
        try:
            if (node, SH.target, None) in graph:
                raise UnsupportedShape(
                    f"{_node_text(node)}: sh:target (SHACL-AF) is not evaluated by the fast engine"
                )
            shape = compiler.shape(node)
            _sparql_positions(shape)
            targeted.append(shape)
            out.supported_nodes.append(node)
        except UnsupportedShape as exc:
            out.unsupported[_node_text(node)] = str(exc)
            out.unsupported_nodes.append(node)
    predicates: set[str] | None = {RDF_TYPE, RDFS_SUBCLASS}
    for shape in _walk(targeted):
        for constraint in shape.sparql:
            found = None if _variable_predicate(constraint.query) else _query_predicates(constraint.query)
            if found is None:
                predicates = None
            elif predicates is not None:
                predicates |= found
    out.targeted = targeted
    out.sparql_predicates = frozenset(predicates) if predicates is not None else frozenset({"*"})
    return out


def _closure(shape: Shape) -> Iterator[Shape]:
    """Every shape `shape` uses, itself included."""
    seen: set[int] = set()
    stack = [shape]
    while stack:
        s = stack.pop()
        if id(s) in seen:
            continue
        seen.add(id(s))
        yield s
        stack.extend(s.properties)
        for name, param, _ in s.constraints:
            if name in ("or", "and", "xone"):
                stack.extend(param)
            elif name in ("not", "node"):
                stack.append(param)
            elif name == "qualifiedValueShape":
                stack.append(param[0])
                stack.extend(param[3])


def _sparql_positions(root: Shape) -> None:
    """SPARQL constraints run set-based for the root's focus nodes: only on the root itself, or
    on a property shape of a node-shape root (same focus nodes); anywhere else, not exactly."""
    for shape in _closure(root):
        for name, param, _ in shape.constraints:
            nested = {"or": param, "and": param, "xone": param, "not": [param], "node": [param]}.get(name)
            if name == "qualifiedValueShape":
                nested = [param[0], *param[3]]
            for inner in nested or ():
                if any(s.sparql for s in _closure(inner)):
                    raise UnsupportedShape(f"{inner.iri}: sh:sparql in a shape used by sh:{name}")
        for prop in shape.properties:
            if prop.sparql and not (shape is root and root.path is None):
                raise UnsupportedShape(f"{prop.iri}: sh:sparql in a nested property shape")


def compile_shapes(graph: Graph) -> CompiledShapes:
    """Compile every shape that has a target; raise UnsupportedShape if any cannot be done exactly."""
    compiled = compile_split(graph)
    if compiled.unsupported:
        raise UnsupportedShape("; ".join(compiled.unsupported[k] for k in sorted(compiled.unsupported)))
    return compiled


# ---------------------------------------------------------------------- evaluation


class Index:
    """Triples by subject and predicate, with cached class memberships (rdf:type/rdfs:subClassOf*)."""

    __slots__ = ("_classes", "_instances", "_objects_of", "props")

    def __init__(self, triples: Iterable[Triple]) -> None:
        props: dict[str, dict[str, list[Object]]] = {}
        for s, p, o in triples:
            by_predicate = props.get(s)
            if by_predicate is None:
                by_predicate = props[s] = {}
            values = by_predicate.get(p)
            if values is None:
                by_predicate[p] = [o]
            elif o not in values:
                values.append(o)
        self.props = props
        self._classes: dict[Object, frozenset[Object]] = {}
        self._instances: dict[str, set[Object]] | None = None
        self._objects_of: dict[str, set[Object]] = {}

    def get(self, node: Object) -> dict[str, list[Object]] | None:
        return self.props.get(node) if isinstance(node, str) else None

    def values(self, node: Object, predicate: str) -> list[Object]:
        props = self.props.get(node) if isinstance(node, str) else None
        return props.get(predicate, []) if props else []

    def classes(self, node: Object) -> frozenset[Object]:
        """Every class `node` is an instance of, through rdf:type and rdfs:subClassOf*."""
        cached = self._classes.get(node)
        if cached is not None:
            return cached
        found: set[Object] = set()
        props = self.get(node)
        todo = list(props.get(RDF_TYPE, ())) if props else []
        while todo:
            cls = todo.pop()
            if cls in found:
                continue
            found.add(cls)
            sup = self.get(cls)
            if sup:
                todo.extend(sup.get(RDFS_SUBCLASS, ()))
        result = frozenset(found)
        self._classes[node] = result
        return result

    def instances(self, cls: str) -> set[Object]:
        if self._instances is None:
            self._instances = defaultdict(set)
            for subject, props in self.props.items():
                if RDF_TYPE in props:
                    for c in self.classes(subject):
                        if isinstance(c, str):
                            self._instances[c].add(subject)
        return self._instances.get(cls, set())

    def objects_of(self, predicate: str) -> set[Object]:
        found = self._objects_of.get(predicate)
        if found is None:
            found = set()
            for props in self.props.values():
                found.update(props.get(predicate, ()))
            self._objects_of[predicate] = found
        return found


def _is_instance(index: Index, node: Object, cls: str) -> bool:
    return isinstance(node, str) and cls in index.classes(node)


def focus_nodes(shape: Shape, index: Index, every_target_node: bool = False) -> set[Object]:
    """The focus nodes of `shape` in `index`; sh:targetNode nodes even in no triple with
    `every_target_node` (whole-graph mode: the data graph is all there is)."""
    if every_target_node:
        nodes: set[Object] = set(shape.target_nodes)
    else:
        nodes = {n for n in shape.target_nodes if index.get(n) is not None}
    for cls in shape.target_classes:
        nodes |= index.instances(cls)
    for p in shape.target_subjects_of:
        nodes.update(s for s, props in index.props.items() if p in props)
    for p in shape.target_objects_of:
        nodes |= index.objects_of(p)
    return nodes


def _lang_matches(tag: str, ranges: list[str]) -> bool:
    tag = tag.lower()
    return bool(tag) and any(r == "*" or tag == r or tag.startswith(r + "-") for r in ranges)


def _is_blank(value: Object) -> bool:
    return isinstance(value, str) and value.startswith("_:")


def _node_kind_ok(value: Object, kind: str) -> bool:
    name = kind.rsplit("#", 1)[1]
    is_blank = _is_blank(value)
    is_iri = isinstance(value, str) and not is_blank
    is_literal = not isinstance(value, str)
    return {
        "IRI": is_iri,
        "Literal": is_literal,
        "BlankNode": is_blank,
        "BlankNodeOrIRI": not is_literal,
        "IRIOrLiteral": not is_blank,
        "BlankNodeOrLiteral": not is_iri,
    }[name]


def _text(value: Object) -> str:
    return value if isinstance(value, str) else value.lexical


def _compare(value: Object, bound: Object) -> int | None:
    if not isinstance(value, Lit) or not isinstance(bound, Lit):
        return None
    return compare(value, bound)


class Validator:
    """Evaluates compiled shapes over an index; results use pySHACL's conventions."""

    def __init__(self, compiled: CompiledShapes) -> None:
        self.compiled = compiled

    def conforms(self, shape: Shape, focus: Object, index: Index) -> bool:
        return self._evaluate(shape, focus, index, None)

    def validate_focus(self, shape: Shape, focus: Object, index: Index) -> list[Result]:
        out: list[Result] = []
        self._evaluate(shape, focus, index, out)
        return out

    def _evaluate(self, shape: Shape, focus: Object, index: Index, out: list[Result] | None) -> bool:
        """True when `focus` conforms; with `out`, collect every result instead of stopping."""
        if shape.deactivated:
            return True
        if shape.path is None:
            values: list[Object] = [focus]
        else:
            props = index.props.get(focus) if isinstance(focus, str) else None
            values = props.get(shape.path, _NONE) if props else _NONE
        ok = True
        for (name, param, component), check in zip(shape.constraints, shape.checks, strict=True):
            if check is not None:  # the common case: each value node on its own
                bad = [v for v in values if not check(v, index)]
                if bad:
                    if out is None:
                        return False
                    ok = False
                    for v in bad:
                        out.append(
                            Result(focus, shape.path, v, component, shape.iri, shape.severity, shape.message)
                        )
                continue
            if name == "maxCount" and len(values) <= param:  # the next most common, inline
                continue
            if name == "minCount" and len(values) >= param:
                continue
            if name == "closed":
                extra = [
                    (p, o)
                    for v in values
                    for p, objects in sorted((index.get(v) or {}).items())
                    if p not in param
                    for o in objects
                ]
                if extra:
                    if out is None:
                        return False
                    ok = False
                    for p, o in extra:
                        out.append(Result(focus, p, o, component, shape.iri, shape.severity, shape.message))
                continue
            failures = self._failures(name, param, focus, values, index)
            if failures:
                if out is None:
                    return False
                ok = False
                for comp, value in failures:
                    out.append(
                        Result(
                            focus,
                            shape.path,
                            value,
                            comp or component,
                            shape.iri,
                            shape.severity,
                            shape.message,
                        )
                    )
        for prop in shape.properties:
            for value in values:
                if not self._evaluate(prop, value, index, out):
                    if out is None:
                        return False
                    ok = False
        # sh:sparql constraints of targeted shapes are evaluated set-based by `run_sparql_constraints`.
        return ok

    def _failures(
        self, name: str, param: Any, focus: Object, values: list[Object], index: Index
    ) -> list[tuple[str | None, Object | None]]:
        """(component when not the constraint's own, failing value or None) of each result."""
        if name == "minCount":
            return [(None, None)] if len(values) < param else []
        if name == "maxCount":
            return [(None, None)] if len(values) > param else []
        if name == "hasValue":
            return [] if param in values else [(None, None)]
        if name == "uniqueLang":
            seen: dict[str, int] = defaultdict(int)
            for v in values:
                if isinstance(v, Lit) and v.language:
                    seen[v.language.lower()] += 1
            return [(None, None) for tag, n in sorted(seen.items()) if n > 1]
        if name == "qualifiedValueShape":
            qshape, low, high, siblings = param
            count = sum(
                1
                for v in values
                if self.conforms(qshape, v, index) and not any(self.conforms(s, v, index) for s in siblings)
            )
            out: list[tuple[str | None, Object | None]] = []
            if low is not None and count < low:
                out.append((str(SH.QualifiedMinCountConstraintComponent), None))
            if high is not None and count > high:
                out.append((str(SH.QualifiedMaxCountConstraintComponent), None))
            return out
        if name in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
            others = index.values(focus, param)
            found: list[tuple[str | None, Object | None]] = []
            if name == "equals":
                found += [(None, v) for v in values if v not in others]
                return found + [(None, o) for o in others if o not in values]
            if name == "disjoint":
                return found + [(None, v) for v in values if v in others]
            for v in values:
                for o in others:
                    cmp = _compare(v, o)
                    if cmp is None or cmp > 0 or (cmp == 0 and name == "lessThan"):
                        found.append((None, v))
            return found
        return [(None, v) for v in values if not self._value_ok(name, param, v, index)]

    def _value_ok(self, name: str, param: Any, value: Object, index: Index) -> bool:
        if name == "class":
            return _is_instance(index, value, param)
        if name == "datatype":
            if not isinstance(value, Lit) or value.datatype != param:
                return False
            return well_formed(value.lexical, value.datatype, value.language)
        if name == "nodeKind":
            return _node_kind_ok(value, param)
        if name == "pattern":
            return not _is_blank(value) and param.search(_text(value)) is not None
        if name == "minLength":
            return not _is_blank(value) and len(_text(value)) >= int(param)
        if name == "maxLength":
            return not _is_blank(value) and len(_text(value)) <= int(param)
        if name == "languageIn":
            return isinstance(value, Lit) and _lang_matches(value.language, param)
        if name == "in":
            return bool(value in param)
        if name in ("minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
            cmp = _compare(value, param)
            if cmp is None:
                return False
            return {
                "minExclusive": cmp > 0,
                "minInclusive": cmp >= 0,
                "maxExclusive": cmp < 0,
                "maxInclusive": cmp <= 0,
            }[name]
        if name == "or":
            return any(self.conforms(s, value, index) for s in param)
        if name == "and":
            return all(self.conforms(s, value, index) for s in param)
        if name == "xone":
            return sum(1 for s in param if self.conforms(s, value, index)) == 1
        if name == "not":
            return not self.conforms(param, value, index)
        if name == "node":
            return self.conforms(param, value, index)
        raise UnsupportedShape(name)


_V = Validator(CompiledShapes([], frozenset()))  # the value checks' recursion into shapes

_KINDS = {
    "IRI": "I",
    "Literal": "L",
    "BlankNode": "B",
    "BlankNodeOrIRI": "BI",
    "IRIOrLiteral": "IL",
    "BlankNodeOrLiteral": "BL",
}


def _make_check(name: str, param: Any) -> Callable[[Object, Index], bool] | None:
    """The value-node test of a constraint, as one closure (what `Validator._value_ok` does,
    without its dispatch on the name for each value); None for constraints on all values."""
    if name == "class":
        return lambda v, ix: isinstance(v, str) and param in ix.classes(v)
    if name == "datatype":
        if param == XSD_STRING:
            return lambda v, ix: isinstance(v, Lit) and v.datatype == XSD_STRING and not v.language
        return lambda v, ix: (
            isinstance(v, Lit) and v.datatype == param and well_formed(v.lexical, v.datatype, v.language)
        )
    if name == "nodeKind":
        allowed = _KINDS[param.rsplit("#", 1)[1]]
        return lambda v, ix: (
            ("L" if not isinstance(v, str) else "B" if v.startswith("_:") else "I") in allowed
        )
    if name == "pattern":
        search = param.search
        return lambda v, ix: (
            search(v.lexical) is not None
            if isinstance(v, Lit)
            else not v.startswith("_:") and search(v) is not None
        )
    if name in ("minLength", "maxLength"):
        low = param if name == "minLength" else 0
        high = param if name == "maxLength" else None

        def length_ok(v: Object, ix: Index) -> bool:
            if isinstance(v, str) and v.startswith("_:"):
                return False
            n = len(v if isinstance(v, str) else v.lexical)
            return n >= low and (high is None or n <= high)

        return length_ok
    if name == "in":
        members = frozenset(param)
        return lambda v, ix: v in members
    if name in ("languageIn", "minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
        return lambda v, ix: _V._value_ok(name, param, v, ix)
    if name == "or":
        return lambda v, ix: any(_V._evaluate(s, v, ix, None) for s in param)
    if name == "not":
        return lambda v, ix: not _V._evaluate(param, v, ix, None)
    if name == "node":
        return lambda v, ix: _V._evaluate(param, v, ix, None)
    if name in ("and", "xone"):
        return lambda v, ix: _V._value_ok(name, param, v, ix)
    return None


_COMPONENT_NAMES = {
    "class": "ClassConstraintComponent",
    "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent",
    "minCount": "MinCountConstraintComponent",
    "maxCount": "MaxCountConstraintComponent",
    "minExclusive": "MinExclusiveConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent",
    "maxExclusive": "MaxExclusiveConstraintComponent",
    "maxInclusive": "MaxInclusiveConstraintComponent",
    "minLength": "MinLengthConstraintComponent",
    "maxLength": "MaxLengthConstraintComponent",
    "pattern": "PatternConstraintComponent",
    "languageIn": "LanguageInConstraintComponent",
    "uniqueLang": "UniqueLangConstraintComponent",
    "in": "InConstraintComponent",
    "hasValue": "HasValueConstraintComponent",
    "equals": "EqualsConstraintComponent",
    "disjoint": "DisjointConstraintComponent",
    "lessThan": "LessThanConstraintComponent",
    "lessThanOrEquals": "LessThanOrEqualsConstraintComponent",
    "or": "OrConstraintComponent",
    "and": "AndConstraintComponent",
    "xone": "XoneConstraintComponent",
    "not": "NotConstraintComponent",
    "node": "NodeConstraintComponent",
    "qualifiedValueShape": "QualifiedMinCountConstraintComponent",
    "closed": "ClosedConstraintComponent",
}


def _component_iri(component: str) -> str:
    name = component.rsplit("#", 1)[1]
    return str(SH[_COMPONENT_NAMES[name]])


# ---------------------------------------------------------------------- the two halves


def _nt(triple: Triple) -> str:
    """One N-Triples line; subjects and objects may be blank nodes (`_:x`)."""
    s, p, o = triple
    subject = s if s.startswith("_:") else f"<{s}>"
    obj = o if isinstance(o, str) and o.startswith("_:") else nt_object(o)
    return f"{subject} <{p}> {obj} .\n"


def _needed(triples: Iterable[Triple], wanted: frozenset[str]) -> list[str]:
    """N-Triples lines of the triples the SPARQL constraints read."""
    # an IRI never starts with "_" (it starts with its scheme): only blank nodes need _nt
    return [
        _nt(t) if t[0][0] == "_" or (isinstance(t[2], str) and t[2][0] == "_") else nt_line(t)
        for t in triples
        if t[1] in wanted or "*" in wanted
    ]


@dataclass(slots=True)
class LocalOutcome:
    """What a worker found for one curation graph."""

    results: list[Result]
    deferred: list[tuple[int, str]]  # (shape number, focus IRI) for shared focus nodes
    sparql_lines: list[str]  # N-Triples lines the SPARQL constraints need


def validate_curation(
    compiled: CompiledShapes, own: list[Triple], shared: list[Triple], own_subjects: set[str]
) -> LocalOutcome:
    """Validate one curation graph: own focus nodes now, shared ones deferred to the parent."""
    index = Index([*own, *shared])
    validator = Validator(compiled)
    results: list[Result] = []
    deferred: list[tuple[int, str]] = []
    for number, shape in enumerate(compiled.targeted):
        for node in focus_nodes(shape, index):
            if isinstance(node, str) and node in own_subjects:
                results.extend(validator.validate_focus(shape, node, index))
            elif isinstance(node, str):
                deferred.append((number, node))
    return LocalOutcome(results, deferred, _needed(own, compiled.sparql_predicates))


class SharedValidation:
    """The parent's half: shared focus nodes over merged shared triples, and SPARQL constraints."""

    def __init__(self, compiled: CompiledShapes) -> None:
        self.compiled = compiled
        self.deferred: set[tuple[int, str]] = set()
        self.sparql_lines: list[str] = []
        self.results: list[Result] = []

    def add(self, outcome: LocalOutcome) -> None:
        self.results.extend(outcome.results)
        self.deferred.update(outcome.deferred)
        self.sparql_lines.extend(outcome.sparql_lines)

    def finish(self, shared: Iterable[Triple]) -> list[Result]:
        shared = list(shared)
        index = Index(shared)
        validator = Validator(self.compiled)
        for number, node in sorted(self.deferred):
            self.results.extend(validator.validate_focus(self.compiled.targeted[number], node, index))
        lines = self.sparql_lines + _needed(shared, self.compiled.sparql_predicates)
        self.results.extend(run_sparql_constraints(self.compiled, lines, self.deferred))
        return self.results


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
    roots = [(n, root) for n, root in enumerate(compiled.targeted) if any(s.sparql for s in _walk([root]))]
    if not roots:
        return []
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
    type_index = _type_index(store)
    found_elsewhere: dict[int, set[Object]] = defaultdict(set)
    for number, node in deferred:
        found_elsewhere[number].add(node)
    results: list[Result] = []
    for number, root in roots:
        focus = found_elsewhere[number]
        if not whole_graph:
            focus = focus | _focus_from_store(root, store, type_index)
        for shape in _walk([root]):
            if shape.deactivated:
                continue
            shape_focus = focus  # the root or one of its property shapes (see _sparql_positions)
            for constraint in shape.sparql:
                try:
                    rows = store.query(constraint.query)
                except (SyntaxError, ValueError, OSError) as exc:
                    raise UnsupportedShape(f"{constraint.iri}: the query cannot be run: {exc}") from exc
                if not isinstance(rows, pyoxigraph.QuerySolutions):
                    raise UnsupportedShape(f"{constraint.iri}: sh:select must be a SELECT query")
                for row in rows:
                    if not _bound(row, "this"):
                        continue
                    this = _from_ox(row["this"])
                    if this not in shape_focus:
                        continue
                    value = (
                        _from_ox(row["value"])
                        if _bound(row, "value")
                        else (this if shape.path is None else None)
                    )
                    path = _from_ox(row["path"]) if _bound(row, "path") else shape.path
                    message = _fill(constraint.message or shape.message, row)
                    results.append(
                        Result(
                            this,
                            path if isinstance(path, str) and not path.startswith("_:") else None,
                            value,
                            str(SH.SPARQLConstraintComponent),
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


# ---------------------------------------------------------------------- whole-graph mode


def validate_triples(compiled: CompiledShapes, triples: list[Triple]) -> list[Result]:
    """Validate any graph at once (no per-curation split): for RDF files given to kg validate."""
    index = Index(triples)
    validator = Validator(compiled)
    results: list[Result] = []
    focus_by_shape: set[tuple[int, Object]] = set()
    for number, shape in enumerate(compiled.targeted):
        for node in focus_nodes(shape, index, every_target_node=True):
            results.extend(validator.validate_focus(shape, node, index))
            focus_by_shape.add((number, node))
    lines = _needed(triples, compiled.sparql_predicates)
    results.extend(run_sparql_constraints(compiled, lines, focus_by_shape, whole_graph=True))
    return results


def _from_rdflib(node: Any) -> Object:
    if isinstance(node, BNode):
        return f"_:{node}"
    return _term(node)


def _to_rdflib(term: Object) -> Any:
    if isinstance(term, str):
        return BNode(term[2:]) if term.startswith("_:") else URIRef(term)
    if term.language:
        return Literal(term.lexical, lang=term.language, normalize=False)
    return Literal(term.lexical, datatype=URIRef(term.datatype), normalize=False)


class ReportGraph(Graph):
    """A SHACL report graph, plus which shapes the reference engine (pySHACL) evaluated."""

    def __init__(self) -> None:
        super().__init__()
        self.reference_shapes: list[str] = []


def results_graph(results: list[Result]) -> ReportGraph:
    """Results as a standard SHACL validation report graph (what pySHACL returns).

    sh:conforms is false whenever there is a result, whatever its severity (SHACL 3.6.1);
    values are the data's own terms, lexical forms as written.
    """
    report = ReportGraph()
    root = BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    report.add((root, SH.conforms, Literal(not results)))
    for r in results:
        node = BNode()
        report.add((root, SH.result, node))
        report.add((node, RDF.type, SH.ValidationResult))
        report.add((node, SH.focusNode, _to_rdflib(r.focus)))
        if r.path is not None:
            report.add((node, SH.resultPath, URIRef(r.path)))
        if r.value is not None:
            report.add((node, SH.value, _to_rdflib(r.value)))
        report.add((node, SH.sourceConstraintComponent, URIRef(r.component)))
        report.add((node, SH.sourceShape, _to_rdflib(r.shape)))
        report.add((node, SH.resultSeverity, URIRef(r.severity)))
        if r.message is not None:
            report.add((node, SH.resultMessage, Literal(r.message)))
    return report


def _triples_of(data_graph: Graph) -> list[Triple]:
    return [
        (f"_:{s}" if isinstance(s, BNode) else str(s), str(p), _from_rdflib(o))
        for s, p, o in data_graph.triples((None, None, None))
    ]


def fast_engine(data_graph: Graph, shapes_graph: Graph) -> Graph:
    """`kg.validation.validate` engine interface: (data graph, shapes graph) -> SHACL report graph.

    Shapes it cannot evaluate exactly raise `kg.validation.validate.ValidationError` (exit code 2): it
    refuses rather than half-checks.
    """
    from kg.validation.validate import ValidationError, check_sparql

    check_sparql(shapes_graph)
    try:
        compiled = compile_shapes(shapes_graph)
        return results_graph(validate_triples(compiled, _triples_of(data_graph)))
    except UnsupportedShape as exc:
        raise ValidationError(f"the fast engine cannot evaluate these shapes exactly: {exc}") from exc


def reference_shapes_graph(shapes_graph: Graph, compiled: CompiledShapes) -> Graph:
    """The shapes graph for the reference engine: the shapes the fast engine evaluated lose their
    targets (they stay usable through sh:node & co.), so nothing is evaluated twice.

    `kg.validation.validate.pyshacl_engine` works around pySHACL's known bugs (`without_pyshacl_bugs`).
    """
    reduced = Graph()
    for prefix, ns in shapes_graph.namespaces():
        reduced.bind(prefix, ns)
    reduced += shapes_graph
    for node in compiled.supported_nodes:
        for predicate in (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf):
            reduced.remove((node, predicate, None))
        reduced.remove((node, RDF.type, RDFS.Class))
    return reduced


def auto_engine(data_graph: Graph, shapes_graph: Graph) -> Graph:
    """The default engine: the fast engine for every shape it evaluates exactly, pySHACL (the
    reference) for the others, on the same data; the report lists the shapes pySHACL evaluated.

    With kg's own shapes every shape is the fast engine's, and pySHACL is not even imported.
    """
    from kg.validation.validate import ValidationError, check_sparql, pyshacl_engine

    check_sparql(shapes_graph)
    compiled = compile_split(shapes_graph)
    try:
        results = validate_triples(compiled, _triples_of(data_graph))
    except UnsupportedShape as exc:
        raise ValidationError(f"the shapes cannot be used: {exc}") from exc
    report = results_graph(results)
    if not compiled.unsupported:
        return report
    reference = pyshacl_engine(data_graph, reference_shapes_graph(shapes_graph, compiled))
    root = next(report.subjects(RDF.type, SH.ValidationReport))
    ref_roots = list(reference.subjects(RDF.type, SH.ValidationReport))
    for ref_root in ref_roots:
        for result in reference.objects(ref_root, SH.result):
            report.add((root, SH.result, result))
    for s, p, o in reference:
        if s not in ref_roots:
            report.add((s, p, o))
    conforms = next(iter(report.objects(root, SH.result)), None) is None
    report.set((root, SH.conforms, Literal(conforms)))
    report.reference_shapes = sorted(compiled.unsupported)
    return report
