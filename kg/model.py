"""Plain records passed between the layers: a normalised curation and the problems found.

Records hold only Python values (no RDF objects), so they are cheap to build, to test and to
send between worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
Status = Literal["exported", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input file: which file, which front-matter key, what value, why."""

    path: str
    field: str | None
    message: str
    value: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else self.path
        shown = f" (value: {self.value})" if self.value is not None else ""
        return f"{where}: {self.message}{shown}"


@dataclass(frozen=True, slots=True)
class Temporal:
    """A normalised date or dateTime: its xsd lexical form and datatype local name."""

    lexical: str
    datatype: Literal["dateTime", "date"]


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic string split at its first ': ' into source (scheme) and label."""

    source: str | None
    label: str


@dataclass(frozen=True, slots=True)
class Media:
    """A featured image, favicon or PDF attached to a curation."""

    href: str  # as given; the mapping resolves a relative href against the asset base
    width: int | None = None
    height: int | None = None
    format: str | None = None
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class Community:
    identifier: str
    mast_head: str | None = None
    path: str | None = None


@dataclass(slots=True)
class Curation:
    """A curation after normalisation: every field is already valid or absent."""

    source_path: str  # POSIX path relative to the source root
    md_name: str | None
    work_package_id: int | None
    title: str
    description: str | None = None
    owl_type: str | None = None
    work_package_type: str | None = None
    date_created: Temporal | None = None
    date_published: Temporal | None = None
    date_modified: Temporal | None = None
    event_start: Temporal | None = None
    event_end: Temporal | None = None
    authors: list[str] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    community: Community | None = None
    brand: str | None = None
    url: str | None = None  # the source article URL
    original_url: str | None = None  # kept only where it differs from `url`
    clean_url: str | None = None
    source_url: str | None = None
    featured_image: Media | None = None
    favicon: Media | None = None
    featured_pdf: Media | None = None
    tags: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    slug: str | None = None
    search_category: str | None = None
    base_path: str | None = None
    body: str | None = None
    body_format: str | None = None  # "text/html" or "text/markdown"
    legacy: bool = False  # a legacy curation (kg.read.legacy): named by its slug, no owlType


@dataclass(slots=True)
class ParseResult:
    """What reading one file gave: a curation or not, and every problem met on the way."""

    path: str
    status: Status
    curation: Curation | None = None
    reason: str | None = None
    problems: list[Problem] = field(default_factory=list)
