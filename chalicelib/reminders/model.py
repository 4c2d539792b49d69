"""Billing accounts and payments as the reminders see them, and the one rule of "stop when paid".

Money is an ``int`` of the currency's minor units (cents; fen for CNY; yen for JPY, whose
exponent is 0), never a float: ``parse_amount`` reads a decimal string ("42.17") into it and
``format_amount`` writes it back with the currency's own number of places (ISO 4217).

``reminder_blocker`` is the only place that decides whether a reminder may go to an account
right now; every reminder re-reads the account and asks it just before each attempt.
``status_after`` derives the status from the amount and the due date after any change (a
payment, a reversal, a new bill). Plain Python: no storage, no framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from chalicelib.reminders.money import minor_units, to_minor

CURRENT, OVERDUE, PAID = "current", "overdue", "paid"
DISPUTED, IN_PLAN, WRITTEN_OFF = "disputed", "in_plan", "written_off"
STATUSES = (CURRENT, OVERDUE, PAID, DISPUTED, IN_PLAN, WRITTEN_OFF)
# Set by people (the billing system, an agent), never derived from the amount: kept as they are.
HELD = (DISPUTED, IN_PLAN, WRITTEN_OFF)

# Why no reminder may go now (``reminder_blocker``), in the order they are checked.
BLOCK_PAID, BLOCK_DISPUTED, BLOCK_IN_PLAN = "paid", "disputed", "in_plan"
BLOCK_WRITTEN_OFF, BLOCK_PROMISED = "written_off", "promised"
BLOCK_NOTHING_DUE, BLOCK_NO_DUE_DATE = "nothing_due", "no_due_date"

PAYMENT_SOURCES = ("pay", "billing", "agent")  # <Pay> in a call, the billing system, an agent
APPLIED, REVERSED = "applied", "reversed"

# The currencies we take, with their ISO 4217 minor-unit exponents (Babel's currency data,
# ``money.minor_units``: the one owner of that fact). Not here: not accepted.
ACCEPTED_CURRENCIES = ("USD", "CAD", "EUR", "GBP", "CNY", "HKD", "SGD", "AUD", "MXN", "INR",
                       "CHF", "TWD", "JPY", "KRW")
CURRENCY_EXPONENTS = {currency: minor_units(currency) for currency in ACCEPTED_CURRENCIES}


class UnknownAccount(LookupError):
    """No account with this id."""


class UnknownPayment(LookupError):
    """No payment with this id."""


class PaymentMismatch(Exception):
    """A payment id already recorded with a different account, amount, currency or source."""


class CurrencyMismatch(ValueError):
    """A payment in another currency than the account's."""


class VersionConflict(Exception):
    """The account changed since it was read (its ``version`` moved)."""


@dataclass(frozen=True)
class BillingAccount:
    """A customer's account as the billing system gives it, plus our promise-to-pay pause.

    ``phones``: E.164, the first is the primary. ``amount_due``: minor units; 0 or less is
    nothing to pay (less: a credit). ``version`` counts our writes (every write is conditional
    on it); ``source_version`` is the billing system's own id of the change last applied.
    """

    account_id: str
    holder: str
    phones: tuple[str, ...]
    language: str = "en-US"
    timezone: str | None = None
    currency: str = "USD"
    amount_due: int = 0
    due_date: date | None = None
    status: str = CURRENT
    promised_until: date | None = None  # a promise to pay: reminders paused until (inclusive)
    version: int = 1
    updated_at: datetime | None = None
    source_version: str | None = None


@dataclass(frozen=True)
class Payment:
    """Money received for an account: ``amount`` in the account's currency, minor units.
    ``payment_id`` is the payer's own id (Twilio's confirmation, the billing system's id):
    the idempotency key. We never hold a card number: ``card_last4`` at most."""

    payment_id: str
    account_id: str
    amount: int
    currency: str
    source: str  # "pay" | "billing" | "agent"
    at: datetime
    status: str = APPLIED  # applied | reversed
    confirmation: str | None = None
    card_last4: str | None = None
    reversed_at: datetime | None = None


def reminder_blocker(account: BillingAccount, today: date) -> str | None:
    """Why no reminder may go to ``account`` on ``today`` (the account's local date), or None
    when one may: ``paid``, ``disputed``, ``in_plan``, ``written_off``, ``promised`` (today is
    on or before ``promised_until``), ``nothing_due`` (amount 0 or a credit), ``no_due_date``."""
    held = {PAID: BLOCK_PAID, DISPUTED: BLOCK_DISPUTED, IN_PLAN: BLOCK_IN_PLAN,
            WRITTEN_OFF: BLOCK_WRITTEN_OFF}
    if account.status in held:
        return held[account.status]
    if account.promised_until is not None and today <= account.promised_until:
        return BLOCK_PROMISED
    if account.amount_due <= 0:
        return BLOCK_NOTHING_DUE
    if account.due_date is None:
        return BLOCK_NO_DUE_DATE
    return None


def status_after(account: BillingAccount, amount_due: int, today: date) -> str:
    """The status once ``account`` owes ``amount_due``: disputed, in a plan and written off are
    kept (people set them); else paid at 0 or less, overdue past the due date, else current."""
    if account.status in HELD:
        return account.status
    if amount_due <= 0:
        return PAID
    if account.due_date is not None and today > account.due_date:
        return OVERDUE
    return CURRENT


def exponent(currency: str) -> int:
    """The currency's number of decimal places; KeyError for one we do not take."""
    return CURRENCY_EXPONENTS[currency]


def parse_amount(text: str, currency: str) -> int:
    """``"42.17"`` in USD -> 4217 (``money.to_minor``, for a currency we take). ValueError for
    anything but a plain decimal with at most the currency's places, or over 10**12 minor
    units; KeyError for a currency we do not take."""
    exponent(currency)
    if not isinstance(text, str) or not text.strip():
        raise ValueError("must be a decimal amount like 42.17")
    try:
        minor = to_minor(text.strip(), currency)
    except ValueError as exc:
        raise ValueError(f"must be a decimal amount like 42.17 ({exc})") from None
    if minor >= 10**12:
        raise ValueError("is too large")
    return minor


def format_amount(minor: int, currency: str) -> str:
    """4217 in USD -> ``"42.17"``; 500 in JPY -> ``"500"``; a credit keeps its ``-``."""
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"
