"""The export pipeline: discover -> read/parse -> map -> write, with a report of every file.

Reading, parsing and mapping run per file (in a process pool for large inputs); results come
back in sorted path order, so outputs are byte-identical from run to run. One bad file never
stops the others: every failure becomes a `failed` row in the report.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import IO

from rdflib import Graph

from kg import __version__
from kg.fastshacl import (
    CompiledShapes,
    LocalOutcome,
    Result,
    SharedValidation,
    compile_shapes,
    validate_curation,
)
from kg.mapping import IriScheme, curation_rdf
from kg.model import ParseResult, Problem
from kg.sources import SourceFile, discover, read_file
from kg.terms import Triple, nt_line
from kg.vocab import PREFIXES, instance_prefixes
from kg.writers import (
    OutputStreams,
    Renderer,
    ntriples_block,
    render_blocks,
    sort_triples,
)

#: Output formats: name -> file name in the output folder.
FORMATS: dict[str, str] = {
    "turtle": "curations.ttl",
    "jsonld": "curations.jsonld",
    "ntriples": "curations.nt",
    "nquads": "curations.nq",
}
REPORT_NAME = "report.json"
#: Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 400


@dataclass(frozen=True, slots=True)
class Job:
    """What every worker needs to know: how to mint IRIs and which formats to render."""

    iris: IriScheme
    formats: tuple[str, ...]
    prefixes: tuple[tuple[str, str], ...]
    shapes: tuple[str, ...] = ()  # SHACL files to validate against in the workers (fast engine)


@dataclass(slots=True)
class FileOutcome:
    """One input file after read, parse, map and render (everything picklable)."""

    result: ParseResult
    graph: str | None = None
    nquads: str = ""  # the curation's whole named graph (own + shared triples)
    blocks: dict[str, str] = field(default_factory=dict)  # own triples rendered per format
    own: int = 0  # number of distinct own triples
    shared: list[Triple] = field(default_factory=list)
    validation: LocalOutcome | None = None  # the worker's half of validation, when asked


class StrictError(Exception):
    """Raised with `strict=True` at the first problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@lru_cache(maxsize=4)
def compiled_shapes(paths: tuple[str, ...]) -> CompiledShapes:
    """Shapes parsed and compiled once per process."""
    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return compile_shapes(graph)


@lru_cache(maxsize=4)
def _renderer(prefixes: tuple[tuple[str, str], ...]) -> Renderer:
    return Renderer(dict(prefixes))


def process(source: SourceFile, job: Job) -> FileOutcome:
    """Read, parse, map and render one file. Never raises: an error fails only this file."""
    try:
        result = read_file(source)
        if result.curation is None:
            return FileOutcome(result)
        rdf = curation_rdf(result.curation, job.iris)
        result.curation = None  # not needed by the parent; saves pickling the body
        own = sort_triples(dict.fromkeys(rdf.own))
        own_nt = [nt_line(t) for t in own]  # encoded once, reused for N-Triples and N-Quads
        blocks = render_blocks(_renderer(job.prefixes), own, job.formats, own_nt)
        nquads = ""
        if "nquads" in job.formats:
            in_graph = f"<{rdf.graph}> .\n"  # an N-Triples line ends ".\n"; a quad adds its graph
            nquads = "".join(line[:-2] + in_graph for line in own_nt + [nt_line(t) for t in rdf.shared])
        validation = None
        if job.shapes:
            own_subjects = {t[0] for t in own}
            validation = validate_curation(compiled_shapes(job.shapes), own, rdf.shared, own_subjects)
        return FileOutcome(result, rdf.graph, nquads, blocks, len(own), rdf.shared, validation)
    except Exception as exc:
        reason = f"internal error: {type(exc).__name__}: {exc}"
        return FileOutcome(ParseResult(source.relative, "failed", reason=reason))


def _process_chunk(files: list[SourceFile], job: Job) -> list[FileOutcome]:
    return [process(f, job) for f in files]


def process_all(files: list[SourceFile], job: Job, jobs: int | None = None) -> Iterator[FileOutcome]:
    """Outcomes in the order of `files`, computed serially or by `jobs` worker processes.

    At most two chunks per worker are in flight, so results never pile up in memory.
    """
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(files) < PARALLEL_THRESHOLD:
        for f in files:
            yield process(f, job)
        return
    size = max(8, min(128, len(files) // (workers * 16) or 1))
    chunks = iter([files[i : i + size] for i in range(0, len(files), size)])
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[list[FileOutcome]]] = deque(
            pool.submit(_process_chunk, chunk, job) for chunk in islice(chunks, workers * 2)
        )
        while pending:
            outcomes = pending.popleft().result()
            chunk = next(chunks, None)
            if chunk is not None:
                pending.append(pool.submit(_process_chunk, chunk, job))
            yield from outcomes


@dataclass(slots=True)
class ExportReport:
    """What happened to every input file, plus totals. Serialised as `report.json`."""

    files: list[dict[str, object]] = field(default_factory=list)
    triples: int = 0
    quads: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    validation: list[Result] | None = None  # SHACL results when the export validated

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f["status"] == status)

    @property
    def problems(self) -> int:
        return sum(len(f.get("problems", [])) for f in self.files)  # type: ignore[misc,arg-type]

    def exit_code(self) -> int:
        """0 when every file exported or was skipped as not a curation, 1 when any failed."""
        return 1 if self.count("failed") else 0

    def to_json(self) -> dict[str, object]:
        """Deterministic content: no timings, so the file is byte-identical across runs."""
        return {
            "kg_version": __version__,
            "totals": {
                "files": len(self.files),
                "exported": self.count("exported"),
                "skipped": self.count("skipped"),
                "failed": self.count("failed"),
                "field_problems": self.problems,
                "triples": self.triples,
                "quads": self.quads,
            },
            "files": self.files,
        }

    def summary(self, out_dir: Path | None) -> str:
        lines = [
            f"kg export: {len(self.files)} files seen: {self.count('exported')} exported, "
            f"{self.count('skipped')} skipped, {self.count('failed')} failed; "
            f"{self.problems} field problems",
            f"{self.triples} triples ({self.quads} quads) in {self.seconds:.2f} s"
            + (f" -> {out_dir}" if out_dir else ""),
        ]
        shown = 0
        for f in self.files:
            if f["status"] == "failed" and shown < 10:
                lines.append(f"  FAILED  {f['path']}: {f['reason']}")
                shown += 1
        failed = self.count("failed")
        if failed > shown:
            lines.append(f"  ... and {failed - shown} more failures (see {REPORT_NAME})")
        return "\n".join(lines)


def _row(result: ParseResult) -> dict[str, object]:
    row: dict[str, object] = {"path": result.path, "status": result.status, "reason": result.reason}
    if result.problems:
        row["problems"] = [
            {"field": p.field, "message": p.message, "value": p.value, "severity": p.severity}
            for p in result.problems
        ]
    return row


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
    prefixes = {**PREFIXES, **instance_prefixes(iris.base)}
    return Job(iris, tuple(formats), tuple(prefixes.items()), tuple(str(p) for p in shapes))


def _run(
    sources: list[Path],
    job: Job,
    strict: bool,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    on_curation: Callable[[FileOutcome], None],
) -> tuple[ExportReport, set[Triple]]:
    """Process every file, hand each exported curation to `on_curation`, fill the report."""
    files = discover(sources)
    report = ExportReport()
    shared: set[Triple] = set()
    own = 0
    checker = SharedValidation(compiled_shapes(job.shapes)) if job.shapes else None
    files_of_graph: dict[str, list[str]] = defaultdict(list)
    for done, outcome in enumerate(process_all(files, job, jobs), start=1):
        result = outcome.result
        if strict:
            first = next(iter(result.problems), None) if result.status == "exported" else None
            if result.status == "failed":
                first = Problem(result.path, None, result.reason or "failed")
            if first is not None:
                raise StrictError(first)
        report.files.append(_row(result))
        if outcome.graph is not None:
            report.quads += outcome.own + len(outcome.shared)
            own += outcome.own
            shared.update(outcome.shared)
            files_of_graph[outcome.graph].append(result.path)
            if checker is not None and outcome.validation is not None:
                checker.add(outcome.validation)
            on_curation(outcome)
        if progress is not None:
            progress(done, len(files))
    report.triples = own + len(shared)
    if checker is not None:
        report.validation = checker.finish(shared)
        duplicated = [paths for paths in files_of_graph.values() if len(paths) > 1]
        if duplicated:
            report.validation = _revalidate_duplicates(report.validation, duplicated, files, job)
    return report, shared


SPARQL_COMPONENT = "http://www.w3.org/ns/shacl#SPARQLConstraintComponent"


def _revalidate_duplicates(
    results: list[Result], duplicated: list[list[str]], files: list[SourceFile], job: Job
) -> list[Result]:
    """Curations whose identity appears in several files merge in the union graph: validate
    their own nodes again on the merged triples, as a whole-graph validator would see them."""
    by_path = {f.relative: f for f in files}
    compiled = compiled_shapes(job.shapes)
    for paths in duplicated:
        own: list[Triple] = []
        shared: list[Triple] = []
        for path in paths:
            curation = read_file(by_path[path]).curation
            if curation is not None:
                rdf = curation_rdf(curation, job.iris)
                own += rdf.own
                shared += rdf.shared
        subjects = {t[0] for t in own}
        merged = validate_curation(compiled, own, shared, subjects).results
        results = [
            r for r in results if r.focus not in subjects or r.component.endswith("SPARQLConstraintComponent")
        ]
        results += [r for r in merged if r not in results]
    return results


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
        assert outcome.graph is not None
        graphs.append(CurationGraphData(outcome.result.path, outcome.graph, outcome.nquads))
        own_nt.append(outcome.blocks.get("ntriples", ""))

    job = _job(iris or IriScheme(), ("nquads", "ntriples"), shapes)
    report, shared = _run(sources, job, strict, jobs, None, keep)
    report.seconds = time.perf_counter() - started
    return InMemoryExport(report, graphs, own_nt, shared)


def export(
    sources: list[Path],
    out_dir: Path,
    formats: list[str] | tuple[str, ...] = tuple(FORMATS),
    iris: IriScheme | None = None,
    strict: bool = False,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    shapes: Iterable[Path] = (),
) -> ExportReport:
    """Export `sources` to `out_dir` in `formats`; returns the report (also written as JSON).

    Outputs are streamed to temporary files and renamed into place only after all of them
    are complete, so a crash leaves the previous outputs as they were.
    """
    started = time.perf_counter()
    job = _job(iris or IriScheme(), [f for f in FORMATS if f in formats], shapes)
    out_dir.mkdir(parents=True, exist_ok=True)

    with _StagedOutputs(out_dir) as staged:
        handles = {name: staged.open(FORMATS[name]) for name in job.formats}
        streams = OutputStreams(_renderer(job.prefixes), handles)

        def write(outcome: FileOutcome) -> None:
            if "nquads" in handles:
                handles["nquads"].write(outcome.nquads.encode("utf-8"))
            streams.write_blocks(outcome.blocks)

        report, shared = _run(sources, job, strict, jobs, progress, write)
        streams.finish(shared)
        report.outputs = [FORMATS[f] for f in job.formats] + [REPORT_NAME]
        report_file = staged.open(REPORT_NAME)
        report_file.write(json.dumps(report.to_json(), indent=1, ensure_ascii=False).encode("utf-8") + b"\n")
    report.seconds = time.perf_counter() - started
    return report


class _StagedOutputs:
    """Temporary files beside their targets, renamed into place together if the block succeeds.

    All files are complete and fsynced before the first rename, and `report.json` is renamed
    last; on any error every temporary file is removed and the previous outputs stay.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._staged: list[tuple[Path, str, IO[bytes]]] = []

    def __enter__(self) -> _StagedOutputs:
        return self

    def open(self, name: str) -> IO[bytes]:
        target = self.out_dir / name
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.out_dir)
        os.chmod(tmp, 0o666 & ~_UMASK)
        handle = os.fdopen(fd, "wb")
        self._staged.append((target, tmp, handle))
        return handle

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                for _, _, handle in self._staged:
                    handle.flush()
                    os.fsync(handle.fileno())
                    handle.close()
                for target, tmp, _ in sorted(self._staged, key=lambda s: s[0].name == REPORT_NAME):
                    os.replace(tmp, target)
                _fsync_dir(self.out_dir)
        finally:
            for _, tmp, handle in self._staged:
                handle.close()
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)


_UMASK = os.umask(0)
os.umask(_UMASK)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
