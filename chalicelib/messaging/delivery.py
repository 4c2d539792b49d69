"""Delivery status callbacks for the texts we send (``POST /twilio/sms/status``).

Twilio posts each status change (queued, sending, sent, delivered / undelivered / failed) with the
MessageSid, and an ErrorCode on failure. Callbacks may arrive late or out of order, and one may
arrive for a message we do not know (another app on the same number, or a message older than its
retention): that one is logged and acknowledged, because an error would only make Twilio retry.
"""

from __future__ import annotations

import logging

from chalicelib.store import messages

log = logging.getLogger(__name__)

MESSAGE_SID_PREFIXES = ("SM", "MM")


class BadStatusCallback(ValueError):
    """The request lacks what every Twilio message status callback carries."""


def record_delivery_status(params: dict) -> str:
    """Store the status on the message; returns what happened (``applied``, ``stale``,
    ``unknown-message``, ``unknown-status``)."""
    sid = params.get("MessageSid", "")
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    if not sid.startswith(MESSAGE_SID_PREFIXES):
        raise BadStatusCallback("MessageSid is missing or malformed")
    if not status:
        raise BadStatusCallback("MessageStatus is missing")
    error_code = (params.get("ErrorCode") or "").strip() or None
    outcome = messages.record_status(sid, status, error_code)
    if outcome == "applied":
        log.info("sms %s is %s%s", sid, status, f" (error {error_code})" if error_code else "")
    else:
        log.info("sms %s status %s not recorded: %s", sid, status, outcome)
    return outcome
