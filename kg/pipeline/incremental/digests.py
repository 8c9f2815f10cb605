"""Identities of what an export depends on and produces: kg's code, the settings, each
file's graph, the whole export. Pure functions of their inputs (and of kg's own source files).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

import yaml

from kg.resources import context_path
from kg.version import __version__

_PACKAGE = Path(__file__).resolve().parents[2]  # the kg package


@lru_cache(maxsize=1)
def code_digest() -> str:
    """sha256 of kg's own code and JSON-LD context: any edit invalidates every reused block.

    The version number alone is not enough: a checkout at the same version with edited
    mapping code must not reuse blocks rendered by the old code.
    """
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(context_path().read_bytes())
    return digest.hexdigest()


def fingerprint(settings: Mapping[str, object]) -> dict[str, Any]:
    """Everything a rendered block depends on besides the file's bytes and relative path.

    Returned as it reads back from JSON (lists, not tuples), so it compares equal to the copy
    in the manifest.
    """
    parts = {
        "kg_version": __version__,
        "code": code_digest(),
        "environment": {
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "pyyaml": yaml.__version__,
        },
        "settings": dict(settings),
    }
    loaded: dict[str, Any] = json.loads(json.dumps(parts))
    return loaded


def graph_digest(graph: str, lines: list[str]) -> str:
    """sha256 of one file's graph: its IRI and its N-Triples lines."""
    digest = hashlib.sha256(graph.encode("utf-8") + b"\n")
    digest.update("".join(lines).encode("utf-8"))
    return digest.hexdigest()


def export_id(graphs: list[tuple[str, str]]) -> str:
    """An export's identity: sha256 of its graph IRIs and digests. Same graphs, same id.

    `graphs` is the sorted list of (graph IRI, digest); the hash is that of `json.dumps(graphs)`,
    fed a batch of items at a time.
    """
    digest = hashlib.sha256(b"[")
    items = iter(graphs)
    first = True
    while batch := list(islice(items, 4096)):
        digest.update((json.dumps(batch)[1:-1] if first else ", " + json.dumps(batch)[1:-1]).encode("utf-8"))
        first = False
    digest.update(b"]")
    return digest.hexdigest()
