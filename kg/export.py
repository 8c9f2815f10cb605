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
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from kg import __version__
from kg.mapping import IriScheme, curation_triples
from kg.model import ParseResult, Problem
from kg.sources import SourceFile, discover, read_file
from kg.terms import Triple
from kg.vocab import PREFIXES, instance_prefixes
from kg.writers import (
    UnionGraph,
    graph_lines,
    write_jsonld,
    write_ntriples,
    write_turtle,
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


@dataclass(slots=True)
class FileOutcome:
    """One input file after read, parse and map."""

    result: ParseResult
    graph: str | None = None
    triples: list[Triple] = field(default_factory=list)


class StrictError(Exception):
    """Raised with `strict=True` at the first problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def process(source: SourceFile, iris: IriScheme) -> FileOutcome:
    """Read, parse and map one file. Never raises: an unexpected error fails only this file."""
    try:
        result = read_file(source)
        if result.curation is None:
            return FileOutcome(result)
        graph, triples = curation_triples(result.curation, iris)
        return FileOutcome(result, graph, triples)
    except Exception as exc:
        reason = f"internal error: {type(exc).__name__}: {exc}"
        return FileOutcome(ParseResult(source.relative, "failed", reason=reason))


def _process_chunk(args: tuple[list[SourceFile], IriScheme]) -> list[FileOutcome]:
    files, iris = args
    return [process(f, iris) for f in files]


def process_all(files: list[SourceFile], iris: IriScheme, jobs: int | None = None) -> Iterator[FileOutcome]:
    """Outcomes in the order of `files`, computed serially or by `jobs` worker processes."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(files) < PARALLEL_THRESHOLD:
        for f in files:
            yield process(f, iris)
        return
    size = max(16, min(256, len(files) // (workers * 8) or 1))
    chunks = [(files[i : i + size], iris) for i in range(0, len(files), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for outcomes in pool.map(_process_chunk, chunks):
            yield from outcomes


@dataclass(slots=True)
class ExportReport:
    """What happened to every input file, plus totals. Serialised as `report.json`."""

    files: list[dict[str, object]] = field(default_factory=list)
    triples: int = 0
    quads: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)

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
    union: UnionGraph

    def nquads(self) -> bytes:
        return "".join(g.nquads for g in self.graphs).encode("utf-8")

    def ntriples(self) -> bytes:
        return "".join(self.union.sorted_lines()).encode("utf-8")


def _run(
    sources: list[Path],
    iris: IriScheme,
    strict: bool,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    on_graph: Callable[[str, str, str], None],
) -> tuple[ExportReport, UnionGraph]:
    """Process every file, call `on_graph(path, graph, nquads)` per curation, fill the report."""
    files = discover(sources)
    report = ExportReport()
    union = UnionGraph()
    for done, outcome in enumerate(process_all(files, iris, jobs), start=1):
        result = outcome.result
        if strict:
            first = next(iter(result.problems), None) if result.status == "exported" else None
            if result.status == "failed":
                first = Problem(result.path, None, result.reason or "failed")
            if first is not None:
                raise StrictError(first)
        report.files.append(_row(result))
        if outcome.graph is not None:
            lines = graph_lines(outcome.graph, outcome.triples)
            report.quads += len(lines)
            on_graph(result.path, outcome.graph, "".join(lines))
            union.add_all(outcome.triples)
        if progress is not None:
            progress(done, len(files))
    report.triples = len(union)
    return report, union


def build(
    sources: list[Path],
    iris: IriScheme | None = None,
    strict: bool = False,
    jobs: int | None = None,
) -> InMemoryExport:
    """Run the export pipeline in memory (for `kg validate` and `kg load` on sources)."""
    started = time.perf_counter()
    graphs: list[CurationGraphData] = []
    report, union = _run(
        sources,
        iris or IriScheme(),
        strict,
        jobs,
        None,
        lambda path, graph, nq: graphs.append(CurationGraphData(path, graph, nq)),
    )
    report.seconds = time.perf_counter() - started
    return InMemoryExport(report, graphs, union)


def export(
    sources: list[Path],
    out_dir: Path,
    formats: list[str] | tuple[str, ...] = tuple(FORMATS),
    iris: IriScheme | None = None,
    strict: bool = False,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_union: Callable[[UnionGraph], None] | None = None,
) -> ExportReport:
    """Export `sources` to `out_dir` in `formats`; returns the report (also written as JSON).

    `on_union` receives the union graph once every file is processed (`kg export --validate`).

    Every output is first written to a temporary file and renamed into place only after all
    of them are complete, so a crash leaves the previous outputs as they were.
    """
    started = time.perf_counter()
    iris = iris or IriScheme()
    prefixes = {**PREFIXES, **instance_prefixes(iris.base)}
    out_dir.mkdir(parents=True, exist_ok=True)

    with _StagedOutputs(out_dir) as staged:
        nquads = staged.open(FORMATS["nquads"]) if "nquads" in formats else None

        def on_graph(path: str, graph: str, lines: str) -> None:
            if nquads is not None:
                nquads.write(lines.encode("utf-8"))

        report, union = _run(sources, iris, strict, jobs, progress, on_graph)
        if on_union is not None:
            on_union(union)
        if "ntriples" in formats:
            write_ntriples(staged.open(FORMATS["ntriples"]), union)
        if "turtle" in formats:
            write_turtle(staged.open(FORMATS["turtle"]), union, prefixes)
        if "jsonld" in formats:
            write_jsonld(staged.open(FORMATS["jsonld"]), union, prefixes)
        report.outputs = [FORMATS[f] for f in formats] + [REPORT_NAME]
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
