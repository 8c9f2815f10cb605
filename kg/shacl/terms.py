"""rdflib terms to and from the fast engine's own (`kg.rdf.terms`: an IRI is a `str`, a blank
node `_:label`, a literal a `Lit`), lexical forms kept as written."""

from __future__ import annotations

from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from kg.rdf.terms import XSD_STRING, Lit, Object, Triple
from kg.shacl.model import RDF_LANGSTRING, UnsupportedShape

#: The literal that activates a boolean shape parameter (`sh:deactivated true`, ...).
TRUE = Literal("true", datatype=XSD.boolean)


def term_of(node: Any) -> Object:
    """An IRI or a literal; a blank node is UnsupportedShape (a shape parameter cannot be one)."""
    if isinstance(node, URIRef):
        return str(node)
    if isinstance(node, Literal):
        if node.language:
            return Lit(str(node), RDF_LANGSTRING, node.language)
        return Lit(str(node), str(node.datatype or XSD_STRING))
    raise UnsupportedShape(f"blank node value {node!r} in a shape parameter")


def node_text(node: Any) -> str:
    """A shapes-graph node as text, for messages and shape names (`_:x` for a blank node)."""
    return f"_:{node}" if isinstance(node, BNode) else str(node)


def from_rdflib(node: Any) -> Object:
    if isinstance(node, BNode):
        return f"_:{node}"
    return term_of(node)


def to_rdflib(term: Object) -> Any:
    if isinstance(term, str):
        return BNode(term[2:]) if term.startswith("_:") else URIRef(term)
    if term.language:
        return Literal(term.lexical, lang=term.language, normalize=False)
    return Literal(term.lexical, datatype=URIRef(term.datatype), normalize=False)


def triples_of(data_graph: Graph) -> list[Triple]:
    """Every triple of an rdflib graph, in the engine's terms."""
    return [
        (f"_:{s}" if isinstance(s, BNode) else str(s), str(p), from_rdflib(o))
        for s, p, o in data_graph.triples((None, None, None))
    ]
