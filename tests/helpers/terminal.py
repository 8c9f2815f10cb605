"""Running `kg` with one of its output streams on a pseudo-terminal, as a person would see it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from typing import Literal

from tests.conftest import ROOT


def run_on_a_terminal(
    args: list[str], stream: Literal["stdout", "stderr"], columns: int | None = None, timeout: float = 300
) -> tuple[int, str]:
    """Run `kg ARGS` with `stream` on a pseudo-terminal (of `columns` columns when given) and the
    other stream discarded; (exit code, what the terminal received, CRLF read as LF)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    streams = {stream: follower, "stderr" if stream == "stdout" else "stdout": subprocess.DEVNULL}
    process = subprocess.Popen([sys.executable, "-m", "kg.cli", *args], env=env, **streams)  # type: ignore[call-overload]
    os.close(follower)
    shown = b""
    while select.select([leader], [], [], timeout)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return process.wait(timeout=timeout), shown.decode("utf-8", "replace").replace("\r\n", "\n")
