"""The ontology's generated documentation (kg/publish/ontodoc.py, `make docs`): the committed HTML
page is what pyLODE renders now, in any process (two hash seeds), self-contained; the diagrams
name every class and object property of the ontology and the graph IRIs IriScheme mints (the
diagrams' staleness in docs/graph-model.md is tests/test_docs.py's cog check)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Graph

from kg.map.curation import IriScheme
from kg.publish.ontodoc import classes_diagram, graphs_diagram
from tests.conftest import ROOT

PAGE = ROOT / "docs" / "ontology" / "index.html"
ONTOLOGY = ROOT / "ontology" / "kg.ttl"


@pytest.mark.slow
def test_the_committed_page_is_what_pylode_renders_in_any_process(tmp_path: Path) -> None:
    pages = []
    for seed in ("1", "2"):
        out = tmp_path / seed / "index.html"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "kg.publish.ontodoc", str(out)], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        pages.append(out.read_bytes())
    assert pages[0] == pages[1], "pyLODE's page differs between two runs"
    assert pages[0] == PAGE.read_bytes(), "docs/ontology/index.html is stale: run `make docs`"


def test_the_page_documents_every_term_and_loads_nothing() -> None:
    html = PAGE.read_text(encoding="utf-8")
    graph = Graph().parse(ONTOLOGY)
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty):
        for term in graph.subjects(RDF.type, kind):
            if str(term).startswith("https://w3id.org/medigy/kg#"):
                assert str(term) in html, term
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=|<link[^>]*stylesheet", html)
    assert "/work/" not in html and "/tmp/" not in html  # no path of the machine that made it


def test_the_class_diagram_has_every_kg_class_and_object_property() -> None:
    diagram = classes_diagram()
    graph = Graph().parse(ONTOLOGY)
    for cls in graph.subjects(RDF.type, OWL.Class):
        if str(cls).startswith("https://w3id.org/medigy/kg#"):
            assert f'["kg:{str(cls).split("#")[1]}"]' in diagram, cls
    for prop in graph.subjects(RDF.type, OWL.ObjectProperty):
        name = str(prop).split("#")[-1]
        if graph.value(prop, RDFS.range) is not None and graph.value(prop, RDFS.domain) is not None:
            assert re.search(rf"--> \w+ : {name}$", diagram, re.M), prop
    assert "kg_Curation --> skos_Concept : topic" in diagram
    assert diagram.startswith("classDiagram\n") and diagram == classes_diagram()


def test_the_graph_diagram_names_the_graphs_iri_scheme_mints() -> None:
    iris = IriScheme("https://example.org/kg/")
    diagram = graphs_diagram(iris)
    for graph in (iris.taxonomy_graph(), iris.sync_state_graph(), iris.sync_check_graph(), iris.dataset()):
        assert f"<code>{graph}</code>" in diagram
    assert "<code>https://example.org/kg/graph/curation/MDNAME</code>" in diagram
    assert diagram.startswith("flowchart LR\n") and ";" not in diagram
