"""The constraint parameters of SHACL Core the fast engine evaluates, read from a shapes graph.

Which parameters are constraints of their own (`CORE`), which are read with another one
(`IGNORED`), which SHACL allows once per shape, the constraint component each reports, and
`value_parameter`, the parameter of a constraint on values as the engine uses it (a compiled
pattern, a member list, a bound). A parameter the engine would not evaluate exactly is
UnsupportedShape. The shape-valued ones (`sh:node`, `sh:or`, ...) are `kg.shacl.compile`'s.
"""

from __future__ import annotations

import re
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD

from kg.rdf.terms import Lit
from kg.shacl.model import UnsupportedShape
from kg.shacl.terms import TRUE, from_rdflib, term_of
from kg.shacl.xsd import COMPARABLE_TYPES

#: Constraint parameters the fast engine evaluates exactly (SHACL Core, IRI paths).
CORE = {
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
IGNORED = {
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
#: Constraints SHACL defines on property shapes only.
PROPERTY_ONLY = {"minCount", "maxCount", "uniqueLang", "qualifiedValueShape"}
#: Parameters SHACL allows once per shape: a shape with two is ill-formed (pySHACL refuses it).
SINGLE_VALUED = {
    "datatype", "nodeKind", "minCount", "maxCount", "minExclusive", "minInclusive", "maxExclusive",
    "maxInclusive", "minLength", "maxLength", "pattern", "languageIn", "uniqueLang", "in", "closed",
    "qualifiedValueShape",
}  # fmt: skip
#: What `value_parameter` returns for a parameter that activates nothing (`sh:closed false`).
SKIP = object()
_NODE_KINDS = {SH.IRI, SH.Literal, SH.BlankNode, SH.BlankNodeOrIRI, SH.IRIOrLiteral, SH.BlankNodeOrLiteral}

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


def component_iri(component: str) -> str:
    name = component.rsplit("#", 1)[1]
    return str(SH[_COMPONENT_NAMES[name]])


def rdf_list(g: Graph, head: Any, what: str) -> list[Any]:
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


def integer_of(value: Any, iri: str, what: str) -> int:
    if (
        not isinstance(value, Literal)
        or value.datatype != XSD.integer
        or not re.fullmatch(r"[+-]?\d+", str(value))
    ):
        raise UnsupportedShape(f"{iri}: {what} must be an xsd:integer, not {value!r}")
    return int(str(value))


def value_parameter(g: Graph, node: Any, name: str, value: Any, iri: str) -> Any:
    """The parameter `value` of constraint `sh:name` on shape `node` (named `iri`), as the
    engine uses it; SKIP when it activates nothing."""
    if name == "in":
        return [from_rdflib(member) for member in rdf_list(g, value, f"{iri} sh:in")]
    if name == "languageIn":
        tags = rdf_list(g, value, f"{iri} sh:languageIn")
        if not all(isinstance(t, Literal) and not t.language for t in tags):
            raise UnsupportedShape(f"{iri}: sh:languageIn must list strings")
        return [str(t).lower() for t in tags]
    if name == "pattern":
        return _pattern(g, node, value, iri)
    if name in ("minCount", "maxCount", "minLength", "maxLength"):
        return integer_of(value, iri, f"sh:{name}")
    if name in ("uniqueLang", "closed"):
        # only the literal true activates them; any other value (false, "1"^^xsd:boolean) does not
        if not (value == TRUE and str(value) == "true"):
            return SKIP
        return True if name == "uniqueLang" else _closed(g, node, iri)
    if name in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
        if not isinstance(value, URIRef):
            raise UnsupportedShape(f"{iri}: sh:{name} must be an IRI")
        return str(value)
    if name in ("minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
        bound = term_of(value)
        if not isinstance(bound, Lit) or bound.datatype not in COMPARABLE_TYPES:
            raise UnsupportedShape(f"{iri}: sh:{name} {value!r} is not compared by the fast engine")
        return bound
    if name == "nodeKind":
        if value not in _NODE_KINDS:
            raise UnsupportedShape(f"{iri}: unknown sh:nodeKind {value!r}")
        return str(value)
    if name in ("class", "datatype"):
        if not isinstance(value, URIRef):
            raise UnsupportedShape(f"{iri}: sh:{name} must be an IRI")
        return str(value)
    return from_rdflib(value)


def _pattern(g: Graph, node: Any, value: Any, iri: str) -> re.Pattern[str]:
    flags = list(g.objects(node, SH.flags))
    if len(flags) > 1 or not isinstance(value, Literal):
        raise UnsupportedShape(f"{iri}: sh:pattern with several flags or not a string")
    text = str(flags[0]) if flags else ""
    bits = 0
    for flag in text:
        bit = {"i": re.I, "s": re.S, "m": re.M, "x": re.X}.get(flag)
        if bit is None:
            raise UnsupportedShape(f"{iri}: sh:flags {text!r}")
        bits |= bit
    return re.compile(str(value), bits)


def _closed(g: Graph, node: Any, iri: str) -> frozenset[str]:
    """The predicates a closed shape allows: its property shapes' paths and sh:ignoredProperties."""
    allowed = set()
    for prop in g.objects(node, SH.property):
        for path in g.objects(prop, SH.path):
            if isinstance(path, URIRef):
                allowed.add(str(path))
    for ignored in g.objects(node, SH.ignoredProperties):
        allowed.update(str(p) for p in rdf_list(g, ignored, f"{iri} sh:ignoredProperties"))
    return frozenset(allowed)
