"""Reading a standard SHACL validation report graph, whatever engine produced it, into
`ValidationResult`s (not yet located in the sources: `kg.validation.provenance` does that)."""

from __future__ import annotations

from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from kg.rdf.vocab import RDF
from kg.validation.model import Severity, ValidationResult


def read_report(report_graph: Graph) -> list[ValidationResult]:
    """The results of a standard SHACL report graph (any engine), not yet located.

    Only the report's own results (`sh:result`): the nested ones under `sh:detail` explain a
    result, they are not results of their own.
    """
    out = []
    g = report_graph
    nodes = [r for root in g.subjects(RDF.type, SH.ValidationReport) for r in g.objects(root, SH.result)]
    for node in sorted(set(nodes), key=str):
        severity = g.value(node, SH.resultSeverity)
        messages = sorted(str(m) for m in g.objects(node, SH.resultMessage))
        out.append(
            ValidationResult(
                focus_node=_term_text(g.value(node, SH.focusNode)) or "",
                path=_path_text(g, g.value(node, SH.resultPath)),
                value=_term_text(g.value(node, SH.value)),
                severity=severity_of(severity),
                message=messages[0] if messages else "",
                source_shape=_term_text(g.value(node, SH.sourceShape)),
                constraint_component=_term_text(g.value(node, SH.sourceConstraintComponent)),
            )
        )
    return out


def severity_of(node: Node | None) -> Severity:
    """The Severity of an sh:resultSeverity value."""
    if node == SH.Warning:
        return "Warning"
    if node == SH.Info:
        return "Info"
    return "Violation"  # sh:Violation, and any custom severity is taken as the most serious


def _term_text(node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, BNode):
        return f"_:{node}"
    return str(node)


def _path_text(g: Graph, node: Node | None) -> str | None:
    """A predicate path as its IRI; a complex path in SPARQL property-path syntax."""
    if node is None:
        return None
    if isinstance(node, URIRef):
        return str(node)
    return sparql_path(g, node)


def sparql_path(g: Graph, node: Node) -> str:
    """A SHACL path node in SPARQL property-path syntax (an IRI in `<...>`)."""
    if isinstance(node, URIRef):
        return f"<{node}>"
    if (node, RDF.first, None) in g:
        return "(" + " / ".join(sparql_path(g, item) for item in Collection(g, node)) + ")"
    for prop, template in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        inner = g.value(node, prop)
        if inner is not None:
            return template.format(sparql_path(g, inner))
    alternatives = g.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + " | ".join(sparql_path(g, item) for item in Collection(g, alternatives)) + ")"
    return _term_text(node) or ""
