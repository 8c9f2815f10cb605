"""What the fast SHACL engine works with: compiled shapes, the data index, results.

`kg.shacl.compile` builds the `Shape`s from a shapes graph, `kg.shacl.core` evaluates them over
an `Index` of the data, `kg.shacl.sparql` runs their SPARQL constraints; each produces `Result`s
in the terms of pySHACL's report. This module holds data and lookups only (no rdflib): the
export's worker processes pickle and use it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kg.rdf.terms import Object, Triple

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
SHACL_NS = "http://www.w3.org/ns/shacl#"
VIOLATION = SHACL_NS + "Violation"


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


@dataclass(slots=True)
class SparqlConstraint:
    iri: str
    query: str
    message: str | None


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


def walk(shapes: Iterable[Shape]) -> Iterator[Shape]:
    """Each shape and, recursively, its property shapes (each once)."""
    seen: set[int] = set()
    stack = list(shapes)
    while stack:
        shape = stack.pop()
        if id(shape) in seen:
            continue
        seen.add(id(shape))
        yield shape
        stack.extend(shape.properties)


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
