"""The Oxigraph server process behind `kg serve`: find the `oxigraph` binary (its version must
match pyoxigraph's, whose store files it opens), start it on a free local port in its own
session with a parent-death signal (it cannot outlive kg, even killed with SIGKILL), wait until
it answers, stop it (SIGTERM, then SIGKILL after `STOP_TIMEOUT`).

May touch: subprocesses, local sockets, pyoxigraph's version; no store content.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph

from kg.errors import KgError

#: Seconds Oxigraph has to answer after it is started, and to exit after SIGTERM.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class ServeError(KgError):
    """kg serve cannot start or keep serving; the message says why."""


# --- the Oxigraph binary ------------------------------------------------------------------------


def oxigraph_binary() -> str:
    """The `oxigraph` server binary: next to the running Python (a venv's bin/) or on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        raise ServeError(
            "the Oxigraph server binary `oxigraph` is not installed (it comes with kg: "
            f"pip install 'oxigraph=={pyoxigraph.__version__}')"
        )
    return found


def oxigraph_version(binary: str) -> str:
    """The binary's version ("0.5.13"), which must match pyoxigraph's to open the same store
    files: both are released together from one source tree, and RocksDB's layout of the
    store is the library's (kg checks major and minor: the patch releases share it)."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServeError(f"cannot run {binary} --version: {exc}") from None
    version = out.stdout.split()[-1] if out.stdout.split() else "?"
    if version.split(".")[:2] != pyoxigraph.__version__.split(".")[:2]:
        raise ServeError(
            f"{binary} is Oxigraph {version} but kg writes stores with pyoxigraph "
            f"{pyoxigraph.__version__}: they may not read the same files; install "
            f"oxigraph=={pyoxigraph.__version__}"
        )
    return version


# --- the Oxigraph process ---------------------------------------------------------------------


def _free_local_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """In the child, before exec (Linux): SIGTERM when kg dies, even by SIGKILL (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


@dataclass
class Oxigraph:
    """A running `oxigraph serve[-read-only]` on 127.0.0.1:port, its output in `log`."""

    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]

    def log_tail(self, chars: int = 1500) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace").strip()[-chars:]

    def answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", "/query?query=ASK%7B%7D", headers={"Accept": "application/json"})
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        self.log.close()
        return self.process.returncode


def start_oxigraph(binary: str, store_dir: Path, writable: bool, attempts: int = 3) -> Oxigraph:
    """Start Oxigraph on a free local port and wait until it answers (START_TIMEOUT)."""
    mode = "serve" if writable else "serve-read-only"
    for attempt in range(attempts):
        port = _free_local_port()
        command = [binary, mode, "--location", str(store_dir), "--bind", f"127.0.0.1:{port}"]
        command.append("--union-default-graph")
        log = tempfile.TemporaryFile(prefix="kg-serve-oxigraph-")  # noqa: SIM115 - closed by stop()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        server = Oxigraph(process, port, log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if server.answers():
                return server
            time.sleep(0.05)
        tail = server.log_tail()
        server.stop()
        if "address already in use" in tail.lower() and attempt + 1 < attempts:
            continue  # another program took the port between our check and Oxigraph's bind
        if process.returncode is None or process.returncode < 0:
            raise ServeError(f"the Oxigraph server did not answer within {START_TIMEOUT:g} s:\n{tail}")
        hint = " (is another kg load or kg serve --writable using it?)" if "lock" in tail.lower() else ""
        raise ServeError(
            f"the Oxigraph server could not serve {store_dir} (exit {process.returncode}){hint}:\n{tail}"
        )
    raise ServeError("no free local port for the Oxigraph server")

