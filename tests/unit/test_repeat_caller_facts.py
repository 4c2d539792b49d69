"""The repeat-callers and missed-call facts, and the arithmetic of the two reports, on
hand-made counts: the day-only ``callers`` scope, the sliding window, first-contact resolution
and the follow-up figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.callbacks.missed_facts import follow_up_fact, missed_fact, record_id
from chalicelib.callbacks.model import MissedCall
from chalicelib.calls.model import Call
from chalicelib.facts import DAY, Fact, add_up, slots
from chalicelib.ivr.caller_facts import (
    SHARDS,
    caller_fact,
    callers_id,
    number_of,
    served,
    served_name,
    served_number_of,
    shard,
    value_name,
)
from chalicelib.reports.missed import missed_figures
from chalicelib.reports.repeat_arithmetic import (
    days_to_read,
    e164,
    most_in_window,
    repeat_figures,
)

AT = datetime(2026, 11, 23, 15, 10, tzinfo=UTC)
HOTLINE, NUMBER = "+14155550100", "+14155550123"
D1 = date(2026, 11, 23)


def day(n: int) -> date:
    return D1 + timedelta(days=n)


def test_a_caller_fact_counts_the_number_in_its_shard_on_its_day_only():
    fact = caller_fact("CA1", HOTLINE, NUMBER, AT, "America/New_York", served=False)
    assert fact.fact_id == "call:CA1:caller" and fact.values == {"n_14155550123": 1}
    assert caller_fact("CA1", HOTLINE, NUMBER, AT, "UTC", served=True).values == {
        "n_14155550123": 1, "s_14155550123": 1}
    assert served_name(NUMBER) == "s_14155550123" and served_number_of("s_14155550123") == NUMBER
    assert number_of("s_14155550123") is None and served_number_of("n_14155550123") is None
    assert fact.scopes == {"callers": f"{HOTLINE}#{shard(NUMBER)}"}
    assert [(s.key, s.slot) for s in slots(fact)] == [
        (f"callers#{HOTLINE}#{shard(NUMBER)}#2026-11-23", DAY)]
    assert value_name(NUMBER) == "n_14155550123" and number_of("n_14155550123") == NUMBER
    assert number_of("calls") is None
    assert {shard(f"+1415555{n:04d}") for n in range(200)} == set(range(SHARDS))
    assert callers_id(HOTLINE, 3) == f"{HOTLINE}#3"


def test_other_scopes_keep_their_half_hours_and_add_up_agrees_with_slots():
    both = Fact("f1", "x", AT, "UTC", {"hotline": HOTLINE, "callers": "h#1"}, {"n_1": 1})
    assert sorted((s.scope, s.slot) for s in slots(both)) == [
        ("callers", DAY), ("hotline", "15:00"), ("hotline", DAY)]
    summed = add_up([both, both])
    assert summed == {(f"callers#h#1#{D1}", DAY): {"n_1": 1},
                      (f"hotline#{HOTLINE}#{D1}", DAY): {"n_1": 1},
                      (f"hotline#{HOTLINE}#{D1}", "15:00"): {"n_1": 1}}


def test_the_window_reaches_before_the_range_and_first_contact_after_it():
    assert days_to_read(day(0), day(1), 7)[0] == day(-6)
    assert days_to_read(day(0), day(1), 7)[-1] == day(7)
    counts = {day(-1): 2, day(0): 1, day(9): 5}
    assert most_in_window(counts, day(0), day(0), 2) == 3
    assert most_in_window(counts, day(0), day(0), 1) == 1
    assert most_in_window(counts, day(1), day(1), 2) == 1  # day -1 is out of the window


@pytest.mark.parametrize("record, expected", [
    (Call("CA1", agent_id="a-1", queue_id="support", outcome="queue"), True),  # answered
    (Call("CA1", outcome="transfer"), True),  # put through to the operator
    (Call("CA1", queue_id="support", outcome="transfer"), True),  # the queue's overflow number
    (Call("CA1", outcome="hangup"), True),  # the flow said goodbye at a hangup node
    (Call("CA1"), False),  # hung up in a menu: the flow never ended
    (Call("CA1", queue_id="support", outcome="queue"), False),  # abandoned in the queue
    (Call("CA1", queue_id="support"), False),  # hung up while waiting, before the flow heard
    (Call("CA1", queue_id="support", outcome="hangup"), False),  # overflow, then no message
    (Call("CA1", outcome="voicemail"), False),  # someone has to call back
    (Call("CA1", outcome="callback"), False),
    (Call("CA1", outcome="lost"), False),
])
def test_a_call_is_served_by_an_agent_a_transfer_or_the_flow_running_to_its_end(record,
                                                                                 expected):
    assert served(record) is expected


def test_repeat_callers_and_first_contact_resolution_on_hand_made_counts():
    counts = {
        "+1001": {day(0): 2, day(1): 1},  # 3 in two days: a repeat caller, not resolved
        "+1002": {day(0): 1},  # once: resolved
        "+1003": {day(1): 1, day(8): 1},  # again 7 days later: resolved for D=7, not D=8
        "+1004": {day(-3): 5},  # only before the range: not a caller of it
        "+1005": {day(-1): 2, day(1): 1},  # the window reaches back: 3 in 3 days
    }
    served = {"+1001": {day(0): 1}, "+1002": {day(0): 1}, "+1003": {day(1): 1, day(8): 1},
              "+1004": {day(-3): 5}, "+1005": {day(-1): 2, day(1): 1}}
    rows, totals = repeat_figures(counts, day(0), day(1), 3, 7, served=served)
    assert [(r["number"], r["calls"], r["most_in_window"], r["first_day"], r["last_day"])
            for r in rows] == [("+1001", 3, 3, "2026-11-23", "2026-11-24"),
                               ("+1005", 1, 3, "2026-11-24", "2026-11-24")]
    assert totals == {"callers": 4, "calls": 6, "repeat_callers": 2, "served_callers": 4,
                      "first_contact_resolution": 0.75}
    assert repeat_figures(counts, day(0), day(1), 3, 8, served=served)[1][
        "first_contact_resolution"] == 0.5
    assert repeat_figures({}, day(0), day(1), 3, 7, served={})[1][
        "first_contact_resolution"] is None


def test_a_caller_nobody_served_is_neither_resolved_nor_counted_in_first_contact():
    counts = {
        "+1001": {day(0): 1},  # served once, never again: resolved
        "+1002": {day(0): 1},  # abandoned in the queue, never called again
        "+1003": {day(0): 1},  # hung up in a menu, never called again
        "+1004": {day(0): 1, day(1): 1},  # served, then called again: not resolved
        "+1005": {day(1): 1},  # served nowhere but on another day: not on the first day
    }
    served = {"+1001": {day(0): 1}, "+1004": {day(0): 1, day(1): 1}, "+1005": {day(3): 1}}
    totals = repeat_figures(counts, day(0), day(1), 3, 7, served=served)[1]
    assert (totals["callers"], totals["calls"], totals["served_callers"]) == (5, 6, 2)
    assert totals["first_contact_resolution"] == 0.5  # +1001 of +1001 and +1004
    # nobody served: no first contact to resolve, not 100 %
    unserved = repeat_figures({"+1002": {day(0): 1}}, day(0), day(1), 3, 7, served={})[1]
    assert (unserved["callers"], unserved["first_contact_resolution"]) == (1, None)
    # abandoned, then served the same day: served (the order in a day is not kept), not resolved
    twice = repeat_figures({"+1006": {day(0): 2}}, day(0), day(0), 3, 7,
                           served={"+1006": {day(0): 1}})[1]
    assert (twice["served_callers"], twice["first_contact_resolution"]) == (1, 0.0)


MISSED = MissedCall(hotline=HOTLINE, caller=NUMBER, status="open", miss_count=2, first_at=AT,
                    queue_id="support")


def test_a_miss_fact_is_one_per_call_and_a_follow_up_one_per_record():
    fact = missed_fact(MISSED, "voicemail", "CA9", "support", AT, "UTC")
    assert fact.fact_id == f"call:CA9:missed:{HOTLINE}"
    assert fact.scopes == {"hotline": HOTLINE, "queue": "support"}
    assert fact.values == {"missed": 1, "missed_voicemail": 1}
    without = missed_fact(MISSED, "callback_failed", None, None, AT, "UTC")
    assert without.fact_id == f"{record_id(MISSED)}:miss:2"
    assert without.scopes == {"hotline": HOTLINE}
    assert record_id(MISSED) == "missed:14155550100-14155550123:2026-11-23T15:10:00+00:00"
    later = follow_up_fact(MISSED, AT + timedelta(minutes=3), "UTC")
    assert later.fact_id == f"{record_id(MISSED)}:followed_up"
    assert later.values == {"missed_followed_up": 1, "follow_up_seconds": 180}
    assert follow_up_fact(MISSED, AT - timedelta(seconds=5), "UTC").values[
        "follow_up_seconds"] == 0


@pytest.mark.parametrize("values, expected", [
    ({}, (0, 0, None)),
    ({"missed": 3, "missed_abandoned": 2, "missed_followed_up": 2, "follow_up_seconds": 301},
     (3, 2, 150)),
])
def test_missed_figures(values, expected):
    figures = missed_figures(values)
    assert (figures["missed"], figures["abandoned"], figures["average_follow_up_seconds"]) == \
        expected


@pytest.mark.parametrize("given", ["+14155550100", "%2B14155550100", "14155550100",
                                   " 14155550100"])
def test_a_hotline_in_a_query_is_read_as_e164(given):
    assert e164(given) == "+14155550100"
