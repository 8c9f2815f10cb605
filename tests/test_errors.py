"""A user's value in a message: `repr`, bounded, its start and end kept."""

from __future__ import annotations

from kg.errors import bounded


def test_short_values_are_their_repr() -> None:
    assert bounded("a 'quoted'\nvalue") == repr("a 'quoted'\nvalue")
    assert bounded(["a", 1]) == "['a', 1]"


def test_long_text_keeps_its_start_and_end_in_one_bounded_line() -> None:
    text = "start " + "x" * 10_000 + "\n the end"
    shown = bounded(text)
    assert shown.startswith("'start xx") and shown.endswith("\\n the end'") and "..." in shown
    assert len(shown) <= 100 and "\n" not in shown


def test_big_containers_show_their_first_items() -> None:
    assert bounded(list(range(1000))) == "[0, 1, 2, 3, 4, 5, ...]"
