"""Units for the value normalisers: dates, topics, URLs, text."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from types import FrameType

import pytest

from kg.model import Temporal, Topic
from kg.rdf.iri import is_valid_iri, segment, to_iri
from kg.read import normalize as nz


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-09-08T13:29:57.872538Z", Temporal("2020-09-08T13:29:57.872538Z", "dateTime")),
        ("2020-09-08T13:29:57Z", Temporal("2020-09-08T13:29:57Z", "dateTime")),
        ("2020-09-08T13:29:57.100000+02:00", Temporal("2020-09-08T13:29:57.1+02:00", "dateTime")),
        ("2021-03-04 17:30:00", Temporal("2021-03-04T17:30:00", "dateTime")),
        ("2021-03-04", Temporal("2021-03-04", "date")),
        (dt.date(2021, 3, 4), Temporal("2021-03-04", "date")),
        (dt.datetime(2021, 3, 4, 17, 30), Temporal("2021-03-04T17:30:00", "dateTime")),
        (
            dt.datetime(2021, 3, 4, 17, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            Temporal("2021-03-04T17:30:00-05:00", "dateTime"),
        ),
        ("", None),
        (None, None),
    ],
)
def test_temporal_normalises_iso_forms(raw: object, expected: Temporal | None) -> None:
    assert nz.temporal(raw) == expected


@pytest.mark.parametrize("raw", ["2021-02-30", "2021-13-01", "yesterday", "2021-02-30T10:00:00Z"])
def test_temporal_rejects_impossible_dates(raw: str) -> None:
    with pytest.raises(nz.FieldError):
        nz.temporal(raw)


@pytest.mark.parametrize("raw", [["2021-01-01"], {"a": 1}, 3.5, True])
def test_temporal_rejects_wrong_types(raw: object) -> None:
    with pytest.raises(nz.FieldError):
        nz.temporal(raw)


def test_topic_split_at_first_colon_space() -> None:
    assert nz.topic("KLAS: Telehealth") == Topic("KLAS", "Telehealth")
    assert nz.topic("Gartner: Hype: Cycle") == Topic("Gartner", "Hype: Cycle")
    assert nz.topic("Remote Patient Monitoring") == Topic(None, "Remote Patient Monitoring")
    assert nz.topic("Symplur: -hash-COVID19") == Topic("Symplur", "#COVID19")
    assert nz.topic("   ") is None
    assert nz.topic("Time:12") == Topic(None, "Time:12")


def test_topics_unite_community_topics_with_medigy_json() -> None:
    got = nz.topics(
        ["KLAS: Telehealth", "Symplur: -hash-COVID19"],
        '["Symplur: #COVID19", "Medigy: Telemedicine"]',
    )
    assert got == [
        Topic("KLAS", "Telehealth"),
        Topic("Symplur", "#COVID19"),
        Topic("Medigy", "Telemedicine"),
    ]
    assert nz.topics(None, None) == []
    with pytest.raises(nz.FieldError):
        nz.topics([], "[not json")


def test_text_trims_and_treats_empty_as_absent() -> None:
    assert nz.text("  Title \n") == "Title"
    assert nz.text("") is None
    assert nz.text(None) is None
    assert nz.text(2020) == "2020"
    with pytest.raises(nz.FieldError, match="a list"):
        nz.text(["a", "b"])
    with pytest.raises(nz.FieldError, match="boolean"):
        nz.text(True)


def test_lone_surrogates_are_replaced() -> None:
    assert nz.text("a\ud800b") == "a\ufffdb"


def test_url_percent_encodes_illegal_characters() -> None:
    got = nz.url("https://example.org/annual report|2021.pdf?q=<x>")
    assert got == "https://example.org/annual%20report%7C2021.pdf?q=%3Cx%3E"
    assert got is not None and is_valid_iri(got)
    assert nz.url("") is None
    assert nz.url(None) is None
    for bad in ("www.example.org", "javascript:alert(1)", "file:///etc/passwd"):
        with pytest.raises(nz.FieldError):
            nz.url(bad)


def test_to_iri_keeps_valid_iris_unchanged() -> None:
    iri = "https://jamanetwork.com/channels/health-forum/fullarticle/2774454?resultClick=1"
    assert to_iri(iri) == iri
    assert to_iri("https://a.org/%41%zz") == "https://a.org/%41%25zz"
    assert to_iri("https://a.org/x#y#z") == "https://a.org/x#y%23z"


def test_segment_is_injective_and_readable() -> None:
    assert segment("Telehealth") == "Telehealth"
    assert segment("Frost & Sullivan") == "Frost_%26_Sullivan"
    assert segment("a b") != segment("a_b")
    assert segment("#COVID19") != segment("COVID19")
    assert segment("..") == "%2E%2E"


def test_dimensions() -> None:
    assert nz.dimensions([225, 300]) == (225, 300)
    assert nz.dimensions(None) == (None, None)
    for bad in ([0, 10], [1], "10x10", [1, "x"]):
        with pytest.raises(nz.FieldError):
            nz.dimensions(bad)


def _reference_dedup(items: list[object]) -> list[object]:
    """What kg did before (first appearance kept): a membership test on the list, quadratic."""
    out: list[object] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def test_list_fields_keep_first_appearance_and_drop_repeats() -> None:
    raw = ["b", " a ", "b", "", None, "c", "a", 7, "7", "B"]
    assert nz.text_list(raw) == _reference_dedup([t for t in (nz.text(v) for v in raw) if t is not None])
    assert nz.text_list(raw) == ["b", "a", "c", "7", "B"]
    topics = ["X: a", "a", "X: -hash-b", "X: #b", "a", "Y: a", "X: a"]
    assert nz.topics(topics, '["Y: a", "Z: c", "a"]') == [
        Topic("X", "a"),
        Topic(None, "a"),
        Topic("X", "#b"),
        Topic("Y", "a"),
        Topic("Z", "c"),
    ]


def _eq_calls(fn: Callable[[], object]) -> int:
    """How many Python-level `__eq__` calls running `fn` makes (Topic's is a Python function)."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call" and frame.f_code.co_name == "__eq__":
            calls += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def test_topic_repeats_are_found_without_comparing_every_pair() -> None:
    """Issue 13: 10,000 topics took 7 s, 50 million `Topic.__eq__` calls (each new topic was
    compared with every one kept). Found by hashing, a topic is compared only with an equal
    one: at most one comparison per repeat, so the count grows linearly (the time is in
    bench/lists.py, not asserted here)."""
    for n in (500, 2000):
        items = [f"S{i % 7}: topic {i}" for i in range(n)]
        repeats = items[::10]
        calls = _eq_calls(lambda: nz.topics(items + repeats, None))  # noqa: B023 - called at once
        assert calls <= len(repeats), (n, calls)


@pytest.mark.parametrize(
    "value", ["Telehealth", "Frost & Sullivan", "a_b", "é€\U0001f600 x/y%", "\x00\x7f~.-"]
)
def test_the_iri_size_check_measures_what_segment_writes(value: str) -> None:
    assert nz._segment_size(value) == len(segment(value))


def test_values_over_the_term_limit_are_field_errors() -> None:
    limit = nz.MAX_TERM_BYTES
    assert nz.text("x" * limit) == "x" * limit
    assert nz.body("\x01" * (limit // 6)) is not None  # 6 bytes each, written as \\u0001
    for too_large in (
        lambda: nz.text("x" * (limit + 1)),
        lambda: nz.body("\x01" * (limit // 6 + 1)),
        lambda: nz.name("é" * (limit // 6 + 1)),  # the literal is small, the IRI segment is not
        lambda: nz.topics(["S: " + "é" * (limit // 6 + 1)], None),
        lambda: nz.text_list(["ok", "é" * (limit // 6 + 1)], nz.name),
        lambda: nz.url("https://x.org/" + "é" * (limit // 6 + 1)),
        lambda: nz.href("a/" * (limit // 2 + 1)),
        lambda: nz.integer("1" * 5000),
    ):
        with pytest.raises(nz.FieldError):
            too_large()
