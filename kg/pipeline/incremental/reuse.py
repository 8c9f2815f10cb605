"""Reuse of unchanged files: the sources in order, each either processed again or, with its
neighbours, taken as a `ReusedRun` of consecutive rows of the previous manifest (whose report
rows, totals and outcomes come from there). Decides only; reads no output and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kg.pipeline.incremental.previous import Previous
from kg.pipeline.outcome import FileOutcome, report_row
from kg.rdf.terms import Triple
from kg.read.sources import SourceFile, Stamp

#: Most files in one `ReusedRun` (its rows are held in memory until written).
RUN_MAX = 2048


@dataclass(slots=True)
class ReusedRun:
    """Consecutive files reused from consecutive rows of the previous manifest.

    Handled as one item: their blocks are contiguous in the previous outputs (one copy per
    format) and their report and manifest rows are taken from the previous manifest's columns,
    so a re-export spends almost nothing per unchanged file.
    """

    previous: Previous
    files: list[SourceFile]
    rows: list[int]
    stamps: list[Stamp]

    def outcomes(self) -> list[FileOutcome]:
        """One outcome per file, as `Previous.outcome` rebuilds it (for per-file handling)."""
        return [self.previous.outcome(f.relative, s) for f, s in zip(self.files, self.stamps, strict=True)]

    def report_rows(self) -> list[dict[str, Any]]:
        """The files' rows of `report.json` (`report_row`, from the previous manifest's columns)."""
        previous = self.previous
        status, reason = previous.files["status"], previous.files["reason"]
        return [
            report_row(
                f.relative,
                status[i],
                reason[i],
                previous.problem_rows(i, f.relative) if i in previous.problems else None,
            )
            for f, i in zip(self.files, self.rows, strict=True)
        ]

    def totals(self) -> tuple[int, int]:
        """(own triples, quads) of the files' graphs."""
        files = self.previous.files
        graphs, own, quads = files["graph"], files["own"], files["quads"]
        with_graph = [i for i in self.rows if graphs[i] is not None]
        return sum(own[i] for i in with_graph), sum(quads[i] for i in with_graph)


def outcomes(
    files: list[SourceFile],
    previous: Previous | None,
    produce: Callable[[list[SourceFile]], Iterator[FileOutcome]],
    shared: set[Triple],
    counts: Reuse,
) -> Iterator[FileOutcome | ReusedRun]:
    """Outcomes in the order of `files`: reused where path and stamp or hash match, else `produce`d.

    Reused files come in `ReusedRun`s. Every file's stamp is compared first (see the module's
    docstring); the added and changed ones are then processed together (in the worker pool
    when there are many). The shared triples of the reused files are added to `shared`
    (their outcomes carry none, which saves hashing ~300k tuples).
    """
    if previous is None or not previous.reusable:
        counts.processed = len(files)
        yield from produce(files)
        return
    stamps = [previous.unchanged(f) for f in files]  # None: to be processed
    fresh = produce([f for f, stamp in zip(files, stamps, strict=True) if stamp is None])
    index = previous.index
    rows = [-1 if stamp is None else index[f.relative] for f, stamp in zip(files, stamps, strict=True)]
    reused = {row for row in rows if row >= 0}
    shared.update(previous.seed(reused))
    counts.reused, counts.processed = len(reused), len(files) - len(reused)
    run: ReusedRun | None = None
    for f, stamp, row in zip(files, stamps, rows, strict=True):
        if stamp is None:
            if run is not None:
                yield run
                run = None
            yield next(fresh)
            continue
        if run is not None and run.rows[-1] + 1 == row and len(run.rows) < RUN_MAX:
            run.files.append(f)
            run.rows.append(row)
            run.stamps.append(stamp)
        else:
            if run is not None:
                yield run
            run = ReusedRun(previous, [f], [row], [stamp])
    if run is not None:
        yield run


@dataclass(slots=True)
class Reuse:
    """How many files were reused from the previous export and how many were processed."""

    reused: int = 0
    processed: int = 0
