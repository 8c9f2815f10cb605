"""`kg validate`: RDF files or curation sources against the SHACL shapes, a thin call into
kg.validation; the report written with kg.write.files' atomic writer.

May touch: kg.validation (through kg.cli.lazy), kg.write.files.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kg.cli import lazy
from kg.cli.errors import worded
from kg.cli.options import (
    ENGINE_NAMES,
    base_iri_option,
    engine_named,
    selection,
    selection_options,
    taxonomy_option,
)
from kg.cli.progress import Verbosity, progress_bar, verbosity_of, verbosity_options
from kg.map.curation import IriScheme
from kg.read.selection import Selection
from kg.resources import examples_dir
from kg.write.files import atomic_writer

if TYPE_CHECKING:  # the validation modules are imported lazily (kg.cli.lazy)
    from rdflib import Graph

    from kg.validation.model import Severity, ValidationReport


@click.command("validate")
@click.argument("data", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle", "junit", "sarif"], case_sensitive=False),
    default="text",
    show_default=True,
    help="Report format: text grouped by source file (each result at path:line:col), a JSON list "
    "of results, the SHACL report graph in Turtle, JUnit XML (one test case per source file), or "
    "SARIF 2.1.0 (GitHub code scanning).",
)
@click.option(
    "--path-base",
    "path_base",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder that JUnit and SARIF file paths are relative to (default: each file's repository "
    "root, the nearest folder above it with .git, else the current folder).",
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
@taxonomy_option(
    "sources only; exported with them as kg export --taxonomy does: a warning for each topic not "
    "in it, with its file, key and line."
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
@verbosity_options
@selection_options
def command(
    data: tuple[Path, ...],
    fmt: str,
    path_base: Path | None,
    output: Path | None,
    fail_on: str,
    shapes: Path | None,
    taxonomy: Path | None,
    base_iri: str,
    engine: str,
    quiet: bool,
    verbose: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    config_file: Path | None,
) -> None:
    """Validate RDF files or curation sources against the SHACL shapes.

    DATA are RDF files, read by extension (.ttl, .nt, .nq, .trig, .jsonld; the union of the
    graphs of N-Quads and TriG), or curation sources (.md files and folders, exported in memory
    first). With no DATA, the bundled example curations. Each result names the source file and
    front-matter key, and on sources its line and column. Exit 0: conforms at the --fail-on
    level; 1: does not; 2: the data or the shapes cannot be read.

    A progress bar shows on stderr when it is a terminal. --quiet lists only the results at or
    above --fail-on in the text report and says nothing on stderr unless the data does not
    conform; --verbose adds a line per source file on stderr. With --taxonomy FILE, sources are
    exported with the site's taxonomy (as kg export --taxonomy does): its graph is validated too,
    and each topic not in it is a warning at its file, key and line.

    \b
    Example:
      kg validate ../shared/corpus/curations --format junit -o validation.xml
      kg validate curations --format sarif -o kg.sarif
      kg validate outputs/curations.nq --fail-on warning
    """
    threshold = lazy.model.severity_named(fail_on)
    verbosity = verbosity_of(quiet, verbose)
    select = selection(config_file, include, exclude)
    shapes_graph = lazy.validate.load_shapes(shapes)
    report = _validate(
        list(data) or [examples_dir()], shapes_graph, _How(base_iri, engine, select, taxonomy), verbosity
    )
    _say_per_file(report, threshold, verbosity)
    show = threshold if verbosity == "quiet" else "Info"
    text = lazy.reports.render(
        report, fmt.lower(), threshold, shapes=shapes_graph, path_base=path_base, show=show
    )
    conforms = report.conforms(threshold)
    if output is None:
        click.echo(text, nl=False)
    else:
        _write(output, text)
        if verbosity != "quiet" or not conforms:
            click.echo(lazy.reports.summary(report, threshold) + f" -> {output}", err=True)
    sys.exit(0 if conforms else 1)


@dataclass(frozen=True, slots=True)
class _How:
    """How the sources are exported in memory: options of the command."""

    base_iri: str
    engine: str
    select: Selection | None
    taxonomy: Path | None


def _validate(paths: list[Path], shapes_graph: Graph, how: _How, verbosity: Verbosity) -> ValidationReport:
    """The report on `paths`, a progress bar following the export of the sources."""
    with progress_bar("validating", verbosity) as progress:
        return lazy.validate.validate_inputs(
            paths,
            shapes_graph,
            iris=IriScheme(how.base_iri),
            engine=engine_named(how.engine),
            progress=progress,
            select=how.select,
            taxonomy=how.taxonomy,
        )


def _say_per_file(report: ValidationReport, threshold: Severity, verbosity: Verbosity) -> None:
    """--verbose: one line per source file on stderr."""
    if verbosity == "verbose":
        for line in lazy.reports.per_file(report, threshold):
            click.echo(f"kg validate: {line}", err=True)


def _write(output: Path, text: str) -> None:
    """The report into `output`, replaced all at once."""
    with worded(OSError, lambda exc: f"cannot write {output}: {exc}"), atomic_writer(output) as handle:
        handle.write(text.encode("utf-8"))
