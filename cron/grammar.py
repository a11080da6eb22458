"""The grammar of App Engine cron schedules, as the Google Cloud SDK parses them.

A schedule is either an interval or a time on chosen days:

    every 5 minutes                          every 2 hours synchronized
    every 30 mins from 22:00 to 02:00        every day 09:00
    every mon,wed 09:00                      1st,third mon of sep,oct 17:00
    1,15 of month 09:00                      2nd day of quarter 00:00
    first sun of 2nd,3rd month of quarter 08:00

Words are lower case and may run together ("everyday 09:00" parses), numbers have
at most five digits, and a lexeme that starts a word must finish it ("tues" and
"sept" are errors). All of this mirrors the ANTLR grammar that `gcloud app deploy`
validates cron.yaml with, so what parses here passes that validation too.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["CalendarSpec", "IntervalSpec", "ScheduleError", "ScheduleSpec", "parse_spec"]


class ScheduleError(ValueError):
    """A cron schedule or time zone that App Engine would refuse."""


@dataclass(frozen=True)
class IntervalSpec:
    """`every N minutes|hours`, optionally only inside a daily window of local time.

    `synchronized` is the window 00:00-23:59, exactly as Google implements it.
    """

    period: dt.timedelta
    window: tuple[dt.time, dt.time] | None


@dataclass(frozen=True)
class CalendarSpec:
    """A local time of day on the days picked by months plus weekdays or month days."""

    at: dt.time
    months: frozenset[int]  # 1 is January
    weekdays: frozenset[int]  # 0 is Monday, as date.weekday()
    ordinals: frozenset[int]  # which occurrences of those weekdays in the month, 1-5
    monthdays: frozenset[int]  # replaces weekdays and ordinals when not empty


ScheduleSpec = IntervalSpec | CalendarSpec

ALL_MONTHS = frozenset(range(1, 13))
_ALL_WEEKDAYS = frozenset(range(7))
_ALL_ORDINALS = frozenset(range(1, 6))
_QUARTER_STARTS = (1, 4, 7, 10)

_ORDINALS = ("1st first", "2nd second", "3rd third", "4th fourth", "5th fifth")
_WEEKDAYS = (
    "mon monday",
    "tue tuesday",
    "wed wednesday",
    "thu thursday",
    "fri friday",
    "sat saturday",
    "sun sunday",
)
_MONTHS = (
    "jan january",
    "feb february",
    "mar march",
    "apr april",
    "may",
    "jun june",
    "jul july",
    "aug august",
    "sep september",
    "oct october",
    "nov november",
    "dec december",
)
_KEYWORDS = "every of day month quarter hours minutes synchronized from to"


def _vocabulary() -> dict[str, tuple[str, int]]:
    """Every word the lexer knows, with its token kind and value."""
    words = {word: (word, 0) for word in _KEYWORDS.split()}
    words["mins"] = ("minutes", 0)
    words[","] = (",", 0)
    for kind, spellings, first_value in (
        ("ordinal", _ORDINALS, 1),
        ("weekday", _WEEKDAYS, 0),
        ("month_name", _MONTHS, 1),
    ):
        for value, names in enumerate(spellings, start=first_value):
            for name in names.split():
                words[name] = (kind, value)
    return words


_WORDS = _vocabulary()

# Every token spelling as a shape: one string of allowed characters per position.
_Shape = tuple[str, ...]
_DIGIT = "0123456789"
_TIME_SHAPES: tuple[_Shape, ...] = (
    (_DIGIT, ":", "012345", _DIGIT),
    ("01", _DIGIT, ":", "012345", _DIGIT),
    ("2", "0123", ":", "012345", _DIGIT),
)
_NUMBER_SHAPES: tuple[_Shape, ...] = tuple((_DIGIT,) * length for length in range(1, 6))
_SHAPES = _TIME_SHAPES + _NUMBER_SHAPES + tuple(tuple(word) for word in _WORDS)
_WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    value: int
    column: int


def _prefix_length(text: str, start: int, shape: _Shape) -> int:
    """How many characters of `text` from `start` fit the beginning of `shape`."""
    length = 0
    while length < len(shape) and text[start + length : start + length + 1] in shape[length]:
        length += 1
    return length


def _fits(lexeme: str, shapes: tuple[_Shape, ...]) -> bool:
    return any(len(lexeme) == _prefix_length(lexeme, 0, shape) == len(shape) for shape in shapes)


def _classify(lexeme: str) -> tuple[str, int] | None:
    if lexeme in _WORDS:
        return _WORDS[lexeme]
    if _fits(lexeme, _TIME_SHAPES):
        return ("time", 0)
    if _fits(lexeme, _NUMBER_SHAPES):
        return ("number", int(lexeme))
    return None


def _tokenize(text: str) -> list[_Token]:
    # Like ANTLR's lexer, take the longest text that could still begin some token
    # and never back off: "mond" is an error, not "mon" then "d".
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position] in _WHITESPACE:
            position += 1
            continue
        length = max(_prefix_length(text, position, shape) for shape in _SHAPES)
        lexeme = text[position : position + length]
        classified = _classify(lexeme) if lexeme else None
        if classified is None:
            word = re.match(r"[^\s,]+", text[position:])
            shown = word[0] if word else text[position]
            raise ScheduleError(f"unrecognised {shown!r} at column {position + 1}")
        kind, value = classified
        tokens.append(_Token(kind, lexeme, value, position + 1))
        position += length
    return tokens


class _Cursor:
    """Reads tokens left to right; every failed expectation becomes a ScheduleError."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self, ahead: int = 0) -> str:
        index = self.index + ahead
        return self.tokens[index].kind if index < len(self.tokens) else "end"

    def skip(self, kind: str) -> bool:
        if self.peek() != kind:
            return False
        self.index += 1
        return True

    def take(self, *kinds: str, expected: str) -> _Token:
        if self.peek() not in kinds:
            raise self._unexpected(expected)
        self.index += 1
        return self.tokens[self.index - 1]

    def finish(self) -> None:
        if self.index < len(self.tokens):
            raise self._unexpected("the end of the schedule")

    def _unexpected(self, expected: str) -> ScheduleError:
        if self.index == len(self.tokens):
            return ScheduleError(f"expected {expected}, found the end")
        found = self.tokens[self.index]
        return ScheduleError(f"expected {expected}, found {found.text!r} at column {found.column}")

    def take_list(self, kind: str, expected: str) -> list[int]:
        """`item` or `item,item,...`"""
        values = [self.take(kind, expected=expected).value]
        while self.skip(","):
            values.append(self.take(kind, expected=expected).value)
        return values


def parse_spec(text: str) -> ScheduleSpec:
    """Parse a cron.yaml `schedule`; raises ScheduleError naming what is wrong."""
    try:
        cursor = _Cursor(text)
        is_interval = cursor.peek() == "every" and cursor.peek(1) == "number"
        spec = _parse_interval(cursor) if is_interval else _parse_calendar(cursor)
        cursor.finish()
    except ScheduleError as error:
        raise ScheduleError(f"schedule {text!r}: {error}") from None
    return spec


def _parse_interval(cursor: _Cursor) -> IntervalSpec:
    cursor.take("every", expected="'every'")
    count = cursor.take("number", expected="a number").value
    unit = cursor.take("minutes", "hours", expected="'minutes', 'mins' or 'hours'").kind
    if count < 1:
        raise ScheduleError("the interval must be at least 1")
    period = dt.timedelta(hours=count) if unit == "hours" else dt.timedelta(minutes=count)
    if cursor.skip("synchronized"):
        if dt.timedelta(days=1) % period:
            raise ScheduleError("synchronized needs an interval that divides 24 hours evenly")
        return IntervalSpec(period, window=(dt.time(0, 0), dt.time(23, 59)))
    if cursor.skip("from"):
        opens = _time(cursor.take("time", expected="a start time like 09:00"))
        cursor.take("to", expected="'to'")
        closes = _time(cursor.take("time", expected="an end time like 17:00"))
        return IntervalSpec(period, window=(opens, closes))
    return IntervalSpec(period, window=None)


def _parse_calendar(cursor: _Cursor) -> CalendarSpec:
    months = ALL_MONTHS
    if cursor.peek() == "number":
        monthdays = frozenset(cursor.take_list("number", "a day of the month"))
        ordinals = weekdays = frozenset[int]()
        cursor.take("of", expected="'of'")
        months = _parse_months(cursor)
    else:
        ordinals, weekdays, monthdays = _parse_days(cursor)
        if cursor.skip("of"):
            months = _parse_months(cursor)
    at = _time(cursor.take("time", expected="a time like 09:00"))
    _check_monthdays(monthdays, months)
    return CalendarSpec(at, months, weekdays, ordinals, monthdays)


def _parse_days(cursor: _Cursor) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
    """`every` or `1st,3rd`, then `day` or `mon,wed`: (ordinals, weekdays, monthdays)."""
    ordinals = frozenset[int]()
    if not cursor.skip("every"):
        ordinals = frozenset(cursor.take_list("ordinal", "'every' or an ordinal like 1st"))
    if cursor.skip("day"):
        # "every day" is every day, but "1st,2nd day" means days of the month.
        if ordinals:
            return frozenset(), frozenset(), ordinals
        return _ALL_ORDINALS, _ALL_WEEKDAYS, frozenset()
    weekdays = frozenset(cursor.take_list("weekday", "'day' or a weekday like mon"))
    return ordinals or _ALL_ORDINALS, weekdays, frozenset()


def _parse_months(cursor: _Cursor) -> frozenset[int]:
    """What follows `of`: `month`, `jan,feb`, `quarter` or `1st,3rd month of quarter`."""
    if cursor.skip("month"):
        return ALL_MONTHS
    if cursor.skip("quarter"):
        return _quarter(1)
    if cursor.peek() == "month_name":
        return frozenset(cursor.take_list("month_name", "a month like jan"))
    expected = "'month', 'quarter', a month like jan, or 1st, 2nd or 3rd"
    months_of_quarter = cursor.take_list("ordinal", expected)
    if max(months_of_quarter) > 3:
        raise ScheduleError("a quarter has only a 1st, 2nd and 3rd month")
    cursor.take("month", expected="'month'")
    cursor.take("of", expected="'of'")
    cursor.take("quarter", expected="'quarter'")
    return frozenset[int]().union(*(_quarter(month) for month in months_of_quarter))


def _quarter(month_of_quarter: int) -> frozenset[int]:
    return frozenset(first + month_of_quarter - 1 for first in _QUARTER_STARTS)


def _time(token: _Token) -> dt.time:
    hours, minutes = token.text.split(":")
    return dt.time(int(hours), int(minutes))


def _check_monthdays(monthdays: frozenset[int], months: frozenset[int]) -> None:
    if not monthdays:
        return
    if min(monthdays) < 1 or max(monthdays) > 31:
        raise ScheduleError("days of the month must be between 1 and 31")
    # Like Google, accept the list if its earliest day exists in some chosen month.
    if all(min(monthdays) > calendar.monthrange(2000, month)[1] for month in months):
        raise ScheduleError(f"day {min(monthdays)} falls in none of the chosen months")
