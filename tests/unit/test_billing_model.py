"""The one rule of "stop when paid" (``reminder_blocker``), the status a change leaves
(``status_after``) and money as minor units (``parse_amount``, ``format_amount``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from chalicelib.reminders.model import (
    CURRENT,
    DISPUTED,
    IN_PLAN,
    OVERDUE,
    PAID,
    WRITTEN_OFF,
    BillingAccount,
    format_amount,
    parse_amount,
    reminder_blocker,
    status_after,
)

TODAY = date(2026, 11, 30)
DUE = BillingAccount("A1", "Ada Lovelace", ("+14155550111",), amount_due=4217,
                     due_date=date(2026, 11, 20), status=OVERDUE)


def test_an_overdue_account_with_an_amount_and_a_due_date_may_be_reminded():
    assert reminder_blocker(DUE, TODAY) is None
    assert reminder_blocker(replace(DUE, status=CURRENT, due_date=date(2026, 12, 3)),
                            TODAY) is None


@pytest.mark.parametrize(("change", "reason"), [
    ({"status": PAID, "amount_due": 0}, "paid"),
    ({"status": DISPUTED}, "disputed"),
    ({"status": IN_PLAN}, "in_plan"),
    ({"status": WRITTEN_OFF}, "written_off"),
    ({"promised_until": TODAY}, "promised"),  # the promised day itself is still paused
    ({"promised_until": date(2026, 12, 10)}, "promised"),
    ({"amount_due": 0}, "nothing_due"),  # a stale status: the amount decides
    ({"amount_due": -500}, "nothing_due"),  # a credit
    ({"due_date": None}, "no_due_date"),
])
def test_each_reason_blocks_a_reminder(change, reason):
    assert reminder_blocker(replace(DUE, **change), TODAY) == reason


def test_a_promise_in_the_past_no_longer_pauses():
    assert reminder_blocker(replace(DUE, promised_until=date(2026, 11, 29)), TODAY) is None


def test_status_after_a_change():
    current = replace(DUE, status=CURRENT, due_date=TODAY)
    assert status_after(current, 100, TODAY) == CURRENT  # due today: not yet overdue
    assert status_after(current, 100, date(2026, 12, 1)) == OVERDUE
    assert status_after(DUE, 0, TODAY) == PAID
    assert status_after(DUE, -1, TODAY) == PAID
    assert status_after(replace(DUE, status=PAID), 4217, TODAY) == OVERDUE  # reversed
    assert status_after(replace(DUE, due_date=None), 100, TODAY) == CURRENT
    for held in (DISPUTED, IN_PLAN, WRITTEN_OFF):
        assert status_after(replace(DUE, status=held), 0, TODAY) == held


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("42.17", "USD", 4217), ("42", "USD", 4200), ("0.5", "CNY", 50), ("500", "JPY", 500),
    ("0", "USD", 0), (" 7.00 ", "USD", 700),
])
def test_amounts_are_read_into_minor_units(text, currency, minor):
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(("text", "currency"), [
    ("42.171", "USD"), ("1.5", "JPY"), ("-3", "USD"), ("1e3", "USD"), ("NaN", "USD"),
    ("1,000", "USD"), ("", "USD"), ("٣", "USD"), ("9" * 13, "USD"), (".", "USD"),
])
def test_amounts_that_are_not_plain_decimals_are_refused(text, currency):
    with pytest.raises(ValueError):
        parse_amount(text, currency)


def test_amounts_are_written_with_the_currencys_places():
    assert format_amount(4217, "USD") == "42.17"
    assert format_amount(5, "CNY") == "0.05"
    assert format_amount(500, "JPY") == "500"
    assert format_amount(-250, "USD") == "-2.50"
