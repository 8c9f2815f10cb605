"""The line and column of each result's front-matter key in its source files, and the paths CI
reports name files by.

`Locator` reads (once each) only the files that have results, composes their front matter
(`kg.read.positions`) and gives each result a `Location` per source file: the key's place
(`link.href` at the nested key; a topic, author, tag or alias at its list item when the result
names it; `(body)` at the first body line; a key not written in the file, e.g. "no featured
image", at no line). A file the exporter could not export because its YAML does not parse is
placed where the YAML error is. `artifact_path` names a file relative to the repository root
(the nearest folder above it with `.git`, else the current folder) or to `--path-base`, as
GitHub and GitLab need to link a report to the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from kg.map.curation import IriScheme
from kg.read import normalize as nz
from kg.read.frontmatter import decode
from kg.read.positions import KeyPositions, Position, key_positions
from kg.read.sources import discover
from kg.validation.model import Location, ValidationResult

#: A key of `kg.validation.keys` -> the keys it may be written as in a file, most specific first.
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "date/publishDate": ("publishDate", "date"),
    "owlType/openProjectWorkPackageType": ("owlType", "openProjectWorkPackageType"),
    "author": ("author", "authors"),
    "lastMod": ("lastMod", "lastmod"),
    "eventStartDate": ("eventStartDate", "eventDate"),
    "communityTopics": ("communityTopics", "openProjectCustomFields.medigyTopics"),
}
_YAML_ERROR_AT = re.compile(r"not valid YAML at line (\d+), column (\d+)")


def on_disk(sources: list[Path]) -> dict[str, str]:
    """Source file name (relative to the source root, as results name it) -> path on disk."""
    if not sources:
        return {}
    return {f.relative: os.fspath(f.path) for f in discover(sources) if f.error is None}


class Locator:
    """Places results in the files they came from (see the module docstring)."""

    def __init__(self, disk: Mapping[str, str], iris: IriScheme) -> None:
        self._disk = disk
        self._iris = iris
        self._positions: dict[str, KeyPositions | None] = {}

    def locate(self, result: ValidationResult) -> ValidationResult:
        """`result` with a `Location` for each of its source files found on disk."""
        found = tuple(
            (name, self._location(name, result)) for name in result.source_files if name in self._disk
        )
        return replace(result, locations=found) if found else result

    def _location(self, name: str, result: ValidationResult) -> Location:
        path = self._disk[name]
        at = _YAML_ERROR_AT.search(result.message) if result.key is None else None
        if at is not None:
            return Location(path, int(at.group(1)), int(at.group(2)))
        positions = self._read(name)
        place = None if positions is None or result.key is None else self._place(positions, result)
        return Location(path, *place) if place else Location(path)

    def _read(self, name: str) -> KeyPositions | None:
        if name not in self._positions:
            try:
                text = decode(Path(self._disk[name]).read_bytes())
            except (OSError, UnicodeDecodeError):
                text = ""
            self._positions[name] = key_positions(text) if text else None
        return self._positions[name]

    def _place(self, positions: KeyPositions, result: ValidationResult) -> Position | None:
        key = result.key or ""
        if key == "(body)":
            return positions.body
        spellings = _SPELLINGS.get(key, (key,))
        names = {n for n in (result.value, result.focus_node) if n}
        for spelling in spellings:
            for text, place in positions.items.get(spelling, ()):
                if names & set(self._names_of(spelling, text)):
                    return place
        for spelling in spellings:
            if spelling in positions.keys:
                return positions.keys[spelling]
        return positions.find(spellings[0])  # `link` for a missing `link.brand`

    def _names_of(self, key: str, text: str) -> Iterator[str]:
        """What a list item is called in the results: its text, and the IRI it was minted as."""
        yield text
        yield text.strip()
        try:
            if key == "communityTopics":
                topic = nz.topic(text)
                if topic is not None:
                    yield self._iris.topic(topic.source, topic.label)
            elif key in ("author", "authors"):
                name = nz.name(text)
                if name:
                    yield self._iris.person(name)
        except (nz.FieldError, ValueError):  # an item the exporter left out: no IRI to match
            return


def artifact_path(path: str, base: Path | None = None) -> str:
    """`path` (as found on disk) relative to `base`, or to its repository root (the nearest
    folder above it holding `.git`, a folder or a worktree's file), else to the current folder;
    POSIX separators. A path outside the base keeps its `..` steps."""
    absolute = os.path.abspath(path)
    if base is not None:
        root = os.path.abspath(base)
    else:
        root = _repository_root(os.path.dirname(absolute)) or os.getcwd()
    return Path(os.path.relpath(absolute, root)).as_posix()


@lru_cache(maxsize=256)
def _repository_root(folder: str) -> str | None:
    """The nearest folder at or above `folder` that holds `.git` (cached: one walk per folder)."""
    current = folder
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
