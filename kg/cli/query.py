"""`kg query`: a library query, a query file or SPARQL text against the embedded store, files
or an endpoint, a thin call into kg.sparql.query.

May touch: kg.sparql.query and kg.store (through kg.cli.lazy), kg.write.files (the atomic writer).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kg.cli import lazy
from kg.cli.errors import worded
from kg.cli.options import given, log_to_stderr, read_target_options, remote_options
from kg.write.files import atomic_writer

if TYPE_CHECKING:
    from kg.sparql.query import Target
    from kg.sparql.results import Results


def _values(params: tuple[str, ...]) -> dict[str, str]:
    """--param NAME=VALUE items -> {name: value}; a usage error otherwise."""
    values: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--param")
        values[name.strip()] = value
    return values


def _rendered(results: Results, fmt: str, width: int | None) -> bytes:
    """The answer as `fmt`, the bytes of the W3C format (graph results: N-Triples whatever
    `fmt`); a table no wider than `width` columns when given."""
    if results.kind == "graph":
        return results.data
    if fmt == "table":
        return (lazy.results.format_table(results, width) + "\n").encode("utf-8")
    return results.serialize(fmt)


def _rows(results: Results, limit: int | None, why: str = "--limit") -> str:
    """`(N rows)`, and whether a limit (`why`: --limit, or the query's default) may have cut them."""
    count = len(results.terms()) if results.kind == "solutions" else len(results.data.splitlines())
    noun = ("row" if results.kind == "solutions" else "triple") + ("s" if count != 1 else "")
    cut = f", the first {limit}: {why}" if limit is not None and count == limit else ""
    return f"({count} {noun}{cut})"


def _emit(results: Results, fmt: str, output: Path | None, limit: int | None, why: str = "--limit") -> None:
    """Print the answer (a table fitted to the terminal when stdout is one), or write it to
    `output` atomically (a table there at its full width)."""
    counted = results.kind != "boolean"
    if output is not None:
        data = _rendered(results, fmt, None)
        with worded(OSError, lambda exc: f"cannot write {output}: {exc}"), atomic_writer(output) as handle:
            handle.write(data)
        click.echo(f"kg query: {_rows(results, limit, why) if counted else 'answer'} -> {output}", err=True)
        return
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    out = _rendered(results, fmt, width)
    click.echo(out, nl=not out.endswith(b"\n"))
    if counted and (fmt == "table" or limit is not None):
        click.echo(_rows(results, limit, why), err=True)


@click.command("query")
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
@read_target_options("Query")
@click.option("--sparql", default=None, help="Run this SPARQL text instead of a named query.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the results to this file (replaced atomically) instead of printing them.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="At most N rows (triples of a CONSTRUCT): reading stops there; the query text is not changed. "
    "Default: all rows, or the query's own default (topic-cooccurrence: 100).",
)
@click.option(
    "--offset",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Skip the first N rows (with --limit: the next page), read and dropped as --limit reads.",
)
@click.option("--all", "every_row", is_flag=True, help="Every row, even of a query with a default limit.")
@click.option("--list", "list_queries", is_flag=True, help="List the query library and exit.")
@click.option(
    "--show", is_flag=True, help="Print the query as it would be sent (parameters bound), do not run it."
)
@remote_options
def command(
    query: str | None,
    params: tuple[str, ...],
    fmt: str,
    store_dir: Path,
    data: tuple[Path, ...],
    endpoint: str | None,
    sparql: str | None,
    output: Path | None,
    limit: int | None,
    offset: int,
    every_row: bool,
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
    SPARQL updates are refused. On a terminal the table fits its width (long cells cut with
    …); -o writes the results to a file, csv, tsv and json as the W3C formats say. Exit 0:
    answered; 2: error.

    \b
    Example:
      kg query --list
      kg query topic-counts --limit 10
      kg query topic-cooccurrence --limit 20 --offset 20
      kg query curations-by-topic --param topic=Telehealth --format csv
      kg query search -p text="symptom checker" --data outputs/curations.nq
      kg query brand-counts --format csv -o brands.csv
      kg query --sparql 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'
      kg query brand-counts --endpoint http://localhost:7878/query
    """
    library = lazy.library
    log_to_stderr()
    if list_queries:
        click.echo(library.describe_library())
        return
    if (query is None) == (sparql is None):
        raise click.UsageError("give a query NAME or FILE.rq, or --sparql TEXT (or --list)")
    if sum([bool(data), endpoint is not None, given("store_dir")]) > 1:
        raise click.UsageError("choose one of --store, --data, --endpoint")
    values = _values(params)
    named = library.adhoc(sparql) if sparql is not None else library.resolve(query or "")
    if show:
        click.echo(lazy.binding.bind(named.text(), named.bindings(values)))
        return
    if every_row and limit is not None:
        raise click.UsageError("--all and --limit exclude each other")
    target = _target(store_dir, data, endpoint, user, password, timeout, retries)
    shown = limit if limit is not None or every_row else named.default_limit
    why = "--limit" if limit is not None else "the query's default limit; --limit N or --all for more"
    results = lazy.query.execute(named, target, values, limit, offset, default_limit=not every_row)
    _emit(results, fmt, output, shown, why)


def _target(
    store_dir: Path,
    data: tuple[Path, ...],
    endpoint: str | None,
    user: str | None,
    password: str | None,
    timeout: float,
    retries: int,
) -> Target:
    """What the query runs on: the endpoint, the files (--data) or the embedded store."""
    if endpoint is not None:
        return lazy.http.Endpoint.from_env(
            endpoint, user=user, password=password, timeout=timeout, retries=retries
        )
    if data:
        return list(data)
    return lazy.load.open_store(store_dir, read_only=True)
