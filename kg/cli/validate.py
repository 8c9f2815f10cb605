"""`kg validate`: RDF files or curation sources against the SHACL shapes, a thin call into
kg.validation; the report written with kg.write.files' atomic writer.

May touch: kg.validation (through kg.cli.lazy), kg.write.files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.cli import lazy
from kg.cli.errors import worded
from kg.cli.options import ENGINE_NAMES, base_iri_option, engine_named
from kg.map.curation import IriScheme
from kg.resources import examples_dir
from kg.write.files import atomic_writer


@click.command("validate")
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
@base_iri_option
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default="auto",
    show_default=True,
    help="SHACL engine: auto (kg's fast engine for every shape it evaluates exactly, pySHACL for "
    "the others, named in the report), fast (refuses shapes it cannot evaluate exactly), or pySHACL.",
)
def command(
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
    threshold = lazy.model.severity_named(fail_on)
    report = lazy.validate.validate_inputs(
        list(data) or [examples_dir()],
        lazy.validate.load_shapes(shapes),
        iris=IriScheme(base_iri),
        engine=engine_named(engine),
    )
    text = lazy.reports.render(report, fmt.lower(), threshold)
    if output is None:
        click.echo(text, nl=False)
    else:
        with worded(OSError, lambda exc: f"cannot write {output}: {exc}"), atomic_writer(output) as handle:
            handle.write(text.encode("utf-8"))
        click.echo(lazy.reports.summary(report, threshold) + f" -> {output}", err=True)
    sys.exit(0 if report.conforms(threshold) else 1)
