"""The W3C SHACL test suite (`../shared/w3c/shacl-tests`), read from its manifests.

Each `sht:Validate` entry names a data graph, a shapes graph and the expected report (or
`sht:Failure`: the processor must refuse). Files are read as `kg validate` reads them (Oxigraph,
then rdflib with lexical forms kept); a file that is both data and shapes (and manifest) is
parsed once, so the blank nodes an expected report names (`sh:sourceShape _:b1`) are the very
nodes of the shapes graph. Reports are compared as the suite specifies: `sh:conforms`, and the
results as a set of (focus node, path, value, severity, constraint component, source shape);
messages and `sh:detail` are not compared. A blank-node path is compared by its structure
(SPARQL property-path text), any other blank node by identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from kg.read.rdf import read_rdf
from kg.shacl.reference import QueryCachingGraph
from kg.validation.report_graph import sparql_path as _sparql_path
from tests.conftest import ROOT

W3C = ROOT.parent / "shared" / "w3c" / "shacl-tests"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
SHT = "http://www.w3.org/ns/shacl-test#"

Term = tuple[str, ...] | None
ResultKey = tuple[Term, Term, Term, Term, Term, Term]
Results = tuple[ResultKey, ...]  # sorted: a multiset, as two identical results are two report nodes


@dataclass(frozen=True)
class W3CCase:
    """One manifest entry."""

    name: str  # section/folder/entry, e.g. core/node/datatype-002
    data: Path
    shapes: Path
    manifest: Path
    entry: str  # the entry's IRI in the manifest

    @property
    def section(self) -> str:
        return self.name.split("/", 1)[0]


@lru_cache(maxsize=64)
def graph_of(path: Path) -> QueryCachingGraph:
    """A file parsed as `kg validate` parses it (one graph per file, parsed once)."""
    return QueryCachingGraph.from_ntriples(read_rdf([path]).ntriples)


def _uri_path(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def cases(section: str) -> list[W3CCase]:
    """Every entry under `section` (core or sparql), in manifest order."""
    top = W3C / section / "manifest.ttl"
    if not top.is_file():
        return []
    found: list[W3CCase] = []
    todo = [top]
    while todo:
        manifest = todo.pop(0)
        g = graph_of(manifest)
        root = URIRef(manifest.resolve().as_uri())
        for include in g.objects(root, URIRef(MF + "include")):
            todo.append(_uri_path(str(include)))
        for entries in g.objects(root, URIRef(MF + "entries")):
            for entry in Collection(g, entries):
                action = g.value(entry, URIRef(MF + "action"))
                data = g.value(action, URIRef(SHT + "dataGraph"))
                shapes = g.value(action, URIRef(SHT + "shapesGraph"))
                name = str(entry).removeprefix((W3C.resolve().as_uri()) + "/")
                name = name.rsplit("/", 1)[0] + "/" + str(entry).rsplit("/", 1)[1].split("#")[0]
                found.append(
                    W3CCase(
                        name.removesuffix(".ttl"),
                        _uri_path(str(data)),
                        _uri_path(str(shapes)),
                        manifest,
                        str(entry),
                    )
                )
    return found


def graphs(case: W3CCase) -> tuple[QueryCachingGraph, Graph]:
    """(data graph, shapes graph); one object when the suite names one file for both."""
    return graph_of(case.data), graph_of(case.shapes)


def expected(case: W3CCase) -> tuple[bool, Results] | None:
    """(conforms, results) the suite expects, or None for `sht:Failure`."""
    g = graph_of(case.manifest)
    report = g.value(URIRef(case.entry), URIRef(MF + "result"))
    if report == URIRef(SHT + "Failure"):
        return None
    assert report is not None, case.name
    return read_keys(g, report)


def read_keys(g: Graph, report: Node) -> tuple[bool, Results]:
    conforms = g.value(report, SH.conforms)
    keys = []
    for result in g.objects(report, SH.result):
        keys.append(
            (
                _key(g, g.value(result, SH.focusNode)),
                _key(g, g.value(result, SH.resultPath), path=True),
                _key(g, g.value(result, SH.value)),
                _key(g, g.value(result, SH.resultSeverity)),
                _key(g, g.value(result, SH.sourceConstraintComponent)),
                _key(g, g.value(result, SH.sourceShape)),
            )
        )
    return bool(isinstance(conforms, Literal) and conforms.toPython() is True), tuple(sorted(keys, key=repr))


def actual(report_graph: Graph) -> tuple[bool, Results]:
    """(conforms, results) of an engine's report graph (its top-level results only)."""
    roots = list(report_graph.subjects(RDF.type, SH.ValidationReport))
    assert len(roots) == 1, f"{len(roots)} sh:ValidationReport nodes"
    return read_keys(report_graph, roots[0])


def _key(g: Graph, node: Node | None, path: bool = False) -> Term:
    if node is None:
        return None
    if isinstance(node, URIRef):
        return ("iri", str(node))
    if isinstance(node, Literal):
        datatype = "" if node.language else str(node.datatype or "http://www.w3.org/2001/XMLSchema#string")
        return ("literal", str(node), datatype, node.language or "")
    assert isinstance(node, BNode)
    if path:
        return ("path", _sparql_path(g, node))
    return ("bnode", str(node))
