"""The one error hierarchy: every error kg reports to a user is a `KgError`.

A `KgError`'s message says what is wrong and where (file, field, option, endpoint), never with
a secret in it; its `exit_code` is what the command line exits with, mapped in one place
(`kg.cli`). Library callers catch `KgError` for anything kg refuses, and the subclasses when
they care which stage refused.
"""

from __future__ import annotations

from typing import ClassVar


class KgError(Exception):
    """Something kg cannot do with the input, the options or a store; the message says why.

    `exit_code` 2 means "nothing was done, or nothing was replaced": a usage or fatal error.
    """

    exit_code: ClassVar[int] = 2
