"""`kg load`: curations into the embedded store or a remote one (kg.store.load), and the sync
of an export folder (kg.store.sync); a thin call into those modules.

May touch: kg.store and kg.pipeline.incremental (the store modules through kg.cli.lazy), and
kg.read.taxonomy's error (--taxonomy).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

import click

from kg.cli import lazy
from kg.cli.errors import worded
from kg.cli.options import (
    base_iri_option,
    endpoint_url,
    given,
    log_to_stderr,
    remote_options,
    selection,
    selection_options,
    store_option,
    taxonomy_option,
)
from kg.cli.progress import Verbosity, progress_bar, verbosity_of, verbosity_options
from kg.map.curation import IriScheme
from kg.pipeline.incremental import Manifest
from kg.read.selection import Selection
from kg.read.taxonomy import TaxonomyError
from kg.resources import examples_dir

if TYPE_CHECKING:
    from kg.pipeline.report import ExportReport
    from kg.store.http import Endpoint
    from kg.store.load import LoadError
    from kg.store.sync import EmbeddedTarget, RemoteTarget

    Target = EmbeddedTarget | RemoteTarget


def stopped_at(exc: LoadError) -> str:
    """A load or sync that stopped midway: why, what was written, how to finish."""
    return f"stopped at {exc.cause}\n{exc.details()}"


@dataclass(frozen=True, slots=True)
class _Where:
    """The store to load into: the embedded one, or an endpoint (with its query URL)."""

    store_dir: Path
    endpoint: str | None
    query_endpoint: str | None
    user: str | None
    password: str | None
    timeout: float
    retries: int

    def _remote(self, url: str) -> Endpoint:
        return lazy.http.Endpoint.from_env(
            url, user=self.user, password=self.password, timeout=self.timeout, retries=self.retries
        )

    def open(self) -> Target:
        if self.endpoint is not None:
            query = self._remote(self.query_endpoint) if self.query_endpoint else None
            return lazy.sync.RemoteTarget(self._remote(self.endpoint), query)
        return lazy.sync.EmbeddedTarget(lazy.load.open_store(self.store_dir), str(self.store_dir))


def _paths(data: tuple[Path, ...], where: _Where, full: bool, dry_run: bool) -> tuple[list[Path], list[Path]]:
    """DATA (default: the examples) and the export folders among them; usage errors (exit 2)."""
    if where.endpoint is not None and given("store_dir"):
        raise click.UsageError("choose one of --store, --endpoint")
    paths = list(data) or [examples_dir()]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise click.UsageError(f"no such file or folder: {missing[0]}")
    exports = [p for p in paths if lazy.sync.is_export_folder(p)]
    if exports and len(paths) > 1:
        raise click.UsageError(f"{exports[0]} is an export folder: sync it on its own, without other DATA")
    if (full or dry_run) and not exports:
        raise click.UsageError("--full and --dry-run apply to an export folder (written by kg export)")
    if where.query_endpoint is not None and (where.endpoint is None or not exports):
        raise click.UsageError("--query-endpoint applies to an export folder synced to an --endpoint")
    return paths, exports


def _sources_only(paths: list[Path], exports: list[Path], selecting: bool, taxonomy: Path | None) -> None:
    """--include/--exclude and --taxonomy apply to sources exported in memory: a usage error
    (exit 2) for an export folder (synced as exported, with the taxonomy it was exported with),
    and --taxonomy with RDF files only."""
    if exports and selecting:
        raise click.UsageError(
            "--include/--exclude choose source files; an export folder is synced as exported"
        )
    if taxonomy is None:
        return
    if exports:
        raise click.UsageError(
            f"--taxonomy applies to curation sources; {exports[0]} is an export folder, which already "
            "carries its taxonomy (export it with kg export --taxonomy FILE, then load the folder)"
        )
    if not any(lazy.load.is_source(p) for p in paths):
        raise click.UsageError(lazy.load.NO_SOURCES_FOR_TAXONOMY)


def _sync_export(
    folder: Path, open_target: Callable[[], Target], full: bool, dry_run: bool, verbosity: Verbosity
) -> NoReturn:
    """`kg load EXPORT_FOLDER`: send what changed since the store's last sync, then exit."""
    with worded(lazy.load.LoadError, stopped_at):
        manifest = Manifest(folder)
        target = open_target()
        try:
            with progress_bar("syncing", verbosity) as progress:
                result = lazy.sync.sync(target, manifest, full=full, dry_run=dry_run, progress=progress)
        finally:
            target.close()
    todo = result.plan
    verb = "would sync" if dry_run else "synced"
    if verbosity == "verbose":
        for graph in todo.replaced:
            click.echo(f"kg load: {'would replace' if dry_run else 'replaced'} {graph}", err=True)
        for graph in todo.dropped:
            click.echo(f"kg load: {'would drop' if dry_run else 'dropped'} {graph}", err=True)
    since = "" if todo.had_state else " (no usable sync state in the store: every graph sent)"
    if verbosity != "quiet":
        click.echo(
            f"kg load: {verb} export {todo.export[:12]} to {target.where}: {todo.summary()}{since}"
            + ("" if dry_run else f"; {result.triples} triples in {result.seconds:.2f} s"),
            err=True,
        )
    failed = manifest.failed_files()
    if failed:
        click.echo(f"kg load: {failed} source files failed to export (see {folder}/report.json)", err=True)
    sys.exit(1 if failed else 0)


def _load(
    paths: list[Path],
    open_target: Callable[[], Target],
    base_iri: str,
    jobs: int | None,
    verbosity: Verbosity,
    select: Selection | None = None,
    taxonomy: Path | None = None,
) -> NoReturn:
    """`kg load DATA`: replace the graphs of DATA in the store, then exit."""
    store = lazy.load
    with worded(TaxonomyError, lambda exc: f"--taxonomy: {exc}; nothing was loaded"):
        collected = store.collect(paths, IriScheme(base_iri), jobs=jobs, select=select, taxonomy=taxonomy)
    _say_reports(collected.reports, verbosity)
    with worded(store.LoadError, stopped_at):
        target = open_target()
        try:
            with progress_bar("loading", verbosity) as progress:
                result = lazy.sync.load(target, base_iri, collected, progress)
            remote = isinstance(target, lazy.sync.RemoteTarget)
            where = f"PUT to {target.where}" if remote else f"replaced in {target.where}"
        finally:
            target.close()
    if verbosity != "quiet":
        click.echo(
            f"kg load: {result.graphs} graphs ({result.triples} triples) {where} in {result.seconds:.2f} s",
            err=True,
        )
    sys.exit(max((r.exit_code() for r in collected.reports), default=0))


def _say_reports(reports: list[ExportReport], verbosity: Verbosity) -> None:
    """What exporting the sources found: with --verbose each file and its field problems (the
    topics --taxonomy does not know among them); the summary when a file failed."""
    for report in reports:
        if verbosity == "verbose":
            for row in report.files:
                reason = f": {row['reason']}" if row.get("reason") else ""
                click.echo(f"kg load: {row['path']}: {row['status']}{reason}", err=True)
                problems = cast("list[dict[str, object]]", row.get("problems") or [])
                for p in problems:
                    click.echo(f"kg load: {row['path']}: {p['field']}: {p['message']}", err=True)
        if report.count("failed"):
            click.echo(report.summary(None), err=True)
        errors = (report.taxonomy or {}).get("errors")
        if errors:
            click.echo(
                f"kg load: --taxonomy: {errors} records could not be used (kg taxonomy FILE)", err=True
            )


@click.command("load")
@click.argument("data", nargs=-1, type=click.Path(path_type=Path))
@store_option
@click.option(
    "--endpoint",
    default=None,
    callback=endpoint_url,
    help="Load into a remote store: its Graph Store Protocol URL.",
)
@click.option(
    "--query-endpoint",
    default=None,
    callback=endpoint_url,
    help="Export folder, remote store: its SPARQL query URL, to list the graphs it holds "
    "(default: beside --endpoint, e.g. /store -> /query).",
)
@remote_options
@base_iri_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes for sources.")
@click.option("--full", is_flag=True, help="Export folder: replace every graph, not only the changed ones.")
@click.option("--dry-run", is_flag=True, help="Export folder: say what a sync would send, send nothing.")
@taxonomy_option(
    "sources only; loaded as its own graph with topics linked to its concepts, as kg export "
    "--taxonomy writes them."
)
@verbosity_options
@selection_options
def command(
    data: tuple[Path, ...],
    store_dir: Path,
    endpoint: str | None,
    query_endpoint: str | None,
    user: str | None,
    password: str | None,
    timeout: float,
    retries: int,
    base_iri: str,
    jobs: int | None,
    full: bool,
    dry_run: bool,
    taxonomy: Path | None,
    quiet: bool,
    verbose: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    config_file: Path | None,
) -> None:
    """Load curations into a store, replacing each curation's named graph.

    DATA is an export folder (written by kg export), curation sources (.md files, folders),
    exported in memory first, or RDF files: .nq and .trig keep their graphs; .ttl, .nt,
    .jsonld, ... go into a graph named after the file. With no DATA, the bundled example
    curations. Loading twice changes nothing; a changed curation keeps only its new values.

    An export folder is synced: only graphs that changed since the store's last sync are
    replaced, graphs of removed curations are dropped, and the store ends equal to a fresh
    load of the export (state kept in the store's graph {base}graph/kg-sync; an interrupted
    sync is completed by running it again).

    Sources with --taxonomy FILE are loaded as kg export --taxonomy writes them: the taxonomy's
    graph too, each topic linked to its concept, a warning for each topic not in it (listed
    with --verbose).

    The store is the embedded one in --store, or a remote one with --endpoint (SPARQL 1.1
    Graph Store HTTP Protocol: one PUT or DELETE per graph; e.g. Oxigraph's /store, Fuseki's
    /DATASET/data). Exit 0: loaded; 1: loaded, but some source files failed to export;
    2: nothing or not everything loaded. A progress bar shows on stderr when it is a terminal;
    --quiet says only errors (the files that failed, why a load stopped), --verbose also each
    source file (loading sources) or each graph replaced or dropped (syncing).

    \b
    Example:
      kg export ../shared/corpus/curations -o outputs && kg load outputs --store .kg-store
      kg load outputs --endpoint http://localhost:7878/store --dry-run
      kg load ../shared/corpus/curations --store .kg-store
      kg load outputs/curations.nq --endpoint http://localhost:7878/store
    """
    log_to_stderr()
    verbosity = verbosity_of(quiet, verbose)
    select = selection(config_file, include, exclude)  # sources only: an export folder is as exported
    where = _Where(store_dir, endpoint, query_endpoint, user, password, timeout, retries)
    paths, exports = _paths(data, where, full, dry_run)
    _sources_only(paths, exports, bool(include or exclude), taxonomy)
    if exports:
        _sync_export(exports[0], where.open, full, dry_run, verbosity)
    _load(paths, where.open, base_iri, jobs, verbosity, select, taxonomy)
