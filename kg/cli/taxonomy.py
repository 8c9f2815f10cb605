"""`kg taxonomy`: the site's topic taxonomy (its JSON) as a SKOS graph, a thin call into
kg.map.taxonomy.

May touch: kg.map.taxonomy (through kg.cli.lazy).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kg.cli import lazy
from kg.cli.errors import worded
from kg.cli.options import base_iri_option
from kg.map.curation import IriScheme

if TYPE_CHECKING:
    from kg.map.taxonomy import TaxonomyGraph
    from kg.map.topics import TopicCheck


def _check_output(output: Path | None) -> None:
    if output is not None:
        try:
            lazy.taxonomy.format_for(output)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--output") from None


def _summary(records: int, graph: TaxonomyGraph, output: Path | None) -> str:
    return (
        f"kg taxonomy: {records} records -> {graph.concepts} concepts in {graph.schemes} schemes, "
        f"{graph.definitions} with a definition, {graph.broader_links} broader links, "
        f"{graph.concepts_with_matches} with closeMatch links ({graph.close_matches} triples)"
        + (f" -> {output}" if output is not None else "")
    )


def _report_check(checked: TopicCheck) -> None:
    for line in checked.warnings():
        click.echo(f"kg taxonomy: warning: {line}", err=True)
    counts = ", ".join(f"{n} {kind}" for kind, n in checked.counts().items())
    click.echo(
        f"kg taxonomy: {len(checked.matches)} distinct topics in {checked.curations} curations: {counts}",
        err=True,
    )


@click.command("taxonomy")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the SKOS graph to FILE: .nq (in its named graph graph/taxonomy), .nt or .ttl.",
)
@click.option(
    "--check",
    "check",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Curation sources (files or folders) whose topics are matched against the taxonomy; "
    "a topic that is not an exact match is a warning. Repeatable.",
)
@base_iri_option
def command(file: Path, output: Path | None, check: tuple[Path, ...], base_iri: str) -> None:
    """Read the site's topic taxonomy (its JSON) and write it as a SKOS graph.

    FILE is the site's category-whole-data.json as it is. The graph holds a skos:ConceptScheme
    per source and a skos:Concept per topic, with the same IRIs as the topics curations link
    to, definitions, hierarchy and cross-source skos:closeMatch links (docs/taxonomy.md).
    Problems name the file, record and field. Exit 0: done (warnings allowed); 1: some records
    could not be used (the rest are written); 2: the file cannot be read, or a usage error.

    \b
    Example:
      kg taxonomy ../shared/corpus/taxonomy/category-whole-data.json -o taxonomy.nq
      kg load ../shared/corpus/curations taxonomy.nq   # sources beside it (or: kg export --taxonomy)
      kg taxonomy ../shared/corpus/taxonomy/category-whole-data.json --check ../shared/corpus/curations
    """
    tx = lazy.taxonomy
    _check_output(output)
    iris = IriScheme(base_iri)
    read = tx.read_taxonomy(file)
    graph = tx.taxonomy_rdf(read, iris)
    checked = tx.check_sources(tx.TopicMatcher.from_taxonomy(read, iris), list(check)) if check else None
    for problem in graph.problems:
        click.echo(f"kg taxonomy: {problem.severity}: {problem}", err=True)
    if output is not None:
        with worded(OSError, lambda exc: f"cannot write {output}: {exc.strerror or exc}"):
            tx.write_taxonomy(graph, output, iris.base)
    click.echo(_summary(len(read.records), graph, output), err=True)
    if checked is not None:
        _report_check(checked)
    sys.exit(1 if read.errors else 0)
