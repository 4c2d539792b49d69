"""The carrier emulator's ``<Pay>``: scripted outcomes, Twilio's action parameters (never a full
card number), the statusCallback, and Twilio's refusal of a bad amount; against the signature-
checking fake app of ``test_carrier``."""

from __future__ import annotations

import re

import pytest

from infra.local.carrier.session import parse_action
from tests.integration.test_carrier import CALLER, HOTLINE, R, app, carrier  # noqa: F401

PAY = ('<Pay action="/api/paid" statusCallback="/api/pay-status" chargeAmount="{amount}" '
       'currency="usd" paymentConnector="Default" maxAttempts="2">'
       '<Prompt for="payment-card-number"><Say>Your card number, please.</Say></Prompt></Pay>')


def pay_call(app, carrier, script, amount="42.17"):  # noqa: F811 - fixtures passed on
    app.route("/twilio/voice", R(PAY.format(amount=amount)))
    app.route("/paid", R("<Say>Done.</Say>"))
    app.route("/pay-status", R())
    return carrier.place_inbound_call(HOTLINE, CALLER, script)


def test_success_posts_twilios_parameters_and_the_status_callback(app, carrier):  # noqa: F811
    t = pay_call(app, carrier, ["pay:success"])
    assert "Your card number, please." in t.said and "Done." in t.said
    (paid,) = app.posts("/paid")
    assert paid["Result"] == "success" and paid["PaymentCardNumber"] == "xxxxxxxxxxxx1111"
    assert paid["PaymentConfirmationCode"].startswith("ch_")
    assert paid["PaymentCardType"] == "visa" and paid["PaymentToken"].startswith("tok_")
    assert not any(re.search(r"\d{5,}", value) for key, value in paid.items()
                   if key.startswith("Payment") and key != "PaymentConfirmationCode"
                   and key != "PaymentToken")
    (status,) = app.posts("/pay-status")
    assert status["Result"] == "success" and status["Sid"].startswith("PK")
    assert status["PaymentConfirmationCode"] == paid["PaymentConfirmationCode"]


@pytest.mark.parametrize(("step", "result", "error"), [
    ("pay:decline", "too-many-failed-attempts", "card-declined"),
    ("pay:timeout", "too-many-failed-attempts", "timeout"),
    ("pay:star", "caller-interrupted-with-star", None),
    ("pay:error", "payment-connector-error", "connector-error"),
    ("*", "caller-interrupted-with-star", None),
    ("4111111111111111#", "success", None),  # keyed in: a card, of which we see 4 digits
])
def test_each_scripted_outcome(app, carrier, step, result, error):  # noqa: F811
    pay_call(app, carrier, [step])
    (paid,) = app.posts("/paid")
    assert paid["Result"] == result
    if error:
        assert paid["PaymentError"] == error
    assert "4111111111111111" not in str(app.requests)


def test_a_hang_up_posts_the_action_and_ends_the_call(app, carrier):  # noqa: F811
    t = pay_call(app, carrier, [])  # nothing scripted: the caller hangs up, as at a Gather
    (paid,) = app.posts("/paid")
    assert paid["Result"] == "caller-hung-up" and paid["CallStatus"] == "completed"
    assert "Done." not in t.said


def test_a_negative_amount_is_a_validation_error(app, carrier):  # noqa: F811
    pay_call(app, carrier, ["pay:success"], amount="-0.5")
    assert app.posts("/paid")[0]["Result"] == "validation-error"


def test_an_unknown_pay_outcome_is_refused_when_the_script_is_read():
    with pytest.raises(ValueError, match="unknown pay outcome"):
        parse_action("pay:maybe")
    assert parse_action("PAY:Star").outcome == "star"
