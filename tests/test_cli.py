"""Every command has help with a copy-paste example."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from kg.cli import main


def commands() -> list[str]:
    assert isinstance(main, click.Group)
    return sorted(main.commands)


@pytest.mark.parametrize("name", commands())
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"kg {name}" in result.output


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "kg" in result.output


def test_export_does_not_import_the_store_or_http_modules() -> None:
    """`kg export` starts faster without pyoxigraph, requests and kg.store/remote/query."""
    code = (
        "import sys\n"
        "from kg.cli import main\n"
        "try:\n"
        "    main(['export', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('pyoxigraph', 'rdflib', 'requests', 'kg.store.load', 'kg.store.http',\n"
        "         'kg.sparql.query', 'kg.shacl.fast')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_store_names_of_the_cli_are_those_of_the_store_modules() -> None:
    from kg.cli import options as cli
    from kg.store import http as remote
    from kg.store import load as store

    assert (cli.DEFAULT_STORE, cli.USER_ENV, cli.PASSWORD_ENV) == (
        store.DEFAULT_STORE,
        remote.USER_ENV,
        remote.PASSWORD_ENV,
    )
