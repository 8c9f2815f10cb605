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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from kg.map.curation import IriScheme
from kg.pipeline.commit import OutputError, StagedOutputs, output_folder
from kg.pipeline.incremental import reuse
from kg.pipeline.incremental.blocks import BlockWriter
from kg.pipeline.incremental.digests import fingerprint
from kg.pipeline.incremental.manifest import MANIFEST_NAME, ManifestError
from kg.pipeline.incremental.previous import Previous
from kg.pipeline.incremental.recorder import Recorder
from kg.pipeline.outcome import FileOutcome, Job
from kg.pipeline.report import REPORT_NAME, ExportReport
from kg.pipeline.run import Progress, Run, StrictError
from kg.pipeline.signals import Interrupted, interruptible
from kg.pipeline.workers import process_all, renderer
from kg.publish import DESCRIPTION_NAME
from kg.rdf.namespaces import PREFIXES, instance_prefixes
from kg.rdf.terms import Triple
from kg.write.formats import FORMATS, OutputStreams, ntriples_block, sort_triples

__all__ = [
    "FORMATS",
    "REPORT_NAME",
    "CurationGraphData",
    "ExportReport",
    "InMemoryExport",
    "Interrupted",
    "OutputError",
    "StrictError",
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
    """The result of `build`: the report and every curation graph, nothing written to disk."""

    report: ExportReport
    graphs: list[CurationGraphData]
    own_ntriples: list[str]
    shared: set[Triple]

    def nquads(self) -> bytes:
        """All curation graphs, byte-identical to `curations.nq`."""
        return "".join(g.nquads for g in self.graphs).encode("utf-8")

    def ntriples(self) -> bytes:
        """The union graph, byte-identical to `curations.nt`."""
        shared = ntriples_block(sort_triples(self.shared))
        return ("".join(self.own_ntriples) + shared).encode("utf-8")


def _job(iris: IriScheme, formats: Iterable[str], shapes: Iterable[Path] = ()) -> Job:
    """The job of every worker: the IRI scheme, `formats`, the prefixes of both, the shapes."""
    prefixes = {**PREFIXES, **instance_prefixes(iris.base)}
    return Job(iris, tuple(formats), tuple(prefixes.items()), tuple(str(p) for p in shapes))


def build(
    sources: list[Path],
    iris: IriScheme | None = None,
    strict: bool = False,
    jobs: int | None = None,
    shapes: Iterable[Path] = (),
) -> InMemoryExport:
    """Run the export pipeline in memory (for `kg validate` and `kg load` on sources)."""
    started = time.perf_counter()
    graphs: list[CurationGraphData] = []
    own_nt: list[str] = []

    def keep(outcome: FileOutcome) -> None:
        if outcome.graph is None:
            return
        graphs.append(CurationGraphData(outcome.result.path, outcome.graph, outcome.nquads))
        own_nt.append(outcome.blocks.get("ntriples", ""))

    job = _job(iris or IriScheme(), ("nquads", "ntriples"), shapes)
    run = Run(sources, job, strict)
    report = run.take(process_all(run.files, job, jobs), keep)
    report.seconds = time.perf_counter() - started
    return InMemoryExport(report, graphs, own_nt, run.shared)


def export(
    sources: list[Path],
    out_dir: Path,
    formats: list[str] | tuple[str, ...] = tuple(FORMATS),
    iris: IriScheme | None = None,
    strict: bool = False,
    jobs: int | None = None,
    progress: Progress | None = None,
    shapes: Iterable[Path] = (),
    full: bool = False,
) -> ExportReport:
    """Export `sources` to `out_dir` in `formats`; returns the report (also written as JSON).

    Outputs are streamed to temporary files and renamed into place only after all of them
    are complete, so a crash leaves the previous outputs as they were. The export is
    incremental (see `kg.pipeline.incremental`): files unchanged since the export already in `out_dir`
    are reused, unless `full`, or unless `shapes` are given: validating in the workers needs
    every curation processed (the shapes do not change the outputs).
    Raises `OutputError` (an OSError naming `out_dir`) when the outputs cannot be written.
    """
    started = time.perf_counter()
    iris = iris or IriScheme()
    job = _job(iris, [f for f in FORMATS if f in formats], shapes)
    parts = fingerprint({"base_iri": iris.base, "asset_base": iris.asset_base, "formats": job.formats})
    report = _IntoFolder(sources, out_dir, job, parts, strict, jobs, progress).run(full)
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
    jobs: int | None
    progress: Progress | None

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
            run = Run(self.sources, self.job, self.strict, self.progress)
            produce = partial(process_all, job=self.job, jobs=self.jobs)
            items = reuse.outcomes(run.files, usable, produce, run.shared, counts)
            writer = _Writer(recorder, blocks)
            report = run.take(items, writer.write, writer.copy)
            report.outputs = [FORMATS[f] for f in self.job.formats] + [DESCRIPTION_NAME, REPORT_NAME]
            # the report and most of the manifest are written while the I/O threads finish the blocks
            report.write(staged.open(REPORT_NAME))
            manifest = staged.open(MANIFEST_NAME)
            recorder.write_manifest(manifest, self.parts, previous, why_full)
            blocks.wait()
            streams.finish(run.shared)
            for handle in handles.values():
                handle.flush()
            recorder.finish_manifest(manifest, {FORMATS[n]: h for n, h in handles.items()})
            _describe(staged, self.job.iris.base)
        report.reuse, report.why_full = counts, why_full
        return report


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
