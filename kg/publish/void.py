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
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from kg.errors import KgError
from kg.map.curation import IriScheme
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

#: The name of the description in an export folder.
DESCRIPTION_NAME = "void.ttl"

#: Media types of the files an export writes (IANA registry IRIs, as DCAT recommends).
MEDIA_TYPES = {
    "curations.ttl": "text/turtle",
    "curations.jsonld": "application/ld+json",
    "curations.nt": "application/n-triples",
    "curations.nq": "application/n-quads",
    "report.json": "application/json",
}
IANA = "https://www.iana.org/assignments/media-types/"

#: Union-graph files the statistics can be read from, in order of preference (cheapest parse).
STATISTICS_SOURCES = (
    ("curations.nt", pyoxigraph.RdfFormat.N_TRIPLES),
    ("curations.ttl", pyoxigraph.RdfFormat.TURTLE),
)


class DescriptionError(KgError):
    """The outputs to describe cannot be read (the message names the file)."""


@dataclass
class Statistics:
    """VoID counts of one union graph."""

    triples: int = 0
    subjects: set[str] = field(default_factory=set)
    properties: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)  # class -> instances (rdf:type triples)
    objects: int = 0  # distinct objects, counted through a set of digests
    links: Counter[str] = field(default_factory=Counter)  # kg:topic triples


def statistics(path: Path, fmt: pyoxigraph.RdfFormat) -> Statistics:
    """Stream `path` once and count what VoID describes."""
    stats = Statistics()
    objects: set[bytes] = set()
    try:
        for triple in pyoxigraph.parse(path=str(path), format=fmt):
            subject, predicate, obj = str(triple.subject), triple.predicate.value, triple.object
            stats.triples += 1
            stats.subjects.add(subject)
            stats.properties[predicate] += 1
            objects.add(hashlib.blake2b(str(obj).encode(), digest_size=12).digest())
            if predicate == RDF_TYPE and isinstance(obj, pyoxigraph.NamedNode):
                stats.classes[obj.value] += 1
            elif predicate == KGTerms.topic:
                stats.links[predicate] += 1
    except (OSError, SyntaxError, ValueError) as exc:
        raise DescriptionError(f"{path}: cannot be read to describe it: {exc}") from exc
    stats.objects = len(objects)
    return stats


def _count(value: int) -> Lit:
    return Lit(str(value), XSD_INTEGER)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _distribution(dataset: str, name: str, path: Path) -> list[Triple]:
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
        (checksum, SPDX + "checksumValue", Lit(_sha256(path), PREFIXES["xsd"] + "hexBinary")),
    ]


def _partitions(dataset: str, stats: Statistics, prefixes: Prefixes) -> list[Triple]:
    """One class partition per class (its instances) and one property partition per property
    (its triples), each named by the term's compact form (`class/schema%3APerson`)."""
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
        (linkset, VOID + "triples", _count(stats.links[KGTerms.topic])),
    ]


def describe(outputs: Mapping[str, Path], base_iri: str) -> str:
    """The Turtle description of the export whose files are `outputs` (final name -> path,
    which may be a staged temporary file). Needs `curations.nt` or `curations.ttl`."""
    source = next(((outputs[n], fmt) for n, fmt in STATISTICS_SOURCES if n in outputs), None)
    if source is None:
        wanted = " or ".join(n for n, _ in STATISTICS_SOURCES)
        raise DescriptionError(f"a dataset description needs {wanted} among the outputs")
    stats = statistics(*source)
    dataset = IriScheme(base_iri).dataset()
    triples: list[Triple] = [
        (dataset, RDF_TYPE, VOID + "Dataset"),
        (dataset, RDF_TYPE, DCAT + "Dataset"),
        (dataset, DCTERMS + "title", Lit("Medigy curations knowledge graph")),
        (dataset, VOID + "vocabulary", PREFIXES["kg"]),
        (dataset, VOID + "triples", _count(stats.triples)),
        (dataset, VOID + "entities", _count(len(stats.subjects))),
        (dataset, VOID + "distinctSubjects", _count(len(stats.subjects))),
        (dataset, VOID + "distinctObjects", _count(stats.objects)),
        (dataset, VOID + "classes", _count(len(stats.classes))),
        (dataset, VOID + "properties", _count(len(stats.properties))),
        (dataset, VOID + "uriSpace", Lit(base_iri)),
    ]
    prefixes = Prefixes({**DESCRIPTION_PREFIXES, **instance_prefixes(base_iri), "dataset": dataset + "/"})
    triples += _partitions(dataset, stats, prefixes) + _linkset(dataset, stats)
    for name in sorted(outputs):
        triples += _distribution(dataset, name, outputs[name])
    writer = TurtleWriter(prefixes)
    return writer.header() + writer.block(sort_triples(triples))
