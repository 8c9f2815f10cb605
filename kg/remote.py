"""A small HTTP client for remote SPARQL stores: SPARQL 1.1 Protocol queries and Graph Store
HTTP Protocol writes, with credentials, timeouts and bounded retries.

- Credentials come from the caller, the environment (`KG_STORE_USER`, `KG_STORE_PASSWORD`) or
  the URL's user-info; they are removed from the URL and never appear in a message, a log
  line or an exception (the password is also masked if a server echoes it back). They are
  sent only once a server asks (HTTP 401), in the scheme it asks for: Digest when it
  challenges with Digest (Virtuoso), else Basic; later requests reuse that scheme.
- Connection errors, HTTP 5xx and 429 are retried `retries` times with exponential backoff
  (`backoff`, 2x, 4x, ... capped at 30 s; a Retry-After header is honoured within that cap).
  Every request kg sends is idempotent (a query, a GET, a PUT that replaces a graph or a
  DELETE of one), so a retry cannot duplicate anything. A read timeout is not retried: the
  server may still be working.
- A failed request raises `RemoteError` with the method, the URL, the HTTP status and a short
  excerpt of the response body.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

log = logging.getLogger("kg.remote")

USER_ENV = "KG_STORE_USER"
PASSWORD_ENV = "KG_STORE_PASSWORD"
EXCERPT_CHARS = 300
MAX_DELAY = 30.0
ACCEPT_RESULTS = "application/sparql-results+json, application/n-triples;q=0.9"


class RemoteError(Exception):
    """A request that failed for good (after retries where they apply)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


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
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteError(f"not an http(s) URL: {self._redact(self._strip_userinfo(self.url))}")
        if parts.username is not None or parts.password is not None:
            self.user = self.user if self.user is not None else _unquote(parts.username)
            self.password = self.password if self.password is not None else _unquote(parts.password)
            self.url = self._strip_userinfo(self.url)
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
            response = self._request(
                "GET", params={"graph": graph}, headers={"Accept": "application/n-triples, text/turtle;q=0.9"}
            )
        except RemoteError as exc:
            if exc.status == 404:
                return None
            raise
        return response.headers.get("Content-Type", ""), response.content

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
        response = self._request(
            "POST",
            data=form,
            headers={"Accept": ACCEPT_RESULTS},
        )
        return response.headers.get("Content-Type", ""), response.content

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
    ) -> requests.Response:
        session = self._session or requests.Session()
        self._session = session
        what = f"{method} {self.url}" + (
            f" (graph {params['graph']})" if params and "graph" in params else ""
        )
        attempt = 0
        while True:
            try:
                response = session.request(
                    method,
                    self.url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=self._auth,
                    timeout=(min(10.0, self.timeout), self.timeout),
                )
            except requests.exceptions.ReadTimeout:
                raise RemoteError(f"{what}: no answer within {self.timeout:g} s") from None
            except requests.exceptions.RequestException as exc:
                reason = self._redact(_reason(exc))
                if attempt >= self.retries:
                    raise RemoteError(
                        f"{what}: cannot connect after {attempt + 1} attempts: {reason}"
                    ) from None
                delay = self._delay(attempt, None)
                log.warning("%s: %s; retry %d/%d in %.1f s", what, reason, attempt + 1, self.retries, delay)
            else:
                if response.status_code == 401 and self._answer_challenge(response):
                    continue
                if response.status_code < 400:
                    return response
                retryable = response.status_code >= 500 or response.status_code == 429
                if not retryable or attempt >= self.retries:
                    raise RemoteError(self._failure(what, response, attempt), response.status_code)
                delay = self._delay(attempt, response.headers.get("Retry-After"))
                log.warning(
                    "%s: HTTP %d; retry %d/%d in %.1f s",
                    what,
                    response.status_code,
                    attempt + 1,
                    self.retries,
                    delay,
                )
            time.sleep(delay)
            attempt += 1

    def _answer_challenge(self, response: requests.Response) -> bool:
        """On a first 401, pick the auth scheme the server asks for; False if already tried."""
        if self.user is None or self._auth is not None:
            return False
        challenge = response.headers.get("WWW-Authenticate", "").lower()
        password = self.password or ""
        digest = challenge.startswith("digest") or ", digest" in challenge
        self._auth = HTTPDigestAuth(self.user, password) if digest else HTTPBasicAuth(self.user, password)
        return True

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = self.backoff * 2.0**attempt
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, float(retry_after.strip()))
        return min(delay, MAX_DELAY)

    def _failure(self, what: str, response: requests.Response, attempt: int) -> str:
        body = " ".join(response.text.split())
        excerpt = body[:EXCERPT_CHARS] + ("…" if len(body) > EXCERPT_CHARS else "")
        tries = f" after {attempt + 1} attempts" if attempt else ""
        reason = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
        return self._redact(f"{what}: {reason}{tries}" + (f": {excerpt}" if excerpt else ""))

    def _redact(self, text: str) -> str:
        for secret in (self.password,):
            if secret:
                text = text.replace(secret, "***")
        return text

    @staticmethod
    def _strip_userinfo(url: str) -> str:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


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
