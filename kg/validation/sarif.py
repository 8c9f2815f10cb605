"""`kg validate --format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run of the tool `kg`; its rules are the shapes that fired (id `kgsh:CurationTitleShape`,
help from the shape's `sh:message`, `sh:description` and `rdfs:comment`, level from its
`sh:severity`: Violation -> error, Warning -> warning, Info -> note), plus two rules of the
exporter's own (a file it could not export, a field it left out). A result is written once per
source file, located at its front-matter key (`kg.validation.locations`), the file named
relative to the repository root or `--path-base` under `uriBaseId` `%SRCROOT%`. A result whose
key is not written in the file (e.g. "no featured image") points at line 1, the front matter's
opening, because GitHub shows only results that have a line. Results traced to no source file
(data from elsewhere) have nowhere to point and are left out, counted in the run's properties.
Deterministic: same results, same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import RDFS, Graph, URIRef
from rdflib.namespace import SH

from kg.rdf.namespaces import PREFIXES, Prefixes
from kg.validation.inputs import EXPORT_FAILED
from kg.validation.keys import SHAPES_NS
from kg.validation.locations import artifact_path
from kg.validation.model import Severity, ValidationReport, ValidationResult
from kg.validation.report_graph import severity_of
from kg.version import __version__

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: SARIF `level` of each severity.
LEVELS: dict[Severity, str] = {"Violation": "error", "Warning": "warning", "Info": "note"}
#: The exporter's own findings on sources (SHACL never sees them): rule id -> (name, help).
EXPORTER_RULES = {
    "kg:export-failed": ("ExportFailed", "The file could not be exported at all (the message says why)."),
    "kg:field-problem": (
        "FieldProblem",
        "A front-matter value of the wrong type or form; the field is left out.",
    ),
}


def rule_id(result: ValidationResult, prefixes: Prefixes) -> str:
    """The shape (as a CURIE where a prefix fits), else the constraint component, else the
    exporter's rule."""
    for iri in (result.source_shape, result.constraint_component):
        if iri and not iri.startswith("_:"):  # blank-node shapes have no name that lasts
            return prefixes.compress(iri)
    return "kg:export-failed" if result.message.startswith(EXPORT_FAILED) else "kg:field-problem"


def _texts(shapes: Graph, shape: URIRef) -> tuple[list[str], Severity | None]:
    """(messages, descriptions and comments of the shape and its SPARQL constraints; its severity)."""
    nodes = [shape, *shapes.objects(shape, SH.sparql)]
    texts: list[str] = []
    for prop in (SH.message, SH.description, RDFS.comment):
        for node in nodes:
            for text in sorted(str(t) for t in shapes.objects(node, prop)):
                if text not in texts:
                    texts.append(text)
    severity = shapes.value(shape, SH.severity)
    return texts, severity_of(severity) if severity is not None else None


def _rule(rid: str, result: ValidationResult, shapes: Graph | None) -> dict[str, Any]:
    """The reportingDescriptor of a rule, from the shapes graph where the shape is in it."""
    level: Severity = result.severity  # SHACL's default severity is Violation: the same
    if rid in EXPORTER_RULES:
        name, help_text = EXPORTER_RULES[rid]
        texts = [help_text]
    else:
        name = rid.rsplit(":", 1)[-1].rsplit("#", 1)[-1].rsplit("/", 1)[-1] or rid
        texts = []
        if shapes is not None and result.source_shape and not result.source_shape.startswith("_:"):
            texts, declared = _texts(shapes, URIRef(result.source_shape))
            level = declared or level
        texts = texts or [result.message]
    rule: dict[str, Any] = {
        "id": rid,
        "name": name,
        "shortDescription": {"text": texts[0]},
        "fullDescription": {"text": " ".join(texts)},
        "help": {"text": "\n".join(texts)},
        "defaultConfiguration": {"level": LEVELS[level]},
    }
    if result.source_shape and not result.source_shape.startswith("_:"):
        rule["properties"] = {
            "shape": result.source_shape,
            "constraintComponent": result.constraint_component,
        }
    return rule


def _location(report: ValidationReport, result: ValidationResult, name: str, base: Path | None) -> Any:
    disk = report.disk_paths.get(name)
    uri = quote(artifact_path(disk, base) if disk is not None else name, safe="/")
    place = result.location(name)
    region: dict[str, int] = {"startLine": 1}
    if place is not None and place.line is not None:
        region = {"startLine": place.line}
        if place.column is not None:
            region["startColumn"] = place.column
    artifact = {"uri": uri, "uriBaseId": "%SRCROOT%"}
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


def _result(result: ValidationResult, rid: str, index: int, location: Any) -> dict[str, Any]:
    key = f"{result.key}: " if result.key else ""
    graph = {
        "key": result.key,
        "focusNode": result.focus_node,
        "resultPath": result.path,
        "value": result.value,
        "sourceShape": result.source_shape,
        "constraintComponent": result.constraint_component,
        "severity": result.severity,
    }
    return {
        "ruleId": rid,
        "ruleIndex": index,
        "level": LEVELS[result.severity],
        "message": {"text": f"{key}{result.message}"},
        "locations": [location],
        "properties": {k: v for k, v in graph.items() if v is not None},
    }


def sarif_report(report: ValidationReport, shapes: Graph | None = None, path_base: Path | None = None) -> str:
    """The report as SARIF 2.1.0 JSON text (see the module docstring)."""
    prefixes = Prefixes({**PREFIXES, "kgsh": SHAPES_NS})
    rules: dict[str, dict[str, Any]] = {}
    for r in report.results:
        rid = rule_id(r, prefixes)
        if rid not in rules:
            rules[rid] = _rule(rid, r, shapes)
    order = {rid: i for i, rid in enumerate(sorted(rules))}
    results = []
    unplaced = 0
    for r in report.results:
        rid = rule_id(r, prefixes)
        if not r.source_files:
            unplaced += 1
        for name in r.source_files:
            results.append(_result(r, rid, order[rid], _location(report, r, name, path_base)))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "kg",
                "fullName": "kg validate (SHACL validation of Medigy curations)",
                "version": __version__,
                "rules": [rules[rid] for rid in sorted(rules)],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if unplaced:
        run["properties"] = {"resultsWithoutSourceFile": unplaced}
    sarif = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(sarif, indent=1, ensure_ascii=False) + "\n"
