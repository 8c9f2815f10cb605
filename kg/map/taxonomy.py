"""The site's topic taxonomy as a SKOS graph, and its files; the `kg taxonomy` command's API.

`taxonomy_rdf` maps the records `kg.read.taxonomy.read_taxonomy` reads to kg's plain triples,
all meant for one named graph (`taxonomy_graph`). Topic and scheme IRIs come from
`kg.map.curation.IriScheme`, from the same normalised (source, label) pair that
`kg.read.normalize.topic` makes of a front-matter string, so the concept for `KLAS: Telehealth`
here IS the IRI a curation's `kg:topic` points at. See docs/taxonomy.md for the choices
(closeMatch, not exactMatch; what `parentclass*` and `subclass*` mean; records sharing a
label). `render` and `write_taxonomy` write the graph as N-Quads, N-Triples or Turtle.

The reader's and the topic matcher's names (`kg.read.taxonomy`, `kg.map.topics`) are
re-exported here, so `kg taxonomy` reaches everything it uses through this one module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kg.map.curation import IriScheme
from kg.map.topics import TopicMatcher, check_sources
from kg.model import Topic
from kg.rdf.namespaces import PREFIXES, Prefixes, instance_prefixes
from kg.rdf.terms import Lit, Triple, nt_line
from kg.read.taxonomy import (
    Reference,
    Taxonomy,
    TaxonomyError,
    TaxonomyProblem,
    TaxonomyRecord,
    normalised,
    parse_taxonomy,
    read_taxonomy,
)
from kg.write.files import atomic_writer
from kg.write.protocol import sort_triples
from kg.write.turtle import TurtleWriter

__all__ = [
    "SUFFIX_FORMATS",
    "TaxonomyError",
    "TaxonomyGraph",
    "TopicMatcher",
    "check_sources",
    "format_for",
    "parse_taxonomy",
    "read_taxonomy",
    "render",
    "taxonomy_graph",
    "taxonomy_rdf",
    "write_taxonomy",
]

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

#: Output formats of `write_taxonomy`, by file suffix.
SUFFIX_FORMATS = {".nq": "nquads", ".nt": "ntriples", ".ttl": "turtle"}


def taxonomy_graph(iris: IriScheme) -> str:
    """The named graph that holds the taxonomy (`IriScheme.taxonomy_graph`)."""
    return iris.taxonomy_graph()


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
    skos = _Skos(iris or IriScheme(), taxonomy.path, list(taxonomy.problems))
    placed = [(rec, iri) for rec in taxonomy.records if (iri := skos.place(rec)) is not None]
    for rec, iri in placed:
        skos.link_equivalents(rec, iri)
        if rec.subclass is not None:
            skos.link_subclass(rec, rec.subclass, iri)
    concepts = skos.concepts.values()
    return TaxonomyGraph(
        graph=taxonomy_graph(skos.iris),
        triples=sort_triples(set(skos.triples())),
        concepts=len(skos.concepts),
        schemes=len(skos.schemes),
        definitions=sum(1 for c in concepts if c.definitions),
        broader_links=sum(len(c.broader) for c in concepts),
        close_matches=sum(len(c.close) for c in concepts),
        concepts_with_matches=sum(1 for c in concepts if c.close),
        problems=skos.problems,
    )


class _Skos:
    """The concepts and schemes of one taxonomy, while its records are placed and linked."""

    def __init__(self, iris: IriScheme, path: str, problems: list[TaxonomyProblem]) -> None:
        self.iris = iris
        self.path = path
        self.problems = problems
        self.concepts: dict[str, _Concept] = {}
        self.schemes: dict[str, tuple[str, set[str]]] = {}  # scheme IRI -> (label, notations)
        self.by_classname: dict[tuple[str, str], str] = {}  # (source_name, classname) -> concept IRI
        self.by_label: dict[tuple[str, str], str] = {}  # normalised (source, label) -> concept IRI

    def concept(self, topic: Topic, source_name: str) -> str:
        """The concept IRI of `topic`, its concept and scheme made when first met."""
        iri = self.iris.topic(topic.source, topic.label)
        if iri not in self.concepts:
            self.concepts[iri] = _Concept(topic)
        scheme = self.iris.scheme(topic.source)
        self.schemes.setdefault(scheme, (topic.source or "", set()))[1].add(source_name)
        return iri

    def place(self, rec: TaxonomyRecord) -> str | None:
        """The concept of one record (with its notation and definition), or None with an error."""
        topic = normalised(rec.source, rec.label)
        if topic is None:  # a source that starts with ': ' leaves no source to split off
            self.problems.append(TaxonomyProblem(self.path, rec.index, "label", "no usable label", "error"))
            return None
        iri = self.concept(topic, rec.source_name)
        self.concepts[iri].notations.append(rec.classname)
        if rec.definition and rec.definition not in self.concepts[iri].definitions:
            self.concepts[iri].definitions.append(rec.definition)
        self.by_classname[(rec.source_name, rec.classname)] = iri
        self.by_label.setdefault((topic.source or "", topic.label), iri)
        return iri

    def resolve(self, ref: Reference, default_source: TaxonomyRecord) -> str | None:
        """The concept a reference names, by classname first, then by normalised label."""
        source_name = ref.source_name or default_source.source_name
        if ref.classname and (source_name, ref.classname) in self.by_classname:
            return self.by_classname[(source_name, ref.classname)]
        if ref.label:
            t = normalised(ref.source or default_source.source, ref.label)
            if t is not None:
                return self.by_label.get((t.source or "", t.label))
        return None

    def link_equivalents(self, rec: TaxonomyRecord, iri: str) -> None:
        """closeMatch both ways with every equivalent that names a topic; a warning otherwise."""
        for i, ref in enumerate(rec.equivalents):
            other = self.resolve(ref, rec)
            if other is None:
                named = f"{ref.source or '?'}: {ref.label or ref.classname or '?'}"
                self.problems.append(
                    TaxonomyProblem(
                        self.path,
                        rec.index,
                        f"equalentCollections[{i}]",
                        f"equivalent {named!r} is not a topic of the taxonomy; link left out",
                    )
                )
            elif other != iri:  # two records of one concept may name each other
                self.concepts[iri].close.add(other)
                self.concepts[other].close.add(iri)

    def link_subclass(self, rec: TaxonomyRecord, sub: Reference, iri: str) -> None:
        """broader/narrower with the record's subclass, made a concept when it names no topic."""
        child = self.resolve(sub, rec)
        if child is None and sub.label:
            t = normalised(rec.source, sub.label)
            if t is not None:
                child = self.concept(t, rec.source_name)
                if sub.classname:
                    self.concepts[child].notations.append(sub.classname)
                definitions = self.concepts[child].definitions
                if rec.subclass_definition and rec.subclass_definition not in definitions:
                    definitions.append(rec.subclass_definition)
                self.by_label.setdefault((t.source or "", t.label), child)
        if child is None:
            message = "subclass names no topic and has no label"
            self.problems.append(TaxonomyProblem(self.path, rec.index, "subclassname", message))
        elif child != iri:
            self.concepts[iri].narrower.add(child)
            self.concepts[child].broader.add(iri)

    def triples(self) -> list[Triple]:
        """Every scheme's and concept's triples, unsorted, possibly repeated."""
        triples: list[Triple] = []
        add = triples.append
        for scheme, (label, notations) in self.schemes.items():
            add((scheme, A, SKOS_SCHEME))
            add((scheme, SKOS_PREF, Lit(label)))
            for n in notations:
                add((scheme, SKOS_NOTATION, Lit(n)))
        for iri, c in self.concepts.items():
            scheme = self.iris.scheme(c.topic.source)
            add((iri, A, SKOS_CONCEPT))
            add((iri, SKOS_PREF, Lit(c.topic.label)))
            add((iri, SKOS_IN_SCHEME, scheme))
            triples += [(iri, SKOS_NOTATION, Lit(n)) for n in c.notations]
            triples += [(iri, SKOS_DEFINITION, Lit(d)) for d in c.definitions]
            triples += [(iri, SKOS_BROADER, b) for b in c.broader]
            triples += [(iri, SKOS_NARROWER, n) for n in c.narrower]
            if not c.broader:
                add((iri, SKOS_TOP_CONCEPT_OF, scheme))
                add((scheme, SKOS_HAS_TOP_CONCEPT, iri))
            triples += [(iri, SKOS_CLOSE_MATCH, m) for m in c.close]
        return triples


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
        writer = TurtleWriter(Prefixes({**PREFIXES, **instance_prefixes(base)}))
        yield f"# The topic taxonomy; kg loads it into <{graph.graph}> only from N-Quads.\n"
        yield writer.header()
        yield writer.block(graph.triples)
    else:
        raise ValueError(f"unknown format {fmt!r}")


def write_taxonomy(graph: TaxonomyGraph, path: Path, base: str) -> None:
    """Write the graph to `path` atomically, in the format its suffix names."""
    fmt = format_for(path)
    with atomic_writer(path) as handle:
        for chunk in render(graph, fmt, base):
            handle.write(chunk.encode("utf-8"))
