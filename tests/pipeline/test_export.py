"""The export pipeline end to end: every file accounted for, determinism, atomicity, exits."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.map.curation import IriScheme
from kg.pipeline.export import FORMATS, export
from kg.pipeline.outcome import FileOutcome, Job
from kg.publish import DESCRIPTION_NAME
from kg.read.sources import SourceFile
from tests.conftest import EXAMPLES, ROOT

TAXONOMY = next((ROOT / "tests" / "fixtures" / "taxonomy").glob("*.json"))

BAD_FILES = {
    "bad-yaml.md": b"---\ntitle: x\nmdName: y\nbad: [\n---\n",
    "latin1.md": b"---\ntitle: caf\xe9\nmdName: y\n---\n",
    "list.md": b"---\n- a\n---\n",
    "page.md": b"---\ntitle: About us\n---\nA page, not a curation.\n",
    "no-fm.md": b"# just markdown\n",
}


def _tree_with_bad_files(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(EXAMPLES, src / "good")
    for name, data in BAD_FILES.items():
        (src / name).write_bytes(data)
    return src


def test_every_input_file_is_reported_exactly_once(tmp_path: Path) -> None:
    src = _tree_with_bad_files(tmp_path)
    report = export([src], tmp_path / "out")
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    paths = [f["path"] for f in data["files"]]
    on_disk = sorted(p.relative_to(src).as_posix() for p in src.rglob("*.md"))
    assert sorted(paths) == on_disk and len(paths) == len(set(paths))
    status = {f["path"]: f["status"] for f in data["files"]}
    assert status["bad-yaml.md"] == status["latin1.md"] == status["list.md"] == "failed"
    assert status["page.md"] == status["no-fm.md"] == "skipped"
    n_good = len(list(EXAMPLES.glob("*.md")))
    assert data["totals"]["exported"] == n_good == report.count("exported")
    assert data["totals"]["failed"] == 3 and report.exit_code() == 1


def test_outputs_are_byte_identical_across_runs(tmp_path: Path) -> None:
    src = _tree_with_bad_files(tmp_path)
    export([src], tmp_path / "a")
    export([src], tmp_path / "b", jobs=1)
    for name in [*FORMATS.values(), DESCRIPTION_NAME, "report.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_parallel_and_serial_give_identical_outputs(tmp_path: Path) -> None:
    src = tmp_path / "many"
    src.mkdir()
    for i in range(450):  # above the parallel threshold
        (src / f"c{i:04d}.md").write_text(
            f"---\ntitle: T{i}\nmdName: m{i}\ncommunityTopics: ['KLAS: T{i % 7}']\n---\nbody\n"
        )
    export([src], tmp_path / "serial", jobs=1)
    export([src], tmp_path / "parallel", jobs=2)
    for name in FORMATS.values():
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "parallel" / name).read_bytes()


def test_failed_write_leaves_previous_outputs_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    export([EXAMPLES], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("kg.write.streams.OutputStreams.finish", boom)
    with pytest.raises(OSError):
        export([EXAMPLES], out)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # no partial file, no temporary left behind


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["export", str(EXAMPLES), "-o", str(tmp_path / "ok")])
    assert ok.exit_code == 0, ok.output
    assert "failed" in ok.stderr and "exported" in ok.stderr
    src = _tree_with_bad_files(tmp_path)
    some_bad = runner.invoke(main, ["export", str(src), "-o", str(tmp_path / "bad")])
    assert some_bad.exit_code == 1
    assert "bad-yaml.md" in some_bad.stderr
    assert (tmp_path / "bad" / "curations.ttl").stat().st_size > 0  # the rest still written
    strict = runner.invoke(main, ["export", str(src), "-o", str(tmp_path / "strict"), "--strict"])
    assert strict.exit_code == 2 and "--strict" in strict.stderr
    assert not (tmp_path / "strict" / "curations.ttl").exists()
    usage = runner.invoke(main, ["export", str(tmp_path / "missing"), "-o", str(tmp_path / "x")])
    assert usage.exit_code == 2
    fmt = runner.invoke(main, ["export", str(EXAMPLES), "-o", str(tmp_path / "y"), "-f", "xml"])
    assert fmt.exit_code == 2


def test_format_selection_writes_only_those_files(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["export", str(EXAMPLES), "-o", str(tmp_path), "-f", "ttl,nq"])
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".kg-manifest.json",  # what the next, incremental export starts from
        "curations.nq",
        "curations.ttl",
        "report.json",
        "void.ttl",  # the dataset description, of these two formats
    ]


def test_seeds_export(seeds_dir: Path, tmp_path: Path) -> None:
    report = export([seeds_dir], tmp_path)
    assert report.count("exported") == 2 and report.exit_code() == 0


@pytest.mark.corpus
def test_whole_real_corpus_exports_without_failures(corpus_dir: Path, tmp_path: Path) -> None:
    report = export([corpus_dir], tmp_path)
    assert len(report.files) == 400
    assert report.count("exported") == 400, [f for f in report.files if f["status"] != "exported"]
    assert report.problems == 0
    assert report.exit_code() == 0


def test_in_memory_build_matches_the_written_files(tmp_path: Path) -> None:
    from kg.pipeline.export import build

    built = build([EXAMPLES])
    export([EXAMPLES], tmp_path)
    assert built.nquads() == (tmp_path / "curations.nq").read_bytes()
    assert built.ntriples() == (tmp_path / "curations.nt").read_bytes()
    assert [g.path for g in built.graphs] == [
        f["path"] for f in built.report.files if f["status"] == "exported"
    ]


def test_report_bytes_are_what_json_dumps_writes(tmp_path: Path) -> None:
    from kg.pipeline.export import ExportReport

    report = export([_tree_with_bad_files(tmp_path)], tmp_path / "out")
    report.files.append(
        {
            "path": 'é"\\\n\x00\u202e😀',
            "status": "exported",
            "reason": None,
            "problems": [{"field": "date", "message": "m\x7f", "value": None, "severity": "warning"}],
        }
    )
    for case in (report, ExportReport()):
        expected = json.dumps(case.to_json(), indent=1, ensure_ascii=False).encode("utf-8") + b"\n"
        assert case.to_bytes() == expected


def test_per_process_caches_are_bounded_whatever_the_corpus() -> None:
    """The IRI caches of a worker hold recurring values, not one entry per curation ever seen."""
    from kg.rdf import iri
    from kg.rdf.namespaces import Prefixes
    from kg.write.jsonld import JsonLdWriter
    from kg.write.protocol import RENDER_CACHE
    from kg.write.turtle import TurtleWriter

    for i in range(iri.SEGMENT_CACHE + 500):
        iri.segment(f"unique name {i}")
    assert iri.segment.cache_info().currsize == iri.SEGMENT_CACHE
    prefixes = Prefixes({"ex": "https://example.org/"})
    turtle, jsonld = TurtleWriter(prefixes), JsonLdWriter(prefixes)
    for i in range(RENDER_CACHE + 500):
        turtle.block([(f"https://example.org/c{i}", "https://example.org/p", "https://example.org/o")])
        jsonld.block([(f"https://example.org/c{i}", "https://example.org/p", "https://example.org/o")])
    assert turtle.iri.cache_info().currsize == RENDER_CACHE  # type: ignore[attr-defined]
    assert jsonld.iri.cache_info().currsize == RENDER_CACHE  # type: ignore[attr-defined]


def test_chunks_sent_to_workers_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import concurrent.futures

    import kg.pipeline.export as kg_export
    from kg.pipeline import workers

    sizes: list[int] = []

    class Pool:  # runs the chunks in this process, recording their sizes
        def __init__(self, max_workers: int, **options: object) -> None:
            pass

        def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
            pass

        def submit(self, fn: Any, chunk: list[SourceFile], job: Job) -> Future[list[FileOutcome]]:
            sizes.append(len(chunk))
            future: Future[list[FileOutcome]] = Future()
            future.set_result(fn(chunk, job))
            return future

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)  # imported when pooling
    files = [SourceFile(tmp_path / f"x{i}.md", f"x{i}.md") for i in range(5000)]
    outcomes = list(workers.process_all(files, kg_export._job(IriScheme(), ["nquads"]), jobs=2))
    assert len(outcomes) == 5000 and max(sizes) == workers.MAX_CHUNK and sum(sizes) == 5000


BAD_BASES = {
    "http://x/a b/": "space",
    "http://x/a>b/": "'>'",
    'http://x/a"b/': "'\"'",
    "http://x/a{b}/": "'{'",
    "not-an-iri/": "not an absolute IRI",
    "http://x/%zz/": "not a valid IRI",
    "http:///a/": "has no host",
    "https://example.org/id": "must end with '/' or '#'",
}


@pytest.mark.parametrize("command", ["export", "validate", "load", "serve", "taxonomy"])
@pytest.mark.parametrize(("base", "why"), BAD_BASES.items())
def test_a_base_iri_minted_iris_would_not_parse_under_is_a_usage_error(
    tmp_path: Path, command: str, base: str, why: str
) -> None:
    """Every command that takes --base-iri (refused while the options are read: nothing starts)."""
    out = tmp_path / "out"
    data = str(TAXONOMY if command == "taxonomy" else EXAMPLES)
    where = {
        "export": ["-o", str(out)],
        "load": ["--store", str(out)],
        "serve": ["--store", str(out), "--port", "0"],
        "taxonomy": ["-o", str(out)],
    }.get(command, [])
    result = CliRunner().invoke(main, [command, data, "--base-iri", base, *where])
    assert result.exit_code == 2, result.output
    assert "--base-iri" in result.stderr and repr(base) in result.stderr and why in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


@pytest.mark.parametrize("base", BAD_BASES)
def test_an_iri_scheme_refuses_a_bad_base(base: str) -> None:
    with pytest.raises(ValueError, match="base IRI"):
        IriScheme(base)


@pytest.mark.parametrize("asset_base", ["http://x/a b/", "assets/", "http://x/a<b"])
def test_an_iri_scheme_refuses_a_bad_asset_base(tmp_path: Path, asset_base: str) -> None:
    with pytest.raises(ValueError, match="asset base"):
        IriScheme(asset_base=asset_base)
    result = CliRunner().invoke(
        main, ["export", str(EXAMPLES), "--asset-base", asset_base, "-o", str(tmp_path)]
    )
    assert result.exit_code == 2 and "--asset-base" in result.stderr and repr(asset_base) in result.stderr


@pytest.mark.parametrize(
    "base",
    [
        "https://w3id.org/medigy/kg/id/",
        "http://x/a%20b/",
        "urn:example:kg/",
        "http://[::1]:8080/kg#",
        "https://ex.org/é/",
    ],
)
def test_every_accepted_base_gives_outputs_oxigraph_reads(tmp_path: Path, base: str) -> None:
    import pyoxigraph

    from kg.rdf.iri import is_valid_iri

    assert is_valid_iri(base + "curation/x")  # an independent parser agrees with kg's check
    result = CliRunner().invoke(main, ["export", str(EXAMPLES), "--base-iri", base, "-o", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    formats = {
        "curations.ttl": pyoxigraph.RdfFormat.TURTLE,
        "curations.jsonld": pyoxigraph.RdfFormat.JSON_LD,
        "curations.nt": pyoxigraph.RdfFormat.N_TRIPLES,
        "curations.nq": pyoxigraph.RdfFormat.N_QUADS,
    }
    for name, fmt in formats.items():
        quads = list(pyoxigraph.parse((tmp_path / name).read_bytes(), format=fmt))
        assert any(str(q.subject).startswith(f"<{base}") for q in quads), name
