"""What several commands share: the --base-iri, --store, --endpoint and remote options, the
SHACL engine names, and small helpers about the command line itself.

May touch: click and the light library modules (IRI scheme, namespaces); the store, HTTP and
SHACL modules only through kg.cli.lazy.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from kg.cli import lazy
from kg.map.curation import IriScheme
from kg.rdf.namespaces import DEFAULT_BASE_IRI
from kg.read.selection import Selection, load_config

if TYPE_CHECKING:
    from kg.shacl.engine import Engine

#: Copies of kg.store.load.DEFAULT_STORE and kg.store.http's USER_ENV and PASSWORD_ENV, which
#: option definitions need before those modules are imported (a test checks they are equal).
DEFAULT_STORE = Path(".kg-store")
USER_ENV = "KG_STORE_USER"
PASSWORD_ENV = "KG_STORE_PASSWORD"

#: SHACL engines `--engine` chooses from; each returns a SHACL report graph.
ENGINE_NAMES = ("auto", "fast", "pyshacl")


def engine_named(name: str) -> Engine:
    """The engine called `name` (pySHACL is imported only when it runs)."""
    return {"auto": lazy.fast.auto_engine, "fast": lazy.fast.fast_engine}.get(
        name, lazy.reference.pyshacl_engine
    )


def _check_base_iri(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--base-iri and --asset-base: refused (exit 2) when IRIs minted under them would not parse."""
    if value is not None:
        try:
            IriScheme(value) if param.name == "base_iri" else IriScheme(asset_base=value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


#: --base-iri, shared by every command that mints IRIs (export, validate and load on sources).
base_iri_option = click.option(
    "--base-iri",
    default=DEFAULT_BASE_IRI,
    show_default=True,
    callback=_check_base_iri,
    help="Base under which curation, topic, brand... IRIs are minted (sources only).",
)

#: --asset-base (kg export).
asset_base_option = click.option(
    "--asset-base",
    default=None,
    callback=_check_base_iri,
    help="Base IRI for relative image/PDF hrefs. Default: BASE-IRI + 'asset/'.",
)


def taxonomy_option(does: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """--taxonomy FILE, the site's category-whole-data.json (kg export, and load and validate on
    sources); `does` says what the command does with it."""
    return click.option(
        "--taxonomy",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=f"The site's topic taxonomy (category-whole-data.json): {does}",
    )


def selection_options(command: Callable[..., None]) -> Callable[..., None]:
    """--include/--exclude GLOB (repeatable) and --config FILE, shared by the commands that read
    curation sources; `selection` turns them into one `Selection`."""
    for option in reversed(
        [
            click.option(
                "--include",
                multiple=True,
                metavar="GLOB",
                help="Read only source files whose path (relative to the source folder) matches; "
                "repeatable. '**' spans folders; a pattern without '/' matches the file name.",
            ),
            click.option(
                "--exclude",
                multiple=True,
                metavar="GLOB",
                help="Leave out source files whose relative path matches (reported skipped, with the "
                "pattern); repeatable; exclude wins over include.",
            ),
            click.option(
                "--config",
                "config_file",
                type=click.Path(path_type=Path, dir_okay=False),
                default=None,
                help="TOML file with include/exclude lists. Default: ./kg.toml, else [tool.kg] of "
                "./pyproject.toml, when present.",
            ),
        ]
    ):
        command = option(command)
    return command


def selection(config_file: Path | None, include: tuple[str, ...], exclude: tuple[str, ...]) -> Selection:
    """The files to read: the config's patterns plus the command line's (ConfigError: exit 2)."""
    return load_config(config_file).plus(include, exclude)


store_option = click.option(
    "--store",
    "store_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_STORE,
    envvar="KG_STORE",
    show_default=True,
    help="Embedded store folder (env KG_STORE).",
)


def read_target_options(verb: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """--store, --data and --endpoint: what a reading command (kg query, kg stats) reads; `verb`
    begins their help ("Query", "Count")."""

    def add(command: Callable[..., None]) -> Callable[..., None]:
        command = click.option(
            "--endpoint",
            default=None,
            callback=endpoint_url,
            help=f"{verb} a remote store: its SPARQL 1.1 Protocol query URL.",
        )(command)
        command = click.option(
            "--data",
            "data",
            multiple=True,
            type=click.Path(exists=True, path_type=Path),
            help=f"{verb} these RDF files or curation sources instead of a store (repeat).",
        )(command)
        return store_option(command)

    return add


def remote_options(command: Callable[..., None]) -> Callable[..., None]:
    """--user/--password/--timeout/--retries, shared by the commands that talk to an endpoint."""
    for option in reversed(
        [
            click.option(
                "--user", envvar=USER_ENV, default=None, help=f"User for the endpoint (env {USER_ENV})."
            ),
            click.option(
                "--password",
                envvar=PASSWORD_ENV,
                default=None,
                help=f"Password for the endpoint; prefer the env var {PASSWORD_ENV}. Never printed.",
            ),
            click.option(
                "--timeout",
                type=click.FloatRange(min=0.1),
                default=60.0,
                show_default=True,
                help="Seconds per request, from connect to the last byte of the answer.",
            ),
            click.option(
                "--retries",
                type=click.IntRange(min=0),
                default=3,
                show_default=True,
                help="Retries on connection errors, HTTP 500/502/503/504 and 429 (exponential backoff).",
            ),
        ]
    ):
        command = option(command)
    return command


def endpoint_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--endpoint: an http(s) URL with a host (exit 2 otherwise), checked before anything runs;
    the message never shows the URL's user-info."""
    if value is not None:
        try:
            lazy.http.check_url(value)
        except lazy.http.RemoteError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def log_to_stderr() -> None:
    logger = logging.getLogger("kg")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("kg: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def given(param: str) -> bool:
    """The option was set on the command line or from its environment variable."""
    source = click.get_current_context().get_parameter_source(param)
    return source not in (None, ParameterSource.DEFAULT)
