"""The all-or-nothing commit of an export's outputs: the output folder created and locked
(`output_folder`), every output staged beside its target and renamed into place together,
`report.json` last, or none of them (`StagedOutputs`). Touches only the output folder: kg's
outputs there, their temporaries and the lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from kg.errors import KgError
from kg.pipeline.incremental.manifest import MANIFEST_NAME
from kg.pipeline.report import REPORT_NAME
from kg.pipeline.signals import check_stopped
from kg.publish import DESCRIPTION_NAME
from kg.write.registry import FORMATS

#: File descriptors no forked process may keep: the output folder's lock (see `output_folder`).
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


class OutputError(KgError, OSError):
    """The outputs could not be written (nothing was replaced); the message names the folder."""

    def __str__(self) -> str:
        return str(self.strerror)


@contextlib.contextmanager
def output_folder(out_dir: Path) -> Iterator[None]:
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


#: Temporaries `StagedOutputs` and `kg.write.files.atomic_writer` create: `.{name}.{random}.tmp`.
_STAGED = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp$")


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Delete temporaries of kg's own outputs that a killed export left behind (under the lock)."""
    ours = {*FORMATS.values(), REPORT_NAME, MANIFEST_NAME, DESCRIPTION_NAME}
    for name in os.listdir(out_dir):
        match = _STAGED.match(name)
        if match and match.group("name") in ours:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(out_dir / name)


class StagedOutputs:
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

    def __enter__(self) -> StagedOutputs:
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

    def written(self) -> dict[str, Path]:
        """The outputs staged so far, flushed: final name -> the temporary file that holds it.

        For what is computed from the outputs as they will be committed (the dataset
        description, `void.ttl`, gives each file's size and checksum): read them from here."""
        for _, _, handle in self._staged:
            handle.flush()
        return {target.name: Path(tmp) for target, tmp, _ in self._staged}

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
    check_stopped()  # (stopped, but the exception was dropped on its way: do not commit)
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
