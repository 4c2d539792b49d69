"""Repeat callers from real calls: the carrier places calls into the demo hotline on two days,
each final status leaves one ``caller`` fact, the rollups add them up (what the stream does) and
the repeat-callers report finds the number that called three times, with its last outcomes, and
the hotline's first-contact resolution over the callers that were served. A final status
delivered again adds nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.facts import DAY as DAY_SLOT
from chalicelib.ivr.caller_facts import SHARDS, callers_id, shard
from chalicelib.reports import repeat_callers
from chalicelib.store import facts, rollups
from chalicelib.store.models import CallRecord
from tests.integration.conftest import OPEN_HOURS, signed_post
from tests.integration.test_queue_calls import TO_QUEUE, support_queue  # noqa: F401

HOTLINE = "+14155550100"
REPEATER, ONCE, NEVER_SERVED = "+14155550191", "+14155550192", "+14155550193"
HANG_UP = ["1", "hangup"]  # English, then hangs up at the main menu: not served
# billing: the balance, then by text; the flow ends at its own hangup node: served
SELF_SERVICE = ["1", "1", "79927398713#", "1234", "1"]


def apply_stored(first, last) -> int:
    """What the stream consumer does; how many ``caller`` facts it added."""
    return sum(rollups.apply_fact(f) and f.kind == "caller"
               for f in facts.facts_of_days(first - timedelta(days=1), last + timedelta(days=1)))


def call(carrier, clock, caller: str, script: list[str] = HANG_UP) -> str:
    t = carrier.place_inbound_call(HOTLINE, caller, script)
    assert not t.errors and not t.application_error, t.errors
    clock.now += timedelta(minutes=5)
    return t.call_sid


def test_a_number_calling_three_times_in_two_days_is_a_repeat_caller(carrier, client, clock):
    day1 = clock.now.date()
    sids = [call(carrier, clock, REPEATER, SELF_SERVICE), call(carrier, clock, REPEATER),
            call(carrier, clock, ONCE, SELF_SERVICE), call(carrier, clock, NEVER_SERVED)]
    clock.now += timedelta(days=1)
    day2 = clock.now.date()
    sids.append(call(carrier, clock, REPEATER))
    assert apply_stored(day1, day2) == 5

    # the rollup: one day-only partition per shard and day, a count per number
    key = rollups.day_key("callers", callers_id(HOTLINE, shard(REPEATER)), day1)
    stored = rollups.read_day(key)
    assert set(stored) == {DAY_SLOT}  # no half-hours for a day-only scope
    assert stored[DAY_SLOT]["n_14155550191"] == 2
    assert stored[DAY_SLOT]["s_14155550191"] == 1  # the self-service call, not the hang-up
    assert 0 <= shard(REPEATER) < SHARDS

    report = repeat_callers.report(day1, day2, "day", HOTLINE, options={})
    assert (report["times"], report["days"]) == (3, 7)
    assert [(r["number"], r["calls"], r["most_in_window"], r["first_day"], r["last_day"])
            for r in report["rows"]] == [(REPEATER, 3, 3, day1.isoformat(), day2.isoformat())]
    # served first: the repeater (called again) and ONCE (resolved); the caller who only hung
    # up in the menu is a caller, but had no first contact to resolve
    assert report["totals"] == [{"hotline": HOTLINE, "callers": 3, "calls": 5,
                                 "repeat_callers": 1, "served_callers": 2,
                                 "first_contact_resolution": 0.5}]
    outcomes = report["rows"][0]["last_outcomes"]
    assert len(outcomes) <= 3
    assert report["rows"][0]["last_outcome"] == (outcomes[0]["outcome"] if outcomes else None)
    assert repeat_callers.columns(report)[0] == "number"

    # the second day alone: one call each is under N=3, but the window reaches back to day 1
    assert [r["number"] for r in repeat_callers.report(day2, day2, "day", HOTLINE,
                                                       options={})["rows"]] == [REPEATER]
    # a one-day window: nobody called 3 times in a day; N=2 finds the repeater on day 1
    narrow = repeat_callers.report(day1, day2, "day", HOTLINE, options={"days": "1"})
    assert narrow["rows"] == []
    two = repeat_callers.report(day1, day2, "day", HOTLINE, options={"days": "1", "times": "2"})
    assert [(r["number"], r["most_in_window"]) for r in two["rows"]] == [(REPEATER, 2)]

    # a final status delivered again: no new fact, nothing added twice
    response = signed_post(client, "/twilio/voice/status", {
        "CallSid": sids[0], "CallStatus": "completed", "CallDuration": "9",
        "SequenceNumber": "99", "From": REPEATER, "To": HOTLINE, "Direction": "inbound"})
    assert response.status_code == 200
    assert apply_stored(day1, day2) == 0
    assert repeat_callers.report(day1, day2, "day", HOTLINE, options={})["totals"][0][
        "calls"] == 5


def test_the_hotline_is_required_and_must_exist(client):
    day = OPEN_HOURS.date()
    with pytest.raises(InvalidRequest):
        repeat_callers.report(day, day, "day", None, options={})
    with pytest.raises(InvalidRequest):
        repeat_callers.report(day, day, "half-hour", HOTLINE, options={})
    with pytest.raises(InvalidRequest):
        repeat_callers.report(day, day, "day", HOTLINE, options={"times": "1"})
    with pytest.raises(NotFound):
        repeat_callers.report(day, day, "day", "+19995550100", options={})
    empty = repeat_callers.report(day, day, "day", HOTLINE, options={})
    assert empty["rows"] == [] and empty["totals"][0]["first_contact_resolution"] is None
    # a query's "+" decodes to a space, and digits alone name the hotline too
    assert repeat_callers.report(day, day, "day", " 14155550100", options={})["hotline"] == \
        HOTLINE


def test_a_call_an_agent_answered_is_served_and_one_abandoned_in_the_queue_is_not(
        carrier, support_queue):  # noqa: F811 - the fixture
    answered = carrier.place_inbound_call(HOTLINE, "+14155550194", TO_QUEUE)
    assert not answered.errors and answered.of_type("dial")[-1]["bridged"], answered.events
    second = carrier.place_inbound_call(HOTLINE, "+14155550195", TO_QUEUE)
    assert not second.errors, second.errors
    # both agents are in wrap-up now: this caller waits, then hangs up in the queue
    abandoned = carrier.place_inbound_call(HOTLINE, "+14155550196", [*TO_QUEUE, "hangup"])
    assert not abandoned.errors, abandoned.errors

    def values(t) -> dict:
        fact = facts.get(f"call:{t.call_sid}:caller")
        assert fact is not None
        return dict(fact.values)

    assert values(answered) == {"n_14155550194": 1, "s_14155550194": 1}
    assert values(abandoned) == {"n_14155550196": 1}
    record = CallRecord.get(abandoned.call_sid, consistent_read=True)
    assert (record.queue_id, record.agent_id) == ("support", None)  # it did wait in the line
