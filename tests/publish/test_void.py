"""The dataset description (kg/publish/void.py): its counts equal what the outputs hold when parsed by
independent readers, its checksums and sizes equal the files', it conforms to its own shapes
with both engines (and a damaged one does not), and it is deterministic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.pipeline.export import export
from kg.publish import DESCRIPTION_NAME
from kg.publish.void import DescriptionError, describe
from kg.rdf.namespaces import DEFAULT_BASE_IRI, PREFIXES
from tests.conftest import EXAMPLES, ROOT

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
NAMES = ("curations.ttl", "curations.jsonld", "curations.nt", "curations.nq", "report.json")
PREFIX_HEADER = "".join(
    f"PREFIX {p}: <{ns}>\n" for p, ns in {"void": VOID, "dcat": DCAT, "spdx": SPDX, **PREFIXES}.items()
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    export([EXAMPLES], out)
    return out


def _store(path: Path, fmt: pyoxigraph.RdfFormat) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(path=str(path), format=fmt)
    return store


def _value(store: pyoxigraph.Store, query: str) -> object:
    rows = list(store.query(PREFIX_HEADER + query))
    assert len(rows) == 1, query
    return rows[0][0].value


@pytest.fixture(scope="module")
def description(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("void") / "void.ttl"
    path.write_text(describe({n: exported / n for n in NAMES}, DEFAULT_BASE_IRI), encoding="utf-8")
    return path


def test_counts_equal_the_outputs(exported: Path, description: Path) -> None:
    data = _store(exported / "curations.ttl", pyoxigraph.RdfFormat.TURTLE)  # rdflib-free reader
    void = _store(description, pyoxigraph.RdfFormat.TURTLE)
    assert int(_value(void, "SELECT ?n { ?d a dcat:Dataset ; void:triples ?n }")) == len(data)
    subjects = _value(data, "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }")
    assert _value(void, "SELECT ?n { ?d a dcat:Dataset ; void:entities ?n }") == subjects
    expected_classes = {
        row["c"].value: int(row["n"].value)
        for row in data.query("SELECT ?c (COUNT(*) AS ?n) { ?s a ?c } GROUP BY ?c")
    }
    described = {
        row["c"].value: int(row["n"].value)
        for row in void.query(
            PREFIX_HEADER + "SELECT ?c ?n { ?d void:classPartition [ void:class ?c ; void:entities ?n ] }"
        )
    }
    assert described == expected_classes and described[PREFIXES["kg"] + "CurationGraph"] == 16
    expected_props = {
        row["p"].value: (int(row["n"].value), int(row["o"].value))
        for row in data.query("SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?o) AS ?o) {?s ?p ?o} GROUP BY ?p")
    }
    described = {
        row["p"].value: (int(row["n"].value), int(row["o"].value))
        for row in void.query(
            PREFIX_HEADER + "SELECT ?p ?n ?o { ?d void:propertyPartition "
            "[ void:property ?p ; void:triples ?n ; void:distinctObjects ?o ] }"
        )
    }
    assert described == expected_props
    links = _value(void, "SELECT ?n { ?l a void:Linkset ; void:linkPredicate kg:topic ; void:triples ?n }")
    assert links == str(expected_props[PREFIXES["kg"] + "topic"][0])


def test_distributions_match_the_files(exported: Path, description: Path) -> None:
    void = _store(description, pyoxigraph.RdfFormat.TURTLE)
    rows = void.query(
        PREFIX_HEADER
        + "SELECT ?name ?type ?size ?sum { ?d dcat:distribution ?x . ?x dcterms:title ?name ;"
        " dcat:mediaType ?type ; dcat:byteSize ?size ; spdx:checksum/spdx:checksumValue ?sum }"
    )
    found = {r["name"].value: (r["type"].value, int(r["size"].value), r["sum"].value) for r in rows}
    assert set(found) == set(NAMES)
    for name, (_media_type, size, checksum) in found.items():
        data = (exported / name).read_bytes()
        assert size == len(data) and checksum == hashlib.sha256(data).hexdigest(), name
    assert found["curations.nq"][0] == "https://www.iana.org/assignments/media-types/application/n-quads"


def test_same_export_same_bytes(exported: Path, description: Path) -> None:
    again = describe({n: exported / n for n in NAMES}, DEFAULT_BASE_IRI)
    assert again == description.read_text(encoding="utf-8")


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_conforms_to_its_shapes_and_a_damaged_one_does_not(
    description: Path, tmp_path: Path, engine: str
) -> None:
    shapes = str(ROOT / "shapes" / "dataset")
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", str(description), "--shapes", shapes, "--engine", engine])
    assert ok.exit_code == 0, ok.output
    damaged = tmp_path / "void.ttl"
    text = description.read_text(encoding="utf-8")
    damaged.write_text(text.replace("dcat:byteSize", "dcat:notByteSize", 1).replace('"', '"x', 1))
    bad = runner.invoke(main, ["validate", str(damaged), "--shapes", shapes, "--engine", engine])
    assert bad.exit_code == 1, bad.output


def _counts(text: str) -> dict[str, object]:
    store = pyoxigraph.Store()
    store.load(text.encode(), format=pyoxigraph.RdfFormat.TURTLE)
    query = PREFIX_HEADER + "SELECT ?p ?n { ?d a dcat:Dataset ; ?p ?n FILTER(isLiteral(?n)) }"
    counts: dict[str, object] = {row["p"].value: row["n"].value for row in store.query(query)}
    partitions = PREFIX_HEADER + (
        "SELECT ?t ?p ?n { ?d void:classPartition|void:propertyPartition ?x ."
        " ?x void:class|void:property ?t ; ?p ?n FILTER(isLiteral(?n)) }"
    )
    counts.update({f'{row["t"].value} {row["p"].value}': row["n"].value for row in store.query(partitions)})
    return counts


def test_any_one_rdf_output_gives_the_same_counts(exported: Path) -> None:
    """An export of one format is described too: from N-Quads or JSON-LD (one graph per curation,
    shared triples in several) each distinct triple counts once, as in the union graph."""
    union = _counts(describe({"curations.nt": exported / "curations.nt"}, DEFAULT_BASE_IRI))
    for name in ("curations.ttl", "curations.nq", "curations.jsonld"):
        assert _counts(describe({name: exported / name}, DEFAULT_BASE_IRI)) == union, name
    assert union[VOID + "triples"] == "960"  # 882 of the curations, 78 node graphs typed
    assert union[f'{PREFIXES["kg"]}topic {VOID}distinctObjects'] == "33"  # the partitions compared too
    with pytest.raises(DescriptionError, match=r"needs one of curations\.nt, .*curations\.jsonld"):
        describe({"report.json": exported / "report.json"}, DEFAULT_BASE_IRI)


def test_every_export_writes_the_description_of_its_committed_files(exported: Path, tmp_path: Path) -> None:
    """void.ttl is what `describe` gives of the files as they are in the folder (so its sizes and
    checksums are theirs), for every export, of all formats or of some."""
    written = (exported / DESCRIPTION_NAME).read_text(encoding="utf-8")
    assert written == describe({n: exported / n for n in NAMES}, DEFAULT_BASE_IRI)
    some = tmp_path / "some"
    export([EXAMPLES], some, ["nquads"])
    names = ("curations.nq", "report.json")
    visible = sorted(p.name for p in some.iterdir() if not p.name.startswith("."))
    assert visible == sorted([*names, DESCRIPTION_NAME])
    assert (some / DESCRIPTION_NAME).read_text() == describe({n: some / n for n in names}, DEFAULT_BASE_IRI)
    assert _counts((some / DESCRIPTION_NAME).read_text()) == _counts(written)


def test_the_committed_description_describes_the_committed_outputs() -> None:
    """outputs/void.ttl (`make example`) describes outputs/ as committed."""
    committed = ROOT / "outputs"
    expected = describe({n: committed / n for n in NAMES}, DEFAULT_BASE_IRI)
    assert (committed / DESCRIPTION_NAME).read_text(encoding="utf-8") == expected
