"""The export pipeline's entry points: `export` (discover -> read/parse -> map -> write into an
output folder, with a report of every file) and `build` (the same in memory).

Reading, parsing and mapping run per file (in a process pool for large inputs:
`kg.pipeline.workers`); results come back in sorted path order, so outputs are byte-identical
from run to run. One bad file never stops the others: every failure becomes a `failed` row in
the report (`kg.pipeline.run`). An export into a folder reuses what is unchanged since the
previous one (`kg.pipeline.incremental`) and replaces the outputs all at once or not at all
(`kg.pipeline.commit`), the dataset description `void.ttl` among them (`kg.publish.void`,
computed from the staged files). Also the names callers of the export use, in `__all__`.
"""

# lazy: kg.publish.void (pyoxigraph, ~60 ms to import) only once the outputs are staged, so
# `kg export --help` starts without it (tests/test_cli.py).

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from kg.map.curation import IriScheme
from kg.map.nodes import NodeGraph, node_graphs
from kg.pipeline.cluster import Cluster, process_on_cluster
from kg.pipeline.commit import OutputError, StagedOutputs, output_folder
from kg.pipeline.incremental import reuse
from kg.pipeline.incremental.blocks import BlockWriter
from kg.pipeline.incremental.digests import fingerprint, graph_digest
from kg.pipeline.incremental.manifest import MANIFEST_NAME, ManifestError
from kg.pipeline.incremental.previous import Previous
from kg.pipeline.incremental.recorder import Recorder
from kg.pipeline.outcome import FileOutcome, Job
from kg.pipeline.report import REPORT_NAME, ExportReport
from kg.pipeline.run import Progress, Run, StrictError
from kg.pipeline.signals import Interrupted, interruptible
from kg.pipeline.taxonomy import ExportTaxonomy, load_taxonomy
from kg.pipeline.workers import process_all, renderer
from kg.publish import DESCRIPTION_NAME
from kg.rdf.namespaces import PREFIXES, instance_prefixes
from kg.rdf.terms import Triple
from kg.read.selection import Selection
from kg.read.sources import SourceFile
from kg.write.ntriples import ntriples_block
from kg.write.protocol import sort_triples
from kg.write.registry import FORMATS
from kg.write.streams import OutputStreams

#: Who does the per-file work: a number of local worker processes (None: all cores for large
#: inputs, see `kg.pipeline.workers`) or a Dask cluster.
Workers = int | Cluster | None

__all__ = [
    "FORMATS",
    "REPORT_NAME",
    "Cluster",
    "CurationGraphData",
    "ExportReport",
    "InMemoryExport",
    "Interrupted",
    "OutputError",
    "StrictError",
    "Workers",
    "build",
    "export",
    "interruptible",
]


@dataclass(slots=True)
class CurationGraphData:
    """One exported curation: its source path, graph IRI and N-Quads lines."""

    path: str
    graph: str
    nquads: str


@dataclass(slots=True)
class InMemoryExport:
    """The result of `build`: the report, every curation graph, the taxonomy's graph (when
    given one) and every shared node's graph (`kg.map.nodes`), nothing written to disk."""

    report: ExportReport
    graphs: list[CurationGraphData]
    own_ntriples: list[str]
    shared: set[Triple]
    nodes: list[NodeGraph]
    taxonomy: ExportTaxonomy | None = None

    def nquads(self) -> bytes:
        """All curation graphs, the taxonomy's, then the shared nodes' graphs: byte-identical to
        `curations.nq` (see `_write_named_graphs`)."""
        tax = self.taxonomy.nquads() if self.taxonomy is not None else ""
        text = "".join(g.nquads for g in self.graphs) + tax + "".join(n.nquads() for n in self.nodes)
        return text.encode("utf-8")

    def ntriples(self) -> bytes:
        """The union graph (the taxonomy's triples among the shared ones), byte-identical to
        `curations.nt`."""
        stated = self.taxonomy.graph.triples if self.taxonomy is not None else ()
        shared = ntriples_block(sort_triples(self.shared.union(stated, (n.typed for n in self.nodes))))
        return ("".join(self.own_ntriples) + shared).encode("utf-8")


def produce(files: list[SourceFile], job: Job, jobs: Workers = None) -> Iterator[FileOutcome]:
    """The outcomes of `files` in their order, from local workers or from a cluster's."""
    if isinstance(jobs, Cluster):
        return process_on_cluster(files, job, jobs)
    return process_all(files, job, jobs)


def _job(
    iris: IriScheme,
    formats: Iterable[str],
    shapes: Iterable[Path] = (),
    taxonomy: ExportTaxonomy | None = None,
) -> Job:
    """The job of every worker: the IRI scheme, `formats`, the prefixes of both, the shapes,
    the taxonomy to match topics against."""
    prefixes = {**PREFIXES, **instance_prefixes(iris.base)}
    matched = taxonomy.for_workers() if taxonomy is not None else None
    return Job(iris, tuple(formats), tuple(prefixes.items()), tuple(str(p) for p in shapes), matched)


def build(
    sources: list[Path],
    iris: IriScheme | None = None,
    strict: bool = False,
    jobs: Workers = None,
    shapes: Iterable[Path] = (),
    progress: Progress | None = None,
    select: Selection | None = None,
    taxonomy: Path | None = None,
) -> InMemoryExport:
    """Run the export pipeline in memory (for `kg validate` and `kg load` on sources);
    `progress(done, total)` is called as files are done; `select` leaves files out
    (--include/--exclude). With a `taxonomy` (the site's JSON) it does what `export` does with
    one: topics matched against it in the workers (a warning per topic not exact), its graph
    kept beside the curations', the node graphs without the triples it states, and
    `report.taxonomy`; `kg.read.taxonomy.TaxonomyError` when it cannot be read."""
    started = time.perf_counter()
    iris = iris or IriScheme()
    tax = load_taxonomy(taxonomy, iris) if taxonomy is not None else None
    graphs: list[CurationGraphData] = []
    own_nt: list[str] = []

    def keep(outcome: FileOutcome) -> None:
        if outcome.graph is None:
            return
        graphs.append(CurationGraphData(outcome.result.path, outcome.graph, outcome.nquads))
        own_nt.append(outcome.blocks.get("ntriples", ""))

    job = _job(iris, ("nquads", "ntriples"), shapes, tax)
    union = tax.graph.triples if tax is not None else ()
    run = Run(sources, job, strict, progress, select, union)
    report = run.take(produce(run.files, job, jobs), keep)
    if tax is not None:
        report.taxonomy = tax.summary()
    nodes = _node_graphs(run.shared, job.iris.base, union, report)
    report.seconds = time.perf_counter() - started
    return InMemoryExport(report, graphs, own_nt, run.shared, nodes, tax)


def export(
    sources: list[Path],
    out_dir: Path,
    formats: list[str] | tuple[str, ...] = tuple(FORMATS),
    iris: IriScheme | None = None,
    strict: bool = False,
    jobs: Workers = None,
    progress: Progress | None = None,
    shapes: Iterable[Path] = (),
    full: bool = False,
    select: Selection | None = None,
    taxonomy: Path | None = None,
) -> ExportReport:
    """Export `sources` to `out_dir` in `formats`; returns the report (also written as JSON).

    Outputs are streamed to temporary files and renamed into place only after all of them
    are complete, so a crash leaves the previous outputs as they were. The export is
    incremental (see `kg.pipeline.incremental`): files unchanged since the export already in `out_dir`
    are reused, unless `full`, or unless `shapes` are given: validating in the workers needs
    every curation processed (the shapes do not change the outputs). `select` leaves files out
    (--include/--exclude): they are reported skipped, with the pattern.
    With a `taxonomy` (the site's JSON), its SKOS graph is written too and every curation's
    topics are matched against it (`kg.pipeline.taxonomy`); the sha256 of its bytes is one of
    the settings, so another taxonomy means a full export.
    Raises `OutputError` (an OSError naming `out_dir`) when the outputs cannot be written, and
    `kg.read.taxonomy.TaxonomyError` when the taxonomy cannot be read (nothing is written).
    """
    started = time.perf_counter()
    iris = iris or IriScheme()
    tax = load_taxonomy(taxonomy, iris) if taxonomy is not None else None
    job = _job(iris, [f for f in FORMATS if f in formats], shapes, tax)
    settings: dict[str, object] = {
        "base_iri": iris.base,
        "asset_base": iris.asset_base,
        "formats": job.formats,
    }
    if tax is not None:  # (absent without one: an export without a taxonomy keeps its manifest)
        settings["taxonomy"] = tax.sha256
    parts = fingerprint(settings)
    report = _IntoFolder(sources, out_dir, job, parts, strict, jobs, progress, select, tax).run(full)
    report.seconds = time.perf_counter() - started
    return report


@dataclass(frozen=True, slots=True)
class _IntoFolder:
    """One `export` into a folder: what it reads and writes, and how; `run` does it."""

    sources: list[Path]
    out_dir: Path
    job: Job
    parts: dict[str, Any]  # what the outputs depend on besides the sources (`fingerprint`)
    strict: bool
    jobs: Workers
    progress: Progress | None
    select: Selection | None = None
    taxonomy: ExportTaxonomy | None = None

    def run(self, full: bool) -> ExportReport:
        """Export into the locked folder, reusing the previous export unless `full` (or validating).

        A previous export found damaged midway (a block cut short) means starting again, in full.
        """
        names = {name: FORMATS[name] for name in self.job.formats}
        with output_folder(self.out_dir):
            previous = Previous(self.out_dir, self.parts, self.job.formats, names)
            why_full = (
                "--full"
                if full
                else "validating: every curation is processed"
                if self.job.shapes
                else previous.why_not or None
            )
            damage = previous.damage
            try:
                try:
                    report = self._attempt(previous, why_full)
                except ManifestError as exc:  # found damaged midway: start again, in full
                    damage = str(exc) if exc.damaged else damage
                    report = self._attempt(previous, str(exc))
            finally:
                previous.close()
        report.manifest_damage = damage
        return report

    def _attempt(self, previous: Previous, why_full: str | None) -> ExportReport:
        """One attempt: all outputs staged, renamed into place only if it completes."""
        usable = None if why_full else previous
        counts = reuse.Reuse()
        with StagedOutputs(self.out_dir) as staged, contextlib.ExitStack() as stack:
            handles = {name: staged.open(FORMATS[name]) for name in self.job.formats}
            streams = OutputStreams(renderer(self.job.prefixes), handles)
            recorder = Recorder(handles, usable, str(self.out_dir))
            blocks = stack.enter_context(BlockWriter(handles, streams, usable))
            tax = self.taxonomy
            union = tax.graph.triples if tax is not None else ()
            run = Run(self.sources, self.job, self.strict, self.progress, self.select, union)
            produce_all = partial(produce, job=self.job, jobs=self.jobs)
            items = reuse.outcomes(run.files, usable, produce_all, run.shared, counts)
            writer = _Writer(recorder, blocks)
            report = run.take(items, writer.write, writer.copy)
            report.outputs = [FORMATS[f] for f in self.job.formats] + [DESCRIPTION_NAME, REPORT_NAME]
            if tax is not None:
                report.taxonomy = tax.summary()
                recorder.graphs[tax.graph.graph] = tax.digest()
            nodes = _node_graphs(run.shared, self.job.iris.base, union, report)
            for node in nodes:
                recorder.graphs[node.graph] = graph_digest(node.graph, node.lines)
            # the report and most of the manifest are written while the I/O threads finish the blocks
            report.write(staged.open(REPORT_NAME))
            manifest = staged.open(MANIFEST_NAME)
            recorder.write_manifest(manifest, self.parts, previous, why_full)
            blocks.wait()
            extra = _write_named_graphs(tax, nodes, handles)
            streams.finish(run.shared.union(union, (n.typed for n in nodes)))
            for handle in handles.values():
                handle.flush()
            recorder.finish_manifest(manifest, {FORMATS[n]: h for n, h in handles.items()}, extra)
            _describe(staged, self.job.iris.base)
        report.reuse, report.why_full = counts, why_full
        return report


def _node_graphs(
    shared: set[Triple], base: str, stated: Iterable[Triple], report: ExportReport
) -> list[NodeGraph]:
    """The shared nodes' graphs (less what the taxonomy states), counted in `report`: their
    quads, and each graph's type among the triples."""
    nodes = node_graphs(shared, base=base, stated=set(stated))
    report.quads += sum(len(n.lines) for n in nodes)
    report.triples += len(nodes)
    return nodes


def _write_named_graphs(
    tax: ExportTaxonomy | None, nodes: list[NodeGraph], handles: dict[str, IO[bytes]]
) -> dict[str, Any]:
    """Append the taxonomy's named graph, then the shared nodes' graphs, to `curations.nq` (after
    every curation's block); returns the manifest's `graph_blocks`, where each lies (the other
    formats get their triples with the shared nodes: they hold the union graph)."""
    if "nquads" not in handles:
        return {}
    handle = handles["nquads"]
    blocks: dict[str, list[int]] = {}
    graphs = [(tax.graph.graph, tax.nquads())] if tax is not None else []
    for graph, text in graphs + [(n.graph, n.nquads()) for n in nodes]:
        data = text.encode("utf-8")
        blocks[graph] = [handle.tell(), len(data)]
        handle.write(data)
    return {"graph_blocks": blocks} if blocks else {}


def _describe(staged: StagedOutputs, base_iri: str) -> None:
    """Stage `void.ttl`: the description of the outputs staged so far (the manifest aside), read
    back from their temporary files, so its sizes and checksums are those of the files committed."""
    from kg.publish.void import describe

    outputs = {name: path for name, path in staged.written().items() if name != MANIFEST_NAME}
    staged.open(DESCRIPTION_NAME).write(describe(outputs, base_iri).encode("utf-8"))


@dataclass(frozen=True, slots=True)
class _Writer:
    """Where a run hands each file: its blocks to the outputs, its row to the manifest."""

    recorder: Recorder
    blocks: BlockWriter

    def write(self, outcome: FileOutcome) -> None:
        self.recorder.add(outcome, {} if outcome.graph is None else self.blocks.write(outcome))

    def copy(self, run: reuse.ReusedRun) -> None:
        self.recorder.add_run(run, self.blocks.copy(run.rows))
