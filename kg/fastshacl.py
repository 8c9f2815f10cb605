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

The engine interprets the shapes graph (no shape is hard-coded). It supports the SHACL Core
components kg's shapes use, with IRI paths; a shape using anything else makes `compile_shapes`
raise `UnsupportedShape`, and callers fall back to pySHACL.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from kg.terms import XSD_STRING, Lit, Object, Triple, nt_line

RDF_TYPE = str(RDF.type)
RDFS_SUBCLASS = str(RDFS.subClassOf)
RDF_LANGSTRING = str(RDF.langString)
VIOLATION = str(SH.Violation)


class UnsupportedShape(ValueError):
    """The shapes use a feature the fast engine does not implement."""


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


@dataclass(slots=True)
class Shape:
    iri: str
    path: str | None = None
    severity: str = VIOLATION
    message: str | None = None
    constraints: list[tuple[str, Any, str]] = field(default_factory=list)  # name, parameter, component
    properties: list[Shape] = field(default_factory=list)
    target_classes: list[str] = field(default_factory=list)
    target_objects_of: list[str] = field(default_factory=list)
    target_subjects_of: list[str] = field(default_factory=list)
    target_nodes: list[Object] = field(default_factory=list)
    sparql: list[SparqlConstraint] = field(default_factory=list)

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
        "in",
        "hasValue",
        "or",
        "and",
        "not",
        "xone",
        "node",
        "qualifiedValueShape",
    ]
}
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
} | {RDF_TYPE, str(RDFS.label), str(RDFS.comment), str(RDFS.seeAlso)}


def _term(node: Any) -> Object:
    if isinstance(node, URIRef):
        return str(node)
    if isinstance(node, Literal):
        if node.language:
            return Lit(str(node), RDF_LANGSTRING, node.language)
        return Lit(str(node), str(node.datatype or XSD_STRING))
    raise UnsupportedShape(f"blank node value {node!r} in a shape parameter")


class ShapesCompiler:
    """Turns an rdflib shapes graph into `Shape` objects (each shape compiled once)."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.shapes: dict[Any, Shape] = {}

    def shape(self, node: Any) -> Shape:
        if node in self.shapes:
            return self.shapes[node]
        g = self.g
        iri = f"_:{node}" if isinstance(node, BNode) else str(node)
        shape = Shape(iri)
        self.shapes[node] = shape
        path = g.value(node, SH.path)
        if path is not None:
            if not isinstance(path, URIRef):
                raise UnsupportedShape(f"{iri}: only IRI paths are supported")
            shape.path = str(path)
        severity = g.value(node, SH.severity)
        if severity is not None:
            shape.severity = str(severity)
        message = g.value(node, SH.message)
        shape.message = str(message) if message is not None else None
        shape.target_classes = [str(c) for c in g.objects(node, SH.targetClass)]
        shape.target_objects_of = [str(p) for p in g.objects(node, SH.targetObjectsOf)]
        shape.target_subjects_of = [str(p) for p in g.objects(node, SH.targetSubjectsOf)]
        shape.target_nodes = [_term(n) for n in g.objects(node, SH.targetNode)]
        for p, o in g.predicate_objects(node):
            key = str(p)
            if key in _CORE:
                name = key.rsplit("#", 1)[1]
                shape.constraints.append((name, self._parameter(node, key, o), _component_iri(key)))
            elif key not in _IGNORED:
                raise UnsupportedShape(f"{iri}: constraint {key} is not supported by the fast engine")
        shape.constraints.sort(key=lambda c: c[0])
        shape.properties = [self.shape(p) for p in sorted(g.objects(node, SH.property), key=str)]
        for constraint in sorted(g.objects(node, SH.sparql), key=str):
            select = g.value(constraint, SH.select)
            if select is None:
                raise UnsupportedShape(f"{iri}: only SELECT-based SPARQL constraints are supported")
            prefixes = self._prefixes(constraint)
            cmsg = g.value(constraint, SH.message)
            shape.sparql.append(
                SparqlConstraint(str(constraint), prefixes + str(select), str(cmsg) if cmsg else None)
            )
        return shape

    def nested(self, node: Any) -> Shape:
        """A shape used inside sh:or/sh:not/...: evaluated per value node, so no SPARQL in it."""
        shape = self.shape(node)
        if any(s.sparql for s in _walk([shape])):
            raise UnsupportedShape(f"{shape.iri}: sh:sparql inside a logical or qualified constraint")
        return shape

    def _prefixes(self, constraint: Any) -> str:
        lines = []
        for declarer in self.g.objects(constraint, SH.prefixes):
            for decl in self.g.objects(declarer, SH.declare):
                prefix, ns = self.g.value(decl, SH.prefix), self.g.value(decl, SH.namespace)
                lines.append(f"PREFIX {prefix}: <{ns}>\n")
        return "".join(lines)

    def _parameter(self, node: Any, key: str, value: Any) -> Any:
        g = self.g
        name = key.rsplit("#", 1)[1]
        if name in ("or", "and", "xone"):
            return [self.nested(member) for member in Collection(g, value)]
        if name in ("not", "node"):
            return self.nested(value)
        if name == "qualifiedValueShape":
            low = g.value(node, SH.qualifiedMinCount)
            high = g.value(node, SH.qualifiedMaxCount)
            return (self.nested(value), int(low) if low is not None else None, int(high) if high else None)
        if name == "in":
            return [_term(member) for member in Collection(g, value)]
        if name == "pattern":
            flags = str(g.value(node, SH.flags) or "")
            bits = 0
            for flag, bit in (("i", re.I), ("s", re.S), ("m", re.M), ("x", re.X)):
                if flag in flags:
                    bits |= bit
            return re.compile(str(value), bits)
        if name in ("minCount", "maxCount", "minLength", "maxLength"):
            if not isinstance(value, Literal) or not isinstance(value.toPython(), int):
                raise UnsupportedShape(f"{node}: sh:{name} must be an integer, not {value!r}")
            return int(value)
        return _term(value)


@dataclass(slots=True)
class CompiledShapes:
    """All shapes with targets, and the predicates the SPARQL constraints read."""

    targeted: list[Shape]
    sparql_predicates: frozenset[str]


def _walk(shapes: Iterable[Shape]) -> Iterator[Shape]:
    seen: set[str] = set()
    stack = list(shapes)
    while stack:
        shape = stack.pop()
        if shape.iri in seen:
            continue
        seen.add(shape.iri)
        yield shape
        stack.extend(shape.properties)


_IRI_IN_QUERY = re.compile(r"<([^<>\s]+)>|\b([A-Za-z][\w\-]*):([\w\-]+)")
_PREFIX_DECL = re.compile(r"PREFIX\s+([\w\-]*):\s*<([^>]+)>", re.I)


def _query_predicates(query: str) -> set[str]:
    prefixes = dict(_PREFIX_DECL.findall(query))
    found = set()
    for iri, prefix, local in _IRI_IN_QUERY.findall(query):
        if iri:
            found.add(iri)
        elif prefix in prefixes:
            found.add(prefixes[prefix] + local)
    return found


def compile_shapes(graph: Graph) -> CompiledShapes:
    """Compile every shape that has a target (and, through it, every shape it uses)."""
    compiler = ShapesCompiler(graph)
    roots: set[Any] = set()
    for predicate in (SH.targetClass, SH.targetObjectsOf, SH.targetSubjectsOf, SH.targetNode):
        roots.update(graph.subjects(predicate, None))
    targeted = []
    for node in sorted(roots, key=str):
        if graph.value(node, SH.deactivated) == Literal(True):
            continue
        targeted.append(compiler.shape(node))
    predicates = {RDF_TYPE, RDFS_SUBCLASS}
    for shape in _walk(targeted):
        for constraint in shape.sparql:
            predicates |= _query_predicates(constraint.query)
    return CompiledShapes(targeted, frozenset(predicates))


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


def focus_nodes(shape: Shape, index: Index) -> set[Object]:
    """The focus nodes of `shape` present in `index` (subjects and objects it mentions)."""
    nodes: set[Object] = {n for n in shape.target_nodes if index.get(n) is not None}
    for cls in shape.target_classes:
        nodes |= index.instances(cls)
    for p in shape.target_subjects_of:
        nodes.update(s for s, props in index.props.items() if p in props)
    for p in shape.target_objects_of:
        nodes |= index.objects_of(p)
    return nodes


_NUMERIC = {
    str(XSD[t])
    for t in ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger", "positiveInteger")
}


def _compare(value: Object, bound: Object) -> int | None:
    """-1/0/1 comparing two literals, or None when they are not comparable."""
    if not isinstance(value, Lit) or not isinstance(bound, Lit):
        return None
    if value.datatype in _NUMERIC and bound.datatype in _NUMERIC:
        try:
            a, b = Decimal(value.lexical), Decimal(bound.lexical)
        except InvalidOperation:
            return None
        return (a > b) - (a < b)
    if value.datatype == bound.datatype:
        return (value.lexical > bound.lexical) - (value.lexical < bound.lexical)
    return None


def _node_kind_ok(value: Object, kind: str) -> bool:
    name = kind.rsplit("#", 1)[1]
    is_blank = isinstance(value, str) and value.startswith("_:")
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
        if shape.path is not None:
            props = index.get(focus)
            values: list[Object] = props.get(shape.path, []) if props else []
        else:
            values = [focus]
        ok = True
        for name, param, component in shape.constraints:
            failures = self._failures(name, param, values, index)
            if failures:
                if out is None:
                    return False
                ok = False
                for value in failures:
                    out.append(
                        Result(focus, shape.path, value, component, shape.iri, shape.severity, shape.message)
                    )
        for prop in shape.properties:
            if not self._evaluate(prop, focus, index, out):
                if out is None:
                    return False
                ok = False
        # sh:sparql constraints are evaluated set-based by `run_sparql_constraints`.
        return ok

    def _failures(self, name: str, param: Any, values: list[Object], index: Index) -> list[Object | None]:
        """The failing value nodes (None for a result without a value)."""
        if name == "minCount":
            return [None] if len(values) < param else []
        if name == "maxCount":
            return [None] if len(values) > param else []
        if name == "hasValue":
            return [] if param in values else [None]
        if name == "qualifiedValueShape":
            qshape, low, high = param
            count = sum(1 for v in values if self.conforms(qshape, v, index))
            too_few = low is not None and count < low
            return [None] if too_few or (high is not None and count > high) else []
        return [v for v in values if not self._value_ok(name, param, v, index)]

    def _value_ok(self, name: str, param: Any, value: Object, index: Index) -> bool:
        if name == "class":
            return _is_instance(index, value, param)
        if name == "datatype":
            if not isinstance(value, Lit):
                return False
            return value.datatype == _text(param)
        if name == "nodeKind":
            return _node_kind_ok(value, _text(param))
        if name == "pattern":
            return bool(param.search(_text(value)) is not None)
        if name == "minLength":
            return len(_text(value)) >= int(param)
        if name == "maxLength":
            return len(_text(value)) <= int(param)
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
    "in": "InConstraintComponent",
    "hasValue": "HasValueConstraintComponent",
    "or": "OrConstraintComponent",
    "and": "AndConstraintComponent",
    "xone": "XoneConstraintComponent",
    "not": "NotConstraintComponent",
    "node": "NodeConstraintComponent",
    "qualifiedValueShape": "QualifiedMinCountConstraintComponent",
}


def _component_iri(component: str) -> str:
    name = component.rsplit("#", 1)[1]
    return str(SH[_COMPONENT_NAMES[name]])


# ---------------------------------------------------------------------- the two halves


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
    wanted = compiled.sparql_predicates
    lines = [nt_line(t) for t in own if t[1] in wanted]
    return LocalOutcome(results, deferred, lines)


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
        wanted = self.compiled.sparql_predicates
        lines = self.sparql_lines + [nt_line(t) for t in shared if t[1] in wanted]
        self.results.extend(run_sparql_constraints(self.compiled, lines, self.deferred))
        return self.results


def run_sparql_constraints(
    compiled: CompiledShapes, nt_lines: list[str], deferred: set[tuple[int, str]]
) -> list[Result]:
    """Run each SPARQL constraint once over the needed triples; keep rows for focus nodes.

    Focus nodes come from the store (targetClass, targetNode) and from `deferred`, the
    (shape number, node) pairs found elsewhere (targetObjectsOf, shared nodes).
    """
    roots = [(n, root) for n, root in enumerate(compiled.targeted) if any(s.sparql for s in _walk([root]))]
    if not roots:
        return []
    store = pyoxigraph.Store()
    store.bulk_load("".join(dict.fromkeys(nt_lines)).encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    type_index = _type_index(store)
    found_elsewhere: dict[int, set[Object]] = defaultdict(set)
    for number, node in deferred:
        found_elsewhere[number].add(node)
    results: list[Result] = []
    for number, root in roots:
        focus = _focus_from_store(root, store, type_index) | found_elsewhere[number]
        for shape in _walk([root]):
            for constraint in shape.sparql:
                query = constraint.query
                if shape.path is not None:
                    query = query.replace("$PATH", f"<{shape.path}>")
                rows = store.query(query)
                if not isinstance(rows, pyoxigraph.QuerySolutions):
                    raise UnsupportedShape(f"{constraint.iri}: sh:select must be a SELECT query")
                for row in rows:
                    this = _from_ox(row["this"])
                    if this not in focus:
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
                            path if isinstance(path, str) else None,
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
    return str(term)


# ---------------------------------------------------------------------- whole-graph mode


def validate_triples(compiled: CompiledShapes, triples: list[Triple]) -> list[Result]:
    """Validate any graph at once (no per-curation split): for RDF files given to kg validate."""
    index = Index(triples)
    validator = Validator(compiled)
    results: list[Result] = []
    focus_by_shape: set[tuple[int, str]] = set()
    for number, shape in enumerate(compiled.targeted):
        for node in focus_nodes(shape, index):
            results.extend(validator.validate_focus(shape, node, index))
            if isinstance(node, str):
                focus_by_shape.add((number, node))
    wanted = compiled.sparql_predicates
    lines = [nt_line(t) for t in triples if t[1] in wanted]
    results.extend(run_sparql_constraints(compiled, lines, focus_by_shape))
    return results


def _from_rdflib(node: Any) -> Object:
    if isinstance(node, BNode):
        return f"_:{node}"
    return _term(node)


def _to_rdflib(term: Object) -> Any:
    if isinstance(term, str):
        return BNode(term[2:]) if term.startswith("_:") else URIRef(term)
    if term.language:
        return Literal(term.lexical, lang=term.language)
    return Literal(term.lexical, datatype=URIRef(term.datatype))


def results_graph(results: list[Result]) -> Graph:
    """Results as a standard SHACL validation report graph (what pySHACL returns)."""
    report = Graph()
    root = BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    report.add((root, SH.conforms, Literal(not any(r.severity == VIOLATION for r in results))))
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


def fast_engine(data_graph: Graph, shapes_graph: Graph) -> Graph:
    """`kg.validate` engine interface: (data graph, shapes graph) -> SHACL report graph.

    Shapes it cannot use raise `kg.validate.ValidationError` (exit code 2), as for pySHACL.
    """
    from kg.validate import ValidationError

    try:
        compiled = compile_shapes(shapes_graph)
    except (UnsupportedShape, re.error) as exc:
        raise ValidationError(f"the shapes cannot be used: {exc}") from exc
    triples: list[Triple] = [
        (f"_:{s}" if isinstance(s, BNode) else str(s), str(p), _from_rdflib(o))
        for s, p, o in data_graph.triples((None, None, None))
    ]
    return results_graph(validate_triples(compiled, triples))
