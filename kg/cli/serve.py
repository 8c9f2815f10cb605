"""`kg serve`: a SPARQL endpoint with a browser query page over a store, a thin call into
kg.store.serve.

May touch: kg.store.serve and kg.store.load's errors (through kg.cli.lazy).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.cli import lazy
from kg.cli.errors import worded
from kg.cli.load import stopped_at
from kg.cli.options import base_iri_option, given, store_option


def _announce(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()


def _say(line: str) -> None:
    click.echo(line, err=True)


@click.command("serve")
@click.argument("data", nargs=-1, type=click.Path(exists=True, path_type=Path))
@store_option
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
@base_iri_option
def command(
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
    server = lazy.serve
    options = server.Options(
        store_dir=store_dir if given("store_dir") or not data else None,
        data=list(data),
        host=host,
        port=port,
        writable=writable,
        base_iri=base_iri,
    )
    with (
        worded(lazy.load.LoadError, lambda exc: f"loading {stopped_at(exc)}"),
        worded(KeyboardInterrupt, lambda exc: "interrupted while loading, before serving"),
    ):
        code = server.serve(options, say=_say, announce=_announce)
    sys.exit(code)
