"""Writers at the edge: every output is written to a temporary file and renamed into place.

- N-Quads: one named graph per curation, streamed curation by curation.
- N-Triples: the union graph, one sorted line per distinct triple (canonical form).
- Turtle: the union graph serialized by Oxigraph with the shared prefix map.
- JSON-LD: the union graph compacted with the local context (`ontology/context.jsonld` plus the
  instance prefixes), written by kg: Oxigraph's JSON-LD writer does not compact.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pyoxigraph

from kg.resources import load_context
from kg.terms import XSD_INTEGER, XSD_STRING, Lit, Triple, nq_line, nt_object

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """Open a temporary file beside `path`; on success fsync and rename it over `path`.

    On any error the temporary file is removed and `path` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def graph_lines(graph: str, triples: Iterable[Triple]) -> list[str]:
    """The distinct N-Quads lines of one curation graph, in first-seen order."""
    return list(dict.fromkeys(nq_line(t, graph) for t in triples))


def write_nquads(handle: IO[bytes], graph: str, triples: Iterable[Triple]) -> None:
    handle.write("".join(graph_lines(graph, triples)).encode("utf-8"))


class UnionGraph:
    """The union of all curation graphs: distinct triples, kept for the sorted writers."""

    def __init__(self) -> None:
        self._lines: dict[str, Triple] = {}

    def add_all(self, triples: Iterable[Triple]) -> None:
        lines = self._lines
        for t in triples:
            s, p, o = t
            lines.setdefault(f"<{s}> <{p}> {nt_object(o)} .\n", t)

    def __len__(self) -> int:
        return len(self._lines)

    def sorted_lines(self) -> list[str]:
        return sorted(self._lines)

    def sorted_triples(self) -> Iterator[Triple]:
        lines = self._lines
        for line in sorted(lines):
            yield lines[line]


def write_ntriples(handle: IO[bytes], union: UnionGraph) -> None:
    handle.write("".join(union.sorted_lines()).encode("utf-8"))


def write_turtle(handle: IO[bytes], union: UnionGraph, prefixes: dict[str, str]) -> None:
    """Turtle via Oxigraph; triples sorted, so each subject's statements are grouped."""
    data = "".join(union.sorted_lines()).encode("utf-8")
    triples = pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
    pyoxigraph.serialize(triples, handle, format=pyoxigraph.RdfFormat.TURTLE, prefixes=prefixes)


def jsonld_context(prefixes: dict[str, str]) -> dict[str, Any]:
    """The local context (ontology/context.jsonld) with the instance prefixes added."""
    context: dict[str, Any] = dict(load_context()["@context"])
    for prefix, ns in prefixes.items():
        context.setdefault(prefix, ns)
    return context


class _Compactor:
    """Shortens IRIs with the longest matching prefix whose local part is safe to compact."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self._prefixes = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))

    def __call__(self, iri: str) -> str:
        for prefix, ns in self._prefixes:
            if iri.startswith(ns) and len(iri) > len(ns) and not iri[len(ns) :].startswith("//"):
                return f"{prefix}:{iri[len(ns) :]}"
        return iri


def write_jsonld(handle: IO[bytes], union: UnionGraph, prefixes: dict[str, str]) -> None:
    """Compacted JSON-LD: one node object per subject, keys and values sorted."""
    compact = _Compactor(prefixes)
    nodes: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    current_subject = None
    for s, p, o in union.sorted_triples():
        if s != current_subject:
            current = {"@id": compact(s)}
            nodes.append(current)
            current_subject = s
        assert current is not None
        if p == RDF_TYPE and isinstance(o, str):
            current.setdefault("@type", []).append(compact(o))
            continue
        current.setdefault(compact(p), []).append(_jsonld_value(o, compact))
    for node in nodes:
        for key, values in node.items():
            if isinstance(values, list) and len(values) == 1:
                node[key] = values[0]
    document = {"@context": jsonld_context(prefixes), "@graph": nodes}
    handle.write(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"))
    handle.write(b"\n")


def _jsonld_value(o: str | Lit, compact: _Compactor) -> Any:
    if isinstance(o, str):
        return {"@id": compact(o)}
    if o.language:
        return {"@value": o.lexical, "@language": o.language}
    if o.datatype == XSD_STRING:
        return o.lexical
    if o.datatype == XSD_INTEGER and o.lexical.lstrip("-").isdigit() and o.lexical == str(int(o.lexical)):
        return int(o.lexical)
    return {"@value": o.lexical, "@type": compact(o.datatype)}
