"""Progress and verbosity of the long commands (`export`, `validate`, `load` and its sync).

A progress bar goes to stderr only when stderr is a terminal and the work is large enough to
wait for (`MIN_ITEMS`); in CI logs, pipes and files there is none, so logs hold no `\\r`
redraws. `--quiet` and `--verbose` (`verbosity_options`) choose how much else is said on
stderr: quiet, only errors (the exit code is unchanged); normal, a summary; verbose, a line per
file as well.

May touch: click only.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar

import click

Progress = Callable[[int, int], None]
Verbosity = Literal["quiet", "normal", "verbose"]
#: Fewer items than this finish before a bar would be worth drawing.
MIN_ITEMS = 200
F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def progress_bar(label: str, verbosity: Verbosity = "normal") -> Iterator[Progress | None]:
    """A progress callback `(done, total)` drawing a bar on stderr when it is a terminal (for
    `MIN_ITEMS` or more), else None: nothing is drawn, nothing is computed for it."""
    if verbosity == "quiet" or not sys.stderr.isatty():
        yield None
        return
    bar = click.progressbar(length=0, label=label, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if total >= MIN_ITEMS:
            bar.length = total
            bar.update(done - bar.pos)

    try:
        yield progress
    finally:
        bar.render_finish()


def verbosity_options(command: F) -> F:
    """`-q/--quiet` and `-v/--verbose`, passed to the command as `quiet` and `verbose` (read
    them with `verbosity_of`)."""
    command = click.option("-v", "--verbose", is_flag=True, help="Also a line per file on stderr.")(command)
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Only errors on stderr: no progress, no summary, no warnings (exit codes unchanged).",
    )(command)


def verbosity_of(quiet: bool, verbose: bool) -> Verbosity:
    """The verbosity the flags chose. Quiet raises kg's logger to errors only; otherwise it is
    set back (to INFO once `log_to_stderr` gave it a handler), as one process may run several
    commands."""
    if quiet and verbose:
        raise click.UsageError("choose one of --quiet, --verbose")
    logger = logging.getLogger("kg")
    logger.setLevel(logging.ERROR if quiet else logging.INFO if logger.handlers else logging.NOTSET)
    if quiet:
        return "quiet"
    return "verbose" if verbose else "normal"
