"""The missed-calls report from real misses: voicemails through the carrier and a failed
callback leave ``missed_call`` facts, their follow-ups (an automatic callback request and text,
or a person resolving the record) ``missed_follow_up`` facts, the rollups add them up (what the
stream does) and the report counts each miss once, by reason, with how fast it was followed up."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.callbacks import missed as missed_calls
from chalicelib.callbacks.missed import record_missed_call, resolve_missed_call
from chalicelib.reports import missed
from chalicelib.settings import get_settings
from chalicelib.store import directory, facts, rollups
from chalicelib.store.hotline_zone import hotline_zone
from chalicelib.store.models import Hotline
from chalicelib.wiring import root
from tests.integration.conftest import OPEN_HOURS

VOICEMAIL = ["1", "3", "record:5:please call me"]  # English, main menu 3, a message
DAY = OPEN_HOURS.date()


def make_hotline(**policy) -> str:
    number = f"+1312555{random.randrange(10_000):04d}"
    Hotline(number, name="Missed Report Line", entry_flow="main", default_language="en-US",
            default_region="US", allowed_regions=["US", "CA"],
            missed_call_sms=policy.get("follow_up", False),
            missed_call_callback=policy.get("follow_up", False),
            missed_call_queue="support").save()
    directory.clear_cache()
    return number


def apply_stored() -> list:
    """What the stream consumer does; the missed-call facts it added."""
    return [f for f in facts.facts_of_days(DAY - timedelta(days=1), DAY + timedelta(days=1))
            if rollups.apply_fact(f) and f.kind.startswith("missed_")]


def row(report: dict, hotline: str) -> dict:
    return next(r for r in report["rows"] if r["hotline"] == hotline and r["day"] ==
                DAY.isoformat())


def test_misses_count_once_by_reason_and_a_resolve_is_the_follow_up(carrier, client, clock):
    line = make_hotline()
    first, second = "+16175550141", "+16175550142"
    for caller in (first, first, second):  # two calls from one number: two misses, one record
        t = carrier.place_inbound_call(line, caller, VOICEMAIL)
        assert not t.errors and not t.application_error, t.errors
        clock.now += timedelta(minutes=10)
    # a failed callback has no CallSid: each one is a miss of its own
    record_missed_call(hotline=line, caller=second, reason="callback_failed", call_sid=None,
                       language=None, queue_id="support", now=clock.now,
                       settings=get_settings(), gate=root().compliance)
    # the same call reported again (a retried webhook): counted once
    record_missed_call(hotline=line, caller=second, reason="voicemail", call_sid=t.call_sid,
                       language=None, queue_id=None, now=clock.now, settings=get_settings(),
                       gate=root().compliance)
    clock.now = OPEN_HOURS + timedelta(hours=1, seconds=30)
    resolve_missed_call(line, first, None, clock.now)

    added = apply_stored()
    assert sorted(f.kind for f in added) == ["missed_call"] * 4 + ["missed_follow_up"]
    assert {f.zone for f in added} == {hotline_zone(line)}
    assert hotline_zone(line) == "America/New_York"  # the entry flow's hours node
    report = missed.report(DAY, DAY, "day", line)
    assert row(report, line) == {
        "hotline": line, "day": DAY.isoformat(), "missed": 4, "abandoned": 0,
        "after_hours": 0, "voicemail": 3, "callback_failed": 1, "followed_up": 1,
        "average_follow_up_seconds": 3630}  # the first miss at 15:00, resolved at 16:00:30
    assert report["totals"] == [{k: v for k, v in row(report, line).items() if k != "day"}]
    assert missed.columns(report)[:3] == ["hotline", "day", "missed"]

    # resolving again (the record is gone: nothing to resolve) and the stream again: no change
    with pytest.raises(NotFound):
        resolve_missed_call(line, first, None, clock.now)
    assert apply_stored() == []
    assert row(missed.report(DAY, DAY, "day", line), line)["missed"] == 4


def test_an_automatic_follow_up_counts_once_per_record(carrier, client, clock):
    line = make_hotline(follow_up=True)
    caller = "+16175550143"
    carrier.place_inbound_call(line, caller, VOICEMAIL)
    clock.now += timedelta(minutes=20)
    carrier.place_inbound_call(line, caller, VOICEMAIL)  # merged: the record is followed up
    resolve_missed_call(line, caller, None, clock.now)  # a later follow-up of the same record
    apply_stored()
    figures = row(missed.report(DAY, DAY, "day", line), line)
    assert (figures["missed"], figures["voicemail"], figures["followed_up"]) == (2, 2, 1)
    assert figures["average_follow_up_seconds"] == 0  # the callback was requested at once


def test_every_hotline_has_a_row_per_day_and_errors_are_named(client):
    line = make_hotline()
    report = missed.report(DAY, DAY + timedelta(days=1), "day", None)
    assert [r["day"] for r in report["rows"] if r["hotline"] == line] == [
        DAY.isoformat(), (DAY + timedelta(days=1)).isoformat()]
    assert row(report, line)["missed"] == 0
    assert row(report, line)["average_follow_up_seconds"] is None
    assert missed.REASONS == missed_calls.REASONS
    with pytest.raises(NotFound):
        missed.report(DAY, DAY, "day", "+19995550100")
    with pytest.raises(InvalidRequest):
        missed.report(DAY, DAY, "half-hour", line)
