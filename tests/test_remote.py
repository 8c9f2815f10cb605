"""Remote stores: a real Oxigraph server (and Virtuoso when installed), and scripted failures.

The same library query must give the same rows on the embedded store, on files and on the
server. Oxigraph's server is started in its default configuration, whose default graph is NOT
the union of the named graphs; Virtuoso's default graph IS the union. The queries' `GRAPH ?g`
patterns make that difference irrelevant, which these tests check.
"""

from __future__ import annotations

import base64
import logging
import shutil
import time
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.export import export
from kg.query import execute, library, run
from kg.remote import Endpoint, RemoteError
from kg.store import LoadError, collect, load_endpoint, load_store
from tests.conftest import EXAMPLES
from tests.servers import FakeServer, Recorded, Reply, Server
from tests.test_queries import CASES, HOSTILE
from tests.test_store import CHANGED, CHANGED_IRI, EXAMPLE_QUADS, change_curation

SECRET = "s3cr3t-PaSs"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
COUNT_DEFAULT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
CURATION_IN_DEFAULT_GRAPH = "ASK { ?c a kg:Curation }"


def endpoints(server: Server) -> tuple[Endpoint, Endpoint]:
    """(graph store endpoint, query endpoint)."""
    auth = {"user": server.user, "password": server.password}
    return Endpoint(server.store_url, **auth), Endpoint(server.query_url, **auth)  # type: ignore[arg-type]


def count(query_endpoint: Endpoint, text: str = COUNT_ALL) -> int:
    return int(str(execute(text, query_endpoint).rows()[0]["n"]))


@pytest.fixture(scope="module")
def embedded() -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    load_store(store, collect([EXAMPLES]))
    return store


@pytest.fixture(scope="module")
def example_nq(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    export([EXAMPLES], out, ["nquads"])
    return out / "curations.nq"


def reload_a_changed_curation(store_ep: Endpoint, query_ep: Endpoint, tmp_path: Path) -> pyoxigraph.Store:
    """Change one curation, reload just it; the server then answers as a fresh load would."""
    src = tmp_path / "curations"
    shutil.copytree(EXAMPLES, src)
    change_curation(src)
    load_endpoint(store_ep, collect([src / CHANGED]))
    titles = execute(f"SELECT ?title WHERE {{ GRAPH ?g {{ <{CHANGED_IRI}> schema:name ?title }} }}", query_ep)
    assert titles.rows() == [{"title": "A Retitled Curation"}]
    covid = [r for r in run("topic-counts", query_ep) if (r["scheme"], r["topic"]) == ("Symplur", "COVID-19")]
    assert covid[0]["curations"] == 3
    fresh = pyoxigraph.Store()
    load_store(fresh, collect([src]))
    for name, params, _, _ in CASES:
        assert run(name, query_ep, **params) == run(name, fresh, **params), name
    return fresh


# --- a real Oxigraph server -------------------------------------------------------------------


@pytest.mark.server
def test_load_query_and_reload_on_a_real_server(
    oxigraph_server: Server, embedded: pyoxigraph.Store, example_nq: Path, tmp_path: Path
) -> None:
    store_ep, query_ep = endpoints(oxigraph_server)
    result = load_endpoint(store_ep, collect([example_nq]))
    assert (result.graphs, result.triples) == (16, EXAMPLE_QUADS)
    assert count(query_ep) == EXAMPLE_QUADS
    # Oxigraph's default graph is not the union, but kg asks for it (union-default-graph): plain
    # SPARQL answers as on Virtuoso (issue 15; tests/test_union.py).
    assert count(query_ep, COUNT_DEFAULT) == EXAMPLE_QUADS
    assert execute(CURATION_IN_DEFAULT_GRAPH, query_ep).boolean() is True

    # Every library query: the same rows on the server, the embedded store and the file.
    for name, params, _, _ in CASES:
        on_server = run(name, query_ep, **params)
        assert on_server == run(name, embedded, **params) == run(name, [example_nq], **params), name

    # Loading again changes nothing; a changed curation shows only its new values.
    load_endpoint(store_ep, collect([example_nq]))
    assert count(query_ep) == EXAMPLE_QUADS
    fresh = reload_a_changed_curation(store_ep, query_ep, tmp_path)
    assert count(query_ep) == len(fresh)


@pytest.mark.server
@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_parameters_on_a_real_server(oxigraph_server: Server, example_nq: Path, text: str) -> None:
    store_ep, query_ep = endpoints(oxigraph_server)
    load_endpoint(store_ep, collect([example_nq]))
    assert run("search", query_ep, text=text) == []
    assert run("curations-by-topic", query_ep, topic=text) == []
    assert count(query_ep) == EXAMPLE_QUADS


@pytest.mark.server
def test_the_cli_against_a_real_server(oxigraph_server: Server, example_nq: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["load", str(example_nq), "--endpoint", oxigraph_server.store_url])
    assert result.exit_code == 0, result.output
    assert f"16 graphs ({EXAMPLE_QUADS} triples) PUT to {oxigraph_server.store_url}" in result.stderr
    local = runner.invoke(main, ["query", "topic-counts", "--data", str(example_nq), "-f", "csv"])
    remote = runner.invoke(
        main, ["query", "topic-counts", "--endpoint", oxigraph_server.query_url, "-f", "csv"]
    )
    assert remote.exit_code == 0 and remote.stdout == local.stdout
    assert remote.stdout.splitlines()[1] == "KLAS,Telehealth,7"


# --- Virtuoso, whose default graph is the union ---------------------------------------------


@pytest.mark.server
@pytest.mark.slow
def test_virtuoso_gives_the_same_rows(
    virtuoso_server: Server, embedded: pyoxigraph.Store, tmp_path: Path
) -> None:
    store_ep, query_ep = endpoints(virtuoso_server)  # digest auth on its Graph Store endpoint
    load_endpoint(store_ep, collect([EXAMPLES]))
    assert execute(CURATION_IN_DEFAULT_GRAPH, query_ep).boolean() is True, "the default graph is the union"
    for name, params, _, _ in CASES:
        assert run(name, query_ep, **params) == run(name, embedded, **params), name
    reload_a_changed_curation(store_ep, query_ep, tmp_path)  # replaces its graph there too


# --- scripted failures --------------------------------------------------------------------------


def fast(url: str, **options: object) -> Endpoint:
    return Endpoint(url, backoff=0.01, **options)  # type: ignore[arg-type]


def test_5xx_is_retried_with_backoff_then_succeeds(fake_server: FakeServer) -> None:
    def script(seen: list[Recorded], req: Recorded) -> Reply:
        return (503, {}, b"busy") if len(seen) <= 2 else (204, {}, b"")

    fake_server.script = script
    fast(fake_server.url + "/store").put_graph("http://example.org/g", b"")
    assert [r.method for r in fake_server.requests] == ["PUT", "PUT", "PUT"]
    assert fake_server.requests[0].path == "/store?graph=http%3A%2F%2Fexample.org%2Fg"
    assert fake_server.requests[0].headers["Content-Type"] == "application/n-triples"


def test_retries_are_bounded_and_the_error_has_status_and_excerpt(fake_server: FakeServer) -> None:
    fake_server.script = lambda seen, req: (
        500,
        {},
        b"<html>Internal  error:\n disk quota exceeded " + b"x" * 1000,
    )
    with pytest.raises(RemoteError) as info:
        fast(fake_server.url + "/query", retries=2).query("ASK {}")
    assert len(fake_server.requests) == 3
    message = str(info.value)
    assert info.value.status == 500
    assert "HTTP 500" in message and "after 3 attempts" in message
    assert "Internal error: disk quota exceeded" in message and len(message) < 500


def test_4xx_is_not_retried(fake_server: FakeServer) -> None:
    fake_server.script = lambda seen, req: (400, {}, b"Parser error: unexpected }")
    with pytest.raises(RemoteError, match=r"HTTP 400.*Parser error"):
        fast(fake_server.url + "/query").query("ASK {")
    assert len(fake_server.requests) == 1


def test_backoff_grows_exponentially(fake_server: FakeServer) -> None:
    fake_server.script = lambda seen, req: (502, {}, b"")
    started = time.monotonic()
    with pytest.raises(RemoteError):
        Endpoint(fake_server.url, retries=3, backoff=0.05).query("ASK {}")
    assert time.monotonic() - started >= 0.05 + 0.1 + 0.2
    assert len(fake_server.requests) == 4


def test_connection_errors_are_retried_then_reported() -> None:
    from tests.servers import free_port

    url = f"http://127.0.0.1:{free_port()}/store"
    with pytest.raises(RemoteError, match=r"cannot connect after 3 attempts"):
        fast(url, retries=2).put_graph("http://example.org/g", b"")


def test_a_slow_server_times_out(fake_server: FakeServer) -> None:
    def script(seen: list[Recorded], req: Recorded) -> Reply:
        time.sleep(1.0)
        return 200, {}, b""

    fake_server.script = script
    with pytest.raises(RemoteError, match=r"no answer within 0.2 s"):
        fast(fake_server.url, timeout=0.2).query("ASK {}")
    assert len(fake_server.requests) == 1


def test_a_failure_midway_says_which_graphs_were_written(fake_server: FakeServer) -> None:
    fake_server.script = lambda seen, req: (201, {}, b"") if len(seen) <= 3 else (500, {}, b"store is full")
    data = collect([EXAMPLES])
    with pytest.raises(LoadError) as info:
        load_endpoint(fast(fake_server.url + "/store", retries=1), data)
    names = list(data.graphs)
    assert info.value.written == names[:3]
    assert info.value.not_written == names[3:]
    assert "HTTP 500" in info.value.cause and "store is full" in info.value.cause
    details = info.value.details()
    assert "3 of 16 graphs written; 13 not written" in details and names[3] in details


def test_the_cli_reports_a_partial_load(fake_server: FakeServer) -> None:
    def script(seen: list[Recorded], req: Recorded) -> Reply:
        if req.method == "GET":  # the store's sync state (kg.sync): none here
            return 404, {}, b"no such graph"
        puts = sum(1 for r in seen if r.method == "PUT")
        return (201, {}, b"") if puts <= 5 else (503, {}, b"maintenance")

    fake_server.script = script
    result = CliRunner().invoke(main, ["load", "--endpoint", fake_server.url + "/store", "--retries", "0"])
    assert result.exit_code == 2
    assert "HTTP 503" in result.stderr and "5 of 16 graphs written; 11 not written" in result.stderr


# --- credentials never leak -----------------------------------------------------------------


def _auth_script(seen: list[Recorded], req: Recorded) -> Reply:
    expected = "Basic " + base64.b64encode(f"analyst:{SECRET}".encode()).decode()
    if req.headers.get("Authorization") != expected:
        return 401, {"WWW-Authenticate": 'Basic realm="kg"'}, b"who are you?"
    # A careless server that echoes the request, credentials included.
    return 500, {}, f"failed for analyst:{SECRET} / {expected}".encode()


def test_credentials_are_sent_but_never_printed(
    fake_server: FakeServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_server.script = _auth_script
    monkeypatch.setenv("KG_STORE_USER", "analyst")
    monkeypatch.setenv("KG_STORE_PASSWORD", SECRET)
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    for args in (
        ["load", "--endpoint", fake_server.url + "/store"],
        ["query", "topic-counts", "--endpoint", fake_server.url + "/query"],
        ["query", "topic-counts", "--endpoint", fake_server.url + "/query", "--password", SECRET],
    ):
        result = runner.invoke(main, [*args, "--retries", "1"])
        assert result.exit_code == 2
        assert "HTTP 500" in result.stderr
        assert SECRET not in result.output and SECRET not in result.stderr
    assert "Authorization" not in fake_server.requests[0].headers, "credentials only when asked"
    assert fake_server.requests[1].headers["Authorization"].startswith("Basic ")
    assert SECRET not in caplog.text and caplog.text  # retries were logged, without the secret
    encoded = base64.b64encode(f"analyst:{SECRET}".encode()).decode()
    assert encoded not in caplog.text


def test_credentials_in_the_url_are_used_and_hidden(fake_server: FakeServer) -> None:
    fake_server.script = _auth_script
    url = fake_server.url.replace("http://", f"http://analyst:{SECRET}@") + "/query"
    endpoint = fast(url, retries=0)
    assert SECRET not in endpoint.display_url and SECRET not in repr(endpoint)
    with pytest.raises(RemoteError) as info:
        endpoint.query("ASK {}")
    assert "HTTP 500" in str(info.value) and SECRET not in str(info.value)
    assert fake_server.requests[-1].headers["Authorization"].startswith("Basic ")
    result = CliRunner().invoke(main, ["query", "brand-counts", "--endpoint", url, "--retries", "0"])
    assert result.exit_code == 2 and SECRET not in result.stderr and SECRET not in result.output


def test_wrong_credentials_fail_with_401(fake_server: FakeServer) -> None:
    fake_server.script = _auth_script
    with pytest.raises(RemoteError, match="HTTP 401") as info:
        fast(fake_server.url, user="analyst", password="wrong-" + SECRET).query("ASK {}")
    assert SECRET not in str(info.value)


def test_every_library_query_runs_remotely_as_sent(fake_server: FakeServer) -> None:
    """The text posted to an endpoint is the bound query: prefixes, VALUES, nothing else."""
    fake_server.script = lambda seen, req: (
        200,
        {"Content-Type": "application/sparql-results+json"},
        b'{"head":{"vars":["x"]},"results":{"bindings":[]}}',
    )
    for name in library():
        params = {p.name: "Telehealth" for p in library()[name].params if p.required}
        assert run(name, fast(fake_server.url), **params) == []
    for req in fake_server.requests:
        assert req.method == "POST" and req.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert "application/sparql-results+json" in req.headers["Accept"]
