"""The manifest's format (`MANIFEST_FORMAT`, the per-file `COLUMNS` and their types) and
`check_manifest`, which checks a manifest read back against it, down to every item, so that
readers can trust the types. Pure: touches no file.
"""

from __future__ import annotations

import json
from itertools import chain
from typing import Any

MANIFEST_FORMAT = 2
#: The per-file columns of the manifest's `files` table (one list per key, one item per file).
COLUMNS = ("path", "sha256", "stamp", "status", "reason", "graph", "digest", "own", "quads", "shared")


def _json_kind(value: object) -> str:
    """How a JSON value is called in a message: `5 (a number)`."""
    kind = {
        type(None): "null",
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
    shown = json.dumps(value)
    return kind if len(shown) > 40 else f"{shown} ({kind})"


_NONE = type(None)
#: The per-file columns' item types as the manifest's readers use them.
_COLUMN_TYPES: dict[str, tuple[set[type], str]] = {
    "path": ({str}, "a string"),
    "sha256": ({str, _NONE}, "a string or null"),
    "status": ({str}, "a string"),
    "reason": ({str, _NONE}, "a string or null"),
    "graph": ({str, _NONE}, "a string or null"),
    "digest": ({str, _NONE}, "a string or null"),
    "own": ({int}, "a number"),
    "quads": ({int}, "a number"),
    "shared": ({str}, "a string"),
}
#: Output format columns of `files`: [offset, length] of each file's block, or null.
_FORMAT_COLUMNS = ("turtle", "jsonld", "ntriples", "nquads")


def _ints(value: object, count: int) -> bool:
    """`value` is a list of `count` non-negative integers (not booleans)."""
    return type(value) is list and len(value) == count and all(type(n) is int and n >= 0 for n in value)


def check_manifest(manifest: dict[str, Any]) -> str | None:
    """What is structurally wrong in `manifest` (a JSON object of format 2), or None.

    Checks every part a reader uses, with its type, down to each item of the per-file columns
    (~15 ms for 10k files), so that a damaged manifest is refused when read, with the place
    named (`files.graph[2] is 5 (a number), expected a string or null`), instead of making
    a reader fail later with a traceback. The values of `files.shared` (strings of indices into
    `shared`, ~1 MB at 10k files: a regular expression over them took 80 ms) are checked where
    they are parsed (`Previous.seed`, `Recorder`'s renumbering), which raise a `ManifestError` too.
    """
    for key, kind, expected in (
        ("export", str, "a string"),
        ("graphs", dict, "an object"),
        ("changes", dict, "an object"),
        ("settings", dict, "an object"),
        ("outputs", dict, "an object"),
        ("files", dict, "an object"),
        ("shared", list, "a list"),
        ("shared_refs", list, "a list"),
    ):
        if key not in manifest:
            return f"{key} is missing"
        if type(manifest[key]) is not kind:
            return _wrong(key, manifest[key], expected)
    for graph, digest in manifest["graphs"].items():
        if type(digest) is not str:
            return _wrong(f"graphs[{json.dumps(graph)}]", digest, "a string")
    changes = manifest["changes"]
    for key in ("added", "changed", "removed"):
        value = changes.get(key, [])
        if type(value) is not list or not all(type(g) is str for g in value):
            return _wrong(f"changes.{key}", value, "a list of strings")
    if type(changes.get("from")) not in (str, _NONE):
        return _wrong("changes.from", changes.get("from"), "a string or null")
    blocks = manifest.get("graph_blocks", {})
    if type(blocks) is not dict or not all(_ints(where, 2) for where in blocks.values()):
        return _wrong("graph_blocks", blocks, "an object of [offset, length]")
    for name, info in manifest["outputs"].items():
        if type(info) is not dict or not all(type(info.get(k)) is int for k in ("size", "mtime_ns")):
            return _wrong(f"outputs[{json.dumps(name)}]", info, "an object with size and mtime_ns")
    return _check_shared(manifest["shared"], manifest["shared_refs"]) or _check_files(manifest["files"])


def _wrong(where: str, value: object, expected: str) -> str:
    return f"{where} is {_json_kind(value)}, expected {expected}"


def _check_shared(shared: list[Any], refs: list[Any]) -> str | None:
    """`check_manifest` for the table of shared triples and its counts."""
    for i, triple in enumerate(shared):
        if not (
            type(triple) is list
            and len(triple) == 3
            and type(triple[0]) is str
            and type(triple[1]) is str
            and (
                type(triple[2]) is str
                or (
                    type(triple[2]) is list
                    and 1 <= len(triple[2]) <= 3
                    and all(type(part) is str for part in triple[2])
                )
            )
        ):
            return _wrong(f"shared[{i}]", triple, "[subject, predicate, object]")
    if len(refs) != len(shared) or set(map(type, refs)) - {int}:
        return "shared_refs does not match shared (one count per shared triple)"
    return None


def _check_files(files: dict[str, Any]) -> str | None:
    """`check_manifest` for the per-file table `files`."""
    for key in (*COLUMNS, "problems"):
        if key not in files:
            return f"files.{key} is missing"
        if type(files[key]) is not list:
            return _wrong(f"files.{key}", files[key], "a list")
    count = len(files["path"])
    formats = [name for name in _FORMAT_COLUMNS if name in files]
    for key in (*COLUMNS, *formats):
        column = files[key]
        if type(column) is not list:
            return _wrong(f"files.{key}", column, "a list")
        if len(column) != count:
            return f"files.{key} has {len(column)} items, files.path {count}"
    for key, (types, expected) in _COLUMN_TYPES.items():
        column = files[key]
        if set(map(type, column)) - types:
            i = next(i for i, value in enumerate(column) if type(value) not in types)
            return _wrong(f"files.{key}[{i}]", column[i], expected)
    lists = [("stamp", 4, "[size, mtime, ctime, inode] or null")]
    lists += [(name, 2, "[offset, length] or null") for name in formats]
    for key, size, expected in lists:
        if not _all_int_lists(files[key], size):
            i, value = next((i, v) for i, v in enumerate(files[key]) if v is not None and not _ints(v, size))
            return _wrong(f"files.{key}[{i}]", value, expected)
    for n, item in enumerate(files["problems"]):
        if not (
            type(item) is list
            and len(item) == 2
            and type(item[0]) is int
            and 0 <= item[0] < count
            and type(item[1]) is list
            and all(type(problem) is dict for problem in item[1])
        ):
            return _wrong(f"files.problems[{n}]", item, "[row, [problem, ...]]")
    return None


def _all_int_lists(column: list[Any], size: int) -> bool:
    """Every item of `column` is null or a list of `size` non-negative integers (`_ints`).

    Checked with C loops (map, set, chain): a Python loop over the items took ~25 ms per
    10k-file column, and an incremental export of 10k files checks five such columns.
    """
    present = [value for value in column if value is not None]
    if set(map(type, present)) - {list} or set(map(len, present)) - {size}:
        return False
    numbers = list(chain.from_iterable(present))
    return not set(map(type, numbers)) - {int} and (not numbers or min(numbers) >= 0)
