"""A fast SHACL engine for kg's graphs, checked against pySHACL (the reference) by the tests.

Why: pySHACL evaluates node by node over one big rdflib graph and costs as much as the whole
export; it cannot run in parallel. kg's graphs have a property that makes validation cheap:
what a curation says about itself and its own nodes depends on that curation alone, and the
shared nodes it links to are described the same way by every curation (kg.map.curation's own
and shared triples). So:

- focus nodes owned by a curation (its node, source article, images, graph) are validated in
  the worker that built the curation, against that curation's triples only
  (`validate_curation`);
- focus nodes shared between curations (topics, schemes, brands, persons, communities,
  classes) are validated once, in the parent, against the merged shared triples
  (`SharedValidation`);
- SPARQL-based constraints (`sh:sparql`) run once, set-based, over an Oxigraph store holding
  only the triples whose predicates the queries mention (`kg.shacl.sparql`).

For any graph at once (`kg validate`): `validate_triples`, and the two engines of the
`kg.shacl.engine.Engine` interface. Shapes the engine cannot evaluate exactly
(`kg.shacl.compile`): `fast_engine` refuses them (exit 2); `auto_engine`, the default of
`kg validate`, evaluates just those with pySHACL on the same data and names them in the
report. With kg's own shapes nothing goes to pySHACL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rdflib import Graph, Literal
from rdflib.namespace import RDF, RDFS, SH

from kg.rdf.terms import Object, Triple
from kg.shacl.compile import compile_shapes, compile_split
from kg.shacl.core import Validator
from kg.shacl.engine import ValidationError, check_sparql
from kg.shacl.model import CompiledShapes, Index, Result, UnsupportedShape, focus_nodes
from kg.shacl.reference import pyshacl_engine
from kg.shacl.report import ReportGraph, results_graph
from kg.shacl.sparql import needed_lines, run_sparql_constraints
from kg.shacl.terms import triples_of

#: The fast engine as its callers use it (the export pipeline, `kg validate`, the tests).
__all__ = [
    "CompiledShapes",
    "LocalOutcome",
    "Result",
    "SharedValidation",
    "UnsupportedShape",
    "auto_engine",
    "compile_shapes",
    "compile_split",
    "fast_engine",
    "reference_shapes_graph",
    "validate_curation",
    "validate_triples",
]

# ---------------------------------------------------------------------- the export's two halves


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
    return LocalOutcome(results, deferred, needed_lines(own, compiled.sparql_predicates))


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
        lines = self.sparql_lines + needed_lines(shared, self.compiled.sparql_predicates)
        self.results.extend(run_sparql_constraints(self.compiled, lines, self.deferred))
        return self.results


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
    lines = needed_lines(triples, compiled.sparql_predicates)
    results.extend(run_sparql_constraints(compiled, lines, focus_by_shape, whole_graph=True))
    return results


def fast_engine(data_graph: Graph, shapes_graph: Graph) -> Graph:
    """The `kg.shacl.engine.Engine` interface: (data graph, shapes graph) -> SHACL report graph.

    Shapes it cannot evaluate exactly raise `kg.shacl.engine.ValidationError` (exit code 2): it
    refuses rather than half-checks.
    """
    check_sparql(shapes_graph)
    try:
        compiled = compile_shapes(shapes_graph)
        return results_graph(validate_triples(compiled, triples_of(data_graph)))
    except UnsupportedShape as exc:
        raise ValidationError(f"the fast engine cannot evaluate these shapes exactly: {exc}") from exc


def reference_shapes_graph(shapes_graph: Graph, compiled: CompiledShapes) -> Graph:
    """The shapes graph for the reference engine: the shapes the fast engine evaluated lose their
    targets (they stay usable through sh:node & co.), so nothing is evaluated twice.

    `kg.shacl.reference.pyshacl_engine` works around pySHACL's known bugs (`without_pyshacl_bugs`).
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
    check_sparql(shapes_graph)
    compiled = compile_split(shapes_graph)
    try:
        results = validate_triples(compiled, triples_of(data_graph))
    except UnsupportedShape as exc:
        raise ValidationError(f"the shapes cannot be used: {exc}") from exc
    report = results_graph(results)
    if not compiled.unsupported:
        return report
    reference = pyshacl_engine(data_graph, reference_shapes_graph(shapes_graph, compiled))
    _merge(report, reference)
    report.reference_shapes = sorted(compiled.unsupported)
    return report


def _merge(report: ReportGraph, reference: Graph) -> None:
    """Add the reference engine's results to the fast engine's report, sh:conforms updated."""
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
