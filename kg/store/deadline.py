"""The deadline of one whole HTTP request, and the exchange sent under it (used by
`kg.store.http.Endpoint`).

`timeout` bounds a request from connect to the last byte of the answer, not each socket read:
the connections a request uses register with the request's watch, and one watchdog thread
shuts their sockets down at the deadline, which ends a blocked connect, send or read at once,
however slowly a server drips its bytes. `send` makes one exchange under a deadline, follows
no redirect, and reads an error answer only up to `ERROR_BODY_LIMIT` bytes.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

#: Bytes of an error answer read for its message; the rest is never read.
ERROR_BODY_LIMIT = 64 * 1024
#: Seconds to connect at most (within the request's own deadline).
CONNECT_TIMEOUT = 10.0
_CHUNK = 64 * 1024


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


class Session(requests.Session):
    """A session that never resolves a redirect: kg does (`kg.store.http.Endpoint`). requests' own
    logic, even with allow_redirects=False, reads a redirect's whole body and parses its
    Location to offer `Response.next`."""

    def resolve_redirects(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from ()


class Expired(Exception):
    """The request's deadline passed."""


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


def new_session() -> Session:
    """A session whose connections (direct or through an HTTP proxy) are watched."""
    session = Session()
    adapter = _WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def send(
    session: requests.Session,
    method: str,
    url: str,
    params: dict[str, str] | None,
    data: bytes | dict[str, str] | None,
    headers: dict[str, str] | None,
    auth: AuthBase | None,
    deadline: float,
) -> Answer:
    """One HTTP exchange, ended by the deadline (a `time.monotonic()` value) wherever it is;
    no redirect followed. Raises `Expired` when the deadline passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Expired
    with _deadline(remaining) as watch:
        try:
            response = session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                auth=auth,
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
                raise Expired
        except requests.exceptions.ConnectTimeout:
            if watch.expired:
                raise Expired from None
            raise
        except Exception as exc:
            if watch.expired or isinstance(exc, requests.exceptions.Timeout):
                raise Expired from None
            raise
    return Answer(
        response.status_code,
        response.reason or "",
        response.headers,
        body,
        response.encoding,
        response.url,
    )


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


def failure_reason(exc: requests.exceptions.RequestException) -> str:
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
