"""What the export's stages hand each other: the job every worker is given, the outcome of one
input file, and that file's row in `report.json`.

Shared by the run (`kg.pipeline.run`), the workers (`kg.pipeline.workers`) and incremental reuse
(`kg.pipeline.incremental`), which rebuilds outcomes and rows from the previous manifest: a row is
built here only, by `report_row`, whichever way the file came. Plain data; touches no file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kg.map.curation import IriScheme
from kg.model import ParseResult, Problem
from kg.rdf.terms import Triple
from kg.read.sources import Stamp

if TYPE_CHECKING:  # kg.shacl.fast (pyoxigraph) is imported only when an export validates
    from kg.shacl.fast import LocalOutcome


@dataclass(frozen=True, slots=True)
class Job:
    """What every worker needs to know: how to mint IRIs and which formats to render."""

    iris: IriScheme
    formats: tuple[str, ...]
    prefixes: tuple[tuple[str, str], ...]
    shapes: tuple[str, ...] = ()  # SHACL files to validate against in the workers (fast engine)
    taxonomy: tuple[str, str] | None = None  # (path, sha256) of the taxonomy topics are matched to


@dataclass(slots=True)
class FileOutcome:
    """One input file after read, parse, map and render (everything picklable)."""

    result: ParseResult
    graph: str | None = None
    nquads: str = ""  # the curation's named graph (its own triples; kg.map.nodes)
    blocks: dict[str, str] = field(default_factory=dict)  # own triples rendered per format
    own: int = 0  # number of distinct own triples
    shared: list[Triple] = field(default_factory=list)  # none when reused (see kg.pipeline.incremental)
    validation: LocalOutcome | None = None  # the worker's half of validation, when asked
    sha256: str | None = None  # of the bytes parsed; None when the file could not be read
    digest: str = ""  # of the curation's graph (see kg.pipeline.incremental.digests.graph_digest)
    quads: int = 0  # quads in the curation's named graph (its own triples)
    reused: int | None = None  # reused: its row in the previous manifest; its blocks are copied
    stamp: Stamp = None  # the file's stamp (size, times, inode) when it was read


#: The keys of a problem in a report row, in order.
PROBLEM_KEYS = ("field", "message", "value", "severity")


def problem_rows(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """Field problems as a report row holds them (`PROBLEM_KEYS`, in that order)."""
    return [
        {"field": p.field, "message": p.message, "value": p.value, "severity": p.severity} for p in problems
    ]


def report_row(
    path: str, status: str, reason: str | None, problems: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One file's row of `report.json`: path, status, reason, and its problems when given."""
    row: dict[str, Any] = {"path": path, "status": status, "reason": reason}
    if problems is not None:
        row["problems"] = problems
    return row


def result_row(result: ParseResult) -> dict[str, Any]:
    """The report row of a file just processed (no "problems" key when it has none)."""
    problems = problem_rows(result.problems) if result.problems else None
    return report_row(result.path, result.status, result.reason, problems)
