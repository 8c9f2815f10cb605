"""`python -m kg.cli`: the `kg` command."""

from __future__ import annotations

from kg.cli.group import main

main()
