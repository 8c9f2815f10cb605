"""XSD literal values for SHACL: well-formedness (`sh:datatype`) and comparison (`sh:min*`/`sh:max*`).

Why not rdflib's `Literal.toPython()`: it accepts some ill-formed lexical forms, normalises
others, and compares date-times with and without time zones inconsistently. SHACL needs:

- `sh:datatype`: a literal whose lexical form is not in the datatype's lexical space
  (`"2021-02-30"^^xsd:date`, `"aldi"^^xsd:integer`, `"300"^^xsd:byte`) does not conform;
- `sh:minInclusive` & co.: SPARQL's `<`/`<=` on values: numbers by value across numeric
  types (`NaN` compares with nothing), `xsd:dateTime` by instant (time zones and fractional
  seconds), strings by code point, booleans; anything else, or an ill-formed literal, is not
  comparable, which SHACL counts as a failure.

A date-time with a time zone and one without are not comparable here (XPath would guess an
implicit time zone); they count as a failure, like any other incomparable pair.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    "integer": (None, None),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
INTEGER_TYPES = frozenset(XSD + name for name in _INTEGER_RANGES)
DECIMAL = XSD + "decimal"
FLOAT_TYPES = frozenset({XSD + "float", XSD + "double"})
NUMERIC_TYPES = INTEGER_TYPES | FLOAT_TYPES | {DECIMAL}
STRING = XSD + "string"
BOOLEAN = XSD + "boolean"
DATETIME = XSD + "dateTime"
DATETIMESTAMP = XSD + "dateTimeStamp"
DATE = XSD + "date"

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_FLOAT = re.compile(r"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([Ee][+-]?[0-9]+)?|[+-]?INF|NaN)")
_TZ = r"(Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_YEAR = r"-?(?:[1-9][0-9]{3,}|0[0-9]{3})"
_DATETIME = re.compile(
    rf"({_YEAR})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T"
    rf"(?:([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9](?:\.[0-9]+)?)|(24):(00):(00(?:\.0+)?)){_TZ}"
)
_DATE = re.compile(rf"({_YEAR})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]){_TZ}")
_TIME = re.compile(rf"(?:([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?){_TZ}")
_PATTERNS: dict[str, re.Pattern[str]] = {
    XSD + "time": _TIME,
    XSD + "gYear": re.compile(rf"{_YEAR}{_TZ}"),
    XSD + "gYearMonth": re.compile(rf"{_YEAR}-(0[1-9]|1[0-2]){_TZ}"),
    XSD + "gMonth": re.compile(rf"--(0[1-9]|1[0-2]){_TZ}"),
    XSD + "gDay": re.compile(rf"---(0[1-9]|[12][0-9]|3[01]){_TZ}"),
    XSD + "gMonthDay": re.compile(rf"--(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]){_TZ}"),
    XSD + "duration": re.compile(
        r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
    ),
    XSD + "hexBinary": re.compile(r"([0-9a-fA-F]{2})*"),
    XSD + "base64Binary": re.compile(r"(?:[A-Za-z0-9+/] ?){0,}(?:=? ?){0,2}"),
}


def _valid_day(year: int, month: int, day: int) -> bool:
    # XSD years: 0000 is 1 BCE, a leap year like every multiple of 400
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return day <= days


def well_formed(lexical: str, datatype: str, language: str = "") -> bool:
    """Whether `lexical` is in the lexical space of `datatype` (unknown datatypes: True)."""
    if datatype == STRING:  # the most common case first
        return not language
    if datatype == RDF_LANGSTRING:
        return bool(language)
    if language:
        return False
    if datatype in INTEGER_TYPES:
        if not _INTEGER.fullmatch(lexical):
            return False
        low, high = _INTEGER_RANGES[datatype[len(XSD) :]]
        number = int(lexical)
        return (low is None or number >= low) and (high is None or number <= high)
    if datatype == DECIMAL:
        return bool(_DECIMAL.fullmatch(lexical))
    if datatype in FLOAT_TYPES:
        return bool(_FLOAT.fullmatch(lexical))
    if datatype == BOOLEAN:
        return lexical in ("true", "false", "1", "0")
    if datatype in (DATETIME, DATETIMESTAMP):
        match = _DATETIME.fullmatch(lexical)
        if match is None or (datatype == DATETIMESTAMP and match.group(10) is None):
            return False
        return _valid_day(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if datatype == DATE:
        match = _DATE.fullmatch(lexical)
        return match is not None and _valid_day(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    pattern = _PATTERNS.get(datatype)
    if pattern is not None:
        return bool(pattern.fullmatch(lexical))
    return True


#: Datatypes whose values `comparable` knows: a bound of any other datatype is not handled.
COMPARABLE_TYPES = NUMERIC_TYPES | {STRING, BOOLEAN, DATETIME, DATETIMESTAMP, DATE}


def _tz_minutes(tz: str | None) -> int | None:
    if not tz:
        return None
    if tz == "Z":
        return 0
    sign = -1 if tz[0] == "-" else 1
    return sign * (int(tz[1:3]) * 60 + int(tz[4:6]))


def _instant(lexical: str, datatype: str) -> tuple[bool, Decimal] | None:
    """(has a time zone, seconds since 0001-01-01 in UTC when it has one) of a date/dateTime."""
    if datatype == DATE:
        match = _DATE.fullmatch(lexical)
        if match is None:
            return None
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
        hour, minute, second, tz = 0, 0, Decimal(0), match.group(4)
    else:
        match = _DATETIME.fullmatch(lexical)
        if match is None:
            return None
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if match.group(7):  # 24:00:00 is the first instant of the next day
            hour, minute, second = 24, 0, Decimal(0)
        else:
            hour, minute, second = int(match.group(4)), int(match.group(5)), Decimal(match.group(6))
        tz = match.group(10)
    if not _valid_day(year, month, day):
        return None
    # days from a fixed origin, valid for any year (proleptic Gregorian)
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe
    seconds = Decimal(days * 86400 + hour * 3600 + minute * 60) + second
    offset = _tz_minutes(tz)
    if offset is not None:
        seconds -= offset * 60
    return offset is not None, seconds


def _value(lexical: str, datatype: str) -> tuple[str, Any] | None:
    """(kind, comparable value) of a literal, or None when it has no comparable value."""
    if not well_formed(lexical, datatype):
        return None
    if datatype in INTEGER_TYPES or datatype == DECIMAL:
        try:
            return "decimal", Decimal(lexical)
        except InvalidOperation:
            return None
    if datatype in FLOAT_TYPES:
        text = {"INF": "inf", "+INF": "inf", "-INF": "-inf"}.get(lexical, lexical)
        return "float", float(text)
    if datatype == STRING:
        return "string", lexical
    if datatype == BOOLEAN:
        return "boolean", lexical in ("true", "1")
    if datatype in (DATETIME, DATETIMESTAMP):
        instant = _instant(lexical, DATETIME)
        return None if instant is None else ("dateTime", instant)
    if datatype == DATE:
        instant = _instant(lexical, DATE)
        return None if instant is None else ("date", instant)
    return None


def compare(value: tuple[str, str, str], bound: tuple[str, str, str]) -> int | None:
    """-1/0/1 comparing two literals (lexical, datatype, language) by value; None: not comparable."""
    if value[2] or bound[2]:
        return None
    a, b = _value(value[0], value[1]), _value(bound[0], bound[1])
    if a is None or b is None:
        return None
    kind_a, va = a
    kind_b, vb = b
    if kind_a in ("decimal", "float") and kind_b in ("decimal", "float"):
        if kind_a == "float" or kind_b == "float":
            fa, fb = float(va), float(vb)
            if math.isnan(fa) or math.isnan(fb):
                return None
            return (fa > fb) - (fa < fb)
        return int(va > vb) - int(va < vb)
    if kind_a != kind_b:
        return None
    if kind_a in ("dateTime", "date"):
        (tz_a, sa), (tz_b, sb) = va, vb
        if tz_a != tz_b:
            return None
        return int(sa > sb) - int(sa < sb)
    return int(va > vb) - int(va < vb)


__all__ = ["COMPARABLE_TYPES", "compare", "well_formed"]
