"""The manifest's per-file columns as they are collected (`Column`, spilled to an unnamed
temporary file as it grows) and the compact JSON writing the manifest uses. Writes only the
temporary files and the handle it is given.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import IO, Any


class Column:
    """One per-file column of the manifest, spilled to an unnamed temporary file as it grows.

    Values are kept in memory in batches of `BATCH`; each full batch is written as one line,
    the JSON text of the batch without its brackets (JSON text holds no raw newline). Written
    back, the lines joined by "," are exactly `json.dumps(column, separators=(",", ":"))`, so
    the parent's memory for the manifest does not grow with the number of files.
    """

    BATCH = 16384  # (~6 MB of a full export's values; a 10k-file export spills nothing)

    def __init__(self, spill_dir: str | None) -> None:
        self.spill_dir = spill_dir
        self.batch: list[Any] = []
        self.spill: IO[bytes] | None = None

    def extend(self, values: Iterable[Any]) -> None:
        self.batch.extend(values)
        if len(self.batch) >= self.BATCH:
            self._spill()

    def _spill(self) -> None:
        if not self.batch:
            return
        if self.spill is None:
            # no name (O_TMPFILE on Linux); closed by `close` or, on an error, with the Recorder
            self.spill = tempfile.TemporaryFile(dir=self.spill_dir)  # noqa: SIM115
        self.spill.write(compact_json(self.batch)[1:-1].encode("utf-8") + b"\n")
        self.batch = []

    def batches(self) -> Iterator[list[Any]]:
        """The column's values, batch by batch, in order."""
        if self.spill is not None:
            self.spill.seek(0)
            for line in self.spill:
                yield json.loads(b"[" + line[:-1] + b"]")
        if self.batch:
            yield self.batch

    def write(self, handle: IO[bytes]) -> None:
        """Write the column as a JSON array (compact separators)."""
        handle.write(b"[")
        first = True
        if self.spill is not None:
            self.spill.flush()
            self.spill.seek(0)
            for line in self.spill:
                handle.write(line[:-1] if first else b"," + line[:-1])
                first = False
        if self.batch:
            text = compact_json(self.batch)[1:-1].encode("utf-8")
            handle.write(text if first else b"," + text)
        handle.write(b"]")

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
            self.spill = None


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_items(handle: IO[bytes], items: Iterable[Any], open_: str, close: str, batch: int = 4096) -> None:
    """Write `items` as `json.dumps` would write the list (`[]`) or dict (`{}`) of them, compactly,
    a batch at a time (`items` of a dict are (key, value) pairs)."""
    handle.write(open_.encode())
    first = True
    it = iter(items)
    while chunk := list(islice(it, batch)):
        text = compact_json(dict(chunk) if open_ == "{" else chunk)[1:-1].encode("utf-8")
        handle.write(text if first else b"," + text)
        first = False
    handle.write(close.encode())
