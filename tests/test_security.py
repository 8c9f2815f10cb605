"""Security: no network at run time, and no name in the input can make kg write elsewhere.

(YAML object tags are refused: tests/test_hostile.py. Credentials and SPARQL parameters:
tests/test_remote.py and tests/test_queries.py.)
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.map.curation import IriScheme, curation_triples
from kg.pipeline.export import FORMATS, REPORT_NAME, export
from kg.pipeline.incremental import MANIFEST_NAME
from kg.publish import DESCRIPTION_NAME
from kg.rdf.vocab import DEFAULT_BASE_IRI
from kg.read.sources import parse_bytes
from kg.sparql.binding import QueryError
from kg.sparql.query import execute
from tests.conftest import EXAMPLES


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every way to a socket fail, and record who tried (inherited by forked workers)."""
    attempts: list[str] = []

    def refuse(name: str) -> object:
        def blocked(*args: object, **kwargs: object) -> object:
            attempts.append(f"{name}{args[:2]}")
            raise NetworkUsed(f"network access attempted: {name}{args[:2]}")

        return blocked

    for name in ("socket", "create_connection", "getaddrinfo", "gethostbyname", "socketpair"):
        monkeypatch.setattr(socket, name, refuse(name))
    return attempts


def test_export_validate_load_and_query_run_without_network(no_network: list[str], tmp_path: Path) -> None:
    many = tmp_path / "many"
    many.mkdir()
    for i in range(450):  # above the parallel threshold: the worker pool runs too
        (many / f"c{i}.md").write_text(
            f"---\ntitle: T{i}\nmdName: m{i}\nlink:\n  href: https://x.org/{i}\n---\n"
        )
    runner = CliRunner()
    steps = [
        ["export", str(EXAMPLES), "-o", str(tmp_path / "out")],
        ["export", str(EXAMPLES), "-o", str(tmp_path / "out")],  # incremental
        ["export", str(many), "-o", str(tmp_path / "many-out"), "--jobs", "2"],
        ["export", str(EXAMPLES), "-o", str(tmp_path / "validated"), "--validate"],
        ["validate", str(tmp_path / "out" / "curations.nq")],
        ["load", str(tmp_path / "out" / "curations.nq"), "--store", str(tmp_path / "store")],
        ["query", "topic-counts", "--store", str(tmp_path / "store")],
    ]
    for args in steps:
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    assert no_network == []
    with pytest.raises(NetworkUsed):  # (the fence itself works)
        socket.create_connection(("127.0.0.1", 9))


#: What an export writes into its folder.
EXPORT_FILES = sorted([*FORMATS.values(), DESCRIPTION_NAME, REPORT_NAME, MANIFEST_NAME])
HOSTILE_NAMES = [
    "../../../../outside",
    "../../escaped.ttl",
    "/etc/passwd",
    "..",
    ".",
    "..\\..\\windows",
    "%2e%2e%2f%2e%2e%2fencoded",
    "a/../../b",
    "curations.ttl",
    "~/.bashrc",
]


def test_hostile_names_cannot_write_outside_the_output_folder(tmp_path: Path) -> None:
    work = tmp_path / "work"
    src, out = work / "src", work / "out"
    src.mkdir(parents=True)
    for i, name in enumerate(HOSTILE_NAMES):
        quoted = name.replace("'", "''")
        (src / f"c{i}.md").write_text(
            f"---\ntitle: '{quoted}'\nmdName: '{quoted}'\nslug: '{quoted}'\nidentifier: '{quoted}'\n"
            f"basePath: '{quoted}'\nauthor: '{quoted}'\naliases: ['{quoted}']\n"
            f"link:\n  brand: '{quoted}'\n  href: 'https://x.org/{quoted}'\n"
            f"featuredImage:\n  href: '{quoted}'\ncommunityTopics: ['{quoted}: {quoted}']\n---\nbody\n"
        )
    (src / "...md").write_text("---\ntitle: dots\nmdName: '../../dots'\n---\n")  # a legal file name
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    report = export([src], out)
    assert report.count("exported") == len(HOSTILE_NAMES) + 1, report.files
    export([src], out)  # and again, incremental
    after = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if out not in p.parents)
    assert after == sorted([*before, "work/out"])  # nothing appeared anywhere else
    assert sorted(p.name for p in out.iterdir()) == EXPORT_FILES
    for triple in pyoxigraph.parse(
        (out / "curations.nt").read_bytes(), format=pyoxigraph.RdfFormat.N_TRIPLES
    ):
        for term in (triple.subject, triple.predicate, triple.object):
            # every IRI kg mints keeps each name in one segment that does not navigate
            if isinstance(term, pyoxigraph.NamedNode) and term.value.startswith(DEFAULT_BASE_IRI):
                segments = term.value[len(DEFAULT_BASE_IRI) :].split("/")
                assert "." not in segments and ".." not in segments, term.value


def test_a_symlinked_output_file_is_replaced_not_followed(tmp_path: Path) -> None:
    """A symlink planted where an output goes is replaced by the file; its target is untouched."""
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (out / "curations.ttl").symlink_to(target)
    export([EXAMPLES], out)
    assert target.read_text() == "keep me"
    assert not (out / "curations.ttl").is_symlink()
    assert os.stat(out / "curations.ttl").st_size > 1000


def test_output_folder_with_hostile_name_is_used_as_given(tmp_path: Path) -> None:
    out = tmp_path / "a b" / "..x" / "é 😀"
    export([EXAMPLES], out)
    assert sorted(p.name for p in out.iterdir()) == EXPORT_FILES
    shutil.rmtree(tmp_path / "a b")


def test_credentials_stay_out_of_errors_when_the_store_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A store that does not answer: the error names the endpoint, never the password."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "s3cr3t-Pa55"
    monkeypatch.setenv("KG_STORE_PASSWORD", secret)
    runner = CliRunner()
    for url, extra in [
        (f"http://analyst:{secret}@127.0.0.1:{port}/store", []),
        (f"http://127.0.0.1:{port}/store", ["--user", "analyst"]),
        (f"http://127.0.0.1:{port}/store", ["--user", "analyst", "--password", secret]),
    ]:
        result = runner.invoke(main, ["load", str(EXAMPLES), "--endpoint", url, "--retries", "0", *extra])
        assert result.exit_code == 2, result.output
        assert f"127.0.0.1:{port}" in result.stderr
        assert secret not in result.output and secret not in result.stderr
    assert secret not in caplog.text


# ---------------------------------------------------------------- URLs that are not web links

_MEDIA_KEYS = ("featuredImage", "favIconImage", "featuredPdf")
_NOT_WEB = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "ftp://example.org/a.png",
    "C:/images/a.png",
    "http:/no-host.png",
    "https://example.org:port/a.png",
]


@pytest.mark.parametrize("href", _NOT_WEB)
@pytest.mark.parametrize("key", _MEDIA_KEYS)
def test_a_media_href_that_is_not_a_web_url_is_a_field_problem(key: str, href: str) -> None:
    """Issue 13: such hrefs became IRIs (schema:contentUrl <javascript:...>) with no warning;
    a page rendering the graph would follow or run them. Only http(s) URLs and relative paths
    (resolved under the asset base, as before) are kept: the same rule as for links."""
    text = f"---\ntitle: T\nmdName: m\n{key}:\n  href: {json.dumps(href)}\n  alt: A picture\n---\n"
    result = parse_bytes(text.encode(), "x.md")
    assert result.status == "exported" and result.curation is not None
    [problem] = result.problems
    assert (problem.field, problem.severity) == (f"{key}.href", "warning")
    _, triples = curation_triples(result.curation, IriScheme())
    iris = {term for triple in triples for term in triple if isinstance(term, str)}
    assert all(iri.startswith(("http://", "https://")) for iri in iris), sorted(iris)


@pytest.mark.parametrize(
    ("href", "content_url"),
    [
        ("https://cdn.example.org/a b.png", "https://cdn.example.org/a%20b.png"),
        ("HTTP://cdn.example.org/a.png", "HTTP://cdn.example.org/a.png"),
        ("/images/a.png", f"{DEFAULT_BASE_IRI}asset/images/a.png"),
        ("images/a:b.png", f"{DEFAULT_BASE_IRI}asset/images/a%3Ab.png"),
    ],
)
def test_web_and_relative_media_hrefs_are_kept(href: str, content_url: str) -> None:
    text = f"---\ntitle: T\nmdName: m\nfeaturedImage:\n  href: {json.dumps(href)}\n---\n"
    result = parse_bytes(text.encode(), "x.md")
    assert result.problems == [] and result.curation is not None
    _, triples = curation_triples(result.curation, IriScheme())
    assert [o for _, p, o in triples if p.endswith("contentUrl")] == [content_url]


def test_the_mapping_emits_no_iri_for_a_media_href_that_is_not_a_web_url() -> None:
    """A `Curation` built by other code than the parser gets the same rule."""
    for href in _NOT_WEB:
        assert IriScheme().asset(href) is None, href


@pytest.mark.parametrize("key", ["link.href", "link.original"])
def test_link_urls_follow_the_same_rule(key: str) -> None:
    outer, inner = key.split(".")
    for href in _NOT_WEB:
        text = f"---\ntitle: T\nmdName: m\n{outer}:\n  {inner}: {json.dumps(href)}\n---\n"
        result = parse_bytes(text.encode(), "x.md")
        assert [p.field for p in result.problems] == [key], href


# ---------------------------------------------------------------- queries on local data stay local


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection (and closes it at once)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port: int = self.server.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(200) or b"(nothing sent)")
                except OSError:
                    self.connections.append(b"(connected)")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def embedded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store") / "kg-store"
    result = CliRunner().invoke(main, ["load", str(EXAMPLES), "--store", str(store)])
    assert result.exit_code == 0, result.output
    return store


def _service_queries(url: str) -> list[str]:
    return [
        f"SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{url}/a> {{ ?s ?p ?o }} }} }}",
        f"SELECT * WHERE {{ {{ SELECT ?s WHERE {{ SERVICE SILENT <{url}/b> {{ ?s ?p ?o }} }} }} }}",
        f"ASK {{ SERVICE <{url}/c> {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}/d> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{url}/e> AS ?x) SERVICE ?x {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{url}/f> {{ ?s ?p ?o }} }}",  # the grammar's escapes
    ]


def test_a_query_on_local_data_never_calls_a_service(
    listener: Listener, embedded_store: Path, tmp_path: Path
) -> None:
    """Issue 13: Oxigraph ran SERVICE on the embedded store and on --data, connecting to any
    address the query named (and a traceback when the connection failed). Refused, exit 2."""
    runner = CliRunner()
    rq = tmp_path / "federated.rq"
    rq.write_text(f"# Federated.\nSELECT * WHERE {{ SERVICE <{listener.url}/rq> {{ ?s ?p ?o }} }}\n")
    for where in (["--data", str(EXAMPLES)], ["--store", str(embedded_store)]):
        for text in _service_queries(listener.url):
            result = runner.invoke(main, ["query", "--sparql", text, *where])
            assert result.exit_code == 2, (text, result.output, result.exception)
            assert "SERVICE" in result.output and "Traceback" not in result.output
        result = runner.invoke(main, ["query", str(rq), *where])
        assert result.exit_code == 2, result.output
    store = pyoxigraph.Store()
    for text in _service_queries(listener.url):
        with pytest.raises(QueryError, match="SERVICE"):
            execute(text, store)
    assert listener.connections == []


def test_service_in_a_comment_a_string_or_a_name_is_not_a_service_call(listener: Listener) -> None:
    text = (
        f"# SERVICE <{listener.url}/comment> {{ }}\n"
        "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o . ?s ?q ?service }\n"
        f'  FILTER(?o != "SERVICE <{listener.url}/s> {{}}") FILTER(?o != <{listener.url}/SERVICE>)\n'
        "  FILTER(?o != 'x'@service) FILTER(?o != schema:SERVICE) } LIMIT 1"
    )
    result = CliRunner().invoke(main, ["query", "--sparql", text, "--data", str(EXAMPLES), "--format", "csv"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.output.count("\n") == 2  # the header and one row
    assert listener.connections == []


def test_no_other_local_query_path_reaches_the_network(listener: Listener, tmp_path: Path) -> None:
    """LOAD (an update: refused), FROM / FROM NAMED (Oxigraph takes the graphs from the store,
    it fetches nothing) and a JSON-LD --data file with a remote @context (refused by the
    parser, not fetched)."""
    runner = CliRunner()
    data = ["--data", str(EXAMPLES)]
    for text, code in (
        (f"LOAD <{listener.url}/load>", 2),
        (f"LOAD SILENT <{listener.url}/load> INTO GRAPH <http://x/g>", 2),
        (f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT 1 ; LOAD <{listener.url}/load>", 2),
        (f"SELECT * FROM <{listener.url}/from> WHERE {{ ?s ?p ?o }}", 0),
        (f"SELECT * FROM NAMED <{listener.url}/named> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", 0),
        (f"DESCRIBE <{listener.url}/describe>", 0),
    ):
        result = runner.invoke(main, ["query", "--sparql", text, *data])
        assert result.exit_code == code, (text, result.output, result.exception)
        assert "Traceback" not in result.output
    remote_context = tmp_path / "remote-context.jsonld"
    remote_context.write_text(
        json.dumps({"@context": f"{listener.url}/context.jsonld", "@id": "http://x/a", "name": "A"})
    )
    result = runner.invoke(
        main, ["query", "--sparql", "SELECT * { ?s ?p ?o }", "--data", str(remote_context)]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output, (result.output, result.exception)
    assert listener.connections == []
