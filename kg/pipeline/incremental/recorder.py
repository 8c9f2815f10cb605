"""The change record being written: every file's manifest row (`Recorder`), collected as its
outcome is written, then the manifest itself (`.kg-manifest.json`), streamed to the staged
handle it is given. Touches only that handle and its own spilled temporary files.

A file's stamp is recorded only when the file was last changed at least `TRUST_MARGIN_NS`
before the export began (see `kg.pipeline.incremental`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import IO, Any

from kg.pipeline.incremental.columns import Column, compact_json, write_items
from kg.pipeline.incremental.digests import export_id
from kg.pipeline.incremental.manifest import MANIFEST_NAME, ManifestError, output_stat
from kg.pipeline.incremental.previous import Previous
from kg.pipeline.incremental.reuse import ReusedRun
from kg.pipeline.incremental.schema import COLUMNS, MANIFEST_FORMAT
from kg.pipeline.outcome import FileOutcome, problem_rows
from kg.rdf.terms import Triple
from kg.read.sources import Stamp

#: A file changed less than this before an export began gets no stamp in its manifest (file
#: times come from a coarse clock, 1-2 s on some filesystems): the next export hashes it.
TRUST_MARGIN_NS = 2_000_000_000
_clock = time.time_ns  # (tests set the clock)


class Recorder:
    """Collects the manifest's row of every file as its outcome is written.

    The per-file columns are spilled to unnamed temporary files in `spill_dir` (see `Column`).
    """

    def __init__(
        self, handles: Mapping[str, IO[bytes]], previous: Previous | None, spill_dir: str | None = None
    ) -> None:
        self.handles = handles
        self.previous = previous if previous is not None and previous.reusable else None
        self.files: dict[str, Column] = {key: Column(spill_dir) for key in (*COLUMNS, *handles)}
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
            self.problems.append((self._count, problem_rows(result.problems)))
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
        if len(self._rows) >= Column.BATCH:
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
        _write_head(handle, self._head(export_id(graphs), parts, previous, why_full))
        # the rest each on one line: the C encoder (no indent) writes 10k files in a few ms
        handle.write(b',\n "graphs": ')
        write_items(handle, graphs, "{", "}")
        shared, refs, renumber = self._compacted()
        handle.write(b',\n "shared": ')
        write_items(handle, shared, "[", "]")
        handle.write(b',\n "shared_refs": ')
        write_items(handle, refs, "[", "]")
        handle.write(b',\n "files": {')
        for key, column in self.files.items():
            handle.write(f'"{key}":'.encode())
            if key == "shared" and renumber is not None:
                write_items(handle, _renumbered(column.batches(), renumber), "[", "]")
            else:
                column.write(handle)
            handle.write(b",")
            column.close()
        handle.write(b'"problems":' + compact_json(self.problems).encode("utf-8") + b"}")

    def _head(
        self, export: str, parts: Mapping[str, object], previous: Previous | None, why_full: str | None
    ) -> dict[str, Any]:
        """The manifest's first keys: format, fingerprint, mode, the export's id and its changes."""
        old = previous.graphs if previous is not None else {}
        return {
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

    @staticmethod
    def finish_manifest(
        handle: IO[bytes], outputs: Mapping[str, IO[bytes]], extra: Mapping[str, Any] | None = None
    ) -> None:
        """End the manifest `write_manifest` began: `outputs` maps each output file's name to its
        complete, flushed handle, whose size and modification time the manifest records;
        `extra` keys (`graph_blocks`: graphs of `curations.nq` that belong to no file) go before."""
        for key, value in (extra or {}).items():
            handle.write(f',\n "{key}": '.encode() + compact_json(value).encode("utf-8"))
        stats = {name: output_stat(os.fstat(out.fileno())) for name, out in outputs.items()}
        handle.write(b',\n "outputs": ' + compact_json(stats).encode("utf-8") + b"\n}\n")

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


def _write_head(handle: IO[bytes], head: dict[str, Any]) -> None:
    """`head` as json.dumps(indent=1) writes it, less its closing "\\n}", a batch of chunks at a time."""
    chunks = json.JSONEncoder(ensure_ascii=False, indent=1).iterencode(head)
    carry = ""
    while batch := list(islice(chunks, 8192)):
        text = carry + "".join(batch)
        handle.write(text[:-2].encode("utf-8"))
        carry = text[-2:]


def _renumbered(batches: Iterable[list[str]], renumber: Mapping[str, str]) -> Iterator[str]:
    for batch in batches:
        for indices in batch:
            try:
                yield ",".join(renumber[i] for i in indices.split(",")) if indices else ""
            except KeyError as exc:  # a reused row's index that the previous shared_refs did not count
                raise ManifestError(f"{MANIFEST_NAME} is damaged: shared index {exc}", damaged=True) from None
