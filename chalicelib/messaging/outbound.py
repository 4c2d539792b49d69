"""Send one SMS, at most once per idempotency key, only when the compliance gate admits it
(``compliance/gate.py``: never to an opted-out or do-not-call number), and without ever
failing the call that asked.

Every text asks for delivery status callbacks at ``<PUBLIC_BASE_URL>/twilio/sms/status``, which
record sent / delivered / undelivered on the message. If Twilio refuses a text because the
number replied STOP to it (error 21610, e.g. before our list knew), the number goes on our list
too: Twilio's block and ours then agree.
"""

from __future__ import annotations

import logging
from datetime import datetime

from chalicelib.compliance.gate import ComplianceGate
from chalicelib.compliance.rules import OPTED_OUT, REQUESTED, SMS
from chalicelib.consent import record_opt_out
from chalicelib.logs import mask_number, ref
from chalicelib.settings import Settings
from chalicelib.store import messages
from chalicelib.telephony.rest import twilio_client
from chalicelib.telephony.retries import retried

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/twilio/sms/status"
CARRIER_OPTED_OUT = 21610  # Twilio: "Attempt to send to unsubscribed recipient"


def send_sms(
    *,
    key: str,
    to: str,
    sender: str,
    body: str,
    template: str,
    call_sid: str | None,
    settings: Settings,
    now: datetime,
    gate: ComplianceGate,
    purpose: str = REQUESTED,
) -> str | None:
    """Send ``body`` to ``to`` unless ``key`` was already used or the compliance gate refuses
    it (``purpose``: ``compliance.rules.PURPOSES``; today's texts answer the recipient, so
    ``requested``); return the message sid (None when nothing was sent;
    ``messages.get_message(key)`` says why: ``opted_out``, ``refused``, ``failed``)."""
    decision = gate.admit(to, SMS, purpose, key=key, caller_id=sender)
    opted_out = OPTED_OUT in decision.reasons
    refused = "opted_out" if opted_out else None if decision.allowed else "refused"
    if not messages.claim(
        key,
        to=to,
        template=template,
        call_sid=call_sid,
        now=now,
        retention_days=settings.call_retention_days,
        status=refused or "pending",
    ):
        log.info("sms %s already sent; not sending again", ref(key))
        return None
    if refused:
        log.info("sms %s not sent to %s: %s", ref(key), mask_number(to),
                 ", ".join(decision.reasons))
        return None
    try:
        message = twilio_client(settings).messages.create(
            to=to, from_=sender, body=body,
            status_callback=retried(settings.public_base_url + STATUS_CALLBACK_PATH))
    except Exception as exc:  # noqa: BLE001 - a text must never break the call
        code = getattr(exc, "code", None)
        log.warning("sms %s to %s failed: %s %s", ref(key), mask_number(to), type(exc).__name__,
                    code or "")
        if code == CARRIER_OPTED_OUT:
            messages.mark_opted_out(key, str(code))
            record_opt_out(to, f"carrier:{code}", now)
        else:
            messages.mark_failed(key, f"{type(exc).__name__}: {exc}",
                                 str(code) if code else None)
        return None
    messages.mark_sent(key, message.sid, message.status or "queued", sender)
    log.info("sms %s sent to %s as %s", ref(key), mask_number(to), message.sid)
    return message.sid
