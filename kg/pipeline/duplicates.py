"""One curation published in two files is one curation: the first file (in the export's order,
the lexicographically first relative path) gives everything the curation says; every later
file with the same identity (mdName, else work-package id: the same curation IRI and graph)
adds only its provenance to that graph (`prov:wasDerivedFrom` and `kg:sourcePath`), and a
warning naming both files when what the two say differs (their front matter and body as kg
reads them: keys kg does not read do not count). See docs/export.md, "A curation
published twice".

Files are taken in order, so the first file of a graph is always taken before the others;
`Duplicates` remembers the first file of every graph and turns a later one's outcome into a
*second source*: its blocks hold its provenance only, it shares no node, is not validated on
its own, and is never reused by the next export (its row has no sha256), because what it
becomes depends on the other file. Both files are read again to compare them (rare: only
files of a curation published twice are). A file the next export would reuse (its bytes unchanged)
but that is now a second source (an earlier file took its identity) cannot be turned into one
from its copied blocks: `Duplicates` raises `ManifestError`, and the export starts again in
full. Reads those files again; writes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from kg.map.curation import provenance_triples
from kg.model import Curation, Problem
from kg.pipeline.incremental.digests import graph_digest
from kg.pipeline.incremental.manifest import ManifestError
from kg.pipeline.outcome import FileOutcome, Job
from kg.pipeline.workers import renderer
from kg.rdf.terms import nt_line
from kg.read.sources import SourceFile, read_file
from kg.write.ntriples import quads
from kg.write.protocol import sort_triples
from kg.write.streams import render_blocks


def _now_second(path: str, first: str) -> str:
    """Why an export that would reuse `path` starts again in full (see the module's docstring)."""
    return f"{path} is now a second source of the curation {first} publishes"


class Duplicates:
    """The first file of every curation graph taken so far, and what later files become."""

    def __init__(self, files: list[SourceFile], job: Job) -> None:
        self.files = files
        self.job = job
        self.first: dict[str, int] = {}  # graph -> index in files of the first file that made it

    def take(self, outcome: FileOutcome, index: int) -> FileOutcome:
        """`outcome` of `files[index]`, as it is when first of its graph, else as a second source."""
        graph = outcome.graph
        if graph is None:
            return outcome
        first = self.first.get(graph)
        if first is None:
            self.first[graph] = index
            return outcome
        if outcome.reused is not None:
            raise ManifestError(_now_second(outcome.result.path, self._path(first)))
        return self._second(outcome, first, index)

    def take_reused(self, graphs: list[str | None], start: int) -> None:
        """Note the graphs of reused files `start`, `start + 1`, ...; `ManifestError` if one of
        them is now a second source (its copied blocks would be the whole curation)."""
        for offset, graph in enumerate(graphs):
            if graph is None:
                continue
            if graph in self.first:
                path = self.files[start + offset].relative
                raise ManifestError(_now_second(path, self._path(self.first[graph])))
            self.first[graph] = start + offset

    def _path(self, index: int) -> str:
        return self.files[index].relative

    def _says(self, index: int) -> Curation | None:
        """What `files[index]` says, as kg reads it, wherever it lies (its path left out).

        Read again here, not in a worker: only files of a curation published twice are, so no
        export pays for comparing files that have no twin."""
        curation = read_file(self.files[index]).curation
        return None if curation is None else replace(curation, source_path="")

    def _second(self, outcome: FileOutcome, first: int, index: int) -> FileOutcome:
        """`outcome` of `files[index]` as a second source of the curation of `files[first]`."""
        graph, result, job = outcome.graph, outcome.result, self.job
        assert graph is not None
        winner = self._path(first)
        own = sort_triples(provenance_triples(graph, result.path, job.iris))
        lines = [nt_line(t) for t in own]
        nquads = quads(lines, graph) if "nquads" in job.formats else ""
        problems = list(result.problems)
        if self._says(first) != self._says(index):
            problems.append(
                Problem(
                    result.path,
                    None,
                    f"the same curation (same mdName, or id) as {winner}, but what they say differs: "
                    f"{winner}'s front matter and body are exported (the first path wins), this "
                    "file is only a second source",
                    winner,
                    "warning",
                )
            )
        reason = (
            f"a second source of the curation {winner} publishes too (same mdName, or id): "
            "only its provenance is added"
        )
        return replace(
            outcome,
            result=replace(result, reason=reason, problems=problems),
            nquads=nquads,
            blocks=render_blocks(renderer(job.prefixes), own, job.formats, lines),
            own=len(own),
            shared=[],
            validation=None,
            sha256=None,  # never reused: what it becomes depends on another file
            digest=graph_digest(graph, lines),
            quads=len(lines),
        )
