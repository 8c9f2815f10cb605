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
from dataclasses import dataclass
from pathlib import Path

from kg.model import ParseResult
from kg.parsers import decode, parse_text

#: Files larger than this are not parsed: no real curation is near it.
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # as found on disk
    relative: str  # POSIX, relative to the source root


class SourceError(Exception):
    """A source given on the command line does not exist or cannot be listed."""


class ReadError(Exception):
    """One listed file could not be read; the message is the report's reason."""


def discover(sources: list[Path]) -> list[SourceFile]:
    """Every curation candidate under `sources`, each once, sorted by relative path."""
    found: dict[Path, Path] = {}  # resolved path -> path as found
    roots: list[Path] = []
    for source in sources:
        if source.is_dir():
            roots.append(source.resolve())
            for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
                dirnames.sort()
                for name in sorted(filenames):
                    if name.endswith(".md"):
                        file = Path(dirpath) / name
                        found.setdefault(_resolve(file), file)
        elif source.exists():
            roots.append(source.resolve().parent)
            found.setdefault(_resolve(source), source)
        else:
            raise SourceError(f"{source}: no such file or folder")
    root = Path(os.path.commonpath([str(r) for r in roots])) if roots else Path.cwd()
    files = [SourceFile(path, _relative(resolved, path, root)) for resolved, path in found.items()]
    return sorted(files, key=lambda f: f.relative)


def _resolve(path: Path) -> Path:
    """The real path; a symlink that dangles or loops is kept where it was found (absolute).

    It is listed all the same, so that reading it fails with the reason in the report.
    """
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError for a symlink loop
        return Path(os.path.abspath(path))


def _relative(resolved: Path, path: Path, root: Path) -> str:
    """The name relative to the root; a symlink to a file outside the root is named where found."""
    for candidate in (resolved, Path(os.path.abspath(path))):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def read_bytes(source: SourceFile) -> bytes:
    """The bytes of one listed file; raises `ReadError` with the reason when it cannot be read.

    Opened without blocking and checked with `fstat` on the open file, so what is checked is
    what is read: a regular file of at most `MAX_FILE_BYTES` (read with that bound too, in case
    it grows while being read).
    """
    try:
        fd = os.open(source.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if os.path.lexists(source.path):
            raise ReadError("cannot read: a symlink to a file that does not exist") from None
        raise ReadError("cannot read: the file vanished after the folder was listed") from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ReadError("cannot read: not a regular file (a FIFO, device or socket)")
            if info.st_size > MAX_FILE_BYTES:
                raise ReadError(f"file is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit")
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(f"file grew over the {MAX_FILE_BYTES}-byte limit while being read")
    return data


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
    """Read and parse one file; OS and decoding errors become a failed result."""
    try:
        data = read_bytes(source)
    except ReadError as exc:
        return ParseResult(source.relative, "failed", reason=str(exc))
    return parse_bytes(data, source.relative)
