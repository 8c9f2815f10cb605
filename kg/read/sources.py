"""Find curation files and read them: the input edge of the pipeline.

Folders are read recursively for `*.md` in sorted order, without following symlinked folders
(so a symlink loop cannot trap the walk); files given by name are read whatever their suffix.
Each file is reported by its POSIX path relative to the source root (the common folder of all
sources), which is also what `prov:wasDerivedFrom` records.

Only regular files are read, and never more than `MAX_FILE_BYTES`: a FIFO, a device or a
symlink to one (`x.md -> /dev/zero`) fails that file instead of hanging the run, and a file
that loops through symlinks, vanishes or cannot be opened fails with the reason.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from kg.errors import KgError
from kg.model import ParseResult
from kg.read.frontmatter import decode, parse_text
from kg.read.selection import Selection

#: Files larger than this are not parsed: no real curation is near it.
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str | Path  # as found on disk (discover gives a str: 50k Paths took ~25 MB)
    relative: str  # POSIX, relative to the source root
    error: str | None = None  # why it cannot be read, when already known (a folder not listable)
    excluded: str | None = None  # why --include/--exclude leave it out (it is reported skipped)


class SourceError(KgError):
    """A source given on the command line does not exist or cannot be listed."""


#: (size, mtime_ns, ctime_ns, inode) of a file when it was read; None when it could not be.
#: Any write changes mtime and ctime (ctime cannot be set back by hand); a replaced file has
#: another inode.
Stamp = tuple[int, int, int, int] | None


def stamp_of(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


class ReadError(Exception):
    """One listed file could not be read; the message is the report's reason."""


def discover(sources: list[Path], select: Selection | None = None) -> list[SourceFile]:
    """Every curation candidate under `sources`, each once, sorted by relative path.

    A folder inside the tree that cannot be listed is returned as an entry `folder/` that
    fails with the reason, rather than silently missing from the report. A file `select`
    leaves out is listed all the same, with the reason in `excluded` (reported skipped).
    """
    found: dict[str, tuple[str, str | None]] = {}  # real path -> (path as found, error)
    roots: list[str] = []
    for source in sources:
        if source.is_dir():
            real = os.path.realpath(source)
            roots.append(real)
            try:
                _walk(os.fspath(source), real, found)
            except OSError as exc:
                raise SourceError(f"{source}: cannot list the folder: {exc.strerror or exc}") from None
        elif source.exists():
            roots.append(os.path.dirname(os.path.realpath(source)))
            found.setdefault(_resolve(os.fspath(source)), (os.fspath(source), None))
        else:
            raise SourceError(f"{source}: no such file or folder")
    root = os.path.commonpath(roots) if roots else os.getcwd()
    files = [_source(path, _relative(real, path, root), error) for real, (path, error) in found.items()]
    if select is not None and select:
        files = [_selected(f, select) for f in files]
    return sorted(files, key=lambda f: f.relative)


def _selected(source: SourceFile, select: Selection) -> SourceFile:
    """`source`, with the reason `select` leaves it out when it does."""
    why = select.why_excluded(source.relative)
    return source if why is None else replace(source, excluded=why)


def _source(path: str, relative: str, error: str | None) -> SourceFile:
    """A listed file; one whose name is not UTF-8 fails, named with `\\xNN` for the bad bytes.

    (The OS hands such names over with lone surrogates, which no output format can hold.)
    """
    if relative.isascii():
        return SourceFile(path, relative, error)
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        shown = relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return SourceFile(path, shown, error or "cannot read: the file name is not UTF-8")
    return SourceFile(path, relative, error)


def _walk(top: str, real_top: str, found: dict[str, tuple[str, str | None]]) -> None:
    """Add the `*.md` files under `top` (real path `real_top`) to `found`, depth first, sorted.

    Symlinked folders are not followed (a loop cannot trap the walk), so every folder reached
    is a real folder and a file's real path is its folder's real path plus its name; only
    symlinked files need resolving. Raises OSError when `top` itself cannot be listed.
    """
    stack = [(top, real_top)]
    while stack:
        folder, real_folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            if folder == top:
                raise
            found.setdefault(
                real_folder + "/", (folder + "/", f"cannot list the folder: {exc.strerror or exc}")
            )
            continue
        subfolders = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if is_folder:
                if not entry.is_symlink():
                    subfolders.append((entry.path, os.path.join(real_folder, entry.name)))
            elif entry.name.endswith(".md"):
                real = _resolve(entry.path) if entry.is_symlink() else os.path.join(real_folder, entry.name)
                found.setdefault(real, (entry.path, None))
        stack.extend(reversed(subfolders))


def _resolve(path: str) -> str:
    """The real path; a symlink that dangles or loops is kept where it was found (absolute).

    It is listed all the same, so that reading it fails with the reason in the report.
    """
    try:
        return os.path.realpath(path, strict=True)
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def _relative(real: str, path: str, root: str) -> str:
    """The name relative to the root; a symlink to a file outside the root is named where found."""
    prefix = root if root.endswith("/") else root + "/"
    if real.startswith(prefix):
        return real[len(prefix) :]
    slash = "/" if path.endswith("/") else ""
    found = os.path.abspath(path) + slash
    if found.startswith(prefix):
        return found[len(prefix) :]
    return Path(path).as_posix() + slash


def read_bytes(source: SourceFile) -> bytes:
    """The bytes of one listed file; raises `ReadError` with the reason when it cannot be read."""
    return read_stamped(source)[0]


def read_stamped(source: SourceFile) -> tuple[bytes, Stamp]:
    """The bytes of one listed file and its `Stamp` as it was read; raises `ReadError`.

    Opened without blocking and checked with `fstat` on the open file, so what is checked is
    what is read: a regular file of at most `MAX_FILE_BYTES` (read with that bound too, in case
    it grows while being read).
    """
    if source.error is not None:
        raise ReadError(source.error)
    try:
        fd = os.open(source.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if os.path.lexists(source.path):
            raise ReadError("cannot read: a symlink to a file that does not exist") from None
        raise ReadError("cannot read: the file vanished after the folder was listed") from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadError("cannot read: not a regular file (a FIFO, device or socket)")
        if info.st_size > MAX_FILE_BYTES:
            raise ReadError(f"file is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit")
        data = _read_bounded(fd, info.st_size)
        stamp = stamp_of(info)
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(f"file grew over the {MAX_FILE_BYTES}-byte limit while being read")
    return data, stamp


def _read_bounded(fd: int, size: int) -> bytes:
    """Read to the end, or to one byte over the limit; `size` is the expected size (one read)."""
    chunks: list[bytes] = []
    total = 0
    want = size + 1  # one more than expected, so a file of the expected size needs no retry
    while total <= MAX_FILE_BYTES:
        chunk = os.read(fd, min(max(want, 1 << 16), MAX_FILE_BYTES + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_bytes(data: bytes, relative: str) -> ParseResult:
    """Decode and parse the bytes of the file named `relative`; decoding errors fail the file."""
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        return ParseResult(
            relative,
            "failed",
            reason=f"not UTF-8: byte 0x{data[offset]:02x} at offset {offset}",
        )
    return parse_text(text, relative)


def read_file(source: SourceFile) -> ParseResult:
    """Read and parse one file; OS and decoding errors become a failed result, and a file
    left out by --include/--exclude is skipped unread."""
    if source.excluded is not None:
        return ParseResult(source.relative, "skipped", reason=source.excluded)
    try:
        data = read_bytes(source)
    except ReadError as exc:
        return ParseResult(source.relative, "failed", reason=str(exc))
    return parse_bytes(data, source.relative)


def changed_since(files: list[SourceFile], stamps: Iterable[Stamp]) -> list[str]:
    """Relative paths of the files whose `Stamp` now is not the one they were read with.

    A file that could not be read (stamp None) is reported failed already, not listed here.
    """
    changed = []
    for f, stamp in zip(files, stamps, strict=True):
        if stamp is not None:
            try:
                info = os.stat(f.path)
                now: Stamp = stamp_of(info)
            except OSError:
                now = None
            if now != stamp:
                changed.append(f.relative)
    return changed
