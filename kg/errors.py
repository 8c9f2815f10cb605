"""The one error hierarchy: every error kg reports to a user is a `KgError`.

A `KgError`'s message says what is wrong and where (file, field, option, endpoint), never with
a secret in it; its `exit_code` is what the command line exits with, mapped in one place
(`kg.cli`). Library callers catch `KgError` for anything kg refuses, and the subclasses when
they care which stage refused. A user's value in a message is shown by `bounded`.
"""

from __future__ import annotations

import reprlib
from typing import ClassVar


class KgError(Exception):
    """Something kg cannot do with the input, the options or a store; the message says why.

    `exit_code` 2 means "nothing was done, or nothing was replaced": a usage or fatal error.
    """

    exit_code: ClassVar[int] = 2


#: How a user's value is shown in a message: `repr`, bounded (reprlib, configured once here).
#: Long text keeps its start and its end around "...", so a message names the value in one
#: line without hiding where it ends; containers show their first items and nesting levels.
VALUE_TEXT = reprlib.Repr()
VALUE_TEXT.maxstring = 96
VALUE_TEXT.maxother = 96
VALUE_TEXT.maxlong = 40


def bounded(value: object) -> str:
    """`repr(value)`, kept short for a message (`VALUE_TEXT`): `'SELECT ...} # end'`."""
    return VALUE_TEXT.repr(value)
