"""EventBridge ``ScheduleExpression``: ``rate(...)`` and ``cron(...)``, parsed once, then asked
for the next fire time.

All times are UTC epoch milliseconds. Rate ticks are aligned to the epoch (a multiple of the
period since 1970-01-01T00:00Z), not to when the rule was written, so every replica computes
the same ticks without coordinating. Cron fires at whole minutes.

Cron follows the EventBridge reference ("Cron expressions reference"): six fields
``Minutes Hours Day-of-month Month Day-of-week Year``; ``, - * /`` everywhere except
day-of-week (no ``/``); exactly one of day-of-month and day-of-week is ``?``; ``L`` (last
day of month; in day-of-week alone, Saturday; ``6L`` the last Friday), ``15W`` (the weekday
nearest the 15th, never leaving the month), ``3#2`` (second Tuesday). Weekdays count
1=SUN..7=SAT. ``L``, ``W`` and ``#`` forms stand alone in their field, as EventBridge
requires for ``#``. Names (``JAN``, ``MON``) are case-insensitive. A range must not wrap
around (``FRI-MON`` is rejected; write ``FRI-SAT,SUN-MON``).
"""

from __future__ import annotations

import calendar
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from eventplane.errors import ValidationException

INVALID: Final = "Parameter ScheduleExpression is not valid."
MIN_YEAR: Final = 1970
MAX_YEAR: Final = 2199

_MINUTE_MS: Final = 60_000
_END_MS: Final = calendar.timegm((MAX_YEAR + 1, 1, 1, 0, 0, 0)) * 1000
_RATE: Final = re.compile(r"rate\((\d+) +([a-z]+)\)")
_CRON: Final = re.compile(r"cron\((.*)\)")
_UNIT_SECONDS: Final[Mapping[str, int]] = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
}
# Spelled out: calendar.month_abbr follows the locale.
_MONTHS: Final = {
    name: i
    for i, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        start=1,
    )
}
_WEEKDAYS: Final = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_VALUE: Final = r"(\d+|[A-Za-z]{3})"
_ELEMENT: Final = re.compile(rf"(?:(\*)|{_VALUE}(?:-{_VALUE})?)(?:/(\d+))?")
_NEAREST_WEEKDAY: Final = re.compile(r"(\d+)W")
_LAST_WEEKDAY: Final = re.compile(rf"{_VALUE}L")
_NTH_WEEKDAY: Final = re.compile(rf"{_VALUE}#(\d+)")

# The days of a month on which a day-of-month or day-of-week field fires.
DayRule = Callable[[int, int], tuple[int, ...]]


class Schedule(ABC):
    """A parsed ScheduleExpression."""

    expression: str

    @abstractmethod
    def next_after(self, after_ms: int) -> int | None:
        """The first fire time strictly after ``after_ms``.

        Args:
            after_ms: A UTC instant in epoch milliseconds.

        Returns:
            The fire time in epoch milliseconds, or None when the schedule never fires
            again (a cron whose years are over, or whose dates never occur).
        """


@dataclass(frozen=True, slots=True)
class RateSchedule(Schedule):
    """``rate(value unit)``: every ``period_ms``, on multiples of it since the epoch."""

    expression: str
    period_ms: int

    def next_after(self, after_ms: int) -> int:
        return (after_ms // self.period_ms + 1) * self.period_ms


@dataclass(frozen=True, slots=True)
class CronSchedule(Schedule):
    """``cron(...)``: each field compiled to its sorted values (days: to a rule)."""

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    days: DayRule

    def next_after(self, after_ms: int) -> int | None:
        start_ms = (after_ms // _MINUTE_MS + 1) * _MINUTE_MS
        if start_ms >= _END_MS:
            return None
        start = datetime.fromtimestamp(max(start_ms, 0) // 1000, UTC)
        # Fields are walked from the year down, each sorted, so the first combination at
        # or after ``start`` is the answer; only the prefix equal to ``start`` is bounded.
        for year in self.years:
            if year < start.year:
                continue
            in_year = year == start.year
            for month in self.months:
                if in_year and month < start.month:
                    continue
                in_month = in_year and month == start.month
                for day in self.days(year, month):
                    if in_month and day < start.day:
                        continue
                    in_day = in_month and day == start.day
                    for hour in self.hours:
                        if in_day and hour < start.hour:
                            continue
                        in_hour = in_day and hour == start.hour
                        for minute in self.minutes:
                            if in_hour and minute < start.minute:
                                continue
                            return calendar.timegm((year, month, day, hour, minute, 0)) * 1000
        return None


def parse_schedule(expression: str, *, min_rate_seconds: float = 60.0) -> Schedule:
    """Validate and compile a ScheduleExpression.

    Args:
        expression: ``rate(value unit)`` or ``cron(fields)``, as EventBridge accepts them.
        min_rate_seconds: The shortest rate period allowed. EventBridge's is 60 s; below
            60 the ``second``/``seconds`` unit is accepted too (used by tests).

    Raises:
        ValidationException: The expression is not valid ("Parameter ScheduleExpression
            is not valid." and, for cron, the reason).
        ValueError: ``min_rate_seconds`` is not positive.
    """
    if min_rate_seconds <= 0:
        raise ValueError("min_rate_seconds must be positive")
    if not isinstance(expression, str):
        raise ValidationException(INVALID)
    rate = _RATE.fullmatch(expression)
    if rate is not None:
        return _parse_rate(expression, int(rate.group(1)), rate.group(2), min_rate_seconds)
    cron = _CRON.fullmatch(expression)
    if cron is not None:
        return _parse_cron(expression, cron.group(1))
    raise ValidationException(INVALID)


def _parse_rate(expression: str, value: int, unit: str, min_rate_seconds: float) -> Schedule:
    singular = unit.removesuffix("s")
    seconds = _UNIT_SECONDS.get(singular)
    # EventBridge wants the singular exactly when the value is 1.
    if seconds is None or value < 1 or (unit == singular) != (value == 1):
        raise ValidationException(INVALID)
    if singular == "second" and min_rate_seconds >= 60:
        raise ValidationException(INVALID)
    period = value * seconds
    if period < min_rate_seconds:
        raise ValidationException(INVALID)
    return RateSchedule(expression, period * 1000)


# --- cron ----------------------------------------------------------------------------


class _CronError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: Mapping[str, int]


_MINUTE_FIELD: Final = _Field("Minutes", 0, 59, {})
_HOUR_FIELD: Final = _Field("Hours", 0, 23, {})
_DOM_FIELD: Final = _Field("Day-of-month", 1, 31, {})
_MONTH_FIELD: Final = _Field("Month", 1, 12, _MONTHS)
_DOW_FIELD: Final = _Field("Day-of-week", 1, 7, _WEEKDAYS)
_YEAR_FIELD: Final = _Field("Year", MIN_YEAR, MAX_YEAR, {})


def _parse_cron(expression: str, body: str) -> CronSchedule:
    try:
        fields = body.split()
        if len(fields) != 6:
            raise _CronError(f"expected 6 fields, got {len(fields)}")
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise _CronError("exactly one of Day-of-month and Day-of-week must be ?")
        return CronSchedule(
            expression,
            minutes=_values(minute, _MINUTE_FIELD),
            hours=_values(hour, _HOUR_FIELD),
            months=_values(month, _MONTH_FIELD),
            years=_values(year, _YEAR_FIELD),
            days=_day_of_week_rule(dow) if dom == "?" else _day_of_month_rule(dom),
        )
    except _CronError as err:
        raise ValidationException(f"{INVALID} Reason: {err}") from None


def _values(text: str, field: _Field, *, allow_step: bool = True) -> tuple[int, ...]:
    values: set[int] = set()
    for element in text.split(","):
        match = _ELEMENT.fullmatch(element)
        if match is None:
            raise _CronError(f"{field.name} value {element!r} is not valid")
        star, first, last, step = match.groups()
        if step is not None and not allow_step:
            raise _CronError(f"{field.name} does not accept /")
        low = field.low if star else _number(first, field)
        high = field.high if star or (last is None and step is not None) else low
        if last is not None:
            high = _number(last, field)
        if low > high:
            raise _CronError(f"{field.name} range {element!r} runs backwards")
        increment = 1 if step is None else int(step)
        if not 1 <= increment <= field.high - field.low + 1:
            raise _CronError(f"{field.name} increment in {element!r} is out of range")
        values.update(range(low, high + 1, increment))
    return tuple(sorted(values))


def _number(token: str, field: _Field) -> int:
    value = int(token) if (token.isascii() and token.isdigit()) else field.names.get(token.upper())
    if value is None or not field.low <= value <= field.high:
        raise _CronError(f"{field.name} value {token!r} is out of range")
    return value


def _day_of_month_rule(text: str) -> DayRule:
    if text == "L":
        return lambda year, month: (calendar.monthrange(year, month)[1],)
    nearest = _NEAREST_WEEKDAY.fullmatch(text)
    if nearest is not None:
        return _nearest_weekday(_number(nearest.group(1), _DOM_FIELD))
    days = frozenset(_values(text, _DOM_FIELD))
    return lambda year, month: tuple(
        day for day in range(1, calendar.monthrange(year, month)[1] + 1) if day in days
    )


def _day_of_week_rule(text: str) -> DayRule:
    if text == "L":
        text = "7"  # alone, L is the last day of the week
    last = _LAST_WEEKDAY.fullmatch(text)
    if last is not None:
        return _last_weekday(_number(last.group(1), _DOW_FIELD))
    nth = _NTH_WEEKDAY.fullmatch(text)
    if nth is not None:
        instance = int(nth.group(2))
        if not 1 <= instance <= 5:
            raise _CronError(f"Day-of-week instance in {text!r} must be 1 to 5")
        return _nth_weekday(_number(nth.group(1), _DOW_FIELD), instance)
    if "#" in text or "L" in text.upper():
        raise _CronError(f"Day-of-week {text!r}: L and # cannot be combined with other values")
    weekdays = frozenset(_values(text, _DOW_FIELD, allow_step=False))

    def rule(year: int, month: int) -> tuple[int, ...]:
        first, length = calendar.monthrange(year, month)
        return tuple(day for day in range(1, length + 1) if _weekday(first, day) in weekdays)

    return rule


def _weekday(first: int, day: int) -> int:
    """EventBridge's weekday (1=SUN..7=SAT) of ``day``, given calendar's Monday=0 of day 1."""
    return (first + day) % 7 + 1


def _nearest_weekday(target: int) -> DayRule:
    def rule(year: int, month: int) -> tuple[int, ...]:
        first, length = calendar.monthrange(year, month)
        if target > length:
            return ()
        weekday = _weekday(first, target)
        if weekday == 7:  # Saturday: Friday before, unless that leaves the month
            return (target - 1,) if target > 1 else (target + 2,)
        if weekday == 1:  # Sunday: Monday after, unless that leaves the month
            return (target + 1,) if target < length else (target - 2,)
        return (target,)

    return rule


def _last_weekday(weekday: int) -> DayRule:
    def rule(year: int, month: int) -> tuple[int, ...]:
        first, length = calendar.monthrange(year, month)
        return (length - (_weekday(first, length) - weekday) % 7,)

    return rule


def _nth_weekday(weekday: int, instance: int) -> DayRule:
    def rule(year: int, month: int) -> tuple[int, ...]:
        first, length = calendar.monthrange(year, month)
        day = 1 + (weekday - _weekday(first, 1)) % 7 + 7 * (instance - 1)
        return (day,) if day <= length else ()

    return rule
