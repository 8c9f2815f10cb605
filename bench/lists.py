"""Time per list item: one curation with 1k, 4k, 16k and 64k items in one list field.

Issue 13: the cost was quadratic in the number of items of a list (10,000 topics: 7 s; 40,000
tags: 8.8 s), because repeats were found by a membership test on the list. For each list field
of the front matter this writes one curation whose list holds N distinct items (plus one repeat
of each tenth item, so the de-duplication has work to do), then times

- `parse`: `kg.read.frontmatter.parse_text` (YAML, normalisation, de-duplication);
- `export`: `kg.pipeline.export.export` of that one file, every format, in one process (`jobs=1`),
  from a fresh output folder (so nothing is reused by the incremental export).

and prints the time per item. Linear means a flat column: 64x the items, the same time per
item (within noise, and the YAML parse of a large document has a slowly growing part).

    python -m bench.lists            # every field, 1k..64k items
    python -m bench.lists --max 16000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kg.pipeline.export import export
from kg.read.frontmatter import parse_text

SIZES = (1_000, 4_000, 16_000, 64_000)


def _items(n: int, prefix: str) -> list[str]:
    items = [f"{prefix}{i % 11}: item {i}" for i in range(n)]
    return items + items[::10]  # repeats, which the output must drop


def front_matter(field: str, n: int) -> str:
    """The text of one curation whose `field` holds n distinct items."""
    head = "---\nmdName: many-items\ntitle: Many items\nopenProjectWorkPackageType: Curated Content\n"
    if field == "medigyTopics":
        value = json.dumps(_items(n, "Source"))
        return head + f"openProjectCustomFields:\n  medigyTopics: {json.dumps(value)}\n---\nbody\n"
    lines = "".join(f"  - {json.dumps(item)}\n" for item in _items(n, "Source"))
    return head + f"{field}:\n{lines}---\nbody\n"


FIELDS = ("communityTopics", "medigyTopics", "tags", "author", "aliases")


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def measure(field: str, n: int, repeat: int, work: Path) -> tuple[float, float]:
    """(parse seconds, export seconds) for one curation with n items in `field`."""
    text = front_matter(field, n)
    result = parse_text(text, "many.md")
    assert result.status == "exported", result.reason
    source = work / "src"
    source.mkdir(exist_ok=True)
    (source / "many.md").write_text(text, encoding="utf-8")
    out = work / "out"

    def run_export() -> None:
        shutil.rmtree(out, ignore_errors=True)
        export([source], out, jobs=1, full=True)

    return _best(lambda: parse_text(text, "many.md"), repeat), _best(run_export, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", type=int, default=SIZES[-1], help="largest list size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (best kept)")
    parser.add_argument("--field", choices=FIELDS, action="append", help="only this field (repeat)")
    args = parser.parse_args()
    sizes = [n for n in SIZES if n <= args.max]
    print(f"{'field':<16}{'items':>8}{'parse us/item':>16}{'export us/item':>16}")
    with tempfile.TemporaryDirectory(prefix="kg-bench-lists-") as tmp:
        for field in args.field or FIELDS:
            for n in sizes:
                parse_s, export_s = measure(field, n, args.repeat, Path(tmp))
                print(f"{field:<16}{n:>8}{parse_s / n * 1e6:>16.1f}{export_s / n * 1e6:>16.1f}", flush=True)


if __name__ == "__main__":
    main()
