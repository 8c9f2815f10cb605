"""kg: Medigy curations as a validated, queryable RDF knowledge graph.

The public API is the names in `__all__` (see `kg.api` for each):

    import kg
    kg.export(["curations/"], "outputs")
    kg.validate(["outputs/curations.nq"]).conforms()
    kg.load(["outputs/curations.nq"], store=".kg-store")
    rows = kg.query("topic-counts", ".kg-store")

Everything else is internal and may move. The functions are loaded on first use, so
`import kg` (and the `kg export` command) does not import rdflib, pyoxigraph or pySHACL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kg.errors import KgError
from kg.version import __version__

__all__ = ["KgError", "__version__", "build", "export", "load", "query", "stats", "sync", "validate"]

if TYPE_CHECKING:
    from kg.api import build, export, load, query, stats, sync, validate


def __getattr__(name: str) -> Any:  # lazy: the API's imports cost ~0.3 s, kg export needs none
    if name in {"build", "export", "load", "query", "stats", "sync", "validate"}:
        from kg import api

        return getattr(api, name)
    raise AttributeError(f"module 'kg' has no attribute {name!r}")
