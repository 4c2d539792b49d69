"""Delivery status callbacks for the texts we send (``POST /twilio/sms/status``).

Twilio posts each status change (queued, sending, sent, delivered / undelivered / failed) with the
MessageSid, and an ErrorCode on failure. Callbacks may arrive late or out of order. Twilio sends
them only to the status URL a message was sent with, ours, so one for a MessageSid we cannot find
yet is one of our own texts whose sid is not recorded yet (the callback overtook ``mark_sent``,
or the index has not caught up): the route answers 503 and Twilio retries it
(``telephony.retries``) instead of the status being dropped.
"""

from __future__ import annotations

import logging

from chalicelib.store import messages
from chalicelib.telephony.webhook_request import DeliveryStatus

log = logging.getLogger(__name__)


def record_delivery_status(report: DeliveryStatus) -> str:
    """Store the status on the message; returns what happened (``applied``, ``stale``,
    ``unknown-message``, ``unknown-status``)."""
    sid, status, error_code = report.message_sid, report.status, report.error_code
    outcome = messages.record_status(sid, status, error_code)
    if outcome == "applied":
        log.info("sms %s is %s%s", sid, status, f" (error {error_code})" if error_code else "")
    else:
        log.info("sms %s status %s not recorded: %s", sid, status, outcome)
    return outcome
