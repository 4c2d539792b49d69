"""The seam between a flow's promise node and the books: where a promise to pay is recorded.

The IVR only reports what the holder keyed (``PromiseMade``: account, days from their local
today, the call and node); the accounts store pauses the account's reminders until then
(``reminders.model.reminder_blocker``: ``promised``). A sink must be idempotent by
``call_sid`` + ``node``: Twilio retries webhooks.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from chalicelib.telephony.verbs import PromiseMade

log = logging.getLogger(__name__)


class PromiseSink(Protocol):
    def promise_made(self, effect: PromiseMade, now: datetime) -> None:
        """Pause the account's reminders until ``now``'s local date + ``effect.days``
        (``now``: aware UTC). Idempotent by ``effect.call_sid`` + ``effect.node``; raising
        leaves the promise unrecorded (the service logs it; the caller is still thanked)."""
        ...


class LoggingPromiseSink:
    """The default until the accounts store is wired in: only logs."""

    def promise_made(self, effect: PromiseMade, now: datetime) -> None:
        log.info("promise on call %s: account %s, %s days (until %s)", effect.call_sid,
                 effect.account_id, effect.days, effect.until)
