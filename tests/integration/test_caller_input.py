"""Input as people really give it, through real webhooks: an account number said in groups, a PIN
that never outlives the step that checked it, a text that cannot be sent, an overflow prompt that
says why no agent took the call, and texts that say "stop" in words or type "ＯＮ" on a Chinese
keyboard."""

from __future__ import annotations

import hashlib
import json
import uuid
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.routing.model import Agent, Endpoint
from chalicelib.store import optouts, routing
from chalicelib.store.models import AgentItem, CallRecord, Message
from tests.integration.conftest import OPEN_HOURS, signed_post

HOTLINE = "+14155550100"
CALLER = "+14155550177"  # not a known customer
ACCOUNT, PIN = "79927398713", "1234"
PIN_HASH = hashlib.sha256(f"{ACCOUNT}:{PIN}".encode()).hexdigest()  # the demo account's


def heard(transcript) -> str:
    return " | ".join(transcript.said)


def record_of(call_sid: str) -> CallRecord:
    return CallRecord.get(call_sid, consistent_read=True)


def assert_clean(transcript) -> None:
    assert not transcript.errors, transcript.errors
    assert not transcript.application_error


def publish_spoken_billing() -> None:
    """A billing version whose account number is said rather than keyed (the demo's is keyed)."""
    from chalicelib.ivr.loader import load_flows
    from chalicelib.store import flows
    from tests.support import ROOT

    loaded, errors = load_flows(ROOT / "flows")
    assert not errors
    billing = loaded["billing"]
    spoken = replace(billing.nodes["account_number"], input="speech")
    _, created = flows.publish(replace(billing, nodes={**billing.nodes, "account_number": spoken}),
                               published_by="test")
    assert created
    flows.clear_cache()  # the tables go back to the demo's before the next test


def test_an_account_number_said_in_groups_is_read_as_digits(carrier):
    # Given a billing flow that asks for the account number by voice
    publish_spoken_billing()
    # When the caller says it in groups, as people read numbers out
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "1", "say:7992-7398-713.", PIN, "2"])
    # Then the digits were checked, looked up and stored: the caller hears the balance
    assert_clean(t)
    assert "42.17" in heard(t)
    assert any(e["outcome"] == "speech" for e in t.of_type("gather"))
    assert record_of(t.call_sid).inputs["account_number"] == ACCOUNT


def test_the_call_record_never_holds_the_pin_or_its_hash(client):
    # Given a caller who identified with account and PIN and now hears the text offer
    sid = "CA" + "5e" * 16
    call = {"CallSid": sid, "From": CALLER, "To": HOTLINE}
    assert signed_post(client, "/twilio/voice", call).status_code == 200
    for step, (node, digits) in enumerate(
            [("choose_language", "1"), ("main_menu", "1"), ("account_number", ACCOUNT),
             ("pin", PIN)], start=1):
        answer = signed_post(client, f"/twilio/voice/step/{step}/{node}",
                             {**call, "Digits": digits})
        assert answer.status_code == 200, answer.body
    assert b"42.17" in answer.body  # the PIN was checked within its step
    # Then the stored call holds neither the PIN nor the hash it was checked against
    record = record_of(sid)
    assert record.node == "offer_sms"
    assert record.vars["pin"] == record.vars["pin_hash"] == "[redacted]"
    assert record.vars["balance_due"] == "42.17"  # what is not sensitive stays for later steps
    assert record.inputs["pin"] == "[redacted]"
    stored = json.dumps(record.serialize(), default=str)
    assert PIN_HASH not in stored
    assert f'"{PIN}"' not in json.dumps(record.vars) + json.dumps(record.inputs)
    # And the next step still says it was redacted, not that it was never entered
    signed_post(client, "/twilio/voice/step/5/offer_sms", {**call, "Digits": "2"})
    assert record_of(sid).inputs["pin"] == "[redacted]"


def test_an_opted_out_caller_is_told_no_text_was_sent(carrier):
    # Given a caller whose number texted STOP
    optouts.opt_out(CALLER, "stop", datetime(2026, 11, 1, tzinfo=UTC))
    # When they ask for their balance by text
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "1", ACCOUNT + "#", PIN, "1"])
    # Then they hear that no text went out, and none did
    assert_clean(t)
    assert "42.17" in heard(t)
    assert "can't send a text message" in heard(t)
    assert "We've sent you a text" not in heard(t)
    assert not [m for m in carrier.messages if m["to"] == CALLER]
    assert "sms_refused" in record_of(t.call_sid).path
    assert Message.count(f"{t.call_sid}:send_balance") == 0


def test_an_anonymous_caller_is_told_no_text_was_sent(carrier):
    t = carrier.place_inbound_call(HOTLINE, "anonymous", ["1", "1", ACCOUNT + "#", PIN, "1"])
    assert_clean(t)
    assert "can't send a text message" in heard(t)
    assert not [m for m in carrier.messages if m["to"] == "anonymous"]


def test_a_caller_lost_in_the_menu_with_nobody_logged_in_hears_why(carrier):
    # Given the demo's agents all logged out, and a caller who fails the main menu three times
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "7", "8", "6", "hangup"])
    # Then the queue overflows at once, and the caller hears that nobody is there, not that
    # the agents are "still busy" (they never waited)
    assert_clean(t)
    assert "no agents are available" in heard(t)
    assert "still busy" not in heard(t)
    assert {"agent_queue", "queue_overflow", "leave_voicemail"} <= set(record_of(t.call_sid).path)


# ---- texts -------------------------------------------------------------------------------------


def text(client, sender: str, body: str) -> str | None:
    """Text the hotline; the reply we sent, if any."""
    response = signed_post(client, "/twilio/sms", {
        "MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "To": HOTLINE, "Body": body})
    assert response.status_code == 200, response.body
    message = ET.fromstring(response.body).find("Message")
    return None if message is None else message.text


@pytest.mark.parametrize(("body", "confirmation"), [
    ("Please stop texting me.", "You will get no more texts or calls from us."),
    ("opt-out", "You will get no more texts or calls from us."),
    ("Remove me from your list", "You will get no more texts or calls from us."),
    ("不要再发了！", "您已退订"),
])
def test_a_request_to_stop_in_words_opts_out_and_we_confirm_it(client, body, confirmation):
    customer = "+1628555" + f"{uuid.uuid4().int % 10**4:04d}"
    reply = text(client, customer, body)
    assert optouts.is_opted_out(customer)
    assert reply is not None and reply.startswith(confirmation)  # Twilio did not act on it


def test_an_agent_texting_from_a_chinese_keyboard_changes_state(client):
    mobile = "+1415555" + f"{uuid.uuid4().int % 10**4:04d}"
    agent = Agent("ag-" + uuid.uuid4().hex[:6], "Wide Keys", Endpoint("phone", mobile),
                  queues={"sms-q": 1}, mobile=mobile, languages=["en-US"])
    routing.save_agent_profile(agent, OPEN_HOURS)
    assert text(client, mobile, "ＯＮ") == "You are now available."
    assert AgentItem.get(agent.agent_id, consistent_read=True).state == "available"
    text(client, mobile, "Ｂｒｅａｋ！")
    item = AgentItem.get(agent.agent_id, consistent_read=True)
    assert (item.state, item.state_reason) == ("away", "sms: break")
