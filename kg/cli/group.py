"""The `kg` click group: the commands of kg.cli's modules under one name, with --version and
-h; every command runs inside kg.pipeline.export's `interruptible` (signals end it in order) and
kg.cli.errors' `Commands` (errors become exit codes).

May touch: click and the command modules of kg.cli.
"""

from __future__ import annotations

import click

from kg.cli import export, load, query, report, serve, stats, taxonomy, validate
from kg.cli.errors import Commands
from kg.pipeline.export import interruptible
from kg.version import __version__


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
def main() -> None:
    """kg: turn Medigy curations into a validated, queryable RDF knowledge graph."""
    click.get_current_context().with_resource(interruptible())


for _module in (export, validate, load, query, stats, serve, report, taxonomy):
    main.add_command(_module.command)
