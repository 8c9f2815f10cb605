"""Shared by several test modules (moved out of test_faults, test_incremental, test_site)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLES, TESTS

SITE = TESTS / "fixtures" / "site"



def make_tree(dest: Path, copies: int, start: int = 0) -> None:
    """`copies` x 16 distinct curations: the examples with a new mdName in each copy."""
    for copy in range(start, start + copies):
        folder = dest / f"copy{copy:04d}"
        folder.mkdir(parents=True)
        for example in sorted(EXAMPLES.glob("*.md")):
            md_name = example.name.rsplit("__", 1)[1].removesuffix(".md")
            new = f"{md_name[:-4]}{copy:04d}"
            (folder / example.name.replace(md_name, new)).write_text(
                example.read_text(encoding="utf-8").replace(md_name, new), encoding="utf-8"
            )



def curation(name: str, title: str = "T", topics: tuple[str, ...] = ("KLAS: Telehealth",)) -> str:
    topic_lines = "".join(f"- '{t}'\n" for t in topics)
    return (
        f"---\ntitle: '{title}'\nmdName: {name}\nid: 1\nauthor: [Jane Doe]\n"
        f"communityTopics:\n{topic_lines}link:\n  brand: example.org\n"
        f"  href: https://example.org/{name}\n---\n<p>Body of {name}</p>\n"
    )


def write_tree(src: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text, encoding="utf-8")

