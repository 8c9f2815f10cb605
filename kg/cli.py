"""The `kg` command line: a thin layer over `kg.export` (and, later, validate/load/query).

Exit codes, in pySHACL's spirit: 0 success, 1 some input failed (or does not conform),
2 usage or fatal error.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from kg import __version__
from kg.export import FORMATS, StrictError, export
from kg.mapping import IriScheme
from kg.resources import examples_dir
from kg.sources import SourceError
from kg.vocab import DEFAULT_BASE_IRI

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
def main() -> None:
    """kg: turn Medigy curations into a validated, queryable RDF knowledge graph."""


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
@click.option(
    "--base-iri",
    default=DEFAULT_BASE_IRI,
    show_default=True,
    help="Base under which curation, topic, brand... IRIs are minted.",
)
@click.option(
    "--asset-base", default=None, help="Base IRI for relative image/PDF hrefs. Default: BASE-IRI + 'asset/'."
)
@click.option("--strict", is_flag=True, help="Stop at the first problem (exit 2), write nothing.")
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
    """
    chosen = _formats(formats)
    if not base_iri.endswith(("/", "#")):
        raise click.BadParameter("must end with '/' or '#'", param_hint="--base-iri")
    paths = list(sources) or [examples_dir()]
    show_progress = sys.stderr.isatty()
    bar = None
    if show_progress:
        bar = click.progressbar(length=0, label="exporting", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if bar is not None and total >= 200:
            bar.length = total
            bar.update(done - bar.pos)

    try:
        report = export(
            paths,
            out_dir,
            chosen,
            IriScheme(base_iri, asset_base),
            strict=strict,
            jobs=jobs,
            progress=progress if show_progress else None,
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
    finally:
        if bar is not None:
            bar.render_finish()
    click.echo(report.summary(out_dir), err=True)
    sys.exit(report.exit_code())


if __name__ == "__main__":  # pragma: no cover
    main()
