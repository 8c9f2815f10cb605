"""The site's topic taxonomy as a SKOS graph, and a matcher for the topics curations carry.

The Medigy site keeps its topics in one JSON file (`category-whole-data.json`): a list of
records, one per topic, each naming its source (`parentclasslabel`, the prefix before ': ' in
a front-matter topic such as `KLAS: Telehealth`), its label, a base64 definition (often
empty) and the topics the site holds equivalent in other sources (`equalentCollections`).

`read_taxonomy` reads that file into typed records, never raising on a bad record: a record
that cannot be used is skipped with an error, a flaw that leaves it usable (undecodable
base64, an equivalent that names no topic) is a warning; each names the file, the record's
index and the field. Only an unreadable file (missing, not JSON, not a list) raises
`TaxonomyError`.

`taxonomy_triples` maps the records to kg's plain triples, all meant for one named graph
(`taxonomy_graph`). Topic and scheme IRIs come from `kg.map.curation.IriScheme`, from the same
normalised (source, label) pair that `kg.read.normalize.topic` makes of a front-matter string, so
the concept for `KLAS: Telehealth` here IS the IRI a curation's `kg:topic` points at. See
docs/taxonomy.md for the choices (closeMatch, not exactMatch; what `parentclass*` and
`subclass*` mean; records sharing a label).

`TopicMatcher` classifies a curation's topic against the taxonomy: exact, equal only when
case and spacing are ignored (with the canonical spelling), unknown in a known source, or an
unknown source (with the nearest source as a suggestion).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kg.errors import KgError
from kg.map.curation import IriScheme
from kg.model import Topic
from kg.rdf.namespaces import PREFIXES, instance_prefixes
from kg.rdf.terms import Lit, Triple, nt_line
from kg.read.normalize import topic as parse_topic

SKOS = PREFIXES["skos"]
A = PREFIXES["rdf"] + "type"
SKOS_CONCEPT = SKOS + "Concept"
SKOS_SCHEME = SKOS + "ConceptScheme"
SKOS_PREF = SKOS + "prefLabel"
SKOS_IN_SCHEME = SKOS + "inScheme"
SKOS_DEFINITION = SKOS + "definition"
SKOS_NOTATION = SKOS + "notation"
SKOS_BROADER = SKOS + "broader"
SKOS_NARROWER = SKOS + "narrower"
SKOS_TOP_CONCEPT_OF = SKOS + "topConceptOf"
SKOS_HAS_TOP_CONCEPT = SKOS + "hasTopConcept"
SKOS_CLOSE_MATCH = SKOS + "closeMatch"

#: The taxonomy file is a few MB; refuse anything absurdly larger before reading it.
MAX_TAXONOMY_BYTES = 200 * 1024 * 1024

#: Output formats of `write_taxonomy`, by file suffix.
SUFFIX_FORMATS = {".nq": "nquads", ".nt": "ntriples", ".ttl": "turtle"}


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

    @property
    def warnings(self) -> list[TaxonomyProblem]:
        return [p for p in self.problems if p.severity == "warning"]


# --- reading -------------------------------------------------------------------------------


class _RecordError(Exception):
    def __init__(self, field_name: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def read_taxonomy(path: Path) -> Taxonomy:
    """Read the taxonomy JSON at `path`: every usable record, and a problem for every flaw."""
    name = str(path)
    try:
        if not path.is_file():
            raise TaxonomyError(f"{name}: not a file" if path.exists() else f"{name}: no such file")
        if path.stat().st_size > MAX_TAXONOMY_BYTES:
            raise TaxonomyError(f"{name}: larger than {MAX_TAXONOMY_BYTES // 2**20} MB, not a taxonomy")
        data = path.read_bytes()
    except OSError as exc:
        raise TaxonomyError(f"{name}: cannot read: {exc.strerror or exc}") from None
    return parse_taxonomy(data, name)


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


# --- mapping to SKOS -----------------------------------------------------------------------


def taxonomy_graph(iris: IriScheme) -> str:
    """The named graph that holds the taxonomy: `{base}graph/taxonomy`."""
    return f"{iris.base}graph/taxonomy"


def normalised(source: str, label: str) -> Topic | None:
    """The (source, label) a curation would carry for this topic: `kg.read.normalize.topic`'s split."""
    parsed = parse_topic(f"{source.strip()}: {label}")
    if parsed is None or parsed.source is None:
        return None
    return parsed


@dataclass(slots=True)
class _Concept:
    topic: Topic
    notations: list[str] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)
    broader: set[str] = field(default_factory=set)
    narrower: set[str] = field(default_factory=set)
    close: set[str] = field(default_factory=set)


@dataclass(slots=True)
class TaxonomyGraph:
    """The taxonomy's triples (sorted, no duplicates), its graph IRI, and figures about it."""

    graph: str
    triples: list[Triple]
    concepts: int
    schemes: int
    definitions: int  # concepts with at least one skos:definition
    broader_links: int
    close_matches: int  # skos:closeMatch triples (each pair both ways)
    concepts_with_matches: int
    problems: list[TaxonomyProblem]


def taxonomy_rdf(taxonomy: Taxonomy, iris: IriScheme | None = None) -> TaxonomyGraph:
    """Map the taxonomy to SKOS: schemes, concepts, definitions, hierarchy, closeMatch links.

    Records that normalise to the same (source, label) are one concept (its IRI is minted from
    that pair), keeping every classname as a `skos:notation` and every distinct definition.
    Problems found while linking (an equivalent or subclass that names no topic) are added to
    the returned `problems`, after the taxonomy's own.
    """
    iris = iris or IriScheme()
    problems = list(taxonomy.problems)
    concepts: dict[str, _Concept] = {}
    schemes: dict[str, tuple[str, set[str]]] = {}  # scheme IRI -> (label, notations)
    by_classname: dict[tuple[str, str], str] = {}  # (source_name, classname) -> concept IRI
    by_label: dict[tuple[str, str], str] = {}  # normalised (source, label) -> concept IRI
    placed: list[tuple[TaxonomyRecord, str]] = []

    for rec in taxonomy.records:
        topic = normalised(rec.source, rec.label)
        if topic is None:  # not reachable for a record read by read_taxonomy; kept for safety
            problems.append(TaxonomyProblem(taxonomy.path, rec.index, "label", "no usable label", "error"))
            continue
        iri = _concept(concepts, schemes, iris, topic, rec.source_name)
        concepts[iri].notations.append(rec.classname)
        if rec.definition and rec.definition not in concepts[iri].definitions:
            concepts[iri].definitions.append(rec.definition)
        by_classname[(rec.source_name, rec.classname)] = iri
        by_label.setdefault((topic.source or "", topic.label), iri)
        placed.append((rec, iri))

    def resolve(ref: Reference, default_source: TaxonomyRecord) -> str | None:
        source_name = ref.source_name or default_source.source_name
        if ref.classname and (source_name, ref.classname) in by_classname:
            return by_classname[(source_name, ref.classname)]
        if ref.label:
            t = normalised(ref.source or default_source.source, ref.label)
            if t is not None:
                return by_label.get((t.source or "", t.label))
        return None

    for rec, iri in placed:
        for i, ref in enumerate(rec.equivalents):
            other = resolve(ref, rec)
            if other is None:
                named = f"{ref.source or '?'}: {ref.label or ref.classname or '?'}"
                problems.append(
                    TaxonomyProblem(
                        taxonomy.path,
                        rec.index,
                        f"equalentCollections[{i}]",
                        f"equivalent {named!r} is not a topic of the taxonomy; link left out",
                    )
                )
            elif other != iri:  # two records of one concept may name each other
                concepts[iri].close.add(other)
                concepts[other].close.add(iri)
        if rec.subclass is not None:
            child = resolve(rec.subclass, rec)
            if child is None and rec.subclass.label:
                t = normalised(rec.source, rec.subclass.label)
                if t is not None:
                    child = _concept(concepts, schemes, iris, t, rec.source_name)
                    if rec.subclass.classname:
                        concepts[child].notations.append(rec.subclass.classname)
                    if rec.subclass_definition and rec.subclass_definition not in concepts[child].definitions:
                        concepts[child].definitions.append(rec.subclass_definition)
                    by_label.setdefault((t.source or "", t.label), child)
            if child is None:
                problems.append(
                    TaxonomyProblem(
                        taxonomy.path, rec.index, "subclassname", "subclass names no topic and has no label"
                    )
                )
            elif child != iri:
                concepts[iri].narrower.add(child)
                concepts[child].broader.add(iri)

    triples: list[Triple] = []
    add = triples.append
    for scheme, (label, notations) in schemes.items():
        add((scheme, A, SKOS_SCHEME))
        add((scheme, SKOS_PREF, Lit(label)))
        for n in notations:
            add((scheme, SKOS_NOTATION, Lit(n)))
    for iri, c in concepts.items():
        scheme = iris.scheme(c.topic.source)
        add((iri, A, SKOS_CONCEPT))
        add((iri, SKOS_PREF, Lit(c.topic.label)))
        add((iri, SKOS_IN_SCHEME, scheme))
        for n in c.notations:
            add((iri, SKOS_NOTATION, Lit(n)))
        for d in c.definitions:
            add((iri, SKOS_DEFINITION, Lit(d)))
        for b in c.broader:
            add((iri, SKOS_BROADER, b))
        for n in c.narrower:
            add((iri, SKOS_NARROWER, n))
        if not c.broader:
            add((iri, SKOS_TOP_CONCEPT_OF, scheme))
            add((scheme, SKOS_HAS_TOP_CONCEPT, iri))
        for m in c.close:
            add((iri, SKOS_CLOSE_MATCH, m))
    from kg.write.formats import sort_triples

    return TaxonomyGraph(
        graph=taxonomy_graph(iris),
        triples=sort_triples(set(triples)),
        concepts=len(concepts),
        schemes=len(schemes),
        definitions=sum(1 for c in concepts.values() if c.definitions),
        broader_links=sum(len(c.broader) for c in concepts.values()),
        close_matches=sum(len(c.close) for c in concepts.values()),
        concepts_with_matches=sum(1 for c in concepts.values() if c.close),
        problems=problems,
    )


def _concept(
    concepts: dict[str, _Concept],
    schemes: dict[str, tuple[str, set[str]]],
    iris: IriScheme,
    topic: Topic,
    source_name: str,
) -> str:
    iri = iris.topic(topic.source, topic.label)
    if iri not in concepts:
        concepts[iri] = _Concept(topic)
    scheme = iris.scheme(topic.source)
    schemes.setdefault(scheme, (topic.source or "", set()))[1].add(source_name)
    return iri


# --- writing -------------------------------------------------------------------------------


def format_for(path: Path) -> str:
    """The output format for `path` by its suffix; raises ValueError naming the suffixes known."""
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"{path}: unknown output suffix {path.suffix or '(none)'!r};"
            f" use one of {', '.join(SUFFIX_FORMATS)}"
        )
    return fmt


def render(graph: TaxonomyGraph, fmt: str, base: str) -> Iterator[str]:
    """The taxonomy graph as N-Quads (in its named graph), N-Triples or Turtle text chunks."""
    if fmt == "nquads":
        g = f" <{graph.graph}> .\n"
        for t in graph.triples:
            yield nt_line(t)[: -len(" .\n")] + g
    elif fmt == "ntriples":
        yield from (nt_line(t) for t in graph.triples)
    elif fmt == "turtle":
        from kg.write.formats import Renderer

        renderer = Renderer({**PREFIXES, **instance_prefixes(base)})
        yield f"# The topic taxonomy; kg loads it into <{graph.graph}> only from N-Quads.\n"
        yield renderer.turtle_header()
        yield renderer.turtle_block(graph.triples)
    else:
        raise ValueError(f"unknown format {fmt!r}")


def write_taxonomy(graph: TaxonomyGraph, path: Path, base: str) -> None:
    """Write the graph to `path` atomically, in the format its suffix names."""
    from kg.write.formats import atomic_writer

    fmt = format_for(path)
    with atomic_writer(path) as handle:
        for chunk in render(graph, fmt, base):
            handle.write(chunk.encode("utf-8"))


# --- matching curation topics ----------------------------------------------------------------

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

    @property
    def ok(self) -> bool:
        return self.kind == "exact"

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
    from kg.read.sources import discover, read_file

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
