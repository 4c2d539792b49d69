"""The reminder_call flow and its promise node: nothing of the account before the holder is
confirmed, the amount said with the money filters, a promise as an effect, and the lint rules
of the promise node."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chalicelib.ivr.lint import lint_flow
from chalicelib.ivr.loader import load_flows
from chalicelib.ivr.model import Flow
from chalicelib.telephony import verbs as v
from tests.unit.test_flow_engine import ACCOUNT, HOTLINE, ROOT, Call, spoken

HOLDER = {"name": "Ada Lovelace", "account_id": ACCOUNT, "holder": "Ada Lovelace",
          "company": "Acme Utilities"}
LATE = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # still March 9 in New York
DEBT_WORDS = ("debt", "owe", "bill", "payment", "pay", "balance", "due", "account", "amount",
              "dollar", "Ada")


@pytest.fixture(scope="module")
def shipped() -> dict[str, Flow]:
    loaded, errors = load_flows(ROOT / "flows")
    assert errors == []
    return {flow_id: replace(flow, version=7) for flow_id, flow in loaded.items()}


def reminder(shipped, now=None, customer=HOLDER) -> Call:
    call = Call(shipped, flow_id="reminder_call", customer=customer,
                **({"now": now} if now else {}))
    call.ports.accounts[ACCOUNT] = {**call.ports.accounts[ACCOUNT], "amount_due": 4217,
                                    "timezone": "America/New_York"}
    return call


def test_only_the_holders_name_is_said_before_they_confirm(shipped):
    call = reminder(shipped)
    (gather,) = call.result.verbs
    text = gather.prompts[0].text
    assert "message for Ada Lovelace" in text and "press 1" in text
    assert not any(word in text.lower() for word in ("42", "due", "account", "payment"))


@pytest.mark.parametrize("answer", ["2", "9", ""])
def test_anyone_else_hears_the_limited_content_message_only(shipped, answer):
    call = reminder(shipped)
    call.press(answer)
    (said,) = spoken(call.result)
    assert said.startswith("Hello, this is Acme Utilities. Please call us back at")
    assert " ".join(HOTLINE[2:]) in said  # +14155550100 said digit by digit, without the 1
    assert not any(word.lower() in said.lower() for word in DEBT_WORDS)
    assert isinstance(call.result.verbs[-1], v.Hangup) and not call.result.effects


def test_the_holder_hears_the_amount_and_due_date_spoken(shipped):
    call = reminder(shipped)
    call.press("1")
    assert call.result.waiting_on == "account_menu"
    (text,) = spoken(call.result)
    assert "42 dollars and 17 cents" in text and "July 1, 2026" in text
    assert "Acme Utilities" in text


@pytest.mark.parametrize(("now", "said"), [
    (datetime(2026, 6, 30, 15, 0, tzinfo=UTC), "is due on July 1, 2026."),
    (datetime(2026, 7, 1, 15, 0, tzinfo=UTC), "is due on July 1, 2026."),
    (datetime(2026, 7, 2, 15, 0, tzinfo=UTC),
     "was due on July 1, 2026 and is now overdue."),
])
def test_a_past_due_date_is_said_as_overdue(shipped, now, said):
    call = reminder(shipped, now=now)
    call.press("1")
    (text,) = spoken(call.result)
    assert said in text


def test_a_past_due_date_is_said_as_overdue_in_chinese(shipped):
    call = reminder(shipped, now=datetime(2026, 7, 2, 15, 0, tzinfo=UTC),
                    customer={**HOLDER, "language": "zh-CN"})
    call.state.language = "zh-CN"
    call.press("1")
    (text,) = spoken(call.result)
    assert "已于2026年7月1日到期，目前已逾期" in text


def test_no_input_repeats_the_menu_once_then_goodbye(shipped):
    call = reminder(shipped)
    call.press("1")
    call.silence()
    assert call.result.waiting_on == "account_menu"
    call.silence()
    assert spoken(call.result) == ["Thank you. Goodbye."]


def test_press_one_pays_the_amount_due(shipped):
    call = reminder(shipped)
    call.press("1")
    call.press("1")
    (pay,) = call.result.verbs
    assert isinstance(pay, v.Pay) and pay.charge_amount == "42.17"


def test_a_promise_is_an_effect_dated_in_the_holders_zone(shipped):
    call = reminder(shipped, now=LATE)
    call.press("1")
    call.press("2")
    assert call.result.waiting_on == "ask_days"
    call.press("7")
    (effect,) = call.result.effects
    assert effect == v.PromiseMade(account_id=ACCOUNT, days=7, until=date(2026, 3, 16),
                                   call_sid="CA123", node="promise")
    (said,) = spoken(call.result)
    assert "not remind you before March 16, 2026" in said
    assert call.state.vars["promised_until"] == "2026-03-16"


@pytest.mark.parametrize("days", ["0", "31", "99"])
def test_days_out_of_range_are_asked_again(shipped, days):
    call = reminder(shipped)
    call.press("1")
    call.press("2")
    call.press(days)
    assert call.result.waiting_on == "ask_days" and not call.result.effects
    assert "not a number from 1 to 30" in spoken(call.result)[0]


def test_press_zero_queues_for_support(shipped):
    call = reminder(shipped)
    call.press("1")
    call.press("0")
    *said, enqueue = call.result.verbs
    assert isinstance(enqueue, v.Enqueue) and enqueue.queue == "support"
    assert [s.text for s in said] == ["Connecting you to an agent."]


# ---- the promise node on its own --------------------------------------------------------

VOICES = {"en-US": {"voice": "Polly.Joanna", "language": "en-US"}}


def promise_flow(**changes) -> Flow:
    promise = {"kind": "promise", "account": "{{ customer.account_id }}", "days": "{{ days }}",
               "next": "thanks", "on_invalid": "bye"}
    nodes = {
        "ask": {"kind": "collect", "prompt": "ask", "into": "days", "next": "promise",
                "on_fail": "bye"},
        "promise": {**promise, **changes},
        "thanks": {"kind": "hangup", "template": "thanks"},
        "bye": {"kind": "hangup"},
    }
    return Flow.from_document({"flow": "t", "languages": ["en-US"], "voices": VOICES,
                               "start": "ask", "nodes": nodes, "templates": {"en-US": {
                                   "ask": "Days?", "thanks": "Until {{ promised_until }}."}}})


def run(flow: Flow, digits: str, customer=HOLDER) -> Call:
    call = Call({"t": flow}, flow_id="t", customer=customer)
    call.press(digits)
    return call


def test_the_promise_node_lints_clean_and_round_trips():
    flow = promise_flow(max_days=14, timezone="Asia/Shanghai")
    assert lint_flow(flow) == []
    assert Flow.from_document(flow.to_document()).nodes["promise"] == flow.nodes["promise"]


@pytest.mark.parametrize(("changes", "words"), [
    ({"max_days": 0}, "max_days must be 1 to 90"),
    ({"max_days": 365}, "max_days must be 1 to 90"),
    ({"account": " "}, "account must name the account"),
    ({"days": ""}, "days must give the number of days"),
])
def test_lint_refuses_a_promise_it_cannot_keep(changes, words):
    messages = [(e.node, e.message) for e in lint_flow(promise_flow(**changes))]
    assert ("promise", next(m for n, m in messages if words in m)) in messages


def test_promised_until_is_set_on_next_only():
    messages = [e.message for e in lint_flow(promise_flow(on_invalid="thanks"))]
    assert any("'promised_until' is not set on every path" in m for m in messages)


@pytest.mark.parametrize("digits", ["0", "31", "1.5", "٣"])
def test_days_outside_one_to_max_record_nothing(digits):
    call = run(promise_flow(), digits)
    assert call.result.visited[-1] == "bye" and not call.result.effects


def test_no_account_records_nothing():
    call = run(promise_flow(), "5", customer={"name": "Someone"})
    assert call.result.visited[-1] == "bye" and not call.result.effects


def test_an_unknown_zone_counts_from_utc():
    call = run(promise_flow(timezone="Mars/Olympus"), "3")
    (effect,) = call.result.effects
    assert effect.until == date(2026, 3, 12) and effect.days == 3


# ---- an amount the caller chose, within limits ----------------------------------------------

def part_payer(shipped, balance: str = "42.17") -> Call:
    """The holder of reminder_call at the 'how much' prompt (a balance of ``balance``)."""
    call = reminder(shipped)
    call.press("1")  # the holder
    call.state.vars.update(balance_due=balance)
    call.press("3")  # pay part of it
    assert call.result.waiting_on == "ask_amount"
    return call


@pytest.mark.parametrize(("entered", "charged"), [("1", "1.00"), ("20", "20.00"),
                                                   ("42", "42.00")])
def test_a_part_payment_within_the_balance_is_charged(shipped, entered, charged):
    call = part_payer(shipped)
    (pay,) = call.press(entered).verbs
    assert isinstance(pay, v.Pay) and pay.charge_amount == charged and pay.account == ACCOUNT
    success = {"Result": "success", "PaymentConfirmationCode": "ch_1",
               "PaymentCardNumber": "xxxxxxxxxxxx4242"}
    assert call.send(**success).effects[0].amount == int(entered) * 100


@pytest.mark.parametrize("entered", ["43", "9999999"])
def test_more_than_the_balance_is_refused_before_any_pay(shipped, entered):
    step = part_payer(shipped).press(entered)
    assert not any(isinstance(verb, v.Pay) for verb in step.verbs)
    assert "amount_too_high" in step.visited and step.waiting_on == "account_menu"


def test_a_limit_that_renders_no_amount_refuses_every_charge(shipped):
    step = part_payer(shipped, balance="").press("5")
    assert "amount_too_high" in step.visited and step.effects == []
