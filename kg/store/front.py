"""The pass-through HTTP server of `kg serve`, on the address the user asked for: it answers
`/` with kg's query page (Oxigraph's own YASGUI files, configured so the page sends no request
off the machine: prefixes from `/kg/prefixes.json` instead of prefix.cc, no lov.linkeddata.es
autocompleters, kg's PREFIX lines and an example query in the editor), and forwards every other
request to the Oxigraph server unchanged, streaming the answer back.

May touch: sockets and HTTP; kg's prefixes (kg.rdf.namespaces).
"""

from __future__ import annotations

import errno
import http.client
import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from kg.rdf.namespaces import PREFIXES, instance_prefixes, sparql_prefix_header
from kg.store.oxigraph import ServeError

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


class Front(ThreadingHTTPServer):
    """The public address: kg's page, kg's prefixes, everything else passed to Oxigraph."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], page: bytes, prefixes: bytes):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.upstream = upstream
        self.page = page
        self.prefixes = prefixes
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Front
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


def bind_front(host: str, port: int, upstream: tuple[str, int], base_iri: str) -> Front:
    """The public server, bound (not yet serving); ServeError when the address is taken."""
    try:
        return Front((host, port), upstream, page(base_iri), prefixes_json(base_iri))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is already in use: choose another --port (0 picks a free one)"
            ) from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

