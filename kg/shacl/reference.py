"""The reference engine: pySHACL, run without inference, owl:imports or network access.

`pyshacl_engine` turns whatever pySHACL raises on shapes it cannot use into a refusal, and
works around its known misreadings (`without_pyshacl_bugs`). `QueryCachingGraph` is the rdflib
data graph it is given: SPARQL constraints parsed once, N-Triples read by Oxigraph with every
lexical form as written.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import pyoxigraph
import rdflib
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Node

from kg.rdf.terms import XSD_STRING
from kg.shacl.engine import ValidationError, check_sparql, quiet_literals


class QueryCachingGraph(Graph):
    """An rdflib Graph that parses each SPARQL query text once.

    pySHACL passes a SHACL-SPARQL constraint's query to `Graph.query` as text for every focus
    node, and rdflib parses it each time: about 35 ms a parse, nine tenths of the 60-80 s the
    400-file corpus took. A prepared query gives the same answers (same text, same prefixes:
    only calls that pass no other namespaces are cached), so caching changes only the time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepared: dict[str, Any] = {}

    def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(query_object, str) and len(args) < 3 and kwargs.get("initNs") is None:
            prepared = self._prepared.get(query_object)
            if prepared is None:
                prepared = prepareQuery(query_object, initNs=dict(self.namespaces()))
                self._prepared[query_object] = prepared
            query_object = prepared
        return super().query(query_object, *args, **kwargs)

    @classmethod
    def from_ntriples(cls, text: str) -> QueryCachingGraph:
        """Parse N-Triples keeping every literal's lexical form as written.

        rdflib normalises literals by default (`...08.71Z` becomes `...08.710000+00:00`), so a
        report would show curators values that are not in their files.
        """
        graph = cls()
        saved = rdflib.NORMALIZE_LITERALS
        term_logger = logging.getLogger("rdflib.term")
        saved_level = term_logger.level
        rdflib.NORMALIZE_LITERALS = False
        # An ill-typed literal ("2021-02-30"^^xsd:date) is a SHACL result (sh:datatype), not a
        # traceback on stderr.
        term_logger.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "Parsing weird boolean" & co.
                add = graph.add
                for t in pyoxigraph.parse(text.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES):
                    add((_rdflib_term(t.subject), URIRef(t.predicate.value), _rdflib_term(t.object)))
        finally:
            rdflib.NORMALIZE_LITERALS = saved
            term_logger.setLevel(saved_level)
        return graph


def _rdflib_term(term: object) -> Node:
    """An rdflib term for a pyoxigraph one, literals with their lexical form as written.

    Oxigraph parses the N-Triples, not rdflib: rdflib's N-Triples parser takes time quadratic
    in a line's length (a 3.5 MB body took 30 s to read; Oxigraph reads it in milliseconds).
    """
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    assert isinstance(term, pyoxigraph.Literal)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == XSD_STRING:  # as rdflib reads a plain "..." (no datatype)
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=URIRef(term.datatype.value))


def without_pyshacl_bugs(shapes_graph: Graph) -> Graph:
    """The shapes graph with pySHACL's known misreadings worked around (a copy when needed).

    pySHACL 0.40 takes any true-valued literal (`"1"^^xsd:boolean`) as `sh:uniqueLang true`,
    where SHACL activates the constraint on the literal `true` only (W3C test
    core/property/uniqueLang-002): such triples, which activate nothing, are dropped.
    """
    true = rdflib.Literal("true", datatype=rdflib.XSD.boolean)
    odd = [
        (s, o) for s, o in shapes_graph.subject_objects(SH.uniqueLang) if not (o == true and str(o) == "true")
    ]
    if not odd:
        return shapes_graph
    copy = Graph()
    copy += shapes_graph
    for s, o in odd:
        copy.remove((s, SH.uniqueLang, o))
    return copy


def pyshacl_engine(data_graph: Graph, shapes_graph: Graph) -> Graph:
    """pySHACL without inference, owl:imports or any other network access.

    Whatever pySHACL raises on a shapes graph it cannot use (its own errors, but also
    AssertionError, NotImplementedError, an unknown prefix in a query) is a refusal, exit 2.
    """
    # pySHACL (0.2 s to import) only when a shape needs it: with kg's own shapes, never
    import pyshacl
    from pyshacl.errors import ReportableRuntimeError, ShapeLoadError

    check_sparql(shapes_graph)
    try:
        with quiet_literals():
            _, report_graph, _ = pyshacl.validate(
                data_graph,
                shacl_graph=without_pyshacl_bugs(shapes_graph),
                inference="none",
                abort_on_first=False,
                allow_infos=False,
                allow_warnings=False,
                do_owl_imports=False,
                advanced=False,
                meta_shacl=False,
            )
    except (ShapeLoadError, ReportableRuntimeError) as exc:  # ConstraintLoadError is a ShapeLoadError
        raise ValidationError(f"the shapes cannot be used: {exc}") from exc
    except RecursionError:
        raise ValidationError(
            "the shapes cannot be used: pySHACL recursed too deep (recursive shapes?)"
        ) from None
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValidationError(
            f"the shapes cannot be used: pySHACL cannot evaluate them ({type(exc).__name__}"
            + (f": {detail}" if detail else "")
            + ")"
        ) from None
    if not isinstance(report_graph, Graph):
        raise ValidationError("the shapes cannot be used: pySHACL returned no report graph")
    return report_graph
