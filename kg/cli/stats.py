"""`kg stats`: the size and shape of a knowledge graph (an export folder, the embedded store,
files or an endpoint), a thin call into kg.publish.stats.

May touch: kg.publish.stats and kg.store (through kg.cli.lazy).
"""

from __future__ import annotations

from pathlib import Path

import click

from kg.cli import lazy
from kg.cli.options import given, read_target_options, remote_options


@click.command("stats")
@click.argument("export_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@read_target_options("Count")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people; json for programs.",
)
@remote_options
def command(
    export_dir: Path | None,
    store_dir: Path,
    data: tuple[Path, ...],
    endpoint: str | None,
    fmt: str,
    user: str | None,
    password: str | None,
    timeout: float,
    retries: int,
) -> None:
    """Print triples, curations, distinct topics, brands and communities, instances per class
    and triples per property.

    Of an export folder (EXPORT_DIR) they are read from its void.ttl, without loading it;
    otherwise counted by library queries on the curation graphs of the embedded store
    (--store), of --data files or sources, or of an --endpoint. Exit 0: printed; 2: error.

    \b
    Example:
      kg stats outputs
      kg stats --store .kg-store --format json
      kg stats --endpoint http://localhost:7878/query
    """
    stats = lazy.stats
    if sum([export_dir is not None, bool(data), endpoint is not None, given("store_dir")]) > 1:
        raise click.UsageError("choose one of EXPORT_DIR, --store, --data, --endpoint")
    if export_dir is not None:
        if not stats.is_export_folder(export_dir):
            raise click.BadParameter(
                f"{export_dir} holds no void.ttl: not an export folder (use --data for RDF files)",
                param_hint="EXPORT_DIR",
            )
        found = stats.of_export(export_dir)
    elif endpoint is not None:
        remote = lazy.http.Endpoint.from_env(
            endpoint, user=user, password=password, timeout=timeout, retries=retries
        )
        found = stats.of_store(remote)
    elif data:
        found = stats.of_store(list(data))
    else:
        found = stats.of_store(lazy.load.open_store(store_dir, read_only=True))
    click.echo(found.table() if fmt == "table" else found.json(), nl=False)
