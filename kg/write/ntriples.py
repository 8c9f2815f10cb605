"""The N-Triples and N-Quads writers: one canonical line per triple (`kg.rdf.terms.nt_line`),
no header, no prefixes. N-Quads holds only named graphs: each curation's graph (its own
triples, written by `quads` from lines the worker encoded once for both formats), then each
shared node's graph (`kg.map.nodes`).
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.rdf.namespaces import Prefixes
from kg.rdf.terms import Triple, nt_line


def ntriples_block(triples: Iterable[Triple]) -> str:
    """The N-Triples lines of `triples`."""
    return "".join(nt_line(t) for t in triples)


def quads(lines: Iterable[str], graph: str) -> str:
    """N-Triples `lines` as N-Quads lines in the named graph `graph`."""
    in_graph = f"<{graph}> .\n"  # an N-Triples line ends ".\n"; a quad adds its graph before
    return "".join(line[:-2] + in_graph for line in lines)


class NTriplesWriter:
    """N-Triples: the union of every curation's graph and the shared nodes."""

    separator = ""

    def __init__(self, prefixes: Prefixes) -> None:  # same signature as every writer; no prefixes
        del prefixes

    def header(self) -> str:
        return ""

    def block(self, triples: list[Triple], nt_lines: list[str] | None = None) -> str:
        return ntriples_block(triples) if nt_lines is None else "".join(nt_lines)

    def footer(self) -> str:
        return ""


class NQuadsWriter(NTriplesWriter):
    """N-Quads: named graphs only (`quads`). A block of triples outside any graph is empty: the
    shared nodes are written in graphs of their own (`kg.map.nodes`), by the export."""

    def block(self, triples: list[Triple], nt_lines: list[str] | None = None) -> str:
        return ""
