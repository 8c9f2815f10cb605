"""Code generated from the ontology: the one place that turns `ontology/kg.ttl` into Python.

`make docs` runs cog, whose blocks in `kg/rdf/vocab.py` (the rdflib `DefinedNamespace`) and
`kg/rdf/namespaces.py` (plain strings, for the export path that does not load rdflib) call these
functions; `tests/test_docs.py` runs `cog --check`, so code and ontology cannot drift. Only cog
imports this module (it loads rdflib to read the ontology).
"""

from __future__ import annotations

import textwrap

from rdflib import OWL, RDF, RDFS, Graph, URIRef

from kg.rdf.namespaces import KG_NS
from kg.resources import ontology_path

#: Sections in the order the generated code lists them: (heading, rdf:type).
KINDS = (
    ("classes", OWL.Class),
    ("object properties", OWL.ObjectProperty),
    ("datatype properties", OWL.DatatypeProperty),
)


def terms() -> list[tuple[str, str, str]]:
    """(section, local name, comment) of every kg: term the ontology declares, in file order
    within each section (a stable order that follows the ontology's own grouping)."""
    text = ontology_path().read_text(encoding="utf-8")
    graph = Graph().parse(data=text, format="turtle")
    out: list[tuple[str, str, str]] = []
    for section, kind in KINDS:
        declared = [str(s) for s in graph.subjects(RDF.type, kind) if str(s).startswith(KG_NS)]
        declared.sort(key=lambda iri: text.index(f"kg:{iri[len(KG_NS) :]} a "))
        for iri in declared:
            comment = str(graph.value(URIRef(iri), RDFS.comment) or "")
            out.append((section, iri[len(KG_NS) :], comment))
    return out


def _comment_lines(comment: str, indent: str) -> list[str]:
    return [f"{indent}#: {line}" for line in textwrap.wrap(comment, 96 - len(indent))]


def defined_namespace_lines() -> list[str]:
    """The body of `kg.rdf.vocab.KG`: one annotated attribute per term, its comment above it."""
    lines: list[str] = []
    section = ""
    for kind, name, comment in terms():
        if kind != section:
            lines += ([""] if section else []) + [f"    # {kind}"]
            section = kind
        lines += [*_comment_lines(comment, "    "), f"    {name}: URIRef"]
    return lines


def plain_string_lines() -> list[str]:
    """The body of `kg.rdf.namespaces.KGTerms`: each term's full IRI as a plain string (the
    comments are on `kg.rdf.vocab.KG`)."""
    return [f'    {name}: Final = "{KG_NS}{name}"' for _kind, name, _comment in terms()]
