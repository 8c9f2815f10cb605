"""The fast engine's results as a standard SHACL validation report graph (what pySHACL
returns), so every engine's output is read the same way (`kg.validation.report_graph`)."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from kg.shacl.model import Result
from kg.shacl.terms import to_rdflib


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
        report.add((node, SH.focusNode, to_rdflib(r.focus)))
        if r.path is not None:
            report.add((node, SH.resultPath, URIRef(r.path)))
        if r.value is not None:
            report.add((node, SH.value, to_rdflib(r.value)))
        report.add((node, SH.sourceConstraintComponent, URIRef(r.component)))
        report.add((node, SH.sourceShape, to_rdflib(r.shape)))
        report.add((node, SH.resultSeverity, URIRef(r.severity)))
        if r.message is not None:
            report.add((node, SH.resultMessage, Literal(r.message)))
    return report
