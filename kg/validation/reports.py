"""Validation report formats: text (by source file, each result at `path:line:col`), JSON, the
SHACL report graph, JUnit XML (files relative to the repository root, with lines); SARIF is
`kg.validation.sarif`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pyoxigraph
from rdflib import Graph

from kg.rdf.namespaces import (
    DEFAULT_BASE_IRI,
    PREFIXES,
    Prefixes,
    instance_prefixes,
)
from kg.shacl.engine import quiet_literals
from kg.validation.keys import SHAPES_NS
from kg.validation.locations import artifact_path
from kg.validation.model import SEVERITIES, Severity, ValidationReport, ValidationResult
from kg.validation.sarif import sarif_report

REPORT_FORMATS = ("text", "json", "turtle", "junit", "sarif")
#: Group of results that no source file could be found for (data from elsewhere).
NO_FILE = "(not traced to a source file)"
_MAX_VALUE = 100


def display_prefixes() -> dict[str, str]:
    return {
        **PREFIXES,
        **instance_prefixes(DEFAULT_BASE_IRI),
        "kgsh": SHAPES_NS,
        "source": DEFAULT_BASE_IRI + "source/",
    }


class _Curie:
    """Shortens IRIs for people with the longest matching prefix; full IRIs stay in JSON."""

    def __init__(self) -> None:
        self._prefixes = Prefixes(display_prefixes())

    def __call__(self, iri: str | None) -> str:
        if iri is None:
            return "-"
        split = self._prefixes.split(iri)
        if split is not None:
            return f"{split[0]}:{split[1]}"
        if iri[:1] in ("(", "^", "<"):  # a complex path, already in SPARQL syntax
            return iri
        return f"<{iri}>" if "://" in iri else iri


def _short(text: str) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "\u2026"


def summary(report: ValidationReport, fail_on: Severity = "Violation") -> str:
    """One line: what was checked, the counts, and the verdict at the threshold."""
    counts = ", ".join(
        f"{report.count(s)} {s.lower()}{'s' if report.count(s) != 1 else ''}" for s in SEVERITIES
    )
    verdict = "conforms" if report.conforms(fail_on) else "DOES NOT CONFORM"
    return (
        f"kg validate: {report.curations} curations, {report.triples} triples, "
        f"{report.seconds:.2f} s: {counts} -> {verdict} (fail on {fail_on.lower()})"
    )


def describe(result: ValidationResult, curie: _Curie, at: str | None = None) -> str:
    """One result in two lines: (`at: ` the place in the file,) severity, key and message; then
    where in the graph."""
    where = [f"focus {curie(result.focus_node)}"]
    if result.path:
        where.append(f"path {curie(result.path)}")
    if result.value is not None:
        where.append(f"value {_short(result.value)!r}")
    if result.source_shape:
        component = (result.constraint_component or "").rsplit("#", 1)[-1]
        where.append(f"shape {curie(result.source_shape)} ({component.removesuffix('ConstraintComponent')})")
    key = f"{result.key}: " if result.key else ""
    place = f"{at}: " if at else ""
    return f"{place}{result.severity.upper():9} {key}{result.message}\n{'':10}{'; '.join(where)}"


def _places(result: ValidationResult, group: str) -> tuple[str | None, str | None]:
    """(prefix, extra line) of a result in the text report: a result of one file is prefixed
    with `path:line:col`; a shared one gets a line listing its places in the files."""
    if group == NO_FILE or not result.locations:
        return None, None
    if len(result.source_files) == 1:
        location = result.location()
        return (location.text() if location else None), None
    shown = [location.text() for _, location in result.locations]
    more = f", ... ({len(shown) - 3} more)" if len(shown) > 3 else ""
    return None, f"{'':10}at {', '.join(shown[:3])}{more}"


def _group(result: ValidationResult) -> str:
    files = result.source_files
    if not files:
        return NO_FILE
    if len(files) == 1:
        return files[0]
    shown = ", ".join(files[:3]) + (f", ... ({len(files) - 3} more)" if len(files) > 3 else "")
    return f"shared by {len(files)} files: {shown}"


def text_report(report: ValidationReport, fail_on: Severity = "Violation", show: Severity = "Info") -> str:
    """Human text, grouped by source file (shared nodes in a group of their own).

    Results below `show` are counted in the summary line but not listed.
    """
    curie = _Curie()
    groups: dict[str, list[ValidationResult]] = defaultdict(list)
    for r in report.failing(show):
        groups[_group(r)].append(r)
    lines = [summary(report, fail_on)]
    if report.reference_shapes:
        lines.append(
            f"{len(report.reference_shapes)} shape(s) evaluated by pySHACL (the fast engine does not "
            f"evaluate them exactly): {', '.join(curie(s) for s in report.reference_shapes)}"
        )
    for name in sorted(groups, key=lambda g: (g == NO_FILE, g.startswith("shared by"), g)):
        lines.append("")
        lines.append(name)
        for r in groups[name]:
            at, extra = _places(r, name)
            lines.extend("  " + line for line in describe(r, curie, at).splitlines())
            if extra:
                lines.append("  " + extra)
    return "\n".join(lines) + "\n"


def per_file(report: ValidationReport, fail_on: Severity = "Violation") -> list[str]:
    """One line per source file (`--verbose`): its counts and verdict, or why it was skipped."""
    by_file: dict[str, list[ValidationResult]] = {f: [] for f in report.files}
    for r in report.results:
        for name in r.source_files:
            by_file.setdefault(name, []).append(r)
    lines = []
    for name in sorted(by_file):
        results = by_file[name]
        if name in report.skipped and not results:
            lines.append(f"{name}: skipped: {report.skipped[name]}")
            continue
        counts = ", ".join(
            f"{n} {s.lower()}{'s' if n != 1 else ''}"
            for s in SEVERITIES
            if (n := sum(1 for r in results if r.severity == s))
        )
        failing = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        verdict = "fails" if any(r.severity in failing for r in results) else "ok"
        lines.append(f"{name}: {verdict}" + (f" ({counts})" if counts else ""))
    return lines


def result_json(r: ValidationResult) -> dict[str, object]:
    first = r.location()
    return {
        "source_file": r.source_file,
        "source_files": list(r.source_files),
        "line": first.line if first else None,
        "column": first.column if first else None,
        "locations": [
            {"source_file": name, "path": at.path, "line": at.line, "column": at.column}
            for name, at in r.locations
        ],
        "key": r.key,
        "severity": r.severity,
        "message": r.message,
        "focus_node": r.focus_node,
        "path": r.path,
        "value": r.value,
        "shape": r.source_shape,
        "constraint_component": r.constraint_component,
    }


def json_report(report: ValidationReport) -> str:
    """A JSON list of results (full IRIs), in report order."""
    return json.dumps([result_json(r) for r in report.results], indent=1, ensure_ascii=False) + "\n"


def turtle_report(report: ValidationReport) -> str:
    """The standard SHACL validation report graph, as the engine produced it, in Turtle.

    rdflib writes some ill-typed literals unquoted (`"yes"^^xsd:boolean` as `yes`), which is
    not Turtle; the text is checked with Oxigraph and, if it does not parse, the graph is
    written by Oxigraph instead (same triples, same prefixes).
    """
    graph = report.report_graph
    prefixes = display_prefixes()
    for prefix, ns in prefixes.items():
        graph.bind(prefix, ns, override=True)
    with quiet_literals():
        text = str(graph.serialize(format="turtle"))
        try:
            list(pyoxigraph.parse(text.encode("utf-8"), format=pyoxigraph.RdfFormat.TURTLE))
            return text
        except (SyntaxError, ValueError):
            nt = graph.serialize(format="nt", encoding="utf-8")
    triples = list(pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_TRIPLES))
    out = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.TURTLE, prefixes=prefixes)
    return out.decode("utf-8") if isinstance(out, bytes) else str(out)


def junit_report(
    report: ValidationReport, fail_on: Severity = "Violation", path_base: Path | None = None
) -> str:
    """JUnit XML: one test case per source file; a failure lists its results at the threshold.

    `file` is the file's path relative to the repository root (or `path_base`) and `line` the
    line of its first failing result, so GitHub and GitLab link the test case to the file;
    pages that are not curations are `<skipped>` with the reason, never passed tests.
    """
    by_file: dict[str, list[ValidationResult]] = {f: [] for f in report.files}
    for r in report.results:
        for name in r.source_files or (NO_FILE,):
            by_file.setdefault(name, []).append(r)
    cases = [
        _junit_case(report, name, by_file[name], fail_on, path_base)
        for name in sorted(by_file, key=lambda n: (n == NO_FILE, n))
    ]
    attrs = {
        "name": "kg validate",
        "tests": str(len(cases)),
        "failures": str(sum(1 for c in cases if c.find("failure") is not None)),
        "errors": "0",
        "skipped": str(sum(1 for c in cases if c.find("skipped") is not None)),
        "time": f"{report.seconds:.3f}",
    }
    suites = ET.Element("testsuites", attrs)
    suite = ET.SubElement(suites, "testsuite", attrs)
    suite.extend(cases)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _junit_case(
    report: ValidationReport,
    name: str,
    results: list[ValidationResult],
    fail_on: Severity,
    path_base: Path | None,
) -> ET.Element:
    """The test case of one source file (see `junit_report`)."""
    curie = _Curie()
    allowed = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
    case = ET.Element("testcase", {"classname": "kg.validate", "name": name, "time": "0"})
    disk = report.disk_paths.get(name)
    file = artifact_path(disk, path_base) if disk is not None else name
    if name != NO_FILE:
        case.set("file", file)

    def at(r: ValidationResult) -> str | None:
        location = r.location(name)
        if name == NO_FILE or location is None or location.line is None:
            return None
        return f"{file}:{location.line}"

    if name in report.skipped and not results:
        ET.SubElement(case, "skipped", {"message": report.skipped[name] or "not a curation"})
        return case
    failing = [r for r in results if r.severity in allowed]
    lines = [loc.line for r in failing or results if (loc := r.location(name)) and loc.line]
    if lines and name != NO_FILE:
        case.set("line", str(lines[0]))
    if failing:
        first = failing[0]
        headline = f"{len(failing)} result{'s' if len(failing) > 1 else ''} at or above {fail_on.lower()}"
        headline += f"; first: {first.key + ': ' if first.key else ''}{first.message}"
        failure = ET.SubElement(case, "failure", {"type": first.severity, "message": headline})
        failure.text = "\n".join(describe(r, curie, at(r)) for r in failing) + "\n"
    below = [r for r in results if r.severity not in allowed]
    if below:
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(describe(r, curie, at(r)) for r in below) + "\n"
    return case


def render(
    report: ValidationReport,
    fmt: str,
    fail_on: Severity = "Violation",
    *,
    shapes: Graph | None = None,
    path_base: Path | None = None,
    show: Severity = "Info",
) -> str:
    """The report in `fmt`; `shapes` gives SARIF its rules' help, `path_base` the folder JUnit
    and SARIF paths are relative to (default: each file's repository root), `show` the lowest
    severity the text report lists."""
    if fmt == "sarif":
        return sarif_report(report, shapes, path_base)
    if fmt == "json":
        return json_report(report)
    if fmt == "turtle":
        return turtle_report(report)
    if fmt == "junit":
        return junit_report(report, fail_on, path_base)
    return text_report(report, fail_on, show)
