"""The `kg` command line: one module per command, each a thin call into the library.

`main` is the click group (kg.cli.group), the entry point `kg = "kg.cli:main"`. Exit codes,
in pySHACL's spirit: 0 success, 1 some input failed (or does not conform), 2 usage or fatal
error; kg.cli.errors maps every `kg.errors.KgError` to its message and exit code.
"""

from __future__ import annotations

from kg.cli.group import main

__all__ = ["main"]
