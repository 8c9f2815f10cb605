"""The manifest file an export leaves in its folder (`.kg-manifest.json`): its name, reading it
safely (`read_manifest`, checked whole by `kg.pipeline.incremental.schema`), `ManifestError`,
and `Manifest`, the read-only view consumers such as `kg load` use. Reads files; writes none
(the manifest is written by `kg.pipeline.incremental.recorder`).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kg.errors import KgError
from kg.pipeline.incremental.schema import MANIFEST_FORMAT, check_manifest

MANIFEST_NAME = ".kg-manifest.json"


def output_stat(info: os.stat_result) -> dict[str, int]:
    """What identifies an output file as the one the manifest describes.

    Size and modification time, not the inode: a copy that keeps times (`cp -a`, `rsync -a`, a
    restored backup) stays usable. An output edited by hand, or written by an export killed
    before it could rename the manifest, has another modification time.
    """
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


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
                output_stat((self.out_dir / name).stat()) == stat
                for name, stat in self.data["outputs"].items()
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
            for graph, where in self.data.get("graph_blocks", {}).items():  # the taxonomy's
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
            if output_stat(os.fstat(handle.fileno())) != self.data["outputs"].get("curations.nq"):
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
