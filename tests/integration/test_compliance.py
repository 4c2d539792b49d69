"""The compliance gate with its storage and its API: the check, the do-not-call list, STOP,
contacts remembered once per key and refusals audited."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest

from chalicelib.compliance.rules import FREQUENCY_CAP, INFORMATIONAL, VOICE
from chalicelib.store import compliance as store
from chalicelib.wiring import root
from tests.integration.conftest import signed_post

HOTLINE = "+14155550100"
NOON_SF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
TEN_PM_SF = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def number() -> str:
    return "+1415555" + str(uuid.uuid4().int)[:4]


def check(client, **query) -> tuple[int, dict]:
    response = client.http.get("/compliance/check?" + urlencode(query))
    return response.status_code, json.loads(response.body)


@pytest.fixture
def at_noon(clock):
    clock.now = NOON_SF
    return clock


def test_a_number_at_ten_at_night_in_its_zone_may_be_called_at_eight_next_morning(client, clock):
    clock.now = TEN_PM_SF
    status, body = check(client, number=number(), channel="voice")
    assert status == 200
    assert body["allowed"] is False and body["reasons"] == ["outside_calling_window"]
    assert body["next_allowed_at"] == "2026-11-24T16:00:00+00:00"  # 08:00 in San Francisco
    clock.now = NOON_SF
    assert check(client, number=body["number"], channel="voice")[1]["allowed"] is True


def test_the_do_not_call_list_refuses_at_once_and_can_be_undone(client, at_noon):
    customer = number()
    response = client.http.post("/dnc", headers={"Content-Type": "application/json"},
                                body=json.dumps({"number": customer, "channel": "all",
                                                 "reason": "asked on the phone"}))
    assert response.status_code == 201
    body = check(client, number=customer, channel="sms")[1]
    assert body["reasons"] == ["do_not_call"] and body["next_allowed_at"] is None
    response = client.http.delete(f"/dnc/{quote(customer)}")
    assert response.status_code == 200 and json.loads(response.body)["removed"] == 1
    assert check(client, number=customer, channel="sms")[1]["allowed"] is True


def test_a_stop_text_closes_every_channel(client, at_noon):
    customer = number()
    response = signed_post(client, "/twilio/sms", {
        "MessageSid": "SM" + uuid.uuid4().hex, "From": customer, "To": HOTLINE, "Body": "STOP"})
    assert response.status_code == 200
    for channel in ("voice", "sms"):
        body = check(client, number=customer, channel=channel)[1]
        assert body["allowed"] is False and "opted_out" in body["reasons"]


def test_bad_questions_are_400_with_the_field(client):
    assert check(client, number="4155550123", channel="voice") == (400, {
        "error": "number: must be an E.164 number like +14155550123", "field": "number"})
    assert check(client, number="+1415555012", channel="voice")[0] == 400
    assert check(client, number=number(), channel="fax")[1]["field"] == "channel"
    assert check(client, number=number(), channel="voice", purpose="sales")[1]["field"] == \
        "purpose"
    bad = client.http.post("/dnc", headers={"Content-Type": "application/json"},
                           body=json.dumps({"number": "+14155550123", "channel": "email"}))
    assert bad.status_code == 400 and json.loads(bad.body)["field"] == "channel"


def test_admitted_contacts_count_once_per_key_and_the_fifth_call_waits(client, at_noon):
    gate, customer = root().compliance, number()
    for n in range(4):
        decision = gate.admit(customer, VOICE, INFORMATIONAL, key=f"attempt-{n}",
                              caller_id=HOTLINE)
        assert decision.allowed
        # a retried job admits the same contact again: it is counted once
        assert gate.admit(customer, VOICE, INFORMATIONAL, key=f"attempt-{n}",
                          caller_id=HOTLINE).allowed
    refused = gate.admit(customer, VOICE, INFORMATIONAL, key="attempt-4", caller_id=HOTLINE)
    assert refused.reasons == (FREQUENCY_CAP,)
    assert refused.next_allowed_at is not None and refused.next_allowed_at > NOON_SF
    assert store.refusals(customer)[0]["reasons"] == [FREQUENCY_CAP]


def test_an_abandoned_call_holds_the_number_for_72_hours(client, at_noon):
    gate, customer = root().compliance, number()
    assert gate.admit(customer, VOICE, INFORMATIONAL, key="dial-1", caller_id=HOTLINE).allowed
    gate.contact_ended(customer, "dial-1", "abandoned")
    decision = gate.check(customer, VOICE, INFORMATIONAL, caller_id=HOTLINE,
                          at=NOON_SF + timedelta(hours=1))
    assert decision.reasons == ("abandoned_recently",)
    assert gate.check(customer, VOICE, INFORMATIONAL, caller_id=HOTLINE, agent_reserved=True,
                      at=NOON_SF + timedelta(hours=1)).allowed


def test_an_internal_do_not_call_list_imports_like_a_contact_list(client, at_noon):
    good, sms_only = number(), number()
    national = "(415) 555-" + good[-4:]
    body = (f"phone,channel,reason\n{good},all,asked\n{sms_only},sms,\nnot a number,all,\n"
            f"{good},voice,dup\n+14155550123,fax,\n").encode()
    response = client.http.post("/dnc/import?source=crm", body=body,
                                headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.body
    answer = json.loads(response.body)
    assert answer["added"] == 2 and answer["received"] == 5
    assert [r["reason"] for r in answer["rejected"]] == ["invalid", "duplicate", "invalid_channel"]
    assert check(client, number=good, channel="voice")[1]["reasons"] == ["do_not_call"]
    assert check(client, number=sms_only, channel="voice")[1]["allowed"]
    assert check(client, number=sms_only, channel="sms")[1]["reasons"] == ["do_not_call"]
    # the same file again changes nothing; a national number reads with ?region
    again = client.http.post("/dnc/import", body=f"phone\n{national}\n".encode(),
                             headers={"Content-Type": "text/csv"})
    assert json.loads(again.body)["added"] == 1
    for bad_query, field in (("region=USA", "region"), ("source=" + "x" * 101, "source")):
        refused = client.http.post(f"/dnc/import?{bad_query}", body=b"phone\n",
                                   headers={"Content-Type": "text/csv"})
        assert refused.status_code == 400 and json.loads(refused.body)["field"] == field
    headless = client.http.post("/dnc/import", body=b"name\nAda\n",
                                headers={"Content-Type": "text/csv"})
    assert headless.status_code == 400


def test_the_consent_ledger_lets_marketing_through_until_revoked(client, at_noon):
    customer = number()
    assert check(client, number=customer, channel="sms",
                 purpose="marketing")[1]["reasons"] == ["no_consent"]
    given = client.http.post("/consents", headers={"Content-Type": "application/json"},
                             body=json.dumps({"number": customer, "purpose": "marketing",
                                              "channel": "sms", "source": "web form",
                                              "evidence": "form 42"}))
    assert given.status_code == 201, given.body
    assert check(client, number=customer, channel="sms", purpose="marketing")[1]["allowed"]
    path = f"/consents/{quote(customer)}?purpose=marketing&channel=sms"
    assert client.http.delete(path).status_code == 200
    assert not check(client, number=customer, channel="sms", purpose="marketing")[1]["allowed"]
    assert client.http.delete(f"/consents/{quote(number())}?purpose=marketing&channel=sms"
                              ).status_code == 404
    bad = client.http.post("/consents", headers={"Content-Type": "application/json"},
                           body=json.dumps({"number": customer, "purpose": "marketing",
                                            "channel": "sms"}))
    assert bad.status_code == 400 and json.loads(bad.body)["field"] == "source"
