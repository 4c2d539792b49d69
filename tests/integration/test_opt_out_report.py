"""Opt-outs per channel: a STOP text is a fact once however often Twilio delivers it, a START is
an opt-in, a carrier's refusal of a call is a voice opt-out, and the opt-outs report adds them
up per channel and UTC day. DynamoDB Local, the SMS webhook."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.consent import VOICE, record_opt_out
from chalicelib.reports import opt_outs, routes
from chalicelib.store import facts, rollups
from tests.integration.conftest import OPEN_HOURS
from tests.integration.test_sms_channel import HOTLINE, number, text

DAY = OPEN_HOURS.date()


def stream(first: date, last: date) -> None:
    for fact in facts.facts_of_days(first, last):
        rollups.apply_fact(fact)


def consent_facts(kind: str) -> list:
    return [f for f in facts.facts_of_days(DAY, DAY + timedelta(days=1)) if f.kind == kind]


def test_stops_retried_and_starts_count_once_per_message(client, clock):
    first, second = number(), number()
    _, stop_sid = text(client, first, "STOP")
    text(client, first, "STOP", message_sid=stop_sid)  # Twilio retries the webhook
    clock.now = OPEN_HOURS + timedelta(minutes=5)
    text(client, second, "STOP")
    clock.now = OPEN_HOURS + timedelta(minutes=10)
    text(client, second, "START")
    clock.now = OPEN_HOURS + timedelta(days=1)  # the next UTC day
    text(client, first, "START")

    stops = consent_facts("opt_out")
    assert len(stops) == 2 and {f.scopes["channel"] for f in stops} == {"sms"}
    assert {f.scopes["hotline"] for f in stops} == {HOTLINE}
    assert all(first not in f.fact_id and second not in f.fact_id for f in stops)
    stream(DAY, DAY + timedelta(days=1))
    stream(DAY, DAY + timedelta(days=1))  # the stream delivers again: nothing more

    report = opt_outs.report(DAY, DAY + timedelta(days=1), "day", None)
    sms = [r for r in report["rows"] if r["channel"] == "sms"]
    assert sms == [
        {"channel": "sms", "day": DAY.isoformat(), "opt_outs": 2, "opt_ins": 1, "net": 1},
        {"channel": "sms", "day": (DAY + timedelta(days=1)).isoformat(), "opt_outs": 0,
         "opt_ins": 1, "net": -1}]
    assert {"channel": "sms", "opt_outs": 2, "opt_ins": 2, "net": 0} in report["totals"]
    assert [r["opt_outs"] for r in report["rows"] if r["channel"] == "voice"] == [0, 0]


def test_an_opt_out_older_than_an_opt_in_in_force_is_no_fact(client, clock):
    customer = number()
    clock.now = OPEN_HOURS + timedelta(minutes=1)
    text(client, customer, "START")
    clock.now = OPEN_HOURS
    assert not record_opt_out(customer, "STOP", OPEN_HOURS, message_sid="SM" + "0" * 32)
    assert consent_facts("opt_out") == []


def test_a_carrier_refusing_a_call_is_a_voice_opt_out(client):
    customer = number()
    assert record_opt_out(customer, "carrier:21610", OPEN_HOURS, channel=VOICE)
    assert record_opt_out(customer, "carrier:21610", OPEN_HOURS, channel=VOICE)  # again
    stream(DAY, DAY)
    report = opt_outs.report(DAY, DAY, "day", "voice")
    assert report["rows"] == [{"channel": "voice", "day": DAY.isoformat(), "opt_outs": 1,
                               "opt_ins": 0, "net": 1}]


def test_refusals():
    with pytest.raises(NotFound):
        opt_outs.report(DAY, DAY, "day", "fax")
    with pytest.raises(InvalidRequest):
        opt_outs.report(DAY, DAY, "half-hour", None)
    with pytest.raises(InvalidRequest):
        opt_outs.report(DAY - timedelta(days=400), DAY, "day", None)


def test_through_the_reports_api(client, monkeypatch):
    monkeypatch.setitem(routes.KINDS, "opt-outs", opt_outs)  # the lead registers it
    text(client, number(), "STOP")
    stream(DAY, DAY)
    response = client.http.get(f"/reports/opt-outs?from={DAY}&to={DAY}&channel=sms")
    assert response.status_code == 200
    assert json.loads(response.body)["totals"] == [
        {"channel": "sms", "opt_outs": 1, "opt_ins": 0, "net": 1}]
    assert client.http.get(f"/reports/opt-outs?from={DAY}&to={DAY}&channel=fax"
                           ).status_code == 404
    response = client.http.get(f"/reports/opt-outs?from={DAY}&to={DAY}&format=csv")
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert body.splitlines()[0] == "channel,day,opt_outs,opt_ins,net"
