"""Remote stores: a real Oxigraph server (and Virtuoso when installed), and scripted failures.

The same library query must give the same rows on the embedded store, on files and on the
server. Oxigraph's server is started in its default configuration, whose default graph is NOT
the union of the named graphs; Virtuoso's default graph IS the union. The library queries are
plain SPARQL over the union (each fact is in one graph: docs/graph-model.md, "Named graphs"),
and kg asks Oxigraph's server for its union default graph, which makes that difference
irrelevant, as these tests check.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyoxigraph
import pytest
import requests
from click.testing import CliRunner

from kg.cli import main
from kg.pipeline.export import export
from kg.sparql.library import library
from kg.sparql.query import execute, run
from kg.store.http import MAX_DELAY, MAX_REDIRECTS, REDIRECTS, Endpoint, RemoteError, retry_delay
from kg.store.load import LoadError, collect, load_endpoint, load_store
from kg.store.sync import is_export_folder
from tests.conftest import EXAMPLES
from tests.helpers.queries import CASES, HOSTILE
from tests.helpers.servers import FakeServer, Forward, Recorded, Reply, Server, Stream, Trickle, slow_reader
from tests.helpers.store import (
    CHANGED,
    CHANGED_IRI,
    EXAMPLE_GRAPHS,
    EXAMPLE_QUADS,
    change_curation,
    endpoints,
)

SECRET = "s3cr3t-PaSs"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
COUNT_DEFAULT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
CURATION_IN_DEFAULT_GRAPH = "ASK { ?c a kg:Curation }"


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
    assert (result.graphs, result.triples) == (EXAMPLE_GRAPHS, EXAMPLE_QUADS)
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
    assert (
        f"{EXAMPLE_GRAPHS} graphs ({EXAMPLE_QUADS} triples) PUT to {oxigraph_server.store_url}"
        in result.stderr
    )
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
    from tests.helpers.servers import free_port

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
    assert (
        f"3 of {EXAMPLE_GRAPHS} graphs written; {EXAMPLE_GRAPHS - 3} not written" in details
        and names[3] in details
    )


def test_the_cli_reports_a_partial_load(fake_server: FakeServer) -> None:
    def script(seen: list[Recorded], req: Recorded) -> Reply:
        if req.method == "GET":  # the store's sync state (kg.store.sync): none here
            return 404, {}, b"no such graph"
        puts = sum(1 for r in seen if r.method == "PUT")
        return (201, {}, b"") if puts <= 5 else (503, {}, b"maintenance")

    fake_server.script = script
    result = CliRunner().invoke(main, ["load", "--endpoint", fake_server.url + "/store", "--retries", "0"])
    assert result.exit_code == 2
    n = EXAMPLE_GRAPHS  # the examples' 16 curation graphs + 78 node graphs
    assert "HTTP 503" in result.stderr and f"5 of {n} graphs written; {n - 5} not written" in result.stderr


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


def test_a_401_without_credentials_says_how_to_give_them(fake_server: FakeServer) -> None:
    fake_server.script = _auth_script
    with pytest.raises(RemoteError, match=r"HTTP 401.*no credentials given.*KG_STORE_USER"):
        fast(fake_server.url).query("ASK {}")
    assert len(fake_server.requests) == 1


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


# --- redirects: never on a write, within the origin on a read (issue 13) ------------------------

GRAPH = "http://example.org/g"


def _write(endpoint: Endpoint, method: str) -> None:
    if method == "PUT":
        endpoint.put_graph(GRAPH, b"<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n")
    else:
        endpoint.delete_graph(GRAPH)


@pytest.mark.parametrize("status", sorted(REDIRECTS))
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_a_write_is_never_redirected(
    fake_server: FakeServer, second_fake_server: FakeServer, status: int, method: str
) -> None:
    """A redirected write would "succeed" where kg did not send it (or nowhere): it fails,
    naming the endpoint and the Location, whether the Location is on this origin or not."""
    second_fake_server.script = lambda seen, req: (204, {}, b"")
    for location in (fake_server.url + "/elsewhere", second_fake_server.url + "/store"):
        fake_server.requests.clear()

        def script(seen: list[Recorded], req: Recorded, location: str = location) -> Reply:
            if req.path.startswith("/elsewhere"):
                return 204, {}, b""  # what a client that follows would take for success
            return status, {"Location": location}, b"moved"

        fake_server.script = script
        with pytest.raises(RemoteError) as info:
            _write(fast(fake_server.url + "/store"), method)
        message = str(info.value)
        assert info.value.status == status
        assert f"{method} {fake_server.url}/store" in message and location in message
        assert [r.path.split("?")[0] for r in fake_server.requests] == ["/store"], "not followed"
    assert second_fake_server.requests == []


def test_a_read_follows_redirects_within_its_origin(fake_server: FakeServer) -> None:
    """A query keeps its method and body through a 307/308; a 303 is fetched with GET."""
    results = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"1"}}]}}'

    def script(seen: list[Recorded], req: Recorded) -> Reply:
        if req.path == "/old":
            return 307, {"Location": "/older"}, b""
        if req.path == "/older":
            return 308, {"Location": fake_server.url + "/query"}, b""
        if req.path == "/see-other":
            return 303, {"Location": "/query"}, b""
        if req.path.startswith("/graph-moved"):
            return 301, {"Location": "/store?" + req.path.split("?", 1)[1]}, b""
        if req.path.startswith("/store"):
            return 200, {"Content-Type": "application/n-triples"}, b""
        return 200, {"Content-Type": "application/sparql-results+json"}, results

    fake_server.script = script
    assert execute("SELECT ?x WHERE {}", fast(fake_server.url + "/old")).rows() == [{"x": "1"}]
    sent = fake_server.requests
    assert [(r.method, r.path) for r in sent] == [("POST", "/old"), ("POST", "/older"), ("POST", "/query")]
    assert sent[0].body == sent[2].body and b"SELECT+%3Fx+WHERE" in sent[2].body
    fake_server.requests.clear()
    assert execute("SELECT ?x WHERE {}", fast(fake_server.url + "/see-other")).rows() == [{"x": "1"}]
    assert [(r.method, r.path) for r in sent] == [("POST", "/see-other"), ("GET", "/query")]
    fake_server.requests.clear()
    assert fast(fake_server.url + "/graph-moved").get_graph(GRAPH) == ("application/n-triples", b"")
    assert [r.path.split("?")[0] for r in sent] == ["/graph-moved", "/store"]
    assert sent[1].path == sent[0].path.replace("/graph-moved", "/store")


def test_a_redirect_does_not_choose_the_credentials(fake_server: FakeServer) -> None:
    """User-info in a Location is not used: the server does not pick what kg sends."""
    moved = fake_server.url.replace("http://", "http://intruder:chosen@") + "/query"
    fake_server.script = lambda seen, req: (
        (307, {"Location": moved}, b"")
        if req.path == "/old"
        else (200, {"Content-Type": "application/sparql-results+json"}, b'{"head":{},"boolean":true}')
    )
    assert execute("ASK {}", fast(fake_server.url + "/old")).boolean() is True
    assert [r.path for r in fake_server.requests] == ["/old", "/query"]
    assert all("Authorization" not in r.headers for r in fake_server.requests)


@pytest.mark.parametrize("location", ["http://[bad", f"ftp://analyst:{SECRET}@elsewhere/", "http://:0/"])
def test_a_redirect_to_something_unusable_fails_without_showing_it_whole(
    fake_server: FakeServer, location: str
) -> None:
    fake_server.script = lambda seen, req: (302, {"Location": location}, b"")
    with pytest.raises(RemoteError) as info:
        fast(fake_server.url + "/query").query("ASK {}")
    assert info.value.status == 302 and SECRET not in str(info.value)
    assert len(fake_server.requests) == 1


def test_redirects_are_bounded(fake_server: FakeServer) -> None:
    fake_server.script = lambda seen, req: (302, {"Location": f"/hop{len(seen)}"}, b"")
    with pytest.raises(RemoteError, match=r"more than \d+ redirects"):
        fast(fake_server.url + "/query").query("ASK {}")
    assert len(fake_server.requests) == MAX_REDIRECTS + 1


# --- credentials never leave the endpoint's origin -------------------------------------------

NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"


def _auth_params(header: str) -> dict[str, str]:
    return {k: a or b for k, a, b in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', header)}


def _authorized(req: Recorded, scheme: str, password: str = SECRET) -> bool:
    """The request carries analyst's credentials: Basic, or a Digest response computed from them."""
    header = req.headers.get("Authorization", "")
    if scheme == "Basic":
        return header == "Basic " + base64.b64encode(f"analyst:{password}".encode()).decode()
    if not header.startswith("Digest "):
        return False
    p = _auth_params(header)

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1, ha2 = md5(f"analyst:kg:{password}"), md5(f"{req.method}:{p.get('uri')}")
    expected = md5(f"{ha1}:{NONCE}:{p.get('nc')}:{p.get('cnonce')}:auth:{ha2}")
    return p.get("nonce") == NONCE and p.get("uri") == req.path and p.get("response") == expected


def _challenge(scheme: str) -> dict[str, str]:
    if scheme == "Basic":
        return {"WWW-Authenticate": 'Basic realm="kg"'}
    return {"WWW-Authenticate": f'Digest realm="kg", nonce="{NONCE}", qop="auth", algorithm=MD5'}


@pytest.mark.parametrize("scheme", ["Basic", "Digest"])
@pytest.mark.parametrize("status", [302, 307])
def test_credentials_never_follow_a_redirect_to_another_origin(
    fake_server: FakeServer, second_fake_server: FakeServer, scheme: str, status: int
) -> None:
    """The endpoint takes the credentials, then redirects to another port on the same host,
    which asks for credentials too: it must get none, nor a Digest response computed from
    the password. (kg does not go there at all.)"""

    def first(seen: list[Recorded], req: Recorded) -> Reply:
        if not _authorized(req, scheme):
            return 401, _challenge(scheme), b"who are you?"
        return status, {"Location": second_fake_server.url + "/query"}, b""

    def second(seen: list[Recorded], req: Recorded) -> Reply:
        if "Authorization" not in req.headers:
            return 401, _challenge(scheme), b"who are you?"
        return 200, {"Content-Type": "application/sparql-results+json"}, b'{"head":{},"boolean":true}'

    fake_server.script, second_fake_server.script = first, second
    with pytest.raises(RemoteError) as info:
        fast(fake_server.url + "/query", user="analyst", password=SECRET).query("ASK {}")
    assert info.value.status == status and second_fake_server.url in str(info.value)
    assert _authorized(fake_server.requests[-1], scheme), "the endpoint itself got the credentials"
    assert all("Authorization" not in r.headers for r in second_fake_server.requests)
    assert second_fake_server.requests == []

    result = CliRunner().invoke(
        main,
        ["query", "brand-counts", "--endpoint", fake_server.url + "/query", "--user", "analyst"],
        env={"KG_STORE_PASSWORD": SECRET},
    )
    assert result.exit_code == 2 and second_fake_server.url in result.stderr
    assert SECRET not in result.output and SECRET not in result.stderr
    assert second_fake_server.requests == []


def test_a_stale_digest_nonce_is_answered_again(fake_server: FakeServer) -> None:
    nonce = ["n1"]

    def script(seen: list[Recorded], req: Recorded) -> Reply:
        given = _auth_params(req.headers.get("Authorization", "")).get("nonce")
        if given == nonce[0]:
            return 200, {"Content-Type": "application/sparql-results+json"}, b'{"head":{},"boolean":true}'
        stale = ", stale=true" if given else ""
        return 401, {"WWW-Authenticate": f'Digest realm="kg", nonce="{nonce[0]}", qop="auth"{stale}'}, b""

    fake_server.script = script
    endpoint = fast(fake_server.url + "/query", user="analyst", password=SECRET)
    assert execute("ASK {}", endpoint).boolean() is True  # a 401, then the answer
    nonce[0] = "n2"
    assert execute("ASK {}", endpoint).boolean() is True  # a 401 "stale", then the answer with n2
    assert ["Authorization" in r.headers for r in fake_server.requests] == [False, True, True, True]


# --- endpoint URLs: malformed ones are exit 2, and never show a password ------------------------

BAD_URLS = [
    "http://[bad",
    f"http://analyst:{SECRET}@[bad",
    f"http://analyst:{SECRET}@[::1/query",
    f"analyst:{SECRET}@localhost:7878/query",
    "localhost:7878/query",
    f"ftp://analyst:{SECRET}@localhost/store",
    "file:///etc/passwd",
    "http://",
    "http:///query",
    "",
    f"http://analyst:{SECRET}@localhost:99999/query",
    f"http://analyst:{SECRET}@localhost:port/query",
    f"http://analyst:{SECRET[:4]}/{SECRET[4:]}@localhost/query",
    "http://a..b/query",
    "http://exa mple.org/query",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_endpoint_url_is_exit_2_without_the_password(url: str, example_nq: Path) -> None:
    with pytest.raises(RemoteError) as info:
        Endpoint(url)
    assert SECRET not in str(info.value) and SECRET[4:] not in str(info.value)
    if url.startswith("http"):  # the query API takes an http(s) string as an endpoint
        with pytest.raises(RemoteError):
            execute("ASK {}", url)
    runner = CliRunner()
    for args in (
        ["query", "topic-counts", "--endpoint", url],
        ["query", "--sparql", "ASK {}", "--endpoint", url, "--password", SECRET],
        ["load", "--endpoint", url],
        ["load", str(example_nq.parent), "--endpoint", url],
        ["load", str(example_nq), "--endpoint", url, "--dry-run"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert isinstance(result.exception, SystemExit), result.exception  # no traceback
        assert "--endpoint" in result.stderr and "not a usable endpoint URL" in result.stderr
        assert SECRET not in result.stderr and SECRET[4:] not in result.stderr, result.stderr


# --- huge error bodies, trickling answers: bounded in bytes and in time -------------------------

HUGE = 256 * 1024 * 1024
#: What may be in flight when kg hangs up: its 64 KB, the sockets' buffers on the loopback.
IN_FLIGHT = 32 * 1024 * 1024


def test_a_huge_error_body_is_not_read(fake_server: FakeServer) -> None:
    fake_server.script = lambda seen, req: Stream(500, HUGE, {"Content-Type": "text/plain"})
    with pytest.raises(RemoteError) as info:
        fast(fake_server.url + "/query", retries=1).query("ASK {}")
    assert info.value.status == 500 and "HTTP 500" in str(info.value) and len(str(info.value)) < 600
    sent = fake_server.settled()
    assert len(sent) == 2
    for req in sent:
        assert req.disconnected and req.sent < IN_FLIGHT, req.sent


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_a_huge_redirect_body_is_not_read(fake_server: FakeServer, method: str) -> None:
    """A refused redirect (a write; a read sent to another origin) is not read to its end either."""
    location = "/elsewhere" if method == "PUT" else "http://other.invalid/query"
    fake_server.script = lambda seen, req: Stream(302, HUGE, {"Location": location})
    with pytest.raises(RemoteError) as info:
        endpoint = fast(fake_server.url + "/store")
        endpoint.put_graph(GRAPH, b"") if method == "PUT" else endpoint.query("ASK {}")
    assert info.value.status == 302
    (req,) = fake_server.settled()
    assert req.disconnected and req.sent < IN_FLIGHT, req.sent


def test_the_timeout_bounds_the_whole_request(fake_server: FakeServer) -> None:
    """A server dripping one byte every 0.05 s never lets a read wait 0.5 s; kg still gives
    up at --timeout 0.5, hangs up, and the server sees it long before its last byte."""
    body = b'{"head":{"vars":["x"]},"results":{"bindings":[]}}' * 4
    fake_server.script = lambda seen, req: Trickle(
        200, body, 0.05, {"Content-Type": "application/sparql-results+json"}
    )
    command = [sys.executable, "-m", "kg.cli", "query", "topic-counts", "--endpoint", fake_server.url]
    done = subprocess.run(
        [*command, "--timeout", "0.5", "--retries", "2"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "no answer within 0.5 s" in done.stderr and "Traceback" not in done.stderr
    (req,) = fake_server.settled()  # a timeout is not retried
    total = len(body) + 100  # the body and at least 100 bytes of status line and headers
    assert req.disconnected
    assert req.sent < 40 < total, f"{req.sent} bytes sent before kg hung up"


# --- 429 and 5xx: a bounded retry that honours Retry-After -------------------------------------


def test_the_timeout_bounds_a_slow_send() -> None:
    """A store reading the request 256 KB every 0.1 s: every send makes progress, none waits
    1 s, yet the whole PUT stops at --timeout 1, long before its 32 MB are sent (what the
    server gets in the end is what kg had handed to its socket: a few MB). Python's sendall
    already bounds a send as a whole; this keeps it so, reported as the timeout it is."""
    with slow_reader(256 * 1024, 0.1) as server:
        with pytest.raises(RemoteError, match=r"no answer within 1 s"):
            fast(server.url + "/store", timeout=1, retries=2).put_graph(GRAPH, b"x" * (32 * 1024 * 1024))
        assert server.disconnected.wait(10)
        assert server.received < 16 * 1024 * 1024, server.received


def test_a_write_answer_cut_short_by_the_deadline_is_a_failure(fake_server: FakeServer) -> None:
    """At the deadline kg shuts the socket down; what it read until then ("HTTP/1.0 204 No Con")
    can look like a complete answer, which must not pass for a stored graph."""
    fake_server.script = lambda seen, req: Trickle(204, b"", 0.05)
    with pytest.raises(RemoteError, match=r"no answer within 0.6 s"):
        fast(fake_server.url + "/store", timeout=0.6).put_graph(GRAPH, b"")
    (req,) = fake_server.settled()
    assert req.disconnected and req.sent < 40


def test_retry_delay() -> None:
    assert retry_delay(0, 0.5, None) == 0.5 and retry_delay(3, 0.5, None) == 4.0
    assert retry_delay(10, 0.5, None) == MAX_DELAY
    assert retry_delay(0, 0.5, "7") == 7.0 and retry_delay(2, 0.5, "1") == 2.0
    assert retry_delay(0, 0.5, "soon") == 0.5
    assert retry_delay(0, 0.5, str(int(MAX_DELAY) + 1)) is None
    later = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    assert 15 < (retry_delay(0, 0.5, later) or 0) <= 20
    past = email.utils.format_datetime(datetime.now(timezone.utc) - timedelta(hours=1), usegmt=True)
    assert retry_delay(1, 0.5, past) == 1.0
    hours = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(hours=1), usegmt=True)
    assert retry_delay(0, 0.5, hours) is None


def test_a_retry_after_beyond_what_kg_waits_fails_at_once(fake_server: FakeServer) -> None:
    fake_server.script = lambda seen, req: (429, {"Retry-After": "3600"}, b"come back in an hour")
    with pytest.raises(RemoteError) as info:
        fast(fake_server.url + "/query", retries=3).query("ASK {}")
    assert info.value.status == 429 and "3600" in str(info.value)
    assert len(fake_server.requests) == 1


def test_429_with_retry_after_is_retried_then_succeeds(fake_server: FakeServer) -> None:
    fake_server.script = lambda seen, req: (
        (429, {"Retry-After": "0"}, b"slow down") if len(seen) == 1 else (204, {}, b"")
    )
    fast(fake_server.url + "/store").put_graph(GRAPH, b"")
    assert [r.method for r in fake_server.requests] == ["PUT", "PUT"]


@pytest.mark.parametrize("status", [501, 505])
def test_a_server_that_cannot_do_it_is_not_retried(fake_server: FakeServer, status: int) -> None:
    fake_server.script = lambda seen, req: (status, {}, b"not here")
    with pytest.raises(RemoteError, match=f"HTTP {status}"):
        fast(fake_server.url + "/store").put_graph(GRAPH, b"")
    assert len(fake_server.requests) == 1


# --- a store that misbehaves midway, then recovers: the re-run equals a clean run ----------------


def kg_run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A real `kg` process (bounded: a hung kg fails the test instead of holding it)."""
    clean = {
        k: v for k, v in os.environ.items() if k not in ("KG_STORE", "KG_STORE_USER", "KG_STORE_PASSWORD")
    }
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **(env or {})},
    )


def server_quads(base: str) -> set[str]:
    """Every quad an Oxigraph server holds (its whole dataset, from GET /store)."""
    got = requests.get(f"{base}/store", headers={"Accept": "application/n-quads"}, timeout=30)
    got.raise_for_status()
    return {str(q) for q in pyoxigraph.parse(got.content, format=pyoxigraph.RdfFormat.N_QUADS)}


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fault-export") / "outputs"
    export([EXAMPLES], out, ["nquads"])
    assert is_export_folder(out)
    return out


@pytest.fixture(scope="module")
def clean_quads(export_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The store after a clean `kg load EXPORT`, sync state included (the embedded store ends
    with the same quads as a server)."""
    store_dir = tmp_path_factory.mktemp("clean") / "store"
    done = kg_run("load", str(export_folder), "--store", str(store_dir))
    assert done.returncode == 0, done.stderr
    store = pyoxigraph.Store(str(store_dir))
    quads = {str(q) for q in store}
    del store
    return quads


WRITES = ("PUT", "DELETE")
#: Each fault: the answer to every write after the first three, and what kg must say.
FAULTS: dict[str, tuple[Callable[[str, str], Reply], str]] = {
    "302 to another origin": (lambda us, other: (302, {"Location": f"{other}/store"}, b""), "{other}/store"),
    "307 within the origin": (
        lambda us, other: (307, {"Location": "/store2?graph=x"}, b""),
        "{us}/store2?graph=x",
    ),
    "308 within the origin": (
        lambda us, other: (308, {"Location": f"{us}/store"}, b""),
        "redirecting to {us}/store",
    ),
    "trickling answer": (lambda us, other: Trickle(204, b"", 0.05), "no answer within 1 s"),
    "huge error body": (lambda us, other: Stream(500, HUGE, {"Content-Type": "text/plain"}), "HTTP 500"),
    "401 for good": (lambda us, other: (401, {"WWW-Authenticate": 'Basic realm="kg"'}, b"no"), "HTTP 401"),
    "429 for good": (lambda us, other: (429, {"Retry-After": "1"}, b"slow down"), "HTTP 429"),
    "500 for good": (lambda us, other: (500, {}, b"store is broken"), "HTTP 500"),
}


@pytest.mark.server
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_store_fault_fails_the_load_and_a_rerun_equals_a_clean_run(
    fault: str,
    oxigraph_server: Server,
    fake_server: FakeServer,
    second_fake_server: FakeServer,
    export_folder: Path,
    clean_quads: set[str],
) -> None:
    """`kg load EXPORT` through a relay to a real Oxigraph server that turns faulty after three
    writes: exit 2 with kg's message, no traceback, no secret, no request to another origin;
    once the fault clears, a re-run leaves the store equal to a clean run, quad for quad."""
    reply, said = FAULTS[fault]
    upstream = oxigraph_server.store_url.rsplit("/", 1)[0]
    broken = [True]

    def script(seen: list[Recorded], req: Recorded) -> Reply:
        writes = sum(1 for r in seen if r.method in WRITES)
        if broken[0] and req.method in WRITES and writes > 3:
            return reply(fake_server.url, second_fake_server.url)
        return Forward(upstream)

    fake_server.script = script
    command = ["load", str(export_folder), "--endpoint", f"{fake_server.url}/store", "--retries", "1"]
    env = {"KG_STORE_USER": "analyst", "KG_STORE_PASSWORD": SECRET}
    failed = kg_run(*command, "--timeout", "1", env=env)
    assert failed.returncode == 2, failed.stderr
    assert said.format(us=fake_server.url, other=second_fake_server.url) in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr and SECRET not in failed.stderr + failed.stdout
    assert second_fake_server.requests == []
    assert server_quads(upstream) != clean_quads, "the fault hit midway"
    for req in fake_server.settled():
        assert req.sent < IN_FLIGHT, f"{req.sent} bytes of {req.method} {req.path}'s answer sent"

    broken[0] = False
    again = kg_run(*command, env=env)
    assert again.returncode == 0, again.stderr
    assert server_quads(upstream) == clean_quads


@pytest.mark.server
@pytest.mark.parametrize(
    "transient", [(503, {}), (429, {"Retry-After": "1"})], ids=["503 once", "429 once with Retry-After"]
)
def test_a_transient_fault_is_retried_and_the_load_equals_a_clean_run(
    transient: tuple[int, dict[str, str]],
    oxigraph_server: Server,
    fake_server: FakeServer,
    export_folder: Path,
    clean_quads: set[str],
) -> None:
    status, headers = transient
    upstream = oxigraph_server.store_url.rsplit("/", 1)[0]

    def script(seen: list[Recorded], req: Recorded) -> Reply:
        if req.method in WRITES and sum(1 for r in seen if r.method in WRITES) == 4:
            return status, headers, b"busy"
        return Forward(upstream)

    fake_server.script = script
    done = kg_run("load", str(export_folder), "--endpoint", f"{fake_server.url}/store", "--retries", "1")
    assert done.returncode == 0, done.stderr
    assert f"HTTP {status}; retry 1/1" in done.stderr
    assert server_quads(upstream) == clean_quads
