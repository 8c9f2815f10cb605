"""The previous export in an output folder, as its manifest describes it: whether its blocks
may be reused, which source files are unchanged since (by stamp, else by hash), and each reused
file's outcome, report row and shared triples rebuilt from the manifest. Reads the manifest,
the source files it must hash and the previous outputs (kept open for copying); writes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kg.model import ParseResult, Problem
from kg.pipeline.incremental.manifest import MANIFEST_NAME, ManifestError, output_stat, read_manifest
from kg.pipeline.incremental.schema import COLUMNS
from kg.pipeline.outcome import PROBLEM_KEYS, FileOutcome
from kg.rdf.terms import Lit, Triple
from kg.read.sources import ReadError, SourceFile, Stamp, read_stamped, stamp_of


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
            if manifest["outputs"].get(names[name]) != output_stat(info):
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
        if i is None or source.excluded is not None or self.files["sha256"][i] is None:
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

        Its `shared` triples are left out: `kg.pipeline.incremental.reuse.outcomes` adds those of
        all reused files at once.
        """
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


def _drop_cache(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):  # advice only: a filesystem may not take it
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
