"""SHACL validation of the exported graph, each result traced back to a source file and key.

`validate(data_graph, shapes_graph)` runs an engine (pySHACL by default, no inference, no
owl:imports; see `kg.shacl.engine.Engine`) and reads the standard SHACL report graph it
returns (`kg.validation.report_graph`), so another engine that produces a report graph can be
swapped in and compared. Each result is then located in the sources
(`kg.validation.provenance`). `validate_inputs` does this for what `kg validate` is given
(`kg.validation.inputs`), `load_shapes` reads the shapes (kg's own by default).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from rdflib import Graph

from kg.map.curation import IriScheme
from kg.pipeline.run import Progress
from kg.rdf.vocab import PREFIXES
from kg.read.rdf import RDF_EXTENSIONS, InputError, read_rdf
from kg.read.selection import Selection
from kg.resources import resource_dir
from kg.shacl.engine import Engine, ValidationError, quiet_literals
from kg.shacl.reference import QueryCachingGraph, pyshacl_engine
from kg.validation.inputs import export_results, read_inputs, skipped_files, split_inputs
from kg.validation.keys import SHAPES_NS
from kg.validation.locations import Locator, on_disk
from kg.validation.model import ValidationReport, result_order
from kg.validation.provenance import Provenance
from kg.validation.report_graph import read_report


def validate(
    data_graph: Graph,
    shapes_graph: Graph,
    *,
    engine: Engine = pyshacl_engine,
    curation_graphs: Mapping[str, Iterable[str]] | None = None,
) -> ValidationReport:
    """Validate `data_graph` against `shapes_graph`; every result located in the sources.

    `curation_graphs` (curation IRI -> named graph IRIs) is the provenance the quads give; without
    it the IRI scheme is used (see the module docstring).
    """
    started = time.perf_counter()
    if not isinstance(data_graph, QueryCachingGraph):
        cached = QueryCachingGraph()
        cached += data_graph
        data_graph = cached
    with quiet_literals():
        report_graph = engine(data_graph, shapes_graph)
    provenance = Provenance.from_graph(data_graph, curation_graphs)
    results = [provenance.locate(r, data_graph) for r in read_report(report_graph)]
    results.sort(key=result_order)
    return ValidationReport(
        results,
        report_graph,
        reference_shapes=list(getattr(report_graph, "reference_shapes", [])),
        files=provenance.files(),
        triples=len(data_graph),
        curations=len(provenance.curations),
        seconds=time.perf_counter() - started,
    )


def validate_inputs(
    paths: list[Path],
    shapes_graph: Graph,
    *,
    iris: IriScheme | None = None,
    engine: Engine = pyshacl_engine,
    progress: Progress | None = None,
    select: Selection | None = None,
    taxonomy: Path | None = None,
) -> ValidationReport:
    """Validate RDF files and curation sources together (`kg validate DATA...`); `progress`
    follows the export of the sources, file by file; `select` chooses among the source files
    (--include/--exclude); `taxonomy` (the site's JSON) is exported with the sources, its graph
    validated with them and each topic not exact in it a Warning of its file and key.

    Sources are exported in memory first; a file the exporter could not export at all is a
    Violation of its own (SHACL never sees it), and a per-field problem a Warning, both with
    the file and the key, so the report is complete for CI. Results on sources carry the line
    and column of their key (`kg.validation.locations`); pages that are not curations are
    listed as skipped.
    """
    iris = iris or IriScheme()
    try:
        data = read_inputs(paths, iris, progress=progress, select=select, taxonomy=taxonomy)
        graph = QueryCachingGraph.from_ntriples(data.ntriples)
    except InputError as exc:
        raise ValidationError(str(exc)) from None
    report = validate(graph, shapes_graph, engine=engine, curation_graphs=data.curation_graphs)
    extra = export_results(data.export_rows, iris)
    if extra:
        report.results = sorted(extra + report.results, key=result_order)
    report.files = sorted(set(report.files) | {str(row["path"]) for row in data.export_rows})
    report.skipped = skipped_files(data.export_rows)
    report.disk_paths = on_disk(split_inputs(paths)[1])
    if report.results and report.disk_paths:
        locator = Locator(report.disk_paths, iris)
        report.results = [locator.locate(r) for r in report.results]
    return report


def shape_files(location: Path | None = None) -> list[Path]:
    """The RDF files of a shapes folder (sorted), or the one file given."""
    location = location or resource_dir("shapes")
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise ValidationError(f"{location}: no such shapes file or folder")
    files = sorted(p for p in location.iterdir() if p.is_file() and p.suffix.lower() in RDF_EXTENSIONS)
    if not files:
        raise ValidationError(f"{location}: no shapes files ({', '.join(RDF_EXTENSIONS)})")
    return files


def load_shapes(location: Path | None = None) -> Graph:
    """The shapes graph from a folder of RDF files (default: the packaged `shapes/`)."""
    try:
        loaded = read_rdf(shape_files(location))
    except InputError as exc:
        raise ValidationError(f"shapes: {exc}") from None
    graph = Graph()
    graph.parse(data=loaded.ntriples, format="nt")
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    graph.bind("kgsh", SHAPES_NS)
    return graph
