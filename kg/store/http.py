"""A small HTTP client for remote SPARQL stores: SPARQL 1.1 Protocol queries and Graph Store
HTTP Protocol writes, with credentials, timeouts and bounded retries.

- The endpoint URL is checked before any request (`check_url`): http or https, a host, a port
  in 1-65535; a malformed one is a `RemoteError` whose message never shows its user-info.
- Credentials come from the caller, the environment (`KG_STORE_USER`, `KG_STORE_PASSWORD`) or
  the URL's user-info; they are removed from the URL and never appear in a message, a log
  line or an exception (the password is also masked if a server echoes it back). They are
  sent only once a server asks (HTTP 401), in the scheme it asks for: Digest when it
  challenges with Digest (Virtuoso), else Basic; later requests reuse that scheme. Every
  request goes to the endpoint's own origin (scheme, host, port), so credentials, or a Digest
  response computed from the password, never reach another one.
- Redirects (301, 302, 303, 307, 308) are never followed on a write (PUT, DELETE): the data
  would not be stored where kg says it is, so the write fails, naming the endpoint and the
  Location. A read (GET of a graph, a query) follows up to `MAX_REDIRECTS` redirects within
  the endpoint's origin, re-sending its method and body (a 303 becomes a GET); a redirect to
  another origin fails.
- `timeout` bounds each whole request, from connect to the last byte of the answer (the 401
  handshake and redirects included), not each socket read: a watchdog thread shuts the
  connection's socket down at the deadline, so a server that drips its answer one byte at a
  time cannot hold kg longer.
- Of an error answer only the first `ERROR_BODY_LIMIT` bytes are read (for the message); the
  connection is then closed, so a huge error body costs neither memory nor time.
- Connection errors, HTTP 500/502/503/504 and 429 are retried `retries` times with
  exponential backoff (`backoff`, 2x, 4x, ... capped at `MAX_DELAY`). A Retry-After header
  (seconds or an HTTP date) is honoured; when it asks for more than `MAX_DELAY`, kg fails at
  once instead of retrying too early. Every request kg sends is idempotent (a query, a GET,
  a PUT that replaces a graph or a DELETE of one), so a retry cannot duplicate anything. A
  timeout is not retried: the server may still be working.
- A failed request raises `RemoteError` with the method, the URL, the HTTP status and a short
  excerpt of the response body.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit
from urllib.request import parse_http_list

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth

from kg.errors import KgError

log = logging.getLogger("kg.store.http")

USER_ENV = "KG_STORE_USER"
PASSWORD_ENV = "KG_STORE_PASSWORD"
EXCERPT_CHARS = 300
MAX_DELAY = 30.0
ACCEPT_RESULTS = "application/sparql-results+json, application/n-triples;q=0.9"
#: Bytes of an error answer read for its message; the rest is never read.
ERROR_BODY_LIMIT = 64 * 1024
#: Redirects a read follows (within the endpoint's origin) before it fails.
MAX_REDIRECTS = 5
#: The statuses of a redirect; any other 3xx is an error.
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: The statuses worth retrying: overload and gateway trouble, not a server that cannot do it.
RETRYABLE = frozenset({429, 500, 502, 503, 504})
#: Seconds to connect at most (within the request's own deadline).
CONNECT_TIMEOUT = 10.0
_CHUNK = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RemoteError(KgError):
    """A request that failed for good (after retries where they apply)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def check_url(url: str) -> None:
    """Raise `RemoteError` unless `url` is an http(s) URL kg can send requests to.

    The message shows the URL with any user-info masked (a malformed URL cannot be split
    reliably, so everything up to its last "@" is masked) and kg's own words for the problem,
    never a parser's message (which may quote the password).
    """
    problem = _url_problem(url)
    if problem:
        raise RemoteError(f"not a usable endpoint URL: {_masked(url)}: {problem}")


def _url_problem(url: str) -> str | None:
    if not url.strip():
        return "it is empty"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "its host is malformed (unbalanced or invalid [ ] of an IPv6 address)"
    if not parts.scheme or "://" not in url:
        return "no scheme (start it with http:// or https://)"
    if parts.scheme.lower() not in ("http", "https"):
        return f"the scheme {parts.scheme}: is not supported (use http:// or https://)"
    try:
        port = parts.port
    except ValueError:
        return "the port is not a number from 1 to 65535"
    if port == 0:
        return "the port is not a number from 1 to 65535"
    if not parts.hostname:
        return "no host"
    if ":" not in parts.hostname:  # not an IPv6 literal: every label 1-63 characters
        try:
            parts.hostname.encode("idna")
        except UnicodeError:
            return "its host is not a valid host name"
    try:
        requests.Request("GET", _strip_userinfo(url)).prepare()
    except (requests.exceptions.RequestException, ValueError, UnicodeError):
        return "its host is not a valid host name"
    return None


def _masked(url: str) -> str:
    """`url` with everything between its "//" and its last "@" shown as ***."""
    at = url.rfind("@")
    if at < 0:
        return url
    start = url.find("//")
    start = start + 2 if 0 <= start < at else 0
    return url[:start] + "***" + url[at:]


def _strip_userinfo(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


def retry_delay(attempt: int, backoff: float, retry_after: str | None) -> float | None:
    """Seconds to wait before retry `attempt + 1`: exponential backoff, or longer if the server's
    Retry-After (seconds or an HTTP date) asks for it; None when it asks for more than MAX_DELAY
    (waiting less would only get another refusal, waiting more would stall kg)."""
    delay = min(backoff * 2.0**attempt, MAX_DELAY)
    asked = _retry_after_seconds(retry_after)
    if asked is None:
        return delay
    if asked > MAX_DELAY:
        return None
    return max(delay, asked)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


# --- the deadline of a whole request ------------------------------------------------------------


class _Watch:
    """One request's deadline. The connections it uses register here (see `_WatchedHTTPConnection`);
    at the deadline the watchdog shuts their sockets down, which ends a blocked connect, send or
    read in the requesting thread at once, however slowly the server drips its bytes."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self.finished = False
        self._lock = threading.Lock()
        self._connections: list[object] = []

    def attach(self, connection: object) -> None:
        with self._lock:
            if self.finished:
                return
            self._connections.append(connection)
            if self.expired:
                _shut_down(connection)

    def expire(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.expired = True
            for connection in self._connections:
                _shut_down(connection)

    def finish(self) -> None:
        with self._lock:
            self.finished = True
            self._connections.clear()


def _shut_down(connection: object) -> None:
    """Shut the connection's socket down (not close: another thread is using it). The plain
    socket method, also for TLS, so the TLS object stays intact for the thread blocked in it."""
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread for every deadline of this process (a thread per request would cost
    more than a request on a local store): it expires each watch that is not finished by its
    deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._cond:
            first = not self._heap or watch.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (watch.deadline, next(self._order), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kg-remote-deadlines", daemon=True)
                self._thread.start()
            elif first:
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].finished or self._heap[0][0] <= now):
                    watch = heapq.heappop(self._heap)[2]
                    if not watch.finished:
                        watch.expire()
                self._cond.wait(self._heap[0][0] - now if self._heap else None)

    def reset_after_fork(self) -> None:
        """A child process has no watchdog thread, and its lock may have been held at the fork."""
        self._cond = threading.Condition()
        self._heap = []
        self._thread = None


_watchdog = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_watchdog.reset_after_fork)
_current = threading.local()


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[_Watch]:
    """Watch the requests this thread sends inside the block; yields the `_Watch`."""
    watch = _Watch(seconds)
    previous = getattr(_current, "watch", None)
    _current.watch = watch
    _watchdog.add(watch)
    try:
        yield watch
    finally:
        watch.finish()
        _current.watch = previous


def _attach(connection: object) -> None:
    watch: _Watch | None = getattr(_current, "watch", None)
    if watch is not None:
        watch.attach(connection)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    """An HTTP connection that puts itself under the current request's deadline."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)

    def connect(self) -> None:
        super().connect()
        _attach(self)  # connected right at the deadline: shut down now if it passed


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    """The https counterpart of `_WatchedHTTPConnection`."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)

    def connect(self) -> None:
        super().connect()
        _attach(self)


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS: dict[str, type[urllib3.HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections (direct or through an HTTP proxy) are watched.
    A SOCKS proxy keeps its own connections: there the timeout bounds each read only."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, urllib3.ProxyManager):
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


class _Session(requests.Session):
    """A session that never resolves a redirect: kg does (`Endpoint._attempt`). requests' own
    logic, even with allow_redirects=False, reads a redirect's whole body and parses its
    Location to offer `Response.next`."""

    def resolve_redirects(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from ()


class _Expired(Exception):
    """The request's deadline passed."""


# --- authentication ----------------------------------------------------------------------------


class _DigestAuth(AuthBase):
    """HTTP Digest (RFC 7616, qop "auth" or none; MD5, SHA-256 and their -sess variants),
    answering a challenge kg already holds: the header goes with the request, and there is no
    hook that re-sends on a 401 or a redirect on its own (requests' HTTPDigestAuth has both:
    the second one answers any origin's challenge)."""

    _HASHES: ClassVar[dict[str, str]] = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}

    def __init__(self, user: str, password: str, challenge: dict[str, str]) -> None:
        self.user = user
        self.password = password
        self.challenge = challenge
        self._count = 0
        self._lock = threading.Lock()
        algorithm = challenge.get("algorithm", "MD5").upper()
        self._session = algorithm.endswith("-SESS")
        self._hash = self._HASHES.get(algorithm.removesuffix("-SESS"))
        qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
        self._qop = "auth" if "auth" in qops else None
        if self._hash is None or "nonce" not in challenge or (qops and self._qop is None):
            raise RemoteError(
                f"the server asks for Digest authentication kg does not support "
                f"(algorithm {challenge.get('algorithm', 'MD5')}, qop {challenge.get('qop', '-')})"
            )

    def _h(self, text: str) -> str:
        return hashlib.new(self._hash or "md5", text.encode("utf-8")).hexdigest()

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        parts = urlsplit(r.url or "")
        uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        c = self.challenge
        realm, nonce = c.get("realm", ""), c["nonce"]
        with self._lock:
            self._count += 1
            nc = f"{self._count:08x}"
        cnonce = os.urandom(8).hex()
        ha1 = self._h(f"{self.user}:{realm}:{self.password}")
        if self._session:
            ha1 = self._h(f"{ha1}:{nonce}:{cnonce}")
        ha2 = self._h(f"{r.method}:{uri}")
        if self._qop:
            response = self._h(f"{ha1}:{nonce}:{nc}:{cnonce}:{self._qop}:{ha2}")
        else:
            response = self._h(f"{ha1}:{nonce}:{ha2}")
        user = self.user.replace("\\", "\\\\").replace('"', '\\"')
        header = (
            f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{response}"'
        )
        if "algorithm" in c:
            header += f", algorithm={c['algorithm']}"
        if "opaque" in c:
            header += f', opaque="{c["opaque"]}"'
        if self._qop:
            header += f', qop={self._qop}, nc={nc}, cnonce="{cnonce}"'
        r.headers["Authorization"] = header
        return r


def _digest_challenge(header: str) -> dict[str, str] | None:
    """The parameters of the Digest challenge in a WWW-Authenticate header, if there is one."""
    lower = header.lower()
    start = 0 if lower.startswith("digest") else lower.find(", digest")
    if start < 0:
        return None
    rest = header[start:].lstrip(", ")[len("digest") :]
    params: dict[str, str] = {}
    for item in parse_http_list(rest):
        key, sep, value = item.partition("=")
        if sep:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"')
            params[key.strip().lower()] = value
    return params


# --- answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a server answered: the whole body of a success, the first ERROR_BODY_LIMIT bytes
    of anything else."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    encoding: str | None = None
    url: str = ""  # the URL that answered (its query string included)

    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", errors="replace")


@dataclass
class Endpoint:
    """One SPARQL endpoint URL: a query endpoint (`/query`) or a Graph Store one (`/store`)."""

    url: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 0.5
    _session: requests.Session | None = field(default=None, init=False, repr=False)
    _auth: AuthBase | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        problem = _url_problem(self.url)
        if problem:
            raise RemoteError(self._redact(f"not a usable endpoint URL: {_masked(self.url)}: {problem}"))
        parts = urlsplit(self.url)
        if parts.username is not None or parts.password is not None:
            self.user = self.user if self.user is not None else _unquote(parts.username)
            self.password = self.password if self.password is not None else _unquote(parts.password)
            self.url = _strip_userinfo(self.url)
        if self.retries < 0 or self.timeout <= 0:
            raise RemoteError("retries must be >= 0 and timeout > 0")

    @classmethod
    def from_env(cls, url: str, **options: object) -> Endpoint:
        """An endpoint whose credentials, unless given, come from KG_STORE_USER/KG_STORE_PASSWORD."""
        user = options.pop("user", None) or os.environ.get(USER_ENV) or None
        password = options.pop("password", None) or os.environ.get(PASSWORD_ENV) or None
        return cls(url, user=user, password=password, **options)  # type: ignore[arg-type]

    @property
    def display_url(self) -> str:
        """The URL as it may be shown: never with credentials."""
        return self.url

    # --- protocol operations ---------------------------------------------------------------

    def put_graph(self, graph: str, ntriples: bytes) -> None:
        """Graph Store Protocol: replace the named graph `graph` with these triples."""
        self._request(
            "PUT",
            params={"graph": graph},
            data=ntriples,
            headers={"Content-Type": "application/n-triples"},
        )

    def get_graph(self, graph: str) -> tuple[str, bytes] | None:
        """Graph Store Protocol: the named graph `graph` as (content type, body); None if absent."""
        try:
            answer = self._request(
                "GET", params={"graph": graph}, headers={"Accept": "application/n-triples, text/turtle;q=0.9"}
            )
        except RemoteError as exc:
            if exc.status == 404:
                return None
            raise
        return answer.headers.get("Content-Type", ""), answer.body

    def delete_graph(self, graph: str) -> bool:
        """Graph Store Protocol: drop the named graph `graph`; False if it was not there (404)."""
        try:
            self._request("DELETE", params={"graph": graph})
        except RemoteError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def query(self, text: str, union_default_graph: bool = False) -> tuple[str, bytes]:
        """SPARQL 1.1 Protocol query (POST, form-encoded); returns (content type, body).

        `union_default_graph` adds Oxigraph's `union-default-graph` request parameter (the
        default graph is then the union of the named graphs); servers that do not know it
        ignore it (Virtuoso's default graph is the union anyway; Fuseki logs and ignores
        unknown parameters)."""
        form = {"query": text}
        if union_default_graph:
            form["union-default-graph"] = "true"
        answer = self._request(
            "POST",
            data=form,
            headers={"Accept": ACCEPT_RESULTS},
            read_only=True,
        )
        return answer.headers.get("Content-Type", ""), answer.body

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # --- plumbing --------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        params: dict[str, str] | None = None,
        data: bytes | dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        read_only: bool | None = None,
    ) -> Answer:
        """Send one request, retrying where it may help; the final answer is a success (2xx).

        `read_only`: may a redirect be followed (default: for GET and HEAD only)."""
        reads = read_only if read_only is not None else method in ("GET", "HEAD")
        what = f"{method} {self.url}" + (
            f" (graph {params['graph']})" if params and "graph" in params else ""
        )
        attempt = 0
        while True:
            try:
                answer = self._attempt(what, method, params, data, headers, reads)
            except _Expired:
                raise RemoteError(
                    f"{what}: no answer within {self.timeout:g} s (the timeout bounds the whole request)"
                ) from None
            except (ValueError, urllib3.exceptions.HTTPError) as exc:  # what requests does not wrap
                raise RemoteError(f"{what}: cannot send: {self._redact(str(exc))[:200]}") from None
            except requests.exceptions.RequestException as exc:
                reason = self._redact(_reason(exc))
                if attempt >= self.retries:
                    raise RemoteError(
                        f"{what}: cannot connect after {attempt + 1} attempts: {reason}"
                    ) from None
                delay = retry_delay(attempt, self.backoff, None) or 0.0
                log.warning("%s: %s; retry %d/%d in %.1f s", what, reason, attempt + 1, self.retries, delay)
            else:
                if answer.status < 300:
                    return answer
                if answer.status not in RETRYABLE or attempt >= self.retries:
                    raise RemoteError(self._failure(what, answer, attempt), answer.status)
                wait = retry_delay(attempt, self.backoff, answer.headers.get("Retry-After"))
                if wait is None:
                    asked = answer.headers.get("Retry-After", "").strip()
                    asked += " s" if asked.isdigit() else ""
                    raise RemoteError(
                        f"{self._failure(what, answer, attempt)} (the server asks to retry after {asked},"
                        f" longer than kg waits, {MAX_DELAY:g} s: not retried)",
                        answer.status,
                    )
                delay = wait
                log.warning(
                    "%s: HTTP %d; retry %d/%d in %.1f s",
                    what,
                    answer.status,
                    attempt + 1,
                    self.retries,
                    delay,
                )
            time.sleep(delay)
            attempt += 1

    def _attempt(
        self,
        what: str,
        method: str,
        params: dict[str, str] | None,
        data: bytes | dict[str, str] | None,
        headers: dict[str, str] | None,
        reads: bool,
    ) -> Answer:
        """One attempt under one deadline: the request, a 401 challenge answered, redirects."""
        deadline = time.monotonic() + self.timeout
        url, hops, challenges = self.url, 0, 0
        while True:
            answer = self._send(method, url, params, data, headers, deadline)
            if answer.status == 401 and challenges < 2 and self._answer_challenge(answer):
                challenges += 1
                continue
            if answer.status not in REDIRECTS or "Location" not in answer.headers:
                return answer
            target, shown = self._location(answer.headers["Location"], answer.url or url)
            code = answer.status
            if not reads:
                raise RemoteError(
                    f"{what}: the server answered HTTP {code} redirecting to {shown}; kg does not follow "
                    f"a redirect on a write (the data would not be stored at {self.url}): if that is "
                    "the store, give its URL as the endpoint",
                    code,
                )
            if target is None:
                raise RemoteError(
                    f"{what}: the server answered HTTP {code} redirecting to {shown}, not a URL", code
                )
            if _origin(target) != _origin(self.url):
                raise RemoteError(
                    f"{what}: the server answered HTTP {code} redirecting to {shown}, another origin; "
                    f"kg follows redirects only within {self._origin_text()} (credentials stay there)",
                    code,
                )
            hops += 1
            if hops > MAX_REDIRECTS:
                raise RemoteError(f"{what}: more than {MAX_REDIRECTS} redirects (last to {shown})", code)
            url, params = target, None
            if code == 303:
                method, data = "GET", None

    def _location(self, location: str, base: str) -> tuple[str | None, str]:
        """The absolute redirect target (None if unusable), without user-info (a server does not
        choose the credentials kg sends), and how it may be shown."""
        try:
            target = urljoin(base, location)
            if _url_problem(target):
                return None, self._redact(_masked(location))
            target = _strip_userinfo(target)
            return target, self._redact(target)
        except ValueError:
            return None, self._redact(_masked(location))

    def _origin_text(self) -> str:
        scheme, host, port = _origin(self.url)
        return f"{scheme}://{host}:{port}"

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        data: bytes | dict[str, str] | None,
        headers: dict[str, str] | None,
        deadline: float,
    ) -> Answer:
        """One HTTP exchange, ended by the deadline wherever it is; no redirect followed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Expired
        if self._session is None:
            self._session = _Session()
            adapter = _WatchedAdapter()
            self._session.mount("http://", adapter)
            self._session.mount("https://", adapter)
        with _deadline(remaining) as watch:
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=self._auth,
                    timeout=(min(CONNECT_TIMEOUT, remaining), remaining),
                    allow_redirects=False,
                    stream=True,
                )
                try:
                    success = response.status_code < 300
                    body = _read(response, None if success else ERROR_BODY_LIMIT)
                finally:
                    response.close()  # an unread rest closes the connection, it is not drained
                if watch.expired:  # what was read after the socket was shut down may be cut short
                    raise _Expired
            except requests.exceptions.ConnectTimeout:
                if watch.expired:
                    raise _Expired from None
                raise
            except Exception as exc:
                if watch.expired or isinstance(exc, requests.exceptions.Timeout):
                    raise _Expired from None
                raise
        return Answer(
            response.status_code,
            response.reason or "",
            response.headers,
            body,
            response.encoding,
            response.url,
        )

    def _answer_challenge(self, answer: Answer) -> bool:
        """On a 401, pick the auth scheme the server asks for; False if that cannot help.

        Credentials are sent once per scheme; a Digest challenge marked stale (the nonce
        expired) is answered again with the new nonce."""
        if self.user is None:
            return False
        header = answer.headers.get("WWW-Authenticate", "")
        password = self.password or ""
        challenge = _digest_challenge(header)
        if challenge is not None:
            stale = challenge.get("stale", "").lower() == "true"
            if isinstance(self._auth, _DigestAuth) and not stale:
                return False
            self._auth = _DigestAuth(self.user, password, challenge)
            return True
        if self._auth is not None:
            return False
        self._auth = HTTPBasicAuth(self.user, password)
        return True

    def _failure(self, what: str, answer: Answer, attempt: int) -> str:
        body = " ".join(answer.text().split())
        excerpt = body[:EXCERPT_CHARS] + ("…" if len(body) > EXCERPT_CHARS else "")
        tries = f" after {attempt + 1} attempts" if attempt else ""
        reason = f"HTTP {answer.status} {answer.reason}".rstrip()
        if answer.status in REDIRECTS:
            reason += " (a redirect without a Location)"
        elif answer.status == 401 and self.user is None:
            reason += f" (no credentials given: set {USER_ENV} and {PASSWORD_ENV})"
        return self._redact(f"{what}: {reason}{tries}" + (f": {excerpt}" if excerpt else ""))

    def _redact(self, text: str) -> str:
        for secret in (self.password,):
            if secret:
                text = text.replace(secret, "***")
        return text


def _read(response: requests.Response, limit: int | None) -> bytes:
    """The body, or its first `limit` bytes (the caller closes the response, unread rest and all)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if limit is not None and size >= limit:
            break
    body = b"".join(chunks)
    return body if limit is None else body[:limit]


def _unquote(value: str | None) -> str | None:
    return unquote(value) if value is not None else None


def _reason(exc: requests.exceptions.RequestException) -> str:
    """The innermost cause of a connection failure, e.g. 'Connection refused'."""
    cause: BaseException = exc
    while True:
        nxt = cause.__cause__ or cause.__context__
        if nxt is None or nxt is cause:
            break
        cause = nxt
    text = str(cause) or type(cause).__name__
    for marker in ("] ", ": "):
        if marker in text and len(text) > 120:
            text = text.rsplit(marker, 1)[-1]
    return text[:200]
