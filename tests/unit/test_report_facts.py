"""Facts and the slots they count in: the local day and half-hour, DST nights included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.facts import DAY, Fact, add_up, half_hours_of, local_slot, slots

NY = "America/New_York"


def fact(fact_id: str, at: datetime, **values: int) -> Fact:
    return Fact(fact_id, "queue_answered", at, NY, {"queue": "support", "agent": "a-1"},
                values or {"answered": 1})


def test_a_fact_counts_in_its_local_day_and_half_hour_for_each_scope():
    # 03:10 UTC on 1 Dec is 22:10 on 30 Nov in New York
    found = slots(fact("f1", datetime(2026, 12, 1, 3, 10, tzinfo=UTC)))
    assert [(s.key, s.slot) for s in found] == [
        ("agent#a-1#2026-11-30", DAY), ("agent#a-1#2026-11-30", "22:00"),
        ("queue#support#2026-11-30", DAY), ("queue#support#2026-11-30", "22:00")]


def test_the_repeated_hour_of_a_fall_back_night_has_half_hours_of_its_own():
    # 1 Nov 2026: 01:00-02:00 happens twice in New York (EDT, then EST)
    first = datetime(2026, 11, 1, 5, 40, tzinfo=UTC)  # 01:40 EDT
    second = datetime(2026, 11, 1, 6, 40, tzinfo=UTC)  # 01:40 EST
    assert local_slot(first, NY) == (date(2026, 11, 1), "01:30")
    assert local_slot(second, NY) == (date(2026, 11, 1), "01:30+")
    totals = add_up([fact("a", first), fact("b", second)])
    assert totals[("queue#support#2026-11-01", "01:30")] == {"answered": 1}
    assert totals[("queue#support#2026-11-01", "01:30+")] == {"answered": 1}
    assert totals[("queue#support#2026-11-01", DAY)] == {"answered": 2}


def test_a_spring_forward_night_skips_its_missing_half_hours():
    # 8 Mar 2026: 02:00-03:00 does not happen in New York; 06:59 UTC is 01:59 EST, 07:00 is 03:00
    assert local_slot(datetime(2026, 3, 8, 6, 59, tzinfo=UTC), NY)[1] == "01:30"
    assert local_slot(datetime(2026, 3, 8, 7, 0, tzinfo=UTC), NY)[1] == "03:00"
    hours = half_hours_of(date(2026, 3, 8), NY)
    assert len(hours) == 46 and "02:00" not in hours and "02:30" not in hours


@pytest.mark.parametrize(("day", "count"), [
    (date(2026, 11, 30), 48), (date(2026, 11, 1), 50), (date(2026, 3, 8), 46)])
def test_a_day_has_48_half_hours_or_46_or_50(day, count):
    hours = half_hours_of(day, NY)
    assert len(hours) == len(set(hours)) == count and hours[0] == "00:00"


def test_every_moment_of_a_dst_day_falls_in_one_of_its_half_hours():
    for day in (date(2026, 3, 8), date(2026, 11, 1)):
        hours = set(half_hours_of(day, NY))
        start = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
        for minute in range(0, 26 * 60, 7):
            local_day, half = local_slot(start + timedelta(minutes=minute), NY)
            if local_day == day:
                assert half in hours


def test_the_same_fact_twice_adds_up_once():
    at = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    totals = add_up([fact("x", at, answered=1, wait_seconds=12)] * 2 +
                    [fact("y", at, answered=1, wait_seconds=3)])
    assert totals[("queue#support#2026-11-30", DAY)] == {"answered": 2, "wait_seconds": 15}


@pytest.mark.parametrize(("change", "words"), [
    ({"fact_id": ""}, "fact_id"), ({"kind": "Bad Kind"}, "kind"),
    ({"at": datetime(2026, 11, 30, 15, 0)}, "aware"), ({"zone": "Mars/Olympus"}, "zone"),
    ({"scopes": {"planet": "x"}}, "scopes"), ({"values": {"answered": 1.5}}, "values"),
    ({"values": {"answered": True}}, "values"),
])
def test_a_fact_that_cannot_be_counted_is_refused(change, words):
    fields = {"fact_id": "f", "kind": "queue_offered", "zone": NY,
              "at": datetime(2026, 11, 30, 15, 0, tzinfo=UTC), "scopes": {"queue": "q"},
              "values": {"offered": 1}, **change}
    with pytest.raises(ValueError, match=words):
        Fact(**fields).check()
