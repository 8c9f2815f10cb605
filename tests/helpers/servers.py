"""Real SPARQL servers for integration tests, started on 127.0.0.1 on a free port.

- `oxigraph_server`: the `oxigraph serve` binary of the `oxigraph` PyPI package (dev extra),
  with a temporary --location; its default graph is NOT the union of the named graphs.
- `virtuoso_server`: Debian's `virtuoso-t` (virtuoso-opensource), when installed (`.ci/run`
  installs it); its default graph IS the union. Skipped when the binary is absent.
- `fake_server` (and `second_fake_server`, another origin): a scripted HTTP server for failures
  a real server will not produce on demand: 5xx, 401, 429, redirects, slow or trickling
  answers, huge bodies (`Stream`), or a relay to a real store (`Forward`) that misbehaves only
  when told to. It records every request it gets, and how much of each answer was written
  before the client went away.

Each server is stopped by its process id at teardown: terminate, then kill if it lingers.
Under CI (`CI` set) a missing oxigraph binary fails instead of skipping.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Union
from urllib.parse import urlsplit

import pytest
import requests

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def find_binary(name: str) -> str | None:
    """`name` next to the running Python (the venv's bin/) or on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop one process we started, by its id: SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_until_answers(url: str, process: subprocess.Popen[bytes], log: Path, **request: object) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}"
            )
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2, **request).status_code == 200:  # type: ignore[arg-type]
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} within {START_TIMEOUT} s")


@contextlib.contextmanager
def running(
    command: list[str], ready_url: str, log: Path, cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command`, wait until `ready_url` answers 200, stop the process by its id at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_answers(ready_url, process, log)
        yield process
    finally:
        stop(process)


@dataclass
class Server:
    """A running SPARQL server: where to query and where to write graphs."""

    query_url: str
    store_url: str
    user: str | None = None
    password: str | None = None
    process: subprocess.Popen[bytes] | None = None
    command: list[str] = field(default_factory=list)  # to start it again (same data, same port)
    ready_url: str = ""


@pytest.fixture
def oxigraph_server(tmp_path: Path) -> Iterator[Server]:
    binary = find_binary("oxigraph")
    if binary is None:
        message = "the oxigraph server binary is not installed (pip install -e '.[dev]')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [binary, "serve", "--location", str(tmp_path / "oxigraph-data"), "--bind", f"127.0.0.1:{port}"]
    ready = f"{base}/query?query=ASK%7B%7D"
    with running(command, ready, tmp_path / "oxigraph.log") as process:
        yield Server(f"{base}/query", f"{base}/store", process=process, command=command, ready_url=ready)


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 60
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = .
CaseMode = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}/vsp
ServerThreads = 10
MaxClientConnections = 10
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
DefaultQuery = ASK {{}}
"""


@pytest.fixture
def virtuoso_server(tmp_path: Path) -> Iterator[Server]:
    binary = find_binary("virtuoso-t")
    if binary is None:
        pytest.skip("virtuoso-t not installed (Debian package virtuoso-opensource; .ci/run installs it)")
    data = tmp_path / "virtuoso"
    (data / "vsp").mkdir(parents=True)
    http_port, sql_port = free_port(), free_port()
    ini = data / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=data, sql_port=sql_port, http_port=http_port))
    base = f"http://127.0.0.1:{http_port}"
    command = [binary, "+foreground", "+configfile", str(ini)]
    with running(command, f"{base}/sparql?query=ASK%7B%7D", tmp_path / "virtuoso.out", cwd=data) as process:
        # The authenticated Graph Store endpoint; Virtuoso's default administrator is dba/dba.
        yield Server(f"{base}/sparql", f"{base}/sparql-graph-crud-auth", "dba", "dba", process=process)


# --- a scripted server for failures -----------------------------------------------------------


@dataclass
class Recorded:
    """One request the scripted server got, and what became of its answer."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    sent: int = 0  # bytes of the answer written (status line and headers included)
    disconnected: bool = False  # the client went away before the whole answer was written
    done: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)


@dataclass(frozen=True)
class Stream:
    """An answer whose body is `size` bytes (declared in Content-Length), written 64 KB at a time
    for as long as the client reads: a huge error body, without holding it in memory."""

    status: int
    size: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Trickle:
    """The whole answer (status line, headers, body) written one byte every `interval` seconds."""

    status: int
    body: bytes
    interval: float
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Forward:
    """Relay the request to `upstream` (a real store's base URL) and its answer back: the
    scripted server is then a proxy that misbehaves only when told to."""

    upstream: str


Reply = Union[tuple[int, dict[str, str], bytes], Stream, Trickle, Forward]  # noqa: UP007
Script = Callable[[list["Recorded"], "Recorded"], Reply]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "accept-encoding"}
#: A client that neither reads nor closes does not hold a handler thread longer than this.
HANDLER_SOCKET_TIMEOUT = 30.0


@dataclass
class FakeServer:
    """Answers each request with `script(recorded_so_far, request)`; records every request."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    script: Script = lambda seen, req: (200, {}, b"")

    def settled(self, timeout: float = 30.0) -> list[Recorded]:
        """The requests, once every answer was written or abandoned by the client."""
        for req in list(self.requests):
            if not req.done.wait(timeout):
                raise AssertionError(f"the answer to {req.method} {req.path} still going after {timeout} s")
        return self.requests


def _forward(upstream: str, req: Recorded) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(upstream)
    conn = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=HANDLER_SOCKET_TIMEOUT
    )
    try:
        headers = {k: v for k, v in req.headers.items() if k.lower() not in HOP_BY_HOP}
        conn.request(req.method, req.path, body=req.body or None, headers=headers)
        answer = conn.getresponse()
        body = answer.read()
        kept = {k: v for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP}
        return answer.status, kept, body
    finally:
        conn.close()


@contextlib.contextmanager
def scripted_server() -> Iterator[FakeServer]:
    """A scripted HTTP server on 127.0.0.1 (a free port), stopped at the end of the block."""
    server_box: list[FakeServer] = []

    class Handler(BaseHTTPRequestHandler):
        timeout = HANDLER_SOCKET_TIMEOUT

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            req = Recorded(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            fake = server_box[0]
            fake.requests.append(req)
            try:
                self._answer(req, fake.script(fake.requests, req))
            except (BrokenPipeError, ConnectionResetError):
                req.disconnected = True
            finally:
                req.done.set()

        def _answer(self, req: Recorded, reply: Reply) -> None:
            if isinstance(reply, Forward):
                reply = _forward(reply.upstream, req)
            if isinstance(reply, Trickle):
                raw = self._head(reply.status, reply.headers, len(reply.body)) + reply.body
                for i in range(len(raw)):
                    self.wfile.write(raw[i : i + 1])
                    req.sent += 1
                    time.sleep(reply.interval)
                return
            if isinstance(reply, Stream):
                self._send(req, self._head(reply.status, reply.headers, reply.size))
                chunk = b"x" * 65536
                left = reply.size
                while left > 0:
                    self._send(req, chunk[: min(left, len(chunk))])
                    left -= len(chunk)
                return
            status, headers, body = reply
            self._send(req, self._head(status, headers, len(body)) + body)

        def _head(self, status: int, headers: dict[str, str], length: int) -> bytes:
            phrase = self.responses.get(status, ("",))[0]
            lines = [f"HTTP/1.0 {status} {phrase}", *(f"{k}: {v}" for k, v in headers.items())]
            lines += [f"Content-Length: {length}", "Connection: close", "", ""]
            return "\r\n".join(lines).encode("latin-1")

        def _send(self, req: Recorded, data: bytes) -> None:
            self.wfile.write(data)
            req.sent += len(data)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    port = httpd.server_address[1]
    server_box.append(FakeServer(f"http://127.0.0.1:{port}"))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server_box[0]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    with scripted_server() as server:
        yield server


@pytest.fixture
def second_fake_server() -> Iterator[FakeServer]:
    """Another scripted server: another origin (its own port) on the same host."""
    with scripted_server() as server:
        yield server


@dataclass
class SlowReader:
    """A server that reads requests `chunk` bytes every `interval` seconds and never answers."""

    url: str
    received: int = 0
    disconnected: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def slow_reader(chunk: int, interval: float) -> Iterator[SlowReader]:
    """A client sending to it makes progress, slowly, forever: only a deadline on the whole
    request ends the send. `disconnected` is set when the client hangs up."""
    listener = socket.socket()
    # A small receive buffer: what the client sent is soon read, so a hang-up is soon seen.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * chunk)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    reader = SlowReader(f"http://127.0.0.1:{listener.getsockname()[1]}")
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(HANDLER_SOCKET_TIMEOUT)
                while not stopping.is_set():
                    try:
                        data = conn.recv(chunk)
                    except OSError:
                        data = b""
                    if not data:
                        reader.disconnected.set()
                        break
                    reader.received += len(data)
                    time.sleep(interval)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield reader
    finally:
        stopping.set()
        thread.join(timeout=5)
        listener.close()
