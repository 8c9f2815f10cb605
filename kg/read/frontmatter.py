"""Parse one curation file's text into a normalised `Curation`. Pure: no file access.

Rules (see docs/graph-model.md, "Bad input"):
- not UTF-8, unclosed front matter, YAML that does not parse, front matter that is not a
  mapping, or a curation without a title or an identity (`mdName` or `id`; a legacy
  curation's `slug`): *failed*;
- no front matter at all, or a page that is not a curation by the rule of `kg.read.kinds`:
  *skipped*, with the reason (it is some other page);
- a present value of the wrong type or form: a per-field *warning*; the curation is exported
  without that field.

The YAML is loaded by `kg.read.yaml_loader`, each value normalised by `kg.read.normalize`;
legacy curations are completed by `kg.read.legacy`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from kg.model import Community, Curation, Media, ParseResult, Problem, Topic
from kg.read import legacy as kg_legacy
from kg.read import normalize as nz
from kg.read.fields import Fields
from kg.read.kinds import page_kind
from kg.read.yaml_loader import MAX_DEPTH, line_and_column, load_yaml, too_deep

_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
_END_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_TOML_FENCE = re.compile(r"\+\+\+[ \t]*(?:\n|$)")  # Hugo's other front matter formats: TOML and JSON
_HTML_START = re.compile(r"\s*<[A-Za-z!/]")


def decode(data: bytes) -> str:
    """UTF-8 with or without BOM; CRLF and lone CR become LF. Raises UnicodeDecodeError."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Return (yaml_text, body, first_yaml_line) or None when there is no front matter.

    Raises ValueError when the opening fence has no closing fence.
    """
    first_line_end = text.find("\n")
    first_line = text if first_line_end < 0 else text[:first_line_end]
    if not _FENCE.match(first_line):
        return None
    start = len(first_line) + 1
    end = _END_FENCE.search(text, start)
    if end is None:
        raise ValueError("front matter opened with '---' is never closed")
    body_start = text.find("\n", end.end())
    body = "" if body_start < 0 else text[body_start + 1 :]
    return text[start : end.start()], body, 2


def parse_text(text: str, path: str) -> ParseResult:
    """Parse the decoded text of one file (named `path` in messages) into a ParseResult."""
    try:
        split = split_front_matter(text)
    except ValueError as exc:
        return ParseResult(path, "failed", reason=str(exc))
    if split is None:
        if _TOML_FENCE.match(text):
            return ParseResult(
                path, "skipped", reason="TOML front matter ('+++'): not a curation (curations use YAML)"
            )
        if text.lstrip().startswith("{"):
            return ParseResult(
                path, "skipped", reason="JSON front matter: not a curation (curations use YAML)"
            )
        return ParseResult(path, "skipped", reason="no front matter (file does not start with '---')")
    yaml_text, body, first_line = split
    if too_deep(yaml_text):
        return ParseResult(path, "failed", reason=f"front matter nests deeper than {MAX_DEPTH} levels")
    try:
        data = load_yaml(yaml_text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" at line {mark.line + first_line}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        return ParseResult(path, "failed", reason=f"front matter is not valid YAML{line}: {problem}")
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: no mark, an offset
        row, column = line_and_column(yaml_text, exc.position)
        return ParseResult(
            path,
            "failed",
            reason=f"front matter is not valid YAML at line {row + first_line}, column {column}: "
            f"unacceptable character U+{exc.character:04X} ({exc.reason})",
        )
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return ParseResult(path, "failed", reason=f"front matter is not valid YAML: {exc}")
    if data is None:
        return ParseResult(path, "skipped", reason="front matter is empty")
    if not isinstance(data, dict):
        return ParseResult(path, "failed", reason=f"front matter is not a mapping (got {nz.kind_of(data)})")
    kind, why_not = page_kind(data)
    if kind == "other":
        return ParseResult(path, "skipped", reason=why_not)
    return _to_curation(data, body, path, legacy=kind == "legacy")


#: (title, mdName, id) of a curation that has what it needs to be exported.
_Identity = tuple[str, str | None, int | None]


def _to_curation(data: dict[Any, Any], body: str, path: str, legacy: bool = False) -> ParseResult:
    """The curation of a page `kg.read.kinds` calls one, or the failed result without identity."""
    f = Fields(path)
    if legacy:
        named = kg_legacy.identity(f, data, path)
        if isinstance(named, ParseResult):
            return named
        curation = _curation(f, data, body, named[0], None, None)
        curation.slug = named[1]
        kg_legacy.complete(f, data, curation)
        return ParseResult(path, "exported", curation=curation, problems=f.problems)
    identity = _identity(f, data, path)
    if isinstance(identity, ParseResult):
        return identity
    return ParseResult(path, "exported", curation=_curation(f, data, body, *identity), problems=f.problems)


def _identity(f: Fields, data: dict[Any, Any], path: str) -> _Identity | ParseResult:
    """(title, mdName, id), or the failed result when the title is unusable or one is missing."""
    try:
        title = nz.text(data.get("title"))
    except nz.FieldError as exc:
        return ParseResult(
            path,
            "failed",
            reason=f"title: {exc}",
            problems=[Problem(path, "title", str(exc), nz.show(data.get("title")))],
        )
    md_name = f.get("mdName", data.get("mdName"), nz.name, None)
    wp_id = f.get("id", data.get("id"), nz.integer, None)
    missing = [name for name, v in (("title", title), ("mdName or id", md_name or wp_id)) if v is None]
    if missing:
        reason = "not exported: missing " + " and ".join(missing)
        return ParseResult(
            path,
            "failed",
            reason=reason,
            problems=[*f.problems, *(Problem(path, m, "missing") for m in missing)],
        )
    assert title is not None
    return title, md_name, wp_id


def _curation(
    f: Fields, data: dict[Any, Any], body: str, title: str, md_name: str | None, wp_id: int | None
) -> Curation:
    """The curation of front matter with an identity; the order of the fields is that of the
    problems in the report."""
    link = f.mapping(data, "link")
    custom = f.mapping(data, "openProjectCustomFields")
    url, original_url, clean_url, source_url = _urls(f, link, custom)
    created = f.get("date", data.get("date"), nz.temporal, None)
    published = f.get("publishDate", data.get("publishDate"), nz.temporal, None)
    mod_key = "lastMod" if "lastMod" in data else "lastmod"
    body_text = f.get("body", body, nz.body, None)
    return Curation(
        source_path=f.path,
        md_name=md_name,
        work_package_id=wp_id,
        title=title,
        description=f.get("description", data.get("description"), nz.text, None),
        owl_type=f.get("owlType", data.get("owlType"), nz.name, None),
        work_package_type=f.get(
            "openProjectWorkPackageType", data.get("openProjectWorkPackageType"), nz.name, None
        ),
        date_created=created,
        date_published=published or created,
        date_modified=f.get(mod_key, data.get(mod_key), nz.temporal, None),
        event_start=_first_temporal(f, data, ("eventStartDate", "eventDate")),
        event_end=_first_temporal(f, data, ("eventEndDate",)),
        authors=f.get("author", data.get("author", data.get("authors")), _people, []),
        topics=f.get(
            "communityTopics", (data.get("communityTopics"), custom.get("medigyTopics")), _topics, []
        ),
        community=_community(f, data),
        brand=f.get("link.brand", link.get("brand"), nz.name, None),
        url=url,
        original_url=original_url,
        clean_url=clean_url,
        source_url=source_url,
        featured_image=_media(f, data, "featuredImage"),
        favicon=_media(f, data, "favIconImage"),
        featured_pdf=_media(f, data, "featuredPdf"),
        tags=f.get("tags", data.get("tags"), nz.text_list, []),
        aliases=f.get("aliases", data.get("aliases"), nz.text_list, []),
        slug=f.get("slug", data.get("slug"), nz.text, None),
        search_category=f.get("searchCategory", data.get("searchCategory"), nz.text, None),
        base_path=f.get("basePath", data.get("basePath"), nz.text, None),
        body=body_text,
        body_format=(
            None if body_text is None else "text/html" if _HTML_START.match(body_text) else "text/markdown"
        ),
    )


def _urls(
    f: Fields, link: dict[Any, Any], custom: dict[Any, Any]
) -> tuple[str | None, str | None, str | None, str | None]:
    """(schema:url, link.original, cleanUrl, sourceUrl): the article's URL is the first of
    link.href, cleanUrl, sourceUrl and link.original given; the others are kept where they
    differ from it."""
    href = f.get("link.href", link.get("href"), nz.url, None)
    clean = f.get("openProjectCustomFields.cleanUrl", custom.get("cleanUrl"), nz.url, None)
    source = f.get("openProjectCustomFields.sourceUrl", custom.get("sourceUrl"), nz.url, None)
    original = f.get("link.original", link.get("original"), nz.url, None)
    url = href or clean or source or original or None
    return (
        url,
        original if original and original != url else None,
        clean if clean and clean != url else None,
        source if source and source != url else None,
    )


def _people(value: Any) -> list[str]:
    return nz.text_list(value, nz.name)


def _topics(pair: tuple[Any, Any]) -> list[Topic]:
    return nz.topics(*pair)


def _first_temporal(f: Fields, data: dict[Any, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if data.get(key) not in (None, ""):
            return f.get(key, data[key], nz.temporal, None)
    return None


def _community(f: Fields, data: dict[Any, Any]) -> Community | None:
    identifier = f.get("identifier", data.get("identifier"), nz.name, None)
    if identifier is None:
        return None
    path = None
    crumbs, links = data.get("breadcrumbs"), data.get("breadcrumbLinks")
    if isinstance(crumbs, list) and isinstance(links, list):
        for crumb, link in zip(crumbs, links, strict=False):
            if isinstance(crumb, str) and crumb.strip() == identifier and isinstance(link, str):
                path = f.get("breadcrumbLinks", link, nz.text, None)
                break
    return Community(identifier, f.get("mastHead", data.get("mastHead"), nz.text, None), path)


def _media(f: Fields, data: dict[Any, Any], key: str) -> Media | None:
    """An image or file: a mapping (`href`, `size`, `format`, `alt`), or a plain href string
    (`featuredImage: /offering/5346.jpeg`, as offerings and legacy curations give it)."""
    if isinstance(data.get(key), str):
        href = f.get(key, data[key], nz.href, None)
        return None if href is None else Media(href=href)
    raw = f.mapping(data, key)
    href = f.get(f"{key}.href", raw.get("href"), nz.href, None)
    if href is None:
        return None
    no_size: tuple[int | None, int | None] = (None, None)
    width, height = f.get(f"{key}.size", raw.get("size"), nz.dimensions, no_size)
    return Media(
        href=href,
        width=width,
        height=height,
        format=f.get(f"{key}.format", raw.get("format"), nz.text, None),
        caption=f.get(f"{key}.alt", raw.get("alt"), nz.text, None),
    )
