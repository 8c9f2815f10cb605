"""The per-file work of an export and the process pool that does it: read, parse, map and
render one file (`process`, in a worker), and the outcomes of many in their order
(`process_all`, serially or in worker processes). Reads the source files; writes nothing.
"""

# lazy: kg.shacl.fast (pyoxigraph and rdflib, ~190 ms to import) only when an export validates,
# so `kg export` starts without them (tests/test_cli.py); multiprocessing only when pooling.

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
from collections import deque
from collections.abc import Iterator
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING

from kg.map.curation import curation_rdf
from kg.map.topics import link_topics
from kg.model import ParseResult
from kg.pipeline.incremental.digests import graph_digest
from kg.pipeline.outcome import FileOutcome, Job
from kg.pipeline.signals import check_stopped, stop_signals_deferred, worker_started
from kg.pipeline.taxonomy import taxonomy_matcher
from kg.rdf.terms import nt_line
from kg.read.sources import ReadError, SourceFile, parse_bytes, read_stamped
from kg.write.ntriples import quads
from kg.write.protocol import sort_triples
from kg.write.registry import Writers
from kg.write.streams import render_blocks

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from kg.shacl.fast import CompiledShapes

#: Below this many files a process pool costs more than it saves (2 workers, real-shaped
#: curations: 48 files serial 54 ms vs pooled 73 ms; 64 files 106 vs 87 ms; 100: 163 vs 137 ms).
PARALLEL_THRESHOLD = 64
#: Most files in one chunk sent to a worker (its outcomes are held in memory while in flight).
MAX_CHUNK = 32


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
def renderer(prefixes: tuple[tuple[str, str], ...]) -> Writers:
    """One set of writers per prefix map and process (their IRI caches last the process)."""
    return Writers(dict(prefixes))


def process(source: SourceFile, job: Job) -> FileOutcome:
    """Read, parse, map and render one file. Never raises: an error fails only this file."""
    if source.excluded is not None:  # left out by --include/--exclude: listed, not read
        return FileOutcome(ParseResult(source.relative, "skipped", reason=source.excluded))
    try:
        try:
            data, stamp = read_stamped(source)
        except ReadError as exc:
            return FileOutcome(ParseResult(source.relative, "failed", reason=str(exc)))
        sha256 = hashlib.sha256(data).hexdigest()
        result = parse_bytes(data, source.relative)
        if result.curation is None:
            return FileOutcome(result, sha256=sha256, stamp=stamp)
        if job.taxonomy is not None:
            curation = result.curation
            matcher = taxonomy_matcher(*job.taxonomy, job.iris)
            curation.topics, linked = link_topics(curation.topics, matcher, result.path, data)
            result.problems += linked
        rdf = curation_rdf(result.curation, job.iris)
        result.curation = None  # not needed by the parent; saves pickling the body
        own = sort_triples(dict.fromkeys(rdf.own))
        own_nt = [nt_line(t) for t in own]  # encoded once, reused for N-Triples and N-Quads
        blocks = render_blocks(renderer(job.prefixes), own, job.formats, own_nt)
        # the curation's graph holds its own triples; the shared nodes have graphs of their own
        # (kg.map.nodes), written by the parent
        nquads = quads(own_nt, rdf.graph) if "nquads" in job.formats else ""
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
            digest=graph_digest(rdf.graph, own_nt),
            quads=len(own_nt),
            stamp=stamp,
        )
    except Exception as exc:
        reason = f"internal error: {type(exc).__name__}: {exc}"
        return FileOutcome(ParseResult(source.relative, "failed", reason=reason))


def process_chunk(files: list[SourceFile], job: Job) -> list[FileOutcome]:
    """The outcomes of a chunk of files: what a local worker or a cluster's worker is sent."""
    return [process(f, job) for f in files]


def process_all(files: list[SourceFile], job: Job, jobs: int | None = None) -> Iterator[FileOutcome]:
    """Outcomes in the order of `files`, computed serially or by `jobs` worker processes.

    At most two chunks per worker are in flight, so results never pile up in memory; a chunk
    holds at most `MAX_CHUNK` files, so neither does what is in flight grow with the corpus.
    The workers live no longer than the pool (closed early, or on an error or interruption,
    it kills them) nor than this process (see `worker_started`).
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
        max_workers=workers, mp_context=context, initializer=worker_started, initargs=(os.getpid(), forked)
    )
    finished = False

    def submit(chunk: list[SourceFile]) -> Future[list[FileOutcome]]:
        with stop_signals_deferred():  # a worker forked now starts with them blocked
            return pool.submit(process_chunk, chunk, job)

    try:
        pending: deque[Future[list[FileOutcome]]] = deque(submit(c) for c in islice(chunks, workers * 2))
        while pending:
            outcomes = pending.popleft().result()
            check_stopped()
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


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """SIGKILL the pool's workers: they hold nothing worth saving, and a pool's shutdown would
    otherwise wait for their chunks (or forever, for a worker stuck)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # gone already
            process.kill()
