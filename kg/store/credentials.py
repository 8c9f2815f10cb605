"""Endpoint URLs and the credentials kg sends with them: what is checked before any request
(`url_problem`), how credentials are kept out of every message (`masked`, `strip_userinfo`),
which origin a URL is (credentials never leave it), and the HTTP Digest answer to a challenge
(`DigestAuth`). Pure: no I/O, no error raised (`kg.store.http` says what is wrong).
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import ClassVar
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import parse_http_list

import requests
from requests.auth import AuthBase

_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_problem(url: str) -> str | None:
    """kg's own words for what makes `url` unusable as an endpoint URL, or None. Never a
    parser's message, which may quote the password."""
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
        requests.Request("GET", strip_userinfo(url)).prepare()
    except (requests.exceptions.RequestException, ValueError, UnicodeError):
        return "its host is not a valid host name"
    return None


def masked(url: str) -> str:
    """`url` with everything between its "//" and its last "@" shown as ***."""
    at = url.rfind("@")
    if at < 0:
        return url
    start = url.find("//")
    start = start + 2 if 0 <= start < at else 0
    return url[:start] + "***" + url[at:]


def strip_userinfo(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


class DigestAuth(AuthBase):
    """HTTP Digest (RFC 7616, qop "auth" or none; MD5, SHA-256 and their -sess variants),
    answering a challenge kg already holds: the header goes with the request, and there is no
    hook that re-sends on a 401 or a redirect on its own (requests' HTTPDigestAuth has both:
    the second one answers any origin's challenge)."""

    _HASHES: ClassVar[dict[str, str]] = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}

    def __init__(self, user: str, password: str, challenge: dict[str, str]) -> None:
        """Answers to `challenge`, which `unsupported` accepted."""
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

    @classmethod
    def unsupported(cls, challenge: dict[str, str]) -> str | None:
        """Why kg cannot answer this Digest challenge, or None when it can."""
        algorithm = challenge.get("algorithm", "MD5").upper()
        qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
        known = cls._HASHES.get(algorithm.removesuffix("-SESS")) is not None
        if not known or "nonce" not in challenge or (qops and "auth" not in qops):
            return (
                f"the server asks for Digest authentication kg does not support "
                f"(algorithm {challenge.get('algorithm', 'MD5')}, qop {challenge.get('qop', '-')})"
            )
        return None

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


def digest_challenge(header: str) -> dict[str, str] | None:
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


def userinfo_part(value: str | None) -> str | None:
    """A user name or password as written in a URL's user-info, percent-decoded."""
    return unquote(value) if value is not None else None
