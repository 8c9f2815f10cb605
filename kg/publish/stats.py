"""Statistics of a knowledge graph (`kg stats`, `kg.stats`): triples, curations, distinct topics,
brands and communities, instances per class and triples (and distinct objects) per property.

Of an export folder they are read from its dataset description (`void.ttl`, which counted the
files when they were written: nothing is loaded); of a store, files or an endpoint, from three
library queries (`dataset-totals`, `class-counts`, `property-counts`), which count the curation
graphs as VoID counts the union graph. Both give the same numbers for the same data (tested).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from kg.errors import KgError
from kg.publish import DESCRIPTION_NAME
from kg.publish.void import DESCRIPTION_PREFIXES
from kg.rdf.namespaces import KGTerms
from kg.sparql.library import resolve
from kg.sparql.query import Target, execute
from kg.sparql.results import compact

#: The totals, in the order they are shown.
TOTALS = ("triples", "curations", "topics", "brands", "communities")


class StatsError(KgError):
    """The statistics cannot be read (the message names the file)."""


@dataclass
class GraphStats:
    """What `kg stats` shows. Classes and properties are most first, then by IRI."""

    triples: int = 0
    curations: int = 0
    topics: int = 0
    brands: int = 0
    communities: int = 0
    classes: list[tuple[str, int]] = field(default_factory=list)  # (class IRI, instances)
    properties: list[tuple[str, int, int]] = field(default_factory=list)  # (IRI, triples, objects)

    def to_json(self) -> dict[str, object]:
        return {
            **{name: getattr(self, name) for name in TOTALS},
            "classes": [{"class": c, "instances": n} for c, n in self.classes],
            "properties": [{"property": p, "triples": n, "objects": o} for p, n, o in self.properties],
        }

    def json(self) -> str:
        return json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n"

    def table(self) -> str:
        """Plain text for people: the totals, then the classes and the properties (IRIs compact)."""
        width = max(map(len, TOTALS))
        lines = [f"{name.ljust(width)}  {getattr(self, name):>9}" for name in TOTALS]
        lines += ["", *_columns(("class", "instances"), [(compact(c), n) for c, n in self.classes])]
        rows = [(compact(p), n, o) for p, n, o in self.properties]
        lines += ["", *_columns(("property", "triples", "objects"), rows)]
        return "\n".join(lines) + "\n"


def _columns(header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> list[str]:
    """A left-aligned name column and right-aligned numbers."""
    cells = [header, *(tuple(str(v) for v in row) for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(cells))

    return [line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])]


def _most_first(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def of_store(target: Target) -> GraphStats:
    """The statistics of the curation graphs of `target` (a store, its folder, RDF files or
    sources, an endpoint): one library query each for the totals, classes and properties."""
    totals = execute(resolve("dataset-totals"), target).rows()[0]  # aggregates: always one row

    def total(name: str) -> int:
        return int(str(totals[name] or 0))

    stats = GraphStats(
        total("triples"), total("curations"), total("topics"), total("brands"), total("communities")
    )
    classes = execute(resolve("class-counts"), target).rows()
    stats.classes = _most_first([(str(r["class"]), int(str(r["instances"]))) for r in classes])
    properties = execute(resolve("property-counts"), target).rows()
    rows = [(str(r["property"]), int(str(r["triples"])), int(str(r["objects"]))) for r in properties]
    stats.properties = sorted(rows, key=lambda row: (-row[1], row[0]))
    return stats


_DESCRIPTION_QUERIES = {
    "totals": "SELECT ?n WHERE { ?d a dcat:Dataset ; void:triples ?n }",
    "classes": (
        "SELECT ?c ?n WHERE { ?d a dcat:Dataset ; void:classPartition [ void:class ?c ; void:entities ?n ] }"
    ),
    "properties": (
        "SELECT ?p ?n ?o WHERE { ?d a dcat:Dataset ; void:propertyPartition "
        "[ void:property ?p ; void:triples ?n ; void:distinctObjects ?o ] }"
    ),
}


def of_export(folder: Path) -> GraphStats:
    """The statistics of the export in `folder`, read from its `void.ttl` (nothing else loaded)."""
    path = folder / DESCRIPTION_NAME
    store = pyoxigraph.Store()
    try:
        store.load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
    except FileNotFoundError:
        raise StatsError(f"{path}: not found (every `kg export` writes it beside its outputs)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise StatsError(f"{path}: cannot be read: {exc}") from None
    header = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in DESCRIPTION_PREFIXES.items())

    def rows(name: str) -> list[list[str]]:
        answer = store.query(header + _DESCRIPTION_QUERIES[name])
        assert isinstance(answer, pyoxigraph.QuerySolutions)
        return [[term.value for term in row] for row in answer]

    triples = rows("totals")
    if len(triples) != 1:
        raise StatsError(f"{path}: not a dataset description kg wrote (no dcat:Dataset with void:triples)")
    classes = {c: int(n) for c, n in rows("classes")}
    properties = {p: (int(n), int(o)) for p, n, o in rows("properties")}
    return GraphStats(
        triples=int(triples[0][0]),
        curations=classes.get(KGTerms.Curation, 0),
        topics=properties.get(KGTerms.topic, (0, 0))[1],
        brands=properties.get(KGTerms.sourceBrand, (0, 0))[1],
        communities=properties.get(KGTerms.community, (0, 0))[1],
        classes=_most_first(list(classes.items())),
        properties=sorted(((p, n, o) for p, (n, o) in properties.items()), key=lambda r: (-r[1], r[0])),
    )


def is_export_folder(path: Path) -> bool:
    """A folder holding a dataset description (an export's output folder)."""
    return path.is_dir() and (path / DESCRIPTION_NAME).exists()
