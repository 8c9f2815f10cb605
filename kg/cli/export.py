"""`kg export`: curations to RDF files, a thin call into kg.pipeline.export.

May touch: kg.pipeline.export (light: no store, HTTP or SHACL module), and kg.validation only
through kg.cli.lazy (for --validate).
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import click

from kg.cli import lazy
from kg.cli.errors import CommandError, interrupted
from kg.cli.options import asset_base_option, base_iri_option, selection, selection_options, taxonomy_option
from kg.cli.progress import progress_bar
from kg.errors import KgError
from kg.map.curation import IriScheme
from kg.pipeline.export import FORMATS, Cluster, ExportReport, StrictError, export
from kg.read.sources import SourceError
from kg.read.taxonomy import TaxonomyError
from kg.resources import examples_dir

FORMAT_ALIASES = {"ttl": "turtle", "json-ld": "jsonld", "nt": "ntriples", "nq": "nquads"}


def parse_formats(values: tuple[str, ...]) -> list[str]:
    """--format values (repeated or comma-separated, aliases allowed) -> kg's format names."""
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


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns


@contextlib.contextmanager
def _export_errors(out_dir: Path) -> Iterator[None]:
    """The export's failures in `kg export`'s words; anything unforeseen is a bug in kg: still
    exit 2 (fatal), not 1 ("some files failed"), with its traceback."""
    written = _identity(out_dir / "report.json")  # renamed last: a new one means new outputs
    try:
        yield
    except SourceError as exc:
        raise click.UsageError(str(exc)) from None
    except StrictError as exc:
        raise CommandError(f"--strict: {exc}") from exc
    except TaxonomyError as exc:
        raise CommandError(f"--taxonomy: {exc}; nothing was replaced") from exc
    except OSError as exc:
        raise CommandError(f"cannot write outputs: {exc}") from exc
    except KgError:  # worded already (a cluster that cannot be reached, ...): exit by its code
        raise
    except Exception as exc:
        traceback.print_exc()
        raise CommandError(f"internal error: {type(exc).__name__}: {exc}; nothing was replaced") from exc
    except KeyboardInterrupt as exc:  # click would exit 1, which means "some files failed"
        replaced = _identity(out_dir / "report.json") != written  # (stopped once they were)
        interrupted("export", exc, "; the outputs were written" if replaced else "; nothing was replaced")


def _packaged_shapes() -> list[Path]:
    try:
        return lazy.validate.shape_files()
    except lazy.engine.ValidationError as exc:
        raise click.UsageError(str(exc)) from None


def _report_validation(report: ExportReport) -> int:
    """`kg export --validate`: the results the workers found; summary and violations on stderr."""
    assert report.validation is not None
    validation = lazy.provenance.report_from_pipeline(report.validation, report.graph_files, report.triples)
    click.echo(lazy.reports.text_report(validation, "Violation", show="Violation").rstrip("\n"), err=True)
    return 0 if validation.conforms("Violation") else 1


@click.command("export")
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
@base_iri_option
@asset_base_option
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
@taxonomy_option(
    "also write it as a SKOS graph (its own named graph in curations.nq), link topics to its "
    "concepts, warn about topics not in it."
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: all cores for large inputs).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Send the per-file work to the workers of this Dask scheduler (tcp://HOST:8786) instead "
    "of local processes; the sources must be at the same paths on every worker (docs/export.md).",
)
@click.option(
    "--scheduler-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to reach the scheduler and for a worker to be there.",
)
@selection_options
def command(
    sources: tuple[Path, ...],
    out_dir: Path,
    formats: tuple[str, ...],
    base_iri: str,
    asset_base: str | None,
    strict: bool,
    jobs: int | None,
    scheduler: str | None,
    scheduler_timeout: float,
    run_validation: bool,
    full: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    config_file: Path | None,
    taxonomy: Path | None,
) -> None:
    """Export curations (files or folders of *.md) to RDF files in OUTPUT.

    With no SOURCES, exports the bundled example curations. Writes curations.ttl,
    curations.jsonld, curations.nt, curations.nq (a named graph per curation and per shared node) and
    report.json (every input file with its status). Exit 0: all exported; 1: some failed
    (the rest are still written); 2: usage or fatal error.

    With --taxonomy FILE, the taxonomy's SKOS graph is written too, each topic links to its
    concept (a topic differing only in case or spacing links to the taxonomy's, with a warning),
    and a topic or source not in it is a warning (docs/taxonomy.md).

    Incremental: OUTPUT keeps a manifest (.kg-manifest.json) of the last export; files
    unchanged since are not processed again (the outputs are the same bytes as a full export).

    \b
    Example:
      kg export ../shared/corpus/curations -o outputs/corpus --format turtle,nquads
      kg export ../shared/corpus/curations --validate   # same as kg validate on the sources
      kg export site/content --exclude 'feeds/**' --exclude README.md
    """
    chosen = parse_formats(formats)
    if scheduler is not None and jobs is not None:
        raise click.UsageError("--jobs and --scheduler exclude each other: the cluster's workers do the work")
    select = selection(config_file, include, exclude)
    paths = list(sources) or [examples_dir()]
    with progress_bar("exporting") as progress, _export_errors(out_dir):
        report = export(
            paths,
            out_dir,
            chosen,
            IriScheme(base_iri, asset_base),
            strict=strict,
            jobs=Cluster(scheduler, scheduler_timeout) if scheduler else jobs,
            progress=progress,
            shapes=_packaged_shapes() if run_validation else (),
            full=full,
            select=select,
            taxonomy=taxonomy,
        )
    click.echo(report.summary(out_dir), err=True)
    validated = _report_validation(report) if run_validation else 0
    sys.exit(max(report.exit_code(), validated))
