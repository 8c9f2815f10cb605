"""The library modules the commands use only once they run: kg's one place of lazy imports.

A command reaches them as `lazy.NAME` (`lazy.load.open_store(...)`): the module is imported at
that first use, by the module `__getattr__` below; mypy sees the real modules.
"""

# lazy: these modules import pyoxigraph, rdflib, requests (and pySHACL on demand): measured,
# importing them all takes ~0.25 s, `import kg.cli` ~0.12 s and a whole `kg export` of the examples
# with nothing changed ~0.15 s; so `kg export` and every `--help` import none of them
# (tests/test_cli.py checks).

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

#: Name here -> the module it stands for.
MODULES = {
    "fast": "kg.shacl.fast",
    "http": "kg.store.http",
    "load": "kg.store.load",
    "query": "kg.sparql.query",
    "report": "kg.publish.report",
    "reports": "kg.validation.reports",
    "serve": "kg.store.serve",
    "sync": "kg.store.sync",
    "taxonomy": "kg.map.taxonomy",
    "validate": "kg.validation.validate",
}

__all__ = ["fast", "http", "load", "query", "report", "reports", "serve", "sync", "taxonomy", "validate"]

if TYPE_CHECKING:
    from kg.map import taxonomy
    from kg.publish import report
    from kg.shacl import fast
    from kg.sparql import query
    from kg.store import http, load, serve, sync
    from kg.validation import reports, validate


def __getattr__(name: str) -> ModuleType:
    if name not in MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(MODULES[name])
    globals()[name] = module
    return module
