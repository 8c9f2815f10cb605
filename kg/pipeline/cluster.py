"""The export's per-file work on a Dask distributed cluster instead of the local process pool.

`process_on_cluster` sends chunks of the source list to the workers of a running Dask scheduler
(`kg export --scheduler tcp://HOST:8786`); each worker reads, parses, maps, renders (and, when
asked, validates) its files with the same function as a local worker
(`kg.pipeline.workers.process_chunk`), and the outcomes come back in the order of the files. The
machine that runs `kg export` merges them exactly as it merges its own workers' (shared nodes,
report, manifest, the all-or-nothing commit), so the outputs are byte-identical to a
single-machine export of the same sources.

What a cluster needs: kg (the same version) installed on every worker, and the source files (and
the shapes, when validating) at the same absolute paths on every worker, e.g. a shared file
system. The cluster takes the parse-map-render work, which is most of an export's time; the
writing stays on one machine (docs/export.md, "On a cluster").
"""

# lazy: distributed (dask, tornado, ~0.9 s to import) only when an export is sent to a cluster.

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import islice
from typing import TYPE_CHECKING, Any

from kg.errors import KgError
from kg.pipeline.outcome import FileOutcome, Job
from kg.pipeline.signals import check_stopped
from kg.pipeline.workers import MAX_CHUNK, process_chunk
from kg.read.sources import SourceFile

if TYPE_CHECKING:
    from distributed import Client, Future


class ClusterError(KgError):
    """The Dask scheduler cannot be reached, has no workers, or lost the work (exit 2)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Cluster:
    """A running Dask scheduler to send the per-file work to.

    `address`: as `dask scheduler` prints it (`tcp://10.0.0.5:8786`); `timeout`: seconds to
    connect and for at least one worker to be there.
    """

    address: str
    timeout: float = 30.0


def _connect(cluster: Cluster) -> Client:
    try:
        from distributed import Client  # lazy: see the module comment
    except ImportError:
        raise ClusterError(
            "--scheduler needs the Dask distributed package: pip install 'kg[cluster]'"
        ) from None
    try:
        client = Client(cluster.address, timeout=cluster.timeout, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {cluster.address}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=cluster.timeout)
    except (OSError, TimeoutError):
        client.close()  # type: ignore[no-untyped-call]
        raise ClusterError(
            f"the Dask scheduler at {cluster.address} has no worker after {cluster.timeout:g} s"
        ) from None
    return client


def _slots(client: Client) -> int:
    """Tasks the cluster runs at once: the sum of its workers' threads."""
    workers: dict[str, Any] = client.scheduler_info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


def process_on_cluster(files: list[SourceFile], job: Job, cluster: Cluster) -> Iterator[FileOutcome]:
    """Outcomes in the order of `files`, computed by the cluster's workers.

    As with the local pool, at most two chunks per worker thread are in flight, so neither the
    scheduler nor this process holds outcomes that grow with the corpus. Paths are sent absolute
    (a worker's current folder is not ours). A worker that dies has its chunk run again by the
    scheduler; when the work cannot be done, `ClusterError` stops the export before anything is
    committed.
    """
    if not files:
        return
    client = _connect(cluster)
    pending: deque[Future[list[FileOutcome]]] = deque()
    try:
        slots = _slots(client)
        size = max(8, min(MAX_CHUNK, len(files) // (slots * 16) or 1))
        absolute = [replace(f, path=os.path.abspath(f.path)) for f in files]
        chunks = (absolute[i : i + size] for i in range(0, len(absolute), size))
        # pure=False: two chunks with equal arguments are still two tasks (never merged by key).
        pending.extend(client.submit(process_chunk, c, job, pure=False) for c in islice(chunks, slots * 2))
        while pending:
            try:
                outcomes: list[FileOutcome] = pending.popleft().result()
            except Exception as exc:  # the scheduler's error: a lost worker, a killed task...
                why = f"{type(exc).__name__}: {exc}"
                raise ClusterError(f"the Dask cluster at {cluster.address} failed: {why}") from exc
            check_stopped()
            chunk = next(chunks, None)
            if chunk is not None:
                pending.append(client.submit(process_chunk, chunk, job, pure=False))
            yield from outcomes
    finally:
        for future in pending:
            future.cancel()  # type: ignore[no-untyped-call]
        client.close()  # type: ignore[no-untyped-call]
