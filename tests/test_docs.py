"""The documentation stays true: generated parts current, every command and query documented,
every link resolving, and the README short enough to be read."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from cogapp import Cog

from kg.cli import main
from kg.query import library
from tests.conftest import ROOT

DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.glob("*.md"))
COGGED = [p for p in PAGES if "[[[cog" in p.read_text(encoding="utf-8")]


def test_generated_docs_are_current() -> None:
    """`make docs` output equals what is committed (cog --check; run `make docs` to fix)."""
    assert COGGED, "no page of docs/ has a generated part"
    status = Cog().main(["cog", "--check", *map(str, COGGED)])
    assert status == 0, "docs/ is stale: run `make docs`"


def _commands() -> list[str]:
    return sorted(main.commands)


@pytest.mark.parametrize("name", _commands())
def test_every_command_is_documented(name: str) -> None:
    """Each command has its section in docs/cli.md, every option listed, and a row in the README."""
    cli = (DOCS / "cli.md").read_text(encoding="utf-8")
    section = cli.split(f"### `kg {name}`", 1)
    assert len(section) == 2, f"docs/cli.md has no section for kg {name}"
    body = section[1].split("\n### ", 1)[0]
    command = main.commands[name]
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.opts[0] in body, f"kg {name} {param.opts[0]} is not in docs/cli.md"
    assert f"`kg {name}" in README.read_text(encoding="utf-8"), f"the README's table lacks kg {name}"


@pytest.mark.parametrize("name", sorted(library()))
def test_every_library_query_is_documented(name: str) -> None:
    assert f"| `{name}` |" in (DOCS / "queries.md").read_text(encoding="utf-8")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower-case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"(?ms)^```.*?^```", "", page.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"(?m)^#{1,6} (.+)$", text)}


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_links_resolve(page: Path) -> None:
    """Every relative link names a file that exists, and an anchor that its headings give."""
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute URL: not checked (no network in tests)
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: link to missing {target}"
        if anchor:
            assert anchor in _anchors(linked), f"{page.name}: no heading for #{anchor} in {linked.name}"


def test_readme_is_short() -> None:
    """The README is the front door; the guides live in docs/ (issue 14: at most 150 lines)."""
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= 150, f"README.md has {lines} lines"
