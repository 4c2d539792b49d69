"""The pay node: its TwiML, its branches by Twilio's ``Result``, what it records, and the lint
rules that keep a failed payment from ending in silence."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from chalicelib.ivr import engine
from chalicelib.ivr.lint import lint_flow
from chalicelib.ivr.loader import load_flows
from chalicelib.ivr.model import Flow, FlowError
from chalicelib.ivr.service import format_amount
from chalicelib.telephony import twiml
from chalicelib.telephony import verbs as v
from tests.unit.test_flow_engine import ACCOUNT, ROOT, Call


@pytest.fixture(scope="module")
def shipped() -> dict[str, Flow]:
    """The flows in ``flows/``, as published (a version number)."""
    loaded, errors = load_flows(ROOT / "flows")
    assert errors == []
    return {flow_id: replace(flow, version=7) for flow_id, flow in loaded.items()}


VIP = {"name": "Ada Lovelace", "vip": True, "language": None, "account_id": ACCOUNT}
SUCCESS = {"Result": "success", "PaymentConfirmationCode": "ch_abc123",
           "PaymentCardNumber": "xxxxxxxxxxxx4242", "PaymentCardType": "visa",
           "PaymentToken": "tok_1"}


def paying(shipped) -> Call:
    """A caller of pay_bill who heard the amount and pressed 1: now at the pay node."""
    call = Call(shipped, flow_id="pay_bill", customer=VIP)
    assert call.result.waiting_on == "offer_pay"
    call.press("1")
    assert call.result.waiting_on == "pay"
    return call


def test_the_amount_due_is_offered_then_charged_with_the_card_prompt(shipped):
    call = Call(shipped, flow_id="pay_bill", customer=VIP)
    (gather,) = call.result.verbs
    assert "$42.17" in gather.prompts[0].text and "press 1" in gather.prompts[0].text
    call.press("1")
    (pay,) = call.result.verbs
    assert isinstance(pay, v.Pay)
    assert (pay.node, pay.charge_amount, pay.currency, pay.connector) == (
        "pay", "42.17", "usd", "Default")
    assert pay.max_attempts == 2 and pay.description == "Balance due 2026-07-01"
    assert "card number" in pay.prompts[0].text


def test_the_connector_default_comes_from_the_call_context(shipped):
    call = Call(shipped, flow_id="pay_bill", customer=VIP)
    call.ctx.pay_connector = "stripe_live"
    call.press("1")
    assert call.result.verbs[0].connector == "stripe_live"


def test_pay_renders_as_twilio_pay_with_a_step_action_and_a_card_number_prompt():
    verb = v.Pay("pay", "42.17", "usd", "Default", "Bill", (v.Say("Enter your card", "Polly.Joanna",
                                                                  "en-US"),), max_attempts=2)
    root = ET.fromstring(twiml.render([verb], twiml.VoiceUrls("https://sb.test"), step=4))
    (pay,) = root
    assert pay.tag == "Pay"
    assert pay.attrib == {
        "action": "https://sb.test/twilio/voice/step/4/pay", "method": "POST", "input": "dtmf",
        "paymentConnector": "Default", "chargeAmount": "42.17", "currency": "usd",
        "description": "Bill", "paymentMethod": "credit-card", "timeout": "5",
        "maxAttempts": "2", "securityCode": "true", "postalCode": "false"}
    (prompt,) = pay
    assert prompt.tag == "Prompt" and prompt.get("for") == "payment-card-number"
    assert prompt[0].tag == "Say" and prompt[0].text == "Enter your card"


def test_success_records_the_payment_and_keeps_only_the_last_four_digits(shipped):
    call = paying(shipped)
    result = call.send(**SUCCESS)
    (taken,) = result.effects
    assert taken == v.PaymentTaken(account_id=ACCOUNT, amount=4217, currency="USD",
                                   confirmation="ch_abc123", card_last4="4242",
                                   card_type="visa", call_sid="CA123", node="pay",
                                   language="en-US")
    assert call.state.vars["payment_confirmation"] == "ch_abc123"
    assert call.state.vars["payment_card_last4"] == "4242"
    assert "xxxxxxxxxxxx4242" not in str(call.state.vars)
    assert result.visited == ["paid"] and result.outcome == "hangup"
    assert "ch_abc123" in result.verbs[0].text


def test_even_an_unmasked_card_number_keeps_only_its_last_four(shipped):
    call = paying(shipped)
    result = call.send(**{**SUCCESS, "PaymentCardNumber": "4242 4242 4242 4242"})
    assert result.effects[0].card_last4 == "4242"
    assert "4242 4242" not in str(call.state.vars)


@pytest.mark.parametrize(("result", "first"), [
    ("too-many-failed-attempts", "declined"),
    ("caller-interrupted-with-star", "pay_transfer"),
    ("payment-connector-error", "pay_error"),
    ("validation-error", "pay_error"),  # a bad attribute: trying again cannot help
    ("internal-error", "pay_error"),
    ("something-new", "pay_error"),
    ("", "pay_error"),
])
def test_every_other_result_takes_its_branch_and_records_nothing(shipped, result, first):
    call = paying(shipped)
    step = call.send(Result=result, PaymentError="card-declined")
    assert step.visited[0] == first and step.effects == []
    assert "payment_confirmation" not in call.state.vars


def test_a_decline_is_retried_once_then_an_agent(shipped):
    call = paying(shipped)
    assert call.send(Result="too-many-failed-attempts").waiting_on == "pay_again"
    step = call.send(Result="too-many-failed-attempts")
    assert step.visited[:2] == ["pay_transfer", "to_agent"]
    assert isinstance(step.verbs[-1], v.Enqueue) and step.verbs[-1].queue == "support"


def test_a_hang_up_ends_the_call_without_a_branch(shipped):
    call = paying(shipped)
    step = call.send(Result="caller-hung-up")
    assert step.outcome == "hangup" and step.visited == [] and step.effects == []


def test_nothing_to_charge_goes_to_the_error_branch_never_silence(shipped):
    call = Call(shipped, flow_id="pay_bill", customer=VIP)
    call.state.vars["balance_due"] = "0.00"  # as the look-up read it
    step = call.press("1")
    assert step.visited[:3] == ["pay", "pay_error", "to_agent"]
    assert not any(isinstance(verb, v.Pay) for verb in step.verbs)


def test_an_unknown_customer_goes_to_an_agent(shipped):
    call = Call(shipped, flow_id="pay_bill", customer=None)
    assert call.result.visited[:3] == ["find_account", "no_account", "to_agent"]


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("42.17", "USD", 4217), ("0.5", "EUR", 50), ("1200", "JPY", 1200), ("12", "cny", 1200),
])
def test_minor_units(shipped, amount, currency, expected):
    call = Call(shipped, flow_id="pay_bill", customer=VIP)
    call.state.vars.update(balance_due=amount, currency=currency)  # as the look-up read them
    call.press("1")
    assert call.send(**SUCCESS).effects[0].amount == expected
    assert format_amount(expected, currency.upper()) == (
        amount if currency == "JPY" else f"{expected // 100}.{expected % 100:02d}")


@pytest.mark.parametrize("amount", ["-1", "abc", "1.234", "12.5 USD", "1e3", "0"])
def test_an_amount_that_is_not_a_plain_positive_decimal_is_not_charged(shipped, amount):
    call = Call(shipped, flow_id="pay_bill", customer=VIP)
    call.state.vars["balance_due"] = amount
    step = call.press("1")
    assert "pay_error" in step.visited and step.effects == []


def test_engine_minor_units_of_zero_decimal_currencies():
    from decimal import Decimal

    assert engine.minor_units(Decimal("500"), "JPY") == 500
    assert engine.minor_units(Decimal("5.05"), "USD") == 505


# ---- lint ----------------------------------------------------------------------------------

VOICES = {"en-US": {"voice": "Polly.Joanna", "language": "en-US"}}
TEMPLATES = {"card": "Your card number, please.", "thanks": "Code {{ payment_confirmation }}.",
             "sorry": "Sorry.", "hold": "Please hold."}


def pay_flow(**changes) -> Flow:
    pay = {"kind": "pay", "amount": "{{ amount }}", "account": "{{ customer.account_id }}",
           "prompt": "card", "on_success": "thanks", "on_declined": "line", "on_star": "line",
           "on_error": "line"}
    nodes = {
        "find": {"kind": "lookup", "source": "accounts", "key": "{{ customer.account_id }}",
                 "into": {"amount": "balance_due"}, "next": "pay", "on_missing": "line"},
        "pay": {**pay, **changes},
        "thanks": {"kind": "hangup", "template": "thanks"},
        "sorry": {"kind": "say", "template": "sorry", "next": "bye"},
        "bye": {"kind": "hangup"},
        "line": {"kind": "queue", "queue": "support", "hold_prompt": "hold",
                 "on_overflow": "bye"},
    }
    return Flow.from_document({"flow": "t", "languages": ["en-US"], "voices": VOICES,
                               "start": "find", "nodes": nodes,
                               "templates": {"en-US": TEMPLATES}})


def lint_messages(flow: Flow) -> list[tuple[str | None, str]]:
    errors = lint_flow(flow)
    return [(e.node, e.message) for e in errors if e.node != "sorry" or "unreachable" not in
            e.message]


def test_a_correct_pay_node_lints_clean():
    assert lint_messages(pay_flow()) == []


def test_a_connector_error_that_ends_in_a_hang_up_is_refused():
    [(node, message)] = lint_messages(pay_flow(on_error="sorry"))
    assert node == "pay" and "without a person or a retry: pay -> sorry -> bye" in message
    [(node, message)] = lint_messages(pay_flow(on_error="bye"))
    assert "pay -> bye" in message
    assert lint_messages(pay_flow(on_error="pay")) == []  # trying again is fine


def test_every_branch_but_hang_up_must_be_given():
    with pytest.raises(FlowError) as raised:
        pay_flow(on_error=None, on_star=None)
    text = str(raised.value)
    assert "'on_error' must be a string" in text and "'on_star' must be a string" in text


@pytest.mark.parametrize(("field", "value", "words"), [
    ("currency", "dollars", "not an ISO 4217 currency"),
    ("connector", "my connector!", "not a Pay Connector name"),
    ("max_attempts", 5, "max_attempts must be 1 to 3"),
    ("timeout", 0, "timeout must be at least 1 second"),
])
def test_values_twilio_would_refuse(field, value, words):
    [(node, message)] = lint_messages(pay_flow(**{field: value}))
    assert node == "pay" and words in message


def test_payment_variables_are_set_on_the_success_branch_only():
    flow = pay_flow(on_declined="thanks")  # thanks reads payment_confirmation
    [(node, message)] = lint_messages(flow)
    assert node == "thanks" and "'payment_confirmation' is not set on every path" in message


def test_the_pay_node_round_trips_through_its_document():
    flow = pay_flow(connector="stripe_live", max_attempts=3)
    again = Flow.from_document(flow.to_document())
    assert again.nodes["pay"] == flow.nodes["pay"]
    assert replace(again, templates={}).checksum != ""


def test_without_its_own_branch_an_amount_out_of_limits_goes_to_on_error():
    flow = pay_flow(max_amount="10")
    node = flow.nodes["pay"]
    assert node.on_invalid_amount is None and node.max_amount == "10"
    assert lint_messages(flow) == []
    again = Flow.from_document(flow.to_document())
    assert again.nodes["pay"] == node


def test_the_pay_action_url_carries_the_charge():
    verb = v.Pay("pay", "42.17", "usd", "Default", account="acct 1/2")
    body = twiml.render([verb], twiml.VoiceUrls("https://x.test"), step=3)
    action = ET.fromstring(body).find("Pay").get("action")
    assert action == ("https://x.test/twilio/voice/step/3/pay"
                      "?account=acct+1%2F2&amount=42.17&currency=USD")
    assert twiml.pay_action("https://x.test/s", v.Pay("pay", "1.00", "usd", "D")) == \
        "https://x.test/s"  # no account: nothing to carry
