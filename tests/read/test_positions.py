"""Front-matter key positions (kg.read.positions): the line and column CI reports link to."""

from __future__ import annotations

import time

from kg.read.frontmatter import decode
from kg.read.positions import key_positions

TEXT = """---
title: A title
link:
  brand: example.com
  href: https://example.com/a
communityTopics:
- 'KLAS: Telehealth'
-   'Medigy: Telemedicine'
featuredImage:
  size: [10, 20]
---
The body.
"""


def test_top_level_nested_and_list_item_keys_are_placed_in_the_file() -> None:
    positions = key_positions(TEXT)
    assert positions is not None
    assert positions.keys["title"] == (2, 1)
    assert positions.keys["link"] == (3, 1)
    assert positions.keys["link.href"] == (5, 3)
    assert positions.keys["communityTopics[1]"] == (8, 5)
    assert positions.keys["featuredImage.size[1]"] == (10, 14)
    assert positions.items["communityTopics"] == [
        ("KLAS: Telehealth", (7, 3)),
        ("Medigy: Telemedicine", (8, 5)),
    ]
    assert positions.body == (12, 1)


def test_a_missing_key_falls_back_to_the_closest_enclosing_key() -> None:
    positions = key_positions(TEXT)
    assert positions is not None
    assert positions.find("link.brand") == (4, 3)
    assert positions.find("link.original") == (3, 1)
    assert positions.find("featuredPdf.href") is None


def test_columns_count_characters_and_crlf_files_keep_their_lines() -> None:
    text = decode("---\r\ntitle: x\r\nlink: {brand: é, href: h}\r\n---\r\n".encode())
    positions = key_positions(text)
    assert positions is not None
    assert positions.keys["link.href"] == (3, 18)  # in bytes it would be 19
    assert positions.body is None


def test_a_repeated_key_is_placed_where_loading_takes_its_value() -> None:
    positions = key_positions("---\ntitle: a\ntitle: b\n---\n")
    assert positions is not None and positions.keys["title"] == (3, 1)


def test_no_front_matter_or_yaml_that_does_not_compose_gives_none() -> None:
    assert key_positions("no front matter\n") is None
    assert key_positions("---\ntitle: [unclosed\n---\n") is None
    assert key_positions("---\ntitle: x\n") is None  # never closed


def test_aliases_of_aliases_are_not_walked_again() -> None:
    """Nine levels of ten aliases each would be a billion nodes to walk, not a few dozen."""
    lines = ["---", "a0: &a0 [x, y]"]
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    started = time.perf_counter()
    positions = key_positions("\n".join([*lines, "---", ""]))
    assert time.perf_counter() - started < 1.0
    assert positions is not None and positions.keys["a9"] == (11, 1)
