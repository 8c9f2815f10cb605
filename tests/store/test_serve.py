"""`kg serve` (issue 16): started as a real subprocess on a free port, queried over HTTP (kg
query --endpoint, SPARQL 1.1 Protocol GET and POST), stopped by its process id; the Oxigraph
server it runs must be gone afterwards, and a temporary store removed.

Every wait is bounded: START_TIMEOUT to start, STOP_TIMEOUT to stop, HTTP timeouts per request.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph
import pytest
import requests
from click.testing import CliRunner

from kg.cli import main
from kg.pipeline.export import export
from kg.store.oxigraph import oxigraph_binary, oxigraph_version
from tests.conftest import EXAMPLES
from tests.helpers.servers import Server, free_port
from tests.helpers.store import EXAMPLE_QUADS, PLAIN

pytestmark = pytest.mark.server

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
HTTP = 10.0
JSON = {"Accept": "application/sparql-results+json"}
CURATIONS = "PREFIX kg: <https://w3id.org/medigy/kg#> SELECT (COUNT(DISTINCT ?c) AS ?n) { ?c a kg:Curation }"


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    stderr: Path

    def children(self) -> list[int]:
        return children_of(self.process.pid)

    def stop(self, sig: signal.Signals) -> int:
        """Send `sig` to kg serve (by its id) and return its exit code."""
        self.process.send_signal(sig)
        return self.process.wait(timeout=STOP_TIMEOUT)


def children_of(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def gone(pid: int, timeout: float = STOP_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            byte = os.read(process.stdout.fileno(), 1)
            if not byte:
                break
            line += byte
    return line.decode()


def start(args: list[str], tmp_path: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    with (tmp_path / "serve.err").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "kg.cli", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=cwd or tmp_path,
        )


@contextlib.contextmanager
def kg_serve(args: list[str], tmp_path: Path) -> Iterator[Served]:
    """`kg serve --port 0 ARGS`; waits for "serving at URL"; kills it (by id) if a test fails."""
    process = start(["--port", "0", *args], tmp_path)
    err = tmp_path / "serve.err"
    try:
        line = _read_line(process, START_TIMEOUT)
        assert line.startswith("serving at http://127.0.0.1:"), f"{line!r}\n{err.read_text()}"
        yield Served(process, line.split()[-1], err)
    finally:
        kids = children_of(process.pid)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
        for pid in kids:  # never leave an Oxigraph behind, even when an assertion failed
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if process.stdout is not None:
            process.stdout.close()


def count(url: str, query: str = CURATIONS) -> int:
    response = requests.get(url + "query", params={"query": query}, headers=JSON, timeout=HTTP)
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded store written by pyoxigraph (kg load) from the example curations."""
    store = tmp_path_factory.mktemp("serve") / "store"
    result = CliRunner().invoke(main, ["load", str(EXAMPLES), "--store", str(store)])
    assert result.exit_code == 0, result.output
    return store


def test_oxigraph_and_pyoxigraph_are_the_same_release() -> None:
    """The server binary opens the store files pyoxigraph writes: same major.minor (kg serve
    refuses otherwise); the tests below check it on real files both ways."""
    version = oxigraph_version(oxigraph_binary())
    assert version.split(".")[:2] == pyoxigraph.__version__.split(".")[:2]


def test_serves_a_store_read_only_over_the_sparql_protocol(store_dir: Path, tmp_path: Path) -> None:
    with kg_serve(["--store", str(store_dir)], tmp_path) as served:
        url = served.url
        [oxigraph] = served.children()
        # SPARQL 1.1 Protocol: GET, POST form, POST body; no GRAPH needed (the union).
        assert count(url) == 16
        form = requests.post(url + "query", data={"query": CURATIONS}, headers=JSON, timeout=HTTP)
        body = requests.post(
            url + "query",
            data=CURATIONS.encode(),
            headers={**JSON, "Content-Type": "application/sparql-query"},
            timeout=HTTP,
        )
        for response in (form, body):
            assert response.status_code == 200
            assert response.json()["results"]["bindings"][0]["n"]["value"] == "16"
        assert count(url, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }") == EXAMPLE_QUADS

        # kg query --endpoint gives the rows kg query gives on the store itself.
        runner = CliRunner()
        remote = runner.invoke(main, ["query", "--sparql", PLAIN, "--endpoint", url + "query", "-f", "csv"])
        local = runner.invoke(main, ["query", "--sparql", PLAIN, "--store", str(store_dir), "-f", "csv"])
        assert remote.exit_code == 0 and remote.stdout == local.stdout
        assert remote.stdout.splitlines()[1] == "Telehealth,7"

        # Read-only: an update and a Graph Store write are refused, nothing changes.
        update = requests.post(
            url + "update", data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}, timeout=HTTP
        )
        assert update.status_code >= 400
        put = requests.put(
            url + "store",
            params={"graph": "urn:g"},
            data=b"<urn:a> <urn:b> <urn:c> .\n",
            headers={"Content-Type": "application/n-triples"},
            timeout=HTTP,
        )
        assert put.status_code >= 400
        assert count(url, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }") == EXAMPLE_QUADS

        # The query page: kg's prefixes and an example query, YASGUI from the server itself.
        page = requests.get(url, timeout=HTTP)
        assert page.status_code == 200 and "PREFIX kg: <https://w3id.org/medigy/kg#>" in page.text
        linked = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert linked == ["data:,", "/yasgui.min.css", "/yasgui.min.js"]
        assert requests.get(url + "yasgui.min.js", timeout=HTTP).status_code == 200
        prefixes = requests.get(url + "kg/prefixes.json", timeout=HTTP).json()
        assert prefixes["skos"] == "http://www.w3.org/2004/02/skos/core#"

        assert served.stop(signal.SIGTERM) == 0
        assert gone(oxigraph), "the Oxigraph server outlived kg serve"
        assert "kg serve: stopped" in served.stderr.read_text()


def test_serves_an_export_folder_in_a_temporary_store_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    out = tmp_path / "export"
    export([EXAMPLES], out, ["nquads"])
    with kg_serve([str(out)], tmp_path) as served:
        [oxigraph] = served.children()
        assert count(served.url) == 16
        stderr = served.stderr.read_text()
        temporary = Path(re.search(r"store (\S+kg-serve-\S+)/store;", stderr)[1])  # type: ignore[index]
        assert temporary.is_dir()
        assert served.stop(signal.SIGINT) == 0
        assert gone(oxigraph)
        assert not temporary.exists(), "the temporary store was not removed"


@pytest.mark.parametrize(
    ("signals", "code", "said"), [(1, 0, "stopped before serving"), (2, 2, "interrupted")]
)
def test_a_signal_while_loading_stops_cleanly_before_serving(
    corpus_dir: Path, tmp_path: Path, signals: int, code: int, said: str
) -> None:
    """SIGTERM during the load of the corpus: the load completes (a store is never left half
    loaded), nothing is served, no Oxigraph is left, the temporary store is removed, exit 0.
    A second signal interrupts the load: exit 2, and the same cleanup."""
    process = start(["--port", "0", str(corpus_dir)], tmp_path)
    err = tmp_path / "serve.err"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "loading" not in err.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        for _ in range(signals):
            process.send_signal(signal.SIGTERM)
            time.sleep(0.05)
        assert process.wait(timeout=START_TIMEOUT) == code
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    assert process.stdout is not None and process.stdout.read() == b""  # never "serving at"
    process.stdout.close()
    stderr = err.read_text()
    assert f"kg serve: {said}" in stderr and "Traceback" not in stderr
    assert children_of(process.pid) == []
    temporary = Path(re.search(r"into a temporary store, (\S+)", stderr)[1])  # type: ignore[index]
    assert temporary.name == "store" and not temporary.parent.exists(), "the temporary store is left"


def test_writable_accepts_writes_and_pyoxigraph_reads_them(tmp_path: Path) -> None:
    """--writable: an update and kg load --endpoint go through; after the stop, pyoxigraph opens
    what the Oxigraph server wrote (the other direction of the compatibility check)."""
    store = tmp_path / "new-store"
    with kg_serve(["--store", str(store), "--writable"], tmp_path) as served:
        update = requests.post(
            served.url + "update",
            data={"update": "INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }"},
            timeout=HTTP,
        )
        assert update.status_code in (200, 204)
        loaded = CliRunner().invoke(main, ["load", str(EXAMPLES), "--endpoint", served.url + "store"])
        assert loaded.exit_code == 0, loaded.output
        assert count(served.url) == 16
        assert count(served.url, "SELECT (COUNT(*) AS ?n) { <urn:a> ?p ?o }") == 1
        assert served.stop(signal.SIGTERM) == 0
    reopened = pyoxigraph.Store.read_only(str(store))
    assert len(list(reopened.quads_for_pattern(None, None, None, pyoxigraph.NamedNode("urn:g")))) == 1
    assert len(reopened) == EXAMPLE_QUADS + 1


def test_a_port_in_use_is_exit_2_with_a_clear_message(store_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start(["--store", str(store_dir), "--port", str(port)], tmp_path)
        try:
            assert process.wait(timeout=START_TIMEOUT) == 2
        finally:
            if process.poll() is None:
                process.kill()
    message = (tmp_path / "serve.err").read_text()
    assert f"port {port}" in message and "in use" in message and "Traceback" not in message
    assert children_of(process.pid) == []


def test_no_store_is_exit_2_naming_it(tmp_path: Path) -> None:
    port = str(free_port())
    result = CliRunner().invoke(main, ["serve", "--store", str(tmp_path / "none"), "--port", port])
    assert result.exit_code == 2
    assert f"no store at {tmp_path / 'none'}" in result.stderr


def test_oxigraph_does_not_outlive_a_killed_kg_serve(store_dir: Path, tmp_path: Path) -> None:
    """Even SIGKILL, which kg cannot handle, leaves no orphan: the child has a parent-death signal."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux's")
    with kg_serve(["--store", str(store_dir)], tmp_path) as served:
        [oxigraph] = served.children()
        served.process.kill()
        served.process.wait(timeout=STOP_TIMEOUT)
        assert gone(oxigraph), "the Oxigraph server outlived a killed kg serve"


# --- the query page in a real headless browser --------------------------------------------------

#: Chromium's own background services (component updates, time, sign-in): not the page's requests.
BROWSER_OWN = (".google.com", ".googleapis.com")


@pytest.fixture
def recorder() -> Iterator[list[str]]:
    """An HTTP proxy on 127.0.0.1 that records the host of every request sent through it and
    refuses it (403): the browser is told to use it, so every request that would leave the
    machine lands here (Chromium sends requests to 127.0.0.1 directly, not through the proxy)."""
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            target = self.path if self.command != "CONNECT" else f"https://{self.path}"
            hosts.append(urlsplit(target).hostname or self.path)
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_HEAD = do_OPTIONS = do_CONNECT = _record

        def log_message(self, format: str, *args: object) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    hosts.append(f"port:{proxy.server_address[1]}")
    try:
        yield hosts
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(timeout=5)


def browse(url: str, recorder: list[str], profile: Path) -> tuple[str, list[str]]:
    """Load `url` in headless Chromium (scripts run, 8 s of virtual time) through the recording
    proxy: (the DOM after the scripts ran, the hosts the page asked for off the machine)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian package chromium; .ci/run installs it)")
    port = recorder[0].removeprefix("port:")
    before = len(recorder)
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # as root in a container
            "--disable-gpu",
            f"--user-data-dir={profile}",
            f"--proxy-server=http://127.0.0.1:{port}",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-sync",
            "--disable-default-apps",
            "--no-pings",
            "--virtual-time-budget=8000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    asked = [h for h in recorder[before:] if not h.endswith(BROWSER_OWN)]
    return result.stdout, asked


@pytest.mark.slow
def test_the_query_page_loads_in_a_browser_and_nothing_leaves_the_machine(
    store_dir: Path, tmp_path: Path, recorder: list[str], oxigraph_server: Server
) -> None:
    """kg's page renders YASGUI with kg's PREFIX lines in the editor and asks for nothing off
    127.0.0.1; Oxigraph's own page, loaded the same way, asks prefix.cc (which shows the
    check sees such requests, and why kg serves a page of its own)."""
    with kg_serve(["--store", str(store_dir)], tmp_path) as served:
        dom, asked = browse(served.url, recorder, tmp_path / "profile-kg")
        assert asked == [], f"the page sent requests off the machine: {asked}"
        assert 'class="CodeMirror' in dom, "YASGUI's editor did not render"
        assert '<span class="cm-string-2">kg:</span>' in dom, "kg's PREFIX lines are not in the editor"
        assert served.stop(signal.SIGTERM) == 0

    own_page = oxigraph_server.query_url.removesuffix("query")
    dom, asked = browse(own_page, recorder, tmp_path / "profile-oxigraph")
    assert 'class="CodeMirror' in dom
    assert "prefix.cc" in asked


def test_an_oxigraph_that_dies_is_exit_2_not_a_silent_hang(store_dir: Path, tmp_path: Path) -> None:
    with kg_serve(["--store", str(store_dir)], tmp_path) as served:
        [oxigraph] = served.children()
        os.kill(oxigraph, signal.SIGKILL)
        assert served.process.wait(timeout=STOP_TIMEOUT) == 2
        message = served.stderr.read_text()
        assert "the Oxigraph server stopped by itself" in message and "Traceback" not in message
