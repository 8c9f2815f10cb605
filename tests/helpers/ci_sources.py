"""A small repository of curation sources with known problems at known lines, for the CI
report tests (locations, JUnit, SARIF)."""

from __future__ import annotations

from pathlib import Path

#: A curation whose slug starts with '-' (Info, line 5), with no source link (`link` at line 7
#: has a brand only: Warning on link.href), no featured image (Warning, no line) and a topic
#: list (items at lines 10 and 11).
BROKEN = """---
title: A curation
mdName: 3f1c2b9e-0a4d-4e5b-9c6d-7e8f9a0b1c2d
id: 4101
slug: -starts-with-a-dash
date: '2021-01-02T10:00:00Z'
link:
  brand: example.com
communityTopics:
- 'KLAS: Telehealth'
-   'Medigy: Telemedicine'
description: A description.
owlType: Medigy Communities
openProjectWorkPackageType: Curated Content
identifier: Chronic Care Management (CCM)
---
The body.
"""
#: A curation whose YAML does not parse: libyaml notices at line 4, column 1 (the closing fence).
BAD_YAML = "---\ntitle: x\nmdName: [unclosed\n---\n"
#: A page that is not a curation (no front matter): skipped.
NOT_A_CURATION = "# Just a page\n"
#: Where the results on `BROKEN` are: key -> (line, column).
BROKEN_LINES = {"slug": (5, 1), "link.href": (7, 1), "communityTopics[1]": (11, 5)}


def make_repository(root: Path) -> Path:
    """`root/.git` (an empty folder, as far as finding the root goes) and
    `root/content/curations/` with `broken.md`, `bad-yaml.md` and `page.md`; returns the
    curations folder."""
    (root / ".git").mkdir(parents=True)
    folder = root / "content" / "curations"
    folder.mkdir(parents=True)
    (folder / "broken.md").write_text(BROKEN, encoding="utf-8")
    (folder / "bad-yaml.md").write_text(BAD_YAML, encoding="utf-8")
    (folder / "page.md").write_text(NOT_A_CURATION, encoding="utf-8")
    return folder
