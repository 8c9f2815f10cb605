"""Incremental export: the manifest of the last export, reuse of unchanged files, the change record.

`kg export` writes `.kg-manifest.json` into the output folder with its other outputs (staged
and renamed with them, before `report.json`). It records, for every input file, the sha256 of
its bytes, its report row, its graph IRI and a digest of that graph's triples, and where the
file's block lies (byte offset and length) in each output file; plus what the outputs depend on
(kg version, a digest of kg's code, the settings) and the size and modification time of each output
file it describes.

The manifest also records each file's stamp (size, mtime, ctime, inode) as it was read. The
next export compares every source file's stamp with the recorded one and reads and hashes only
the files whose stamp differs (git's index works the same way): any write to a file changes its
mtime and ctime, and ctime cannot be set back by hand. A stamp is recorded only when the file
was last changed at least `TRUST_MARGIN_NS` before the export began, so a file written in the
same clock tick as it was read (after the read) is never trusted on its stamp: it is hashed.

When the manifest is usable (same fingerprint, output files untouched since), a file whose path
and stamp or hash are unchanged is not parsed again: its blocks are copied from the previous
output files and its report row and shared triples come from the manifest. Only added and
changed files are processed; removed files simply do not appear. The outputs are byte-identical
to a full export, because a file's blocks depend only on its bytes, its relative path and the
settings, and the shared nodes and the report are rebuilt from all files every time.

The change record (`changes` in the manifest) lists the graph IRIs added, changed and removed
since the previous export, for `kg load` to send only those; see docs/export.md, "Guarantees".
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import queue
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import yaml

from kg import __version__
from kg.errors import KgError
from kg.model import ParseResult, Problem
from kg.rdf.terms import Lit, Triple
from kg.read.sources import ReadError, SourceFile, Stamp, read_stamped, stamp_of
from kg.resources import context_path
from kg.write.formats import JSONLD_SEPARATOR, OutputStreams

if TYPE_CHECKING:
    from kg.pipeline.export import FileOutcome

MANIFEST_NAME = ".kg-manifest.json"
MANIFEST_FORMAT = 2
#: A file changed less than this before an export began gets no stamp in its manifest (file
#: times come from a coarse clock, 1-2 s on some filesystems): the next export hashes it.
TRUST_MARGIN_NS = 2_000_000_000
_clock = time.time_ns  # (tests set the clock)

_PACKAGE = Path(__file__).resolve().parent.parent  # the kg package


@lru_cache(maxsize=1)
def code_digest() -> str:
    """sha256 of kg's own code and JSON-LD context: any edit invalidates every reused block.

    The version number alone is not enough: a checkout at the same version with edited
    mapping code must not reuse blocks rendered by the old code.
    """
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(context_path().read_bytes())
    return digest.hexdigest()


def fingerprint(settings: Mapping[str, object]) -> dict[str, Any]:
    """Everything a rendered block depends on besides the file's bytes and relative path.

    Returned as it reads back from JSON (lists, not tuples), so it compares equal to the copy
    in the manifest.
    """
    parts = {
        "kg_version": __version__,
        "code": code_digest(),
        "environment": {
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "pyyaml": yaml.__version__,
        },
        "settings": dict(settings),
    }
    loaded: dict[str, Any] = json.loads(json.dumps(parts))
    return loaded


def graph_digest(graph: str, lines: list[str]) -> str:
    """sha256 of one file's graph: its IRI and its N-Triples lines (own, then shared)."""
    digest = hashlib.sha256(graph.encode("utf-8") + b"\n")
    digest.update("".join(lines).encode("utf-8"))
    return digest.hexdigest()


def export_id(graphs: list[tuple[str, str]]) -> str:
    """An export's identity: sha256 of its graph IRIs and digests. Same graphs, same id.

    `graphs` is the sorted list of (graph IRI, digest); the hash is that of `json.dumps(graphs)`,
    fed a batch of items at a time.
    """
    digest = hashlib.sha256(b"[")
    items = iter(graphs)
    first = True
    while batch := list(islice(items, 4096)):
        digest.update((json.dumps(batch)[1:-1] if first else ", " + json.dumps(batch)[1:-1]).encode("utf-8"))
        first = False
    digest.update(b"]")
    return digest.hexdigest()


def _stat(info: os.stat_result) -> dict[str, int]:
    """What identifies an output file as the one the manifest describes.

    Size and modification time, not the inode: a copy that keeps times (`cp -a`, `rsync -a`, a
    restored backup) stays usable. An output edited by hand, or written by an export killed
    before it could rename the manifest, has another modification time.
    """
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


#: The per-file columns of the manifest's `files` table (one list per key, one item per file).
COLUMNS = ("path", "sha256", "stamp", "status", "reason", "graph", "digest", "own", "quads", "shared")


class ManifestError(KgError):
    """No usable manifest in an output folder; the message says why.

    `damaged`: there is a manifest, but it cannot be read or is not what kg writes (an export
    warns and ignores it; a sync refuses it), as opposed to none, or one of another format.
    """

    def __init__(self, message: str, damaged: bool = False) -> None:
        super().__init__(message)
        self.damaged = damaged


def read_manifest(out_dir: Path) -> dict[str, Any]:
    """The manifest of the last export into `out_dir`; raises `ManifestError` when there is none.

    Only a regular file is opened (a FIFO in its place would block the reader forever), and
    its whole structure is checked (`check_manifest`), so every reader can trust the types.
    """
    path = out_dir / MANIFEST_NAME
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ManifestError(f"{MANIFEST_NAME} is not a regular file ({_kind(path)})", damaged=True)
        # O_NONBLOCK: replaced by a FIFO since the stat, it is not waited for (and refused below)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ManifestError("no manifest of a previous export") from None
    except OSError as exc:
        raise ManifestError(f"{MANIFEST_NAME} cannot be read ({exc.strerror or exc})", damaged=True) from None
    try:
        with open(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ManifestError(f"{MANIFEST_NAME} is not a regular file", damaged=True)
            manifest = json.loads(handle.read())
    except OSError as exc:
        raise ManifestError(f"{MANIFEST_NAME} cannot be read ({exc.strerror or exc})", damaged=True) from None
    except ValueError as exc:
        raise ManifestError(f"{MANIFEST_NAME} is damaged: not JSON ({exc})", damaged=True) from None
    if not isinstance(manifest, dict) or manifest.get("kg_manifest") != MANIFEST_FORMAT:
        raise ManifestError("the manifest is of another format")
    problem = check_manifest(manifest)
    if problem is not None:
        raise ManifestError(f"{MANIFEST_NAME} is damaged: {problem}", damaged=True)
    return manifest


def _kind(path: Path) -> str:
    mode = os.stat(path).st_mode
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "a device")


def _json_kind(value: object) -> str:
    """How a JSON value is called in a message: `5 (a number)`."""
    kind = {
        type(None): "null",
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
    shown = json.dumps(value)
    return kind if len(shown) > 40 else f"{shown} ({kind})"


_NONE = type(None)
#: The per-file columns' item types as the manifest's readers use them.
_COLUMN_TYPES: dict[str, tuple[set[type], str]] = {
    "path": ({str}, "a string"),
    "sha256": ({str, _NONE}, "a string or null"),
    "status": ({str}, "a string"),
    "reason": ({str, _NONE}, "a string or null"),
    "graph": ({str, _NONE}, "a string or null"),
    "digest": ({str, _NONE}, "a string or null"),
    "own": ({int}, "a number"),
    "quads": ({int}, "a number"),
    "shared": ({str}, "a string"),
}
#: Output format columns of `files`: [offset, length] of each file's block, or null.
_FORMAT_COLUMNS = ("turtle", "jsonld", "ntriples", "nquads")


def _ints(value: object, count: int) -> bool:
    """`value` is a list of `count` non-negative integers (not booleans)."""
    return type(value) is list and len(value) == count and all(type(n) is int and n >= 0 for n in value)


def check_manifest(manifest: dict[str, Any]) -> str | None:
    """What is structurally wrong in `manifest` (a JSON object of format 2), or None.

    Checks every part a reader uses, with its type, down to each item of the per-file columns
    (~15 ms for 10k files), so that a damaged manifest is refused when read, with the place
    named (`files.graph[2] is 5 (a number), expected a string or null`), instead of making
    a reader fail later with a traceback. The values of `files.shared` (strings of indices into
    `shared`, ~1 MB at 10k files: a regular expression over them took 80 ms) are checked where
    they are parsed (`Previous.seed`, `_renumbered`), which raise a `ManifestError` too.
    """

    def wrong(where: str, value: object, expected: str) -> str:
        return f"{where} is {_json_kind(value)}, expected {expected}"

    for key, kind, expected in (
        ("export", str, "a string"),
        ("graphs", dict, "an object"),
        ("changes", dict, "an object"),
        ("settings", dict, "an object"),
        ("outputs", dict, "an object"),
        ("files", dict, "an object"),
        ("shared", list, "a list"),
        ("shared_refs", list, "a list"),
    ):
        if key not in manifest:
            return f"{key} is missing"
        if type(manifest[key]) is not kind:
            return wrong(key, manifest[key], expected)
    for graph, digest in manifest["graphs"].items():
        if type(digest) is not str:
            return wrong(f"graphs[{json.dumps(graph)}]", digest, "a string")
    changes = manifest["changes"]
    for key in ("added", "changed", "removed"):
        value = changes.get(key, [])
        if type(value) is not list or not all(type(g) is str for g in value):
            return wrong(f"changes.{key}", value, "a list of strings")
    if type(changes.get("from")) not in (str, _NONE):
        return wrong("changes.from", changes.get("from"), "a string or null")
    for name, info in manifest["outputs"].items():
        if type(info) is not dict or not all(type(info.get(k)) is int for k in ("size", "mtime_ns")):
            return wrong(f"outputs[{json.dumps(name)}]", info, "an object with size and mtime_ns")
    shared, refs = manifest["shared"], manifest["shared_refs"]
    for i, triple in enumerate(shared):
        if not (
            type(triple) is list
            and len(triple) == 3
            and type(triple[0]) is str
            and type(triple[1]) is str
            and (
                type(triple[2]) is str
                or (
                    type(triple[2]) is list
                    and 1 <= len(triple[2]) <= 3
                    and all(type(part) is str for part in triple[2])
                )
            )
        ):
            return wrong(f"shared[{i}]", triple, "[subject, predicate, object]")
    if len(refs) != len(shared) or set(map(type, refs)) - {int}:
        return "shared_refs does not match shared (one count per shared triple)"
    return _check_files(manifest["files"], wrong)


def _check_files(files: dict[str, Any], wrong: Callable[[str, object, str], str]) -> str | None:
    """`check_manifest` for the per-file table `files`."""
    for key in (*COLUMNS, "problems"):
        if key not in files:
            return f"files.{key} is missing"
        if type(files[key]) is not list:
            return wrong(f"files.{key}", files[key], "a list")
    count = len(files["path"])
    formats = [name for name in _FORMAT_COLUMNS if name in files]
    for key in (*COLUMNS, *formats):
        column = files[key]
        if type(column) is not list:
            return wrong(f"files.{key}", column, "a list")
        if len(column) != count:
            return f"files.{key} has {len(column)} items, files.path {count}"
    for key, (types, expected) in _COLUMN_TYPES.items():
        column = files[key]
        if set(map(type, column)) - types:
            i = next(i for i, value in enumerate(column) if type(value) not in types)
            return wrong(f"files.{key}[{i}]", column[i], expected)
    lists = [("stamp", 4, "[size, mtime, ctime, inode] or null")]
    lists += [(name, 2, "[offset, length] or null") for name in formats]
    for key, size, expected in lists:
        if not _all_int_lists(files[key], size):
            i, value = next((i, v) for i, v in enumerate(files[key]) if v is not None and not _ints(v, size))
            return wrong(f"files.{key}[{i}]", value, expected)
    for n, item in enumerate(files["problems"]):
        if not (
            type(item) is list
            and len(item) == 2
            and type(item[0]) is int
            and 0 <= item[0] < count
            and type(item[1]) is list
            and all(type(problem) is dict for problem in item[1])
        ):
            return wrong(f"files.problems[{n}]", item, "[row, [problem, ...]]")
    return None


def _all_int_lists(column: list[Any], size: int) -> bool:
    """Every item of `column` is null or a list of `size` non-negative integers (`_ints`).

    Checked with C loops (map, set, chain): a Python loop over the items took ~25 ms per
    10k-file column, and an incremental export of 10k files checks five such columns.
    """
    present = [value for value in column if value is not None]
    if set(map(type, present)) - {list} or set(map(len, present)) - {size}:
        return False
    numbers = list(chain.from_iterable(present))
    return not set(map(type, numbers)) - {int} and (not numbers or min(numbers) >= 0)



class Previous:
    """The last export in an output folder, as its manifest describes it.

    `graphs` and `export` are known whenever the manifest could be read (for the change
    record); `reusable` says whether its blocks may be reused, and `why_not` why not.
    """

    def __init__(
        self,
        out_dir: Path,
        parts: Mapping[str, object],
        formats: tuple[str, ...],
        names: Mapping[str, str],
    ) -> None:
        self.graphs: dict[str, str] = {}
        self.export: str | None = None
        self.reusable = False
        self.why_not = ""
        self.files: dict[str, list[Any]] = {}
        self.problems: dict[int, list[dict[str, Any]]] = {}
        self.shared: list[Triple] = []  # the table of shared triples files refer to by index
        self.refs: list[int] = []  # how many files refer to each (see `seed`)
        self.index: dict[str, int] = {}
        self.fds: dict[str, int] = {}  # the previous output files, open for copying
        self._releasing: threading.Thread | None = None  # see `release_cache`
        self.damage: str | None = None  # what is wrong with a damaged manifest (it is ignored)
        try:
            manifest = read_manifest(out_dir)
        except ManifestError as exc:
            self.why_not = str(exc)
            self.damage = str(exc) if exc.damaged else None
            return
        try:
            why_not = self._load(manifest, out_dir, parts, formats, names)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            why_not = self.damage = f"{MANIFEST_NAME} is damaged: {type(exc).__name__}: {exc}"
            self.graphs, self.export = {}, None
        except OSError as exc:
            why_not = f"cannot read the previous {exc.filename}: {exc.strerror}"
        self.why_not = why_not or ""
        self.reusable = why_not is None

    def _load(
        self,
        manifest: dict[str, Any],
        out_dir: Path,
        parts: Mapping[str, object],
        formats: tuple[str, ...],
        names: Mapping[str, str],
    ) -> str | None:
        """Take in `manifest`; returns why its outputs cannot be reused, or None when they can.

        Raises KeyError, TypeError, ValueError or IndexError when it is not what kg wrote.
        """
        graphs, export = manifest["graphs"], manifest["export"]
        if not isinstance(graphs, dict) or not isinstance(export, str):
            raise TypeError("graphs or export")
        self.graphs, self.export = dict(graphs), export
        changed = [key for key, value in parts.items() if manifest.get(key) != value]
        if changed:
            return f"{', '.join(changed)} changed since the last export"
        sizes = {}
        for name in formats:
            fd = self.fds[name] = os.open(out_dir / names[name], os.O_RDONLY)
            info = os.fstat(fd)
            if manifest["outputs"].get(names[name]) != _stat(info):
                return f"{names[name]} is not the file the manifest describes"
            sizes[name] = info.st_size
        files = manifest["files"]
        count = len(files["path"])
        if any(len(files[key]) != count for key in (*COLUMNS, *formats)):
            raise ValueError("columns of different lengths")
        for name in formats:
            if any(r is not None and not 0 <= r[0] <= r[0] + r[1] <= sizes[name] for r in files[name]):
                raise ValueError(f"a block outside {names[name]}")
        self.files = files
        self.problems = {i: problems for i, problems in files["problems"]}
        self.shared = [(s, p, o if isinstance(o, str) else Lit(*o)) for s, p, o in manifest["shared"]]
        self.refs = list(manifest["shared_refs"])
        if len(self.refs) != len(self.shared) or not all(isinstance(n, int) for n in self.refs):
            raise ValueError("shared_refs does not match shared")
        self.index = {path: i for i, path in enumerate(files["path"])}
        return None

    def unchanged(self, source: SourceFile) -> Stamp:
        """The file's stamp when `source` has the path and bytes of a reusable file, else None.

        The bytes are read and hashed only when the file's stamp is not the recorded one but
        its size is (a file touched, copied or checked out again with the same bytes).
        """
        i = self.index.get(source.relative)
        if i is None or self.files["sha256"][i] is None:
            return None
        recorded = self.files["stamp"][i]
        if recorded is not None and source.error is None:
            try:
                info = os.stat(source.path)
            except OSError:
                return None  # processed again: the worker reports why it cannot be read
            now = stamp_of(info)
            if stat.S_ISREG(info.st_mode) and list(now) == recorded:
                return now
            if info.st_size != recorded[0]:
                return None  # other bytes for sure: not read here, the worker reads it
        try:
            data, stamp = read_stamped(source)
        except ReadError:
            return None  # processed again: the worker reports why it cannot be read
        return stamp if hashlib.sha256(data).hexdigest() == self.files["sha256"][i] else None

    def outcome(self, path: str, stamp: Stamp) -> FileOutcome:
        """The file's outcome rebuilt from the manifest: `reused` is its row, no blocks are read.

        Its `shared` triples are left out: `outcomes` adds those of all reused files at once.
        """
        from kg.pipeline.export import FileOutcome

        i = self.index[path]
        files = self.files
        problems = [Problem(path, **p) for p in self.problem_rows(i, path)]
        return FileOutcome(
            ParseResult(path, files["status"][i], reason=files["reason"][i], problems=problems),
            files["graph"][i],
            own=files["own"][i],
            sha256=files["sha256"][i],
            digest=files["digest"][i],
            quads=files["quads"][i],
            reused=i,
            stamp=stamp,
        )

    def problem_rows(self, i: int, path: str) -> list[dict[str, Any]]:
        """Row `i`'s field problems as report rows hold them (`PROBLEM_KEYS`, in that order)."""
        try:
            return [{key: p[key] for key in PROBLEM_KEYS} for p in self.problems.get(i, ())]
        except (KeyError, TypeError) as exc:
            damage = f"{MANIFEST_NAME} is damaged: problems of {path}: {exc}"
            raise ManifestError(damage, damaged=True) from None

    def seed(self, reused: set[int]) -> set[Triple]:
        """The shared triples of the `reused` rows; their counts in `refs` stay, others go.

        Each row stores its table indices as text ("3,17,42"), parsed only for the rows not
        reused (changed and removed files): `refs` minus their references says which shared
        triples the reused files still need, without reading the other 99%.
        """
        refs = self.refs
        try:
            for row, indices in enumerate(self.files["shared"]):
                if indices and row not in reused:
                    for i in indices.split(","):
                        refs[int(i)] -= 1
        except (AttributeError, ValueError, IndexError) as exc:
            raise ManifestError(f"{MANIFEST_NAME} is damaged: shared: {exc}", damaged=True) from None
        return {triple for triple, count in zip(self.shared, refs, strict=True) if count > 0}

    def release_cache(self) -> None:
        """Drop the previous outputs' pages from the page cache, in a thread, once nothing more
        is copied from them.

        Replaced by the new outputs, they are freed when closed, and the kernel then drops their
        pages in the closing thread (~45 ms of the ~135 ms close of 340 MB at 10k files). Dropped
        here, while the outputs are finished and flushed to disk, the close frees the blocks
        only. The files stay whole on disk (clean pages are dropped, nothing is written), so a
        crash still leaves them as they were.
        """
        if self.fds and self._releasing is None and hasattr(os, "posix_fadvise"):
            fds = list(self.fds.values())
            self._releasing = threading.Thread(target=_drop_cache, args=(fds,), name="kg-release")
            self._releasing.start()

    def close(self) -> None:
        if self._releasing is not None:
            self._releasing.join()
            self._releasing = None
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


#: The keys of a problem in a report row, in order (see `kg.pipeline.export._row`).
PROBLEM_KEYS = ("field", "message", "value", "severity")
#: Most files in one `ReusedRun` (its rows are held in memory until written).
RUN_MAX = 2048


@dataclass(slots=True)
class ReusedRun:
    """Consecutive files reused from consecutive rows of the previous manifest.

    Handled as one item: their blocks are contiguous in the previous outputs (one copy per
    format) and their report and manifest rows are taken from the previous manifest's columns,
    so a re-export spends almost nothing per unchanged file.
    """

    previous: Previous
    files: list[SourceFile]
    rows: list[int]
    stamps: list[Stamp]

    def outcomes(self) -> list[FileOutcome]:
        """One outcome per file, as `Previous.outcome` rebuilds it (for per-file handling)."""
        return [self.previous.outcome(f.relative, s) for f, s in zip(self.files, self.stamps, strict=True)]

    def report_rows(self) -> list[dict[str, Any]]:
        """The files' rows of `report.json`, as `kg.pipeline.export._row` makes them."""
        files, problems = self.previous.files, self.previous.problems
        status, reason = files["status"], files["reason"]
        rows: list[dict[str, Any]] = []
        for f, i in zip(self.files, self.rows, strict=True):
            row: dict[str, Any] = {"path": f.relative, "status": status[i], "reason": reason[i]}
            if i in problems:
                row["problems"] = self.previous.problem_rows(i, f.relative)
            rows.append(row)
        return rows

    def totals(self) -> tuple[int, int]:
        """(own triples, quads) of the files' graphs."""
        files = self.previous.files
        graphs, own, quads = files["graph"], files["own"], files["quads"]
        with_graph = [i for i in self.rows if graphs[i] is not None]
        return sum(own[i] for i in with_graph), sum(quads[i] for i in with_graph)


def outcomes(
    files: list[SourceFile],
    previous: Previous | None,
    produce: Callable[[list[SourceFile]], Iterator[FileOutcome]],
    shared: set[Triple],
    counts: Reuse,
) -> Iterator[FileOutcome | ReusedRun]:
    """Outcomes in the order of `files`: reused where path and stamp or hash match, else `produce`d.

    Reused files come in `ReusedRun`s. Every file's stamp is compared first (see the module's
    docstring); the added and changed ones are then processed together (in the worker pool
    when there are many). The shared triples of the reused files are added to `shared`
    (their outcomes carry none, which saves hashing ~300k tuples).
    """
    if previous is None or not previous.reusable:
        counts.processed = len(files)
        yield from produce(files)
        return
    stamps = [previous.unchanged(f) for f in files]  # None: to be processed
    fresh = produce([f for f, stamp in zip(files, stamps, strict=True) if stamp is None])
    index = previous.index
    rows = [-1 if stamp is None else index[f.relative] for f, stamp in zip(files, stamps, strict=True)]
    reused = {row for row in rows if row >= 0}
    shared.update(previous.seed(reused))
    counts.reused, counts.processed = len(reused), len(files) - len(reused)
    run: ReusedRun | None = None
    for f, stamp, row in zip(files, stamps, rows, strict=True):
        if stamp is None:
            if run is not None:
                yield run
                run = None
            yield next(fresh)
            continue
        if run is not None and run.rows[-1] + 1 == row and len(run.rows) < RUN_MAX:
            run.files.append(f)
            run.rows.append(row)
            run.stamps.append(stamp)
        else:
            if run is not None:
                yield run
            run = ReusedRun(previous, [f], [row], [stamp])
    if run is not None:
        yield run


@dataclass(slots=True)
class Reuse:
    """How many files were reused from the previous export and how many were processed."""

    reused: int = 0
    processed: int = 0


class _Column:
    """One per-file column of the manifest, spilled to an unnamed temporary file as it grows.

    Values are kept in memory in batches of `BATCH`; each full batch is written as one line,
    the JSON text of the batch without its brackets (JSON text holds no raw newline). Written
    back, the lines joined by "," are exactly `json.dumps(column, separators=(",", ":"))`, so
    the parent's memory for the manifest does not grow with the number of files.
    """

    BATCH = 16384  # (~6 MB of a full export's values; a 10k-file export spills nothing)

    def __init__(self, spill_dir: str | None) -> None:
        self.spill_dir = spill_dir
        self.batch: list[Any] = []
        self.spill: IO[bytes] | None = None

    def extend(self, values: Iterable[Any]) -> None:
        self.batch.extend(values)
        if len(self.batch) >= self.BATCH:
            self._spill()

    def _spill(self) -> None:
        if not self.batch:
            return
        if self.spill is None:
            # no name (O_TMPFILE on Linux); closed by `close` or, on an error, with the Recorder
            self.spill = tempfile.TemporaryFile(dir=self.spill_dir)  # noqa: SIM115
        self.spill.write(_dumps(self.batch)[1:-1].encode("utf-8") + b"\n")
        self.batch = []

    def batches(self) -> Iterator[list[Any]]:
        """The column's values, batch by batch, in order."""
        if self.spill is not None:
            self.spill.seek(0)
            for line in self.spill:
                yield json.loads(b"[" + line[:-1] + b"]")
        if self.batch:
            yield self.batch

    def write(self, handle: IO[bytes]) -> None:
        """Write the column as a JSON array (compact separators)."""
        handle.write(b"[")
        first = True
        if self.spill is not None:
            self.spill.flush()
            self.spill.seek(0)
            for line in self.spill:
                handle.write(line[:-1] if first else b"," + line[:-1])
                first = False
        if self.batch:
            text = _dumps(self.batch)[1:-1].encode("utf-8")
            handle.write(text if first else b"," + text)
        handle.write(b"]")

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
            self.spill = None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _write_items(handle: IO[bytes], items: Iterable[Any], open_: str, close: str, batch: int = 4096) -> None:
    """Write `items` as `json.dumps` would write the list (`[]`) or dict (`{}`) of them, compactly,
    a batch at a time (`items` of a dict are (key, value) pairs)."""
    handle.write(open_.encode())
    first = True
    it = iter(items)
    while chunk := list(islice(it, batch)):
        text = _dumps(dict(chunk) if open_ == "{" else chunk)[1:-1].encode("utf-8")
        handle.write(text if first else b"," + text)
        first = False
    handle.write(close.encode())


class Recorder:
    """Collects the manifest's row of every file as its outcome is written.

    The per-file columns are spilled to unnamed temporary files in `spill_dir` (see `_Column`).
    """

    def __init__(
        self, handles: Mapping[str, IO[bytes]], previous: Previous | None, spill_dir: str | None = None
    ) -> None:
        self.handles = handles
        self.previous = previous if previous is not None and previous.reusable else None
        self.files: dict[str, _Column] = {key: _Column(spill_dir) for key in (*COLUMNS, *handles)}
        self._rows: list[tuple[Any, ...]] = []  # the last rows, not yet handed to the columns
        self._count = 0
        self.problems: list[tuple[int, list[dict[str, Any]]]] = []
        self.graphs: dict[str, str] = {}
        # the previous table is kept in its order, so a reused file's indices stay valid, and
        # its counts (`refs`, the same list, which `Previous.seed` adjusts before any `add`)
        old = self.previous.shared if self.previous is not None else []
        self.shared: dict[Triple, int] = {t: i for i, t in enumerate(old)}
        self.refs: list[int] = self.previous.refs if self.previous is not None else []
        self.trusted_before = _clock() - TRUST_MARGIN_NS  # see the module's docstring

    def add(self, outcome: FileOutcome, ranges: Mapping[str, list[int]]) -> None:
        """Record `outcome`; `ranges` gives [offset, length] of its block in each output (if any)."""
        result = outcome.result
        reusable = outcome.sha256 is not None and not (result.reason or "").startswith("internal error")
        if result.problems:
            self.problems.append((self._count, _row_of(result)["problems"]))
        if outcome.reused is not None and self.previous is not None:  # reused: same table indices
            shared = self.previous.files["shared"][outcome.reused]
        else:
            index, refs = self.shared, self.refs
            indices = [index.setdefault(t, len(index)) for t in outcome.shared]
            refs.extend([0] * (len(index) - len(refs)))
            for i in indices:
                refs[i] += 1
            shared = ",".join(map(str, indices))
        self._rows.append(
            (
                result.path,
                outcome.sha256 if reusable else None,  # None: read again next time
                self._trusted(outcome.stamp) if reusable else None,
                result.status,
                result.reason,
                outcome.graph,
                outcome.digest or None,
                outcome.own,
                outcome.quads,
                shared,
                *(ranges.get(name) for name in self.handles),
            )
        )
        self._count += 1
        if len(self._rows) >= _Column.BATCH:
            self._to_columns()
        if outcome.graph is not None:
            self._add_graph(outcome.graph, outcome.digest)

    def add_run(self, run: ReusedRun, ranges: Mapping[str, list[list[int] | None]]) -> None:
        """Record the files of `run`; `ranges` gives, per output, each file's block (or None).

        The run's rows are consecutive in the previous manifest: each column is extended by a
        slice of the previous one (the paths are the same strings, so they are taken from
        `run.files`, which the report shares).
        """
        self._to_columns()
        files, problems = run.previous.files, run.previous.problems
        first, count = run.rows[0], len(run.rows)
        if run.rows[-1] != first + count - 1:
            raise ValueError("the rows of a run are not consecutive")
        rows = slice(first, first + count)
        for row in range(first, first + count):
            if row in problems:
                self.problems.append((self._count + row - first, problems[row]))
        for key, column in self.files.items():
            if key == "path":
                column.extend(f.relative for f in run.files)
            elif key == "stamp":
                column.extend(map(self._trusted, run.stamps))
            elif key in ranges:
                column.extend(ranges[key])
            else:
                column.extend(files[key][rows])
        self._count += count
        for graph, digest in zip(files["graph"][rows], files["digest"][rows], strict=True):
            if graph is not None:
                self._add_graph(graph, digest)

    def _add_graph(self, graph: str, digest: str) -> None:
        previous = self.graphs.get(graph)
        # a graph IRI made by more than one file (a duplicated mdName): digest of the digests
        self.graphs[graph] = (
            digest if previous is None else hashlib.sha256((previous + digest).encode()).hexdigest()
        )

    def _trusted(self, stamp: Stamp) -> list[int] | None:
        """`stamp` as the manifest records it, or None when it was changed too recently."""
        if stamp is None or max(stamp[1], stamp[2]) >= self.trusted_before:
            return None
        return list(stamp)

    def _to_columns(self) -> None:
        if self._rows:
            for column, values in zip(self.files.values(), zip(*self._rows, strict=True), strict=True):
                column.extend(values)
            self._rows = []

    def write_manifest(
        self,
        handle: IO[bytes],
        parts: Mapping[str, object],
        previous: Previous | None,
        why_full: str | None,
    ) -> None:
        """Write the manifest JSON to `handle`, piece by piece, all but its "outputs".

        That needs the outputs complete (`finish_manifest`); the rest is written while the I/O
        threads still copy blocks.
        """
        self._to_columns()
        graphs = sorted(self.graphs.items())  # (for the id and the manifest's "graphs")
        export = export_id(graphs)
        old = previous.graphs if previous is not None else {}
        head = {
            "kg_manifest": MANIFEST_FORMAT,
            **parts,
            "mode": "full" if why_full else "incremental",
            "why_full": why_full,
            "export": export,
            "changes": {
                "from": previous.export if previous is not None else None,
                "to": export,
                "added": sorted(g for g in self.graphs if g not in old),
                "changed": sorted(g for g, d in self.graphs.items() if g in old and old[g] != d),
                "removed": sorted(g for g in old if g not in self.graphs),
                "unchanged": sum(1 for g, d in self.graphs.items() if old.get(g) == d),
            },
        }
        # the head as json.dumps(indent=1) writes it, less its closing "\n}", a batch of chunks at a time
        chunks = json.JSONEncoder(ensure_ascii=False, indent=1).iterencode(head)
        carry = ""
        while batch := list(islice(chunks, 8192)):
            text = carry + "".join(batch)
            handle.write(text[:-2].encode("utf-8"))
            carry = text[-2:]
        del head, chunks
        # the rest each on one line: the C encoder (no indent) writes 10k files in a few ms
        handle.write(b',\n "graphs": ')
        _write_items(handle, graphs, "{", "}")
        shared, refs, renumber = self._compacted()
        handle.write(b',\n "shared": ')
        _write_items(handle, shared, "[", "]")
        handle.write(b',\n "shared_refs": ')
        _write_items(handle, refs, "[", "]")
        handle.write(b',\n "files": {')
        for key, column in self.files.items():
            handle.write(f'"{key}":'.encode())
            if key == "shared" and renumber is not None:
                _write_items(handle, _renumbered(column.batches(), renumber), "[", "]")
            else:
                column.write(handle)
            handle.write(b",")
            column.close()
        handle.write(b'"problems":' + _dumps(self.problems).encode("utf-8") + b"}")

    @staticmethod
    def finish_manifest(handle: IO[bytes], outputs: Mapping[str, IO[bytes]]) -> None:
        """End the manifest `write_manifest` began: `outputs` maps each output file's name to its
        complete, flushed handle, whose size and modification time the manifest records."""
        stats = {name: _stat(os.fstat(out.fileno())) for name, out in outputs.items()}
        handle.write(b',\n "outputs": ' + _dumps(stats).encode("utf-8") + b"\n}\n")

    def _compacted(self) -> tuple[list[Triple], list[int], dict[str, str] | None]:
        """The shared table, its counts and how to renumber the file's indices (None: as they
        are); renumbered when a quarter of the table is no longer used by any file (so the table
        does not grow forever)."""
        table, refs = list(self.shared), self.refs
        if refs.count(0) <= len(refs) // 4:
            return table, refs, None
        kept = [i for i, count in enumerate(refs) if count > 0]
        renumber = {str(old): str(new) for new, old in enumerate(kept)}
        return [table[i] for i in kept], [refs[i] for i in kept], renumber


def _renumbered(batches: Iterable[list[str]], renumber: Mapping[str, str]) -> Iterator[str]:
    for batch in batches:
        for indices in batch:
            try:
                yield ",".join(renumber[i] for i in indices.split(",")) if indices else ""
            except KeyError as exc:  # a reused row's index that the previous shared_refs did not count
                raise ManifestError(f"{MANIFEST_NAME} is damaged: shared index {exc}", damaged=True) from None


def _row_of(result: ParseResult) -> dict[str, Any]:
    from kg.pipeline.export import _row

    return _row(result)


#: An I/O thread's job: a copy (old fd, new fd, old offset, length, new offset), a write
#: (fd, bytes, offset), or None: stop.
_Job = tuple[int, int, int, int, int] | tuple[int, bytes, int] | None


class BlockWriter:
    """Writes every curation's blocks to the outputs, in order, and says where they landed.

    Every block goes to the disk through an I/O thread, at offsets computed here: fresh blocks
    are gathered per output and written with `pwrite`; reused blocks are copied from the
    previous outputs with `copy_file_range` (a copy inside the kernel; a run of blocks lying
    one after the other there, JSON-LD nodes with the ",\n" between them, is one copy). The
    thread that renders and records never waits for the disk, nor for a copy into the file it
    writes (the two used to take turns on the file's lock). `OutputStreams` writes what comes
    before (headers) and, after `wait`, what comes after (the shared nodes). There are two
    I/O threads (`THREADS`), each writing its outputs (`_lanes`): a re-export of 10k files
    copies ~340 MB, which kept one thread busy well after everything else was done. Use as a
    context manager: leaving it stops the threads.
    """

    BUFFER = 1 << 20  # fresh bytes gathered per output before one write
    QUEUED_BYTES = 64 << 20  # fresh bytes waiting for the threads, at most (copies hold none)
    THREADS = 2  # I/O threads: copies of a re-export keep one busy after the rest is done

    def __init__(self, handles: Mapping[str, IO[bytes]], streams: OutputStreams, previous: Previous | None):
        self.handles = handles
        self.streams = streams
        self.previous = previous
        for handle in handles.values():
            handle.flush()  # the headers: blocks are written by offset from here on
        self._end = {name: handle.tell() for name, handle in handles.items()}  # incl. what is pending
        self._nodes = streams.nodes_written  # a JSON-LD node is written or pending
        # format -> what is gathered for the thread's next job: [offset in the new file, bytes]
        # or [offset in the new file, offset in the old file, length] (a copy)
        self._pending: dict[str, list[Any]] = {}
        self._lane = _lanes(list(handles), self.THREADS)  # format -> its thread's index
        self._jobs: list[queue.SimpleQueue[_Job]] = [
            queue.SimpleQueue() for _ in range(max(self._lane.values(), default=0) + 1)
        ]
        self._queued = 0  # bytes of the write jobs not done yet
        self._done = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._error: BaseException | None = None
        self._abandon = False

    def __enter__(self) -> BlockWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._abandon = exc_type is not None  # failing anyway: skip what is still queued
        self._stop()

    def write(self, outcome: FileOutcome) -> dict[str, list[int]]:
        """Append `outcome`'s blocks; returns [offset, length] of each in the new outputs."""
        if outcome.reused is not None and self.previous is not None:
            copied = self.copy([outcome.reused])
            return {name: where[0] for name, where in copied.items() if where[0] is not None}
        data = {name: text.encode("utf-8") for name, text in outcome.blocks.items() if name in self.handles}
        if "nquads" in self.handles:
            data["nquads"] = outcome.nquads.encode("utf-8")
        ranges = {}
        for name, block in data.items():
            if block:
                self._separate(name)
                ranges[name] = [self._end[name], len(block)]
                self._append(name, block)
            else:  # nothing written for it: no separator either
                ranges[name] = [self._end[name], 0]
        return ranges

    def copy(self, rows: list[int]) -> dict[str, list[list[int] | None]]:
        """Append the blocks of the previous export's `rows`; returns, per output, where each
        landed ([offset, length], None for a row without a block)."""
        if self.previous is None:
            raise ValueError("nothing to copy from")
        first, last = rows[0], rows[-1]
        consecutive = last - first + 1 == len(rows)
        placed: dict[str, list[list[int] | None]] = {}
        for name in self.handles:
            column = self.previous.files[name]
            blocks = column[first : last + 1] if consecutive else [column[row] for row in rows]
            placed[name] = self._copy_blocks(name, blocks)
        return placed

    def wait(self) -> None:
        """Return when every block is on its way to the disk; raises what a thread met.

        The handles are then positioned after the last block, for `OutputStreams.finish`.
        """
        for name in list(self._pending):
            self._flush(name)
        self._stop()
        if self._error is not None:
            raise self._error
        if self.previous is not None:
            self.previous.release_cache()  # nothing more is copied from it
        for name, handle in self.handles.items():
            handle.seek(self._end[name])
        self.streams.nodes_written = self._nodes

    def _copy_blocks(self, name: str, blocks: list[list[int] | None]) -> list[list[int] | None]:
        gap = _gap(name)
        if blocks and None not in blocks:
            sizes = [block[1] for block in blocks]  # type: ignore[index]
            start, (last_start, last_size) = blocks[0][0], blocks[-1]  # type: ignore[index,misc]
            span = last_start + last_size - start
            if min(sizes) > 0 and sum(sizes) + gap * (len(sizes) - 1) == span:  # one after the other
                at = self._place(name, start, span) - start
                return [[at + block[0], block[1]] for block in blocks]  # type: ignore[index]
        placed: list[list[int] | None] = []
        for block in blocks:
            if block is None or block[1] == 0:  # nothing written for it: no separator either
                placed.append(None if block is None else [self._end[name], 0])
            else:
                placed.append([self._place(name, *block), block[1]])
        return placed

    def _place(self, name: str, start: int, size: int) -> int:
        """Copy `size` bytes from `start` of the old `name` next; returns where they land."""
        gap = _gap(name)
        pending = self._pending.get(name)
        if pending is not None and len(pending) == 3 and pending[1] + pending[2] + gap == start:
            pending[2] += gap + size  # the next block in the old file (with a node's separator)
            at = self._end[name] + gap
        else:
            self._separate(name)
            self._flush(name)
            at = self._end[name]
            self._pending[name] = [at, start, size]
        self._end[name] = at + size
        return at

    def _separate(self, name: str) -> None:
        """Append the separator that goes before a JSON-LD node, except before the first."""
        if name == "jsonld":
            if self._nodes:
                self._append(name, JSONLD_SEPARATOR)
            self._nodes = True

    def _append(self, name: str, data: bytes) -> None:
        pending = self._pending.get(name)
        if pending is None or len(pending) != 2:
            self._flush(name)
            pending = self._pending[name] = [self._end[name], bytearray()]
        pending[1] += data
        self._end[name] += len(data)
        if len(pending[1]) >= self.BUFFER:
            self._flush(name)

    def _flush(self, name: str) -> None:
        pending = self._pending.pop(name, None)
        if pending is None:
            return
        if not self._threads:
            self._threads = [
                threading.Thread(target=self._run_jobs, args=(jobs,), name=f"kg-blocks-{i}", daemon=True)
                for i, jobs in enumerate(self._jobs)
            ]
            for thread in self._threads:
                thread.start()
        fd = self.handles[name].fileno()
        jobs = self._jobs[self._lane[name]]
        if len(pending) == 2:
            with self._done:  # the threads are too far behind: let them catch up
                self._done.wait_for(lambda: self._queued < self.QUEUED_BYTES or self._error is not None)
                self._queued += len(pending[1])
            jobs.put((fd, bytes(pending[1]), pending[0]))
        elif self.previous is not None:
            at, start, size = pending
            jobs.put((self.previous.fds[name], fd, start, size, at))

    def _run_jobs(self, jobs: queue.SimpleQueue[_Job]) -> None:
        while (job := jobs.get()) is not None:
            try:
                if self._abandon or self._error is not None:
                    pass  # failing anyway: what is still queued is skipped
                elif len(job) == 3:
                    _write_at(*job)
                else:
                    _copy_range(*job)
            except BaseException as exc:  # handed to the writing thread by `wait`
                self._error = exc
            finally:
                if len(job) == 3:
                    with self._done:
                        self._queued -= len(job[1])
                        self._done.notify()

    def _stop(self) -> None:
        for jobs in self._jobs[: len(self._threads)]:
            jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []


def _drop_cache(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):  # advice only: a filesystem may not take it
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def _lanes(names: list[str], threads: int) -> dict[str, int]:
    """Which I/O thread writes each output: the largest first, each to the least loaded thread
    (by `_WEIGHT`, about the outputs' relative sizes). Every job of one output goes to one
    thread, in order; two threads writing one file would wait for each other on its lock."""
    load = [0.0] * max(1, min(threads, len(names)))
    lane = {}
    for name in sorted(names, key=lambda n: -_WEIGHT.get(n, 1.0)):
        lane[name] = load.index(min(load))
        load[lane[name]] += _WEIGHT.get(name, 1.0)
    return lane


#: About how large each output is (10k files: N-Quads 181 MB, N-Triples 81, JSON-LD 39, Turtle 37).
_WEIGHT = {"nquads": 5.0, "ntriples": 2.2, "jsonld": 1.0, "turtle": 1.0}


def _gap(name: str) -> int:
    """Bytes between two consecutive blocks of output `name` (JSON-LD nodes: the separator)."""
    return len(JSONLD_SEPARATOR) if name == "jsonld" else 0


def _write_at(target: int, data: bytes, at: int) -> None:
    done = 0
    while done < len(data):
        done += os.pwrite(target, memoryview(data)[done:], at + done)


def _copy_range(source: int, target: int, start: int, size: int, at: int) -> None:
    """Copy `size` bytes of `source` from `start` to `target` at `at`, in the kernel where possible."""
    done = 0
    while done < size:
        try:
            copied = os.copy_file_range(source, target, size - done, start + done, at + done)
        except OSError as exc:  # not supported here (another kernel, filesystem or platform)
            if exc.errno not in (errno.ENOSYS, errno.EXDEV, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            copied = os.pwrite(target, os.pread(source, min(size - done, 1 << 24), start + done), at + done)
        if copied == 0:  # the export starts again, in full
            raise ManifestError("a previous output ended before the manifest said (changed meanwhile?)")
        done += copied


class Manifest:
    """A finished export's manifest, read-only, for consumers such as `kg load`.

    A store loaded from export `changes["from"]` becomes equal to a load of this export by
    dropping the graphs in `changes["removed"]` and replacing those in `changes["added"]` and
    `changes["changed"]` with `nquads(graph)`; `graphs` (graph IRI -> digest) lets a consumer
    that remembers what it loaded work out the same for a store at any other export.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        try:
            data = read_manifest(out_dir)
        except ManifestError as exc:
            raise ManifestError(f"{out_dir}: {exc}") from None
        self.data: dict[str, Any] = data
        self.export: str = data["export"]
        self.changes: dict[str, Any] = data["changes"]
        self.graphs: dict[str, str] = data["graphs"]
        self._ranges: dict[str, list[list[int]]] | None = None

    @property
    def base_iri(self) -> str | None:
        """The --base-iri of the export (None in a manifest that does not record it)."""
        base = self.data.get("settings", {}).get("base_iri")
        return base if isinstance(base, str) else None

    def failed_files(self) -> int:
        return sum(1 for status in self.data["files"]["status"] if status == "failed")

    def current(self) -> bool:
        """True when every output file is the one this manifest describes (no newer export)."""
        try:
            return all(
                _stat((self.out_dir / name).stat()) == stat for name, stat in self.data["outputs"].items()
            )
        except OSError:
            return False

    def ranges(self) -> dict[str, list[list[int]]]:
        """Graph IRI -> [offset, length] of each of its blocks in `curations.nq`, in file order."""
        if self._ranges is None:
            files = self.data["files"]
            if "nquads" not in files:
                raise ManifestError(
                    f"{self.out_dir}: this export has no curations.nq (export with the nquads format)"
                )
            ranges: dict[str, list[list[int]]] = {}
            for graph, where in zip(files["graph"], files["nquads"], strict=True):
                if graph is not None and where is not None:
                    ranges.setdefault(graph, []).append(where)
            self._ranges = ranges
        return self._ranges

    @contextlib.contextmanager
    def open_nquads(self) -> Iterator[Callable[[str], bytes]]:
        """`curations.nq` opened as this manifest describes it: yields `graph -> N-Quads bytes`.

        Raises `ManifestError` when the file is not the one the manifest describes (a newer
        export renamed its outputs in between): the blocks would be read at wrong offsets.
        """
        ranges = self.ranges()
        try:
            handle = (self.out_dir / "curations.nq").open("rb")
        except OSError as exc:
            raise ManifestError(f"{self.out_dir}: cannot read curations.nq: {exc.strerror or exc}") from None
        with handle:
            if _stat(os.fstat(handle.fileno())) != self.data["outputs"].get("curations.nq"):
                raise ManifestError(
                    f"{self.out_dir}: curations.nq is not the file this manifest describes "
                    "(another kg export ran meanwhile?); run the command again"
                )

            def read(graph: str) -> bytes:
                where = ranges.get(graph, [])
                parts = [os.pread(handle.fileno(), size, start) for start, size in where]
                if any(len(part) != size for part, (_, size) in zip(parts, where, strict=True)):
                    raise ManifestError(f"{self.out_dir}: curations.nq ends before the manifest says")
                return b"".join(parts)

            yield read

    def nquads(self, graph: str) -> bytes:
        """The N-Quads lines of `graph`, read from `curations.nq` (all of them, in file order)."""
        with self.open_nquads() as read:
            return read(graph)
