"""The taxonomy of an export (`kg export --taxonomy FILE`): read once in the parent, written as
its own named graph beside the curations, and matched against every curation's topics in the
workers.

`load_taxonomy` reads the site's JSON (`kg.read.taxonomy`), keeps the sha256 of its bytes (a
setting of the export: another taxonomy makes the next export process every file again) and
maps it to SKOS (`kg.map.taxonomy`). The workers get only (path, sha256) in their `Job`, and
build the `TopicMatcher` once per process (`taxonomy_matcher`), from the same bytes: a file
that changed since the parent read it fails the curation rather than giving other answers.
Reads the taxonomy file; writes nothing (the export writes the graph it returns).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kg.errors import KgError
from kg.map.curation import IriScheme
from kg.map.taxonomy import TaxonomyGraph, render, taxonomy_rdf
from kg.map.topics import TopicMatcher
from kg.pipeline.incremental.digests import graph_digest
from kg.rdf.terms import nt_line
from kg.read.taxonomy import parse_taxonomy, taxonomy_bytes


@dataclass(frozen=True, slots=True)
class ExportTaxonomy:
    """The taxonomy an export writes: its file, the sha256 of its bytes, and its SKOS graph."""

    path: str
    sha256: str
    graph: TaxonomyGraph

    def lines(self) -> list[str]:
        """The graph's triples as N-Triples lines (sorted, as `taxonomy_rdf` sorts them)."""
        return [nt_line(t) for t in self.graph.triples]

    def nquads(self) -> str:
        """The graph as N-Quads, in its named graph (`{base}graph/taxonomy`)."""
        return "".join(render(self.graph, "nquads", ""))  # (the base is Turtle's only)

    def digest(self) -> str:
        """The graph's digest, as a curation graph's (`graph_digest`), for the change record."""
        return graph_digest(self.graph.graph, self.lines())

    def for_workers(self) -> tuple[str, str]:
        """What a worker needs to match topics: (path, sha256)."""
        return self.path, self.sha256

    def summary(self) -> dict[str, object]:
        """The taxonomy in `report.json`: the file, its figures and every problem met reading it."""
        g = self.graph
        return {
            "path": self.path,
            "sha256": self.sha256,
            "graph": g.graph,
            "concepts": g.concepts,
            "schemes": g.schemes,
            "triples": len(g.triples),
            "errors": sum(1 for p in g.problems if p.severity == "error"),
            "problems": [
                {"record": p.index, "field": p.field, "message": p.message, "severity": p.severity}
                for p in g.problems
            ],
        }


def load_taxonomy(path: Path, iris: IriScheme) -> ExportTaxonomy:
    """Read and map the taxonomy at `path`; `TaxonomyError` (exit 2) when it cannot be read."""
    data = taxonomy_bytes(path)
    taxonomy = parse_taxonomy(data, str(path))
    return ExportTaxonomy(str(path), hashlib.sha256(data).hexdigest(), taxonomy_rdf(taxonomy, iris))


class TaxonomyChanged(KgError):
    """The taxonomy file a worker read is not the one the export began with."""


@lru_cache(maxsize=2)
def taxonomy_matcher(path: str, sha256: str, iris: IriScheme) -> TopicMatcher:
    """The topic matcher of the taxonomy at `path` whose bytes have `sha256` (once per process)."""
    data = taxonomy_bytes(Path(path))
    if hashlib.sha256(data).hexdigest() != sha256:
        raise TaxonomyChanged(f"{path}: the taxonomy changed while the export ran; run it again")
    return TopicMatcher.from_taxonomy(parse_taxonomy(data, path), iris)
