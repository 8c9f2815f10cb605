"""File-level parsing: what is a curation, what fails, and how each failure is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.read.frontmatter import decode, parse_text
from kg.read.sources import SourceFile, read_file

GOOD = """---
title: '  A title  '
mdName: 3f1c2a9e-8c4e-5b7a-9d11-2b8f4a6c0e01
id: 42
date: 2021-02-30
lastMod: '2021-03-01T10:00:00.5Z'
eventEndDate: 2021-03-04
communityTopics:
- 'KLAS: Telehealth'
author: Jane Doe
link:
  brand: hfma.org
  href: ''
  original: null
---
<p>Body</p>
"""


def test_good_curation_normalises_fields() -> None:
    result = parse_text(GOOD, "a.md")
    assert result.status == "exported"
    c = result.curation
    assert c is not None
    assert c.title == "A title"
    assert c.work_package_id == 42
    assert c.authors == ["Jane Doe"]
    assert c.url is None and c.brand == "hfma.org"
    assert c.event_end is not None and c.event_end.lexical == "2021-03-04"
    assert c.date_modified is not None and c.date_modified.lexical == "2021-03-01T10:00:00.5Z"
    assert c.body == "<p>Body</p>" and c.body_format == "text/html"


def test_impossible_date_is_a_field_warning_and_field_is_dropped() -> None:
    result = parse_text(GOOD, "a.md")
    assert result.curation is not None and result.curation.date_created is None
    [problem] = result.problems
    assert (problem.path, problem.field, problem.severity) == ("a.md", "date", "warning")
    assert problem.value == "'2021-02-30'"
    assert "impossible date" in problem.message


def test_wrong_type_is_reported_with_file_key_and_value() -> None:
    text = "---\ntitle: T\nmdName: x\ndescription: [a, b]\nlink: nope\n---\n"
    result = parse_text(text, "dir/b.md")
    assert result.status == "exported"
    got = {(p.field, p.value) for p in result.problems}
    assert got == {("description", "['a', 'b']"), ("link", "'nope'")}
    assert all(str(p).startswith("dir/b.md: ") for p in result.problems)


@pytest.mark.parametrize(
    ("text", "status", "reason"),
    [
        ("no front matter here\n", "skipped", "no front matter"),
        ("---\ntitle: x\n", "failed", "never closed"),
        ("---\n- a\n- b\n---\n", "failed", "not a mapping (got a list)"),
        ("---\ntitle: Hello\nmenu: main\n---\n", "skipped", "not a curation"),
        ("---\n---\nbody", "skipped", "front matter is empty"),
        ("---\nmdName: x\n---\n", "failed", "missing title"),
        ("---\ntitle: T\nowlType: Medigy Communities\n---\n", "failed", "missing mdName or id"),
        ("---\ntitle: [1]\nmdName: x\n---\n", "failed", "title: expected text"),
    ],
)
def test_non_curations_and_broken_files(text: str, status: str, reason: str) -> None:
    result = parse_text(text, "x.md")
    assert result.status == status
    assert result.reason is not None and reason in result.reason


@pytest.mark.parametrize("href", ["/offering/5346.jpeg", "https://example.org/a.png"])
def test_featured_image_as_a_plain_string_is_an_image(href: str) -> None:
    result = parse_text(f"---\ntitle: T\nmdName: x\nfeaturedImage: {href}\n---\n", "x.md")
    assert result.curation is not None and not result.problems
    assert result.curation.featured_image is not None and result.curation.featured_image.href == href


def test_featured_image_string_that_is_no_web_url_is_a_field_warning() -> None:
    result = parse_text("---\ntitle: T\nmdName: x\nfeaturedImage: 'javascript:alert(1)'\n---\n", "x.md")
    assert result.curation is not None and result.curation.featured_image is None
    assert [(p.field, p.severity) for p in result.problems] == [("featuredImage", "warning")]


@pytest.mark.parametrize(
    ("front", "status", "reason"),
    [
        ("title: T\nid: hhs_2\n", "skipped", "id 'hhs_2' alone marks no curation"),
        ("title: T\nid: 5346\nsource: Attest\n", "skipped", "source 'Attest' is not one ending"),
        ("title: T\nslug: s\nsource: WordPress-curations\n", "exported", None),
        ("title: T\nsource: Opsfolio-curations\n", "failed", "missing slug"),
        ("title: T\nid: 7\nsource: open-project-curations\n", "exported", None),
        # an RSS item a feed reader aggregated (the site's feeds/ folder): an mdName, but nobody curated it
        (
            "title: T\nmdName: amia.org-news\nfeed:\n  feed_url: https://example.org/feed\n",
            "skipped",
            "an item aggregated from the RSS feed 'https://example.org/feed'",
        ),
        ("title: T\nmdName: m\nowlType: Communities\nfeed:\n  feed_url: https://e\n", "exported", None),
    ],
)
def test_which_pages_are_curations(front: str, status: str, reason: str | None) -> None:
    result = parse_text(f"---\n{front}---\n", "x.md")
    assert result.status == status
    assert reason is None or reason in (result.reason or "")


def test_yaml_error_gives_the_file_line() -> None:
    text = "---\ntitle: ok\nmdName: x\nbad: [unclosed\nother: 1\n---\n"
    result = parse_text(text, "x.md")
    assert result.status == "failed"
    assert result.reason is not None and "not valid YAML at line" in result.reason
    line = int(result.reason.split("at line ")[1].split(",")[0])
    assert line in (5, 6)  # the error is detected on the line after the unclosed bracket


def test_yaml_object_tags_are_refused() -> None:
    text = "---\ntitle: !!python/object/apply:os.system ['echo hacked']\nmdName: x\n---\n"
    result = parse_text(text, "evil.md")
    assert result.status == "failed"
    assert result.reason is not None and "python/object" in result.reason


def test_yaml_anchors_and_aliases_are_resolved() -> None:
    text = "---\ntitle: T\nmdName: x\ntags: &id001\n- a\naliases: *id001\n---\n"
    c = parse_text(text, "x.md").curation
    assert c is not None and c.tags == ["a"] and c.aliases == ["a"]


def test_decode_handles_bom_and_crlf() -> None:
    assert decode(b"\xef\xbb\xbf---\r\ntitle: x\r\n---\r\n") == "---\ntitle: x\n---\n"


def test_read_file_reports_non_utf8_with_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes(b"---\ntitle: caf\xe9\n---\n")
    result = read_file(SourceFile(path, "latin1.md"))
    assert result.status == "failed"
    assert result.reason == "not UTF-8: byte 0xe9 at offset 14"


def test_read_file_reports_missing_file(tmp_path: Path) -> None:
    result = read_file(SourceFile(tmp_path / "gone.md", "gone.md"))
    assert result.status == "failed" and "cannot read" in (result.reason or "")


def test_topics_fall_back_to_medigy_topics_json() -> None:
    text = (
        "---\ntitle: T\nmdName: x\nopenProjectCustomFields:\n"
        '  medigyTopics: \'["KLAS: Telehealth", "Symplur: #COVID19"]\'\n---\n'
    )
    c = parse_text(text, "x.md").curation
    assert c is not None
    assert [(t.source, t.label) for t in c.topics] == [("KLAS", "Telehealth"), ("Symplur", "#COVID19")]


def test_source_urls_kept_as_distinct_facts_only_where_they_differ() -> None:
    text = """---
title: T
mdName: x
link:
  brand: mendfamily.com
  href: https://www.mendfamily.com/part-3/?
  original: https://www.mendfamily.com/part-3/?utm_source=x
openProjectCustomFields:
  cleanUrl: https://www.mendfamily.com/part-3/?
  sourceUrl: https://www.mendfamily.com/part-3/?utm_source=x
---
"""
    c = parse_text(text, "x.md").curation
    assert c is not None
    assert c.url == "https://www.mendfamily.com/part-3/?"
    assert c.clean_url is None
    assert c.original_url == c.source_url == "https://www.mendfamily.com/part-3/?utm_source=x"
