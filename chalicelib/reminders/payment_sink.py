"""Payments taken in a call land on the account: the IVR's ``PaymentSink`` over the billing
store. The connector's confirmation code is the payment's id, so a ``<Pay>`` result replayed
by Twilio records one payment; the account's amount due and status change at once, and every
pending reminder sees it before its next attempt (``reminders/check.py``)."""

from __future__ import annotations

import logging
from datetime import datetime

from chalicelib.reminders.model import Payment
from chalicelib.store import billing
from chalicelib.telephony.verbs import PaymentTaken

log = logging.getLogger(__name__)
PAY = "pay"  # a payment's source: <Pay> during a call


class BillingPaymentSink:
    def payment_taken(self, effect: PaymentTaken, now: datetime) -> None:
        """Record the payment (idempotent by the confirmation code). ``UnknownAccount``,
        ``CurrencyMismatch``... propagate: the IVR logs them with the code for reconciling."""
        account, applied = billing.record_payment(Payment(
            payment_id=f"pay-{effect.confirmation}", account_id=effect.account_id,
            amount=effect.amount, currency=effect.currency, source=PAY, at=now,
            confirmation=effect.confirmation, card_last4=effect.card_last4))
        log.info("payment %s on account %s: %s (due now %s minor units)", effect.confirmation,
                 effect.account_id, "applied" if applied else "already applied",
                 account.amount_due)
