"""A second, independent SHACL engine agrees with pySHACL on every fixture.

pyrudof (Rust) is read with ReaderMode.Strict: its default Lax reader takes a broken file as
empty and would "agree" by finding nothing. It evaluates the SHACL-SPARQL constraints too, so
the comparison covers every shape, core and SPARQL: (focus node, path, constraint component),
and also the source shape and severity.

Known difference, asserted so a change in either engine shows: an ill-typed literal such as
"2021-02-30"^^xsd:date passes sh:datatype xsd:date in pyrudof (it checks the datatype IRI
only) and fails it in pySHACL (which also checks the lexical form, as SHACL requires). kg
never writes one: the exporter rejects impossible dates as field problems.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.shacl.reference import QueryCachingGraph
from kg.validation.model import ValidationReport
from tests.helpers.shacl_cases import SHAPES_FILE, Case, base_data, broken_graph, cases, run

pyrudof = pytest.importorskip("pyrudof")

Key = tuple[str, str | None, str | None, str | None, str]


def rudof_results(graph: QueryCachingGraph, tmp_path: Path) -> set[Key]:
    data = tmp_path / "data.nt"
    data.write_text(graph.serialize(format="nt"), encoding="utf-8")
    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    rudof.read_data(str(data), format=pyrudof.RDFFormat.NTriples, reader_mode=pyrudof.ReaderMode.Strict)
    rudof.read_shacl(
        str(SHAPES_FILE), format=pyrudof.ShaclFormat.Turtle, reader_mode=pyrudof.ReaderMode.Strict
    )
    return {
        (e.focus_node, e.path, e.constraint_component, e.source_shape, e.severity)
        for e in rudof.validate_shacl()
    }


def pyshacl_results(report: ValidationReport) -> set[Key]:
    return {(*r.engine_key(), r.source_shape, r.severity) for r in report.results}


def test_strict_reader_refuses_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.nt"
    broken.write_text("<a> <b> .\n", encoding="utf-8")
    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    with pytest.raises(Exception):  # noqa: B017 - pyrudof raises its own error classes
        rudof.read_data(str(broken), format=pyrudof.RDFFormat.NTriples, reader_mode=pyrudof.ReaderMode.Strict)


def test_engines_agree_on_the_conforming_fixture(tmp_path: Path) -> None:
    graph = QueryCachingGraph.from_ntriples(base_data().ntriples)
    assert rudof_results(graph, tmp_path) == pyshacl_results(run(graph)) == set()


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_engines_agree_on_each_non_conforming_fixture(case: Case, tmp_path: Path) -> None:
    graph = broken_graph(case)
    ours = pyshacl_results(run(graph))
    theirs = rudof_results(graph, tmp_path)
    assert ours, "every case breaks something"
    if case.pyrudof_note is None:
        assert theirs == ours
    else:  # the documented difference: pyrudof misses exactly what pySHACL finds
        assert theirs == set(), case.pyrudof_note
