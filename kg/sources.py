"""Find curation files and read them: the input edge of the pipeline.

Folders are read recursively for `*.md` in sorted order, without following symlinked folders
(so a symlink loop cannot trap the walk); files given by name are read whatever their suffix.
Each file is reported by its POSIX path relative to the source root (the common folder of all
sources), which is also what `prov:wasDerivedFrom` records.
"""

from __future__ import annotations

import os
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
                        found.setdefault(file.resolve(), file)
        elif source.exists():
            roots.append(source.resolve().parent)
            found.setdefault(source.resolve(), source)
        else:
            raise SourceError(f"{source}: no such file or folder")
    root = Path(os.path.commonpath([str(r) for r in roots])) if roots else Path.cwd()
    files = [SourceFile(path, _relative(resolved, path, root)) for resolved, path in found.items()]
    return sorted(files, key=lambda f: f.relative)


def _relative(resolved: Path, path: Path, root: Path) -> str:
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:  # a symlinked file pointing outside the root: name it as found
        return path.as_posix()


def read_file(source: SourceFile) -> ParseResult:
    """Read and parse one file; OS and decoding errors become a failed result."""
    try:
        size = source.path.stat().st_size
        if size > MAX_FILE_BYTES:
            return ParseResult(
                source.relative,
                "failed",
                reason=f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit",
            )
        data = source.path.read_bytes()
    except OSError as exc:
        return ParseResult(source.relative, "failed", reason=f"cannot read: {exc.strerror or exc}")
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        return ParseResult(
            source.relative,
            "failed",
            reason=f"not UTF-8: byte 0x{data[offset]:02x} at offset {offset}",
        )
    return parse_text(text, source.relative)
