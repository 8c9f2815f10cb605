"""The maplib peer's first half: curation files to column lists, as a maplib user would write it.

Each file is read, its front matter parsed with PyYAML's `CSafeLoader` (libyaml, the loader of
the floor in `bench/floor.py`), and the fields kg maps are flattened into plain Python columns
(one row per curation; lists for the multi-valued fields) plus small tables of the shared nodes
(topics, schemes, people, communities, brands, classes). IRIs are minted as kg mints them
(docs/graph-model.md, "IRI scheme"), with this module's own `segment`, so the two graphs can be
compared triple by triple. No field problems are reported and no bad input is guarded against:
the peer is measured on generated curations, which are all valid (bench/generate.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import yaml

from bench.floor import front_matter

BASE = "https://w3id.org/medigy/kg/id/"
SCHEMA = "https://schema.org/"
#: kg's schema.org type per work-package type (kg/map/curation.py SCHEMA_TYPES), else CreativeWork.
SCHEMA_TYPES = {
    "curated content": "Article",
    "contributed content": "Article",
    "curated news": "NewsArticle",
    "curated video": "VideoObject",
    "curated event": "Event",
    "infographics": "ImageObject",
    "recent updates & reports": "Report",
}
_DOMAIN = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_HTML_START = re.compile(r"\s*<[A-Za-z!/]")
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")

#: Columns of the curation table that hold one value (None when absent).
SCALARS = (
    "c", "g", "name", "description", "mdName", "wpId", "owlType", "wpType", "schemaType",
    "created", "published", "modified", "start", "end", "startDate", "endDate",
    "community", "brand", "article", "url", "originalUrl", "cleanUrl", "sourceUrl",
    "slug", "searchCategory", "basePath", "body", "bodyFormat", "sourceFile", "sourcePath",
)  # fmt: skip
#: Columns of the curation table that hold a list of values.
LISTS = ("authors", "topics", "tags", "aliases")
#: The media nodes: column prefix, front-matter key, node suffix.
MEDIA = (
    ("img", "featuredImage", "featured-image"),
    ("fav", "favIconImage", "favicon"),
    ("pdf", "featuredPdf", "featured-pdf"),
)
MEDIA_FIELDS = ("node", "href", "width", "height", "format", "caption")


@lru_cache(maxsize=8192)
def segment(text: str) -> str:
    """One IRI path segment as kg mints it: `[A-Za-z0-9-.~]` kept, space to `_`, else %XX."""
    encoded = quote(text, safe=" ").replace("_", "%5F").replace(" ", "_")
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


class Tables:
    """The column lists of one corpus: the curation table and the shared-node tables."""

    def __init__(self) -> None:
        self.curations: dict[str, list[Any]] = {k: [] for k in (*SCALARS, *LISTS)}
        for prefix, _, _ in MEDIA:
            for name in MEDIA_FIELDS:
                self.curations[f"{prefix}_{name}"] = []
        # Shared nodes, keyed by IRI (a dict keeps the first description, as a set of rows would).
        self.topics: dict[str, tuple[str, str]] = {}  # concept -> (label, scheme)
        self.schemes: dict[str, str] = {}
        self.people: dict[str, str] = {}
        self.communities: dict[str, tuple[str, str | None, str | None]] = {}
        self.brands: dict[str, tuple[str, str | None]] = {}
        self.classes: dict[str, tuple[str, str]] = {}  # class -> (label, metaclass name)

    def merge(self, other: Tables) -> None:
        """Append another worker's rows (the shared tables keep the first description)."""
        for key, column in other.curations.items():
            self.curations[key].extend(column)
        _keep_first(self.topics, other.topics)
        _keep_first(self.schemes, other.schemes)
        _keep_first(self.people, other.people)
        _keep_first(self.communities, other.communities)
        _keep_first(self.brands, other.brands)
        _keep_first(self.classes, other.classes)


_V = TypeVar("_V")


def _keep_first(mine: dict[str, _V], theirs: dict[str, _V]) -> None:
    for key, value in theirs.items():
        mine.setdefault(key, value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return list(dict.fromkeys(t for t in (_text(v) for v in items) if t is not None))


def _temporal(value: Any) -> tuple[str | None, str | None]:
    """(dateTime lexical, date lexical) of a front-matter date: one of them is set."""
    if value is None or value == "":
        return None, None
    if isinstance(value, dt.datetime):
        return value.isoformat(), None
    if isinstance(value, dt.date):
        return None, value.isoformat()
    text = str(value).strip()
    return (None, text) if len(text) == 10 else (text, None)


def _topics(fm: dict[str, Any], t: Tables) -> list[str]:
    raw = _texts(fm.get("communityTopics") or [])
    medigy = (fm.get("openProjectCustomFields") or {}).get("medigyTopics")
    if isinstance(medigy, str) and medigy:
        raw += _texts(json.loads(medigy))
    concepts: list[str] = []
    for value in dict.fromkeys(v.replace("-hash-", "#").strip() for v in raw):
        source, sep, label = value.partition(": ")
        if not (sep and source.strip() and label.strip()):
            source, label = "", value
        source, label = source.strip(), label.strip()
        scheme = f"{BASE}scheme/{segment(source)}" if source else f"{BASE}scheme-none"
        concept = (
            f"{BASE}topic/{segment(source)}/{segment(label)}" if source else f"{BASE}topic/{segment(label)}"
        )
        t.topics.setdefault(concept, (label, scheme))
        t.schemes.setdefault(scheme, source or "(no source)")
        concepts.append(concept)
    return list(dict.fromkeys(concepts))


def _asset(href: str) -> str:
    if _HAS_SCHEME.match(href):
        return href
    return f"{BASE}asset/" + "/".join(segment(p) for p in href.lstrip("/").split("/"))


def _media(row: dict[str, Any], fm: dict[str, Any], c: str) -> None:
    for prefix, key, suffix in MEDIA:
        raw = fm.get(key)
        raw = {"href": raw} if isinstance(raw, str) else raw or {}
        href = _text(raw.get("href"))
        size = raw.get("size") if href else None
        ok = isinstance(size, list) and len(size) == 2
        values = (
            f"{c}/{suffix}" if href else None,
            _asset(href) if href else None,
            size[0] if ok else None,  # type: ignore[index]
            size[1] if ok else None,  # type: ignore[index]
            _text(raw.get("format")) if href else None,
            _text(raw.get("alt")) if href else None,
        )
        for name, value in zip(MEDIA_FIELDS, values, strict=True):
            row[f"{prefix}_{name}"] = value


def _classes(row: dict[str, Any], fm: dict[str, Any], t: Tables) -> None:
    owl, wp = _text(fm.get("owlType")), _text(fm.get("openProjectWorkPackageType"))
    row["owlType"] = f"{BASE}owl-type/{segment(owl)}" if owl else None
    row["wpType"] = f"{BASE}work-package-type/{segment(wp)}" if wp else None
    if owl:
        t.classes.setdefault(row["owlType"], (owl, "OwlTypeClass"))
    if wp:
        t.classes.setdefault(row["wpType"], (wp, "WorkPackageTypeClass"))
    row["schemaType"] = SCHEMA + SCHEMA_TYPES.get((wp or "").casefold(), "CreativeWork")


def _community_and_brand(row: dict[str, Any], fm: dict[str, Any], t: Tables) -> None:
    ident = _text(fm.get("identifier"))
    row["community"] = f"{BASE}community/{segment(ident)}" if ident else None
    if ident:
        crumbs, links = fm.get("breadcrumbs") or [], fm.get("breadcrumbLinks") or []
        path = next((links[i] for i, b in enumerate(crumbs) if b == ident and i < len(links)), None)
        t.communities.setdefault(row["community"], (ident, _text(fm.get("mastHead")), _text(path)))
    link, custom = fm.get("link") or {}, fm.get("openProjectCustomFields") or {}
    brand = _text(link.get("brand"))
    row["brand"] = f"{BASE}brand/{segment(brand)}" if brand else None
    if brand:
        t.brands.setdefault(
            row["brand"], (brand, f"https://{brand.lower()}/" if _DOMAIN.match(brand) else None)
        )
    href, clean = _text(link.get("href")), _text(custom.get("cleanUrl"))
    source, original = _text(custom.get("sourceUrl")), _text(link.get("original"))
    url = href or clean or source or original
    row["url"] = url
    row["article"] = row["c"] + "/source" if url else None
    row["originalUrl"] = original if original != url else None
    row["cleanUrl"] = clean if clean != url else None
    row["sourceUrl"] = source if source != url else None


def curation_row(fm: dict[str, Any], body: str, rel: str, t: Tables) -> dict[str, Any]:
    """The curation table's row for one front matter (the shared tables grow in `t`)."""
    md_name = _text(fm.get("mdName"))
    c = f"{BASE}curation/{segment(md_name)}" if md_name else f"{BASE}work-package/{fm.get('id')}"
    row: dict[str, Any] = {"c": c, "g": f"{BASE}graph/{c[len(BASE) :]}", "mdName": md_name}
    row["name"], row["description"] = _text(fm.get("title")), _text(fm.get("description"))
    row["wpId"] = fm.get("id") if isinstance(fm.get("id"), int) else None
    created, _ = _temporal(fm.get("date"))
    published, _ = _temporal(fm.get("publishDate"))
    row["created"], row["published"], row["modified"] = (
        created,
        published or created,
        _temporal(fm.get("lastMod"))[0],
    )
    row["start"], row["startDate"] = _temporal(fm.get("eventStartDate") or fm.get("eventDate"))
    row["end"], row["endDate"] = _temporal(fm.get("eventEndDate"))
    _classes(row, fm, t)
    _community_and_brand(row, fm, t)
    _media(row, fm, c)
    authors = _texts(fm.get("author") or [])
    for name in authors:
        t.people.setdefault(f"{BASE}person/{segment(name)}", name)
    row["authors"] = [f"{BASE}person/{segment(n)}" for n in authors]
    row["topics"] = _topics(fm, t)
    row["tags"], row["aliases"] = _texts(fm.get("tags") or []), _texts(fm.get("aliases") or [])
    for key in ("slug", "searchCategory", "basePath"):
        row[key] = _text(fm.get(key))
    row["body"] = body.strip() or None
    row["bodyFormat"] = (
        None if row["body"] is None else "text/html" if _HTML_START.match(body) else "text/markdown"
    )
    row["sourcePath"] = rel
    row["sourceFile"] = BASE + "source/" + "/".join(segment(p) for p in rel.split("/"))
    return row


def read_files(paths: Iterable[Path], root: Path) -> Tables:
    """Read, parse (CSafeLoader) and flatten every file into one `Tables`."""
    t = Tables()
    columns = t.curations
    for path in paths:
        data = path.read_bytes()
        fm_bytes = front_matter(data)
        fm = yaml.load(fm_bytes, Loader=yaml.CSafeLoader)
        body = data[4 + len(fm_bytes) + 4 :].decode("utf-8")  # after "---\n" YAML "---\n"
        row = curation_row(fm, body, path.relative_to(root).as_posix(), t)
        for key, column in columns.items():
            column.append(row[key])
    return t
