"""Incremental export: after any sequence of edits, the outputs are those of a full export.

Each step edits the source tree, exports into the same folder (reusing what it can), exports
the same tree afresh into another folder, and compares every output byte for byte; the
manifest's change record must name exactly the graphs that were added, changed or removed.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.cli import main
from kg.pipeline import incremental
from kg.pipeline.export import FORMATS, REPORT_NAME, ExportReport, StrictError, export
from kg.pipeline.incremental import MANIFEST_NAME, Manifest, blocks, columns, digests, recorder
from kg.pipeline.incremental import previous as previous_export
from kg.publish import DESCRIPTION_NAME
from kg.validation.validate import shape_files
from tests.conftest import EXAMPLES, ROOT
from tests.helpers.trees import curation, write_tree

OUTPUTS = [*FORMATS.values(), DESCRIPTION_NAME, REPORT_NAME]
GRAPH = "https://w3id.org/medigy/kg/id/graph/curation/"
NODE_GRAPH = "https://w3id.org/medigy/kg/id/graph/"


def assert_same_as_full_export(src: Path, out: Path, fresh: Path, **kwargs: object) -> ExportReport:
    """Export incrementally into `out` and afresh into `fresh`; every output must match."""
    report = export([src], out, **kwargs)  # type: ignore[arg-type]
    shutil.rmtree(fresh, ignore_errors=True)
    export([src], fresh, **kwargs)  # type: ignore[arg-type]
    for name in OUTPUTS:
        if (fresh / name).exists():  # (an output of a format no longer asked for stays as it was)
            assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    return report


def changes(out: Path, prefix: str = GRAPH) -> dict[str, list[str]]:
    """The change record's graphs under `prefix` (default: the curation graphs), without it."""
    record = Manifest(out).changes
    return {
        key: [g.removeprefix(prefix) for g in record[key] if g.startswith(prefix)]
        for key in ("added", "changed", "removed")
    }


@pytest.mark.parametrize("margin", [recorder.TRUST_MARGIN_NS, 0], ids=["hashed", "stamps-trusted"])
def test_edit_sequence_reuses_unchanged_files_and_matches_a_full_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, margin: int
) -> None:
    # files written just before an export get no stamp (hashed next time); with no margin,
    # every stamp is recorded and trusted, the path taken for files not edited for a while
    monkeypatch.setattr(recorder, "TRUST_MARGIN_NS", margin)
    src, out, fresh = tmp_path / "src", tmp_path / "out", tmp_path / "fresh"
    shutil.copytree(EXAMPLES, src / "examples")
    write_tree(src, {f"gen/c{i}.md": curation(f"c{i}") for i in range(6)})
    first = assert_same_as_full_export(src, out, fresh)
    assert first.why_full == "no manifest of a previous export"
    assert len(changes(out)["added"]) == 22 and Manifest(out).changes["from"] is None
    assert len(Manifest(out).changes["added"]) == len(Manifest(out).graphs)  # and every node graph

    steps: list[tuple[str, Callable[[], None], int, dict[str, list[str]]]] = [
        ("nothing", lambda: None, 0, {"added": [], "changed": [], "removed": []}),
        (
            "touch without editing",
            lambda: (src / "gen/c0.md").write_text(curation("c0"), encoding="utf-8"),
            0,
            {"added": [], "changed": [], "removed": []},
        ),
        (
            "add",
            lambda: write_tree(src, {"gen/new.md": curation("new")}),
            1,
            {"added": ["new"], "changed": [], "removed": []},
        ),
        (
            "change a title and a topic",
            lambda: write_tree(src, {"gen/c1.md": curation("c1", "New title", ("Gartner: AI",))}),
            1,
            {"added": [], "changed": ["c1"], "removed": []},
        ),
        (
            "remove",
            lambda: (src / "gen/c2.md").unlink(),
            0,
            {"added": [], "changed": [], "removed": ["c2"]},
        ),
        (
            "rename (same curation, new source path)",
            lambda: (src / "gen/c3.md").rename(src / "gen/c3-renamed.md"),
            1,
            {"added": [], "changed": ["c3"], "removed": []},
        ),
        (
            "break the YAML",
            lambda: write_tree(src, {"gen/c4.md": "---\ntitle: [\n---\n"}),
            1,
            {"added": [], "changed": [], "removed": ["c4"]},
        ),
        (
            "repair it",
            lambda: write_tree(src, {"gen/c4.md": curation("c4")}),
            1,
            {"added": ["c4"], "changed": [], "removed": []},
        ),
        (
            "duplicate an mdName",
            lambda: write_tree(src, {"gen/dup.md": curation("c5", "Twin")}),
            1,
            {"added": [], "changed": ["c5"], "removed": []},
        ),
        (
            "turn a curation into a topic page",
            lambda: write_tree(src, {"gen/c0.md": "---\ntitle: A topic page\n---\n"}),
            2,  # and gen/dup.md: a second source of c5 is never reused
            {"added": [], "changed": [], "removed": ["c0"]},
        ),
    ]
    for name, edit, processed, expected in steps:
        edit()
        report = assert_same_as_full_export(src, out, fresh)
        assert report.why_full is None, name
        assert report.reuse is not None and report.reuse.processed == processed, name
        assert changes(out) == expected, name
        if name == "change a title and a topic":  # a topic no curation had before: its graph is new
            assert changes(out, NODE_GRAPH)["added"] == ["topic/Gartner/AI"]
        manifest = Manifest(out)
        assert manifest.current() and manifest.changes["to"] == manifest.export, name


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The relative paths of the files `Previous` reads (to hash them), as they are read."""
    read: list[str] = []
    real = previous_export.read_stamped

    def counting(source: Any) -> Any:
        read.append(source.relative)
        return real(source)

    monkeypatch.setattr(previous_export, "read_stamped", counting)
    return read


def test_files_whose_stamp_is_unchanged_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_tree(src, {f"c{i}.md": curation(f"c{i}") for i in range(4)})
    monkeypatch.setattr(recorder, "TRUST_MARGIN_NS", 0)
    export([src], out)
    read = count_reads(monkeypatch)
    # same size, modification time set back: the change of ctime still shows it
    before = (src / "c1.md").stat()
    (src / "c1.md").write_text(curation("c1").replace("Body of c1", "Body of C1"), encoding="utf-8")
    os.utime(src / "c1.md", ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (src / "c1.md").stat().st_size == before.st_size
    (src / "c2.md").touch()  # a new mtime, the same bytes: read, hashed, reused
    write_tree(src, {"c3.md": curation("c3", "A longer title")})  # another size: not read to hash
    report = assert_same_as_full_export(src, out, tmp_path / "fresh")
    assert report.reuse is not None and (report.reuse.reused, report.reuse.processed) == (2, 2)
    assert sorted(read) == ["c1.md", "c2.md"] and changes(out)["changed"] == ["c1", "c3"]


def test_files_changed_just_before_an_export_are_hashed_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_tree(src, {"old.md": curation("old")})
    time.sleep(0.05)  # a later tick of the filesystem's clock
    write_tree(src, {"new.md": curation("new")})
    changed = max((src / "new.md").stat().st_mtime_ns, (src / "new.md").stat().st_ctime_ns)
    # the export begins TRUST_MARGIN_NS after new.md changed: it could change again unseen
    monkeypatch.setattr(recorder, "_clock", lambda: changed + recorder.TRUST_MARGIN_NS)
    export([src], out)
    stamps = dict(zip(*(Manifest(out).data["files"][k] for k in ("path", "stamp")), strict=True))
    assert stamps["old.md"] is not None and stamps["new.md"] is None
    read = count_reads(monkeypatch)
    export([src], out)
    assert read == ["new.md"]


def test_strict_reexport_stops_at_a_reused_files_problem(tmp_path: Path) -> None:
    """Reused files are checked one by one under --strict, as if they were processed again."""
    src, out = tmp_path / "src", tmp_path / "out"
    files = {f"c{i}.md": curation(f"c{i}") for i in range(5)}
    files["c3.md"] = files["c3.md"].replace("id: 1\n", "id: 1\ndate: 2021-02-30\n")
    write_tree(src, files)
    assert export([src], out).problems == 1  # not strict: exported with a field problem
    with pytest.raises(StrictError, match=r"c3\.md.*2021-02-30"):
        export([src], out, strict=True)
    report = export([src], out)
    assert report.reuse is not None and report.reuse.reused == 5 and report.problems == 1


def test_manifest_gives_each_graph_quads_for_a_loader(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_tree(src, {"a.md": curation("a"), "b.md": curation("b"), "twin.md": curation("a", "Twin")})
    export([src], out)
    manifest = Manifest(out)
    everything = (out / "curations.nq").read_bytes()
    parts = [manifest.nquads(graph) for graph in sorted(manifest.graphs)]
    assert sorted(b"".join(parts).splitlines()) == sorted(everything.splitlines())
    assert all(line.endswith(f"<{GRAPH}b> .".encode()) for line in manifest.nquads(GRAPH + "b").splitlines())
    assert b'"twin.md"' in manifest.nquads(GRAPH + "a")  # both files of a duplicated mdName
    assert b"Twin" not in manifest.nquads(GRAPH + "a")  # (the first path's content)


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        ({}, {"iris": None, "formats": ["turtle", "nquads"]}, "settings changed"),
        ({}, {"shapes": "packaged"}, "validating: every curation is processed"),
        ({}, {"full": True}, "--full"),
    ],
)
def test_changed_settings_or_full_flag_export_everything_again(
    tmp_path: Path, first: dict[str, object], second: dict[str, object], why: str
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(EXAMPLES, src)
    export([src], out, **first)  # type: ignore[arg-type]
    if second.get("shapes") == "packaged":
        second = {"shapes": shape_files()}
    report = assert_same_as_full_export(src, out, tmp_path / "fresh", **second)
    assert report.why_full is not None and why in report.why_full
    assert report.reuse is not None and report.reuse.reused == 0


def test_new_kg_code_or_version_exports_everything_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(EXAMPLES, src)
    export([src], out)
    monkeypatch.setattr(digests, "__version__", "99.0")
    assert export([src], out).why_full == "kg_version changed since the last export"
    monkeypatch.setattr(digests, "code_digest", lambda: "edited")
    assert export([src], out).why_full == "code changed since the last export"
    assert export([src], out).why_full is None


def _edit_manifest(out: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads((out / MANIFEST_NAME).read_text())
    edit(data)
    (out / MANIFEST_NAME).write_text(json.dumps(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "edit an output": lambda out: (out / "curations.ttl").write_bytes(
        (out / "curations.ttl").read_bytes() + b"# a comment\n"
    ),
    "remove an output": lambda out: (out / "curations.jsonld").unlink(),
    "garble the manifest": lambda out: (out / MANIFEST_NAME).write_text('{"kg_manifest": 1, "files": ['),
    "a manifest of another format": lambda out: _edit_manifest(out, lambda d: d.update(kg_manifest=0)),
    "a manifest without its graphs": lambda out: _edit_manifest(out, lambda d: d.pop("graphs")),
    "a manifest of the wrong shape": lambda out: _edit_manifest(out, lambda d: d.update(files=[1, 2])),
    "a block beyond the end": lambda out: _edit_manifest(
        out, lambda d: d["files"]["turtle"].__setitem__(0, [10**9, 5])
    ),
    "columns of different lengths": lambda out: _edit_manifest(out, lambda d: d["files"]["sha256"].pop()),
    "a stamp that is not a list": lambda out: _edit_manifest(
        out, lambda d: d["files"]["stamp"].__setitem__(0, 12)
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_outputs_or_manifest_touched_by_hand_mean_a_full_export(tmp_path: Path, damage: str) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(EXAMPLES, src)
    export([src], out)
    DAMAGE[damage](out)
    report = assert_same_as_full_export(src, out, tmp_path / "fresh")
    assert report.why_full is not None and report.reuse is not None and report.reuse.reused == 0
    assert export([src], out).why_full is None  # and the next run is incremental again


def test_many_changed_files_go_through_the_worker_pool(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_tree(src, {f"c{i:03d}.md": curation(f"c{i}") for i in range(450)})
    export([src], out, jobs=2)
    write_tree(src, {f"c{i:03d}.md": curation(f"c{i}", "Edited") for i in range(0, 450, 1)})
    write_tree(src, {"c000.md": curation("c0")})  # one unchanged among 450
    report = assert_same_as_full_export(src, out, tmp_path / "fresh", jobs=2)
    assert report.reuse is not None and report.reuse.processed == 449 and report.reuse.reused == 1


def test_cli_full_flag_and_summary(tmp_path: Path) -> None:
    runner = CliRunner()
    out = str(tmp_path / "out")
    first = runner.invoke(main, ["export", str(EXAMPLES), "-o", out])
    assert first.exit_code == 0 and "full export (no manifest of a previous export)" in first.stderr
    again = runner.invoke(main, ["export", str(EXAMPLES), "-o", out])
    assert again.exit_code == 0 and "16 files unchanged and reused, 0 processed" in again.stderr
    forced = runner.invoke(main, ["export", str(EXAMPLES), "-o", out, "--full"])
    assert forced.exit_code == 0 and "full export (--full)" in forced.stderr


_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["add", "edit", "remove", "rename", "break", "skip", "touch"]),
        st.integers(0, 7),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=_EDITS)
def test_any_edit_sequence_gives_full_export_bytes(
    tmp_path_factory: pytest.TempPathFactory, edits: list
) -> None:  # type: ignore[type-arg]
    base = tmp_path_factory.mktemp("seq")
    src, out, fresh = base / "src", base / "out", base / "fresh"
    write_tree(src, {f"c{i}.md": curation(f"c{i}", topics=(f"KLAS: T{i % 3}",)) for i in range(4)})
    export([src], out)
    before = Manifest(out).graphs
    for step, (op, n) in enumerate(edits):
        path = src / f"c{n}.md"
        if op == "remove":
            path.unlink(missing_ok=True)
        elif op == "add" or not path.exists():
            write_tree(src, {f"c{n}.md": curation(f"c{n}", f"Added {step}", (f"Symplur: S{step}",))})
        elif op == "edit":
            write_tree(src, {f"c{n}.md": curation(f"c{n}", f"Edit {step}", (f"KLAS: T{step % 2}",))})
        elif op == "rename":
            path.rename(src / f"c{n + 8}.md")
        elif op == "break":
            path.write_bytes(b"---\ntitle: caf\xe9\n---\n")
        elif op == "skip":
            path.write_text("# no front matter\n")
        else:
            path.write_bytes(path.read_bytes())
        assert_same_as_full_export(src, out, fresh)
        manifest = Manifest(out)
        after = manifest.graphs
        record = manifest.changes
        assert set(record["added"]) == set(after) - set(before)
        assert set(record["removed"]) == set(before) - set(after)
        assert set(record["changed"]) == {g for g in after if g in before and after[g] != before[g]}
        before = after
    report = json.loads((out / REPORT_NAME).read_text())
    assert sorted(f["path"] for f in report["files"]) == sorted(p.name for p in src.iterdir())


def test_shared_table_drops_triples_no_file_uses_any_more(tmp_path: Path) -> None:
    src, out, fresh = tmp_path / "src", tmp_path / "out", tmp_path / "fresh"
    write_tree(src, {f"c{i}.md": curation(f"c{i}", topics=(f"KLAS: Old {i}",)) for i in range(8)})
    export([src], out)
    for round_ in range(3):  # every topic replaced: the old ones are unused, then dropped
        write_tree(
            src, {f"c{i}.md": curation(f"c{i}", topics=(f"KLAS: New {round_} {i}",)) for i in range(8)}
        )
        assert_same_as_full_export(src, out, fresh)
        data = json.loads((out / MANIFEST_NAME).read_text())
        assert len(data["shared"]) == len(data["shared_refs"]) and 0 not in data["shared_refs"]
        fresh_table = json.loads((fresh / MANIFEST_NAME).read_text())["shared"]
        assert sorted(map(str, data["shared"])) == sorted(map(str, fresh_table))
    write_tree(src, {"c0.md": curation("c0", "Retitled", topics=("KLAS: New 2 0",))})
    report = assert_same_as_full_export(src, out, fresh)  # reuses rows of the renumbered table
    assert report.reuse is not None and report.reuse.reused == 7


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d["files"]["shared"].__setitem__(1, "x,y"),  # noticed only while seeding
        lambda d: d["files"]["shared"].__setitem__(1, "99999"),
        lambda d: d["files"]["problems"].__setitem__(0, [0, [{"no": "keys"}]]),  # while reusing it
    ],
)
def test_a_manifest_found_damaged_midway_means_starting_again_in_full(
    tmp_path: Path, damage: Callable[[dict[str, Any]], None]
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_tree(
        src, {"a.md": curation("a").replace("id: 1", "id: 1\ndate: 2021-02-30"), "b.md": curation("b")}
    )
    export([src], out)
    _edit_manifest(out, damage)
    write_tree(src, {"b.md": curation("b", "Edited")})  # a.md reused, b.md not
    report = assert_same_as_full_export(src, out, tmp_path / "fresh")
    assert report.why_full is not None and "damaged" in report.why_full
    assert export([src], out).why_full is None


def test_a_previous_output_cut_short_while_copying_means_starting_again_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(EXAMPLES, src)
    export([src], out)
    monkeypatch.setattr(blocks.os, "copy_file_range", lambda *args: 0)  # as if it ended early
    report = assert_same_as_full_export(src, out, tmp_path / "fresh")
    assert report.why_full is not None and "ended before the manifest said" in report.why_full


def _one_piece_manifest(data: dict[str, Any]) -> bytes:
    """The manifest as kg encoded it in one piece before it was streamed (the reference bytes)."""
    tail = tuple(
        k for k in ("graphs", "shared", "shared_refs", "files", "graph_blocks", "outputs") if k in data
    )
    head = {key: value for key, value in data.items() if key not in tail}
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    for name in tail:
        text += f',\n "{name}": ' + json.dumps(data[name], ensure_ascii=False, separators=(",", ":"))
    return (text + "\n}\n").encode("utf-8")


def test_manifest_columns_spilled_in_batches_give_the_one_piece_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-file columns go through temporary files a batch at a time (bounded memory); with
    batches of 3 rows, and the shared table renumbered, the manifest is the same bytes."""
    monkeypatch.setattr(columns.Column, "BATCH", 3)
    src, out, fresh = tmp_path / "src", tmp_path / "out", tmp_path / "fresh"
    write_tree(src, {f"c{i}.md": curation(f"c{i}", topics=(f"KLAS: Old {i}",)) for i in range(8)})
    warned = curation("w").replace("id: 1\n", "id: 1\ndate: not a date\n")
    write_tree(src, {"bad.md": "---\nmdName: [\n---\n", "page.md": "# no front matter\n", "w.md": warned})
    export([src], out)
    for round_ in range(2):  # every topic replaced: the table is renumbered
        write_tree(
            src, {f"c{i}.md": curation(f"c{i}", topics=(f"KLAS: New {round_} {i}",)) for i in range(8)}
        )
        assert_same_as_full_export(src, out, fresh)
        for folder in (out, fresh):
            raw = (folder / MANIFEST_NAME).read_bytes()
            data = json.loads(raw)
            assert len(data["files"]["path"]) == 11 and data["files"]["problems"]
            assert raw == _one_piece_manifest(data)


def test_report_json_written_in_pieces_is_json_dumps_of_the_report(tmp_path: Path) -> None:
    files = {f"c{i:04d}.md": curation(f"c{i}") for i in range(2100)}  # over two batches of rows
    files["bad.md"] = "---\nmdName: [\n---\n"
    write_tree(tmp_path / "src", files)
    report = export([tmp_path / "src"], tmp_path / "out", ["nquads"], jobs=1)
    expected = json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n"
    assert (tmp_path / "out" / REPORT_NAME).read_bytes() == expected.encode("utf-8")


def test_the_replaced_outputs_pages_are_dropped_once_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once nothing more is copied from the previous outputs, the kernel is told to drop their
    cached pages (in a thread), so freeing them at close costs less; the new outputs are untouched."""
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(EXAMPLES, src)
    export([src], out, jobs=1)
    old = {name: os.stat(out / name).st_ino for name in FORMATS.values()}
    advised: list[tuple[int, int, int, int]] = []
    real = os.posix_fadvise

    def record(fd: int, offset: int, length: int, advice: int) -> None:
        advised.append((os.fstat(fd).st_ino, offset, length, advice))
        real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", record)
    victim = sorted(src.glob("*.md"))[0]
    victim.write_text(victim.read_text() + "\nedited\n")
    report = assert_same_as_full_export(src, out, tmp_path / "fresh", jobs=1)
    assert report.reuse.processed == 1
    dropped = [(ino, at, length) for ino, at, length, advice in advised if advice == os.POSIX_FADV_DONTNEED]
    assert sorted(dropped) == sorted((ino, 0, 0) for ino in old.values())
    assert all(os.stat(out / name).st_ino != ino for name, ino in old.items())  # replaced


def test_a_reused_files_problems_stay_on_its_own_row(tmp_path: Path) -> None:
    """Field problems of reused files are carried over row by row: a run of reused files
    without problems gets none, whatever problems other rows have."""
    src, out, fresh = tmp_path / "src", tmp_path / "out", tmp_path / "fresh"
    warned = curation("a").replace("id: 1\n", "id: 1\ndate: not a date\n")
    write_tree(src, {"a.md": warned, **{f"{n}.md": curation(n) for n in "bcde"}})
    export([src], out)
    write_tree(src, {"c.md": curation("c", title="Edited")})  # runs: [a, b], c processed, [d, e]
    report = assert_same_as_full_export(src, out, fresh)
    assert report.reuse is not None and report.reuse.processed == 1
    problems = [json.loads((d / MANIFEST_NAME).read_bytes())["files"]["problems"] for d in (out, fresh)]
    assert problems[0] == problems[1] and [row for row, _ in problems[0]] == [0]


def test_each_output_is_written_by_one_of_two_io_threads_balanced_by_size() -> None:
    """N-Quads, the largest, gets a thread of its own; the other three share the second. Every
    job of one output goes to the same thread, so its writes stay in order."""
    lanes = blocks._lanes(["turtle", "jsonld", "ntriples", "nquads"], 2)
    assert lanes["nquads"] != lanes["ntriples"] == lanes["jsonld"] == lanes["turtle"]
    assert set(blocks._lanes(["turtle", "nquads"], 2).values()) == {0, 1}
    assert blocks._lanes(["nquads"], 2) == {"nquads": 0}
    assert set(blocks._lanes(["turtle", "jsonld", "ntriples", "nquads"], 1).values()) == {0}


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """An edit of the manifest setting the item at `path` ("files.graph.2") to `value`."""

    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[int(key)] if isinstance(data, list) else data[key]  # type: ignore[assignment]
        data[int(last) if isinstance(data, list) else last] = value  # type: ignore[index]

    return edit


#: Structural damage, each with the place the message names.
STRUCTURE: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "a graph IRI that is a number": (_set("files.graph.2", 5), "files.graph[2]"),
    "a path that is null": (_set("files.path.0", None), "files.path[0]"),
    "a count that is a string": (_set("files.own.1", "39"), "files.own[1]"),
    "a block that is a string": (_set("files.nquads.3", "0-100"), "files.nquads[3]"),
    "a block of three numbers": (_set("files.turtle.0", [0, 1, 2]), "files.turtle[0]"),
    "a negative offset": (_set("files.jsonld.1", [-5, 10]), "files.jsonld[1]"),
    "a stamp of booleans": (_set("files.stamp.0", [True, True, True, True]), "files.stamp[0]"),
    "a missing column": (lambda d: d["files"].pop("digest"), "files.digest"),
    "a short column": (lambda d: d["files"]["status"].pop(), "files.status"),
    "problems of a row that does not exist": (_set("files.problems", [[99, []]]), "files.problems[0]"),
    "a digest that is a list": (lambda d: d["graphs"].update({GRAPH + "x": ["a"]}), "graphs["),
    "an export id that is a number": (_set("export", 12), "export"),
    "changes that are a list": (_set("changes", []), "changes"),
    "a removed graph that is a number": (_set("changes.removed", [1]), "changes.removed"),
    "an output without its size": (
        lambda d: d["outputs"].update({"curations.nq": {"mtime_ns": 1}}),
        "outputs[",
    ),
    "a shared triple of two terms": (_set("shared.0", ["a", "b"]), "shared[0]"),
    "a count per shared triple missing": (lambda d: d["shared_refs"].pop(), "shared_refs"),
}


@pytest.mark.parametrize("damage", STRUCTURE)
def test_a_structurally_damaged_manifest_is_ignored_by_export_and_refused_by_sync(
    tmp_path: Path, damage: str
) -> None:
    """Export: a warning naming the file and the place, then a full export (exit 0); sync: exit 2
    with the same message. Never a traceback, never an internal error."""
    edit, place = STRUCTURE[damage]
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(EXAMPLES, src)
    export([src], out)
    _edit_manifest(out, edit)
    mtime = (out / MANIFEST_NAME).stat().st_mtime_ns
    runner = CliRunner()
    load = runner.invoke(main, ["load", str(out), "--store", str(tmp_path / "store")])
    assert load.exit_code == 2, load.output
    assert f"{MANIFEST_NAME} is damaged: {place}" in load.stderr and "Traceback" not in load.stderr
    assert (out / MANIFEST_NAME).stat().st_mtime_ns == mtime  # (untouched by the sync)
    result = runner.invoke(main, ["export", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"WARNING: {out / MANIFEST_NAME} is damaged: {place}" in result.stderr
    assert "every file exported again" in result.stderr and "internal error" not in result.stderr
    export([src], tmp_path / "fresh")
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
    assert export([src], out).why_full is None  # the manifest written is whole again


def test_a_manifest_that_is_a_fifo_is_not_opened(tmp_path: Path) -> None:
    """A FIFO in place of the manifest: `kg export` used to wait forever for a writer."""
    import subprocess
    import sys

    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(EXAMPLES, src)
    export([src], out)
    (out / MANIFEST_NAME).unlink()
    os.mkfifo(out / MANIFEST_NAME)
    errors: list[incremental.ManifestError] = []

    def read() -> None:  # in a thread: opening the FIFO would block until a writer comes
        for reader in (incremental.read_manifest, Manifest):
            try:
                reader(out)
            except incremental.ManifestError as exc:
                errors.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the manifest reader waits on the FIFO"
    assert [str(e) for e in errors] == [
        f"{MANIFEST_NAME} is not a regular file (a FIFO)",
        f"{out}: {MANIFEST_NAME} is not a regular file (a FIFO)",
    ]
    assert errors[0].damaged
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "export", str(src), "-o", str(out)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"WARNING: {out / MANIFEST_NAME} is not a regular file (a FIFO)" in done.stderr
    export([src], tmp_path / "fresh")
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
    assert (out / MANIFEST_NAME).is_file()  # replaced by the export's manifest
