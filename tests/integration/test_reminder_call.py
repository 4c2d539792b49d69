"""The reminder call (issue 11, scope 3 and 5) through the carrier: a line whose entry flow is
reminder_call, answered by the demo's customer (a customer record with an account_id). Paying
and promising land on the real account (the wired sinks); anyone but the holder hears the
limited-content message only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib.reminders.model import PAID, reminder_blocker
from chalicelib.store import billing, directory
from chalicelib.store.models import CallRecord, Hotline

CUSTOMER = "+14155550111"  # the demo's VIP: Ada Lovelace, account 79927398713, $42.17 due
ACCOUNT = "79927398713"
REMINDER_LINE = "+13125550143"
DEBT_WORDS = ("debt", "owe", "bill", "pay", "balance", "due", "account", "amount", "dollar",
              "collect", "Ada", "Lovelace")


@pytest.fixture
def reminder_line(demo):
    Hotline(REMINDER_LINE, name="Reminders", entry_flow="reminder_call",
            default_language="en-US", default_region="US").save()
    directory.clear_cache()
    return REMINDER_LINE


def heard(transcript) -> str:
    return " | ".join(transcript.said)


def assert_clean(transcript) -> None:
    assert not transcript.errors, transcript.errors
    assert not transcript.application_error


def path_of(call_sid: str) -> list[str]:
    return CallRecord.get(call_sid, consistent_read=True).path


def test_the_holder_pays_and_the_account_is_paid(carrier, reminder_line):
    t = carrier.place_inbound_call(reminder_line, CUSTOMER, ["1", "1", "pay:success"])
    assert_clean(t)
    assert "42 dollars and 17 cents" in heard(t) and "December 15, 2026" in heard(t)
    (pay,) = t.of_type("pay")
    assert pay["result"] == "success" and pay["charge_amount"] == "42.17"
    account = billing.get_account(ACCOUNT)
    assert account.amount_due == 0 and account.status == PAID
    assert any(m["to"] == CUSTOMER for m in carrier.messages)  # the receipt


def test_a_promise_pauses_the_reminders_until_the_date(carrier, reminder_line, clock):
    t = carrier.place_inbound_call(reminder_line, CUSTOMER, ["1", "2", "7#"])
    assert_clean(t)
    before = billing.get_account(ACCOUNT)
    today = billing.local_today(before, clock())
    assert before.promised_until == today + timedelta(days=7)
    assert "not remind you before" in heard(t) and path_of(t.call_sid)[-1] == "promised"
    assert reminder_blocker(before, today) == "promised"
    assert reminder_blocker(before, today + timedelta(days=7)) == "promised"
    assert reminder_blocker(before, today + timedelta(days=8)) is None


def test_a_retried_promise_webhook_writes_once(carrier, reminder_line, client):
    from tests.integration.conftest import signed_post

    sid = "CA" + "5c" * 16
    call = {"CallSid": sid, "From": CUSTOMER, "To": reminder_line}
    signed_post(client, "/twilio/voice", call)
    signed_post(client, "/twilio/voice/step/1/confirm_holder", {**call, "Digits": "1"})
    signed_post(client, "/twilio/voice/step/2/account_menu", {**call, "Digits": "2"})
    first = signed_post(client, "/twilio/voice/step/3/ask_days", {**call, "Digits": "5"})
    version = billing.get_account(ACCOUNT).version
    again = signed_post(client, "/twilio/voice/step/3/ask_days", {**call, "Digits": "5"})
    assert first.body == again.body and b"not remind you" in first.body
    assert billing.get_account(ACCOUNT).version == version


@pytest.mark.parametrize("script", [["2"], ["9"], []])
def test_anyone_else_hears_who_is_calling_and_a_number_only(carrier, reminder_line, script):
    before = billing.get_account(ACCOUNT)
    t = carrier.place_inbound_call(reminder_line, CUSTOMER, script or ["timeout"])
    assert_clean(t)
    said = t.said[1:]  # after the question "This is a message for Ada Lovelace..."
    assert said and said[0].startswith("Hello, this is Switchboard. Please call us back at")
    assert "3 1 2 5 5 5 0 1 4 3" in said[0]
    text = " ".join(said)
    assert not re.search(r"\d{2,}", text.replace("3 1 2 5 5 5 0 1 4 3", ""))  # no amount
    assert not any(word.lower() in text.lower() for word in DEBT_WORDS)
    assert path_of(t.call_sid)[-1] == "limited_message"
    assert billing.get_account(ACCOUNT) == before


def test_zero_puts_the_holder_in_the_support_queue(carrier, reminder_line):
    t = carrier.place_inbound_call(reminder_line, CUSTOMER, ["1", "0"])
    assert_clean(t)
    assert "Connecting you to an agent" in heard(t)
    path = path_of(t.call_sid)
    assert path[path.index("account_menu") + 1:][:2] == ["pay_transfer", "to_agent"]
    # no agent is logged in: the support queue's overflow answers
    assert "no agents are available" in heard(t) and path[-1] == "agent_unavailable"


def test_the_holder_pays_part_of_the_amount_due(carrier, reminder_line):
    # Given the holder chooses to pay part (3) and enters 20 (whole dollars)
    t = carrier.place_inbound_call(reminder_line, CUSTOMER, ["1", "3", "20#", "pay:success"])
    assert_clean(t)
    assert "whole US dollars, at most 42 dollars and 17 cents" in heard(t)
    # Then <Pay> charges 20.00, and the account owes the rest: the next reminder says 22.17
    (pay,) = t.of_type("pay")
    assert pay["result"] == "success" and pay["charge_amount"] == "20.00"
    account = billing.get_account(ACCOUNT)
    assert account.amount_due == 2217 and account.status != PAID
    assert "pay_part" in path_of(t.call_sid)
    # and the thanks says what was charged, not what was owed
    assert "Your payment of 20 dollars was received" in heard(t)


def test_more_than_is_owed_is_never_charged(carrier, reminder_line):
    # Given the holder enters 50 of a 42.17 balance, then hangs up at the menu
    t = carrier.place_inbound_call(reminder_line, CUSTOMER, ["1", "3", "50#"])
    assert_clean(t)
    # Then no <Pay> at all: they hear the amount cannot be charged and the menu again
    assert not t.of_type("pay")
    assert "that amount cannot be charged" in heard(t)
    path = path_of(t.call_sid)
    assert path.index("pay_part") < path.index("amount_too_high") < len(path) - 1
    assert path[path.index("amount_too_high") + 1] == "account_menu"
    assert billing.get_account(ACCOUNT).amount_due == 4217
