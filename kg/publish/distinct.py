"""Exact counts of distinct keys in bounded memory, for the dataset description's statistics.

`void.ttl` counts distinct subjects, distinct objects and, per property, distinct objects. Held
in sets, those keys grow with the export: describing a 50,000-curation export took ~190 MB of
its 303 MB peak. `Distinct` keeps the caller's sets while they are small (counts exact on the
keys themselves); past `limit` keys in all, it moves every key to disk, as a 2-byte group and
a 16-byte BLAKE2b digest of the key, into one of `PARTS` temporary files chosen by the digest,
and the caller's sets start again empty. At the end each file is read back alone and its
records counted with a set: the files hold disjoint keys (a key's digest picks its file), so
the counts add up, and only one file's records are in memory at a time. Two keys count as one
only if their 128-bit digests collide (about 1 in 10^28 for a billion keys).
Touches only its own unnamed temporary files (gone when closed or when the process ends).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter
from collections.abc import Mapping
from typing import IO

#: Keys held in the caller's sets before they go to disk (~100 bytes each in a Python set).
LIMIT = 500_000
#: Files the spilled keys are spread over; one is read back at a time.
PARTS = 64
_DIGEST = 16
_RECORD = 2 + _DIGEST


class Distinct:
    """Distinct keys in numbered groups (subjects, objects, each property's objects...), counted
    exactly; the caller adds keys to plain sets (fast) and calls `check` now and then."""

    def __init__(self, limit: int | None = None, parts: int = PARTS) -> None:
        self.limit = LIMIT if limit is None else limit  # (read at construction: tests set LIMIT)
        self.parts = parts
        self._files: list[IO[bytes]] | None = None  # None: nothing spilled yet

    def check(self, groups: Mapping[int, set[bytes]]) -> None:
        """Move the keys of `groups` (group number -> the caller's set) to disk when they hold
        more than `limit` keys in all, emptying the sets."""
        if sum(len(keys) for keys in groups.values()) > self.limit:
            self._spill(groups)

    def counts(self, groups: Mapping[int, set[bytes]]) -> Counter[int]:
        """Distinct keys per group, of all the keys ever in `groups` (the last ones included)."""
        if self._files is None:
            return Counter({group: len(keys) for group, keys in groups.items()})
        self._spill(groups)
        counts: Counter[int] = Counter()
        for handle in self._files:
            handle.seek(0)
            data = handle.read()
            records = {data[i : i + _RECORD] for i in range(0, len(data), _RECORD)}
            counts.update(int.from_bytes(record[:2], "big") for record in records)
            handle.close()
        self._files = None
        return counts

    def _spill(self, groups: Mapping[int, set[bytes]]) -> None:
        if self._files is None:
            self._files = [tempfile.TemporaryFile() for _ in range(self.parts)]  # noqa: SIM115 - closed in counts
        out: list[list[bytes]] = [[] for _ in range(self.parts)]
        parts, digest = self.parts, hashlib.blake2b
        for group, keys in groups.items():
            tag = group.to_bytes(2, "big")
            for key in keys:
                record = digest(key, digest_size=_DIGEST).digest()
                out[record[0] % parts].append(tag + record)
            keys.clear()
        for handle, records in zip(self._files, out, strict=True):
            handle.write(b"".join(records))
