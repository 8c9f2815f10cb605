"""The JSON-LD writer: one document, the local context inline (nothing to fetch), then a
`@graph` array of compacted node objects, one per subject, keys sorted.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from kg.rdf.namespaces import Prefixes
from kg.rdf.terms import XSD_INTEGER, XSD_STRING, Object, Triple
from kg.resources import load_context
from kg.write.protocol import RDF_TYPE, RENDER_CACHE, is_canonical_int

#: What goes between two nodes of the `@graph` array (and so between two blocks).
SEPARATOR = ",\n"
JSONLD_SEPARATOR = SEPARATOR.encode()


class JsonLdWriter:
    """Compacted JSON-LD with the local context and the prefix map; IRIs cached per process."""

    separator = SEPARATOR

    def __init__(self, prefixes: Prefixes) -> None:
        self.prefixes = prefixes
        self.iri = lru_cache(maxsize=RENDER_CACHE)(prefixes.compress)

    def value(self, o: Object) -> Any:
        """An object term as a JSON-LD value: `{"@id"}`, a plain string or number, `{"@value"}`."""
        if isinstance(o, str):
            return {"@id": self.iri(o)}
        if o.language:
            return {"@value": o.lexical, "@language": o.language}
        if o.datatype == XSD_STRING:
            return o.lexical
        if o.datatype == XSD_INTEGER and is_canonical_int(o.lexical) and abs(int(o.lexical)) < 2**53:
            return int(o.lexical)
        return {"@value": o.lexical, "@type": self.iri(o.datatype)}

    def nodes(self, triples: list[Triple]) -> list[str]:
        """Sorted triples as compacted JSON-LD node objects, one JSON text per subject."""
        nodes: list[str] = []
        node: dict[str, Any] = {}
        subject = None
        for s, p, o in triples:
            if s != subject:
                if subject is not None:
                    nodes.append(_dump_node(node))
                node = {"@id": self.iri(s)}
                subject = s
            if p == RDF_TYPE and isinstance(o, str):
                node.setdefault("@type", []).append(self.iri(o))
            else:
                node.setdefault(self.iri(p), []).append(self.value(o))
        if subject is not None:
            nodes.append(_dump_node(node))
        return nodes

    def block(self, triples: list[Triple], nt_lines: list[str] | None = None) -> str:
        return SEPARATOR.join(self.nodes(triples))  # (JSON escapes differ from N-Triples')

    def context(self) -> dict[str, Any]:
        """The local context (`ontology/context.jsonld`) with the instance prefixes added."""
        context: dict[str, Any] = dict(load_context()["@context"])
        for prefix, ns in self.prefixes.map.items():
            context.setdefault(prefix, ns)
        return context

    def header(self) -> str:
        context = json.dumps(self.context(), ensure_ascii=False, indent=1, sort_keys=True)
        return f'{{"@context": {context},\n"@graph": [\n'

    def footer(self) -> str:
        return "\n]}\n"


def _dump_node(node: dict[str, Any]) -> str:
    for key, values in node.items():
        if isinstance(values, list) and len(values) == 1:
            node[key] = values[0]
    return json.dumps(node, ensure_ascii=False, sort_keys=True)
