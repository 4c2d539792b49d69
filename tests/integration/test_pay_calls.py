"""Paying during a call (issue 11, scope 3 and 7): the pay_bill flow through the carrier's
``<Pay>``, with the outcomes Twilio reports. The payment sink is the seam the accounts store
plugs into; here a recorder stands in for it."""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlencode

import pytest

from chalicelib.store import directory
from chalicelib.store.models import CallRecord, Hotline
from tests.integration.conftest import signed_post
from tests.support import PUBLIC_BASE_URL, TEST_ACCOUNT, TEST_TOKEN

CUSTOMER = "+14155550111"  # the demo's VIP: a customer whose account is on file
ACCOUNT = "79927398713"
PAY_HOTLINE = "+13125550142"


class Recorder:
    """A PaymentSink that keeps what it was given."""

    def __init__(self) -> None:
        self.taken: list = []

    def payment_taken(self, effect, now) -> None:
        self.taken.append(effect)


@pytest.fixture
def sink(client):
    from chalicelib.wiring import root

    recorder = Recorder()
    root().voice.payments = recorder
    return recorder


@pytest.fixture
def pay_line(demo):
    Hotline(PAY_HOTLINE, name="Pay by phone", entry_flow="pay_bill", default_language="en-US",
            default_region="US").save()
    directory.clear_cache()
    return PAY_HOTLINE


def heard(transcript) -> str:
    return " | ".join(transcript.said)


def record_of(call_sid: str) -> CallRecord:
    return CallRecord.get(call_sid, consistent_read=True)


def assert_clean(transcript) -> None:
    assert not transcript.errors, transcript.errors
    assert not transcript.application_error


def receipts(carrier) -> list[dict]:
    return [m for m in carrier.messages if m["to"] == CUSTOMER]


def test_a_paid_bill_is_recorded_once_and_receipted(carrier, sink, pay_line, caplog):
    caplog.set_level(logging.DEBUG)
    # Given the customer hears the amount due and presses 1 to pay
    t = carrier.place_inbound_call(pay_line, CUSTOMER, ["1", "pay:success"])
    # Then <Pay> asked for the card with our prompt, the payment was taken and thanked for
    assert_clean(t)
    (pay,) = t.of_type("pay")
    assert pay["result"] == "success" and pay["charge_amount"] == "42.17"
    assert pay["currency"] == "usd" and pay["connector"] == "Default"
    assert "$42.17" in heard(t) and "enter your card number" in heard(t)
    (taken,) = sink.taken
    assert (taken.account_id, taken.amount, taken.currency) == (ACCOUNT, 4217, "USD")
    assert taken.card_last4 == "1111" and taken.card_type == "visa"
    assert taken.confirmation.startswith("ch_") and taken.call_sid == t.call_sid
    assert taken.confirmation in heard(t)
    # And one receipt text with the amount and the code, no card digits beyond the last four
    (receipt,) = receipts(carrier)
    assert "$42.17" in receipt["body"] and taken.confirmation in receipt["body"]
    body = receipt["body"].replace(taken.confirmation, "")
    assert "1111" in body and not re.search(r"\d{5,}", body)
    # And nothing of the card beyond its last four in the call record or the logs
    record = record_of(t.call_sid)
    code = taken.confirmation  # random hex: may hold digit runs of its own
    assert_no_card(json.dumps([record.vars, record.inputs, record.last_response]), code)
    assert_no_card(caplog.text, code)
    assert record.outcome == "hangup"


def assert_no_card(text: str, code: str) -> None:
    """Neither Twilio's masked number ("xxxxxxxxxxxx1111") nor a run of digits standing alone
    that ends in the card's last four and is longer than them."""
    text = text.replace(code, "")
    # the card's digits beyond its last four, masked or not; a digit run standing alone, since
    # ids and DEBUG lines in the logs (call sids, hex digests, counters) hold runs of their own
    assert "xxxx1111" not in text
    assert not re.search(r"(?<![0-9A-Za-z])\d{1,15}1111(?![0-9A-Za-z])", text)


def test_a_retried_pay_webhook_records_the_payment_once(client, sink, pay_line, carrier):
    # Given a call at the pay node
    sid = "CA" + "9a" * 16
    call = {"CallSid": sid, "From": CUSTOMER, "To": pay_line}
    assert signed_post(client, "/twilio/voice", call).status_code == 200
    answer = signed_post(client, "/twilio/voice/step/1/offer_pay", {**call, "Digits": "1"})
    pay = ET.fromstring(answer.body).find("Pay")
    assert pay is not None
    action, _, query = pay.get("action").partition("?")
    assert action.endswith("/twilio/voice/step/2/pay")
    # the action URL says what is charged (Twilio signs it): a late result can be recorded
    assert parse_qs(query) == {"account": [ACCOUNT], "amount": ["42.17"], "currency": ["USD"]}
    assert pay.get("chargeAmount") == "42.17" and pay.get("paymentConnector") == "Default"
    assert pay.find("Prompt").get("for") == "payment-card-number"
    # When Twilio posts the result twice (its retry after a slow answer)
    result = {**call, "Result": "success", "PaymentConfirmationCode": "ch_retry1",
              "PaymentCardNumber": "xxxxxxxxxxxx4242", "PaymentCardType": "visa",
              "PaymentToken": "tok_1"}
    first = signed_post(client, "/twilio/voice/step/2/pay", result)
    again = signed_post(client, "/twilio/voice/step/2/pay", result)
    # Then the same answer both times, and one payment, one receipt
    assert first.status_code == again.status_code == 200
    assert first.body == again.body and b"ch_retry1" in first.body
    # And the flow's variables hold the code and the last four digits only
    record = record_of(sid)
    assert record.vars["payment_card_last4"] == "4242"
    assert record.vars["payment_confirmation"] == "ch_retry1"
    assert "xxxx" not in json.dumps([record.vars, record.inputs])
    assert [effect.confirmation for effect in sink.taken] == ["ch_retry1"]
    carrier.run_pending_if_deferred()
    assert len(receipts(carrier)) == 1


def test_a_declined_card_is_tried_again_once_then_an_agent(carrier, sink, pay_line):
    t = carrier.place_inbound_call(pay_line, CUSTOMER, ["1", "pay:decline", "pay:decline"])
    assert_clean(t)
    assert [p["result"] for p in t.of_type("pay")] == ["too-many-failed-attempts"] * 2
    assert "could not be charged" in heard(t)
    path = record_of(t.call_sid).path
    assert path.index("pay") < path.index("declined") < path.index("pay_again")
    assert "to_agent" in path and "Connecting you to an agent" in heard(t)
    assert not sink.taken and not receipts(carrier)


def test_a_declined_card_then_a_good_one_pays(carrier, sink, pay_line):
    t = carrier.place_inbound_call(pay_line, CUSTOMER, ["1", "pay:decline", "pay:success"])
    assert_clean(t)
    assert len(sink.taken) == 1 and len(receipts(carrier)) == 1
    assert "pay_again" in record_of(t.call_sid).path


def test_star_leaves_the_payment_for_an_agent(carrier, sink, pay_line):
    t = carrier.place_inbound_call(pay_line, CUSTOMER, ["1", "pay:star"])
    assert_clean(t)
    assert t.of_type("pay")[0]["result"] == "caller-interrupted-with-star"
    assert "to_agent" in record_of(t.call_sid).path
    assert "Connecting you to an agent" in heard(t)
    assert not sink.taken


@pytest.mark.parametrize("outcome", ["error", "timeout"])
def test_a_connector_error_or_silence_never_ends_in_silence(carrier, sink, pay_line, outcome):
    t = carrier.place_inbound_call(pay_line, CUSTOMER, ["1", f"pay:{outcome}", "pay:timeout"])
    assert_clean(t)
    record = record_of(t.call_sid)
    # Then a person is asked for (no agent is logged in: the queue's overflow says so)
    assert "to_agent" in record.path
    said_after_pay = heard(t).split("enter your card number")[-1]
    assert "agent" in said_after_pay
    if outcome == "error":
        assert "can't take payments right now" in said_after_pay
    assert not sink.taken


def test_hanging_up_during_pay_takes_nothing(carrier, sink, pay_line):
    t = carrier.place_inbound_call(pay_line, CUSTOMER, ["1", "pay:hangup"])
    assert_clean(t)
    assert t.of_type("pay")[0]["result"] == "caller-hung-up"
    assert not sink.taken and not receipts(carrier)


def _call_ended_at_the_pay_node(client, pay_line, sid: str) -> tuple[dict, str]:
    """A call at the pay node whose final status arrived before <Pay>'s action: the call's
    parameters and the path (with query) of the action URL."""
    call = {"CallSid": sid, "From": CUSTOMER, "To": pay_line}
    signed_post(client, "/twilio/voice", call)
    answer = signed_post(client, "/twilio/voice/step/1/offer_pay", {**call, "Digits": "1"})
    url = ET.fromstring(answer.body).find("Pay").get("action")
    signed_post(client, "/twilio/voice/status",
                {**call, "CallStatus": "completed", "CallDuration": "40", "SequenceNumber": "0"})
    assert url.startswith(PUBLIC_BASE_URL)
    return call, url[len(PUBLIC_BASE_URL):]


def test_a_payment_whose_result_comes_after_the_call_ended_is_recorded_and_receipted(
        client, sink, pay_line, carrier):
    # Given a call that ended while <Pay> was charging the card
    call, action = _call_ended_at_the_pay_node(client, pay_line, "CA" + "7b" * 16)
    # When the success result comes in after all, twice (Twilio's retry)
    result = {**call, "Result": "success", "PaymentConfirmationCode": "ch_late",
              "PaymentCardNumber": "xxxxxxxxxxxx4242", "PaymentCardType": "visa"}
    answers = [signed_post(client, action, result) for _ in range(2)]
    # Then nothing runs for a call nobody is on, but the money taken is recorded from the
    # signed action URL (what was charged) and the result (the code, the card's last four)
    assert [(a.status_code, b"<Hangup" in a.body) for a in answers] == [(200, True)] * 2
    taken = sink.taken[0]
    assert (taken.account_id, taken.amount, taken.currency) == (ACCOUNT, 4217, "USD")
    assert (taken.confirmation, taken.card_last4, taken.node) == ("ch_late", "4242", "pay")
    # the sink is handed it each time (it is idempotent by the code); one receipt goes
    assert {t.confirmation for t in sink.taken} == {"ch_late"}
    carrier.run_pending_if_deferred()
    (receipt,) = receipts(carrier)
    assert "$42.17" in receipt["body"] and "ch_late" in receipt["body"]


def test_a_late_result_on_the_real_books_pays_the_account_once(client, pay_line, carrier):
    from chalicelib.reminders.payment_sink import BillingPaymentSink
    from chalicelib.store import billing
    from chalicelib.wiring import root

    root().voice.payments = BillingPaymentSink()
    call, action = _call_ended_at_the_pay_node(client, pay_line, "CA" + "7c" * 16)
    result = {**call, "Result": "success", "PaymentConfirmationCode": "ch_late2",
              "PaymentCardNumber": "xxxxxxxxxxxx4242"}
    for _ in range(2):
        assert signed_post(client, action, result).status_code == 200
    assert billing.get_account(ACCOUNT).amount_due == 0
    assert [p.payment_id for p in billing.payments_for(ACCOUNT)] == ["pay-ch_late2"]


def test_a_late_result_without_its_charge_is_logged_for_reconciliation(
        client, sink, pay_line, caplog):
    # Given an action URL that does not say the charge (made before it carried one)
    call, action = _call_ended_at_the_pay_node(client, pay_line, "CA" + "7d" * 16)
    answer = signed_post(client, action.partition("?")[0],
                         {**call, "Result": "success", "PaymentConfirmationCode": "ch_late",
                          "PaymentCardNumber": "xxxxxxxxxxxx4242"})
    # Then nothing is recorded from a guess, and the code is logged for reconciling by hand
    assert answer.status_code == 200 and b"<Hangup" in answer.body
    assert not sink.taken
    assert "payment ch_late succeeded after the call ended" in caplog.text


def test_a_forged_charge_in_the_action_url_is_refused(client, sink, pay_line):
    # The query is part of what Twilio signs: a changed amount fails the signature
    call, action = _call_ended_at_the_pay_node(client, pay_line, "CA" + "7e" * 16)
    signed = signed_post(client, action, {**call, "Result": "success"})
    assert signed.status_code == 200
    from twilio.request_validator import RequestValidator

    params = {"AccountSid": TEST_ACCOUNT, **call, "Result": "success",
              "PaymentConfirmationCode": "ch_forged", "PaymentCardNumber": "xxxxxxxxxxxx4242"}
    signature = RequestValidator(TEST_TOKEN).compute_signature(PUBLIC_BASE_URL + action, params)
    forged = action.replace("amount=42.17", "amount=1.00")
    answer = client.http.post(forged, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        body=urlencode(params))
    assert answer.status_code == 403
    assert not sink.taken


def test_a_bill_paid_in_the_call_lands_on_the_account_once(client, carrier, pay_line):
    """The real sink: the account's amount due and status change at once (so no reminder goes
    after it, reminders/check.py), and the payment is kept once under its confirmation code."""
    from chalicelib.reminders.payment_sink import BillingPaymentSink
    from chalicelib.store import billing
    from chalicelib.wiring import root

    root().voice.payments = BillingPaymentSink()
    before = billing.get_account(ACCOUNT)
    assert before is not None and before.amount_due == 4217
    t = carrier.place_inbound_call(pay_line, CUSTOMER, ["1", "pay:success"])
    assert_clean(t)
    after = billing.get_account(ACCOUNT)
    assert after.amount_due == 0 and after.status == "paid"
    (payment,) = [p for p in billing.payments_for(ACCOUNT) if p.source == "pay"]
    assert payment.amount == 4217 and payment.card_last4 == "1111"
    # the connector's code is the payment's id: the same result recorded again changes nothing
    again = BillingPaymentSink()
    from chalicelib.telephony.verbs import PaymentTaken

    again.payment_taken(PaymentTaken(ACCOUNT, 4217, "USD", payment.confirmation, "1111", "visa",
                                     t.call_sid, "pay"), root().now())
    assert billing.get_account(ACCOUNT).amount_due == 0
