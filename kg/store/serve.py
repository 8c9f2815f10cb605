"""`kg serve`: a SPARQL 1.1 Protocol endpoint and a browser query UI over a store (issue 16).

The SPARQL work is done by the real Oxigraph server, the `oxigraph` binary of the `oxigraph`
PyPI package (a runtime dependency of kg, released with pyoxigraph, whose store files it
opens): `oxigraph serve-read-only --location DIR --union-default-graph` (or `serve` with
`--writable`), bound to 127.0.0.1 on a port of its own. In front of it kg runs a small
pass-through HTTP server on the address the user asked for, which

- answers `/` with kg's query page: Oxigraph's own YASGUI files (served by Oxigraph, no CDN),
  configured so the page sends no request off the machine: prefix autocompletion reads kg's
  prefixes from `/kg/prefixes.json` instead of prefix.cc, the property and class
  autocompleters (which ask lov.linkeddata.es as one types) are off, and the editor starts
  with kg's PREFIX lines and an example query;
- forwards every other request (`/query`, `/update`, `/store`, YASGUI's files, ...) to
  Oxigraph unchanged and streams the answer back.

Oxigraph decides what is allowed: in read-only mode it refuses updates and Graph Store
writes (HTTP 403). The default graph is the union of the named graphs, so plain SPARQL
written without `GRAPH ?g` answers (issue 15).

Lifecycle. The public address is bound first (a port in use is an error before anything
starts); Oxigraph is started in its own session (a Ctrl-C in the terminal reaches kg only,
which then stops it in order) and, on Linux, with a parent-death signal, so it cannot outlive
kg even when kg is killed with SIGKILL. "serving at URL" is printed only once Oxigraph
answers. SIGINT or SIGTERM stops the pass-through server, then Oxigraph (SIGTERM, SIGKILL
after `STOP_TIMEOUT`), removes a temporary store, and `serve` returns 0.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import http.client
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import pyoxigraph

from kg.errors import KgError
from kg.map.curation import IriScheme
from kg.rdf.namespaces import DEFAULT_BASE_IRI, PREFIXES, instance_prefixes, sparql_prefix_header
from kg.store.load import collect, is_store_dir, load_store, open_store

DEFAULT_HOST = "127.0.0.1"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
DEFAULT_PORT = 7878
#: Seconds Oxigraph has to answer after it is started, and to exit after SIGTERM.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
#: Seconds the pass-through server waits for Oxigraph's answer to one request.
UPSTREAM_TIMEOUT = 3600.0
PREFIXES_PATH = "/kg/prefixes.json"
#: Headers that describe one HTTP connection, not the message: never passed through.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "server",
    "date",
}

#: The query the page's editor starts with (after kg's PREFIX lines): plain SPARQL, no GRAPH.
EXAMPLE_QUERY = """\
# Curations per topic. The default graph is the union of the named graphs (one per curation).
SELECT ?scheme ?topic (COUNT(DISTINCT ?c) AS ?curations) WHERE {
  ?c a kg:Curation ; kg:topic ?t .
  ?t skos:prefLabel ?topic ; skos:inScheme/skos:prefLabel ?scheme .
}
GROUP BY ?scheme ?topic
ORDER BY DESC(?curations) ?scheme ?topic
LIMIT 50
"""

PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kg: SPARQL</title>
<link rel="icon" href="data:,">
<link href="/yasgui.min.css" rel="stylesheet" type="text/css">
<script src="/yasgui.min.js"></script>
</head>
<body>
<div id="yasgui"></div>
<script>
// Served by kg serve: YASGUI from the Oxigraph server, set up so that no request leaves
// this machine (no prefix.cc, no lov.linkeddata.es) and with kg's prefixes ready.
const endpoint = window.location.origin + "/query";
const query = __QUERY__;
Yasgui.Yasqe.defaults.prefixCcApi = window.location.origin + "__PREFIXES_PATH__";
Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];
Yasgui.Yasqe.defaults.value = query;
Yasgui.defaults.requestConfig.endpoint = endpoint;
window.yasgui = new Yasgui(document.getElementById("yasgui"), {
  requestConfig: { endpoint: endpoint, method: "POST" },
  copyEndpointOnNewTab: false,
  persistenceId: null,
  endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
  yasqe: { value: query },
});
</script>
</body>
</html>
"""


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


# --- the store --------------------------------------------------------------------------------


def load_into(store_dir: Path, paths: list[Path], base_iri: str) -> str:
    """Load `paths` into the embedded store at `store_dir` as `kg load` does (an export folder
    is synced; sources and RDF files replace their graphs); a one-line summary.

    Raises kg.store.load's `DataError`/`LoadError`, kg.store.sync's and kg.pipeline.incremental's errors,
    `SourceError`: the caller reports them."""
    from kg.pipeline.incremental import Manifest
    from kg.store import sync

    exports = [p for p in paths if sync.is_export_folder(p)]
    if exports and len(paths) > 1:
        raise ServeError(f"{exports[0]} is an export folder: serve it on its own, without other DATA")
    target = sync.EmbeddedTarget(open_store(store_dir), str(store_dir))
    try:
        if exports:
            result = sync.sync(target, Manifest(exports[0]))
            return f"synced export {exports[0]} ({result.plan.summary()})"
        collected = collect(paths, IriScheme(base_iri))
        sync.forget(target, base_iri, collected.graphs)
        loaded = load_store(target.store, collected)
        failed = collected.failed_files()
        note = f"; {failed} source files failed to export" if failed else ""
        return f"loaded {loaded.graphs} graphs ({loaded.triples} triples){note}"
    finally:
        target.close()


# --- the pass-through server ----------------------------------------------------------------


class _Front(ThreadingHTTPServer):
    """The public address: kg's page, kg's prefixes, everything else passed to Oxigraph."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], page: bytes, prefixes: bytes):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.upstream = upstream
        self.page = page
        self.prefixes = prefixes
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Front
    # HTTP/1.0: one request per connection, so an answer can be streamed without its length.
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            self._send(200, "text/html; charset=utf-8", self.server.page)
        elif path == PREFIXES_PATH:
            self._send(200, "application/json", self.server.prefixes)
        else:
            self._forward()

    def do_POST(self) -> None:
        self._forward()

    do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_POST

    def log_message(self, format: str, *args: object) -> None:  # quiet: no line per request
        pass

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else None

    def _forward(self) -> None:
        try:
            body = self._body()
        except ValueError:
            self._send(400, "text/plain; charset=utf-8", b"malformed request body")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        if body is not None:
            headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection(*self.server.upstream, timeout=UPSTREAM_TIMEOUT)
        try:
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
            except OSError as exc:
                message = f"the Oxigraph server behind kg serve did not answer: {exc}"
                self._send(502, "text/plain; charset=utf-8", message.encode())
                return
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                while chunk := response.read(65536):
                    self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):  # the client went away
            pass
        finally:
            connection.close()


def page(base_iri: str) -> bytes:
    """kg's query page: YASGUI with kg's PREFIX lines and an example query."""
    prefixes = {**PREFIXES, **instance_prefixes(base_iri)}
    query = sparql_prefix_header(prefixes) + "\n" + EXAMPLE_QUERY
    text = PAGE.replace("__QUERY__", json.dumps(query).replace("</", "<\\/"))
    return text.replace("__PREFIXES_PATH__", PREFIXES_PATH).encode("utf-8")


def prefixes_json(base_iri: str) -> bytes:
    """kg's prefixes in prefix.cc's format ({prefix: namespace}), for YASGUI's autocompletion."""
    return json.dumps({**PREFIXES, **instance_prefixes(base_iri)}, indent=1).encode("utf-8")


def bind_front(host: str, port: int, upstream: tuple[str, int], base_iri: str) -> _Front:
    """The public server, bound (not yet serving); ServeError when the address is taken."""
    try:
        return _Front((host, port), upstream, page(base_iri), prefixes_json(base_iri))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is already in use: choose another --port (0 picks a free one)"
            ) from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


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


# --- kg serve -----------------------------------------------------------------------------------


@dataclass
class Options:
    store_dir: Path | None  # None: a temporary store (only with data)
    data: list[Path]
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    writable: bool = False
    base_iri: str = DEFAULT_BASE_IRI


@contextlib.contextmanager
def _store_for(options: Options, say: Callable[[str], None]) -> Iterator[Path]:
    """The store to serve: the one named (loaded first with DATA), or a temporary one holding
    DATA, removed afterwards (also when the load fails or is interrupted)."""
    count = f"{len(options.data)} DATA path{'s' if len(options.data) != 1 else ''}"
    if options.store_dir is None:
        temporary = Path(tempfile.mkdtemp(prefix="kg-serve-"))
        try:
            store_dir = temporary / "store"
            say(f"kg serve: loading {count} into a temporary store, {store_dir}")
            say(f"kg serve: {load_into(store_dir, options.data, options.base_iri)}")
            yield store_dir
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        return
    store_dir = options.store_dir
    if options.data:
        say(f"kg serve: loading {count} into {store_dir}")
        say(f"kg serve: {load_into(store_dir, options.data, options.base_iri)}")
    elif not is_store_dir(store_dir) and not options.writable:
        raise ServeError(
            f"no store at {store_dir}: load one with `kg load DATA --store {store_dir}`, "
            "or give DATA to serve (an export folder, RDF files or curation sources)"
        )
    yield store_dir


def serve(
    options: Options,
    say: Callable[[str], None],
    announce: Callable[[str], None],
    stop: threading.Event | None = None,
) -> int:
    """Run kg serve until SIGINT/SIGTERM (or `stop` is set): 0 after a clean stop.

    `say` gets progress lines, `announce` the "serving at URL" line. Raises ServeError (and
    the loading errors of `load_into`) when it cannot start or Oxigraph stops by itself."""
    stop = stop or threading.Event()
    binary = oxigraph_binary()
    version = oxigraph_version(binary)
    loading = True

    def on_signal(signum: int, frame: object) -> None:
        # While loading, a first signal lets the load finish (a store is never left half
        # loaded), then kg serve stops without serving; a second one interrupts the load.
        if loading and stop.is_set():
            raise KeyboardInterrupt
        if loading:
            say("kg serve: stopping once the load is done (again to interrupt it)")
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # The public address first: a port in use is reported before anything is loaded.
        front = bind_front(options.host, options.port, ("127.0.0.1", 0), options.base_iri)
        try:
            with _store_for(options, say) as store_dir:
                loading = False  # from here a signal sets `stop`: Oxigraph is stopped in order
                if stop.is_set():
                    say("kg serve: stopped before serving")
                    return 0
                oxigraph = start_oxigraph(binary, store_dir, options.writable)
                thread = threading.Thread(target=front.serve_forever, name="kg-serve", daemon=True)
                try:
                    if stop.is_set():
                        say("kg serve: stopped before serving")
                        return 0
                    front.upstream = ("127.0.0.1", oxigraph.port)
                    thread.start()
                    url = url_of(options.host, front.server_address[1])
                    mode = "read-write" if options.writable else "read-only"
                    say(
                        f"kg serve: Oxigraph {version}, {mode}, store {store_dir}; SPARQL endpoint "
                        f"{url}query, updates {url}update, Graph Store {url}store; Ctrl-C stops"
                    )
                    if options.host not in LOOPBACK:
                        say(
                            f"kg serve: listening on {options.host}: other machines can reach it, "
                            "with no authentication" + (" and write to the store" if options.writable else "")
                        )
                    announce(f"serving at {url}")
                    while not stop.wait(0.2):
                        if oxigraph.process.poll() is not None:
                            code = oxigraph.process.returncode
                            raise ServeError(
                                f"the Oxigraph server stopped by itself (exit {code}):\n{oxigraph.log_tail()}"
                            )
                finally:
                    if thread.is_alive():
                        front.shutdown()
                        thread.join(timeout=STOP_TIMEOUT)
                    oxigraph.stop()
        finally:
            front.server_close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("kg serve: stopped")
    return 0
