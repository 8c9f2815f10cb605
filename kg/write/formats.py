"""Writers: render triples as Turtle, JSON-LD, N-Triples and N-Quads, and write files atomically.

Rendering is per curation and happens in the worker processes: a curation's *own* triples
(its subject, child nodes and graph; see `kg.map.curation.CurationRDF`) become one block of each
format, which the parent streams to the output files in source order. Nodes shared between
curations (topics, brands, ...) are merged in the parent and written once at the end, sorted.
So the rendered text is never held for the whole corpus (what is held grows with the number of
distinct shared nodes, plus the export's per-file bookkeeping for the report and manifest), and
the output is deterministic. Every writer here is cross-checked by Oxigraph's and rdflib's
parsers in the tests, including property-based tests with hostile strings.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from kg.rdf.terms import XSD_INTEGER, XSD_STRING, Object, Triple, escape_lexical, nt_line
from kg.resources import load_context

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: The output formats kg writes: name -> file name in an export's output folder.
FORMATS: dict[str, str] = {
    "turtle": "curations.ttl",
    "jsonld": "curations.jsonld",
    "ntriples": "curations.nt",
    "nquads": "curations.nq",
}


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """Open a temporary file beside `path`; on success fsync and rename it over `path`.

    On any error the temporary file is removed and `path` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sort_key(triple: Triple) -> tuple[str, bool, str, tuple[str, ...]]:
    s, p, o = triple
    return (s, p != RDF_TYPE, p, ("", o) if isinstance(o, str) else ("~", *o))


def sort_triples(triples: Iterable[Triple]) -> list[Triple]:
    """Subject, then rdf:type first, then predicate, then object: the order of every block."""
    return sorted(triples, key=_sort_key)


# Turtle local names kg writes unescaped; anything else gets PN_LOCAL escapes or an <IRI>.
_TTL_LOCAL = re.compile(r"^(?:[A-Za-z0-9_\-.~/]|%[0-9A-Fa-f]{2})+$")


#: Entries of each of a Renderer's IRI caches.
RENDER_CACHE = 4096


class Renderer:
    """Renders terms and blocks with one prefix map; compacted IRIs are cached per process."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = dict(prefixes)
        self._by_length = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
        # bounded: recurring IRIs (predicates, classes, shared nodes) stay cached, while each
        # curation's own IRIs, which never recur, cannot grow the cache with the corpus
        self.ttl_iri = lru_cache(maxsize=RENDER_CACHE)(self._ttl_iri)
        self.json_iri = lru_cache(maxsize=RENDER_CACHE)(self._json_iri)

    def _split(self, iri: str) -> tuple[str, str] | None:
        for prefix, ns in self._by_length:
            if iri.startswith(ns) and len(iri) > len(ns):
                return prefix, iri[len(ns) :]
        return None

    def _ttl_iri(self, iri: str) -> str:
        split = self._split(iri)
        # a trailing "." would need an escape that rdflib's parser rejects: write the full IRI
        if split is None or not _TTL_LOCAL.match(split[1]) or split[1].endswith("."):
            return f"<{iri}>"
        prefix, local = split
        local = local.replace("~", "\\~").replace("/", "\\/")
        if local[0] in ".-":
            local = "\\" + local
        return f"{prefix}:{local}"

    def _json_iri(self, iri: str) -> str:
        split = self._split(iri)
        if split is None or split[1].startswith("//"):
            return iri
        return f"{split[0]}:{split[1]}"

    # ------------------------------------------------------------------ Turtle

    def ttl_object(self, o: Object) -> str:
        if isinstance(o, str):
            return self.ttl_iri(o)
        text = f'"{escape_lexical(o.lexical)}"'
        if o.language:
            return f"{text}@{o.language}"
        if o.datatype == XSD_STRING:
            return text
        if o.datatype == XSD_INTEGER and _is_canonical_int(o.lexical):
            return o.lexical
        return f"{text}^^{self.ttl_iri(o.datatype)}"

    def turtle_header(self) -> str:
        return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in self.prefixes.items()) + "\n"

    def turtle_block(self, triples: list[Triple]) -> str:
        """Sorted triples as Turtle statements, one per subject, objects grouped by predicate."""
        out: list[str] = []
        subject = predicate = None
        for s, p, o in triples:
            if s != subject:
                if subject is not None:
                    out.append(" .\n\n")
                out.append(self.ttl_iri(s))
                out.append(" a " if p == RDF_TYPE else f" {self.ttl_iri(p)} ")
                subject, predicate = s, p
            elif p != predicate:
                out.append(" ;\n    a " if p == RDF_TYPE else f" ;\n    {self.ttl_iri(p)} ")
                predicate = p
            else:
                out.append(", ")
            out.append(self.ttl_object(o))
        if subject is not None:
            out.append(" .\n\n")
        return "".join(out)

    # ------------------------------------------------------------------ JSON-LD

    def json_value(self, o: Object) -> Any:
        if isinstance(o, str):
            return {"@id": self.json_iri(o)}
        if o.language:
            return {"@value": o.lexical, "@language": o.language}
        if o.datatype == XSD_STRING:
            return o.lexical
        if o.datatype == XSD_INTEGER and _is_canonical_int(o.lexical) and abs(int(o.lexical)) < 2**53:
            return int(o.lexical)
        return {"@value": o.lexical, "@type": self.json_iri(o.datatype)}

    def jsonld_nodes(self, triples: list[Triple]) -> list[str]:
        """Sorted triples as compacted JSON-LD node objects, one JSON text per subject."""
        nodes: list[str] = []
        node: dict[str, Any] = {}
        subject = None
        for s, p, o in triples:
            if s != subject:
                if subject is not None:
                    nodes.append(_dump_node(node))
                node = {"@id": self.json_iri(s)}
                subject = s
            if p == RDF_TYPE and isinstance(o, str):
                node.setdefault("@type", []).append(self.json_iri(o))
            else:
                node.setdefault(self.json_iri(p), []).append(self.json_value(o))
        if subject is not None:
            nodes.append(_dump_node(node))
        return nodes

    def jsonld_context(self) -> dict[str, Any]:
        """The local context (`ontology/context.jsonld`) with the instance prefixes added."""
        context: dict[str, Any] = dict(load_context()["@context"])
        for prefix, ns in self.prefixes.items():
            context.setdefault(prefix, ns)
        return context


def _dump_node(node: dict[str, Any]) -> str:
    for key, values in node.items():
        if isinstance(values, list) and len(values) == 1:
            node[key] = values[0]
    return json.dumps(node, ensure_ascii=False, sort_keys=True)


def _is_canonical_int(text: str) -> bool:
    return text.lstrip("-").isdigit() and text == str(int(text))


def ntriples_block(triples: list[Triple]) -> str:
    return "".join(nt_line(t) for t in triples)


#: What goes between two nodes of the JSON-LD `@graph` array.
JSONLD_SEPARATOR = b",\n"


class OutputStreams:
    """Writes the four formats incrementally: header, per-curation blocks, shared nodes, footer."""

    def __init__(self, renderer: Renderer, handles: dict[str, IO[bytes]]) -> None:
        self.renderer = renderer
        self.handles = handles
        self.nodes_written = False  # a JSON-LD node is written: the next needs a separator
        if "turtle" in handles:
            handles["turtle"].write(renderer.turtle_header().encode("utf-8"))
        if "jsonld" in handles:
            context = json.dumps(renderer.jsonld_context(), ensure_ascii=False, indent=1, sort_keys=True)
            handles["jsonld"].write(f'{{"@context": {context},\n"@graph": [\n'.encode())

    def write_blocks(self, blocks: Mapping[str, str | bytes]) -> None:
        """Append pre-rendered blocks (format name -> text, or text already UTF-8 encoded)."""
        for name, text in blocks.items():
            if not text or name not in self.handles:
                continue
            if name == "jsonld":
                if self.nodes_written:
                    self.handles[name].write(JSONLD_SEPARATOR)
                self.nodes_written = True
            self.handles[name].write(text if isinstance(text, bytes) else text.encode("utf-8"))

    def finish(self, shared: Iterable[Triple]) -> None:
        """Write the merged shared nodes (sorted) and close the JSON-LD document."""
        triples = sort_triples(shared)
        self.write_blocks(render_blocks(self.renderer, triples, self.handles.keys() - {"nquads"}))
        if "jsonld" in self.handles:
            self.handles["jsonld"].write(b"\n]}\n")


def render_blocks(
    renderer: Renderer, triples: list[Triple], formats: Iterable[str], nt_lines: list[str] | None = None
) -> dict[str, str]:
    """Render sorted `triples` in each of `formats` (turtle, jsonld, ntriples).

    `nt_lines`, when given, are the triples' N-Triples lines already encoded by the caller.
    """
    blocks: dict[str, str] = {}
    for name in formats:
        if name == "turtle":
            blocks[name] = renderer.turtle_block(triples)
        elif name == "jsonld":
            blocks[name] = JSONLD_SEPARATOR.decode().join(renderer.jsonld_nodes(triples))
        elif name == "ntriples":
            blocks[name] = "".join(nt_lines) if nt_lines is not None else ntriples_block(triples)
    return blocks
