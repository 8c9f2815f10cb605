"""Locate the files kg ships beside its code: ontology, shapes, example curations, queries.

In a wheel they sit inside the package (`kg/_data/...`, see pyproject `force-include`); in a
source checkout or editable install they are the top-level folders of the repository.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder `name` (`ontology`, `shapes`, `examples`) from the wheel or the checkout."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"kg resource folder {name!r} not found beside {_PACKAGE}")


def ontology_path() -> Path:
    return resource_dir("ontology") / "kg.ttl"


def context_path() -> Path:
    return resource_dir("ontology") / "context.jsonld"


def examples_dir() -> Path:
    return resource_dir("examples") / "curations"


@lru_cache(maxsize=1)
def load_context() -> dict[str, Any]:
    """The JSON-LD context document shipped in `ontology/context.jsonld`."""
    data: dict[str, Any] = json.loads(context_path().read_text(encoding="utf-8"))
    return data
