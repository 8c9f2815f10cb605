"""The export pipeline: discover -> read/parse -> map -> write, with a report of every file.

Reading, parsing and mapping run per file (in a process pool for large inputs); results come
back in sorted path order, so outputs are byte-identical from run to run. One bad file never
stops the others: every failure becomes a `failed` row in the report.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from array import array
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import islice
from json.encoder import encode_basestring as _json_str
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kg import __version__
from kg.errors import KgError
from kg.map.curation import IriScheme, curation_rdf
from kg.model import ParseResult, Problem
from kg.pipeline.incremental.blocks import BlockWriter
from kg.pipeline.incremental.digests import fingerprint, graph_digest
from kg.pipeline.incremental.manifest import MANIFEST_NAME, ManifestError
from kg.pipeline.incremental.previous import Previous
from kg.pipeline.incremental.recorder import Recorder
from kg.pipeline.incremental.reuse import Reuse, ReusedRun
from kg.pipeline.incremental.reuse import outcomes as reuse_outcomes
from kg.pipeline.outcome import FileOutcome, Job, result_row
from kg.rdf.namespaces import PREFIXES, instance_prefixes
from kg.rdf.terms import Triple, nt_line
from kg.read.sources import (
    ReadError,
    SourceFile,
    changed_since,
    discover,
    parse_bytes,
    read_file,
    read_stamped,
)
from kg.write.formats import (
    OutputStreams,
    Renderer,
    ntriples_block,
    render_blocks,
    sort_triples,
)

if TYPE_CHECKING:  # kg.shacl.fast (pyoxigraph) is imported only when an export validates
    from concurrent.futures import Future, ProcessPoolExecutor

    from kg.shacl.fast import CompiledShapes, Result

#: Output formats: name -> file name in the output folder.
FORMATS: dict[str, str] = {
    "turtle": "curations.ttl",
    "jsonld": "curations.jsonld",
    "ntriples": "curations.nt",
    "nquads": "curations.nq",
}
REPORT_NAME = "report.json"
#: Below this many files a process pool costs more than it saves (2 workers, real-shaped
#: curations: 48 files serial 54 ms vs pooled 73 ms; 64 files 106 vs 87 ms; 100: 163 vs 137 ms).
PARALLEL_THRESHOLD = 64
#: Most files in one chunk sent to a worker (its outcomes are held in memory while in flight).
MAX_CHUNK = 32


class StrictError(KgError):
    """Raised with `strict=True` at the first problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@lru_cache(maxsize=4)
def compiled_shapes(paths: tuple[str, ...]) -> CompiledShapes:
    """Shapes parsed and compiled once per process."""
    from rdflib import Graph

    from kg.shacl.fast import compile_shapes

    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return compile_shapes(graph)


@lru_cache(maxsize=4)
def _renderer(prefixes: tuple[tuple[str, str], ...]) -> Renderer:
    return Renderer(dict(prefixes))


def process(source: SourceFile, job: Job) -> FileOutcome:
    """Read, parse, map and render one file. Never raises: an error fails only this file."""
    try:
        try:
            data, stamp = read_stamped(source)
        except ReadError as exc:
            return FileOutcome(ParseResult(source.relative, "failed", reason=str(exc)))
        sha256 = hashlib.sha256(data).hexdigest()
        result = parse_bytes(data, source.relative)
        if result.curation is None:
            return FileOutcome(result, sha256=sha256, stamp=stamp)
        rdf = curation_rdf(result.curation, job.iris)
        result.curation = None  # not needed by the parent; saves pickling the body
        own = sort_triples(dict.fromkeys(rdf.own))
        own_nt = [nt_line(t) for t in own]  # encoded once, reused for N-Triples and N-Quads
        lines = own_nt + [nt_line(t) for t in rdf.shared]
        blocks = render_blocks(_renderer(job.prefixes), own, job.formats, own_nt)
        nquads = ""
        if "nquads" in job.formats:
            in_graph = f"<{rdf.graph}> .\n"  # an N-Triples line ends ".\n"; a quad adds its graph
            nquads = "".join(line[:-2] + in_graph for line in lines)
        validation = None
        if job.shapes:
            from kg.shacl.fast import validate_curation

            own_subjects = {t[0] for t in own}
            validation = validate_curation(compiled_shapes(job.shapes), own, rdf.shared, own_subjects)
        return FileOutcome(
            result,
            rdf.graph,
            nquads,
            blocks,
            len(own),
            rdf.shared,
            validation,
            sha256=sha256,
            digest=graph_digest(rdf.graph, lines),
            quads=len(lines),
            stamp=stamp,
        )
    except Exception as exc:
        reason = f"internal error: {type(exc).__name__}: {exc}"
        return FileOutcome(ParseResult(source.relative, "failed", reason=reason))


def _process_chunk(files: list[SourceFile], job: Job) -> list[FileOutcome]:
    return [process(f, job) for f in files]


def process_all(files: list[SourceFile], job: Job, jobs: int | None = None) -> Iterator[FileOutcome]:
    """Outcomes in the order of `files`, computed serially or by `jobs` worker processes.

    At most two chunks per worker are in flight, so results never pile up in memory; a chunk
    holds at most `MAX_CHUNK` files, so neither does what is in flight grow with the corpus.
    The workers live no longer than the pool (closed early, or on an error or interruption,
    it kills them) nor than this process (see `_worker_started`).
    """
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(files) < PARALLEL_THRESHOLD:
        for f in files:
            yield process(f, job)
        return
    size = max(8, min(MAX_CHUNK, len(files) // (workers * 16) or 1))
    chunks = (files[i : i + size] for i in range(0, len(files), size))
    # The workers are forked from this process: objects that exist now (the list of files,
    # ...) are shared with them until written. Frozen, the workers' garbage collector does
    # not visit them, which would write to (and so copy) every page holding one in every
    # worker: their memory would grow with the corpus.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor  # (multiprocessing: ~40 ms to import)

    gc.freeze()
    context = multiprocessing.get_context()
    forked = context.get_start_method() == "fork"
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_started, initargs=(os.getpid(), forked)
    )
    finished = False

    def submit(chunk: list[SourceFile]) -> Future[list[FileOutcome]]:
        with _stop_signals_deferred():  # a worker forked now starts with them blocked
            return pool.submit(_process_chunk, chunk, job)

    try:
        pending: deque[Future[list[FileOutcome]]] = deque(submit(c) for c in islice(chunks, workers * 2))
        while pending:
            outcomes = pending.popleft().result()
            _check_stopped()
            chunk = next(chunks, None)
            if chunk is not None:
                pending.append(submit(chunk))
            yield from outcomes
        finished = True
    finally:
        if not finished:  # an error, an interruption, or the caller stopped early: nothing to wait for
            _kill_workers(pool)
        pool.shutdown(wait=finished, cancel_futures=True)
        gc.unfreeze()


#: The signals that stop kg. The CLI turns them into `Interrupted` (see `interruptible`); the
#: workers ignore them: their parent stops them (a Ctrl-C reaches the whole process group).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: File descriptors no forked process may keep: the output folder's lock (see `_output_folder`).
_PARENT_ONLY_FDS: set[int] = set()


def _close_parent_only_fds() -> None:
    """In a child just forked: close the parent's lock, so it goes with the parent.

    (An flock belongs to the open file, which a fork shares: a worker still holding it after
    its parent was killed made every later export fail with "another kg export".)
    """
    for fd in _PARENT_ONLY_FDS:
        with contextlib.suppress(OSError):
            os.close(fd)
    _PARENT_ONLY_FDS.clear()


os.register_at_fork(after_in_child=_close_parent_only_fds)


class _Stop:
    """What `interruptible`'s signal handler saw: the first stop signal (None: none yet), and
    whether the main thread is in a section where it must not raise (`_stop_signals_deferred`)."""

    received: int | None = None
    deferring = 0


@contextlib.contextmanager
def _stop_signals_deferred() -> Iterator[None]:
    """A section a stop signal must not interrupt; it raises `Interrupted` at its end instead.

    Used around the pool's fork of its workers: `STOP_SIGNALS` are blocked in this thread, so
    a worker forked here starts with them blocked (and is never stopped by one before
    `_worker_started` ignores them), and the handler does not raise here either: it would
    raise inside the interpreter's fork hooks, which print and drop any exception.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    _Stop.deferring += 1
    try:
        yield
    finally:
        _Stop.deferring -= 1
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    _check_stopped()


def _check_stopped() -> None:
    """Raise `Interrupted` if a stop signal arrived (a checkpoint: also where a signal's first
    exception may have been dropped, raised where the interpreter ignores exceptions)."""
    if _Stop.received is not None:
        raise Interrupted(_Stop.received)


def _worker_started(parent: int, forked: bool) -> None:
    """Initializer of each worker process: it ignores `STOP_SIGNALS` and dies with `parent`.

    On Linux the kernel kills the worker when the thread that forked it ends
    (PR_SET_PDEATHSIG; the pool forks its workers from the thread running the export, which
    lasts as long as the export), however the parent ends, kill -9 included; elsewhere a
    thread checks every second that the parent is alive. A parent gone before this ran is
    seen here: a forked worker has another parent then (a zombie parent still answers kill 0).
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if not _set_parent_death_signal():
        watch = partial(_watch_parent, parent, forked)
        threading.Thread(target=watch, name="kg-parent", daemon=True).start()
    if _parent_gone(parent, forked):
        os._exit(1)


#: prctl(2) option: the signal this process gets when its parent ends.
_PR_SET_PDEATHSIG = 1


def _set_parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        arg = ctypes.c_ulong
        return bool(libc.prctl(_PR_SET_PDEATHSIG, arg(signal.SIGKILL), arg(0), arg(0), arg(0)) == 0)
    except (OSError, AttributeError):  # no libc prctl (another C library)
        return False


def _watch_parent(parent: int, forked: bool) -> None:
    while not _parent_gone(parent, forked):
        time.sleep(1.0)
    os._exit(1)


def _parent_gone(parent: int, forked: bool) -> bool:
    """The export process `parent` has ended: a worker it forked has another parent then (the
    test that holds even while `parent` is a zombie, which still answers kill 0); a worker
    started otherwise (a fork server's) asks the system whether `parent` still exists."""
    if forked:
        return os.getppid() != parent
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: the pid was reused
        return True
    return False


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """SIGKILL the pool's workers: they hold nothing worth saving, and a pool's shutdown would
    otherwise wait for their chunks (or forever, for a worker stuck)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # gone already
            process.kill()


class Interrupted(KeyboardInterrupt):
    """One of `STOP_SIGNALS` arrived (raised where the main thread was; see `interruptible`)."""

    def __init__(self, signum: int) -> None:
        self.signame = signal.Signals(signum).name
        super().__init__(self.signame)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """While in the block, `STOP_SIGNALS` raise `Interrupted` in the main thread, so kg stops
    the way it stops on an error: temporaries removed, workers killed, a commit of the outputs
    put back, the lock released. A second signal while that runs ends the process at once
    (exit 2; what is left is cleaned by the next export). A signal ignored when kg started
    (nohup, a background job) stays ignored. Does nothing outside the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if _Stop.received is not None:
            os.write(2, f"kg: {signal.Signals(signum).name} again: stopped at once\n".encode())
            os._exit(2)
        _Stop.received = signum
        if not _Stop.deferring:
            raise Interrupted(signum)

    previous = {}
    _Stop.received = None
    for signum in STOP_SIGNALS:
        current = signal.getsignal(signum)
        if current != signal.SIG_IGN:
            previous[signum] = signal.SIG_DFL if current is None else current
            signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        _Stop.received = None


@dataclass(slots=True)
class ExportReport:
    """What happened to every input file, plus totals. Serialised as `report.json`."""

    files: list[dict[str, object]] = field(default_factory=list)
    triples: int = 0
    quads: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    validation: list[Result] | None = None  # SHACL results when the export validated
    graph_files: dict[str, list[str]] = field(default_factory=dict)  # graph IRI -> source paths
    changed_during_run: list[str] = field(default_factory=list)  # edited or removed while read
    reuse: Reuse | None = None  # set by an export into a folder
    why_full: str | None = None  # why an export did not reuse the previous one
    manifest_damage: str | None = None  # what is wrong with the previous manifest, ignored (a warning)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f["status"] == status)

    @property
    def problems(self) -> int:
        return sum(len(f.get("problems", [])) for f in self.files)  # type: ignore[misc,arg-type]

    def exit_code(self) -> int:
        """0 when every file exported or was skipped as not a curation, 1 when any failed."""
        return 1 if self.count("failed") else 0

    def to_json(self) -> dict[str, object]:
        """Deterministic content: no timings, so the file is byte-identical across runs."""
        data: dict[str, object] = {
            "kg_version": __version__,
            "totals": {
                "files": len(self.files),
                "exported": self.count("exported"),
                "skipped": self.count("skipped"),
                "failed": self.count("failed"),
                "field_problems": self.problems,
                "triples": self.triples,
                "quads": self.quads,
            },
            "files": self.files,
        }
        if self.changed_during_run:
            data["changed_during_run"] = self.changed_during_run
        return data

    def to_bytes(self) -> bytes:
        """`report.json`: `to_json` as `json.dumps(indent=1, ensure_ascii=False)` writes it, plus "\\n".

        The same bytes, but the rows of `files` are formatted here: the pure-Python indenting
        encoder took ~0.15 s at 10k files, a noticeable part of an incremental export.
        """
        buffer = io.BytesIO()
        self.write(buffer)
        return buffer.getvalue()

    def write(self, handle: IO[bytes]) -> None:
        """Write `to_bytes()` to `handle`, a batch of rows at a time (no copy of the whole text)."""
        handle.write(b"{\n")
        for n, (key, value) in enumerate(self.to_json().items()):
            handle.write((",\n" if n else "").encode() + f" {_json_str(key)}: ".encode())
            if key == "files" and self.files:
                handle.write(b"[\n")
                for start in range(0, len(self.files), 1024):
                    rows = ",\n".join(_row_json(row) for row in self.files[start : start + 1024])
                    handle.write(((",\n" if start else "") + rows).encode("utf-8"))
                handle.write(b"\n ]")
            else:
                text = json.dumps(value, indent=1, ensure_ascii=False).replace("\n", "\n ")
                handle.write(text.encode("utf-8"))
        handle.write(b"\n}\n")

    def summary(self, out_dir: Path | None) -> str:
        lines = [
            f"kg export: {len(self.files)} files seen: {self.count('exported')} exported, "
            f"{self.count('skipped')} skipped, {self.count('failed')} failed; "
            f"{self.problems} field problems",
            f"{self.triples} triples ({self.quads} quads) in {self.seconds:.2f} s"
            + (f" -> {out_dir}" if out_dir else ""),
        ]
        shown = 0
        for f in self.files:
            if f["status"] == "failed" and shown < 10:
                lines.append(f"  FAILED  {f['path']}: {f['reason']}")
                shown += 1
        failed = self.count("failed")
        if failed > shown:
            lines.append(f"  ... and {failed - shown} more failures (see {REPORT_NAME})")
        if self.manifest_damage is not None and out_dir is not None:
            what = self.manifest_damage.removeprefix(MANIFEST_NAME + " ")
            lines.append(
                f"  WARNING: {out_dir / MANIFEST_NAME} {what}: ignored, every file exported again"
            )
        if self.reuse is not None:
            reuse = self.reuse
            lines.append(
                f"incremental: {reuse.reused} files unchanged and reused, {reuse.processed} processed"
                if self.why_full is None
                else f"full export ({self.why_full})"
            )
        for path in self.changed_during_run[:10]:
            lines.append(f"  CHANGED during the export (written as first read; run again): {path}")
        return "\n".join(lines)


def _row_json(row: dict[str, Any]) -> str:
    """One report row as `json.dumps(indent=1)` writes it at depth 2 of report.json."""
    if len(row) == 3:
        reason = row["reason"]
        return (
            f'  {{\n   "path": {_json_str(row["path"])},\n   "status": {_json_str(row["status"])},\n'
            f'   "reason": {"null" if reason is None else _json_str(reason)}\n  }}'
        )
    return "  " + json.dumps(row, indent=1, ensure_ascii=False).replace("\n", "\n  ")


@dataclass(slots=True)
class CurationGraphData:
    """One exported curation: its source path, graph IRI and N-Quads lines."""

    path: str
    graph: str
    nquads: str


@dataclass(slots=True)
class InMemoryExport:
    """The result of `build`: the report and every curation graph, nothing written to disk."""

    report: ExportReport
    graphs: list[CurationGraphData]
    own_ntriples: list[str]
    shared: set[Triple]

    def nquads(self) -> bytes:
        """All curation graphs, byte-identical to `curations.nq`."""
        return "".join(g.nquads for g in self.graphs).encode("utf-8")

    def ntriples(self) -> bytes:
        """The union graph, byte-identical to `curations.nt`."""
        shared = ntriples_block(sort_triples(self.shared))
        return ("".join(self.own_ntriples) + shared).encode("utf-8")


def _job(iris: IriScheme, formats: Iterable[str], shapes: Iterable[Path] = ()) -> Job:
    prefixes = {**PREFIXES, **instance_prefixes(iris.base)}
    return Job(iris, tuple(formats), tuple(prefixes.items()), tuple(str(p) for p in shapes))


def _run(
    sources: list[Path],
    job: Job,
    strict: bool,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    on_outcome: Callable[[FileOutcome], None],
    outcomes: Callable[[list[SourceFile]], Iterator[FileOutcome | ReusedRun]] | None = None,
    shared: set[Triple] | None = None,
    on_run: Callable[[ReusedRun], None] | None = None,
) -> tuple[ExportReport, set[Triple]]:
    """Process every file, hand each outcome to `on_outcome` after its report row, fill the report.

    `outcomes` turns the files into outcomes in their order (default: process them all), or
    into runs of files reused from the previous export, handed to `on_run` (or, file by file,
    to `on_outcome` when every file is checked: strict or validating); `shared` is the set the
    shared triples are merged into (it may hold some already).
    """
    files = discover(sources)
    # each file read here (not reused): its index in `files` and its stamp as read, 40 bytes,
    # not a tuple: checked again at the end, to name the files edited while the export ran
    read_at, stamps = array("q"), array("q")
    report = ExportReport()
    shared = set() if shared is None else shared
    own = 0
    produce = outcomes or (lambda todo: process_all(todo, job, jobs))
    checker = None
    if job.shapes:
        from kg.shacl.fast import SharedValidation

        checker = SharedValidation(compiled_shapes(job.shapes))
    files_of_graph: dict[str, list[str]] = defaultdict(list)
    done = 0
    items = produce(files)
    try:
        for item in items:
            each: Iterable[FileOutcome]
            if not isinstance(item, ReusedRun):
                each = (item,)
            elif on_run is None or strict or checker is not None:
                each = item.outcomes()  # file by file: strict stops at the first problem
            else:
                report.files.extend(item.report_rows())
                run_own, run_quads = item.totals()
                own += run_own
                report.quads += run_quads
                on_run(item)
                done += len(item.files)
                if progress is not None:
                    progress(done, len(files))
                continue
            for outcome in each:
                source = files[done]
                done += 1
                result = outcome.result
                if result.path == source.relative:
                    result.path = source.relative  # one string per file for the report and manifest, not two
                if strict:
                    first = next(iter(result.problems), None) if result.status == "exported" else None
                    if result.status == "failed":
                        first = Problem(result.path, None, result.reason or "failed")
                    if first is not None:
                        raise StrictError(first)
                report.files.append(result_row(result))
                if outcome.stamp is not None and outcome.reused is None:
                    read_at.append(done - 1)
                    stamps.extend(outcome.stamp)
                if outcome.graph is not None:
                    report.quads += outcome.quads
                    own += outcome.own
                    shared.update(outcome.shared)
                    if checker is not None:  # which files made each graph: only validation needs it
                        files_of_graph[outcome.graph].append(result.path)
                        if outcome.validation is not None:
                            checker.add(outcome.validation)
                on_outcome(outcome)
                if progress is not None:
                    progress(done, len(files))
    finally:  # on any exception the pool's workers stop at once, not when items is collected
        _close(items)
    if done != len(files):
        raise RuntimeError(f"{done} outcomes for {len(files)} files")
    report.triples = own + len(shared)
    # a reused file is exported as it was when listed (its stamp then matched the manifest's);
    # edited since, its new stamp makes the next run process it
    read_as = (tuple(stamps[i : i + 4]) for i in range(0, len(stamps), 4))
    report.changed_during_run = changed_since([files[i] for i in read_at], read_as)  # type: ignore[arg-type]
    if checker is not None:
        report.validation = checker.finish(shared)
        report.graph_files = dict(files_of_graph)
        duplicated = [paths for paths in files_of_graph.values() if len(paths) > 1]
        if duplicated:
            report.validation = _revalidate_duplicates(report.validation, duplicated, files, job)
    return report, shared


def _close(items: Iterator[object]) -> None:
    """Close `items` if it is a generator (its `finally` runs now: a pool stops its workers)."""
    close = getattr(items, "close", None)
    if close is not None:
        close()


SPARQL_COMPONENT = "http://www.w3.org/ns/shacl#SPARQLConstraintComponent"


def _revalidate_duplicates(
    results: list[Result], duplicated: list[list[str]], files: list[SourceFile], job: Job
) -> list[Result]:
    """Curations whose identity appears in several files merge in the union graph: validate
    their own nodes again on the merged triples, as a whole-graph validator would see them."""
    from kg.shacl.fast import validate_curation

    by_path = {f.relative: f for f in files}
    compiled = compiled_shapes(job.shapes)
    for paths in duplicated:
        own: list[Triple] = []
        shared: list[Triple] = []
        for path in paths:
            curation = read_file(by_path[path]).curation
            if curation is not None:
                rdf = curation_rdf(curation, job.iris)
                own += rdf.own
                shared += rdf.shared
        subjects = {t[0] for t in own}
        merged = validate_curation(compiled, own, shared, subjects).results
        results = [
            r for r in results if r.focus not in subjects or r.component.endswith("SPARQLConstraintComponent")
        ]
        results += [r for r in merged if r not in results]
    return results


def build(
    sources: list[Path],
    iris: IriScheme | None = None,
    strict: bool = False,
    jobs: int | None = None,
    shapes: Iterable[Path] = (),
) -> InMemoryExport:
    """Run the export pipeline in memory (for `kg validate` and `kg load` on sources)."""
    started = time.perf_counter()
    graphs: list[CurationGraphData] = []
    own_nt: list[str] = []

    def keep(outcome: FileOutcome) -> None:
        if outcome.graph is None:
            return
        graphs.append(CurationGraphData(outcome.result.path, outcome.graph, outcome.nquads))
        own_nt.append(outcome.blocks.get("ntriples", ""))

    job = _job(iris or IriScheme(), ("nquads", "ntriples"), shapes)
    report, shared = _run(sources, job, strict, jobs, None, keep)
    report.seconds = time.perf_counter() - started
    return InMemoryExport(report, graphs, own_nt, shared)


def export(
    sources: list[Path],
    out_dir: Path,
    formats: list[str] | tuple[str, ...] = tuple(FORMATS),
    iris: IriScheme | None = None,
    strict: bool = False,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    shapes: Iterable[Path] = (),
    full: bool = False,
) -> ExportReport:
    """Export `sources` to `out_dir` in `formats`; returns the report (also written as JSON).

    Outputs are streamed to temporary files and renamed into place only after all of them
    are complete, so a crash leaves the previous outputs as they were. The export is
    incremental (see `kg.pipeline.incremental`): files unchanged since the export already in `out_dir`
    are reused, unless `full`, or unless `shapes` are given: validating in the workers needs
    every curation processed (the shapes do not change the outputs).
    Raises `OutputError` (an OSError naming `out_dir`) when the outputs cannot be written.
    """
    started = time.perf_counter()
    iris = iris or IriScheme()
    job = _job(iris, [f for f in FORMATS if f in formats], shapes)
    parts = fingerprint(
        {"base_iri": iris.base, "asset_base": iris.asset_base, "formats": job.formats}
    )
    with _output_folder(out_dir):
        previous = Previous(out_dir, parts, job.formats, {n: FORMATS[n] for n in job.formats})
        why_full = (
            "--full"
            if full
            else "validating: every curation is processed"
            if job.shapes
            else previous.why_not or None
        )
        staged = partial(_export_staged, sources, out_dir, job, parts, strict, jobs, progress, previous)
        damage = previous.damage
        try:
            try:
                report = staged(why_full)
            except ManifestError as exc:  # found damaged midway: start again, in full
                damage = str(exc) if exc.damaged else damage
                report = staged(str(exc))
        finally:
            previous.close()
    report.manifest_damage = damage
    report.seconds = time.perf_counter() - started
    return report


def _export_staged(
    sources: list[Path],
    out_dir: Path,
    job: Job,
    parts: dict[str, object],
    strict: bool,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    previous: Previous,
    why_full: str | None,
) -> ExportReport:
    """One attempt at `export`: all outputs staged, renamed only if it completes."""
    usable = None if why_full else previous
    names = {name: FORMATS[name] for name in job.formats}
    reuse = Reuse()
    shared: set[Triple] = set()
    with _StagedOutputs(out_dir) as staged, contextlib.ExitStack() as stack:
        handles = {name: staged.open(FORMATS[name]) for name in job.formats}
        streams = OutputStreams(_renderer(job.prefixes), handles)
        recorder = Recorder(handles, usable, str(out_dir))
        blocks = stack.enter_context(BlockWriter(handles, streams, usable))

        def write(outcome: FileOutcome) -> None:
            recorder.add(outcome, {} if outcome.graph is None else blocks.write(outcome))

        def write_run(run: ReusedRun) -> None:
            recorder.add_run(run, blocks.copy(run.rows))

        def outcomes(files: list[SourceFile]) -> Iterator[FileOutcome | ReusedRun]:
            produce = partial(process_all, job=job, jobs=jobs)
            return reuse_outcomes(files, usable, produce, shared, reuse)

        report, shared = _run(sources, job, strict, jobs, progress, write, outcomes, shared, write_run)
        report.outputs = [FORMATS[f] for f in job.formats] + [REPORT_NAME]
        # the report and most of the manifest are written while the I/O threads finish the blocks
        report.write(staged.open(REPORT_NAME))
        manifest = staged.open(MANIFEST_NAME)
        recorder.write_manifest(manifest, parts, previous, why_full)
        blocks.wait()
        streams.finish(shared)
        for handle in handles.values():
            handle.flush()
        recorder.finish_manifest(manifest, {names[n]: h for n, h in handles.items()})
    report.reuse, report.why_full = reuse, why_full
    return report


class OutputError(KgError, OSError):
    """The outputs could not be written (nothing was replaced); the message names the folder."""

    def __str__(self) -> str:
        return str(self.strerror)


@contextlib.contextmanager
def _output_folder(out_dir: Path) -> Iterator[None]:
    """Create and lock `out_dir`, remove temporaries a killed export left, name it in OS errors.

    The lock (flock on the folder) stops a second export into the same folder, whose
    temporaries the first would otherwise take for stale ones.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(out_dir, os.O_RDONLY)  # close-on-exec (PEP 446); closed in forks, see below
    except OSError as exc:
        raise OutputError(exc.errno, f"{out_dir}: {exc.strerror or exc}") from exc
    _PARENT_ONLY_FDS.add(fd)  # a worker forked while it is held does not keep the lock
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                errno.EBUSY, f"{out_dir}: another kg export is writing to this folder"
            ) from None
        except OSError as exc:  # a filesystem without locks (some network ones): export unlocked
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise
        _remove_stale_temporaries(out_dir)
        yield
    except OutputError:
        raise
    except OSError as exc:  # named by the folder, not by a temporary file in it
        staged = exc.filename is None or _STAGED.match(os.path.basename(str(exc.filename)))
        message = f"{out_dir}: {exc.strerror or exc}" if staged else f"{out_dir}: {exc}"
        raise OutputError(exc.errno, message) from exc
    finally:
        _PARENT_ONLY_FDS.discard(fd)
        os.close(fd)  # releases the lock


#: Temporaries `_StagedOutputs` and `writers.atomic_writer` create: `.{name}.{random}.tmp`.
_STAGED = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp$")


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Delete temporaries of kg's own outputs that a killed export left behind (under the lock)."""
    ours = {*FORMATS.values(), REPORT_NAME, MANIFEST_NAME}
    for name in os.listdir(out_dir):
        match = _STAGED.match(name)
        if match and match.group("name") in ours:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(out_dir / name)


class _StagedOutputs:
    """Temporary files beside their targets, renamed into place together if the block succeeds.

    All files are complete and fsynced before the first rename, and `report.json` is renamed
    last; on any error every temporary file is removed and the previous outputs stay: all of
    them, even when a rename fails after others succeeded (see `_commit`).
    While they are written, a thread flushes each file to disk every `WRITEBACK_BYTES` it grows
    (fdatasync releases the GIL): the disk writes overlap the export instead of all waiting for
    the final fsync (an incremental export copies ~300 MB at 10k files; its final fsyncs took
    0.25-0.4 s, a quarter of its time).
    """

    WRITEBACK_BYTES = 8 << 20
    WRITEBACK_EVERY = 0.1  # seconds between looks at the files' sizes

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._staged: list[tuple[Path, str, IO[bytes]]] = []
        self._stop = threading.Event()
        self._writeback = threading.Thread(target=self._write_back, name="kg-writeback", daemon=True)
        self._writeback_error: OSError | None = None

    def __enter__(self) -> _StagedOutputs:
        self._writeback.start()
        return self

    def _write_back(self) -> None:
        synced: dict[int, int] = {}  # fd -> size when last synced
        while not self._stop.wait(self.WRITEBACK_EVERY):
            for _, _, handle in list(self._staged):
                try:
                    fd = handle.fileno()
                    size = os.fstat(fd).st_size
                    if size - synced.get(fd, 0) >= self.WRITEBACK_BYTES:
                        os.fdatasync(fd)
                        synced[fd] = size
                except OSError as exc:  # an I/O error is reported once per file: keep it for __exit__
                    self._writeback_error = self._writeback_error or exc
                    return
                except ValueError:  # closed meanwhile (the export failed)
                    return

    def open(self, name: str) -> IO[bytes]:
        target = self.out_dir / name
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.out_dir)
        os.chmod(tmp, 0o666 & ~_UMASK)
        handle = os.fdopen(fd, "wb")
        self._staged.append((target, tmp, handle))
        return handle

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._stop.set()
        self._writeback.join()
        try:
            if exc_type is None:
                if self._writeback_error is not None:
                    raise self._writeback_error
                for _, _, handle in self._staged:
                    handle.flush()
                    os.fsync(handle.fileno())
                    handle.close()
                _commit(self.out_dir, [(target, tmp) for target, tmp, _ in self._staged])
        finally:
            for _, tmp, handle in self._staged:
                with contextlib.suppress(OSError):  # on a full disk, close() fails to flush again
                    handle.close()
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)


_UMASK = os.umask(0)
os.umask(_UMASK)


def _commit(out_dir: Path, staged: list[tuple[Path, str]]) -> None:
    """Rename each staged (target, temporary) into place, `report.json` last: all, or none.

    The previous version of every target is first kept aside under a temporary name (a hard
    link: the target never stops existing, so a crash at any moment leaves each output whole,
    old or new; a copy where hard links are refused). Only then are the temporaries renamed;
    if one rename fails (or the export is interrupted), those already renamed are put back
    from what was kept aside, and `OutputError` names the file that could not be replaced.
    A target that is a folder is refused before anything is touched. What is kept aside is
    removed at the end (a killed export leaves it as a temporary the next export removes).
    """
    _check_stopped()  # (stopped, but the exception was dropped on its way: do not commit)
    staged = sorted(staged, key=lambda s: s[0].name == REPORT_NAME)
    for target, _ in staged:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISDIR(os.lstat(target).st_mode):
                raise OutputError(errno.EISDIR, f"{target}: a folder is in the way; {_KEPT}")
    kept: dict[Path, str | None] = {}  # target -> its previous version aside (None: there was none)
    renamed: list[Path] = []
    restored = True
    try:
        for target, _ in staged:
            try:
                kept[target] = _keep_aside(target)
            except OSError as exc:
                raise OutputError(
                    exc.errno, f"{target}: cannot keep the previous version aside: {exc.strerror}; {_KEPT}"
                ) from exc
        for target, tmp in staged:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise OutputError(exc.errno, f"{target}: cannot replace it: {exc.strerror}; {_KEPT}") from exc
            renamed.append(target)
    except BaseException as exc:  # an interruption too: nothing stays half-committed
        lost = _put_back(renamed, kept)
        restored = not lost
        if lost and isinstance(exc, OutputError):
            raise OutputError(exc.errno, f"{exc}; and could not put back {', '.join(lost)}") from exc
        raise
    finally:
        for target, aside in kept.items():
            if aside is not None and (restored or target not in renamed):
                with contextlib.suppress(OSError):
                    os.unlink(aside)
        _fsync_dir(out_dir)


#: How a failed commit ends its message (see `_commit`).
_KEPT = "no output was replaced"


def _keep_aside(target: Path) -> str | None:
    """A second name for `target` (a hard link, else a copy), `.NAME.XXXXXXXX.tmp`; None when
    there is no `target`."""
    try:
        os.lstat(target)
    except FileNotFoundError:
        return None
    while True:
        aside = str(target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.link(target, aside, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (or an immutable file, which the rename will refuse)
            shutil.copy2(target, aside, follow_symlinks=False)
        return aside


def _put_back(renamed: list[Path], kept: dict[Path, str | None]) -> list[str]:
    """Undo the renames of `_commit`: each target back to what was kept aside (or removed, when
    it did not exist before). Returns the targets that could not be put back."""
    lost = []
    for target in reversed(renamed):
        aside = kept[target]
        try:
            if aside is None:
                os.unlink(target)
            else:
                os.replace(aside, target)
        except OSError:
            lost.append(str(target))
    return lost


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
