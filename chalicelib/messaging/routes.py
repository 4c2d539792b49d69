"""SMS webhooks (signed like every ``/twilio/*`` request; the middleware checks that)."""

from __future__ import annotations

import logging

from chalice import Blueprint

from chalicelib.messaging.delivery import record_delivery_status
from chalicelib.messaging.inbound import handle_inbound_sms
from chalicelib.settings import get_settings
from chalicelib.telephony.twiml import sms_reply
from chalicelib.telephony.webhook_request import DeliveryStatus, InboundSms, MalformedWebhook
from chalicelib.telephony.webhooks import FORM, malformed, unavailable, xml
from chalicelib.wiring import root

log = logging.getLogger(__name__)
sms = Blueprint(__name__)

@sms.route("/twilio/sms", methods=["POST"], content_types=FORM)
def inbound_sms():
    try:
        text = InboundSms.parse(sms.current_request.raw_body)
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        reply = handle_inbound_sms(
            text, root().now(),
            lambda agent_id: root().routing.agent_became_available(agent_id),
            cancel_callbacks=root().cancel_callbacks, settings=get_settings(),
            gate=root().compliance, campaign_texts=root().texts)
    except Exception:  # noqa: BLE001 - a STOP must not be lost: Twilio retries a 503
        log.exception("inbound sms %s failed", text.message_sid)
        return unavailable("inbound sms")
    return xml(sms_reply(reply))


@sms.route("/twilio/sms/status", methods=["POST"], content_types=FORM)
def sms_status():
    """Delivery status of a text we sent (the ``StatusCallback`` that ``send_sms`` asks for)."""
    try:
        outcome = record_delivery_status(DeliveryStatus.parse(sms.current_request.raw_body),
                                         root().texts.record_delivery)
    except MalformedWebhook as exc:
        return malformed(exc)
    except Exception:  # noqa: BLE001 - Twilio retries a 503 (the callback URL's overrides)
        log.exception("sms delivery status not stored")
        return unavailable("sms status")
    if outcome == "unknown-message":  # ours, not recorded yet: Twilio asks again shortly
        return unavailable("sms status", "its message is not recorded yet: the send and "
                                         "its status crossed")
    return xml(sms_reply())
