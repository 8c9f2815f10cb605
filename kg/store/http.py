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

The deadline machinery is `kg.store.deadline`; URL checks, masking and Digest are
`kg.store.credentials`. The retry loop (`Endpoint._request`) is kg's own, not urllib3's
`Retry`: `Retry` would retry inside one urlopen call, so under one deadline instead of one
per attempt; it sleeps out any Retry-After (kg fails at once beyond `MAX_DELAY`); it does
not retry a body cut short while it is streamed; and its messages and log lines are not
the ones kg reports (tests/store/test_remote.py pins them).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.auth import AuthBase, HTTPBasicAuth

from kg.errors import KgError
from kg.store.credentials import (
    DigestAuth,
    digest_challenge,
    masked,
    origin,
    strip_userinfo,
    url_problem,
    userinfo_part,
)
from kg.store.deadline import Answer, Expired, failure_reason, new_session, send

log = logging.getLogger("kg.store.http")

USER_ENV = "KG_STORE_USER"
PASSWORD_ENV = "KG_STORE_PASSWORD"
EXCERPT_CHARS = 300
MAX_DELAY = 30.0
ACCEPT_RESULTS = "application/sparql-results+json, application/n-triples;q=0.9"
#: Redirects a read follows (within the endpoint's origin) before it fails.
MAX_REDIRECTS = 5
#: The statuses of a redirect; any other 3xx is an error.
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: The statuses worth retrying: overload and gateway trouble, not a server that cannot do it.
RETRYABLE = frozenset({429, 500, 502, 503, 504})


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
    problem = url_problem(url)
    if problem:
        raise RemoteError(f"not a usable endpoint URL: {masked(url)}: {problem}")


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
        problem = url_problem(self.url)
        if problem:
            raise RemoteError(self._redact(f"not a usable endpoint URL: {masked(self.url)}: {problem}"))
        parts = urlsplit(self.url)
        if parts.username is not None or parts.password is not None:
            self.user = self.user if self.user is not None else userinfo_part(parts.username)
            self.password = self.password if self.password is not None else userinfo_part(parts.password)
            self.url = strip_userinfo(self.url)
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
            except Expired:
                raise RemoteError(
                    f"{what}: no answer within {self.timeout:g} s (the timeout bounds the whole request)"
                ) from None
            except (ValueError, urllib3.exceptions.HTTPError) as exc:  # what requests does not wrap
                raise RemoteError(f"{what}: cannot send: {self._redact(str(exc))[:200]}") from None
            except requests.exceptions.RequestException as exc:
                reason = self._redact(failure_reason(exc))
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
            if origin(target) != origin(self.url):
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
            if url_problem(target):
                return None, self._redact(masked(location))
            target = strip_userinfo(target)
            return target, self._redact(target)
        except ValueError:
            return None, self._redact(masked(location))

    def _origin_text(self) -> str:
        scheme, host, port = origin(self.url)
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
        """One HTTP exchange on this endpoint's session (`kg.store.deadline.send`)."""
        if self._session is None:
            self._session = new_session()
        return send(self._session, method, url, params, data, headers, self._auth, deadline)

    def _answer_challenge(self, answer: Answer) -> bool:
        """On a 401, pick the auth scheme the server asks for; False if that cannot help.

        Credentials are sent once per scheme; a Digest challenge marked stale (the nonce
        expired) is answered again with the new nonce."""
        if self.user is None:
            return False
        header = answer.headers.get("WWW-Authenticate", "")
        password = self.password or ""
        challenge = digest_challenge(header)
        if challenge is not None:
            stale = challenge.get("stale", "").lower() == "true"
            if isinstance(self._auth, DigestAuth) and not stale:
                return False
            problem = DigestAuth.unsupported(challenge)
            if problem is not None:
                raise RemoteError(problem)
            self._auth = DigestAuth(self.user, password, challenge)
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
