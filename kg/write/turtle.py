"""The Turtle writer: one statement per subject, objects grouped by predicate, IRIs compacted
with the prefix map wherever the local name can be written without an escape a parser rejects.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kg.rdf.namespaces import Prefixes
from kg.rdf.terms import XSD_INTEGER, XSD_STRING, Object, Triple, escape_lexical
from kg.write.protocol import RDF_TYPE, RENDER_CACHE, is_canonical_int

# Turtle local names kg writes unescaped; anything else gets PN_LOCAL escapes or an <IRI>.
_TTL_LOCAL = re.compile(r"^(?:[A-Za-z0-9_\-.~/]|%[0-9A-Fa-f]{2})+$")


class TurtleWriter:
    """Turtle with `@prefix` lines for the prefix map; compacted IRIs are cached per process."""

    separator = ""

    def __init__(self, prefixes: Prefixes) -> None:
        self.prefixes = prefixes
        # bounded: recurring IRIs (predicates, classes, shared nodes) stay cached, while each
        # curation's own IRIs, which never recur, cannot grow the cache with the corpus
        self.iri = lru_cache(maxsize=RENDER_CACHE)(self._iri)

    def _iri(self, iri: str) -> str:
        split = self.prefixes.split(iri)
        # a trailing "." would need an escape that rdflib's parser rejects: write the full IRI
        if split is None or not _TTL_LOCAL.match(split[1]) or split[1].endswith("."):
            return f"<{iri}>"
        prefix, local = split
        local = local.replace("~", "\\~").replace("/", "\\/")
        if local[0] in ".-":
            local = "\\" + local
        return f"{prefix}:{local}"

    def object(self, o: Object) -> str:
        """An object term: a compacted IRI, a bare integer, or a quoted literal."""
        if isinstance(o, str):
            return self.iri(o)
        text = f'"{escape_lexical(o.lexical)}"'
        if o.language:
            return f"{text}@{o.language}"
        if o.datatype == XSD_STRING:
            return text
        if o.datatype == XSD_INTEGER and is_canonical_int(o.lexical):
            return o.lexical
        return f"{text}^^{self.iri(o.datatype)}"

    def header(self) -> str:
        return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in self.prefixes.map.items()) + "\n"

    def block(self, triples: list[Triple], nt_lines: list[str] | None = None) -> str:
        """Sorted triples as Turtle statements, one per subject, objects grouped by predicate.

        A text literal (`"..."` or `"..."@lang`) is written as in N-Triples: with `nt_lines`, it
        is cut from the triple's line rather than escaped again. Measured on 2,000 generated
        curations (39 own triples each, CPU time, best of 15): 0.071 -> 0.052 ms per block.
        """
        out: list[str] = []
        subject = predicate = None
        for i, (s, p, o) in enumerate(triples):
            if s != subject:
                if subject is not None:
                    out.append(" .\n\n")
                out.append(self.iri(s))
                out.append(" a " if p == RDF_TYPE else f" {self.iri(p)} ")
                subject, predicate = s, p
            elif p != predicate:
                out.append(" ;\n    a " if p == RDF_TYPE else f" ;\n    {self.iri(p)} ")
                predicate = p
            else:
                out.append(", ")
            if nt_lines is not None and not isinstance(o, str) and (o.language or o.datatype == XSD_STRING):
                out.append(nt_lines[i][len(s) + len(p) + 6 : -3])  # the object of `<s> <p> o .\n`
            else:
                out.append(self.object(o))
        if subject is not None:
            out.append(" .\n\n")
        return "".join(out)

    def footer(self) -> str:
        return ""
