"""Expected answers of the query library, computed without SPARQL.

rdflib parses the exported N-Quads and plain Python walks each curation's named graph, so the
expectations share neither the queries nor the engine they run on. Each function returns the
rows a library query must return, in the order its ORDER BY defines.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import rdflib
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

KG = "https://w3id.org/medigy/kg#"
SCHEMA = "https://schema.org/"


def instant(lexical: str | None) -> datetime | None:
    """An xsd:dateTime lexical form as an aware datetime (for comparing with query rows)."""
    if lexical is None:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(lexical, fmt)
        except ValueError:
            continue
    raise AssertionError(f"not an xsd:dateTime with a zone: {lexical}")


@dataclass
class Facts:
    """What one curation's graph says about it."""

    iri: str
    title: str
    source: str
    description: str | None = None
    published: str | None = None
    brand: str | None = None
    brand_iri: str | None = None
    url: str | None = None
    community: str | None = None
    image: bool = False
    article: bool = False
    topics: set[tuple[str, str, str]] = field(default_factory=set)  # (iri, scheme, label)
    graph: frozenset[tuple[object, object, object]] = frozenset()  # the triples of its graph (rdflib terms)
    nodes: frozenset[tuple[object, object, object]] = frozenset()  # the triples of every kg:NodeGraph


def curation_facts(nquads: bytes) -> list[Facts]:
    ds = Dataset()
    # Keep lexical forms as written (rdflib would rewrite "...Z" dateTimes as "+00:00").
    normalize, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
    try:
        ds.parse(data=nquads, format="nquads")
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
    out = []
    whole = Graph()  # the shared nodes are described in graphs of their own: read them in the union
    node_triples: set[tuple[object, object, object]] = set()
    for graph in ds.graphs():
        whole += graph
        if (graph.identifier, RDF.type, URIRef(KG + "NodeGraph")) in graph:
            node_triples.update(graph.triples((None, None, None)))
    nodes = frozenset(node_triples)
    for graph in ds.graphs():
        if (graph.identifier, RDF.type, URIRef(KG + "CurationGraph")) not in graph:
            continue

        def one(s: object, p: str, g: object = graph) -> str | None:
            values = [str(o) for o in g.objects(s, URIRef(p))]  # type: ignore[attr-defined]
            assert len(values) <= 1, (s, p, values)
            return values[0] if values else None

        source = one(graph.identifier, KG + "sourcePath")
        for c in graph.subjects(RDF.type, URIRef(KG + "Curation")):
            brand = one(c, KG + "sourceBrand")
            article = one(c, KG + "sourceArticle")
            community = one(c, KG + "community")
            facts = Facts(
                iri=str(c),
                title=one(c, SCHEMA + "name") or "",
                source=source or "",
                description=one(c, SCHEMA + "description"),
                published=one(c, SCHEMA + "datePublished"),
                brand=one(URIRef(brand), SCHEMA + "name", whole) if brand else None,
                brand_iri=brand,
                url=one(URIRef(article), SCHEMA + "url") if article else None,
                community=one(URIRef(community), str(RDFS.label), whole) if community else None,
                image=one(c, SCHEMA + "image") is not None,
                article=article is not None,
                graph=frozenset(graph.triples((None, None, None))),
                nodes=nodes,
            )
            for t in graph.objects(c, URIRef(KG + "topic")):
                label = one(t, str(SKOS.prefLabel), whole)
                scheme = one(URIRef(str(one(t, str(SKOS.inScheme), whole))), str(SKOS.prefLabel), whole)
                assert label is not None and scheme is not None
                facts.topics.add((str(t), scheme, label))
            out.append(facts)
    return out


def _most_first(counts: Counter[tuple[str, ...]]) -> list[tuple[object, ...]]:
    return sorted(((*key, n) for key, n in counts.items()), key=lambda r: (-int(str(r[-1])), r[:-1]))


def topic_counts(facts: list[Facts]) -> list[dict[str, object]]:
    counts: Counter[tuple[str, ...]] = Counter()
    for f in facts:
        for scheme, label in {(t[1], t[2]) for t in f.topics}:
            counts[(scheme, label)] += 1
    return [dict(zip(("scheme", "topic", "curations"), r, strict=True)) for r in _most_first(counts)]


def brand_counts(facts: list[Facts]) -> list[dict[str, object]]:
    counts: Counter[tuple[str, ...]] = Counter((f.brand,) for f in facts if f.brand is not None)
    return [dict(zip(("brand", "curations"), r, strict=True)) for r in _most_first(counts)]


def community_summary(facts: list[Facts]) -> list[dict[str, object]]:
    groups: dict[str, list[Facts]] = defaultdict(list)
    for f in facts:
        if f.community is not None:
            groups[f.community].append(f)
    rows = []
    for community, members in groups.items():
        days = [f.published[:10] for f in members if f.published]
        rows.append(
            {
                "community": community,
                "curations": len({f.iri for f in members}),
                "topics": len({t[0] for f in members for t in f.topics}),
                "brands": len({f.brand_iri for f in members if f.brand_iri}),
                "first": min(days) if days else None,
                "last": max(days) if days else None,
            }
        )
    return sorted(rows, key=lambda r: (-int(str(r["curations"])), str(r["community"])))


def brand_coverage(facts: list[Facts], community: str | None = None) -> list[dict[str, object]]:
    groups: dict[tuple[str, str], list[Facts]] = defaultdict(list)
    for f in facts:
        if f.community is not None and f.brand_iri is not None and community in (None, f.community):
            groups[(f.community, f.brand_iri)].append(f)
    rows: list[dict[str, object]] = [
        {
            "community": c,
            "brand": members[0].brand,
            "curations": len({f.iri for f in members}),
            "topics": len({t[0] for f in members for t in f.topics}),
        }
        for (c, _), members in groups.items()
    ]
    return sorted(rows, key=lambda r: (str(r["community"]), -int(str(r["curations"])), str(r["brand"])))


def topic_trend(
    facts: list[Facts], scheme: str | None = None, community: str | None = None
) -> list[dict[str, object]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for f in facts:
        if not f.published or community not in (None, f.community):
            continue
        for s, label in {(t[1], t[2]) for t in f.topics}:
            if scheme in (None, s):
                counts[(f.published[:7], s, label)] += 1
    rows = sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1], kv[0][2]))
    return [{"month": m, "scheme": s, "topic": t, "curations": n} for (m, s, t), n in rows]


def newest_first(rows: list[dict[str, object]], *keys: str) -> list[dict[str, object]]:
    """ORDER BY DESC(?date) then `keys` ascending; rows without a date come last."""
    rows = sorted(rows, key=lambda r: tuple(str(r[k]) for k in keys))
    dated = sorted((r for r in rows if r["date"] is not None), key=lambda r: r["date"], reverse=True)  # type: ignore[arg-type,return-value]
    return dated + [r for r in rows if r["date"] is None]


def curations_by_topic(facts: list[Facts], topic: str, scheme: str | None = None) -> list[dict[str, object]]:
    rows = []
    for f in facts:
        for s in sorted({s for _, s, label in f.topics if label.lower() == topic.lower()}):
            if scheme is None or s == scheme:
                rows.append(
                    {
                        "curation": f.iri,
                        "title": f.title,
                        "scheme": s,
                        "date": instant(f.published),
                        "brand": f.brand,
                        "url": f.url,
                    }
                )
    return newest_first(rows, "title", "curation", "scheme")


def topic_cooccurrence(facts: list[Facts], minimum: int = 1) -> list[dict[str, object]]:
    counts: Counter[tuple[str, ...]] = Counter()
    for f in facts:
        labels = sorted({(scheme, label) for _, scheme, label in f.topics})
        for i, a in enumerate(labels):
            for b in labels[i + 1 :]:
                counts[(*a, *b)] += 1
    names = ("scheme_a", "topic_a", "scheme_b", "topic_b", "curations")
    return [dict(zip(names, r, strict=True)) for r in _most_first(counts) if int(str(r[-1])) >= minimum]


def curations_per_month(facts: list[Facts], community: str | None = None) -> list[dict[str, object]]:
    months: Counter[str] = Counter(
        f.published[:7] for f in facts if f.published and (community is None or f.community == community)
    )
    return [{"month": m, "curations": n} for m, n in sorted(months.items())]


def search(facts: list[Facts], text: str) -> list[dict[str, object]]:
    rows = []
    needle = text.lower()
    for f in facts:
        in_title = needle in f.title.lower()
        in_description = needle in (f.description or "").lower()
        if in_title or in_description:
            where = (
                "title, description"
                if in_title and in_description
                else "title"
                if in_title
                else "description"
            )
            rows.append(
                {"curation": f.iri, "title": f.title, "date": instant(f.published), "found_in": where}
            )
    return newest_first(rows, "title", "curation")


def quality_gaps(facts: list[Facts]) -> list[dict[str, object]]:
    rows = []
    for f in facts:
        gaps = [
            name
            for name, missing in (
                ("topics", not f.topics),
                ("description", f.description is None),
                ("image", not f.image),
                ("source-link", not f.article),
            )
            if missing
        ]
        if gaps:
            rows.append({"curation": f.iri, "title": f.title, "source": f.source, "missing": ", ".join(gaps)})
    return sorted(rows, key=lambda r: (str(r["source"]), str(r["curation"])))


def _union(facts: list[Facts]) -> set[tuple[object, object, object]]:
    """The distinct triples of the curation graphs and the shared nodes' graphs."""
    return set().union(*(f.graph for f in facts), *(f.nodes for f in facts[:1]))


def dataset_totals(facts: list[Facts]) -> list[dict[str, object]]:
    return [
        {
            "triples": len(_union(facts)),
            "curations": len({f.iri for f in facts}),
            "topics": len({t[0] for f in facts for t in f.topics}),
            "brands": len({f.brand_iri for f in facts if f.brand_iri}),
            "communities": len({f.community for f in facts if f.community}),
        }
    ]


def class_counts(facts: list[Facts]) -> list[dict[str, object]]:
    counts: Counter[tuple[str, ...]] = Counter((str(o),) for s, p, o in _union(facts) if p == RDF.type)
    return [dict(zip(("class", "instances"), r, strict=True)) for r in _most_first(counts)]


def property_counts(facts: list[Facts]) -> list[dict[str, object]]:
    union = _union(facts)
    triples = Counter(str(p) for _, p, _ in union)
    objects = {p: len({o for _, q, o in union if str(q) == p}) for p in triples}
    rows = [{"property": p, "triples": n, "objects": objects[p]} for p, n in triples.items()]
    return sorted(rows, key=lambda r: (-int(str(r["triples"])), r["property"]))
