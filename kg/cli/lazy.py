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
    "binding": "kg.sparql.binding",
    "engine": "kg.shacl.engine",
    "fast": "kg.shacl.fast",
    "http": "kg.store.http",
    "library": "kg.sparql.library",
    "load": "kg.store.load",
    "model": "kg.validation.model",
    "provenance": "kg.validation.provenance",
    "query": "kg.sparql.query",
    "reference": "kg.shacl.reference",
    "report": "kg.publish.report",
    "reports": "kg.validation.reports",
    "results": "kg.sparql.results",
    "serve": "kg.store.serve",
    "stats": "kg.publish.stats",
    "sync": "kg.store.sync",
    "taxonomy": "kg.map.taxonomy",
    "validate": "kg.validation.validate",
}

__all__ = [
    "binding", "engine", "fast", "http", "library", "load", "model", "provenance", "query", "reference",
    "report", "reports", "results", "serve", "stats", "sync", "taxonomy", "validate",
]

if TYPE_CHECKING:
    from kg.map import taxonomy
    from kg.publish import report, stats
    from kg.shacl import engine, fast, reference
    from kg.sparql import binding, library, query, results
    from kg.store import http, load, serve, sync
    from kg.validation import model, provenance, reports, validate


def __getattr__(name: str) -> ModuleType:
    if name not in MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(MODULES[name])
    globals()[name] = module
    return module
