"""The seam between a flow's pay node and the books: where a ``<Pay>`` charge is recorded.

The IVR only reports what Twilio's connector confirmed (``PaymentTaken``: account, amount in
minor units, currency, confirmation code, the card's last four digits); the accounts store
applies it to the balance. Twilio retries a webhook it got no answer to, and the step replay
guard (``ivr.service``) runs a pay node's resume once per step, so a sink normally sees each
payment once; it must still treat ``confirmation`` as an idempotency key (a payment recorded
twice is a customer charged once and credited twice).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from chalicelib.calls.model import Call
from chalicelib.ivr.engine import AMOUNT, CURRENCY, last4, minor_units
from chalicelib.telephony.verbs import PaymentTaken

log = logging.getLogger(__name__)


class PaymentSink(Protocol):
    def payment_taken(self, effect: PaymentTaken, now: datetime) -> None:
        """Record a payment taken during a call (``now``: aware UTC). Idempotent by
        ``effect.confirmation``; raising leaves the charge unrecorded (the service logs it with
        the confirmation code for reconciliation; the caller still gets the receipt)."""
        ...


class LoggingPaymentSink:
    """The default until the accounts store is wired in: only logs (no card digits beyond the
    last four, which is all ``PaymentTaken`` holds)."""

    def payment_taken(self, effect: PaymentTaken, now: datetime) -> None:
        log.info("payment %s taken on call %s: account %s, %s %s minor units, card %s *%s",
                 effect.confirmation, effect.call_sid, effect.account_id, effect.currency,
                 effect.amount, effect.card_type or "?", effect.card_last4)


def late_payment(params: Mapping[str, str], query: Mapping[str, str], record: Call,
                 node: str) -> PaymentTaken | None:
    """The ``PaymentTaken`` of a ``<Pay>`` success whose action arrived after the call's final
    status: the charge (``account``, ``amount`` in major units, ``currency``) comes from the
    action URL's query (``twiml.pay_action``; Twilio signs it), the card and code from
    Twilio's ``params``. None when the query does not say a usable charge (an action URL made
    before the query carried it)."""
    account = (query.get("account") or "").strip()
    raw = (query.get("amount") or "").strip()
    currency = (query.get("currency") or "").strip().upper()
    if not account or not AMOUNT.match(raw) or not CURRENCY.match(currency):
        return None
    return PaymentTaken(
        account_id=account, amount=minor_units(Decimal(raw), currency), currency=currency,
        confirmation=(params.get("PaymentConfirmationCode") or "").strip(),
        card_last4=last4(params.get("PaymentCardNumber")),
        card_type=(params.get("PaymentCardType") or "").strip(),
        call_sid=record.call_sid, node=node, language=record.language)
