"""Expected answers of the taxonomy queries, computed without SPARQL and without kg.map.taxonomy.

The taxonomy JSON is read with `json` and walked by hand (a topic is its source and label,
stripped as kg strips front-matter topics); curations come from `tests.helpers.facts` (rdflib over the
exported N-Quads). Topics are compared as (scheme label, label) pairs, never as kg's IRIs, so
these expectations share neither the queries, the engine nor kg's IRI minting.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.facts import Facts, instant, newest_first

Key = tuple[str, str]  # (scheme label, topic label)


@dataclass
class TaxonomyFacts:
    """What the taxonomy file says, keyed by (source, label)."""

    records: int = 0
    concepts: set[Key] = field(default_factory=set)
    definitions: dict[Key, set[str]] = field(default_factory=lambda: defaultdict(set))
    close: dict[Key, set[Key]] = field(default_factory=lambda: defaultdict(set))
    narrower: dict[Key, set[Key]] = field(default_factory=lambda: defaultdict(set))
    unresolved: int = 0
    bad_base64: int = 0


def _key(source: str, label: str) -> Key:
    return (source.strip(), label.replace("-hash-", "#").strip())


def read(path: Path) -> TaxonomyFacts:
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = TaxonomyFacts(records=len(raw))
    for r in raw:
        out.concepts.add(_key(r["parentclasslabel"], r["label"]))
    for r in raw:
        me = _key(r["parentclasslabel"], r["label"])
        if r.get("description"):
            try:
                text = base64.b64decode(r["description"], validate=True).decode("utf-8").strip()
            except (binascii.Error, UnicodeDecodeError):
                out.bad_base64 += 1
            else:
                if text:
                    out.definitions[me].add(text)
        for e in r.get("equalentCollections") or []:
            other = _key(e["parentclasslabel"], e["label"])
            if other not in out.concepts:
                out.unresolved += 1
            elif other != me:
                out.close[me].add(other)
                out.close[other].add(me)
        if r.get("subclasslabel"):
            child = _key(r["parentclasslabel"], r["subclasslabel"])
            out.concepts.add(child)
            out.narrower[me].add(child)
            if r.get("subclassdescription"):
                text = base64.b64decode(r["subclassdescription"]).decode("utf-8").strip()
                out.definitions[child].add(text)
    return out


def _curations_by_topic(facts: list[Facts]) -> dict[Key, set[str]]:
    by_topic: dict[Key, set[str]] = defaultdict(set)
    for f in facts:
        for _, scheme, label in f.topics:
            by_topic[(scheme, label)].add(f.iri)
    return by_topic


def topic_equivalents(
    facts: list[Facts], taxonomy: Path, topic: str, scheme: str | None = None
) -> list[dict[str, object]]:
    tx = read(taxonomy)
    used = _curations_by_topic(facts)
    known = tx.concepts | set(used)
    rows: list[dict[str, object]] = []
    for key in known:
        if key[1].lower() != topic.lower() or (scheme is not None and key[0] != scheme):
            continue
        given = f"{key[0]}: {key[1]}"
        related = [("itself", key)]
        related += [("closeMatch", m) for m in tx.close.get(key, ())]
        related += [("narrower", m) for m in tx.narrower.get(key, ())]
        for relation, (s, label) in related:
            n = len(used.get((s, label), ()))
            row = {"given": given, "relation": relation, "match_scheme": s, "match_topic": label}
            rows.append({**row, "curations": n})
    return sorted(
        rows,
        key=lambda r: (
            r["given"],
            r["relation"] != "itself",
            -int(r["curations"]),  # type: ignore[call-overload]
            r["match_scheme"],
            r["match_topic"],
            r["relation"],
        ),
    )


def source_counts(facts: list[Facts], taxonomy: Path) -> list[dict[str, object]]:
    tx = read(taxonomy)
    used = _curations_by_topic(facts)
    schemes: dict[str, dict[str, set[object]]] = defaultdict(lambda: defaultdict(set))
    for key in tx.concepts | set(used):
        schemes[key[0]]["topics"].add(key)
    for key, curations in used.items():
        schemes[key[0]]["used"].add(key)
        schemes[key[0]]["curations"] |= curations
    rows: list[dict[str, object]] = [
        {
            "scheme": s,
            "curations": len(v["curations"]),
            "topics_used": len(v["used"]),
            "topics": len(v["topics"]),
        }
        for s, v in schemes.items()
    ]
    return sorted(rows, key=lambda r: (-int(r["curations"]), -int(r["topics"]), r["scheme"]))  # type: ignore[call-overload]


def equivalence_group_counts(facts: list[Facts], taxonomy: Path) -> list[dict[str, object]]:
    tx = read(taxonomy)
    used = _curations_by_topic(facts)
    rows: list[dict[str, object]] = []
    for key in tx.concepts | set(used):
        members = (tx.close.get(key, set()) | tx.narrower.get(key, set())) - {key}
        group = set(used.get(key, ()))
        for m in members:
            group |= used.get(m, set())
        if group:
            rows.append(
                {
                    "scheme": key[0],
                    "topic": key[1],
                    "curations": len(used.get(key, ())),
                    "related": len(members),
                    "group_curations": len(group),
                }
            )
    return sorted(
        rows,
        key=lambda r: (-int(r["group_curations"]), -int(r["curations"]), r["scheme"], r["topic"]),  # type: ignore[call-overload]
    )


def curations_about(
    facts: list[Facts], taxonomy: Path, topic: str, scheme: str | None = None
) -> list[dict[str, object]]:
    tx = read(taxonomy)
    known = tx.concepts | {(s, label) for f in facts for _, s, label in f.topics}
    rows: set[tuple[object, ...]] = set()
    for key in known:
        if key[1].lower() != topic.lower() or (scheme is not None and key[0] != scheme):
            continue
        related = [("itself", key)]
        related += [("closeMatch", m) for m in tx.close.get(key, ())]
        related += [("narrower", m) for m in tx.narrower.get(key, ())]
        for relation, match in related:
            for f in facts:
                if any((s, label) == match for _, s, label in f.topics):
                    rows.add((f.iri, f.title, f.published, match[0], match[1], relation))
    names = ("curation", "title", "date", "match_scheme", "match_topic", "relation")
    out = [dict(zip(names, r, strict=True)) for r in rows]
    for row in out:
        row["date"] = instant(row["date"])  # type: ignore[arg-type]
    return newest_first(out, "title", "curation", "match_scheme", "match_topic", "relation")
