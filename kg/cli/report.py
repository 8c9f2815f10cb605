"""`kg report`: one self-contained HTML page about an export folder, a thin call into
kg.publish.report (and kg.validation for its validation results).

May touch: kg.publish.report and kg.validation (through kg.cli.lazy), kg.write.files.
"""

from __future__ import annotations

from pathlib import Path

import click

from kg.cli import lazy
from kg.cli.errors import worded
from kg.cli.options import ENGINE_NAMES, engine_named
from kg.write.files import atomic_writer


@click.command("report")
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
def command(
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
    html = lazy.report
    page = output or export_dir / html.REPORT_PAGE
    validation = None
    if not no_validate:
        nquads = export_dir / "curations.nq"
        if not nquads.is_file():
            raise html.ReportPageError(f"{nquads}: not found (the page is made from an export with N-Quads)")
        validate = lazy.validate
        shapes_graph = validate.load_shapes(shapes)
        validation = validate.validate_inputs([nquads], shapes_graph, engine=engine_named(engine))
    text = html.render(html.gather(export_dir, validation, sources), page.parent)
    with worded(OSError, lambda exc: f"cannot write {page}: {exc}"), atomic_writer(page) as handle:
        handle.write(text.encode("utf-8"))
    click.echo(f"kg report: {page}", err=True)
