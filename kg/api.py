"""kg's public Python API: what the command line does, as typed calls (`import kg`).

    import kg
    report = kg.export(["curations/"], "outputs")         # files and report.json, all or nothing
    store = kg.build(["curations/"])                       # the graph in memory (a pyoxigraph Store)
    result = kg.validate(["outputs/curations.nq"])         # a ValidationReport; .conforms()
    kg.load(["outputs/curations.nq"], store=".kg-store")   # graphs replaced, never appended
    kg.sync("outputs", store=".kg-store")                  # the store made equal to the export
    rows = kg.query("topic-counts", ".kg-store")           # a list of dicts: pandas.DataFrame(rows)
    kg.stats("outputs").curations                          # triples, curations, classes... (void.ttl)

Every function raises `kg.KgError` (a subclass naming the stage) for anything kg refuses, with a
message naming the file, field, option or endpoint. Parameters of `kg.query` are bound as RDF
terms, never pasted into the query text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import pyoxigraph

from kg.map.curation import IriScheme
from kg.pipeline.export import FORMATS, Cluster, ExportReport
from kg.pipeline.export import export as _export_files
from kg.publish import stats as _stats
from kg.publish.stats import GraphStats
from kg.rdf.namespaces import DEFAULT_BASE_IRI
from kg.read.selection import Selection
from kg.store import sync as _sync
from kg.store.http import Endpoint
from kg.store.load import LoadResult, collect, memory_store, open_store
from kg.validation.model import ValidationReport
from kg.validation.validate import load_shapes, validate_inputs

PathLike = str | os.PathLike[str]
EngineName = Literal["auto", "fast", "pyshacl"]


def _paths(items: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(items, (str, os.PathLike)):
        return [Path(items)]
    return [Path(p) for p in items]


def export(
    sources: PathLike | Iterable[PathLike],
    out_dir: PathLike = "outputs",
    *,
    formats: Sequence[str] = tuple(FORMATS),
    base_iri: str = DEFAULT_BASE_IRI,
    validate: bool = False,
    full: bool = False,
    strict: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    taxonomy: PathLike | None = None,
) -> ExportReport:
    """Export curation sources (files or folders of `*.md`) to `out_dir`, as `kg export` does.

    The outputs are replaced all or nothing; unchanged files are reused from the previous export
    in `out_dir` unless `full` (or `validate`: every curation is then validated in the workers
    with kg's shapes, and the report carries the results). `scheduler`: the address of a Dask
    scheduler whose workers do the per-file work instead of `jobs` local processes (the outputs
    are the same bytes). `include`/`exclude`: globs choosing the source files, as `kg export
    --include/--exclude` (exclude wins; files left out are listed in the report). `taxonomy`:
    the site's taxonomy JSON, written beside the curations with their topics linked to it.
    """
    if scheduler is not None and jobs is not None:
        raise ValueError("jobs and scheduler exclude each other")
    shapes = _shape_files() if validate else ()
    workers = Cluster(scheduler) if scheduler is not None else jobs
    iris = IriScheme(base_iri)
    select = Selection(tuple(include), tuple(exclude)) if include or exclude else None
    return _export_files(
        _paths(sources),
        Path(out_dir),
        list(formats),
        iris,
        strict=strict,
        jobs=workers,
        shapes=shapes,
        full=full,
        select=select,
        taxonomy=Path(taxonomy) if taxonomy is not None else None,
    )


def build(
    sources: PathLike | Iterable[PathLike],
    *,
    base_iri: str = DEFAULT_BASE_IRI,
    taxonomy: PathLike | None = None,
) -> pyoxigraph.Store:
    """The graph of curation sources and/or RDF files, in memory (one named graph per curation),
    as `kg load` would store it: query it with `kg.query(name, store)` or pyoxigraph directly.
    `taxonomy`: the site's taxonomy JSON, loaded too, the sources' topics linked to it."""
    return memory_store(_paths(sources), IriScheme(base_iri), _optional(taxonomy))


def validate(
    data: PathLike | Iterable[PathLike],
    *,
    shapes: PathLike | None = None,
    engine: EngineName = "auto",
    base_iri: str = DEFAULT_BASE_IRI,
    taxonomy: PathLike | None = None,
) -> ValidationReport:
    """Validate RDF files or curation sources against kg's shapes (or `shapes`), as `kg validate`:
    every result traced to its source file and front-matter key; `.conforms()` for a gate.
    `taxonomy`: the site's taxonomy JSON, exported with the sources: each topic not exact in it
    is a Warning of its file and key (as `kg validate --taxonomy`)."""
    from kg.shacl.fast import auto_engine, fast_engine  # lazy: pySHACL and the engines load only here
    from kg.shacl.reference import pyshacl_engine

    engines = {"auto": auto_engine, "fast": fast_engine, "pyshacl": pyshacl_engine}
    graph = load_shapes(Path(shapes) if shapes is not None else None)
    return validate_inputs(
        _paths(data), graph, iris=IriScheme(base_iri), engine=engines[engine], taxonomy=_optional(taxonomy)
    )


def load(
    data: PathLike | Iterable[PathLike],
    *,
    store: PathLike | pyoxigraph.Store | None = None,
    endpoint: str | None = None,
    base_iri: str = DEFAULT_BASE_IRI,
    jobs: int | None = None,
    taxonomy: PathLike | None = None,
) -> LoadResult:
    """Replace the graphs of `data` (sources or RDF files) in an embedded store (`store`, a folder
    or a pyoxigraph Store; default `.kg-store`) or on a Graph Store Protocol `endpoint`.
    `taxonomy`: the site's taxonomy JSON, loaded as its own graph with the sources' topics linked
    to it, as `kg load SOURCES --taxonomy FILE` (`kg.store.load.DataError` without sources)."""
    collected = collect(_paths(data), IriScheme(base_iri), jobs=jobs, taxonomy=_optional(taxonomy))
    target = _target(store, endpoint)
    try:
        return _sync.load(target, base_iri, collected)
    finally:
        target.close()


def sync(
    export_dir: PathLike,
    *,
    store: PathLike | pyoxigraph.Store | None = None,
    endpoint: str | None = None,
    full: bool = False,
    dry_run: bool = False,
) -> _sync.SyncResult:
    """Make a store equal to the export in `export_dir` (written by `kg.export`), sending only the
    graphs that changed since the store's last sync, as `kg load EXPORT_DIR` does."""
    from kg.pipeline.incremental import Manifest  # the manifest reader, as the sync itself uses it

    target = _target(store, endpoint)
    try:
        return _sync.sync(target, Manifest(Path(export_dir)), full=full, dry_run=dry_run)
    finally:
        target.close()


def query(
    name_or_sparql: str | os.PathLike[str],
    target: PathLike | Iterable[PathLike] | pyoxigraph.Store | Endpoint,
    **params: object,
) -> list[dict[str, object]]:
    """Run a library query (by name), a `.rq` file or SPARQL text on `target` (a pyoxigraph Store,
    an embedded store folder, RDF files or sources, or an endpoint URL); rows as dicts of Python
    values, ready for `pandas.DataFrame(rows)` or `polars.DataFrame(rows)`."""
    from kg.sparql.library import adhoc, library, resolve
    from kg.sparql.query import execute

    text = os.fspath(name_or_sparql)
    is_named = text in library() or text.endswith(".rq") or isinstance(name_or_sparql, os.PathLike)
    named = resolve(text) if is_named else adhoc(text)
    return execute(named, target, params).rows()  # type: ignore[arg-type]


def stats(target: PathLike | Iterable[PathLike] | pyoxigraph.Store | Endpoint) -> GraphStats:
    """Triples, curations, distinct topics, brands and communities, classes and properties with
    their counts, as `kg stats`: of an export folder from its `void.ttl`, else counted by library
    queries on the curation graphs of `target` (as `kg.query` takes it). `.to_json()` for a dict."""
    if isinstance(target, (str, os.PathLike)) and _stats.is_export_folder(Path(target)):
        return _stats.of_export(Path(target))
    return _stats.of_store(target)  # type: ignore[arg-type]


def _optional(path: PathLike | None) -> Path | None:
    return Path(path) if path is not None else None


def _shape_files() -> list[Path]:
    from kg.validation.validate import shape_files

    return shape_files()


def _target(
    store: PathLike | pyoxigraph.Store | None, endpoint: str | None
) -> _sync.EmbeddedTarget | _sync.RemoteTarget:
    if store is not None and endpoint is not None:
        raise ValueError("give a store or an endpoint, not both")
    if endpoint is not None:
        return _sync.RemoteTarget(Endpoint.from_env(endpoint), None)
    if isinstance(store, pyoxigraph.Store):
        return _sync.EmbeddedTarget(store, "store")
    location = Path(store if store is not None else ".kg-store")
    return _sync.EmbeddedTarget(open_store(location), str(location))
