"""Compiling a SHACL shapes graph (rdflib) into the fast engine's `Shape`s.

The engine interprets the shapes graph (no shape is hard-coded). It evaluates exactly the SHACL
Core components with IRI paths (`kg.shacl.parameters`) and the SPARQL constraints whose
set-based run equals SHACL's pre-binding (`kg.shacl.sparql`). A shape using anything else (a
complex path, other SPARQL, SPARQL-based components, SHACL-AF targets, a recursive shape) is
unsupported, with its whole closure: `compile_split` lists such shapes (the auto engine gives
them to pySHACL), `compile_shapes` raises `UnsupportedShape` (the export pipeline).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

from kg.shacl.core import make_check
from kg.shacl.model import CompiledShapes, Shape, UnsupportedShape
from kg.shacl.parameters import (
    CORE,
    IGNORED,
    PROPERTY_ONLY,
    SINGLE_VALUED,
    SKIP,
    component_iri,
    integer_of,
    rdf_list,
    value_parameter,
)
from kg.shacl.sparql import sparql_constraints, sparql_predicates
from kg.shacl.terms import TRUE, from_rdflib, node_text

_SH = str(SH)
_SHAPE_TYPES = (SH.NodeShape, SH.PropertyShape)


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
            raise UnsupportedShape(f"{node_text(node)}: recursive shape")
        if node in self.shapes:
            return self.shapes[node]
        self._active.append(node)
        try:
            shape = self._compile(node)
        except (UnsupportedShape, re.error, ValueError, TypeError) as exc:
            reason = str(exc) if isinstance(exc, UnsupportedShape) else f"{node_text(node)}: {exc}"
            self.failed[node] = reason
            raise UnsupportedShape(reason) from exc
        finally:
            self._active.pop()
        self.shapes[node] = shape
        return shape

    def _compile(self, node: Any) -> Shape:
        shape = Shape(node_text(node))
        if isinstance(node, Literal):
            raise UnsupportedShape(f"{shape.iri}: a literal used as a shape")
        self._read_path_and_severity(node, shape)
        self._read_targets(node, shape)
        self._read_constraints(node, shape)
        shape.properties = [self.shape(p) for p in sorted(self.g.objects(node, SH.property), key=str)]
        shape.sparql = sparql_constraints(self.g, node, shape)
        return shape

    def _read_path_and_severity(self, node: Any, shape: Shape) -> None:
        """sh:path (an IRI: a property shape), sh:deactivated, sh:severity, sh:message."""
        g, iri = self.g, shape.iri
        paths = list(g.objects(node, SH.path))
        if len(paths) > 1:
            raise UnsupportedShape(f"{iri}: several sh:path values")
        if paths:
            if not isinstance(paths[0], URIRef):
                raise UnsupportedShape(f"{iri}: only IRI paths are evaluated by the fast engine")
            shape.path = str(paths[0])
            shape.is_property = True
        deactivated = list(g.objects(node, SH.deactivated))
        shape.deactivated = TRUE in deactivated
        severities = list(g.objects(node, SH.severity))
        if len(severities) > 1 or (severities and not isinstance(severities[0], URIRef)):
            raise UnsupportedShape(f"{iri}: sh:severity must be one IRI")
        if severities:
            shape.severity = str(severities[0])
        message = g.value(node, SH.message)
        shape.message = str(message) if message is not None else None

    def _read_targets(self, node: Any, shape: Shape) -> None:
        """The targets, an implicit class target (a shape that is also an rdfs:Class) included."""
        g, iri = self.g, shape.iri
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
            shape.target_nodes.append(from_rdflib(target))

    def _read_constraints(self, node: Any, shape: Shape) -> None:
        """The Core constraints, sorted by name, and their value-node checks."""
        iri = shape.iri
        for p, o in sorted(self.g.predicate_objects(node), key=lambda po: (str(po[0]), str(po[1]))):
            key = str(p)
            if key in CORE:
                name = key.rsplit("#", 1)[1]
                if name in PROPERTY_ONLY and not shape.is_property:
                    raise UnsupportedShape(f"{iri}: sh:{name} on a node shape")
                param = self._parameter(node, key, o, shape)
                if param is SKIP:
                    continue
                shape.constraints.append((name, param, component_iri(key)))
            elif key.startswith(_SH) and key not in IGNORED:
                raise UnsupportedShape(f"{iri}: {key} is not evaluated by the fast engine")
            elif key in self.custom_parameters:
                raise UnsupportedShape(f"{iri}: {key} is a parameter of a SPARQL-based constraint component")
        shape.constraints.sort(key=lambda c: c[0])
        shape.checks = [make_check(name, param) for name, param, _ in shape.constraints]

    def _parameter(self, node: Any, key: str, value: Any, shape: Shape) -> Any:
        g = self.g
        name = key.rsplit("#", 1)[1]
        if len(list(g.objects(node, URIRef(key)))) > 1 and name in SINGLE_VALUED:
            raise UnsupportedShape(f"{shape.iri}: several sh:{name} values")
        if name in ("or", "and", "xone"):
            return [self.shape(member) for member in rdf_list(g, value, f"{shape.iri} sh:{name}")]
        if name in ("not", "node"):
            return self.shape(value)
        if name == "qualifiedValueShape":
            return self._qualified(node, value, shape)
        return value_parameter(g, node, name, value, shape.iri)

    def _qualified(
        self, node: Any, value: Any, shape: Shape
    ) -> tuple[Shape, int | None, int | None, list[Shape]]:
        """sh:qualifiedValueShape: (the shape, min count, max count, disjoint sibling shapes)."""
        g = self.g
        low = list(g.objects(node, SH.qualifiedMinCount))
        high = list(g.objects(node, SH.qualifiedMaxCount))
        bounds = [integer_of(b, shape.iri, "qualified count") for b in low + high]
        if len(low) > 1 or len(high) > 1:
            raise UnsupportedShape(f"{shape.iri}: several qualified counts")
        disjoint = list(g.objects(node, SH.qualifiedValueShapesDisjoint))
        siblings: list[Shape] = []
        if TRUE in disjoint:
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
        if (node, SH.deactivated, TRUE) in graph:
            continue
        try:
            if (node, SH.target, None) in graph:
                raise UnsupportedShape(
                    f"{node_text(node)}: sh:target (SHACL-AF) is not evaluated by the fast engine"
                )
            shape = compiler.shape(node)
            _sparql_positions(shape)
            targeted.append(shape)
            out.supported_nodes.append(node)
        except UnsupportedShape as exc:
            out.unsupported[node_text(node)] = str(exc)
            out.unsupported_nodes.append(node)
    out.targeted = targeted
    out.sparql_predicates = sparql_predicates(targeted)
    return out


def compile_shapes(graph: Graph) -> CompiledShapes:
    """Compile every shape that has a target; raise UnsupportedShape if any cannot be done exactly."""
    compiled = compile_split(graph)
    if compiled.unsupported:
        raise UnsupportedShape("; ".join(compiled.unsupported[k] for k in sorted(compiled.unsupported)))
    return compiled


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
