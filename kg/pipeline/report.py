"""The export's report: what happened to every input file, plus totals (`ExportReport`),
written as `report.json` (deterministic bytes: no timings) and summed up for the terminal.
Its rows are built by `kg.pipeline.outcome.report_row`. Writes only the handle it is given.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _json_str
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kg.pipeline.incremental.manifest import MANIFEST_NAME
from kg.version import __version__

if TYPE_CHECKING:  # kg.shacl.fast (pyoxigraph) is imported only when an export validates
    from kg.pipeline.incremental.reuse import Reuse
    from kg.shacl.fast import Result

REPORT_NAME = "report.json"


@dataclass(slots=True)
class ExportReport:
    """What happened to every input file, plus totals. Serialised as `report.json`."""

    files: list[dict[str, object]] = field(default_factory=list)
    triples: int = 0
    quads: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    validation: list[Result] | None = None  # SHACL results when the export validated
    graph_files: dict[str, list[str]] = field(default_factory=dict)  # graph IRI -> source paths
    changed_during_run: list[str] = field(default_factory=list)  # edited or removed while read
    reuse: Reuse | None = None  # set by an export into a folder
    why_full: str | None = None  # why an export did not reuse the previous one
    manifest_damage: str | None = None  # what is wrong with the previous manifest, ignored (a warning)
    taxonomy: dict[str, Any] | None = None  # `kg.pipeline.taxonomy.ExportTaxonomy.summary`, if given

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f["status"] == status)

    @property
    def problems(self) -> int:
        return sum(len(f.get("problems", [])) for f in self.files)  # type: ignore[misc,arg-type]

    def exit_code(self) -> int:
        """0 when every file exported or was skipped as not a curation, 1 when any failed (or a
        record of the taxonomy could not be used)."""
        return 1 if self.count("failed") or (self.taxonomy and self.taxonomy["errors"]) else 0

    def to_json(self) -> dict[str, object]:
        """Deterministic content: no timings, so the file is byte-identical across runs."""
        data: dict[str, object] = {
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
        }
        if self.taxonomy is not None:
            data["taxonomy"] = self.taxonomy
        data["files"] = self.files
        if self.changed_during_run:
            data["changed_during_run"] = self.changed_during_run
        return data

    def to_bytes(self) -> bytes:
        """`report.json`: `to_json` as `json.dumps(indent=1, ensure_ascii=False)` writes it, plus "\\n".

        The same bytes, but the rows of `files` are formatted here: the pure-Python indenting
        encoder took ~0.15 s at 10k files, a noticeable part of an incremental export.
        """
        buffer = io.BytesIO()
        self.write(buffer)
        return buffer.getvalue()

    def write(self, handle: IO[bytes]) -> None:
        """Write `to_bytes()` to `handle`, a batch of rows at a time (no copy of the whole text)."""
        handle.write(b"{\n")
        for n, (key, value) in enumerate(self.to_json().items()):
            handle.write((",\n" if n else "").encode() + f" {_json_str(key)}: ".encode())
            if key == "files" and self.files:
                handle.write(b"[\n")
                for start in range(0, len(self.files), 1024):
                    rows = ",\n".join(_row_json(row) for row in self.files[start : start + 1024])
                    handle.write(((",\n" if start else "") + rows).encode("utf-8"))
                handle.write(b"\n ]")
            else:
                text = json.dumps(value, indent=1, ensure_ascii=False).replace("\n", "\n ")
                handle.write(text.encode("utf-8"))
        handle.write(b"\n}\n")

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
        if self.taxonomy is not None:
            tax = self.taxonomy
            lines.append(
                f"taxonomy {tax['path']}: {tax['concepts']} concepts in {tax['schemes']} schemes, "
                f"{tax['triples']} triples; {len(tax['problems'])} problems ({tax['errors']} errors,"
                f" see {REPORT_NAME})"
            )
        if self.manifest_damage is not None and out_dir is not None:
            what = self.manifest_damage.removeprefix(MANIFEST_NAME + " ")
            lines.append(f"  WARNING: {out_dir / MANIFEST_NAME} {what}: ignored, every file exported again")
        if self.reuse is not None:
            reuse = self.reuse
            lines.append(
                f"incremental: {reuse.reused} files unchanged and reused, {reuse.processed} processed"
                if self.why_full is None
                else f"full export ({self.why_full})"
            )
        for path in self.changed_during_run[:10]:
            lines.append(f"  CHANGED during the export (written as first read; run again): {path}")
        return "\n".join(lines)


def _row_json(row: dict[str, Any]) -> str:
    """One report row as `json.dumps(indent=1)` writes it at depth 2 of report.json."""
    if len(row) == 3:
        reason = row["reason"]
        return (
            f'  {{\n   "path": {_json_str(row["path"])},\n   "status": {_json_str(row["status"])},\n'
            f'   "reason": {"null" if reason is None else _json_str(reason)}\n  }}'
        )
    return "  " + json.dumps(row, indent=1, ensure_ascii=False).replace("\n", "\n  ")
