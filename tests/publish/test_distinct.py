"""Distinct keys counted exactly in bounded memory (kg.publish.distinct): the counts equal those
of plain sets however the keys are spilled, and void.ttl is the same bytes when they are."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.pipeline.export import export
from kg.publish import distinct, void
from kg.publish.distinct import Distinct
from tests.conftest import EXAMPLES

keys = st.lists(st.tuples(st.integers(0, 3), st.binary(max_size=40)), max_size=300)


@settings(max_examples=60, deadline=None)
@given(keys, st.integers(1, 20), st.integers(1, 5))
def test_counts_equal_those_of_sets_however_keys_are_spilled(
    items: list[tuple[int, bytes]], limit: int, parts: int
) -> None:
    counter = Distinct(limit=limit, parts=parts)
    held: dict[int, set[bytes]] = {group: set() for group in range(4)}
    for n, (group, key) in enumerate(items):
        held[group].add(key)
        if n % 7 == 0:  # the caller looks now and then, as void.py does
            counter.check(held)
    expected = {group: len({k for g, k in items if g == group}) for group in range(4)}
    counts = counter.counts(held)
    assert {group: counts[group] for group in range(4)} == expected


def test_a_key_seen_before_and_after_a_spill_counts_once() -> None:
    counter = Distinct(limit=2, parts=3)
    held = {0: {b"a", b"b", b"c"}}
    counter.check(held)  # 3 > 2: spilled
    assert held[0] == set()
    held[0].update({b"a", b"d"})
    assert counter.counts(held)[0] == 4


@pytest.mark.parametrize("formats", [["ntriples"], ["nquads"], ["jsonld"]])
def test_void_is_the_same_bytes_when_the_keys_go_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, formats: list[str]
) -> None:
    """The examples' statistics with every key spilled (a limit of 10) equal those held in sets;
    each format the statistics can be read from, alone."""
    export([EXAMPLES], tmp_path / "held", formats)
    monkeypatch.setattr(distinct, "LIMIT", 10)
    monkeypatch.setattr(void, "_CHECK_EVERY", 0x7)  # look at the sets every 8 triples
    spills: list[int] = []
    real = Distinct._spill
    monkeypatch.setattr(Distinct, "_spill", lambda self, groups: (spills.append(1), real(self, groups)))
    export([EXAMPLES], tmp_path / "spilled", formats, full=True)
    held, spilled = (tmp_path / d / "void.ttl" for d in ("held", "spilled"))
    assert spilled.read_bytes() == held.read_bytes()
    assert len(spills) > 10  # the keys did go to disk, many times
    shutil.rmtree(tmp_path / "spilled")
