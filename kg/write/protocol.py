"""The one protocol every format writer satisfies, and the order of the triples in a block.

A writer renders sorted triples as text of one RDF format. An output file is the writer's
`header()`, then its non-empty blocks (one per curation, in source order, then one of the
shared nodes) with `separator` between two of them, then its `footer()`. Writers are plain
string builders over kg's own term tuples (`kg.rdf.terms`), cheaper than serialising through
an RDF library, and their output is cross-checked by Oxigraph's and rdflib's parsers in the
tests (why kg renders itself: docs/dependencies.md). Imports nothing of kg but the term model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from kg.rdf.terms import Triple

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: Entries of each writer's IRI cache (per process; bounded whatever the corpus).
RENDER_CACHE = 4096


class Writer(Protocol):
    """One RDF format: what comes before, between and after the blocks of sorted triples."""

    #: What goes between two non-empty blocks of one file ("" for most formats).
    separator: str

    def header(self) -> str:
        """The text before the first block (prefixes, an opening bracket, or nothing)."""
        ...

    def block(self, triples: list[Triple], nt_lines: list[str] | None = None) -> str:
        """`triples`, sorted by `sort_triples`, as text of this format ("" for none).

        `nt_lines`, when the caller has them, are the triples' N-Triples lines (`nt_line`), in
        the same order: a writer may take text already escaped from them.
        """
        ...

    def footer(self) -> str:
        """The text after the last block."""
        ...


def _sort_key(triple: Triple) -> tuple[str, bool, str, tuple[str, ...]]:
    s, p, o = triple
    return (s, p != RDF_TYPE, p, ("", o) if isinstance(o, str) else ("~", *o))


def sort_triples(triples: Iterable[Triple]) -> list[Triple]:
    """Subject, then rdf:type first, then predicate, then object: the order of every block."""
    return sorted(triples, key=_sort_key)


def is_canonical_int(text: str) -> bool:
    """`text` is an xsd:integer in canonical form (no sign `+`, no leading zeros), so it can be
    written as a bare number in Turtle and JSON-LD and read back as the same literal."""
    return text.lstrip("-").isdigit() and text == str(int(text))
