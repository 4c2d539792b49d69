"""Send one SMS, at most once per idempotency key, without ever failing the call that asked."""

from __future__ import annotations

import logging
from datetime import datetime

from chalicelib.logs import mask_number
from chalicelib.settings import Settings
from chalicelib.store import messages

log = logging.getLogger(__name__)


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
) -> str | None:
    """Send ``body`` to ``to`` unless ``key`` was already used; return the message sid."""
    if not messages.claim(
        key,
        to=to,
        template=template,
        call_sid=call_sid,
        now=now,
        retention_days=settings.call_retention_days,
    ):
        log.info("sms %s already sent; not sending again", key)
        return None
    try:
        from chalicelib.telephony.rest import twilio_client

        message = twilio_client(settings).messages.create(to=to, from_=sender, body=body)
    except Exception as exc:  # noqa: BLE001 - a text must never break the call
        log.warning("sms %s to %s failed: %s", key, mask_number(to), type(exc).__name__)
        messages.mark_failed(key, f"{type(exc).__name__}: {exc}")
        return None
    messages.mark_sent(key, message.sid, message.status or "queued", sender)
    log.info("sms %s sent to %s as %s", key, mask_number(to), message.sid)
    return message.sid
