"""When we may call a customer (chalicelib.hours.calling_window): 08:00-21:00 in every zone their
number may be in, inside the queue's hours, across DST changes and holidays."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.hours.calling_window import customer_time_zones, may_call_at, next_contact_time

CN = "+8613800138000"  # Asia/Shanghai, no DST
US = "+14155550100"  # America/Los_Angeles
NY = "+12125551234"  # America/New_York
GB = "+442071234567"  # Europe/London
CA = "+14165550100"  # America/Toronto
AU = "+61291234567"  # Australia/Sydney (DST in the southern summer)
NEWFOUNDLAND = "+17095550100"  # area code 709: America/Halifax and America/St_Johns
AU_MOBILE = "+61412345678"  # eight zones, Cocos Islands (+6:30) to Lord Howe (+11 in summer)
TOLL_FREE = "+18005551234"  # every NANP zone, Guam to Hawaii: no common window at all

NY_OFFICE = {"timezone": "America/New_York", "weekly": {"mon-fri": ["09:00-17:00"]},
             "holidays": ["2026-12-25"]}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---- one number, one zone ----------------------------------------------------------------------


@pytest.mark.parametrize(("number", "after", "expected"), [
    # China: 23:30 UTC is 07:30 in Shanghai; 08:00 there is 00:00 UTC
    (CN, utc(2026, 11, 23, 23, 30), utc(2026, 11, 24, 0, 0)),
    # California in November (PST, -8): 15:00 UTC is 07:00; 08:00 is 16:00 UTC
    (US, utc(2026, 11, 23, 15, 0), utc(2026, 11, 23, 16, 0)),
    # London in November (GMT): 21:30 is past 21:00, so tomorrow 08:00
    (GB, utc(2026, 11, 23, 21, 30), utc(2026, 11, 24, 8, 0)),
    # Toronto (EST, -5): 12:30 UTC is 07:30
    (CA, utc(2026, 11, 23, 12, 30), utc(2026, 11, 23, 13, 0)),
    # Sydney in November (AEDT, +11): 08:00 is 21:00 UTC the day before
    (AU, utc(2026, 11, 23, 19, 0), utc(2026, 11, 23, 21, 0)),
    # already inside the window: the instant itself, seconds and all
    (CN, utc(2026, 11, 24, 3, 17, 42), utc(2026, 11, 24, 3, 17, 42)),
])
def test_the_window_is_eight_to_nine_in_the_customers_zone(number, after, expected):
    assert next_contact_time(number, after, None) == expected
    assert may_call_at(number, expected, None)
    if expected > after:
        assert not may_call_at(number, after, None)
        assert not may_call_at(number, expected - timedelta(minutes=1), None)


def test_nine_pm_is_already_too_late():
    assert may_call_at(CN, utc(2026, 11, 24, 12, 59, 59), None)  # 20:59:59 in Shanghai
    assert not may_call_at(CN, utc(2026, 11, 24, 13, 0), None)  # 21:00
    assert not may_call_at(CN, utc(2026, 11, 23, 23, 59), None)  # 07:59


# ---- several candidate zones ---------------------------------------------------------------------


def test_a_number_in_two_zones_must_be_inside_the_window_in_both():
    # Halifax is UTC-4 and St. John's UTC-3:30 in November: 08:00 in Halifax (12:00 UTC) is the
    # later start, 21:00 in St. John's (00:30 UTC) the earlier end
    assert customer_time_zones(NEWFOUNDLAND) == ("America/Halifax", "America/St_Johns")
    assert next_contact_time(NEWFOUNDLAND, utc(2026, 11, 23, 11, 40), None) == \
        utc(2026, 11, 23, 12, 0)
    assert may_call_at(NEWFOUNDLAND, utc(2026, 11, 24, 0, 29), None)
    assert not may_call_at(NEWFOUNDLAND, utc(2026, 11, 24, 0, 30), None)
    assert next_contact_time(NEWFOUNDLAND, utc(2026, 11, 24, 0, 45), None) == \
        utc(2026, 11, 24, 12, 0)


def test_an_australian_mobile_waits_for_the_westernmost_and_stops_for_the_easternmost():
    # Cocos Islands (+6:30) reach 08:00 at 01:30 UTC; Lord Howe (+11 in summer) 21:00 at 10:00
    assert len(customer_time_zones(AU_MOBILE)) == 8
    assert next_contact_time(AU_MOBILE, utc(2026, 11, 23, 0, 0), None) == utc(2026, 11, 23, 1, 30)
    assert may_call_at(AU_MOBILE, utc(2026, 11, 23, 9, 59), None)
    assert next_contact_time(AU_MOBILE, utc(2026, 11, 23, 10, 0), None) == \
        utc(2026, 11, 24, 1, 30)


@pytest.mark.parametrize("number", [
    "client:alice",  # a Twilio Client caller
    "+266696687",  # Twilio's "anonymous"
    "+15555550100",  # not a valid number
    "",
    TOLL_FREE,  # zones 20 hours apart never share a window: treated as unknown
])
def test_without_a_usable_zone_the_callers_fallback_zone_decides(number):
    assert customer_time_zones(number, "Asia/Tokyo") == ("Asia/Tokyo",)
    # 22:30 UTC is 07:30 in Tokyo
    assert next_contact_time(number, utc(2026, 11, 23, 22, 30), None, "Asia/Tokyo") == \
        utc(2026, 11, 23, 23, 0)
    assert may_call_at(number, utc(2026, 11, 23, 12, 0), None, "UTC")
    assert not may_call_at(number, utc(2026, 11, 23, 12, 0), None, "Asia/Tokyo")  # 21:00


# ---- queue hours ------------------------------------------------------------------------------


def test_queue_hours_and_the_customers_window_must_both_allow_the_call():
    # 08:00 in California (16:00 UTC) is already 11:00 in New York: the customer decides
    assert next_contact_time(US, utc(2026, 11, 23, 12, 0), NY_OFFICE) == utc(2026, 11, 23, 16, 0)
    # a Shanghai customer at 09:00 NY time is at 22:00 local: never both on a weekday morning;
    # the office closes at 17:00 NY (06:00 Shanghai), so no overlap at all that week
    assert next_contact_time(CN, utc(2026, 11, 23, 14, 0), NY_OFFICE, horizon_days=14) is None
    # and a NY customer simply waits for the office
    assert next_contact_time(NY, utc(2026, 11, 23, 22, 30), NY_OFFICE) == utc(2026, 11, 24, 14, 0)


def test_holidays_close_the_queue_all_day():
    # Thursday 24 Dec after closing: Friday is Christmas, then the weekend, then Monday 09:00
    after = utc(2026, 12, 24, 22, 30)
    assert next_contact_time(NY, after, NY_OFFICE) == utc(2026, 12, 28, 14, 0)
    assert not may_call_at(NY, utc(2026, 12, 25, 15, 0), NY_OFFICE)
    assert may_call_at(NY, utc(2026, 12, 24, 15, 0), NY_OFFICE)


def test_overnight_queue_hours_run_across_midnight():
    # New York night shift 22:00-02:00; a Shanghai customer is 13 hours ahead (11:00-15:00)
    night = {"timezone": "America/New_York",
             "weekly": {"mon-fri": ["22:00-24:00"], "tue-sat": ["00:00-02:00"]}}
    monday_2130 = utc(2026, 11, 24, 2, 30)  # Mon 23 Nov 21:30 EST
    assert next_contact_time(CN, monday_2130, night) == utc(2026, 11, 24, 3, 0)
    assert may_call_at(CN, utc(2026, 11, 24, 4, 59), night)  # 23:59
    assert may_call_at(CN, utc(2026, 11, 24, 5, 30), night)  # 00:30 Tuesday
    # 02:00 Tuesday: closed until Tuesday 22:00
    assert next_contact_time(CN, utc(2026, 11, 24, 7, 0), night) == utc(2026, 11, 25, 3, 0)


def test_an_empty_queue_schedule_is_always_open_and_an_empty_week_never():
    assert next_contact_time(US, utc(2026, 11, 23, 17, 0), {}) == utc(2026, 11, 23, 17, 0)
    never = {"timezone": "UTC", "weekly": {}}
    assert next_contact_time(US, utc(2026, 11, 23, 17, 0), never) is None
    assert not may_call_at(US, utc(2026, 11, 23, 17, 0), never)


def test_nothing_within_the_horizon_is_none():
    saturdays = {"timezone": "America/Los_Angeles", "weekly": {"sat": ["10:00-12:00"]}}
    monday = utc(2026, 11, 23, 18, 0)  # Monday 10:00 in California
    assert next_contact_time(US, monday, saturdays, horizon_days=4) is None
    # five days on is Saturday 10:00 to the second: the horizon's last instant still counts
    assert next_contact_time(US, monday, saturdays, horizon_days=5) == utc(2026, 11, 28, 18, 0)
    assert next_contact_time(US, monday - timedelta(seconds=1), saturdays, horizon_days=5) \
        is None


# ---- daylight saving time ---------------------------------------------------------------------


@pytest.mark.parametrize(("number", "after", "expected"), [
    # US: DST began Sunday 8 March 2026 at 02:00 local; 08:00 moves from 16:00 to 15:00 UTC
    (US, utc(2026, 3, 7, 9, 0), utc(2026, 3, 7, 16, 0)),
    (US, utc(2026, 3, 8, 9, 0), utc(2026, 3, 8, 15, 0)),
    # ... and ended Sunday 1 November: back to 16:00 UTC
    (US, utc(2026, 10, 31, 9, 0), utc(2026, 10, 31, 15, 0)),
    (US, utc(2026, 11, 1, 9, 0), utc(2026, 11, 1, 16, 0)),
    # EU: summer time began Sunday 29 March at 01:00 UTC; London's 08:00 is 07:00 UTC that day
    (GB, utc(2026, 3, 28, 5, 0), utc(2026, 3, 28, 8, 0)),
    (GB, utc(2026, 3, 29, 5, 0), utc(2026, 3, 29, 7, 0)),
    # ... and ended Sunday 25 October
    (GB, utc(2026, 10, 24, 5, 0), utc(2026, 10, 24, 7, 0)),
    (GB, utc(2026, 10, 25, 5, 0), utc(2026, 10, 25, 8, 0)),
    # 21:00 BST is 20:00 UTC on the change day
    (GB, utc(2026, 3, 29, 20, 0), utc(2026, 3, 30, 7, 0)),
])
def test_dst_change_days(number, after, expected):
    assert next_contact_time(number, after, None) == expected


def test_queue_hours_inside_the_skipped_hour_open_when_the_clock_jumps_in():
    # 8 March 2026 in New York: 02:00 EST jumps to 03:00 EDT (07:00 UTC). A span 02:30-04:00
    # is open from the jump (wall clock 03:00) until 04:00 EDT.
    hours = {"timezone": "America/New_York", "weekly": {"sun": ["02:30-04:00"]}}
    assert next_contact_time(CN, utc(2026, 3, 8, 5, 0), hours) == utc(2026, 3, 8, 7, 0)
    assert not may_call_at(CN, utc(2026, 3, 8, 6, 59), hours)
    # a span entirely inside the skipped hour never opens that day: the next Sunday
    skipped = {"timezone": "America/New_York", "weekly": {"sun": ["02:00-03:00"]}}
    assert next_contact_time(CN, utc(2026, 3, 8, 5, 0), skipped) == utc(2026, 3, 15, 6, 0)


def test_queue_hours_in_the_repeated_hour_open_twice():
    # 1 November 2026 in New York: 02:00 EDT falls back to 01:00 EST (06:00 UTC). A span
    # 00:30-01:15 is open 04:30-05:15 UTC (EDT), then again 06:00-06:15 UTC (EST, clock set back
    # into it) -- that second opening starts at the change, not at a span start.
    hours = {"timezone": "America/New_York", "weekly": {"sun": ["00:30-01:15"]}}
    assert next_contact_time(CN, utc(2026, 11, 1, 4, 0), hours) == utc(2026, 11, 1, 4, 30)
    assert next_contact_time(CN, utc(2026, 11, 1, 5, 20), hours) == utc(2026, 11, 1, 6, 0)
    repeated = {"timezone": "America/New_York", "weekly": {"sun": ["01:20-01:40"]}}
    assert next_contact_time(CN, utc(2026, 11, 1, 5, 45), repeated) == utc(2026, 11, 1, 6, 20)


# ---- the fast search agrees with the definition ------------------------------------------------


NUMBERS = [US, NY, GB, CN, CA, AU, NEWFOUNDLAND, AU_MOBILE, TOLL_FREE, "client:x"]
ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Shanghai",
         "Europe/Berlin", "America/Los_Angeles"]
DST_WEEKS = [utc(2026, 3, 7), utc(2026, 3, 28), utc(2026, 10, 24), utc(2026, 10, 31),
             utc(2026, 4, 4)]


def random_hours(rng: random.Random) -> dict:
    if rng.random() < 0.15:
        return {}
    weekly = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        if rng.random() < 0.7:
            start = rng.randrange(0, 24 * 60 - 30, 30)
            end = rng.randrange(start + 30, 24 * 60 + 1, 30)
            weekly[day] = [f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"]
    holidays = ["2026-03-08", "2026-10-26"] if rng.random() < 0.3 else []
    return {"timezone": rng.choice(ZONES), "weekly": weekly, "holidays": holidays}


def brute_force(number, after, hours, fallback, horizon_days) -> datetime | None:
    """Minute by minute with ``may_call_at`` (``WeeklySchedule.is_open``): slow, obviously right."""
    limit = after + timedelta(days=horizon_days)
    if may_call_at(number, after, hours, fallback):
        return after
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while t <= limit:
        if may_call_at(number, t, hours, fallback):
            return t
        t += timedelta(minutes=1)
    return None


def test_the_search_finds_what_stepping_minute_by_minute_finds():
    rng = random.Random(20261123)
    for _ in range(15):
        number, hours = rng.choice(NUMBERS), random_hours(rng)
        after = rng.choice(DST_WEEKS) + timedelta(seconds=rng.randrange(3 * 86400))
        expected = brute_force(number, after, hours, "America/Chicago", 2)
        assert next_contact_time(number, after, hours, "America/Chicago", 2) == expected, \
            (number, hours, after)


def test_open_now_means_the_search_answers_now():
    rng = random.Random(7)
    for _ in range(400):
        number, hours = rng.choice(NUMBERS), random_hours(rng)
        at = rng.choice(DST_WEEKS) + timedelta(minutes=rng.randrange(8 * 24 * 60))
        found = next_contact_time(number, at, hours, "America/Chicago")
        assert (found == at) == may_call_at(number, at, hours, "America/Chicago")
        assert found is None or may_call_at(number, found, hours, "America/Chicago")


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        next_contact_time(US, datetime(2026, 11, 23, 12, 0), None)
    with pytest.raises(ValueError):
        may_call_at(US, datetime(2026, 11, 23, 12, 0), None)
