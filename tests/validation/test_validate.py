"""`kg validate` and `kg export --validate`: inputs, provenance, report formats, exit codes, corpora."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal
from rdflib.namespace import RDF, SH

from kg.cli import main
from kg.map.curation import IriScheme
from kg.pipeline.export import export
from kg.shacl.reference import QueryCachingGraph
from kg.validation.model import ValidationReport
from kg.validation.provenance import curation_of_graph
from kg.validation.report_graph import read_report
from kg.validation.reports import junit_report
from kg.validation.validate import load_shapes, validate, validate_inputs
from tests.conftest import CORPUS, EXAMPLES, oxigraph_triples
from tests.helpers.servers import FakeServer
from tests.helpers.shacl_cases import (
    CURATIONS,
    FULL,
    WORK_PACKAGE,
    base_data,
    broken_graph,
    cases,
    expand,
    shapes_graph,
)

KGSH = "https://w3id.org/medigy/kg/shapes#"
Row = tuple[str | None, str | None, str, str, tuple[str, ...], str | None]


def case_named(name: str) -> object:
    return next(c for c in cases() if c.name == name)


def rows(report: ValidationReport) -> set[Row]:
    return {(r.source_shape, r.path, r.severity, r.focus_node, r.source_files, r.key) for r in report.results}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write_broken(tmp_path: Path, name: str, fmt: str = "nt") -> Path:
    path = tmp_path / f"broken.{fmt}"
    graph = broken_graph(case_named(name))  # type: ignore[arg-type]
    path.write_text(graph.serialize(format={"nt": "nt", "ttl": "turtle"}[fmt]), encoding="utf-8")
    return path


# --- provenance --------------------------------------------------------------------------------


def test_curation_of_graph_inverts_the_iri_scheme() -> None:
    base = "https://example.org/kg/"
    assert curation_of_graph(base + "graph/curation/abc") == base + "curation/abc"
    assert curation_of_graph(base + "graph/work-package/7") == base + "work-package/7"
    assert (
        curation_of_graph("https://example.org/x#graph/curation/a%2Fb")
        == "https://example.org/x#curation/a%2Fb"
    )
    assert curation_of_graph("https://example.org/other/thing") is None


def test_union_formats_are_located_by_the_iri_scheme(tmp_path: Path) -> None:
    """Turtle/N-Triples carry no graph names: the same results, the same files."""
    report = validate_inputs([write_broken(tmp_path, "CurationIdUniqueShape", "ttl")], shapes_graph())
    assert {(r.focus_node, r.source_files, r.key) for r in report.results} == {
        (FULL, ("full.md",), "id"),
        (WORK_PACKAGE, ("workpackage.md",), "id"),
    }


def test_nquads_are_located_by_their_graphs(tmp_path: Path) -> None:
    export([CURATIONS], tmp_path, ["nquads", "jsonld", "ntriples", "turtle"])
    text = (tmp_path / "curations.nq").read_text(encoding="utf-8")
    (tmp_path / "curations.nq").write_text(
        text.replace('"Remote Monitoring Cuts', '"Remote  Monitoring Cuts')
    )
    for name in ("curations.nq", "curations.jsonld", "curations.nt", "curations.ttl"):
        report = validate_inputs([tmp_path / name], shapes_graph())
        assert report.curations == 2 and report.files == ["full.md", "workpackage.md"], name
        if name == "curations.nq":
            assert rows(report) == {
                (
                    KGSH + "CurationTitleSpacingShape",
                    expand("schema:name"),
                    "Info",
                    FULL,
                    ("full.md",),
                    "title",
                )
            }
        else:
            assert report.results == [], name


def test_sources_report_failed_files_and_field_problems(tmp_path: Path) -> None:
    shutil.copytree(CURATIONS, tmp_path, dirs_exist_ok=True)
    full = tmp_path / "full.md"
    full.write_text(re.sub(r"(?m)^title: .*\n", "", full.read_text(encoding="utf-8")), encoding="utf-8")
    wp = tmp_path / "workpackage.md"
    wp.write_text(wp.read_text(encoding="utf-8").replace("lastMod: '2021-02-02 08:00:00'", "lastMod: soon"))
    report = validate_inputs([tmp_path], shapes_graph())
    assert rows(report) == {
        (None, None, "Violation", "https://w3id.org/medigy/kg/id/source/full.md", ("full.md",), "title"),
        (
            None,
            None,
            "Warning",
            "https://w3id.org/medigy/kg/id/source/workpackage.md",
            ("workpackage.md",),
            "lastMod",
        ),
    }
    assert report.files == ["full.md", "workpackage.md"]
    assert (
        "could not be exported" in report.results[0].message
        or "could not be exported" in report.results[1].message
    )


def test_duplicate_mdname_in_two_files_is_one_curation_with_a_warning_naming_both(tmp_path: Path) -> None:
    # one curation published twice (kg.pipeline.duplicates): a.md's content, both files in its
    # provenance (the shapes allow it), and b.md's differences a warning naming a.md
    shutil.copy(CURATIONS / "full.md", tmp_path / "a.md")
    copy = (CURATIONS / "full.md").read_text(encoding="utf-8").replace("id: 9001", "id: 9003")
    (tmp_path / "b.md").write_text(copy.replace("title: Remote", "title: Home"), encoding="utf-8")
    report = validate_inputs([tmp_path], shapes_graph())
    [result] = report.results
    source_b = "https://w3id.org/medigy/kg/id/source/b.md"
    assert (result.source_shape, result.focus_node, result.source_files, result.severity) == (
        None,
        source_b,
        ("b.md",),
        "Warning",
    )
    assert "a.md" in result.message


def test_literals_keep_their_lexical_form_in_reports(tmp_path: Path) -> None:
    report = validate_inputs([write_broken(tmp_path, "CurationDateOrderSameDayShape")], shapes_graph())
    [result] = report.results
    assert result.value == "2021-03-02T01:01:50Z"
    assert "2021-03-02T01:01:50Z" in result.message and "2021-03-02T09:00:00Z" in result.message


# --- the example and real corpora ----------------------------------------------------------------

#: Counted in docs/validation.md; a change to the shapes or the exporter shows here.
EXAMPLE_COUNTS = {"Violation": 0, "Warning": 6, "Info": 1}
CORPUS_COUNTS = {"Violation": 0, "Warning": 101, "Info": 35}


def counts(report: ValidationReport) -> dict[str, int]:
    return {s: report.count(s) for s in ("Violation", "Warning", "Info")}  # type: ignore[arg-type]


def test_example_corpus_has_no_violation() -> None:
    report = validate_inputs([EXAMPLES], shapes_graph())
    assert report.curations == 16
    assert counts(report) == EXAMPLE_COUNTS


@pytest.fixture(scope="module")
def corpus_report() -> ValidationReport:
    """The real corpus validated once for this module (about 10 s)."""
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not present at {CORPUS}")
    return validate_inputs([CORPUS], shapes_graph())


@pytest.mark.corpus
@pytest.mark.slow
def test_real_corpus_has_no_violation(corpus_report: ValidationReport) -> None:
    report = corpus_report
    assert report.curations == 400 and len(report.files) == 400
    assert counts(report) == CORPUS_COUNTS, [r for r in report.results if r.severity == "Violation"][:5]
    assert all(r.source_file for r in report.results)


def _yaml_value(text: str, key: str) -> str:
    match = re.search(rf"(?m)^{key}: (.*)$", text)
    assert match, key
    return match.group(1)


@pytest.mark.corpus
@pytest.mark.slow
def test_broken_copy_of_the_real_corpus_fails_with_exactly_the_expected_results(
    corpus_dir: Path, corpus_report: ValidationReport, tmp_path: Path
) -> None:
    pristine = corpus_report
    copy = tmp_path / "curations"
    shutil.copytree(corpus_dir, copy)
    files = sorted(p.name for p in copy.glob("*.md"))
    texts = {name: (copy / name).read_text(encoding="utf-8") for name in files}

    # A: the title removed (the exporter cannot export it: SHACL never sees it)
    untitled = files[0]
    (copy / untitled).write_text(re.sub(r"(?m)^title: .*\n", "", texts[untitled]), encoding="utf-8")
    # B: date and lastMod swapped, on different days, so dateModified < datePublished
    swapped = next(
        n
        for n in files[1:]
        if _yaml_value(texts[n], "date")[:11] != _yaml_value(texts[n], "lastMod")[:11]
        and "publishDate:" not in texts[n]
    )
    date, last_mod = _yaml_value(texts[swapped], "date"), _yaml_value(texts[swapped], "lastMod")
    text = (
        texts[swapped]
        .replace(f"date: {date}", "date: @@")
        .replace(f"lastMod: {last_mod}", f"lastMod: {date}")
    )
    (copy / swapped).write_text(text.replace("date: @@", f"date: {last_mod}"), encoding="utf-8")
    # C gets D's id
    duplicate, original = [n for n in files[1:] if n != swapped][:2]
    (copy / duplicate).write_text(
        re.sub(r"(?m)^id: .*$", f"id: {_yaml_value(texts[original], 'id')}", texts[duplicate]),
        encoding="utf-8",
    )

    broken = validate_inputs([copy], shapes_graph())

    def cur(name: str) -> str:
        return "https://w3id.org/medigy/kg/id/curation/" + name.rsplit("__", 1)[1].removesuffix(".md")

    unchanged = {r for r in rows(pristine) if r[4] != (untitled,)}
    modified, work_package_id = expand("schema:dateModified"), expand("kg:workPackageId")
    new: set[Row] = {
        (None, None, "Violation", IriScheme().source_file(untitled), (untitled,), "title"),
        (KGSH + "CurationDateOrderShape", modified, "Violation", cur(swapped), (swapped,), "lastMod"),
        (KGSH + "CurationIdUniqueShape", work_package_id, "Violation", cur(duplicate), (duplicate,), "id"),
        (KGSH + "CurationIdUniqueShape", work_package_id, "Violation", cur(original), (original,), "id"),
    }
    assert rows(broken) == unchanged | new
    assert counts(broken)["Violation"] == 4 and not broken.conforms()

    suite = ET.fromstring(junit_report(broken))
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert failed == {untitled, swapped, duplicate, original}


# --- the command line ----------------------------------------------------------------------------


def test_text_is_the_default_and_conforming_data_exits_0() -> None:
    code, out, _ = invoke("validate", str(CURATIONS))
    assert code == 0
    assert (
        out.startswith("kg validate: 2 curations,") and "0 violations, 0 warnings, 0 infos -> conforms" in out
    )


def test_no_data_validates_the_bundled_examples() -> None:
    code, out, _ = invoke("validate")
    assert code == 0 and "16 curations" in out


def test_text_groups_results_by_source_file(tmp_path: Path) -> None:
    code, out, _ = invoke("validate", str(write_broken(tmp_path, "CurationIdUniqueShape")))
    assert code == 1
    assert "DOES NOT CONFORM" in out.splitlines()[0]
    assert re.search(r"(?m)^full\.md\n  VIOLATION +id: id 9001 is also the id of ", out)
    assert re.search(r"(?m)^workpackage\.md\n  VIOLATION +id: ", out)
    assert "shape kgsh:CurationIdUniqueShape (SPARQL)" in out


def test_shared_nodes_are_listed_with_every_file_that_uses_them(tmp_path: Path) -> None:
    code, out, _ = invoke("validate", str(write_broken(tmp_path, "TopicLabelUniqueShape")))
    assert code == 1
    assert "shared by 2 files: full.md, workpackage.md" in out
    assert "(not traced to a source file)" in out


def test_json_is_a_list_of_results(tmp_path: Path) -> None:
    code, out, _ = invoke("validate", str(write_broken(tmp_path, "CurationTitleShape")), "--format", "json")
    assert code == 1
    assert json.loads(out) == [
        {
            "source_file": "full.md",
            "source_files": ["full.md"],
            "line": None,  # an RDF file: its sources are not on disk to be placed in
            "column": None,
            "locations": [],
            "key": "title",
            "severity": "Violation",
            "message": "title: every curation needs exactly one title, as plain text.",
            "focus_node": FULL,
            "path": "https://schema.org/name",
            "value": None,
            "shape": KGSH + "CurationTitleShape",
            "constraint_component": "http://www.w3.org/ns/shacl#MinCountConstraintComponent",
        }
    ]


def test_turtle_is_the_shacl_report_graph(tmp_path: Path) -> None:
    code, out, _ = invoke("validate", str(write_broken(tmp_path, "CurationSlugUniqueShape")), "-f", "turtle")
    assert code == 1
    report = Graph().parse(data=out, format="turtle")
    [node] = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms).toPython() is False  # type: ignore[union-attr]
    results = list(report.objects(node, SH.result))
    assert len(results) == 2
    assert {str(report.value(r, SH.sourceShape)) for r in results} == {KGSH + "CurationSlugUniqueShape"}


def test_junit_has_one_test_case_per_source_file(tmp_path: Path) -> None:
    code, out, _ = invoke(
        "validate", str(write_broken(tmp_path, "CurationImageRecommendedShape")), "-f", "junit"
    )
    assert code == 0  # a warning does not fail at the default threshold...
    suites = ET.fromstring(out)
    assert suites.tag == "testsuites" and suites.get("tests") == "2" and suites.get("failures") == "0"
    by_name = {case.get("name"): case for case in suites.iter("testcase")}
    assert set(by_name) == {"full.md", "workpackage.md"}
    out_text = by_name["workpackage.md"].findtext("system-out") or ""
    assert "WARNING" in out_text and "featuredImage" in out_text

    code, out, _ = invoke(
        "validate",
        str(write_broken(tmp_path, "CurationImageRecommendedShape")),
        "-f",
        "junit",
        "--fail-on",
        "warning",
    )
    assert code == 1  # ...but does with --fail-on warning
    suites = ET.fromstring(out)
    assert suites.get("failures") == "1"
    failure = next(c for c in suites.iter("testcase") if c.get("name") == "workpackage.md").find("failure")
    assert failure is not None and failure.get("type") == "Warning"
    assert "No featured image" in (failure.get("message") or "")


@pytest.mark.parametrize(
    ("case", "fail_on", "code"),
    [
        ("CurationTitleSpacingShape", "violation", 0),
        ("CurationTitleSpacingShape", "warning", 0),
        ("CurationTitleSpacingShape", "info", 1),
        ("CurationTopicRecommendedShape", "violation", 0),
        ("CurationTopicRecommendedShape", "warning", 1),
        ("CurationTitleShape", "violation", 1),
    ],
)
def test_fail_on_chooses_the_threshold(tmp_path: Path, case: str, fail_on: str, code: int) -> None:
    assert invoke("validate", str(write_broken(tmp_path, case)), "--fail-on", fail_on)[0] == code


def test_output_file_is_written_and_the_summary_goes_to_stderr(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "validation.xml"
    code, out, err = invoke("validate", str(CURATIONS), "-f", "junit", "-o", str(target))
    assert code == 0 and out == ""
    assert err.startswith("kg validate: 2 curations") and str(target) in err
    assert ET.parse(target).getroot().get("tests") == "2"
    assert [p.name for p in target.parent.iterdir()] == ["validation.xml"]  # no temporary left


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.ttl", None, "no such file"),
        ("bad.ttl", "<a> <b> .", "not valid"),
        ("remote.jsonld", '{"@context": "https://schema.org/"}', "not valid"),  # never fetched
    ],
)
def test_unreadable_data_exits_2(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / name).write_text(content, encoding="utf-8")
    code, out, err = invoke("validate", str(tmp_path / name))
    assert code == 2 and out == "" and message in err


def test_unreadable_shapes_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = invoke("validate", str(CURATIONS), "--shapes", str(tmp_path / "empty"))
    assert code == 2 and "no shapes files" in err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "s.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n<x> a sh:NodeShape ;"
    )
    code, _, err = invoke("validate", str(CURATIONS), "--shapes", str(tmp_path / "bad"))
    assert code == 2 and "shapes" in err
    (tmp_path / "unusable").mkdir()
    (tmp_path / "unusable" / "s.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<urn:s> a sh:NodeShape ; sh:targetNode <urn:x> ; sh:property <urn:p> .\n"
        '<urn:p> a sh:PropertyShape ; sh:path <urn:q> ; sh:minCount "many" .\n'
    )
    code, _, err = invoke("validate", str(CURATIONS), "--shapes", str(tmp_path / "unusable"))
    assert code == 2 and "shapes cannot be used" in err


def test_other_shapes_can_be_used(tmp_path: Path) -> None:
    (tmp_path / "s.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<urn:s> a sh:NodeShape ; sh:targetClass <https://w3id.org/medigy/kg#Curation> ;\n"
        "  sh:property <urn:p> .\n"
        "<urn:p> a sh:PropertyShape ; sh:path <https://schema.org/name> ;\n"
        '  sh:maxLength 10 ; sh:message "short" .\n'
    )
    code, out, _ = invoke("validate", str(CURATIONS), "--shapes", str(tmp_path), "-f", "json")
    assert code == 1
    assert {(r["shape"], r["source_file"], r["key"]) for r in json.loads(out)} == {
        ("urn:p", "full.md", "title"),
        ("urn:p", "workpackage.md", "title"),
    }


def test_export_validate_reports_on_stderr_and_fails_on_violations(tmp_path: Path) -> None:
    code, _, err = invoke("export", str(CURATIONS), "-o", str(tmp_path / "ok"), "--validate")
    assert code == 0 and "kg validate: 2 curations" in err and "-> conforms" in err

    sources = tmp_path / "sources"
    shutil.copytree(CURATIONS, sources)
    wp = sources / "workpackage.md"
    wp.write_text(wp.read_text(encoding="utf-8").replace("id: 9002", "id: 9001"), encoding="utf-8")
    code, _, err = invoke("export", str(sources), "-o", str(tmp_path / "bad"), "--validate", "-f", "nq")
    assert code == 1
    assert "DOES NOT CONFORM" in err and "id: id 9001 is also the id of" in err
    assert (tmp_path / "bad" / "curations.nq").exists()  # the export itself is still written


def test_validate_function_takes_any_rdflib_graph() -> None:
    """The engine interface: validate(data_graph, shapes_graph) -> ValidationReport."""
    plain = Graph().parse(data=base_data().ntriples, format="nt")
    report = validate(plain, load_shapes())
    assert report.results == [] and report.curations == 2 and report.triples == len(plain)
    assert isinstance(QueryCachingGraph.from_ntriples(base_data().ntriples), Graph)


def test_complex_result_paths_are_shown_in_sparql_syntax(tmp_path: Path) -> None:
    (tmp_path / "s.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<urn:s> a sh:NodeShape ; sh:targetClass <https://w3id.org/medigy/kg#Curation> ;\n"
        "  sh:property <urn:p> .\n"
        '<urn:p> a sh:PropertyShape ; sh:message "5 topic labels" ; sh:minCount 5 ;\n'
        "  sh:path ( <https://w3id.org/medigy/kg#topic> [ sh:inversePath <urn:q> ] ) .\n"
    )
    report = validate_inputs([CURATIONS], load_shapes(tmp_path))
    assert {r.path for r in report.results} == {"(<https://w3id.org/medigy/kg#topic> / ^<urn:q>)"}


# --- issue 18: never a wrong answer, never a traceback, nothing fetched -----------------------

ENGINES = ("auto", "fast", "pyshacl")
_PREFIXES = """@prefix kg: <https://w3id.org/medigy/kg#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
"""


def _json_results(tmp_path: Path, data: str, *args: str) -> tuple[int, list[dict[str, object]], str]:
    path = tmp_path / "data.ttl"
    path.write_text(_PREFIXES + data, encoding="utf-8")
    code, out, err = invoke("validate", str(path), "-f", "json", *args)
    return code, (json.loads(out) if out.strip() else []), err


@pytest.mark.parametrize("engine", ENGINES)
def test_impossible_datetime_is_a_violation_with_kgs_shapes(tmp_path: Path, engine: str) -> None:
    """ "2021-02-30T10:00:00Z"^^xsd:dateTime is ill-formed: not a valid date-time (sh:or of
    the date shapes), while the same curation with Feb 28 has no result on that property."""
    curation = "<https://example.org/c> a kg:Curation ; schema:dateCreated {} .\n"
    _, bad, _ = _json_results(
        tmp_path, curation.format('"2021-02-30T10:00:00Z"^^xsd:dateTime'), "--engine", engine
    )
    _, good, _ = _json_results(
        tmp_path, curation.format('"2021-02-28T10:00:00Z"^^xsd:dateTime'), "--engine", engine
    )
    date_created = "https://schema.org/dateCreated"
    assert [r for r in bad if r["path"] == date_created and r["severity"] == "Violation"]
    assert not [r for r in good if r["path"] == date_created]


@pytest.mark.parametrize("engine", ENGINES)
def test_blank_nodes_touched_by_sparql_constraints_are_reported(tmp_path: Path, engine: str) -> None:
    """Two blank-node curations sharing an mdName: the uniqueness constraint (SPARQL) reports
    both, no traceback (the fast engine loaded `<_:x>` into Oxigraph and crashed)."""
    data = '_:a a kg:Curation ; kg:mdName "same" .\n_:b a kg:Curation ; kg:mdName "same" .\n'
    code, results, err = _json_results(tmp_path, data, "--engine", engine)
    assert code == 1 and "Traceback" not in err
    unique = [r for r in results if str(r["constraint_component"]).endswith("SPARQLConstraintComponent")]
    assert len(unique) == 2 and all(str(r["focus_node"]).startswith("_:") for r in unique)


@pytest.mark.parametrize("engine", ENGINES)
def test_any_result_makes_the_report_not_conform(tmp_path: Path, engine: str) -> None:
    """sh:conforms is false when the only result is an sh:Info (SHACL 3.6.1); exit 0 still, as
    --fail-on violation asks."""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        _PREFIXES + "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:severity sh:Info ; sh:class ex:C .\n",
        encoding="utf-8",
    )
    data = tmp_path / "d.ttl"
    data.write_text(_PREFIXES + "ex:a ex:p 1 .\n", encoding="utf-8")
    code, out, _ = invoke("validate", str(data), "--shapes", str(shapes), "-f", "turtle", "--engine", engine)
    assert code == 0
    report = Graph().parse(data=out, format="turtle")
    assert (None, SH.conforms, Literal(False)) in report


@pytest.mark.parametrize("engine", ENGINES)
def test_values_are_the_datas_own_terms_and_the_turtle_report_is_valid(tmp_path: Path, engine: str) -> None:
    """sh:value keeps the lexical form ("...50.292Z", not "...50.292000+00:00"), and an
    ill-typed literal ("yes"^^xsd:boolean, which rdflib writes unquoted) still gives Turtle."""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        _PREFIXES
        + "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:t ;\n"
        + '  sh:property [ sh:path ex:t ; sh:maxExclusive "2021-01-01T10:00:00Z"^^xsd:dateTime ] ;\n'
        + "  sh:property [ sh:path ex:b ; sh:datatype xsd:boolean ] .\n",
        encoding="utf-8",
    )
    data = tmp_path / "d.ttl"
    data.write_text(
        _PREFIXES + 'ex:a ex:t "2021-01-01T10:00:50.292Z"^^xsd:dateTime ; ex:b "yes"^^xsd:boolean .\n',
        encoding="utf-8",
    )
    code, out, err = invoke(
        "validate", str(data), "--shapes", str(shapes), "-f", "turtle", "--engine", engine
    )
    assert code == 1 and "Traceback" not in err
    oxigraph_triples(out.encode("utf-8"), pyoxigraph.RdfFormat.TURTLE)  # valid Turtle
    values = {
        line.split(" ", 2)[2]
        for line in oxigraph_triples(out.encode(), pyoxigraph.RdfFormat.TURTLE)
        if f"<{SH.value}>" in line
    }
    assert values == {
        '"2021-01-01T10:00:50.292Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n',
        '"yes"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n',
    }


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("clause", ["SERVICE <{url}/sparql> {{ ?a ?b ?c }}", "FROM <{url}/graph>"])
def test_shapes_that_would_reach_a_network_are_refused(
    tmp_path: Path, fake_server: FakeServer, engine: str, clause: str
) -> None:
    """SERVICE and FROM in a SPARQL constraint: exit 2 naming the clause; the listener on
    127.0.0.1 receives nothing (Oxigraph and rdflib would both send the request)."""
    service = clause.format(url=fake_server.url)
    where = f"{{ $this ex:p ?v . {service} }}" if clause.startswith("SERVICE") else "{ $this ex:p ?v . }"
    dataset = service if clause.startswith("FROM") else ""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        _PREFIXES
        + 'ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select """\n'
        + f'PREFIX ex: <http://example.org/>\nSELECT $this {dataset} WHERE {where}\n""" ] .\n',
        encoding="utf-8",
    )
    data = tmp_path / "d.ttl"
    data.write_text(_PREFIXES + "ex:a ex:p 1 .\n", encoding="utf-8")
    code, _, err = invoke("validate", str(data), "--shapes", str(shapes), "--engine", engine)
    assert code == 2
    assert clause.split()[0] in err
    assert fake_server.requests == []


def test_nested_detail_results_are_not_counted() -> None:
    """A report whose result carries an sh:detail result is one result, not two."""
    report = Graph().parse(
        data=_PREFIXES
        + "[] a sh:ValidationReport ; sh:conforms false ; sh:result [ a sh:ValidationResult ;\n"
        + "  sh:focusNode ex:a ; sh:resultSeverity sh:Violation ; sh:sourceShape ex:S ;\n"
        + "  sh:sourceConstraintComponent sh:NodeConstraintComponent ;\n"
        + "  sh:detail [ a sh:ValidationResult ; sh:focusNode ex:a ; sh:resultSeverity sh:Violation ;\n"
        + "    sh:sourceShape ex:T ; sh:sourceConstraintComponent sh:ClassConstraintComponent ] ] .\n",
        format="turtle",
    )
    assert [r.source_shape for r in read_report(report)] == ["http://example.org/S"]


def test_shapes_pyshacl_cannot_evaluate_are_refused_not_a_traceback(tmp_path: Path) -> None:
    """$shapesGraph makes pySHACL raise NotImplementedError: exit 2 with a message."""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        _PREFIXES
        + 'ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select """\n'
        + 'SELECT $this WHERE { GRAPH $shapesGraph { $this ?p ?o } }""" ] .\n',
        encoding="utf-8",
    )
    data = tmp_path / "d.ttl"
    data.write_text(_PREFIXES + "ex:a ex:p 1 .\n", encoding="utf-8")
    for engine in ENGINES:
        code, _, err = invoke("validate", str(data), "--shapes", str(shapes), "--engine", engine)
        assert code == 2 and err.startswith("kg validate: the ") and "Traceback" not in err


def test_auto_engine_names_the_shapes_pyshacl_evaluated(tmp_path: Path) -> None:
    """An inverse path is not the fast engine's: auto answers through pySHACL and says so."""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        _PREFIXES
        + "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path [ sh:inversePath ex:p ] ;"
        + " sh:minCount 1 ] .\nex:T a sh:NodeShape ; sh:targetNode ex:a ; sh:class ex:C .\n",
        encoding="utf-8",
    )
    data = tmp_path / "d.ttl"
    data.write_text(_PREFIXES + "ex:a ex:p 1 .\n", encoding="utf-8")
    code, out, _ = invoke("validate", str(data), "--shapes", str(shapes))
    assert code == 1
    line = next(x for x in out.splitlines() if "evaluated by pySHACL" in x)
    assert "<http://example.org/S>" in line and "<http://example.org/T>" not in line
    assert "path ^ex" not in out and "path ^<http://example.org/p>" in out  # SPARQL path syntax
    assert out.count("VIOLATION") == 2
    code, _, err = invoke("validate", str(data), "--shapes", str(shapes), "--engine", "fast")
    assert code == 2 and "cannot evaluate" in err
