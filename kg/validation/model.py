"""The validation report model: severities, one located result, the report of a run.

Every engine's results end up here (`kg.validation.report_graph` reads a report graph,
`kg.validation.provenance` locates each result in the sources); the report formats
(`kg.validation.reports`) and the report page (`kg.publish.report`) read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from rdflib import Graph

Severity = Literal["Violation", "Warning", "Info"]
#: Severities from the most to the least serious; `--fail-on X` fails on X and everything above.
SEVERITIES: tuple[Severity, ...] = ("Violation", "Warning", "Info")


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a source file on disk a result points: the path as found (openable from the
    current folder), and the 1-based line and column of its front-matter key when the key is
    written in the file (`kg.validation.locations`)."""

    path: str
    line: int | None = None
    column: int | None = None

    def text(self) -> str:
        """`path:line:col` (or `path`, `path:line`): what editors, terminals and CI link."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One result: what is wrong, where in the graph, and where in the sources."""

    focus_node: str
    path: str | None
    value: str | None
    severity: Severity
    message: str
    source_shape: str | None
    constraint_component: str | None
    source_files: tuple[str, ...] = ()
    key: str | None = None
    #: One per source file found on disk (validating sources), by source file name.
    locations: tuple[tuple[str, Location], ...] = ()

    @property
    def source_file(self) -> str | None:
        return self.source_files[0] if self.source_files else None

    def location(self, source_file: str | None = None) -> Location | None:
        """The place in `source_file` (default: the first), when it was found on disk."""
        name = source_file if source_file is not None else self.source_file
        for found, location in self.locations:
            if found == name:
                return location
        return None

    def engine_key(self) -> tuple[str, str | None, str | None]:
        """(focus node, path, constraint component): what two engines must agree on."""
        return (self.focus_node, self.path, self.constraint_component)


@dataclass(slots=True)
class ValidationReport:
    """The results of one validation, plus what is needed to write every report format."""

    results: list[ValidationResult]
    report_graph: Graph
    files: list[str] = field(default_factory=list)  # every source file seen (JUnit test cases)
    skipped: dict[str, str] = field(default_factory=dict)  # source file -> why it is not a curation
    disk_paths: dict[str, str] = field(default_factory=dict)  # source file -> its path as found on disk
    reference_shapes: list[str] = field(default_factory=list)  # evaluated by pySHACL, not the fast engine
    triples: int = 0
    curations: int = 0
    seconds: float = 0.0

    def count(self, severity: Severity) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def failing(self, fail_on: Severity = "Violation") -> list[ValidationResult]:
        """Results at or above the threshold."""
        allowed = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        return [r for r in self.results if r.severity in allowed]

    def conforms(self, fail_on: Severity = "Violation") -> bool:
        return not self.failing(fail_on)


def severity_named(name: str) -> Severity:
    """`violation`, `warning` or `info` (any case) as a Severity."""
    for s in SEVERITIES:
        if s.lower() == name.lower():
            return s
    raise ValueError(f"unknown severity {name!r}; choose from violation, warning, info")


def result_order(r: ValidationResult) -> tuple[Any, ...]:
    """The order results are reported in: by source files, then severity, then place in the graph."""
    return (
        r.source_files,
        SEVERITIES.index(r.severity),
        r.focus_node,
        r.path or "",
        r.source_shape or "",
        r.value or "",
    )
