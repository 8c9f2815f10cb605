"""The `kg` command line: a thin layer over kg.pipeline, kg.validation, kg.store and kg.sparql.

Exit codes, in pySHACL's spirit: 0 success, 1 some input failed (or does not conform),
2 usage or fatal error.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from click.core import ParameterSource

from kg import __version__
from kg.map.curation import IriScheme
from kg.pipeline.export import FORMATS, ExportReport, Interrupted, StrictError, export, interruptible
from kg.rdf.namespaces import DEFAULT_BASE_IRI
from kg.read.sources import SourceError
from kg.resources import examples_dir

if TYPE_CHECKING:
    from kg.shacl.engine import Engine
    from kg.store import sync as sync_module

#: kg.store.load, kg.store.http and kg.sparql.query import pyoxigraph and requests (~0.1 s, a tenth of an
#: incremental export's time), so only the `load` and `query` commands import them. Copies of
#: kg.store.load.DEFAULT_STORE and kg.store.http's USER_ENV and PASSWORD_ENV, which option definitions
#: need before those modules are imported (a test checks they are equal):
DEFAULT_STORE = Path(".kg-store")
USER_ENV = "KG_STORE_USER"
PASSWORD_ENV = "KG_STORE_PASSWORD"

FORMAT_ALIASES = {"ttl": "turtle", "json-ld": "jsonld", "nt": "ntriples", "nq": "nquads"}


def _formats(values: tuple[str, ...]) -> list[str]:
    chosen: list[str] = []
    for value in values:
        for name in value.split(","):
            name = FORMAT_ALIASES.get(name.strip().lower(), name.strip().lower())
            if name == "all":
                return list(FORMATS)
            if name not in FORMATS:
                raise click.BadParameter(
                    f"unknown format {name!r}; choose from {', '.join(FORMATS)} or all",
                    param_hint="--format",
                )
            if name not in chosen:
                chosen.append(name)
    return chosen or list(FORMATS)


def _check_base_iri(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--base-iri and --asset-base: refused (exit 2) when IRIs minted under them would not parse."""
    if value is not None:
        try:
            IriScheme(value) if param.name == "base_iri" else IriScheme(asset_base=value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


#: --base-iri, shared by every command that mints IRIs (export, validate and load on sources).
_base_iri_option = click.option(
    "--base-iri",
    default=DEFAULT_BASE_IRI,
    show_default=True,
    callback=_check_base_iri,
    help="Base under which curation, topic, brand... IRIs are minted (sources only).",
)


def _interrupted(command: str, exc: KeyboardInterrupt, outcome: str = "") -> NoReturn:
    """Exit 2 with one line; after a real signal at once (no thread or pool is waited for:
    the command's cleanup has run, see `kg.pipeline.export.interruptible`)."""
    by = f" by {exc.signame}" if isinstance(exc, Interrupted) else ""
    click.echo(f"kg {command}: interrupted{by}{outcome}", err=True)
    if isinstance(exc, Interrupted):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(2)
    sys.exit(2)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns


class _Commands(click.Group):
    """kg's commands: SIGINT, SIGTERM and SIGHUP end any of them with exit 2 and a message."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:  # click would say "Aborted!" and exit 1
            _interrupted(ctx.invoked_subcommand or "", exc)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
def main() -> None:
    """kg: turn Medigy curations into a validated, queryable RDF knowledge graph."""
    click.get_current_context().with_resource(interruptible())


@main.command("export")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("outputs"),
    show_default=True,
    help="Output folder.",
)
@click.option(
    "-f",
    "--format",
    "formats",
    multiple=True,
    help="turtle, jsonld, ntriples, nquads or all (repeat or comma-separate). Default: all.",
)
@_base_iri_option
@click.option(
    "--asset-base",
    default=None,
    callback=_check_base_iri,
    help="Base IRI for relative image/PDF hrefs. Default: BASE-IRI + 'asset/'.",
)
@click.option("--strict", is_flag=True, help="Stop at the first problem (exit 2), write nothing.")
@click.option(
    "--validate",
    "run_validation",
    is_flag=True,
    help="Also validate the exported graph with the packaged shapes (summary on stderr; "
    "exit 1 on violations).",
)
@click.option(
    "--full",
    is_flag=True,
    help="Process every file again instead of reusing those unchanged since the last export in OUTPUT.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: all cores for large inputs).",
)
def export_command(
    sources: tuple[Path, ...],
    out_dir: Path,
    formats: tuple[str, ...],
    base_iri: str,
    asset_base: str | None,
    strict: bool,
    jobs: int | None,
    run_validation: bool,
    full: bool,
) -> None:
    """Export curations (files or folders of *.md) to RDF files in OUTPUT.

    With no SOURCES, exports the bundled example curations. Writes curations.ttl,
    curations.jsonld, curations.nt, curations.nq (one named graph per curation) and
    report.json (every input file with its status). Exit 0: all exported; 1: some failed
    (the rest are still written); 2: usage or fatal error.

    Incremental: OUTPUT keeps a manifest (.kg-manifest.json) of the last export; files
    unchanged since are not processed again (the outputs are the same bytes as a full export).

    \b
    Example:
      kg export ../shared/corpus/curations -o outputs/corpus --format turtle,nquads
      kg export ../shared/corpus/curations --validate   # same as kg validate on the sources
    """
    chosen = _formats(formats)
    paths = list(sources) or [examples_dir()]
    show_progress = sys.stderr.isatty()
    bar = None
    if show_progress:
        bar = click.progressbar(length=0, label="exporting", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if bar is not None and total >= 200:
            bar.length = total
            bar.update(done - bar.pos)

    written = _identity(out_dir / "report.json")  # renamed last: a new one means new outputs
    try:
        report = export(
            paths,
            out_dir,
            chosen,
            IriScheme(base_iri, asset_base),
            strict=strict,
            jobs=jobs,
            progress=progress if show_progress else None,
            shapes=_packaged_shapes() if run_validation else (),
            full=full,
        )
    except SourceError as exc:
        raise click.UsageError(str(exc)) from None
    except StrictError as exc:
        click.echo(f"kg export: --strict: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"kg export: cannot write outputs: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # a bug in kg: still exit 2 (fatal), not 1 ("some files failed")
        traceback.print_exc()
        click.echo(f"kg export: internal error: {type(exc).__name__}: {exc}; nothing was replaced", err=True)
        sys.exit(2)
    except KeyboardInterrupt as exc:  # click would exit 1, which means "some files failed"
        replaced = _identity(out_dir / "report.json") != written  # (stopped once they were)
        _interrupted("export", exc, "; the outputs were written" if replaced else "; nothing was replaced")
    finally:
        if bar is not None:
            bar.render_finish()
    click.echo(report.summary(out_dir), err=True)
    validated = _report_validation(report) if run_validation else 0
    sys.exit(max(report.exit_code(), validated))


# --- kg validate ------------------------------------------------------------------------------


#: SHACL engines `kg validate --engine` chooses from; each returns a SHACL report graph.
ENGINE_NAMES = ("auto", "fast", "pyshacl")


def _engine(name: str) -> Engine:
    """The engine called `name`, imported only when needed (pySHACL is slow to import)."""
    from kg.shacl.fast import auto_engine, fast_engine
    from kg.shacl.reference import pyshacl_engine

    return {"auto": auto_engine, "fast": fast_engine}.get(name, pyshacl_engine)


def _packaged_shapes() -> list[Path]:
    from kg.shacl.engine import ValidationError
    from kg.validation.validate import shape_files

    try:
        return shape_files()
    except ValidationError as exc:
        raise click.UsageError(str(exc)) from None


def _report_validation(report: ExportReport) -> int:
    """`kg export --validate`: the results the workers found; summary and violations on stderr."""
    from kg.validation.provenance import report_from_pipeline
    from kg.validation.reports import text_report

    assert report.validation is not None
    validation = report_from_pipeline(report.validation, report.graph_files, report.triples)
    click.echo(text_report(validation, "Violation", show="Violation").rstrip("\n"), err=True)
    return 0 if validation.conforms("Violation") else 1


@main.command("validate")
@click.argument("data", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle", "junit"], case_sensitive=False),
    default="text",
    show_default=True,
    help="Report format: text grouped by source file, a JSON list of results, the SHACL report "
    "graph in Turtle, or JUnit XML (one test case per source file).",
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report to FILE (atomically) instead of stdout; the summary goes to stderr.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["violation", "warning", "info"], case_sensitive=False),
    default="violation",
    show_default=True,
    help="Lowest severity that fails (exit 1).",
)
@click.option(
    "--shapes",
    "shapes",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder (or file) of SHACL shapes to use instead of the packaged ones.",
)
@_base_iri_option
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default="auto",
    show_default=True,
    help="SHACL engine: auto (kg's fast engine for every shape it evaluates exactly, pySHACL for "
    "the others, named in the report), fast (refuses shapes it cannot evaluate exactly), or pySHACL.",
)
def validate_command(
    data: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    fail_on: str,
    shapes: Path | None,
    base_iri: str,
    engine: str,
) -> None:
    """Validate RDF files or curation sources against the SHACL shapes.

    DATA are RDF files, read by extension (.ttl, .nt, .nq, .trig, .jsonld; the union of the
    graphs of N-Quads and TriG), or curation sources (.md files and folders, exported in memory
    first). With no DATA, the bundled example curations. Each result names the source file and
    front-matter key. Exit 0: conforms at the --fail-on level; 1: does not; 2: the data or the
    shapes cannot be read.

    \b
    Example:
      kg validate ../shared/corpus/curations --format junit -o validation.xml
      kg validate outputs/curations.nq --fail-on warning
    """
    from kg.shacl.engine import ValidationError
    from kg.validation.model import severity_named
    from kg.validation.reports import render, summary
    from kg.validation.validate import load_shapes, validate_inputs
    from kg.write.formats import atomic_writer

    threshold = severity_named(fail_on)
    try:
        shapes_graph = load_shapes(shapes)
        report = validate_inputs(
            list(data) or [examples_dir()], shapes_graph, iris=IriScheme(base_iri), engine=_engine(engine)
        )
    except ValidationError as exc:
        click.echo(f"kg validate: {exc}", err=True)
        sys.exit(2)
    text = render(report, fmt.lower(), threshold)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            with atomic_writer(output) as handle:
                handle.write(text.encode("utf-8"))
        except OSError as exc:
            click.echo(f"kg validate: cannot write {output}: {exc}", err=True)
            sys.exit(2)
        click.echo(summary(report, threshold) + f" -> {output}", err=True)
    sys.exit(0 if report.conforms(threshold) else 1)


# --- load and query: the embedded store, files and remote SPARQL stores (issue 4) ----------

_store_option = click.option(
    "--store",
    "store_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_STORE,
    envvar="KG_STORE",
    show_default=True,
    help="Embedded store folder (env KG_STORE).",
)


def _remote_options(command: Callable[..., None]) -> Callable[..., None]:
    """--user/--password/--timeout/--retries, shared by the commands that talk to an endpoint."""
    for option in reversed(
        [
            click.option(
                "--user", envvar=USER_ENV, default=None, help=f"User for the endpoint (env {USER_ENV})."
            ),
            click.option(
                "--password",
                envvar=PASSWORD_ENV,
                default=None,
                help=f"Password for the endpoint; prefer the env var {PASSWORD_ENV}. Never printed.",
            ),
            click.option(
                "--timeout",
                type=click.FloatRange(min=0.1),
                default=60.0,
                show_default=True,
                help="Seconds per request, from connect to the last byte of the answer.",
            ),
            click.option(
                "--retries",
                type=click.IntRange(min=0),
                default=3,
                show_default=True,
                help="Retries on connection errors, HTTP 500/502/503/504 and 429 (exponential backoff).",
            ),
        ]
    ):
        command = option(command)
    return command


def _endpoint_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--endpoint: an http(s) URL with a host (exit 2 otherwise), checked before anything runs;
    the message never shows the URL's user-info."""
    if value is not None:
        from kg.store.http import RemoteError, check_url

        try:
            check_url(value)
        except RemoteError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def _log_to_stderr() -> None:
    logger = logging.getLogger("kg")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("kg: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _given(param: str) -> bool:
    """The option was set on the command line or from its environment variable."""
    source = click.get_current_context().get_parameter_source(param)
    return source not in (None, ParameterSource.DEFAULT)


def _fail(command: str, message: str) -> NoReturn:
    click.echo(f"kg {command}: {message}", err=True)
    sys.exit(2)


@main.command("load")
@click.argument("data", nargs=-1, type=click.Path(path_type=Path))
@_store_option
@click.option(
    "--endpoint",
    default=None,
    callback=_endpoint_url,
    help="Load into a remote store: its Graph Store Protocol URL.",
)
@click.option(
    "--query-endpoint",
    default=None,
    callback=_endpoint_url,
    help="Export folder, remote store: its SPARQL query URL, to list the graphs it holds "
    "(default: beside --endpoint, e.g. /store -> /query).",
)
@_remote_options
@_base_iri_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes for sources.")
@click.option("--full", is_flag=True, help="Export folder: replace every graph, not only the changed ones.")
@click.option("--dry-run", is_flag=True, help="Export folder: say what a sync would send, send nothing.")
def load_command(
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

    The store is the embedded one in --store, or a remote one with --endpoint (SPARQL 1.1
    Graph Store HTTP Protocol: one PUT or DELETE per graph; e.g. Oxigraph's /store, Fuseki's
    /DATASET/data). Exit 0: loaded; 1: loaded, but some source files failed to export;
    2: nothing or not everything loaded.

    \b
    Example:
      kg export ../shared/corpus/curations -o outputs && kg load outputs --store .kg-store
      kg load outputs --endpoint http://localhost:7878/store --dry-run
      kg load ../shared/corpus/curations --store .kg-store
      kg load outputs/curations.nq --endpoint http://localhost:7878/store
    """
    from kg.store import sync
    from kg.store.http import Endpoint, RemoteError
    from kg.store.load import DataError, LoadError, collect, load_endpoint, load_store, open_store

    _log_to_stderr()
    if endpoint is not None and _given("store_dir"):
        raise click.UsageError("choose one of --store, --endpoint")
    paths = list(data) or [examples_dir()]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise click.UsageError(f"no such file or folder: {missing[0]}")
    exports = [p for p in paths if sync.is_export_folder(p)]
    if exports and len(paths) > 1:
        raise click.UsageError(f"{exports[0]} is an export folder: sync it on its own, without other DATA")
    if (full or dry_run) and not exports:
        raise click.UsageError("--full and --dry-run apply to an export folder (written by kg export)")
    if query_endpoint is not None and (endpoint is None or not exports):
        raise click.UsageError("--query-endpoint applies to an export folder synced to an --endpoint")

    def open_target() -> sync.EmbeddedTarget | sync.RemoteTarget:
        if endpoint is not None:
            limits = {"user": user, "password": password, "timeout": timeout, "retries": retries}
            return sync.RemoteTarget(
                Endpoint.from_env(endpoint, **limits),
                Endpoint.from_env(query_endpoint, **limits) if query_endpoint else None,
            )
        return sync.EmbeddedTarget(open_store(store_dir), str(store_dir))

    if exports:
        _sync_export(exports[0], open_target, full, dry_run)
    try:
        collected = collect(paths, IriScheme(base_iri), jobs=jobs)
    except (DataError, SourceError) as exc:
        _fail("load", str(exc))
    for report in collected.reports:
        if report.count("failed"):
            click.echo(report.summary(None), err=True)
    try:
        target = open_target()
        try:
            sync.forget(target, base_iri, collected.graphs)
            if isinstance(target, sync.RemoteTarget):
                result = load_endpoint(target.endpoint, collected)
                where = f"PUT to {target.where}"
            else:
                result = load_store(target.store, collected)
                where = f"replaced in {store_dir}"
        finally:
            target.close()
    except (RemoteError, DataError) as exc:
        _fail("load", str(exc))
    except LoadError as exc:
        _fail("load", f"stopped at {exc.cause}\n{exc.details()}")
    click.echo(
        f"kg load: {result.graphs} graphs ({result.triples} triples) {where} in {result.seconds:.2f} s",
        err=True,
    )
    sys.exit(1 if collected.failed_files() else 0)


def _sync_export(
    folder: Path,
    open_target: Callable[[], sync_module.EmbeddedTarget | sync_module.RemoteTarget],
    full: bool,
    dry_run: bool,
) -> NoReturn:
    """`kg load EXPORT_FOLDER`: send what changed since the store's last sync, then exit."""
    from kg.pipeline.incremental import Manifest, ManifestError
    from kg.store import sync
    from kg.store.http import RemoteError
    from kg.store.load import DataError, LoadError

    try:
        manifest = Manifest(folder)
        target = open_target()
        try:
            result = sync.sync(target, manifest, full=full, dry_run=dry_run)
        finally:
            target.close()
    except (RemoteError, DataError, ManifestError) as exc:
        _fail("load", str(exc))
    except LoadError as exc:
        _fail("load", f"stopped at {exc.cause}\n{exc.details()}")
    todo = result.plan
    verb = "would sync" if dry_run else "synced"
    since = "" if todo.had_state else " (no usable sync state in the store: every graph sent)"
    click.echo(
        f"kg load: {verb} export {todo.export[:12]} to {target.where}: {todo.summary()}{since}"
        + ("" if dry_run else f"; {result.triples} triples in {result.seconds:.2f} s"),
        err=True,
    )
    failed = manifest.failed_files()
    if failed:
        click.echo(f"kg load: {failed} source files failed to export (see {folder}/report.json)", err=True)
    sys.exit(1 if failed else 0)


@main.command("query")
@click.argument("query", required=False)
@click.option(
    "-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="A query parameter (repeat)."
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "tsv", "json"]),
    default="table",
    show_default=True,
    help="table for people; csv, tsv, json: W3C SPARQL results formats.",
)
@_store_option
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Query these RDF files or curation sources instead of a store (repeat).",
)
@click.option(
    "--endpoint",
    default=None,
    callback=_endpoint_url,
    help="Query a remote store: its SPARQL 1.1 Protocol query URL.",
)
@click.option("--sparql", default=None, help="Run this SPARQL text instead of a named query.")
@click.option("--list", "list_queries", is_flag=True, help="List the query library and exit.")
@click.option(
    "--show", is_flag=True, help="Print the query as it would be sent (parameters bound), do not run it."
)
@_remote_options
def query_command(
    query: str | None,
    params: tuple[str, ...],
    fmt: str,
    store_dir: Path,
    data: tuple[Path, ...],
    endpoint: str | None,
    sparql: str | None,
    list_queries: bool,
    show: bool,
    user: str | None,
    password: str | None,
    timeout: float,
    retries: int,
) -> None:
    """Run a library query (NAME), a query file (FILE.rq) or --sparql text, and print results.

    Reads the embedded store (--store) unless --data or --endpoint is given. Parameters are
    bound as typed RDF terms, never pasted into the query text. Queries are read-only:
    SPARQL updates are refused. Exit 0: answered; 2: error.

    \b
    Example:
      kg query --list
      kg query topic-counts
      kg query curations-by-topic --param topic=Telehealth --format csv
      kg query search -p text="symptom checker" --data outputs/curations.nq
      kg query --sparql 'SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }'
      kg query brand-counts --endpoint http://localhost:7878/query
    """
    from kg.sparql.binding import QueryError, bind
    from kg.sparql.library import adhoc, describe_library, resolve
    from kg.sparql.query import Target, execute
    from kg.sparql.results import format_table
    from kg.store.http import Endpoint, RemoteError
    from kg.store.load import DataError, open_store

    _log_to_stderr()
    if list_queries:
        click.echo(describe_library())
        return
    if (query is None) == (sparql is None):
        raise click.UsageError("give a query NAME or FILE.rq, or --sparql TEXT (or --list)")
    if sum([bool(data), endpoint is not None, _given("store_dir")]) > 1:
        raise click.UsageError("choose one of --store, --data, --endpoint")
    values: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--param")
        values[name.strip()] = value
    try:
        named = adhoc(sparql) if sparql is not None else resolve(query or "")
        if show:
            click.echo(bind(named.text(), named.bindings(values)))
            return
        target: Target
        if endpoint is not None:
            target = Endpoint.from_env(
                endpoint, user=user, password=password, timeout=timeout, retries=retries
            )
        elif data:
            target = list(data)
        else:
            target = open_store(store_dir, read_only=True)
        results = execute(named, target, values)
    except (QueryError, DataError, RemoteError, SourceError) as exc:
        _fail("query", str(exc))
    if results.kind == "graph":
        click.echo(results.data.decode("utf-8"), nl=False)
    elif fmt == "table":
        click.echo(format_table(results))
        if results.kind == "solutions":
            count = len(results.terms())
            click.echo(f"({count} row{'s' if count != 1 else ''})", err=True)
    else:
        out = results.serialize(fmt)
        click.echo(out, nl=not out.endswith(b"\n"))


# --- kg serve: a SPARQL endpoint with a browser UI (issue 16) -----------------------------------


@main.command("serve")
@click.argument("data", nargs=-1, type=click.Path(exists=True, path_type=Path))
@_store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=7878,
    show_default=True,
    help="Port to listen on; 0 picks a free one (the URL is printed).",
)
@click.option(
    "--writable", is_flag=True, help="Accept SPARQL updates and Graph Store writes (default: read-only)."
)
@_base_iri_option
def serve_command(
    data: tuple[Path, ...], store_dir: Path, host: str, port: int, writable: bool, base_iri: str
) -> None:
    """Serve a store over HTTP: a SPARQL 1.1 Protocol endpoint and a query page for the browser.

    Serves the embedded store (--store), or DATA (an export folder, RDF files or curation
    sources, as kg load takes them), loaded first into --store when given, else into a
    temporary store removed on exit. The server is Oxigraph's (the `oxigraph` binary installed
    with kg); the default graph is the union of the named graphs, so queries need no GRAPH.
    Read-only unless --writable. Prints "serving at URL" once the endpoint answers; Ctrl-C or
    SIGTERM stops it. Endpoints: URL/query (SPARQL), URL/update and URL/store (with
    --writable). Exit 0: stopped cleanly; 2: cannot start (port in use, no store, bad DATA).

    \b
    Example:
      kg serve                                # .kg-store/ at http://127.0.0.1:7878/
      kg serve outputs --port 0               # an export folder, in a temporary store
      kg serve ../shared/corpus/curations --store .kg-store --writable
    """
    from kg.pipeline.incremental import ManifestError
    from kg.store.http import RemoteError
    from kg.store.load import DataError, LoadError
    from kg.store.serve import Options, ServeError, serve

    options = Options(
        store_dir=store_dir if _given("store_dir") or not data else None,
        data=list(data),
        host=host,
        port=port,
        writable=writable,
        base_iri=base_iri,
    )

    def announce(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    try:
        code = serve(options, say=lambda line: click.echo(line, err=True), announce=announce)
    except (ServeError, DataError, SourceError, ManifestError, RemoteError) as exc:
        _fail("serve", str(exc))
    except LoadError as exc:
        _fail("serve", f"loading stopped at {exc.cause}\n{exc.details()}")
    except KeyboardInterrupt:
        _fail("serve", "interrupted while loading, before serving")
    sys.exit(code)


# --- report: one HTML page per export (issue 16) -------------------------------------------------


@main.command("report")
@click.argument("export_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("outputs"))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="The page to write.  [default: EXPORT_DIR/report.html]",
)
@click.option(
    "--sources", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="The folder the export read, so the page links each file it names.",
)
@click.option("--no-validate", is_flag=True, help="Leave out the validation results (faster).")
@click.option(
    "--shapes", type=click.Path(path_type=Path), default=None, help="SHACL shapes (default: kg's own)."
)
@click.option(
    "--engine", type=click.Choice(ENGINE_NAMES), default="auto", show_default=True,
    help="SHACL engine for the validation results.",
)
def report_command(
    export_dir: Path,
    output: Path | None,
    sources: Path | None,
    no_validate: bool,
    shapes: Path | None,
    engine: str,
) -> None:
    """Write one self-contained HTML page about an export folder (written with N-Quads).

    Coverage per community, owlType and work-package type; curations per month; top topics
    per scheme and top brands (charts, each with its numbers); validation results by
    severity and shape, linked to the files; quality gaps; the run's file accounting. The
    page loads nothing from anywhere. Exit 0: written; 2: the folder or the shapes cannot be
    used, or the page cannot be written.

    \b
    Example:
      kg export ../shared/corpus/curations -o /tmp/corpus
      kg report /tmp/corpus --sources ../shared/corpus/curations
    """
    from kg.publish.report import REPORT_PAGE, ReportPageError, gather, render
    from kg.shacl.engine import ValidationError
    from kg.validation.validate import load_shapes, validate_inputs
    from kg.write.formats import atomic_writer

    page = output or export_dir / REPORT_PAGE
    try:
        validation = None
        if not no_validate:
            nquads = export_dir / "curations.nq"
            if not nquads.is_file():
                raise ReportPageError(f"{nquads}: not found (the page is made from an export with N-Quads)")
            validation = validate_inputs([nquads], load_shapes(shapes), engine=_engine(engine))
        text = render(gather(export_dir, validation, sources), page.parent)
    except (ReportPageError, ValidationError) as exc:
        _fail("report", str(exc))
    try:
        with atomic_writer(page) as handle:
            handle.write(text.encode("utf-8"))
    except OSError as exc:
        _fail("report", f"cannot write {page}: {exc}")
    click.echo(f"kg report: {page}", err=True)


# --- the topic taxonomy as a SKOS graph (issue 15) -------------------------------------------


@main.command("taxonomy")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the SKOS graph to FILE: .nq (in its named graph graph/taxonomy), .nt or .ttl.",
)
@click.option(
    "--check",
    "check",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Curation sources (files or folders) whose topics are matched against the taxonomy; "
    "a topic that is not an exact match is a warning. Repeatable.",
)
@_base_iri_option
def taxonomy_command(file: Path, output: Path | None, check: tuple[Path, ...], base_iri: str) -> None:
    """Read the site's topic taxonomy (its JSON) and write it as a SKOS graph.

    FILE is the site's category-whole-data.json as it is. The graph holds a skos:ConceptScheme
    per source and a skos:Concept per topic, with the same IRIs as the topics curations link
    to, definitions, hierarchy and cross-source skos:closeMatch links (docs/taxonomy.md).
    Problems name the file, record and field. Exit 0: done (warnings allowed); 1: some records
    could not be used (the rest are written); 2: the file cannot be read, or a usage error.

    \b
    Example:
      kg taxonomy ../shared/corpus/taxonomy/category-whole-data.json -o taxonomy.nq
      kg load outputs/curations.nq taxonomy.nq
      kg taxonomy ../shared/corpus/taxonomy/category-whole-data.json --check ../shared/corpus/curations
    """
    from kg.map import taxonomy as tx

    if output is not None:
        try:
            tx.format_for(output)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--output") from None
    iris = IriScheme(base_iri)
    try:
        read = tx.read_taxonomy(file)
        graph = tx.taxonomy_rdf(read, iris)
        checked = tx.check_sources(tx.TopicMatcher.from_taxonomy(read, iris), list(check)) if check else None
    except (tx.TaxonomyError, SourceError) as exc:
        _fail("taxonomy", str(exc))
    for problem in graph.problems:
        click.echo(f"kg taxonomy: {problem.severity}: {problem}", err=True)
    if output is not None:
        try:
            tx.write_taxonomy(graph, output, iris.base)
        except OSError as exc:
            _fail("taxonomy", f"cannot write {output}: {exc.strerror or exc}")
    click.echo(
        f"kg taxonomy: {len(read.records)} records -> {graph.concepts} concepts in {graph.schemes} schemes, "
        f"{graph.definitions} with a definition, {graph.broader_links} broader links, "
        f"{graph.concepts_with_matches} with closeMatch links ({graph.close_matches} triples)"
        + (f" -> {output}" if output is not None else ""),
        err=True,
    )
    if checked is not None:
        for line in checked.warnings():
            click.echo(f"kg taxonomy: warning: {line}", err=True)
        counts = ", ".join(f"{n} {kind}" for kind, n in checked.counts().items())
        click.echo(
            f"kg taxonomy: {len(checked.matches)} distinct topics in {checked.curations} curations: {counts}",
            err=True,
        )
    sys.exit(1 if read.errors else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
