"""Next week's forecast per local half-hour (weights K..1, DST days) and the staffing plan on it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.reports.forecast import Interval, forecast_week, half_hours, staffing_plan

NEW_YORK = ZoneInfo("America/New_York")


def weeks_of_history(first_day, days, calls=12.0, aht=200.0, skip=()):
    """Naive local half-hour rows, every half-hour of ``days`` days, ``calls`` calls each."""
    rows = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for slot in range(48):
            start = datetime(day.year, day.month, day.day, slot // 2, 30 * (slot % 2))
            if start not in skip:
                rows.append((start, calls, aht))
    return rows


def test_a_steady_history_forecasts_the_same_for_all_336_half_hours():
    # Given four weeks of 12 calls every half-hour at 200 s (Monday 2026-01-05 onwards)
    history = weeks_of_history(date(2026, 1, 5), 28)
    # When next week is forecast
    week = forecast_week(history, date(2026, 2, 2), NEW_YORK)
    # Then every half-hour gets 12 calls at 200 s, starting at local midnight
    assert len(week) == 336
    assert week[0].start == datetime(2026, 2, 2, 0, 0, tzinfo=NEW_YORK)
    assert week[-1].start == datetime(2026, 2, 8, 23, 30, tzinfo=NEW_YORK)
    assert {(i.offered, i.aht_seconds) for i in week} == {(12.0, 200.0)}


def test_recent_weeks_weigh_more_k_down_to_1():
    # Monday 9:00 over four weeks, oldest first: 10, 20, 30, 40 calls
    mondays = [datetime(2026, 1, 5, 9), datetime(2026, 1, 12, 9), datetime(2026, 1, 19, 9),
               datetime(2026, 1, 26, 9)]
    history = [(start, calls, 180.0) for start, calls in zip(mondays, (10, 20, 30, 40),
                                                              strict=True)]
    week = forecast_week(history, date(2026, 2, 2), NEW_YORK, weeks=4)
    nine = next(i for i in week if i.start.hour == 9 and i.start.minute == 0)
    assert nine.offered == pytest.approx((4 * 40 + 3 * 30 + 2 * 20 + 1 * 10) / 10)  # 30
    # Monday 9:30 had no row in the covered weeks: zero calls, the overall AHT
    half_past = next(i for i in week if i.start.hour == 9 and i.start.minute == 30)
    assert half_past.offered == 0
    assert half_past.aht_seconds == 180.0
    # Only the last two weeks: (2·40 + 1·30) / 3
    assert forecast_week(history, date(2026, 2, 2), NEW_YORK, weeks=2)[18].offered == \
        pytest.approx(110 / 3)


def test_the_forecast_handle_time_is_weighted_by_calls():
    history = [(datetime(2026, 1, 19, 9), 10, 100.0), (datetime(2026, 1, 26, 9), 30, 200.0)]
    nine = forecast_week(history, date(2026, 2, 2), NEW_YORK)[18]
    assert nine.start.hour == 9
    assert nine.aht_seconds == pytest.approx((10 * 100 + 30 * 200) / 40)  # 175


def test_weeks_before_the_history_began_do_not_count_as_quiet_weeks():
    # Two weeks of history, four weeks asked for: the average is over the two that exist
    history = weeks_of_history(date(2026, 1, 19), 14)
    assert {i.offered for i in forecast_week(history, date(2026, 2, 2), NEW_YORK)} == {12.0}


def test_aware_history_is_read_in_the_queue_time_zone():
    # 14:00 UTC on a winter Monday is 9:00 in New York
    history = [(datetime(2026, 1, 26, 14, tzinfo=ZoneInfo("UTC")), 8, 150.0)]
    week = forecast_week(history, date(2026, 2, 2), NEW_YORK, weeks=1)
    assert [i.start.hour for i in week if i.offered] == [9]


def test_the_spring_forward_week_in_new_york_has_46_half_hours_on_sunday():
    # Sunday 2026-03-08: 2:00 becomes 3:00
    history = weeks_of_history(date(2026, 2, 2), 28)
    week = forecast_week(history, date(2026, 3, 2), NEW_YORK)
    assert len(week) == 336 - 2
    sunday = [i for i in week if i.start.date() == date(2026, 3, 8)]
    assert len(sunday) == 46
    assert [(i.start.hour, i.start.minute) for i in sunday[3:6]] == [(1, 30), (3, 0), (3, 30)]
    # Consecutive half-hours are 30 real minutes apart across the change
    instants = [i.start.timestamp() for i in week]
    assert all(later - earlier == 1800 for earlier, later in zip(instants, instants[1:],
                                                                 strict=False))
    assert {i.offered for i in week} == {12.0}


def test_the_week_after_spring_forward_leaves_the_missing_half_hours_out_not_as_zero():
    # History through Sunday 2026-03-08, which had no 2:00 or 2:30
    history = weeks_of_history(date(2026, 2, 9), 28, skip={datetime(2026, 3, 8, 2),
                                                          datetime(2026, 3, 8, 2, 30)})
    week = forecast_week(history, date(2026, 3, 9), NEW_YORK)
    sunday_two = [i for i in week if i.start.date() == date(2026, 3, 15) and i.start.hour == 2]
    assert [i.offered for i in sunday_two] == [12.0, 12.0]


def test_the_fall_back_week_in_new_york_has_50_half_hours_on_sunday():
    # Sunday 2026-11-01: 1:00 to 2:00 happens twice
    history = weeks_of_history(date(2026, 10, 5), 21) + [
        (datetime(2026, 10, 25, 1), 40, 300.0)]  # a second row: adds to last Sunday's 1:00
    week = forecast_week(history, date(2026, 10, 26), NEW_YORK)
    assert len(week) == 336 + 2
    sunday = [i for i in week if i.start.date() == date(2026, 11, 1)]
    assert len(sunday) == 50
    one_oclock = [i for i in sunday if i.start.hour == 1 and i.start.minute == 0]
    assert [i.start.fold for i in one_oclock] == [0, 1]
    assert one_oclock[1].start.timestamp() - one_oclock[0].start.timestamp() == 3600
    # Both occurrences are forecast from the same past 1:00 (12 + 40 calls last Sunday); three
    # Sundays of history, weights 4, 3, 2 (the fourth week back is before the history began)
    expected = (4 * 52 + 3 * 12 + 2 * 12) / 9
    assert [i.offered for i in one_oclock] == [pytest.approx(expected)] * 2
    instants = [i.start.timestamp() for i in week]
    assert instants == sorted(instants) and len(set(instants)) == len(instants)


def test_half_hours_of_ordinary_and_dst_days():
    assert len(half_hours(date(2026, 3, 7), NEW_YORK)) == 48
    assert len(half_hours(date(2026, 3, 8), NEW_YORK)) == 46
    assert len(half_hours(date(2026, 11, 1), NEW_YORK)) == 50


def test_no_history_forecasts_no_calls_and_the_plan_needs_no_agents():
    week = forecast_week([], date(2026, 2, 2), NEW_YORK)
    assert len(week) == 336
    assert {(i.offered, i.aht_seconds) for i in week} == {(0.0, 180.0)}
    assert {staffing.agents for _, staffing in staffing_plan(week, 0.8, 20, 0.3)} == {0}


@pytest.mark.parametrize("kwargs", [{"weeks": 0}, {"default_aht_seconds": 0}])
def test_nonsense_forecast_input_is_refused(kwargs):
    with pytest.raises(ValueError):
        forecast_week([], date(2026, 2, 2), NEW_YORK, **kwargs)
    with pytest.raises(ValueError):
        forecast_week([(datetime(2026, 1, 26, 9), -1, 180.0)], date(2026, 2, 2), NEW_YORK)


def test_the_staffing_plan_gives_each_half_hour_its_agents():
    start = datetime(2026, 2, 2, 9, tzinfo=NEW_YORK)
    intervals = [Interval(start, 100, 180), Interval(start + timedelta(minutes=30), 50, 180)]
    plan = staffing_plan(intervals, 0.8, 20, 0.3)
    assert [interval for interval, _ in plan] == intervals
    assert [(s.agents, s.scheduled_agents) for _, s in plan] == [(14, 20), (8, 12)]
    impatient = staffing_plan(intervals, 0.8, 20, 0.3, patience=120)
    assert all(s.abandon_share is not None for _, s in impatient)
    assert impatient[0][1].agents <= 14
    with pytest.raises(ValueError):
        staffing_plan(intervals, 0.8, 20, 1.0)


def test_a_repeated_hour_in_the_history_is_read_once_its_first_occurrence():
    utc = ZoneInfo("UTC")
    history = [(datetime(2026, 11, 1, 5, tzinfo=utc), 10, 100.0),  # 1:00 EDT
               (datetime(2026, 11, 1, 6, tzinfo=utc), 30, 300.0)]  # 1:00 EST, the repeat
    week = forecast_week(history, date(2026, 11, 2), NEW_YORK, weeks=1)
    sunday_one = [i for i in week if i.start.date() == date(2026, 11, 8) and i.start.hour == 1
                  and i.start.minute == 0]
    assert [(i.offered, i.aht_seconds) for i in sunday_one] == [(10.0, 100.0)]
