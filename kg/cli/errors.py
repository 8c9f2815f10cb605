"""The one place where kg's errors become a line on stderr and an exit code.

Commands raise or let through `kg.errors.KgError`s; `Commands.invoke` (the group's) prints
`kg COMMAND: message` and exits with the error's `exit_code`. A command that words a library
error its own way (`kg load`: "stopped at ..." with the graphs written) gives the message with
`worded`. SIGINT, SIGTERM and SIGHUP end any command with exit 2 and one line (`interrupted`).
May touch: click, sys and os (to exit), kg.errors and kg.pipeline.export's `Interrupted`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

import click

from kg.errors import KgError
from kg.pipeline.export import Interrupted

E = TypeVar("E", bound=BaseException)


class CommandError(KgError):
    """A library error in the words of the command that met it; the message is the whole line
    after `kg COMMAND: `."""


@contextlib.contextmanager
def worded(error: type[E], say: Callable[[E], str]) -> Iterator[None]:
    """In the block, an `error` becomes a CommandError saying `say(error)`."""
    try:
        yield
    except error as exc:
        raise CommandError(say(exc)) from exc


def interrupted(command: str, exc: KeyboardInterrupt, outcome: str = "") -> NoReturn:
    """Exit 2 with one line; after a real signal at once (no thread or pool is waited for:
    the command's cleanup has run, see `kg.pipeline.export.interruptible`)."""
    by = f" by {exc.signame}" if isinstance(exc, Interrupted) else ""
    click.echo(f"kg {command}: interrupted{by}{outcome}", err=True)
    if isinstance(exc, Interrupted):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(2)
    sys.exit(2)


class Commands(click.Group):
    """kg's commands: a KgError ends any of them with `kg COMMAND: message` and its exit code;
    SIGINT, SIGTERM and SIGHUP with exit 2 and a message."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KgError as exc:
            click.echo(f"kg {ctx.invoked_subcommand or ''}: {exc}", err=True)
            if isinstance(exc.__cause__, KeyboardInterrupt):
                # A signal's words (`worded`): the command's cleanup has run, but a process pool
                # stopped mid-task can leave its manager thread blocked on a half-written result,
                # which the interpreter would join for ever at exit (seen: `kg serve` interrupted
                # while loading hung 1 run in 3). Exit now, as `interrupted` does.
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(exc.exit_code)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:  # click would say "Aborted!" and exit 1
            interrupted(ctx.invoked_subcommand or "", exc)
