"""Read RDF files (by extension) as one union graph, for `kg validate` and its shapes.

RDF is parsed by Oxigraph (strict, fast, and it refuses remote JSON-LD contexts instead of
fetching them), then handed to rdflib as N-Triples, because pySHACL needs an rdflib graph.
N-Quads and TriG give the union of their graphs, plus which curation sits in which graph, the
provenance that maps results to source files. Curation sources given with them are read one
stage up (`kg.validation.inputs`), where the exporter runs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from kg.errors import KgError
from kg.rdf.vocab import KG, RDF

#: kg's one table of RDF files it reads (validate, load, query --data, shapes), by extension ->
#: Oxigraph format. Anything else is a curation source.
RDF_EXTENSIONS: dict[str, pyoxigraph.RdfFormat] = {
    ".nq": pyoxigraph.RdfFormat.N_QUADS,
    ".trig": pyoxigraph.RdfFormat.TRIG,
    ".ttl": pyoxigraph.RdfFormat.TURTLE,
    ".nt": pyoxigraph.RdfFormat.N_TRIPLES,
    ".jsonld": pyoxigraph.RdfFormat.JSON_LD,
    ".rdf": pyoxigraph.RdfFormat.RDF_XML,
    ".owl": pyoxigraph.RdfFormat.RDF_XML,
    ".n3": pyoxigraph.RdfFormat.N3,
}

_TYPE = pyoxigraph.NamedNode(str(RDF.type))
_CURATION = pyoxigraph.NamedNode(str(KG.Curation))


class InputError(KgError):
    """An input that does not exist or cannot be parsed (exit code 2)."""


@dataclass(slots=True)
class InputData:
    """The union of everything read, as N-Triples, and the provenance the quads gave."""

    ntriples: str = ""
    curation_graphs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    export_rows: list[dict[str, object]] = field(default_factory=list)  # report.json rows of sources


def read_rdf(files: list[Path]) -> InputData:
    """Parse RDF files by extension; blank nodes are kept apart per file."""
    out = InputData()
    lines: dict[str, None] = {}
    for index, file in enumerate(files):
        fmt = RDF_EXTENSIONS.get(file.suffix.lower())
        if fmt is None:
            raise InputError(f"{file}: not an RDF file ({', '.join(RDF_EXTENSIONS)})")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise InputError(f"{file}: cannot read: {exc.strerror or exc}") from None
        for item in parse_rdf(data, fmt, str(file), base_iri=file.resolve().as_uri()):
            triple = item.triple if isinstance(item, pyoxigraph.Quad) else item
            s, p, o = triple.subject, triple.predicate, triple.object
            lines[f"{_term(s, index)} {p} {_term(o, index)} .\n"] = None
            if (
                isinstance(item, pyoxigraph.Quad)
                and isinstance(item.graph_name, pyoxigraph.NamedNode)
                and p == _TYPE
                and o == _CURATION
                and isinstance(s, pyoxigraph.NamedNode)
            ):
                out.curation_graphs[s.value].add(item.graph_name.value)
    out.ntriples = "".join(lines)
    return out


def parse_rdf(
    data: bytes, fmt: pyoxigraph.RdfFormat, origin: str, base_iri: str | None = None
) -> list[pyoxigraph.Triple | pyoxigraph.Quad]:
    """Every triple or quad of `data`, parsed by Oxigraph; `InputError` naming `origin` when
    the data cannot be read, never a library exception.

    Oxigraph raises SyntaxError (bad syntax), ValueError, and MemoryError when one token is
    larger than its parser's buffer (16 MiB in N-Triples, N-Quads and Turtle, 8 MiB for a
    JSON-LD string: kg writes no term over `kg.read.normalize.MAX_TERM_BYTES`, half of that, but a
    file from elsewhere may hold one). The parse is lazy: errors come while iterating, so the
    whole iteration is inside the guard.
    """
    try:
        return list(pyoxigraph.parse(data, format=fmt, base_iri=base_iri))
    except (SyntaxError, ValueError) as exc:
        raise InputError(f"{origin}: not valid {fmt.name}: {exc}") from None
    except MemoryError:
        raise InputError(
            f"{origin}: cannot be read: it holds a term larger than the RDF parser's limit "
            "(16 MiB in N-Triples, N-Quads and Turtle; 8 MiB for a JSON-LD string), or memory ran out"
        ) from None
    except RecursionError:
        raise InputError(f"{origin}: not valid {fmt.name}: nested too deeply") from None


def _term(term: object, file_index: int) -> str:
    if isinstance(term, pyoxigraph.BlankNode):
        return f"_:f{file_index}x{term.value}"
    return str(term)
