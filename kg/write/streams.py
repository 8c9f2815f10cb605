"""Rendering blocks and streaming them to the output files, for every format alike.

Rendering is per curation and happens in the worker processes: a curation's *own* triples
(its subject, child nodes and graph; see `kg.map.curation.CurationRDF`) become one block of each
format, which the parent streams to the output files in source order. Nodes shared between
curations (topics, brands, ...) are merged in the parent and written once at the end, sorted.
So the rendered text is never held for the whole corpus (what is held grows with the number of
distinct shared nodes, plus the export's per-file bookkeeping for the report and manifest), and
the output is deterministic. Every writer is cross-checked by Oxigraph's and rdflib's parsers
in the tests, including property-based tests with hostile strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO

from kg.rdf.terms import Triple
from kg.write.protocol import sort_triples
from kg.write.registry import Writers


class OutputStreams:
    """Writes the formats incrementally: header, per-curation blocks, shared nodes, footer."""

    def __init__(self, writers: Writers, handles: dict[str, IO[bytes]]) -> None:
        self.writers = writers
        self.handles = handles
        self.nodes_written = False  # a JSON-LD node is written: the next needs a separator
        for name, handle in handles.items():
            if header := writers[name].header():
                handle.write(header.encode("utf-8"))

    def write_blocks(self, blocks: Mapping[str, str | bytes]) -> None:
        """Append pre-rendered blocks (format name -> text, or text already UTF-8 encoded)."""
        for name, text in blocks.items():
            if not text or name not in self.handles:
                continue
            if separator := self.writers[name].separator:  # JSON-LD's: between two nodes
                if self.nodes_written:
                    self.handles[name].write(separator.encode("utf-8"))
                self.nodes_written = True
            self.handles[name].write(text if isinstance(text, bytes) else text.encode("utf-8"))

    def finish(self, shared: Iterable[Triple]) -> None:
        """Write the merged shared nodes (sorted), then each format's footer."""
        self.write_blocks(render_blocks(self.writers, sort_triples(shared), self.handles))
        for name, handle in self.handles.items():
            if footer := self.writers[name].footer():
                handle.write(footer.encode("utf-8"))


def render_blocks(
    writers: Writers, triples: list[Triple], formats: Iterable[str], nt_lines: list[str] | None = None
) -> dict[str, str]:
    """Render sorted `triples` in each of `formats` (N-Quads: empty, its blocks are named
    graphs, `kg.write.ntriples.quads`).

    `nt_lines`, when given, are the triples' N-Triples lines already encoded by the caller
    (N-Triples is their concatenation; Turtle takes its escaped literals from them).
    """
    return {name: writers[name].block(triples, nt_lines) for name in formats}
