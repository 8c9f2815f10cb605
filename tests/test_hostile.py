"""Hostile input: property-based front matter, hostile names, and the N-Triples escaper."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kg.terms import _ESCAPES, escape_lexical

# The reference escaper: one table lookup per character (what kg did before; slow on 20 MB).
_REFERENCE = str.maketrans({**{chr(c): f"\\u{c:04X}" for c in range(0x20)}, "\x7f": "\\u007F", **_ESCAPES})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters() | st.characters(categories=["Cs", "Cc"]), max_size=80))
def test_escape_lexical_equals_the_per_character_table(text: str) -> None:
    assert escape_lexical(text) == text.translate(_REFERENCE)
