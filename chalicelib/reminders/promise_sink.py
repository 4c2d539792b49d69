"""Promises to pay made in a call pause the account's reminders: the IVR's ``PromiseSink``
over the billing store. ``reminder_blocker`` answers ``promised`` until the date (inclusive),
so the dialler and the text sender skip the account until then (``reminders/check.py``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from chalicelib.reminders.model import UnknownAccount, VersionConflict
from chalicelib.store import billing, claims
from chalicelib.telephony.verbs import PromiseMade

log = logging.getLogger(__name__)
TRIES = 2  # a billing update racing ours: read again once; a second loss is logged upstream


class BillingPromiseSink:
    def promise_made(self, effect: PromiseMade, now: datetime) -> None:
        """Set ``promised_until`` = the holder's local today (``billing.local_today``) +
        ``effect.days``, conditional on the version just read; on a ``VersionConflict`` read
        and try once more. Once per ``call_sid`` + ``node`` (``store.claims``): the claim is
        taken after the write, so a retry racing a failure writes the same date again rather
        than losing the promise. ``UnknownAccount`` and a second conflict propagate."""
        key = f"promise:{effect.call_sid}:{effect.node}"
        if claims.is_claimed(key):
            return
        for attempt in range(TRIES):
            account = billing.get_account(effect.account_id)
            if account is None:
                raise UnknownAccount(effect.account_id)
            until = billing.local_today(account, now) + timedelta(days=effect.days)
            try:
                billing.set_promise(account.account_id, until, account.version, now=now)
            except VersionConflict:
                if attempt + 1 == TRIES:
                    raise
                continue
            claims.claim(key, now)
            log.info("account %s promised to pay by %s (call %s)", account.account_id, until,
                     effect.call_sid)
            return
