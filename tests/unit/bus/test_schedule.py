"""ScheduleExpression: rate and cron parsing, next fire times from hand-checked calendars,
and a seeded cross-check of cron against a naive day-by-day reference."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from eventplane.bus.schedule import CronSchedule, RateSchedule, Schedule, parse_schedule
from eventplane.errors import ValidationException

INVALID = "Parameter ScheduleExpression is not valid."


def ms(text: str) -> int:
    """Epoch ms of a UTC time written ``YYYY-MM-DD HH:MM[:SS]``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def text(epoch_ms: int | None) -> str | None:
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def fires(schedule: Schedule, after: str, count: int) -> list[str | None]:
    out: list[str | None] = []
    at: int | None = ms(after)
    for _ in range(count):
        at = schedule.next_after(at) if at is not None else None
        out.append(text(at))
    return out


def rejected(expression: object, **kwargs: float) -> str:
    with pytest.raises(ValidationException) as caught:
        parse_schedule(expression, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "ValidationException"
    return caught.value.message


# --- rate ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "period_s"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(12 hours)", 43200),
        ("rate(1 day)", 86400),
        ("rate(7 days)", 604800),
        ("rate(90 minutes)", 5400),
    ],
)
def test_valid_rate(expression: str, period_s: int) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, RateSchedule)
    assert schedule.expression == expression
    assert schedule.period_ms == period_s * 1000


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(1 hours)",
        "rate(2 hour)",
        "rate(1 days)",
        "rate(3 day)",
        "rate(0 minutes)",
        "rate(-5 minutes)",
        "rate(1.5 hours)",
        "rate(5 mins)",
        "rate(5 weeks)",
        "rate(5minutes)",
        "rate(5 Minutes)",
        "rate( 5 minutes)",
        "rate(5 minutes",
        "rate 5 minutes",
        "rate()",
        "every 5 minutes",
        "",
    ],
)
def test_invalid_rate(expression: str) -> None:
    assert rejected(expression) == INVALID


def test_seconds_are_invalid_at_the_default_minimum() -> None:
    assert rejected("rate(30 seconds)") == INVALID
    assert rejected("rate(1 second)") == INVALID
    assert rejected("rate(120 seconds)") == INVALID  # a minute or more, but still not EventBridge


@pytest.mark.parametrize(
    ("expression", "minimum", "period_ms"),
    [
        ("rate(1 second)", 1.0, 1000),
        ("rate(5 seconds)", 5.0, 5000),
        ("rate(30 seconds)", 0.5, 30000),
        ("rate(1 minute)", 10.0, 60000),
    ],
)
def test_seconds_are_accepted_when_configured_below_a_minute(
    expression: str, minimum: float, period_ms: int
) -> None:
    schedule = parse_schedule(expression, min_rate_seconds=minimum)
    assert isinstance(schedule, RateSchedule)
    assert schedule.period_ms == period_ms


@pytest.mark.parametrize(
    ("expression", "minimum"),
    [
        ("rate(4 seconds)", 5.0),
        ("rate(1 seconds)", 1.0),
        ("rate(2 second)", 1.0),
        ("rate(0 seconds)", 1.0),
        ("rate(1 minute)", 120.0),
        ("rate(1 hour)", 7200.0),
    ],
)
def test_rate_below_the_configured_minimum_is_invalid(expression: str, minimum: float) -> None:
    assert rejected(expression, min_rate_seconds=minimum) == INVALID


def test_minimum_must_be_positive() -> None:
    with pytest.raises(ValueError, match="min_rate_seconds must be positive"):
        parse_schedule("rate(1 minute)", min_rate_seconds=0)


def test_rate_ticks_are_aligned_to_the_epoch() -> None:
    five = parse_schedule("rate(5 minutes)")
    assert five.next_after(0) == 300_000
    assert five.next_after(1) == 300_000
    assert five.next_after(299_999) == 300_000
    assert five.next_after(300_000) == 600_000  # strictly after
    assert five.next_after(-1) == 0
    assert fires(five, "2026-03-10 12:03:59", 3) == [
        "2026-03-10 12:05",
        "2026-03-10 12:10",
        "2026-03-10 12:15",
    ]
    daily = parse_schedule("rate(1 day)")
    assert fires(daily, "2026-03-10 23:59:59", 2) == ["2026-03-11 00:00", "2026-03-12 00:00"]


def test_every_replica_computes_the_same_rate_ticks() -> None:
    schedule = parse_schedule("rate(7 minutes)")
    other = parse_schedule("rate(7 minutes)")
    for after in (0, 12_345, ms("2026-01-01 00:00"), ms("2031-07-04 13:37:12")):
        tick = schedule.next_after(after)
        assert tick is not None and tick == other.next_after(after)
        assert tick % 420_000 == 0 and 0 < tick - after <= 420_000


# --- cron: next fire times -----------------------------------------------------------

# Calendar facts used below (UTC): 2026-03-10 is a Tuesday; 2026-03-15 a Sunday; 2026-03-27
# and 2026-04-24 the last Fridays of their months; 2026-04-14 the second Tuesday of April.
NEXT_FIRES: list[tuple[str, str, list[str | None]]] = [
    (
        "cron(0 12 * * ? *)",
        "2026-03-10 11:59:59",
        ["2026-03-10 12:00", "2026-03-11 12:00", "2026-03-12 12:00"],
    ),
    (
        "cron(0 12 * * ? *)",
        "2026-03-10 12:00",  # exactly on a fire time: the next one
        ["2026-03-11 12:00", "2026-03-12 12:00"],
    ),
    (
        "cron(15 10 ? * 6L 2026-2027)",
        "2026-03-10 00:00",
        ["2026-03-27 10:15", "2026-04-24 10:15", "2026-05-29 10:15", "2026-06-26 10:15"],
    ),
    (
        "cron(15 10 ? * 6L 2026-2027)",
        "2027-11-27 00:00",
        ["2027-12-31 10:15", None],  # the years are over
    ),
    (
        "cron(0/15 * * * ? *)",
        "2026-03-10 23:31",
        ["2026-03-10 23:45", "2026-03-11 00:00", "2026-03-11 00:15"],
    ),
    (
        "cron(0 8 1 * ? *)",
        "2026-12-01 08:00",
        ["2027-01-01 08:00", "2027-02-01 08:00"],
    ),
    (
        "cron(0 18 ? * MON-FRI *)",
        "2026-03-12 18:30",
        ["2026-03-13 18:00", "2026-03-16 18:00", "2026-03-17 18:00"],
    ),
    (
        "cron(0 0 L * ? *)",
        "2028-01-31 00:00",
        ["2028-02-29 00:00", "2028-03-31 00:00", "2028-04-30 00:00"],  # 2028 is a leap year
    ),
    (
        "cron(0 0 15W * ? *)",
        "2026-03-01 00:00",
        ["2026-03-16 00:00", "2026-04-15 00:00", "2026-05-15 00:00", "2026-06-15 00:00"],
    ),
    (
        "cron(0 0 15W * ? *)",
        "2026-08-01 00:00",  # Aug 15 is a Saturday: Friday the 14th
        ["2026-08-14 00:00", "2026-09-15 00:00"],
    ),
    (
        "cron(0 0 1W * ? *)",
        "2026-07-31 00:00",  # Aug 1 is a Saturday: Monday the 3rd, not July 31
        ["2026-08-03 00:00", "2026-09-01 00:00"],
    ),
    (
        "cron(0 0 31W * ? *)",
        "2026-05-01 00:00",  # May 31 is a Sunday: Friday the 29th; June has no 31st
        ["2026-05-29 00:00", "2026-07-31 00:00"],
    ),
    (
        "cron(0 0 ? * 3#2 *)",
        "2026-03-10 00:00",
        ["2026-04-14 00:00", "2026-05-12 00:00", "2026-06-09 00:00"],
    ),
    (
        "cron(0 0 ? * 6#5 *)",
        "2026-01-01 00:00",  # months with five Fridays only
        ["2026-01-30 00:00", "2026-05-29 00:00", "2026-07-31 00:00"],
    ),
    (
        "cron(0 10 * * ? *)",
        "2026-03-10 09:59",
        ["2026-03-10 10:00", "2026-03-11 10:00"],
    ),
    (
        "cron(0/5 8-17 ? * MON-FRI *)",
        "2026-03-13 17:50",  # a Friday
        ["2026-03-13 17:55", "2026-03-16 08:00", "2026-03-16 08:05"],
    ),
    (
        "cron(0 9 ? JAN,JUL MON *)",
        "2026-01-27 00:00",
        ["2026-07-06 09:00", "2026-07-13 09:00"],
    ),
    (
        "cron(30 23 29 2 ? *)",
        "2026-01-01 00:00",
        ["2028-02-29 23:30", "2032-02-29 23:30"],
    ),
    (
        "cron(0 0 ? * L *)",  # L alone in day-of-week: Saturday
        "2026-03-10 00:00",
        ["2026-03-14 00:00", "2026-03-21 00:00"],
    ),
    (
        "cron(0 0 1 1 ? 2199)",
        "2199-01-01 00:00",
        [None],
    ),
    (
        "cron(0 0 1 1 ? 1970)",
        "1969-06-01 00:00",  # before the epoch
        ["1970-01-01 00:00", None],
    ),
    (
        "cron(0 12 1 1/3 ? 2026/2)",
        "2026-05-01 00:00",
        ["2026-07-01 12:00", "2026-10-01 12:00", "2028-01-01 12:00"],
    ),
    (
        "cron(59 23 31 DEC ? *)",
        "2026-12-31 23:59",
        ["2027-12-31 23:59"],
    ),
]


@pytest.mark.parametrize(("expression", "after", "expected"), NEXT_FIRES)
def test_cron_next_fires(expression: str, after: str, expected: list[str | None]) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, CronSchedule)
    assert schedule.expression == expression
    assert fires(schedule, after, len(expected)) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 0 1 1 ? 2020)",  # every year in the past
        "cron(0 0 30 2 ? *)",  # no February 30th
        "cron(0 0 31 APR,JUN,SEP,NOV ? *)",
        "cron(0 0 ? 2 2#5 2026-2027)",  # no fifth Monday in those Februaries
    ],
)
def test_cron_that_never_fires_returns_none(expression: str) -> None:
    assert parse_schedule(expression).next_after(ms("2026-01-01 00:00")) is None


def test_cron_beyond_the_last_year_never_fires() -> None:
    schedule = parse_schedule("cron(* * * * ? *)")
    assert text(schedule.next_after(ms("2199-12-31 23:58"))) == "2199-12-31 23:59"
    assert schedule.next_after(ms("2199-12-31 23:59")) is None
    assert schedule.next_after(ms("2300-01-01 00:00")) is None


def test_cron_fires_at_whole_minutes_strictly_after() -> None:
    schedule = parse_schedule("cron(* * * * ? *)")
    base = ms("2026-03-10 12:00")
    assert schedule.next_after(base - 1) == base
    assert schedule.next_after(base) == base + 60_000
    assert schedule.next_after(base + 59_999) == base + 60_000


def test_cron_names_are_case_insensitive() -> None:
    upper = parse_schedule("cron(0 18 ? JAN-MAR MON-FRI *)")
    lower = parse_schedule("cron(0 18 ? jan-Mar mon-fri *)")
    assert fires(upper, "2026-03-10 00:00", 5) == fires(lower, "2026-03-10 00:00", 5)


# --- cron: validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 12 * * ?)", "expected 6 fields, got 5"),
        ("cron(0 12 * * ? * *)", "expected 6 fields, got 7"),
        ("cron()", "expected 6 fields, got 0"),
        ("cron(0 12 * * * *)", "exactly one of Day-of-month and Day-of-week must be ?"),
        ("cron(0 12 ? * ? *)", "exactly one of Day-of-month and Day-of-week must be ?"),
        ("cron(0 12 1 * MON *)", "exactly one of Day-of-month and Day-of-week must be ?"),
        ("cron(60 12 * * ? *)", "Minutes value '60' is out of range"),
        ("cron(0 24 * * ? *)", "Hours value '24' is out of range"),
        ("cron(0 0 0 * ? *)", "Day-of-month value '0' is out of range"),
        ("cron(0 0 32 * ? *)", "Day-of-month value '32' is out of range"),
        ("cron(0 0 1 13 ? *)", "Month value '13' is out of range"),
        ("cron(0 0 1 JUNE ? *)", "Month value 'JUNE' is not valid"),
        ("cron(0 0 1 XYZ ? *)", "Month value 'XYZ' is out of range"),
        ("cron(0 0 ? * 8 *)", "Day-of-week value '8' is out of range"),
        ("cron(0 0 ? * 0 *)", "Day-of-week value '0' is out of range"),
        ("cron(0 0 ? * FUN *)", "Day-of-week value 'FUN' is out of range"),
        ("cron(0 0 1 * ? 1969)", "Year value '1969' is out of range"),
        ("cron(0 0 1 * ? 2200)", "Year value '2200' is out of range"),
        ("cron(0 0 1 MON ? *)", "Month value 'MON' is out of range"),
        ("cron(0 0 ? * JAN *)", "Day-of-week value 'JAN' is out of range"),
        ("cron(30-10 * * * ? *)", "Minutes range '30-10' runs backwards"),
        ("cron(0 0 ? * FRI-MON *)", "Day-of-week range 'FRI-MON' runs backwards"),
        ("cron(0/0 * * * ? *)", "Minutes increment in '0/0' is out of range"),
        ("cron(0/61 * * * ? *)", "Minutes increment in '0/61' is out of range"),
        ("cron(0 0 ? * 1/2 *)", "Day-of-week does not accept /"),
        ("cron(0 0 ? * 3#2,6#3 *)", "Day-of-week '3#2,6#3': L and # cannot be combined"),
        ("cron(0 0 ? * 3#6 *)", "Day-of-week instance in '3#6' must be 1 to 5"),
        ("cron(0 0 ? * 3#0 *)", "Day-of-week instance in '3#0' must be 1 to 5"),
        ("cron(0 0 ? * 8#1 *)", "Day-of-week value '8' is out of range"),
        ("cron(0 0 ? * 6L,1 *)", "Day-of-week '6L,1': L and # cannot be combined"),
        ("cron(0 0 ? * 8L *)", "Day-of-week value '8' is out of range"),
        ("cron(0 0 L,15 * ? *)", "Day-of-month value 'L' is not valid"),
        ("cron(0 0 L-2 * ? *)", "Day-of-month value 'L-2' is not valid"),
        ("cron(0 0 LW * ? *)", "Day-of-month value 'LW' is not valid"),
        ("cron(0 0 1W,15W * ? *)", "Day-of-month value '1W' is not valid"),
        ("cron(0 0 32W * ? *)", "Day-of-month value '32' is out of range"),
        ("cron(0 0 1 * ? L)", "Year value 'L' is not valid"),
        ("cron(0 0 W * ? *)", "Day-of-month value 'W' is not valid"),
        ("cron(? 0 1 * ? *)", "Minutes value '?' is not valid"),
        ("cron(0 0 1 * ? *,)", "Year value '' is not valid"),
        ("cron(1--2 0 1 * ? *)", "Minutes value '1--2' is not valid"),
        ("cron(0 0 1 * ? 2026-)", "Year value '2026-' is not valid"),
    ],
)
def test_invalid_cron_names_the_reason(expression: str, reason: str) -> None:
    message = rejected(expression)
    assert message.startswith(f"{INVALID} Reason: ")
    assert reason in message


@pytest.mark.parametrize(
    "expression",
    ["cron 0 12 * * ? *", "Cron(0 12 * * ? *)", "cron(0 12 * * ? *", "cron(0 12 * * ? *) ", None],
)
def test_malformed_expression_is_invalid(expression: object) -> None:
    assert rejected(expression) == INVALID


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(15 10 ? * 6L 2002-2005)",
        "cron(0 12 * * ? 2199)",
        "cron(*/5 * * * ? *)",
        "cron(1-59/2 0,12 1-7,15 1-11/2 ? 1970-2199/10)",
        "cron( 0  12 * * ? * )",
    ],
)
def test_valid_cron(expression: str) -> None:
    assert isinstance(parse_schedule(expression), CronSchedule)


def test_cron_fields_are_compiled_to_sorted_values() -> None:
    schedule = parse_schedule("cron(45,0/20 9-11,1 1 JAN,MAR-MAY/2 ? 2030,2027)")
    assert isinstance(schedule, CronSchedule)
    assert schedule.minutes == (0, 20, 40, 45)
    assert schedule.hours == (1, 9, 10, 11)
    assert schedule.months == (1, 3, 5)
    assert schedule.years == (2027, 2030)


# --- cron: seeded cross-check against a day-by-day reference -------------------------

DayTest = Callable[[date], bool]


def _field(
    rng: random.Random, low: int, high: int, names: list[str] | None = None
) -> tuple[str, set[int]]:
    """A random field text and the values it means, written independently of the parser."""
    form = rng.randrange(6)
    use_names = names is not None and rng.random() < 0.5

    def spell(value: int) -> str:
        return names[value - low] if names is not None and use_names else str(value)

    if form == 0:
        return "*", set(range(low, high + 1))
    if form == 1:
        value = rng.randint(low, high)
        return spell(value), {value}
    if form == 2:
        values = rng.sample(range(low, high + 1), rng.randint(2, min(4, high - low + 1)))
        return ",".join(spell(v) for v in values), set(values)
    if form == 3:
        a, b = sorted(rng.sample(range(low, high + 1), 2))
        return f"{spell(a)}-{spell(b)}", set(range(a, b + 1))
    step = rng.randint(1, max(1, (high - low) // 2))
    if form == 4:
        start = rng.randint(low, high)
        return f"{spell(start)}/{step}", set(range(start, high + 1, step))
    a, b = sorted(rng.sample(range(low, high + 1), 2))
    return f"{spell(a)}-{spell(b)}/{step}", set(range(a, b + 1, step))


MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def _eb_weekday(day: date) -> int:
    return day.isoweekday() % 7 + 1  # 1=SUN .. 7=SAT


def _month_days(day: date) -> list[date]:
    first = day.replace(day=1)
    return [first + timedelta(n) for n in range(31) if (first + timedelta(n)).month == day.month]


def _days(rng: random.Random) -> tuple[str, str, DayTest]:
    kind = rng.randrange(6)
    if kind == 0:
        text, values = _field(rng, 1, 31)
        return text, "?", lambda d: d.day in values
    if kind == 1:
        return "L", "?", lambda d: (d + timedelta(1)).month != d.month
    if kind == 2:
        target = rng.randint(1, 31)

        def nearest_weekday(d: date) -> bool:
            month = _month_days(d)
            if target > len(month):
                return False
            weekdays = [m for m in month if m.isoweekday() <= 5]
            best = min(weekdays, key=lambda m: (abs(m.day - target), m.day))
            return d == best

        return f"{target}W", "?", nearest_weekday
    if kind == 3:
        text, values = _field(rng, 1, 7, DAY_NAMES)
        if "/" in text:  # day-of-week takes no increments
            text, values = "*", set(range(1, 8))
        return "?", text, lambda d: _eb_weekday(d) in values
    weekday = rng.randint(1, 7)
    if kind == 4:
        return (
            "?",
            f"{weekday}L",
            lambda d: _eb_weekday(d) == weekday and d.day + 7 > len(_month_days(d)),
        )
    nth = rng.randint(1, 5)
    return (
        "?",
        f"{weekday}#{nth}",
        lambda d: _eb_weekday(d) == weekday and (d.day - 1) // 7 + 1 == nth,
    )


def _reference_next(
    after: datetime,
    minutes: set[int],
    hours: set[int],
    months: set[int],
    years: set[int],
    day_test: DayTest,
) -> datetime | None:
    start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    day = start.date()
    while day.year <= max(years):
        if day.year in years and day.month in months and day_test(day):
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                    if moment >= start:
                        return moment
        day += timedelta(1)
    return None


def test_cron_agrees_with_day_by_day_reference() -> None:
    rng = random.Random(20260310)
    for _ in range(250):
        minute_text, minutes = _field(rng, 0, 59)
        hour_text, hours = _field(rng, 0, 23)
        month_text, months = _field(rng, 1, 12, MONTH_NAMES)
        dom_text, dow_text, day_test = _days(rng)
        first_year = rng.randint(2024, 2030)
        years = set(range(first_year, first_year + rng.randint(0, 3) + 1))
        year_text = f"{min(years)}-{max(years)}"
        fields = (minute_text, hour_text, dom_text, month_text, dow_text, year_text)
        expression = f"cron({' '.join(fields)})"
        schedule = parse_schedule(expression)
        after = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
            minutes=rng.randrange(0, 5 * 366 * 1440), seconds=rng.randrange(60)
        )
        for _ in range(3):
            expected = _reference_next(after, minutes, hours, months, years, day_test)
            got = schedule.next_after(int(after.timestamp() * 1000))
            assert text(got) == (expected and expected.strftime("%Y-%m-%d %H:%M")), expression
            if expected is None:
                break
            after = expected
