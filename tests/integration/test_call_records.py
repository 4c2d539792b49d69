"""Call records under Twilio's retries and out-of-order callbacks, against DynamoDB Local."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.calls.model import Call
from chalicelib.store import calls
from chalicelib.store.models import CallRecord

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def new_sid() -> str:
    return "CA" + uuid.uuid4().hex


def outcome(twiml: str, node: str = "menu", visited=("welcome", "menu")) -> calls.StepOutcome:
    return calls.StepOutcome(
        flow_id="main", flow_version=1, language="en-US", node=node, visited=list(visited),
        vars={"pin": "1234"}, attempts={}, inputs={}, twiml=twiml, outcome=None,
    )


def started(sid: str) -> Call:
    call = calls.NewCall(sid, "+14155550100", "+14155550111", "inbound", None,
                         {"number": None, "voicemail": True})
    return calls.start_call(call, outcome("<Response>step1</Response>"), now=NOW,
                            retention_days=30)


def advance(record, expected, twiml):
    calls.advance_call(record, expected, outcome(twiml, "next", ["next"]), now=NOW)


def test_a_retried_first_webhook_finds_the_call_already_answered():
    sid = new_sid()
    started(sid)
    with pytest.raises(calls.StepConflict) as conflict:
        started(sid)
    assert conflict.value.record.last_response == "<Response>step1</Response>"


def test_racing_requests_for_one_step_advance_the_call_exactly_once():
    # Given one call at step 1 and eight Lambdas handling the same step at once
    sid = new_sid()
    started(sid)
    records = [calls.get_call(sid) for _ in range(8)]

    def attempt(i):
        try:
            advance(records[i], 1, f"<Response>answer {i}</Response>")
            return "won"
        except calls.StepConflict as conflict:
            return conflict.record.last_response

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    # Then exactly one advanced it, and every loser sees the winner's answer to replay
    assert outcomes.count("won") == 1
    record = calls.get_call(sid)
    assert record.step == 2
    assert record.path == ["welcome", "menu", "next"]
    assert all(o == record.last_response for o in outcomes if o != "won")


def test_status_callbacks_apply_in_order_whatever_order_they_arrive_in():
    sid = new_sid()
    started(sid)
    kw = dict(now=NOW, retention_days=30)
    assert calls.apply_status(sid, "completed", sequence=3, duration=42, **kw)
    # late, older events change nothing
    assert not calls.apply_status(sid, "in-progress", sequence=2, duration=None, **kw)
    assert not calls.apply_status(sid, "ringing", sequence=1, duration=None, **kw)
    # a duplicate changes nothing either
    assert not calls.apply_status(sid, "completed", sequence=3, duration=99, **kw)
    record = calls.get_call(sid)
    assert (record.status, record.duration, record.status_seq) == ("completed", 42, 3)
    assert record.vars is None, "live variables (maybe sensitive) are dropped at the end"
    assert record.open_bucket is None
    assert record.expires > NOW + timedelta(days=29)


def test_a_status_callback_before_the_ivr_does_not_block_the_call():
    sid = new_sid()
    assert calls.apply_status(sid, "ringing", sequence=1, duration=None, now=NOW,
                              retention_days=30, hotline="+14155550100")
    record = started(sid)
    assert record.step == 1


def test_unknown_status_is_refused():
    with pytest.raises(ValueError):
        calls.apply_status(new_sid(), "exploded", sequence=1, duration=None, now=NOW,
                           retention_days=30)


def test_the_sweeper_closes_calls_whose_final_callback_was_lost():
    sid = new_sid()
    started(sid)
    assert sid in calls.stale_open_calls(NOW + timedelta(hours=5))
    assert calls.close_stale_call(sid, NOW + timedelta(hours=5))
    assert not calls.close_stale_call(sid, NOW + timedelta(hours=5))
    record = calls.get_call(sid)
    assert record.outcome == "lost" and record.vars is None
    assert sid not in calls.stale_open_calls(NOW + timedelta(hours=5))


def test_a_call_is_the_stored_item_under_the_same_names():
    # every stored attribute reaches the domain, and a Call names nothing the item lacks
    assert {f.name for f in fields(Call)} == set(CallRecord.get_attributes())
    item = CallRecord("CA1", caller="+14155550111", step=3, path=["welcome"], started_at=NOW,
                      consult={"leg": None}, flow_version=2)
    assert calls._to_call(item) == Call("CA1", caller="+14155550111", step=3, path=["welcome"],
                                       started_at=NOW, consult={"leg": None}, flow_version=2)
