"""Legacy curations: what the curations published before OpenProject carry, read into the same
`Curation` record as the others (see docs/graph-model.md, "Legacy curations").

The Security and Risk & Compliance communities kept their older curations (infographics,
actionable, contributed and curated news content) from WordPress and Opsfolio: `source:
WordPress-curations` / `Opsfolio-curations`, and no `mdName`, `id`, `owlType` or work-package
type. `kg.read.kinds` decides that a page is one; here each fact comes from the key that
carries it on such a page, and nothing is invented:

- identity: the `slug` (required, like an mdName: without one the page fails);
- community: the breadcrumb after `Communities` (else `mastHead` without ` CoP`), spelt as the
  site spells community names today (`and` between words is `&`, each word capitalised), so
  `Risk And Compliance` is the community the newer curations call `Risk & Compliance`;
- work-package type: the breadcrumb after the community, the site section the page is listed
  in (`Infographics`, `Curated News`, ...), which names the same kinds as OpenProject's types;
- topics: `categories` (or `Categories`), the WordPress categories, as topics without a source;
- brand and source link: the top-level `brand`, `herf`, `original`, `cleanUrl`, `sourceUrl`
  of WordPress pages, where OpenProject pages have `link.*`.
"""

from __future__ import annotations

from typing import Any

from kg.model import Community, Curation, ParseResult, Problem
from kg.read import normalize as nz
from kg.read.fields import Fields


def identity(f: Fields, data: dict[Any, Any], path: str) -> tuple[str, str] | ParseResult:
    """(title, slug), or the failed result naming what is missing or unusable."""
    title = f.get("title", data.get("title"), nz.text, None)
    slug = f.get("slug", data.get("slug"), nz.name, None)
    missing = [name for name, value in (("title", title), ("slug", slug)) if value is None]
    if missing:
        return ParseResult(
            path,
            "failed",
            reason="not exported: a legacy curation (source: "
            f"{nz.show(data.get('source'), 60)}) missing " + " and ".join(missing),
            problems=[*f.problems, *(Problem(path, m, "missing") for m in missing)],
        )
    assert title is not None and slug is not None
    return title, slug


def complete(f: Fields, data: dict[Any, Any], c: Curation) -> None:
    """Fill in what a legacy page carries under its own keys (`c` was read with the common ones)."""
    c.legacy = True
    community, section = _community_and_section(f, data)
    c.community = c.community or community
    c.work_package_type = c.work_package_type or section
    key = "categories" if "categories" in data else "Categories"
    c.topics = c.topics or f.get(key, (data.get(key), None), _topics, [])
    c.brand = c.brand or f.get("brand", data.get("brand"), nz.name, None)
    if c.url is None:
        for url_key in ("herf", "original", "cleanUrl", "sourceUrl"):
            url = f.get(url_key, _first(data.get(url_key)), nz.url, None)
            if url is not None:
                c.url = url
                break


def _topics(pair: tuple[Any, Any]) -> list[Any]:
    return nz.topics(*pair)


def _first(value: Any) -> Any:
    """A WordPress URL key holds a one-item list; its item (or the value itself)."""
    return value[0] if isinstance(value, list) and value else value


def community_name(value: str) -> str:
    """A community name as the site spells them today: `and` between words is `&`, each word
    capitalised (`Risk and compliance` and `Risk And Compliance` -> `Risk & Compliance`)."""
    words = value.split()
    return " ".join("&" if w.casefold() == "and" else w[:1].upper() + w[1:] for w in words)


def _community_and_section(f: Fields, data: dict[Any, Any]) -> tuple[Community | None, str | None]:
    """The community (from the breadcrumbs, else the masthead) and the section after it."""
    crumbs = data.get("breadcrumbs")
    names = [c.strip() if isinstance(c, str) else "" for c in crumbs] if isinstance(crumbs, list) else []
    folded = [n.casefold() for n in names]
    community = section = None
    if "communities" in folded:
        at = folded.index("communities")
        community = names[at + 1] if at + 1 < len(names) else None
        # the last crumb is the page itself: a section is a crumb between community and page
        section = names[at + 2] if at + 3 < len(names) else None
    if not community:
        mast = f.get("mastHead", data.get("mastHead"), nz.text, None)
        community = mast.removesuffix(" CoP").strip() if mast else None
    name = f.get("breadcrumbs", community_name(community), nz.name, None) if community else None
    section_name = f.get("breadcrumbs", section, nz.name, None) if section else None
    return (Community(name) if name else None), section_name
