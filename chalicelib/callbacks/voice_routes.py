"""Twilio webhooks of the calls we place to return customers' calls.

``/twilio/voice/callback/{callback_id}/{step}``: ``agent`` and ``agent-status`` (agent-first: the
agent's leg), ``dialed`` (how the agent's dial to the customer ended), ``customer`` and
``customer-status`` (customer-first: the customer's leg, with answering-machine detection),
``hold`` and ``left`` (a called-back customer waiting in line). Each answers valid TwiML whatever
happens; a status callback gets 200 once handled (a settled outcome is not retried) and 503 when
it could not be stored, which Twilio retries (``telephony.retries``).
"""

from __future__ import annotations

import logging

from chalice import Blueprint

from chalicelib.logs import ref
from chalicelib.telephony import twiml as voice_twiml
from chalicelib.telephony.webhook_request import MalformedWebhook, VoiceRequest
from chalicelib.telephony.webhooks import FORM, error, malformed, unavailable, xml
from chalicelib.wiring import root

log = logging.getLogger(__name__)
callback_voice = Blueprint(__name__)

TWIML_STEPS = {"agent": "agent_answered_twiml", "dialed": "customer_dialed_twiml",
               "customer": "customer_answered_twiml", "hold": "hold_twiml"}
STATUS_STEPS = {"agent-status": "agent_leg_status", "customer-status": "customer_leg_status"}


@callback_voice.route("/twilio/voice/callback/{callback_id}/{step}", methods=["POST"],
                      content_types=FORM)
def callback_call(callback_id, step):
    try:
        params = VoiceRequest.parse(callback_voice.current_request.raw_body).params
    except MalformedWebhook as exc:
        return malformed(exc)
    if step not in TWIML_STEPS and step not in STATUS_STEPS and step != "left":
        return error(404, f"no callback step '{step}'")
    dispatcher = root().callbacks
    try:
        if step in STATUS_STEPS:
            getattr(dispatcher, STATUS_STEPS[step])(callback_id, params)
            return xml(voice_twiml.empty())
        if step == "left":
            return xml(voice_twiml.hangup())
        return xml(getattr(dispatcher, TWIML_STEPS[step])(callback_id, params))
    except Exception:  # noqa: BLE001 - never Twilio's application error on a callback call
        log.exception("callback %s step %s failed", ref(callback_id), step)
        if step in STATUS_STEPS:  # an outcome must not be lost: Twilio retries a 503
            return unavailable(f"callback {step}")
        return xml(voice_twiml.hangup())
