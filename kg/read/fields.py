"""`Fields`: reads front-matter values through the normalisers, collecting per-field problems.

Shared by the readers of both kinds of curation (`kg.read.frontmatter` for OpenProject and
Dropmark curations, `kg.read.legacy` for the legacy WordPress and Opsfolio ones), so a value of
the wrong type is the same per-field warning whichever kind of page holds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from kg.model import Problem
from kg.read import normalize as nz

T = TypeVar("T")


class Fields:
    """Collects per-field problems while normalising; a failed field becomes the default."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def get(self, key: str, value: Any, fn: Callable[[Any], T], default: T) -> T:
        """`fn(value)`, or `default` with a warning naming `key` when the value is unusable."""
        try:
            return fn(value)
        except nz.FieldError as exc:
            self.problems.append(Problem(self.path, key, f"{exc}; field left out", nz.show(value), "warning"))
            return default

    def mapping(self, data: dict[Any, Any], key: str) -> dict[Any, Any]:
        """The mapping under `key` ('' and null: empty); anything else is a warning, and empty."""
        value = data.get(key)
        if value is None or value == "":
            return {}
        if isinstance(value, dict):
            return value
        self.problems.append(
            Problem(
                self.path,
                key,
                f"expected a mapping, got {nz.kind_of(value)}; field left out",
                nz.show(value),
                "warning",
            )
        )
        return {}
