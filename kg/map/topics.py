"""Match the topics curations carry against the site's taxonomy.

`TopicMatcher` classifies a curation's topic: exact, equal only when case and spacing are
ignored (with the canonical spelling and its concept's IRI), unknown in a known source, an
unknown source (with the nearest source as a suggestion), or without a source. `check_sources`
does it for every curation under some source folders (`kg taxonomy FILE --check SOURCES`);
`link_topics` does it for one curation of an export (`kg export --taxonomy FILE`): the topics
it links to, each a taxonomy concept where one matches, and a warning naming the front-matter
key (`communityTopics[2]`) of every topic that is not an exact match.
Reads curation files through `kg.read.sources`; writes nothing. See docs/taxonomy.md.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kg.map.curation import IriScheme
from kg.model import Problem, Topic
from kg.read.frontmatter import decode, split_front_matter
from kg.read.normalize import topic as parse_topic
from kg.read.sources import discover, read_file
from kg.read.taxonomy import Taxonomy, normalised
from kg.read.yaml_loader import load_yaml

MatchKind = Literal["exact", "case-space", "unknown-topic", "unknown-source", "no-source"]


def loose(text: str) -> str:
    """`text` compared ignoring case and spacing: casefolded, whitespace runs (NBSP too) as one space."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """How one curation topic stands against the taxonomy.

    `canonical` is the taxonomy's spelling (exact and case-space matches) and `iri` its
    concept: for a case-space match the export can link to that concept with a warning.
    `suggestion` is a source (unknown source) or label (unknown topic) close to what was given.
    """

    kind: MatchKind
    given: Topic
    canonical: Topic | None = None
    iri: str | None = None
    suggestion: str | None = None

    def message(self) -> str | None:
        """A warning text for anything but an exact match, naming what was given."""
        given = _topic_text(self.given)
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        if self.kind == "exact":
            return None
        if self.kind == "case-space":
            assert self.canonical is not None
            canonical = _topic_text(self.canonical)
            return f"topic {given!r} differs from the taxonomy's {canonical!r} in case or spacing"
        if self.kind == "unknown-topic":
            return f"topic {given!r} is not in the taxonomy's {self.given.source!r} source{hint}"
        if self.kind == "unknown-source":
            return f"topic {given!r}: source {self.given.source!r} is not a source of the taxonomy{hint}"
        return f"topic {given!r} has no source (write it as 'Source: {self.given.label}'){hint}"


def _topic_text(t: Topic) -> str:
    return f"{t.source}: {t.label}" if t.source else t.label


def osa_distance(a: str, b: str) -> int:
    """Edit distance counting an adjacent transposition as one edit (`KLSA` -> `KLAS` is 1)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


class TopicMatcher:
    """Classifies topics against a taxonomy's concepts (by their normalised source and label)."""

    def __init__(self, topics: Iterable[Topic], iris: IriScheme | None = None) -> None:
        self.iris = iris or IriScheme()
        self.exact: set[Topic] = set()
        self.loosely: dict[tuple[str, str], Topic] = {}
        self.sources: dict[str, str] = {}  # loose source -> source as the taxonomy spells it
        self.labels: dict[str, list[str]] = {}  # source -> its labels (for suggestions)
        for t in sorted(set(topics), key=lambda t: (t.source or "", t.label)):
            if t.source is None:
                continue
            self.exact.add(t)
            self.loosely.setdefault((loose(t.source), loose(t.label)), t)
            self.sources.setdefault(loose(t.source), t.source)
            self.labels.setdefault(t.source, []).append(t.label)

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy, iris: IriScheme | None = None) -> TopicMatcher:
        found = (normalised(r.source, r.label) for r in taxonomy.records)
        return cls((t for t in found if t is not None), iris)

    def match_text(self, text: str) -> TopicMatch | None:
        """Classify a front-matter topic string (`KLAS: Telehealth`); None when it is blank."""
        t = parse_topic(text)
        return None if t is None else self.match(t)

    def match(self, given: Topic) -> TopicMatch:
        if given in self.exact:
            return TopicMatch("exact", given, given, self.iris.topic(given.source, given.label))
        if given.source is None:
            sources = sorted(s for s, labels in self.labels.items() if given.label in labels)
            return TopicMatch(
                "no-source", given, suggestion=f"{sources[0]}: {given.label}" if sources else None
            )
        canonical = self.loosely.get((loose(given.source), loose(given.label)))
        if canonical is not None:
            return TopicMatch(
                "case-space", given, canonical, self.iris.topic(canonical.source, canonical.label)
            )
        source = self.sources.get(loose(given.source))
        if source is not None:
            close = difflib.get_close_matches(given.label, self.labels[source], n=1, cutoff=0.8)
            return TopicMatch("unknown-topic", given, suggestion=close[0] if close else None)
        return TopicMatch("unknown-source", given, suggestion=self._nearest_source(given.source))

    def _nearest_source(self, source: str) -> str | None:
        """The taxonomy's source nearest `source` by edit distance (ignoring case), if near."""
        wanted = loose(source)
        scored = sorted((osa_distance(wanted, key), spelled) for key, spelled in self.sources.items())
        if not scored:
            return None
        distance, spelled = scored[0]
        return spelled if distance <= max(1, len(wanted) // 3) else None


@dataclass(slots=True)
class TopicCheck:
    """The distinct topics of some curation sources, each with its match and where it is used."""

    matches: dict[Topic, TopicMatch] = field(default_factory=dict)
    files: dict[Topic, list[str]] = field(default_factory=dict)  # relative paths, sorted
    curations: int = 0  # files read as curations

    def counts(self) -> dict[str, int]:
        """Distinct topics per match kind (every kind present, zero included)."""
        kinds: tuple[MatchKind, ...] = ("exact", "case-space", "unknown-topic", "unknown-source", "no-source")
        out: dict[str, int] = dict.fromkeys(kinds, 0)
        for m in self.matches.values():
            out[m.kind] += 1
        return out

    def warnings(self) -> list[str]:
        """One line per topic that is not an exact match: the first file using it and how many do."""
        lines = []
        for t in sorted(self.matches, key=lambda t: (t.source or "", t.label)):
            message = self.matches[t].message()
            if message is None:
                continue
            files = self.files[t]
            more = (
                f" (and {len(files) - 1} more file{'s' if len(files) > 2 else ''})" if len(files) > 1 else ""
            )
            lines.append(f"{files[0]}: communityTopics: {message}{more}")
        return lines


def check_sources(matcher: TopicMatcher, sources: list[Path]) -> TopicCheck:
    """Match the topics of every curation under `sources` (files that are not curations are passed by).

    Raises `kg.read.sources.SourceError` when a source does not exist.
    """
    check = TopicCheck()
    for source in discover(sources):
        result = read_file(source)
        if result.curation is None:
            continue
        check.curations += 1
        for t in result.curation.topics:
            if t not in check.matches:
                check.matches[t] = matcher.match(t)
                check.files[t] = []
            check.files[t].append(source.relative)
    for paths in check.files.values():
        paths.sort()
    return check


#: Where a curation's topics are written, in the order `kg.read.normalize.topics` reads them.
TOPIC_KEYS = ("communityTopics", "openProjectCustomFields.medigyTopics")


def link_topics(
    topics: list[Topic], matcher: TopicMatcher, path: str, data: bytes
) -> tuple[list[Topic], list[Problem]]:
    """The topics one curation links to when the export has a taxonomy, and a warning for each
    topic that is not an exact match.

    An exact match stays as it is; one that differs only in case or spacing becomes the
    taxonomy's own topic (so the curation links to its concept, and describes it with the
    taxonomy's label); any other is kept as given. Each warning names `path` and the key the
    topic was written under (`communityTopics[2]`), found by reading `data` (the file's bytes)
    again, only when there is something to say. Topics that become one are given once.
    """
    linked: dict[Topic, None] = {}
    problems: list[Problem] = []
    keys: dict[Topic, str] | None = None
    for given in topics:
        match = matcher.match(given)
        message = match.message()
        if message is not None:
            keys = topic_keys(data) if keys is None else keys
            field_name = keys.get(given, "communityTopics")
            problems.append(Problem(path, field_name, message, _topic_text(given), "warning"))
        linked[match.canonical if match.kind == "case-space" and match.canonical else given] = None
    return list(linked), problems


def topic_keys(data: bytes) -> dict[Topic, str]:
    """Each topic of a file's front matter -> the first key it is written under, with its index
    (`communityTopics[2]`, `openProjectCustomFields.medigyTopics[0]`); empty when unreadable."""
    try:
        split = split_front_matter(decode(data))
        front: Any = load_yaml(split[0]) if split is not None else None
    except Exception:  # the file parsed once already; a second failure only loses the index
        return {}
    if not isinstance(front, dict):
        return {}
    keys: dict[Topic, str] = {}
    custom = front.get("openProjectCustomFields")
    medigy = custom.get("medigyTopics") if isinstance(custom, dict) else None
    if isinstance(medigy, str):
        try:
            medigy = json.loads(medigy)
        except ValueError:
            medigy = None
    legacy = "categories" if "categories" in front else "Categories"  # a legacy page's topics
    written = (front.get("communityTopics"), medigy, front.get(legacy))
    for key, items in zip((*TOPIC_KEYS, legacy), written, strict=True):
        if isinstance(items, str):  # one topic written as a string, not a list
            items, key = [items], key + "[]"
        for i, item in enumerate(items if isinstance(items, list) else ()):
            t = parse_topic(str(item)) if isinstance(item, (str, int)) else None
            if t is not None:
                keys.setdefault(t, key.removesuffix("[]") if key.endswith("[]") else f"{key}[{i}]")
    return keys
