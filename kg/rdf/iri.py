"""IRI minting and repair.

`segment` turns any string into one IRI path segment, injectively (two different strings never
give the same segment), readably (`Telehealth` stays `Telehealth`, spaces become `_`) and
deterministically. `to_iri` turns a URL from the front matter into a valid absolute IRI by
percent-encoding what is illegal; it never guesses a scheme.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SEGMENT_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.~")


#: Entries of `segment`'s cache per process. Values that recur (topics, brands, people) stay
#: cached; most others are unique to one file, and a larger cache only grew each worker by
#: ~20 MB over a 50k-file export without saving time.
SEGMENT_CACHE = 4096


@lru_cache(maxsize=SEGMENT_CACHE)
def segment(text: str) -> str:
    """Encode `text` as one path segment: keep `[A-Za-z0-9-.~]`, space to `_`, else %XX (UTF-8).

    `_` itself is encoded (`%5F`), so the mapping is injective.
    """
    out: list[str] = []
    for ch in text:
        if ch in _SEGMENT_KEEP:
            out.append(ch)
        elif ch == " ":
            out.append("_")
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    encoded = "".join(out)
    # "." and ".." are path navigation, not names: encode them so they stay names.
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    return encoded


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# ASCII characters allowed unencoded in an IRI (RFC 3987 unreserved + reserved, minus [ ]).
_IRI_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#@!$&'()*+,;=")
_HEX = frozenset("0123456789abcdefABCDEF")
# Fast path: only legal ASCII, every % followed by two hex digits, at most one #.
_ALREADY_VALID = re.compile(
    r"^(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*(?:#(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?$"
)


def _encode_char(ch: str) -> str:
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))


def to_iri(url: str) -> str | None:
    """Return `url` as a valid absolute IRI, or None when it has no scheme.

    Characters that are illegal in an IRI (spaces, quotes, `<>{}|\\^``, controls, non-ASCII,
    a `%` not followed by two hex digits, `[`/`]`, a second `#`) are percent-encoded; characters
    that are already legal are left as they are, so a valid IRI comes back unchanged.
    """
    url = url.strip()
    if not _SCHEME.match(url):
        return None
    if _ALREADY_VALID.match(url):
        return url if _valid_authority(url) else None
    out: list[str] = []
    seen_hash = False
    n = len(url)
    for i, ch in enumerate(url):
        if ch == "%":
            if i + 2 < n and url[i + 1] in _HEX and url[i + 2] in _HEX:
                out.append(ch)
            else:
                out.append("%25")
        elif ch == "#":
            out.append("%23" if seen_hash else ch)
            seen_hash = True
        elif ch in _IRI_ASCII:
            out.append(ch)
        else:
            out.append(_encode_char(ch))
    iri = "".join(out)
    return iri if _valid_authority(iri) else None


_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://([^/?#]*)")
_PORT = re.compile(r"^(?:[^@]*@)?[^:@]*(?::[0-9]*)?$")


def _valid_authority(iri: str) -> bool:
    """Reject authorities whose port is not a number (`http://a:b:c/`): no encoding repairs them."""
    m = _AUTHORITY.match(iri)
    return m is None or bool(_PORT.match(m.group(1)))


def is_valid_iri(iri: str) -> bool:
    """True when an independent IRI parser (Oxigraph's) accepts `iri`."""
    import pyoxigraph

    try:
        pyoxigraph.NamedNode(iri)
    except ValueError:
        return False
    return True


# RFC 3987 (IRI) character classes, for `base_iri_problem`.
_UCSCHAR = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd\U00040000-\U0004fffd"
    "\U00050000-\U0005fffd\U00060000-\U0006fffd\U00070000-\U0007fffd\U00080000-\U0008fffd"
    "\U00090000-\U0009fffd\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_PCT = "%[0-9A-Fa-f]{2}"
_IUNRESERVED = f"A-Za-z0-9\\-._~{_UCSCHAR}"
_SUB_DELIMS = "!$&'()*+,;="
_IPCHAR = f"(?:[{_IUNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_IRI = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*):"
    r"(?:"
    rf"//(?P<authority>(?:(?:[{_IUNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?"
    rf"(?P<host>\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~{_SUB_DELIMS}:]+\]"
    rf"|(?:[{_IUNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"
    r"(?::[0-9]*)?)"
    rf"(?:/{_IPCHAR}*)*"
    rf"|/?(?:{_IPCHAR}+(?:/{_IPCHAR}*)*)?"
    r")"
    rf"(?:\?(?:{_IPCHAR}|[{_IPRIVATE}/?])*)?"
    rf"(?:#(?:{_IPCHAR}|[/?])*)?",
)
#: Characters an IRI never holds unencoded (RFC 3987): named in `base_iri_problem`'s message.
_NEVER = frozenset(' <>"{}|\\^`')


def base_iri_problem(base: str, option: str = "base IRI", ending: bool = True) -> str | None:
    """Why `base` cannot be the base every kg IRI is minted under, or None when it can.

    It must be an absolute IRI (RFC 3987: a scheme, and only the characters an IRI may hold;
    `http` and `https` ones with a host) and, when `ending`, end with `/` or `#`: minted IRIs
    are `base` + a path, and must parse in every output format. Checked once, when an
    `IriScheme` is made, so no export can write an IRI that does not parse.
    """
    bad = sorted({ch for ch in base if ch in _NEVER or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0})
    if bad:
        shown = ", ".join("space" if ch == " " else repr(ch) for ch in bad)
        return f"{option} {base!r} holds characters an IRI cannot hold unencoded: {shown}"
    if not _SCHEME.match(base):
        return f"{option} {base!r} is not an absolute IRI (it needs a scheme, such as https://)"
    match = _IRI.fullmatch(base)
    if match is None:
        return f"{option} {base!r} is not a valid IRI (RFC 3987)"
    if match.group("scheme").lower() in ("http", "https") and not match.group("host"):
        return f"{option} {base!r} has no host"
    if ending and not base.endswith(("/", "#")):
        return f"{option} {base!r} must end with '/' or '#'"
    return None
