"""Every command has help with a copy-paste example."""

from __future__ import annotations

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
