"""One pass of an export over its sources (`Run`): the files discovered in order, every file's
outcome taken in that order (processed, or reused from the previous export) and handed on to
the caller's writer, the report filled (rows, totals, files changed while they were read) and,
when validating, the validation that needs the whole graph finished. Reads source files (to
discover them, and to validate duplicated curations again); writes nothing itself.
"""

from __future__ import annotations

# lazy: kg.shacl.fast (pyoxigraph and rdflib, ~190 ms to import) only when an export validates,
# so `kg export` starts without them (tests/test_cli.py).
from array import array
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kg.errors import KgError
from kg.map.curation import curation_rdf, provenance_triples
from kg.model import ParseResult, Problem
from kg.pipeline.duplicates import Duplicates
from kg.pipeline.incremental.reuse import ReusedRun
from kg.pipeline.outcome import FileOutcome, Job, result_row
from kg.pipeline.report import ExportReport
from kg.pipeline.workers import compiled_shapes
from kg.rdf.terms import Triple
from kg.read.selection import Selection
from kg.read.sources import SourceFile, changed_since, discover, read_file

if TYPE_CHECKING:
    from kg.shacl.fast import Result, SharedValidation

#: Called after each file (or run of reused files) with (files done, files in all).
Progress = Callable[[int, int], None]


class StrictError(KgError):
    """Raised with `strict=True` at the first problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class Run:
    """The state of one pass: the sources in order, the report being filled, the shared triples
    merged so far, and what validation needs at the end.

    `Run(sources, job)` discovers the files (`files`); `take` then takes their outcomes, in the
    order of `files`, and returns the report. `shared` is the set the shared triples are merged
    into: an incremental export seeds it with those of the files it reuses.
    """

    def __init__(
        self,
        sources: list[Path],
        job: Job,
        strict: bool = False,
        progress: Progress | None = None,
        select: Selection | None = None,
        union: Collection[Triple] = (),
    ) -> None:
        self.job = job
        self.union = union  # triples of graphs beside the curations' (the taxonomy's), for the totals
        self.strict = strict
        self.progress = progress
        self.files = discover(sources, select)
        self.report = ExportReport()
        self.shared: set[Triple] = set()
        self.own = 0  # own triples of the files taken (shared ones are counted once, at the end)
        self.done = 0  # files taken
        # each file read here (not reused): its index in `files` and its stamp as read, 40 bytes,
        # not a tuple: checked again at the end, to name the files edited while the export ran
        self.read_at, self.stamps = array("q"), array("q")
        self.checker: SharedValidation | None = None
        self.files_of_graph: dict[str, list[str]] = defaultdict(list)
        self.duplicates = Duplicates(self.files, job)  # one curation published in several files
        if job.shapes:
            from kg.shacl.fast import SharedValidation

            self.checker = SharedValidation(compiled_shapes(job.shapes))

    def take(
        self,
        items: Iterator[FileOutcome | ReusedRun],
        write: Callable[[FileOutcome], None],
        copy: Callable[[ReusedRun], None] | None = None,
    ) -> ExportReport:
        """Take `items`, the outcomes of `files` in order, and fill the report.

        Each file's outcome goes to `write` after its report row; a run of files reused from
        the previous export goes to `copy` whole, or file by file to `write` when every file is
        checked (strict or validating) or there is no `copy`.
        """
        try:
            for item in items:
                if not isinstance(item, ReusedRun):
                    self._take(item, write)
                elif copy is None or self.strict or self.checker is not None:
                    for outcome in item.outcomes():  # file by file: strict stops at the first problem
                        self._take(outcome, write)
                else:
                    self._take_run(item)
                    copy(item)
                    self._advance(len(item.files))
        finally:  # on any exception the pool's workers stop at once, not when items is collected
            _close(items)
        return self._finish()

    def _take(self, outcome: FileOutcome, write: Callable[[FileOutcome], None]) -> None:
        source = self.files[self.done]
        result = outcome.result
        if result.path == source.relative:
            result.path = source.relative  # one string per file for the report and manifest, not two
        outcome = self.duplicates.take(outcome, self.done)
        result = outcome.result
        if self.strict:
            _stop_at_a_problem(result)
        self.report.files.append(result_row(result))
        if outcome.stamp is not None and outcome.reused is None:
            self.read_at.append(self.done)
            self.stamps.extend(outcome.stamp)
        if outcome.graph is not None:
            self.report.quads += outcome.quads
            self.own += outcome.own
            self.shared.update(outcome.shared)
            if self.checker is not None:  # which files made each graph: only validation needs it
                self.files_of_graph[outcome.graph].append(result.path)
                if outcome.validation is not None:
                    self.checker.add(outcome.validation)
        write(outcome)
        self._advance(1)

    def _take_run(self, run: ReusedRun) -> None:
        graphs = run.previous.files["graph"]
        self.duplicates.take_reused([graphs[row] for row in run.rows], self.done)
        self.report.files.extend(run.report_rows())
        own, quads = run.totals()
        self.own += own
        self.report.quads += quads

    def _advance(self, files: int) -> None:
        self.done += files
        if self.progress is not None:
            self.progress(self.done, len(self.files))

    def _finish(self) -> ExportReport:
        files, report = self.files, self.report
        if self.done != len(files):
            raise RuntimeError(f"{self.done} outcomes for {len(files)} files")
        union = self.shared.union(self.union) if self.union else self.shared
        report.triples = self.own + len(union)
        report.quads += len(self.union)
        # a reused file is exported as it was when listed (its stamp then matched the manifest's);
        # edited since, its new stamp makes the next run process it
        stamps = self.stamps
        read_as = (tuple(stamps[i : i + 4]) for i in range(0, len(stamps), 4))
        report.changed_during_run = changed_since([files[i] for i in self.read_at], read_as)  # type: ignore[arg-type]
        if self.checker is not None:
            report.validation = self.checker.finish(union)
            report.graph_files = dict(self.files_of_graph)
            duplicated = [paths for paths in self.files_of_graph.values() if len(paths) > 1]
            if duplicated:
                report.validation = _revalidate_duplicates(report.validation, duplicated, files, self.job)
        return report


def _stop_at_a_problem(result: ParseResult) -> None:
    """Under `strict`: raise `StrictError` for a failed file or the first problem of an exported one."""
    first = next(iter(result.problems), None) if result.status == "exported" else None
    if result.status == "failed":
        first = Problem(result.path, None, result.reason or "failed")
    if first is not None:
        raise StrictError(first)


def _close(items: Iterable[object]) -> None:
    """Close `items` if it is a generator (its `finally` runs now: a pool stops its workers)."""
    close = getattr(items, "close", None)
    if close is not None:
        close()


def _revalidate_duplicates(
    results: list[Result], duplicated: list[list[str]], files: list[SourceFile], job: Job
) -> list[Result]:
    """A curation published in several files is the first file's plus the others' provenance
    (`kg.pipeline.duplicates`): validate its own nodes again on those merged triples, as a
    whole-graph validator sees them (the first file alone was validated without the others)."""
    from kg.shacl.fast import validate_curation

    by_path = {f.relative: f for f in files}
    compiled = compiled_shapes(job.shapes)
    for paths in duplicated:
        own: list[Triple] = []
        shared: list[Triple] = []
        curation = read_file(by_path[paths[0]]).curation
        if curation is not None:
            rdf = curation_rdf(curation, job.iris)
            own += rdf.own
            shared += rdf.shared
            for path in paths[1:]:
                own += provenance_triples(rdf.graph, path, job.iris)
        subjects = {t[0] for t in own}
        merged = validate_curation(compiled, own, shared, subjects).results
        results = [
            r for r in results if r.focus not in subjects or r.component.endswith("SPARQLConstraintComponent")
        ]
        results += [r for r in merged if r not in results]
    return results
