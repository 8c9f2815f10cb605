"""The dataset description of an export: VoID statistics and DCAT distributions, as Turtle.

A data team publishing an export needs to say what it holds without making every reader load it:
how many triples, entities, classes and properties (with VoID class and property partitions),
how many curation graphs, how the curations link to the topic concepts (a VoID linkset), and
each dump file with its media type, byte size and sha256 (DCAT distributions with SPDX
checksums, as DCAT 3 recommends). Everything is computed from the files themselves, so the
counts are those a reader gets (tests parse the outputs and compare); nothing depends on the
clock, so the same export gives the same bytes.

Statistics come from the union graph (`curations.nt`, else `curations.ttl`), streamed through
pyoxigraph's parser: a distinct triple appears once there, as kg writes every shared node once.
An export of only `curations.nq` or `curations.jsonld` is read as quads: each triple is in one
graph only (`kg.map.nodes`).

Every export writes its description as `void.ttl` (`kg.publish.DESCRIPTION_NAME`), staged and
committed with the other outputs, describing them as they are committed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from kg.errors import KgError
from kg.map.curation import IriScheme
from kg.publish.distinct import Distinct
from kg.rdf.iri import segment
from kg.rdf.namespaces import PREFIXES, KGTerms, Prefixes, instance_prefixes
from kg.rdf.terms import XSD_INTEGER, Lit, Triple
from kg.write.protocol import sort_triples
from kg.write.turtle import TurtleWriter

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
DCTERMS = PREFIXES["dcterms"]
RDF_TYPE = PREFIXES["rdf"] + "type"
XSD_NON_NEGATIVE = PREFIXES["xsd"] + "nonNegativeInteger"

#: The description's own prefixes, on top of the shared map (kept out of `PREFIXES`, which the
#: curation outputs print in their headers).
DESCRIPTION_PREFIXES = {**PREFIXES, "void": VOID, "dcat": DCAT, "spdx": SPDX}

#: Media types of the files an export writes (IANA registry IRIs, as DCAT recommends).
MEDIA_TYPES = {
    "curations.ttl": "text/turtle",
    "curations.jsonld": "application/ld+json",
    "curations.nt": "application/n-triples",
    "curations.nq": "application/n-quads",
    "report.json": "application/json",
}
IANA = "https://www.iana.org/assignments/media-types/"

#: Files the statistics can be read from, in order of preference: the union graph (cheapest
#: parse first), then the formats with named graphs (each triple in one of them).
STATISTICS_SOURCES = (
    ("curations.nt", pyoxigraph.RdfFormat.N_TRIPLES),
    ("curations.ttl", pyoxigraph.RdfFormat.TURTLE),
    ("curations.nq", pyoxigraph.RdfFormat.N_QUADS),
    ("curations.jsonld", pyoxigraph.RdfFormat.JSON_LD),
)


class DescriptionError(KgError):
    """The outputs to describe cannot be read (the message names the file)."""


@dataclass
class Statistics:
    """VoID counts of one union graph."""

    triples: int = 0
    subjects: int = 0  # distinct
    objects: int = 0  # distinct
    properties: Counter[str] = field(default_factory=Counter)  # property -> triples
    property_objects: Counter[str] = field(default_factory=Counter)  # property -> distinct objects
    classes: Counter[str] = field(default_factory=Counter)  # class -> instances (rdf:type triples)
    links: int = 0  # kg:topic triples



#: Longest term the statistics keep as it is; a longer one (an article body, a description: they
#: run to kilobytes) is kept as a 16-byte digest behind a NUL, which no N-Triples term starts with.
#: Holding every distinct object whole cost ~200 MB of peak memory at 10k curations.
_SHORT_TERM = 48


def _key(term: bytes) -> bytes:
    """`term` as the distinct-object sets hold it (see `_SHORT_TERM`)."""
    return term if len(term) <= _SHORT_TERM else b"\0" + hashlib.blake2b(term, digest_size=16).digest()


#: Triples read between two looks at the size of the distinct-key sets (`Distinct.check`).
_CHECK_EVERY = 0xFFFF


@dataclass
class _Tally:
    """What `statistics` counts while it reads: the distinct subjects, objects and (property,
    object) pairs in sets (terms kept short by `_key`) that `distinct` moves to disk when they
    grow past its limit, so what is held is bounded, not by the export."""

    subjects: set[bytes] = field(default_factory=set)
    objects: set[bytes] = field(default_factory=set)
    property_objects: dict[bytes, set[bytes]] = field(default_factory=dict)  # -> object keys
    properties: Counter[bytes] = field(default_factory=Counter)  # property -> triples
    classes: Counter[bytes] = field(default_factory=Counter)
    distinct: Distinct = field(default_factory=Distinct)  # where the sets go when they grow

    def groups(self) -> dict[int, set[bytes]]:
        """The sets as `Distinct` numbers them: subjects 0, objects 1, then each property's
        objects in the order the properties were met (a dict keeps it)."""
        groups = {0: self.subjects, 1: self.objects}
        groups.update((2 + i, keys) for i, keys in enumerate(self.property_objects.values()))
        return groups

    def add(self, subject: bytes, predicate: bytes, obj: bytes, is_type: bool) -> None:
        self.subjects.add(subject)
        key = _key(obj)
        self.objects.add(key)
        per = self.property_objects.get(predicate)
        if per is None:
            per = self.property_objects[predicate] = set()
        per.add(key)
        self.properties[predicate] += 1
        if is_type:
            self.classes[obj] += 1

    def statistics(self) -> Statistics:
        """The counts, with properties and classes named by their IRIs."""
        counts = self.distinct.counts(self.groups())
        properties = Counter({_iri(p): n for p, n in self.properties.items()})
        distinct = Counter({_iri(p): counts[2 + i] for i, p in enumerate(self.property_objects)})
        classes = Counter({_iri(c): n for c, n in self.classes.items()})
        triples, links = sum(properties.values()), properties[KGTerms.topic]
        return Statistics(triples, counts[0], counts[1], properties, distinct, classes, links)


def _iri(term: bytes) -> str:
    """The IRI of an N-Triples `<...>` term (followed by anything)."""
    return term[1 : term.index(b">")].decode("utf-8")


def statistics(path: Path, fmt: pyoxigraph.RdfFormat) -> Statistics:
    """Read `path` once and count what VoID describes (of a quads format, the triples of the
    union of its graphs, each in one graph)."""
    if fmt == pyoxigraph.RdfFormat.N_TRIPLES:
        return _ntriples_statistics(path)
    tally = _Tally()
    # No set of the triples seen: kg writes each fact in one graph only (kg.map.nodes; a test
    # checks that curations.nq's quads are distinct triples), so every quad counts. That set of
    # 12-byte digests held every triple: 76 -> 159 MB peak describing a 10k N-Quads-only export.
    try:
        for n, item in enumerate(pyoxigraph.parse(path=str(path), format=fmt)):
            if not n & _CHECK_EVERY:
                tally.distinct.check(tally.groups())
            triple = item.triple
            obj = triple.object
            is_type = triple.predicate.value == RDF_TYPE and isinstance(obj, pyoxigraph.NamedNode)
            subject, predicate = str(triple.subject).encode(), str(triple.predicate).encode()
            tally.add(subject, predicate, str(obj).encode(), is_type)
    except (OSError, SyntaxError, ValueError) as exc:
        raise DescriptionError(f"{path}: cannot be read to describe it: {exc}") from exc
    return tally.statistics()


def _ntriples_statistics(path: Path) -> Statistics:
    """`statistics` of kg's own N-Triples, by splitting lines rather than parsing: kg writes one
    distinct triple per line, each term always in the same canonical form, IRIs without spaces,
    so `subject predicate object .` splits at the first two spaces. Twice as fast as the parser
    (0.6 s against 1.3 s for the 405k triples of 10k curations: every incremental export pays
    it); tests compare every count with Oxigraph's parse of the other formats."""
    tally = _Tally()
    type_iri = f"<{RDF_TYPE}>".encode()
    # `_Tally.add` inlined (and the object keeps its line's " .\n", the same on every line):
    # this loop runs once per triple of every export.
    subjects, objects, properties = tally.subjects, tally.objects, tally.properties
    per_property = tally.property_objects
    digest = hashlib.blake2b
    try:
        with path.open("rb") as handle:
            for n, line in enumerate(handle):
                if not n & _CHECK_EVERY:
                    tally.distinct.check(tally.groups())
                subject, predicate, obj = line.split(b" ", 2)
                subjects.add(subject)
                key = obj if len(obj) <= _SHORT_TERM else b"\0" + digest(obj, digest_size=16).digest()
                objects.add(key)
                per = per_property.get(predicate)
                if per is None:
                    per = per_property[predicate] = set()
                per.add(key)
                properties[predicate] += 1
                if predicate == type_iri and obj.startswith(b"<"):
                    tally.classes[obj] += 1
    except (OSError, ValueError) as exc:
        raise DescriptionError(f"{path}: cannot be read to describe it: {exc}") from exc
    return tally.statistics()


def _count(value: int) -> Lit:
    return Lit(str(value), XSD_INTEGER)


#: Bytes hashed per read. Large, so that the hashing thread (hashlib releases the GIL while it
#: hashes) asks for the GIL rarely while the statistics hold it; the earlier mmap of each whole
#: file counted every output's pages in the export's resident memory (+~200 MB at 10k curations).
_HASH_CHUNK = 16 * 1024 * 1024


def _sha256(path: Path) -> str:
    """The file's SHA-256, read in `_HASH_CHUNK` pieces into one buffer."""
    digest = hashlib.sha256()
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            digest.update(view[:size])
    return digest.hexdigest()


def _checksums(outputs: Mapping[str, Path]) -> Future[dict[str, str]]:
    """Each output's SHA-256, computed in a thread (see `_sha256`)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-sha256")
    try:
        return pool.submit(lambda: {name: _sha256(path) for name, path in sorted(outputs.items())})
    finally:
        pool.shutdown(wait=False)


def _distribution(dataset: str, name: str, path: Path, sha256: str) -> list[Triple]:
    node = f"{dataset}/distribution/{segment(name)}"
    checksum = f"{node}/sha256"
    return [
        (dataset, DCAT + "distribution", node),
        (node, RDF_TYPE, DCAT + "Distribution"),
        (node, DCTERMS + "title", Lit(name)),
        (node, DCAT + "mediaType", IANA + MEDIA_TYPES.get(name, "application/octet-stream")),
        (node, DCAT + "byteSize", Lit(str(path.stat().st_size), XSD_NON_NEGATIVE)),
        (node, SPDX + "checksum", checksum),
        (checksum, RDF_TYPE, SPDX + "Checksum"),
        (checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256"),
        (checksum, SPDX + "checksumValue", Lit(sha256, PREFIXES["xsd"] + "hexBinary")),
    ]


def _partitions(dataset: str, stats: Statistics, prefixes: Prefixes) -> list[Triple]:
    """One class partition per class (its instances) and one property partition per property
    (its triples and distinct objects: the topics, brands, communities the curations link to),
    each named by the term's compact form (`class/schema%3APerson`)."""
    out: list[Triple] = []
    kinds = (("class", stats.classes, "entities"), ("property", stats.properties, "triples"))
    for kind, counts, measure in kinds:
        for term, count in counts.items():
            node = f"{dataset}/{kind}/{segment(prefixes.compress(term))}"
            out += [
                (dataset, f"{VOID}{kind}Partition", node),
                (node, VOID + kind, term),
                (node, VOID + measure, _count(count)),
            ]
            if kind == "property":
                out.append((node, VOID + "distinctObjects", _count(stats.property_objects[term])))
    return out


def _linkset(dataset: str, stats: Statistics) -> list[Triple]:
    """Curations -> topic concepts, a linkset into the topics (the taxonomy, when loaded)."""
    topics = f"{dataset}/topics"
    linkset = f"{dataset}/linkset/topic"
    return [
        (topics, RDF_TYPE, VOID + "Dataset"),
        (topics, DCTERMS + "title", Lit("Topic concepts (SKOS) the curations link to")),
        (dataset, VOID + "subset", linkset),
        (linkset, RDF_TYPE, VOID + "Linkset"),
        (linkset, VOID + "linkPredicate", KGTerms.topic),
        (linkset, VOID + "subjectsTarget", dataset),
        (linkset, VOID + "objectsTarget", topics),
        (linkset, VOID + "triples", _count(stats.links)),
    ]


def describe(outputs: Mapping[str, Path], base_iri: str) -> str:
    """The Turtle description of the export whose files are `outputs` (final name -> path,
    which may be a staged temporary file). Needs one of the RDF outputs (`STATISTICS_SOURCES`)."""
    source = next(((outputs[n], fmt) for n, fmt in STATISTICS_SOURCES if n in outputs), None)
    if source is None:
        wanted = ", ".join(n for n, _ in STATISTICS_SOURCES)
        raise DescriptionError(f"a dataset description needs one of {wanted} among the outputs")
    checksums = _checksums(outputs)
    stats = statistics(*source)
    sums = checksums.result()
    dataset = IriScheme(base_iri).dataset()
    triples: list[Triple] = [
        (dataset, RDF_TYPE, VOID + "Dataset"),
        (dataset, RDF_TYPE, DCAT + "Dataset"),
        (dataset, DCTERMS + "title", Lit("Medigy curations knowledge graph")),
        (dataset, VOID + "vocabulary", PREFIXES["kg"]),
        (dataset, VOID + "triples", _count(stats.triples)),
        (dataset, VOID + "entities", _count(stats.subjects)),
        (dataset, VOID + "distinctSubjects", _count(stats.subjects)),
        (dataset, VOID + "distinctObjects", _count(stats.objects)),
        (dataset, VOID + "classes", _count(len(stats.classes))),
        (dataset, VOID + "properties", _count(len(stats.properties))),
        (dataset, VOID + "uriSpace", Lit(base_iri)),
    ]
    prefixes = Prefixes({**DESCRIPTION_PREFIXES, **instance_prefixes(base_iri), "dataset": dataset + "/"})
    triples += _partitions(dataset, stats, prefixes) + _linkset(dataset, stats)
    for name in sorted(outputs):
        triples += _distribution(dataset, name, outputs[name], sums[name])
    writer = TurtleWriter(prefixes)
    return writer.header() + writer.block(sort_triples(triples))
