"""`--include` / `--exclude`: which of the discovered files an export, validation or load reads,
and the same set in a TOML config file (see docs/export.md, "Choosing the files").

Patterns are globs matched against a file's path relative to the source root (the path
`report.json` shows): `*` and `?` match within one folder name, `**` any number of folders
(`news/**`, `**/README.md`), `[abc]` one character of a set. A pattern without a `/` is
matched against the file name alone, in any folder (`_index.md`, `*.draft.md`). A file is read
when it matches an include pattern (or none are given) and no exclude pattern: **exclude wins**.
A file left out is still listed, reported `skipped` with the pattern that left it out, so
nothing vanishes from the report.

Config: `--config FILE`, else `kg.toml` in the current folder, else `[tool.kg]` of a
`pyproject.toml` there; keys `include` and `exclude` (lists of patterns, or one string). Options
given on the command line are added to those of the config. A config that cannot be read or
has an unknown key or a value of the wrong type is a `ConfigError` naming the file and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import tomllib

from kg.errors import KgError

#: Config files looked for in the current folder when `--config` is not given, in this order.
CONFIG_NAMES = ("kg.toml", "pyproject.toml")
#: Keys a config may hold (under `[tool.kg]` in a pyproject.toml).
CONFIG_KEYS = ("include", "exclude")


class ConfigError(KgError):
    """A config file that cannot be read or used; the message names the file and key (exit 2)."""


def glob_regex(pattern: str) -> re.Pattern[str]:
    """The regex of one glob (see the module doc); a pattern without `/` matches a file name."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            out.append("[" + ("^" if negate else "") + re.escape(body[1:] if negate else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    prefix = "(?:.*/)?" if "/" not in pattern else ""
    return re.compile(prefix + "".join(out))


@dataclass(frozen=True)
class Selection:
    """Include and exclude globs (see the module doc); where they came from, for the report."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    origin: str = "--include/--exclude"

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    @cached_property
    def _compiled(self) -> tuple[list[tuple[str, re.Pattern[str]]], list[tuple[str, re.Pattern[str]]]]:
        return (
            [(p, glob_regex(p)) for p in self.include],
            [(p, glob_regex(p)) for p in self.exclude],
        )

    def why_excluded(self, relative: str) -> str | None:
        """Why the file at `relative` is left out, or None when it is read."""
        include, exclude = self._compiled
        for pattern, regex in exclude:
            if regex.fullmatch(relative):
                return f"excluded: matches exclude pattern {pattern!r} ({self.origin})"
        if include and not any(regex.fullmatch(relative) for _, regex in include):
            shown = ", ".join(repr(p) for p, _ in include)
            return f"excluded: matches no include pattern ({shown}; {self.origin})"
        return None

    def plus(self, include: tuple[str, ...], exclude: tuple[str, ...]) -> Selection:
        """This selection with the command line's patterns added."""
        if not (include or exclude):
            return self
        origin = "--include/--exclude" if not self else f"{self.origin} and --include/--exclude"
        return Selection(self.include + include, self.exclude + exclude, origin)


def load_config(path: Path | None, cwd: Path | None = None) -> Selection:
    """The selection of `path` (`--config`), else of `kg.toml` or `pyproject.toml`'s `[tool.kg]`
    in `cwd`; an empty selection when there is none. Raises `ConfigError`."""
    if path is None:
        folder = cwd or Path.cwd()
        found = [folder / name for name in CONFIG_NAMES if (folder / name).is_file()]
        if not found:
            return Selection()
        path = found[0]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table: Any = data
    where = ""
    if path.name == "pyproject.toml":
        table, where = data.get("tool", {}).get("kg", {}), "tool.kg."
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: tool.kg: expected a table")
    unknown = sorted(set(table) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: {where}{unknown[0]}: unknown key; a kg config holds {', '.join(CONFIG_KEYS)}"
        )
    patterns = {key: _patterns(path, where + key, table.get(key)) for key in CONFIG_KEYS}
    return Selection(patterns["include"], patterns["exclude"], f"config {path}")


def _patterns(path: Path, key: str, value: Any) -> tuple[str, ...]:
    """A key's patterns: a list of non-empty strings, or one string."""
    values = [value] if isinstance(value, str) else value if value is not None else []
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(f"{path}: {key}: expected a list of glob patterns (non-empty strings)")
    return tuple(values)
