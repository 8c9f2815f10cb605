"""What `kg validate` is given, read as one union graph: RDF files and curation sources.

RDF files are read by `kg.read.rdf`; curation sources (`.md` files and folders) are exported
in memory (`kg.pipeline.export.build`), and what the exporter found in them (files it could
not export, per-field problems) becomes results of their own (`export_results`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kg.map.curation import IriScheme
from kg.pipeline.export import build
from kg.pipeline.run import Progress
from kg.rdf.vocab import KG, RDF
from kg.read.rdf import RDF_EXTENSIONS, InputData, InputError, read_rdf
from kg.read.selection import Selection
from kg.read.sources import SourceError
from kg.read.taxonomy import TaxonomyError
from kg.validation.model import ValidationResult

#: The message of a file the exporter could not export starts so (SARIF gives it a rule of its own).
EXPORT_FAILED = "the file could not be exported"
_CURATION_LINE = re.compile(
    rf"^<([^>]*)> <{re.escape(str(RDF.type))}> <{re.escape(str(KG.Curation))}> <([^>]*)> \.$", re.MULTILINE
)


def split_inputs(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(RDF files, curation sources) among `paths`, by extension; raises InputError for a path
    that does not exist."""
    rdf_files: list[Path] = []
    sources: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_file() and path.suffix.lower() in RDF_EXTENSIONS:
            rdf_files.append(path)
        else:
            sources.append(path)
    return rdf_files, sources


def read_inputs(
    paths: list[Path],
    iris: IriScheme | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    select: Selection | None = None,
    taxonomy: Path | None = None,
) -> InputData:
    """RDF files and curation sources (exported in memory, `progress(done, total)` called as
    files are done; `select`: --include/--exclude), as one union graph. With a `taxonomy` (the
    site's JSON) the sources are exported with it (`kg export --taxonomy`): its graph is in the
    union, and each topic not exact in it is a field problem of its file; InputError when there
    are no sources or it cannot be read."""
    rdf_files, sources = split_inputs(paths)
    if taxonomy is not None and not sources:
        raise InputError(
            "--taxonomy links the topics of curation sources (.md files, folders) as they are "
            "exported; RDF files are validated as they are"
        )
    out = read_rdf(rdf_files)
    if sources:
        try:
            exported = build(
                sources, iris or IriScheme(), jobs=jobs, progress=progress, select=select, taxonomy=taxonomy
            )
        except (SourceError, TaxonomyError) as exc:
            raise InputError(str(exc)) from None
        out.ntriples += exported.ntriples().decode("utf-8")
        out.export_rows = exported.report.files
        for graph in exported.graphs:
            for curation, graph_iri in _CURATION_LINE.findall(graph.nquads):
                out.curation_graphs[curation].add(graph_iri)
    return out


def skipped_files(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Source files the exporter skipped (pages that are not curations) -> the reason."""
    return {str(row["path"]): str(row.get("reason") or "") for row in rows if row["status"] == "skipped"}


def export_results(rows: list[dict[str, Any]], iris: IriScheme) -> list[ValidationResult]:
    """The exporter's findings (report.json rows) as results: failed files, field problems."""
    out = []
    for row in rows:
        path = str(row["path"])
        problems: list[dict[str, Any]] = list(row.get("problems") or [])
        focus = iris.source_file(path)
        if row["status"] == "failed":
            fields = [str(p["field"]) for p in problems if p.get("field")]
            out.append(
                ValidationResult(
                    focus_node=focus,
                    path=None,
                    value=None,
                    severity="Violation",
                    message=f"{EXPORT_FAILED}: {row['reason']}",
                    source_shape=None,
                    constraint_component=None,
                    source_files=(path,),
                    key=fields[0] if fields else None,
                )
            )
            continue
        for p in problems:
            out.append(
                ValidationResult(
                    focus_node=focus,
                    path=None,
                    value=None if p.get("value") is None else str(p["value"]),
                    severity="Violation" if p.get("severity") == "error" else "Warning",
                    message=str(p["message"]),
                    source_shape=None,
                    constraint_component=None,
                    source_files=(path,),
                    key=None if p.get("field") is None else str(p["field"]),
                )
            )
    return out
