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
from collections.abc import Callable

from chalicelib.messaging.model import SentText
from chalicelib.store import messages
from chalicelib.telephony.webhook_request import DeliveryStatus

log = logging.getLogger(__name__)

# What a campaign does with its text's status (``campaigns.texting.TextSender.record_delivery``)
CampaignStatus = Callable[[SentText, DeliveryStatus], object]


def record_delivery_status(report: DeliveryStatus,
                           on_campaign_text: CampaignStatus | None = None) -> str:
    """Store the status on the message; returns what happened (``applied``, ``stale``,
    ``unknown-message``, ``unknown-status``). A campaign's text is then handed to
    ``on_campaign_text`` with the report, for a stale status too: a retried callback whose
    first try failed after the message was updated still reaches the campaign."""
    sid, status, error_code = report.message_sid, report.status, report.error_code
    outcome, text = messages.apply_status(sid, status, error_code)
    if on_campaign_text is not None and text is not None and text.campaign_id:
        on_campaign_text(text, report)
    if outcome == "applied":
        log.info("sms %s is %s%s", sid, status, f" (error {error_code})" if error_code else "")
    else:
        log.info("sms %s status %s not recorded: %s", sid, status, outcome)
    return outcome
