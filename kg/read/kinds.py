"""Which pages are curations: the one rule, applied to a page's parsed front matter.

A Hugo site's content tree holds many kinds of page (section lists, topic pages, profiles,
offerings, recognitions, feeds, READMEs); only some are curations, and nothing in a page's
location says which (see docs/export.md, "Which pages are curations"). A page says it itself:

1. **A curation** carries one of the keys only curations have, `CURATION_KEYS` (`mdName`,
   `owlType`, `openProjectWorkPackageType`: the OpenProject and Dropmark curations), or an
   integer `id` (its OpenProject work package) together with a curation source (rule 3).
2. **Its identity** is then its `mdName` or integer `id`; a page marked a curation without
   one fails, it does not vanish (`kg.read.frontmatter`).
3. **A legacy curation** carries none of those but names a curation source: its `source` ends
   in `-curations` (`Opsfolio-curations`, `WordPress-curations`: the curations published before
   OpenProject, kept by the site), and is read by `kg.read.legacy`.
4. **Anything else is not a curation** and is skipped with the reason. In particular an `id`
   alone marks nothing: recognitions (`id: hhs_2`), offerings and organisation profiles
   (`id: 5346`) carry ids of other systems.
5. **An item a feed reader aggregated** is not a curation either, though it has an `mdName`:
   it carries the `feed` it came from (a mapping with its `feed_url`; the site's 95 RSS items)
   and nobody curated it. A page that also carries `owlType` or `openProjectWorkPackageType`
   stays a curation.
"""

from __future__ import annotations

from typing import Any, Literal

from kg.read import normalize as nz

#: Front-matter keys only a curation carries; any one of them makes a page a curation.
CURATION_KEYS = ("mdName", "owlType", "openProjectWorkPackageType")

#: How the site names the pipelines that publish curations (`source: dropmark-curations`, ...).
CURATION_SOURCE_SUFFIX = "-curations"

Kind = Literal["curation", "legacy", "other"]


def is_curation_source(value: Any) -> bool:
    """`source` names a curation pipeline: text ending in `-curations` (any case)."""
    return isinstance(value, str) and value.strip().casefold().endswith(CURATION_SOURCE_SUFFIX)


def page_kind(data: dict[Any, Any]) -> tuple[Kind, str | None]:
    """(kind, reason): what the page with front matter `data` is; the reason says why a page is
    not a curation ("other"), and is None for the two kinds of curation."""
    feed = data.get("feed")
    if isinstance(feed, dict) and not any(key in data for key in CURATION_KEYS[1:]):
        url = nz.show(feed.get("feed_url", "(no feed_url)"), 100)
        return "other", f"not a curation: an item aggregated from the RSS feed {url}, not curated"
    if any(key in data for key in CURATION_KEYS):
        return "curation", None
    curation_source = is_curation_source(data.get("source"))
    if curation_source and _work_package_id(data.get("id")) is not None:
        return "curation", None
    if curation_source:
        return "legacy", None
    return "other", _why_not(data)


def _work_package_id(value: Any) -> int | None:
    try:
        return nz.integer(value)
    except nz.FieldError:
        return None


def _why_not(data: dict[Any, Any]) -> str:
    """The reason a page is not a curation, with what it does carry that might look like one."""
    why = "not a curation: none of " + ", ".join(CURATION_KEYS) + " and no curation source"
    details = []
    source = data.get("source")
    if source not in (None, ""):
        details.append(f"source {nz.show(source, 60)} is not one ending in '{CURATION_SOURCE_SUFFIX}'")
    if data.get("id") not in (None, ""):
        details.append(
            f"id {nz.show(data['id'], 60)} alone marks no curation (recognitions, offerings and "
            "profiles have ids too)"
        )
    return why + (": " + "; ".join(details) if details else "")
