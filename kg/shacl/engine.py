"""What every SHACL engine shares with its callers: the `Engine` interface, the refusal
error, and the checks and settings each engine runs under.

An engine takes (data graph, shapes graph) and returns a standard SHACL validation report
graph; shapes it cannot use are a `ValidationError` (exit code 2), never a half-check. The
engines are `kg.shacl.fast` (fast, auto) and `kg.shacl.reference` (pySHACL);
`kg.validation` runs them and reads their reports.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rdflib import Graph

from kg.errors import KgError
from kg.sparql.check import check_shapes

#: An engine takes (data graph, shapes graph) and returns a standard SHACL validation report graph.
Engine = Callable[[Graph, Graph], Graph]


class ValidationError(KgError):
    """Data or shapes cannot be read, or the engine refuses the shapes (exit code 2)."""


def check_sparql(shapes_graph: Graph) -> None:
    """Refuse (ValidationError) a shapes graph whose SPARQL SHACL forbids or would reach a
    network (SERVICE, FROM): every engine calls this before running anything."""
    try:
        check_shapes(shapes_graph)
    except ValueError as exc:
        raise ValidationError(f"the shapes cannot be used: {exc}") from None


@contextmanager
def quiet_literals() -> Iterator[None]:
    """rdflib logs a traceback for each ill-typed literal it meets ("2021-02-30"^^xsd:date);
    for SHACL such a literal is a result (sh:datatype), not an error to print."""
    term_logger = logging.getLogger("rdflib.term")
    saved_level = term_logger.level
    term_logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Parsing weird boolean" & co.
            yield
    finally:
        term_logger.setLevel(saved_level)
