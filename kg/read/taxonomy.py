"""Read the site's topic taxonomy file into typed records, with a problem for every flaw.

The Medigy site keeps its topics in one JSON file (`category-whole-data.json`): a list of
records, one per topic, each naming its source (`parentclasslabel`, the prefix before ': ' in
a front-matter topic such as `KLAS: Telehealth`), its label, a base64 definition (often
empty) and the topics the site holds equivalent in other sources (`equalentCollections`).

`read_taxonomy` never raises on a bad record: a record that cannot be used is skipped with an
error, a flaw that leaves it usable (undecodable base64, an equivalent that is not an object)
is a warning; each names the file, the record's index and the field. Only an unreadable file
(missing, not JSON, not a list) raises `TaxonomyError`. `normalised` gives the (source, label)
a curation carries for a topic of the file. Reads one file; maps nothing to RDF (that is
`kg.map.taxonomy`).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kg.errors import KgError
from kg.model import Topic
from kg.read.normalize import topic as parse_topic

#: The taxonomy file is a few MB; refuse anything absurdly larger before reading it.
MAX_TAXONOMY_BYTES = 200 * 1024 * 1024


class TaxonomyError(KgError):
    """The taxonomy file cannot be read at all (missing, not UTF-8 JSON, not a list)."""


@dataclass(frozen=True, slots=True)
class TaxonomyProblem:
    """A problem with one record: `error` skips the record, `warning` keeps it."""

    path: str
    index: int  # position of the record in the file's list, from 0
    field: str | None
    message: str
    severity: Literal["error", "warning"] = "warning"

    def __str__(self) -> str:
        where = f"record {self.index}" + (f", field {self.field}" if self.field else "")
        return f"{self.path}: {where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Reference:
    """A topic named inside another record (an equivalent, a subclass), as the file gives it."""

    classname: str | None
    label: str | None
    source: str | None  # parentclasslabel
    source_name: str | None  # parentclassname


@dataclass(frozen=True, slots=True)
class TaxonomyRecord:
    """One usable record of the taxonomy file, its strings as given (not yet normalised)."""

    index: int
    classname: str
    label: str
    source: str  # parentclasslabel: the prefix before ': ' in a front-matter topic
    source_name: str  # parentclassname: the source's identifier ("KlasresearchCategories")
    definition: str | None  # decoded from base64; None when empty or undecodable
    subclass: Reference | None
    subclass_definition: str | None
    equivalents: tuple[Reference, ...]


@dataclass(slots=True)
class Taxonomy:
    """The records of one taxonomy file and the problems met reading them."""

    path: str
    records: list[TaxonomyRecord] = field(default_factory=list)
    problems: list[TaxonomyProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[TaxonomyProblem]:
        return [p for p in self.problems if p.severity == "error"]


class _RecordError(Exception):
    def __init__(self, field_name: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def read_taxonomy(path: Path) -> Taxonomy:
    """Read the taxonomy JSON at `path`: every usable record, and a problem for every flaw."""
    return parse_taxonomy(taxonomy_bytes(path), str(path))


def taxonomy_bytes(path: Path) -> bytes:
    """The bytes of the taxonomy file at `path`; `TaxonomyError` when it cannot be read."""
    name = str(path)
    try:
        if not path.is_file():
            raise TaxonomyError(f"{name}: not a file" if path.exists() else f"{name}: no such file")
        if path.stat().st_size > MAX_TAXONOMY_BYTES:
            raise TaxonomyError(f"{name}: larger than {MAX_TAXONOMY_BYTES // 2**20} MB, not a taxonomy")
        return path.read_bytes()
    except OSError as exc:
        raise TaxonomyError(f"{name}: cannot read: {exc.strerror or exc}") from None


def parse_taxonomy(data: bytes, name: str) -> Taxonomy:
    """Parse the bytes of a taxonomy file (named `name` in messages)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{name}: not UTF-8 (byte {exc.start})") from None
    try:
        loaded: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaxonomyError(
            f"{name}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise TaxonomyError(f"{name}: not valid JSON: nested too deeply") from None
    if not isinstance(loaded, list):
        raise TaxonomyError(f"{name}: expected a JSON list of topic records, got {_kind(loaded)}")
    taxonomy = Taxonomy(name)
    for index, raw in enumerate(loaded):
        warnings: list[_RecordError] = []
        try:
            record = _record(index, raw, warnings)
        except _RecordError as exc:
            taxonomy.problems.append(
                TaxonomyProblem(name, index, exc.field, exc.message + "; record skipped", "error")
            )
            continue
        taxonomy.problems.extend(TaxonomyProblem(name, index, w.field, w.message) for w in warnings)
        taxonomy.records.append(record)
    return taxonomy


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _text(raw: dict[str, Any], key: str, required: bool, where: str = "") -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise _RecordError(where + key, "missing" if key not in raw else "empty")
        return None
    if not isinstance(value, str):
        raise _RecordError(where + key, f"expected text, got {_kind(value)}")
    if not value.strip():
        if required:
            raise _RecordError(where + key, "blank")
        return None
    return value


def _definition(raw: dict[str, Any], key: str, warnings: list[_RecordError]) -> str | None:
    """Decode a base64 UTF-8 definition; a flaw is a warning and gives no definition."""
    try:
        encoded = _text(raw, key, required=False)
    except _RecordError as exc:
        warnings.append(exc)
        return None
    if encoded is None:
        return None
    try:
        decoded = base64.b64decode("".join(encoded.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        warnings.append(_RecordError(key, "not valid base64 UTF-8 text; definition left out"))
        return None
    return decoded.strip() or None


def _reference(raw: Any, where: str) -> Reference:
    if not isinstance(raw, dict):
        raise _RecordError(where.rstrip("."), f"expected an object, got {_kind(raw)}")
    return Reference(
        _text(raw, "classname", False, where),
        _text(raw, "label", False, where),
        _text(raw, "parentclasslabel", False, where),
        _text(raw, "parentclassname", False, where),
    )


def _record(index: int, raw: Any, warnings: list[_RecordError]) -> TaxonomyRecord:
    if not isinstance(raw, dict):
        raise _RecordError(None, f"expected an object, got {_kind(raw)}")
    label = _text(raw, "label", required=True)
    source = _text(raw, "parentclasslabel", required=True)
    classname = _text(raw, "classname", required=False) or label
    source_name = _text(raw, "parentclassname", required=False) or source
    assert label is not None and source is not None and classname is not None and source_name is not None
    equivalents: list[Reference] = []
    collection = raw.get("equalentCollections")
    if collection is not None and not isinstance(collection, list):
        warnings.append(
            _RecordError("equalentCollections", f"expected a list, got {_kind(collection)}; ignored")
        )
        collection = None
    for i, item in enumerate(collection or ()):
        try:
            equivalents.append(_reference(item, f"equalentCollections[{i}]."))
        except _RecordError as exc:
            warnings.append(_RecordError(exc.field, exc.message + "; equivalent ignored"))
    subclass = None
    try:
        sub_name = _text(raw, "subclassname", required=False)
        sub_label = _text(raw, "subclasslabel", required=False)
        if sub_name is not None or sub_label is not None:
            subclass = Reference(sub_name, sub_label, source, source_name)
    except _RecordError as exc:
        warnings.append(_RecordError(exc.field, exc.message + "; subclass ignored"))
    return TaxonomyRecord(
        index=index,
        classname=classname,
        label=label,
        source=source,
        source_name=source_name,
        definition=_definition(raw, "description", warnings),
        subclass=subclass,
        subclass_definition=_definition(raw, "subclassdescription", warnings) if subclass else None,
        equivalents=tuple(equivalents),
    )


def normalised(source: str, label: str) -> Topic | None:
    """The (source, label) a curation would carry for this topic: `kg.read.normalize.topic`'s split."""
    parsed = parse_topic(f"{source.strip()}: {label}")
    if parsed is None or parsed.source is None:
        return None
    return parsed
