"""SMS webhooks (signed like every ``/twilio/*`` request; the middleware checks that)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from chalice import Blueprint
from twilio.twiml.messaging_response import MessagingResponse

from chalicelib.telephony.signature import MalformedWebhook, parse_form
from chalicelib.telephony.webhooks import FORM, error, xml

log = logging.getLogger(__name__)
sms = Blueprint(__name__)


@sms.route("/twilio/sms", methods=["POST"], content_types=FORM)
def inbound_sms():
    try:
        params = parse_form(sms.current_request.raw_body)
    except MalformedWebhook as exc:
        return error(400, str(exc))
    if not params.get("MessageSid", "").startswith(("SM", "MM")):
        return error(400, "MessageSid is missing or malformed")
    from chalicelib.messaging.inbound import handle_inbound_sms
    from chalicelib.routing.routes import routing_service

    response = MessagingResponse()
    try:
        reply = handle_inbound_sms(params, datetime.now(UTC),
                                   lambda agent_id: routing_service().agent_became_available(
                                       agent_id))
    except Exception:  # noqa: BLE001 - a text never gets an error page back
        log.exception("inbound sms %s failed", params.get("MessageSid"))
        reply = None
    if reply:
        response.message(reply)
    return xml(str(response))
