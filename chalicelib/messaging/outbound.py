"""Send one SMS, at most once per idempotency key, only when the compliance gate admits it
(``compliance/gate.py``: never to an opted-out or do-not-call number), and without ever
failing the call that asked.

Every text asks for delivery status callbacks at ``<PUBLIC_BASE_URL>/twilio/sms/status``, which
record sent / delivered / undelivered on the message. If Twilio refuses a text because the
number replied STOP to it (error 21610, e.g. before our list knew), the number goes on our list
too: Twilio's block and ours then agree. A refusal that time lifts (outside the recipient's
calling window, a frequency cap) stores nothing under the key, so a campaign's text can go under
the same key once the gate allows it; a refusal for good uses the key up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from chalicelib.compliance.gate import ComplianceGate
from chalicelib.compliance.rules import OPTED_OUT, REQUESTED, SMS, Policy
from chalicelib.consent import record_opt_out
from chalicelib.logs import mask_number, ref
from chalicelib.messaging.model import SentText
from chalicelib.settings import Settings
from chalicelib.store import messages
from chalicelib.telephony.rest import twilio_client
from chalicelib.telephony.retries import retried

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/twilio/sms/status"
CARRIER_OPTED_OUT = 21610  # Twilio: "Attempt to send to unsubscribed recipient"


@dataclass(frozen=True)
class TextOutcome:
    """How one ``send_text`` ended. ``status``:

    - ``sent``: Twilio took it (``message_sid``);
    - ``deferred``: the gate refuses it until ``next_allowed_at`` (the calling window, a
      frequency cap): nothing is stored under the key, so the same key may try again then;
    - ``refused`` / ``opted_out``: the gate refuses it for good (``reasons``);
    - ``failed``: Twilio refused it (``error_code``, e.g. 21211) or could not be reached;
      ``opted_out`` too when Twilio says the number replied STOP (21610);
    - ``duplicate``: the key was used before; ``previous`` is that text as it stands.
    """

    status: str
    message_sid: str | None = None
    reasons: tuple[str, ...] = ()
    next_allowed_at: datetime | None = None
    error_code: int | None = None
    previous: SentText | None = None


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
    policy: Policy | None = None,
    fallback_tz: str = "UTC",
) -> str | None:
    """Send ``body`` to ``to`` unless ``key`` was already used or the compliance gate refuses
    it (``purpose``: ``compliance.rules.PURPOSES``; today's texts answer the recipient, so
    ``requested``; ``policy``: the gate's rules, default the gate's own); return the message
    sid (None when nothing was sent; ``messages.get_message(key)`` says why: ``opted_out``,
    ``refused``, ``failed``; nothing is stored for a text the gate only defers)."""
    return send_text(key=key, to=to, sender=sender, body=body, template=template,
                     call_sid=call_sid, settings=settings, now=now, gate=gate, purpose=purpose,
                     policy=policy, fallback_tz=fallback_tz).message_sid


def send_text(
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
    policy: Policy | None = None,
    fallback_tz: str = "UTC",
    campaign_id: str | None = None,
) -> TextOutcome:
    """``send_sms``, saying how it ended (``TextOutcome``). ``fallback_tz``: the recipient's
    zone when the number says nothing; ``campaign_id``: the campaign the text belongs to (kept
    on the message, so its delivery status reaches the campaign's contact)."""
    decision = gate.admit(to, SMS, purpose, key=key, caller_id=sender, policy=policy,
                          fallback_tz=fallback_tz)
    if not decision.allowed and decision.next_allowed_at is not None:
        # a refusal for now: the key stays free for the same text once the gate allows it
        log.info("sms %s to %s deferred to %s: %s", ref(key), mask_number(to),
                 decision.next_allowed_at.isoformat(), ", ".join(decision.reasons))
        return TextOutcome("deferred", reasons=decision.reasons,
                           next_allowed_at=decision.next_allowed_at)
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
        campaign_id=campaign_id,
    ):
        log.info("sms %s already sent; not sending again", ref(key))
        return TextOutcome("duplicate", previous=messages.get_message(key))
    if refused:
        log.info("sms %s not sent to %s: %s", ref(key), mask_number(to),
                 ", ".join(decision.reasons))
        return TextOutcome(refused, reasons=decision.reasons)
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
            return TextOutcome("opted_out", reasons=(OPTED_OUT,), error_code=code)
        messages.mark_failed(key, f"{type(exc).__name__}: {exc}",
                             str(code) if code else None)
        return TextOutcome("failed", error_code=code if isinstance(code, int) else None)
    messages.mark_sent(key, message.sid, message.status or "queued", sender)
    log.info("sms %s sent to %s as %s", ref(key), mask_number(to), message.sid)
    return TextOutcome("sent", message_sid=message.sid)
