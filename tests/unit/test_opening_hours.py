"""Weekly hours (chalicelib.hours.weekly and .schedule): written form, open at an instant, next
opening and next closing, across DST changes and holidays; one reading for flows and queues."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.hours.schedule import is_open, next_closing, next_opening, open_at, zone_of
from chalicelib.hours.weekly import opening_minutes, parse_days, parse_span

# Weekdays 09:00-17:00 in New York, Saturday mornings; closed on Thanksgiving and Christmas.
HOURS = {"timezone": "America/New_York", "weekly": {"mon-fri": ["09:00-17:00"],
                                                    "sat": ["10:00-12:00"]},
         "holidays": ["2026-11-26", "2026-12-25"]}
MONDAY_10_NY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Mon 23 Nov 2026, 10:00 EST
OFFICE = {"mon-fri": ["09:00-18:00"]}  # the demo flow's office hours, New York
OFFICE_HOLIDAYS = ["2026-12-25", "2027-01-01"]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---- the written form ------------------------------------------------------------------------


def test_days_and_spans():
    assert list(parse_days("mon-fri")) == [0, 1, 2, 3, 4]
    assert list(parse_days("sun")) == [6]
    assert parse_span("09:00-17:30") == (540, 1050)
    assert parse_span("22:00-24:00") == (1320, 1440)
    assert opening_minutes({"mon-tue": ["09:00-12:00"], "tue": ["13:00-17:00"]}) == \
        {0: [(540, 720)], 1: [(540, 720), (780, 1020)]}


@pytest.mark.parametrize(("days", "message"), [
    ("monday", "is not a day"), ("fri-mon", "runs backwards"), ("", "is not a day")])
def test_bad_days_say_what_to_write(days, message):
    with pytest.raises(ValueError, match=message):
        parse_days(days)


@pytest.mark.parametrize(("span", "message"), [
    ("9-17", "is not an interval"), ("09:00-24:30", "not a valid time"),
    ("24:00-24:00", "not a valid time"), ("17:00-09:00", "split overnight hours")])
def test_bad_spans_say_what_to_write(span, message):
    with pytest.raises(ValueError, match=message):
        parse_span(span)


# ---- open at an instant ----------------------------------------------------------------------


@pytest.mark.parametrize(("at", "expected"), [
    # DST began 2026-03-08: 13:30 UTC is 09:30 EDT (open), though it would be 08:30 EST
    (utc(2026, 3, 9, 13, 30), True),
    # the Friday before, still EST: 13:30 UTC is 08:30 (closed), 14:30 UTC is 09:30 (open)
    (utc(2026, 3, 6, 13, 30), False),
    (utc(2026, 3, 6, 14, 30), True),
    # closing time 18:00 EDT is 22:00 UTC
    (utc(2026, 3, 9, 21, 59), True),
    (utc(2026, 3, 9, 22, 0), False),
    # DST ended 2026-11-01: 13:30 UTC is 08:30 EST again
    (utc(2026, 11, 2, 13, 30), False),
    (utc(2026, 3, 7, 15, 0), False),  # Saturday
    (utc(2026, 12, 25, 15, 0), False),  # Christmas, a Friday
    (utc(2027, 1, 1, 15, 0), False),  # New Year's Day
    (utc(2026, 12, 24, 15, 0), True),
])
def test_office_hours_in_new_york(at, expected):
    assert is_open("America/New_York", OFFICE, OFFICE_HOLIDAYS, at) is expected
    queue = {"timezone": "America/New_York", "weekly": OFFICE, "holidays": OFFICE_HOLIDAYS}
    assert open_at(queue, at) is expected


def test_a_queue_without_hours_is_always_open():
    late = utc(2026, 11, 24, 4, 0)
    assert open_at({}, late) and open_at(None, late)
    assert next_opening({}, late) == late
    assert next_closing({}, late) is None
    assert zone_of({}).key == "UTC" and zone_of(HOURS).key == "America/New_York"


# ---- next opening, next closing --------------------------------------------------------------


@pytest.mark.parametrize(("now", "opening"), [
    (MONDAY_10_NY, MONDAY_10_NY),                                          # open now
    (utc(2026, 11, 23, 23, 0), utc(2026, 11, 24, 14, 0)),                  # Mon 18:00 -> Tue 9
    (utc(2026, 11, 27, 23, 0), utc(2026, 11, 28, 15, 0)),                  # Fri 18:00 -> Sat 10
    (utc(2026, 11, 28, 18, 0), utc(2026, 11, 30, 14, 0)),                  # Sat 13:00 -> Mon 9
    (utc(2026, 12, 24, 23, 0), utc(2026, 12, 26, 15, 0)),                  # Thu 24 Dec: no 25th
    (utc(2026, 3, 7, 23, 0), utc(2026, 3, 9, 13, 0)),                      # Mon 09:00 EDT
])
def test_next_opening(now, opening):
    assert next_opening(HOURS, now) == opening


def test_next_opening_of_a_queue_that_never_opens():
    never = {"timezone": "UTC", "weekly": {}, "holidays": []}
    assert next_opening(never, MONDAY_10_NY) is None


@pytest.mark.parametrize(("now", "closing"), [
    (MONDAY_10_NY, utc(2026, 11, 23, 22, 0)),                              # Mon 17:00 EST
    (utc(2026, 11, 23, 23, 0), utc(2026, 11, 23, 23, 0)),                  # closed now
    (utc(2026, 11, 28, 16, 0), utc(2026, 11, 28, 17, 0)),                  # Sat 12:00
    (utc(2026, 3, 6, 21, 59), utc(2026, 3, 6, 22, 0)),                     # Fri 17:00 EST
    (utc(2026, 3, 9, 14, 0), utc(2026, 3, 9, 21, 0)),                      # Mon 17:00 EDT
])
def test_next_closing(now, closing):
    assert next_closing(HOURS, now) == closing


def test_hours_to_midnight_close_at_midnight_unless_the_next_day_opens_at_midnight():
    late = {"timezone": "Asia/Shanghai", "weekly": {"mon": ["20:00-24:00"], "wed": ["20:00-24:00"],
                                                     "thu": ["00:00-02:00"]}}
    monday_21 = utc(2026, 11, 23, 13, 0)
    assert next_closing(late, monday_21) == utc(2026, 11, 23, 16, 0)  # Tue 00:00
    wednesday_21 = utc(2026, 11, 25, 13, 0)
    assert next_closing(late, wednesday_21) == utc(2026, 11, 25, 18, 0)  # Thu 02:00


def test_always_open_hours_never_close_and_a_holiday_closes_them():
    always = {"timezone": "Europe/London", "weekly": {"mon-sun": ["00:00-24:00"]}}
    assert next_closing(always, utc(2026, 11, 23, 12, 0)) is None
    holiday = {**always, "holidays": ["2026-12-25"]}
    assert next_closing(holiday, utc(2026, 12, 20, 12, 0)) == utc(2026, 12, 25, 0, 0)
    assert next_opening(holiday, utc(2026, 12, 25, 12, 0)) == utc(2026, 12, 26, 0, 0)


def test_a_clock_jumping_out_of_a_span_closes_it():
    # 8 March 2026 in New York: 02:00 EST jumps to 03:00 EDT (07:00 UTC)
    hours = {"timezone": "America/New_York", "weekly": {"sun": ["01:00-02:30"]}}
    assert next_closing(hours, utc(2026, 3, 8, 6, 30)) == utc(2026, 3, 8, 7, 0)
    # 1 November: 02:00 EDT falls back to 01:00 EST (06:00 UTC); 00:30-01:15 closes at 01:15
    # EDT, opens again at the change, and closes for good at 01:15 EST
    repeated = {"timezone": "America/New_York", "weekly": {"sun": ["00:30-01:15"]}}
    assert next_closing(repeated, utc(2026, 11, 1, 4, 40)) == utc(2026, 11, 1, 5, 15)
    assert next_closing(repeated, utc(2026, 11, 1, 6, 0)) == utc(2026, 11, 1, 6, 15)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        next_opening(HOURS, datetime(2026, 11, 23, 12, 0))
    with pytest.raises(ValueError):
        next_closing(HOURS, datetime(2026, 11, 23, 12, 0))


# ---- the fast searches agree with the definition ---------------------------------------------


ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Shanghai",
         "Europe/Berlin", "America/Los_Angeles"]
DST_WEEKS = [utc(2026, 3, 7), utc(2026, 3, 28), utc(2026, 10, 24), utc(2026, 10, 31),
             utc(2026, 4, 4)]


def random_hours(rng: random.Random) -> dict:
    weekly = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        if rng.random() < 0.7:
            start = rng.randrange(0, 24 * 60 - 30, 30)
            end = rng.randrange(start + 30, 24 * 60 + 1, 30)
            weekly[day] = [f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"]
    holidays = ["2026-03-08", "2026-10-26"] if rng.random() < 0.3 else []
    return {"timezone": rng.choice(ZONES), "weekly": weekly, "holidays": holidays}


def brute_force(hours, after, horizon_days, want_open) -> datetime | None:
    """Minute by minute with ``open_at``: slow, obviously right."""
    limit = after + timedelta(days=horizon_days)
    if open_at(hours, after) is want_open:
        return after
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while t <= limit:
        if open_at(hours, t) is want_open:
            return t
        t += timedelta(minutes=1)
    return None


def test_the_searches_find_what_stepping_minute_by_minute_finds():
    rng = random.Random(20261123)
    for _ in range(15):
        hours = random_hours(rng)
        after = rng.choice(DST_WEEKS) + timedelta(seconds=rng.randrange(3 * 86400))
        assert next_opening(hours, after, 2) == brute_force(hours, after, 2, True), \
            (hours, after)
        assert next_closing(hours, after, 2) == brute_force(hours, after, 2, False), \
            (hours, after)
