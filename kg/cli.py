"""The `kg` command line: a thin layer over `kg.export` (and, later, validate/load/query).

Exit codes, in pySHACL's spirit: 0 success, 1 some input failed (or does not conform),
2 usage or fatal error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg import __version__
from kg.export import FORMATS, StrictError, export
from kg.mapping import IriScheme
from kg.resources import examples_dir
from kg.sources import SourceError
from kg.vocab import DEFAULT_BASE_IRI
from kg.writers import UnionGraph

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
    "--validate",
    "run_validation",
    is_flag=True,
    help="Also validate the exported graph with the packaged shapes (summary on stderr; "
    "exit 1 on violations).",
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
) -> None:
    """Export curations (files or folders of *.md) to RDF files in OUTPUT.

    With no SOURCES, exports the bundled example curations. Writes curations.ttl,
    curations.jsonld, curations.nt, curations.nq (one named graph per curation) and
    report.json (every input file with its status). Exit 0: all exported; 1: some failed
    (the rest are still written); 2: usage or fatal error.

    \b
    Example:
      kg export ../shared/corpus/curations -o outputs/corpus --format turtle,nquads
      kg export ../shared/corpus/curations --validate   # same as kg validate on the sources
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

    unions: list[UnionGraph] = []
    try:
        report = export(
            paths,
            out_dir,
            chosen,
            IriScheme(base_iri, asset_base),
            strict=strict,
            jobs=jobs,
            progress=progress if show_progress else None,
            on_union=unions.append if run_validation else None,
        )
    except SourceError as exc:
        raise click.UsageError(str(exc)) from None
    except StrictError as exc:
        click.echo(f"kg export: --strict: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"kg export: cannot write outputs: {exc}", err=True)
        sys.exit(2)
    finally:
        if bar is not None:
            bar.render_finish()
    click.echo(report.summary(out_dir), err=True)
    sys.exit(max(report.exit_code(), _validate_union(unions[0]) if run_validation else 0))


# --- kg validate ------------------------------------------------------------------------------


def _validate_union(union: UnionGraph) -> int:
    """`kg export --validate`: validate the union graph; the summary and violations on stderr."""
    from kg.reports import text_report
    from kg.validate import QueryCachingGraph, ValidationError, load_shapes, validate

    try:
        graph = QueryCachingGraph.from_ntriples("".join(union.sorted_lines()))
        report = validate(graph, load_shapes())
    except ValidationError as exc:
        click.echo(f"kg export --validate: {exc}", err=True)
        return 2
    click.echo(text_report(report, "Violation", show="Violation").rstrip("\n"), err=True)
    return 0 if report.conforms("Violation") else 1


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
@click.option(
    "--base-iri",
    default=DEFAULT_BASE_IRI,
    show_default=True,
    help="Base IRI used when exporting curation sources in memory.",
)
def validate_command(
    data: tuple[Path, ...], fmt: str, output: Path | None, fail_on: str, shapes: Path | None, base_iri: str
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
    from kg.reports import render, summary
    from kg.validate import ValidationError, load_shapes, severity_named, validate_inputs
    from kg.writers import atomic_writer

    threshold = severity_named(fail_on)
    if not base_iri.endswith(("/", "#")):
        raise click.BadParameter("must end with '/' or '#'", param_hint="--base-iri")
    try:
        shapes_graph = load_shapes(shapes)
        report = validate_inputs(list(data) or [examples_dir()], shapes_graph, iris=IriScheme(base_iri))
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


if __name__ == "__main__":  # pragma: no cover
    main()
