"""The block writer: every curation's blocks into the staged outputs, in order, fresh ones
written and reused ones copied from the previous outputs, by I/O threads at offsets computed
here; it says where each block landed (for the manifest). Writes only the handles it is given;
reads only the previous outputs `Previous` keeps open.
"""

from __future__ import annotations

import errno
import os
import queue
import threading
from collections.abc import Mapping
from typing import IO, Any

from kg.pipeline.incremental.manifest import ManifestError
from kg.pipeline.incremental.previous import Previous
from kg.pipeline.outcome import FileOutcome
from kg.write.jsonld import JSONLD_SEPARATOR
from kg.write.streams import OutputStreams

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
