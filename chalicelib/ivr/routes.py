"""Voice webhooks: parse Twilio's form, call the voice service, answer TwiML.

Every route answers valid TwiML whatever happens inside: an exception becomes the hotline's
fallback, and if even that fails, a spoken apology. Twilio's "application error" is never heard.
"""

from __future__ import annotations

import logging

from chalice import Blueprint

from chalicelib.observability import metric
from chalicelib.prompts import render_prompt
from chalicelib.telephony import twiml
from chalicelib.telephony.webhook_request import (
    MalformedWebhook,
    VoiceRequest,
    parse_form,
    whole_number,
)
from chalicelib.telephony.webhooks import FORM, malformed, unavailable, xml
from chalicelib.wiring import root

log = logging.getLogger(__name__)
voice = Blueprint(__name__)

def _voice_request() -> VoiceRequest:
    return VoiceRequest.parse(voice.current_request.raw_body)


def _answer_safely(handle) -> object:
    """Run ``handle(service, request)``; on any failure answer the fallback instead."""
    try:
        req = _voice_request()
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        service = root().voice
        return xml(handle(service, req))
    except Exception:  # noqa: BLE001 - the caller must hear something sensible
        log.exception("voice webhook failed for call %s; answering the fallback", req.call_sid)
        metric("FallbacksServed")
    try:
        return xml(root().voice.fallback(req))
    except Exception:  # noqa: BLE001
        log.exception("fallback failed for call %s", req.call_sid)
        return xml(twiml.say_and_hangup(*render_prompt("fallback_goodbye")))


@voice.route("/twilio/voice", methods=["POST"], content_types=FORM)
def incoming_call():
    return _answer_safely(lambda service, req: service.answer(req))


@voice.route("/twilio/voice/step/{step}/{node}", methods=["POST"], content_types=FORM)
def flow_step(step, node):
    number = whole_number(step)
    if number is None:
        return malformed(MalformedWebhook("step must be a number"))
    # the query says what a <Pay> charges (twiml.pay_action); Twilio signed it with the URL
    query = dict(voice.current_request.query_params or {})
    return _answer_safely(lambda service, req: service.step(req, number, node, query))


@voice.route("/twilio/voice/hold/{node}", methods=["POST"], content_types=FORM)
def queue_hold(node):
    try:
        req = _voice_request()
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        return xml(root().voice.hold(req, node))
    except Exception:  # noqa: BLE001 - the caller keeps their place on the music
        log.exception("hold music failed for call %s", req.call_sid)
        return xml(root().voice.hold_through_outage(req))


@voice.route("/twilio/voice/fallback", methods=["POST"], content_types=FORM)
def number_fallback():
    """The Fallback URL set on the Twilio number: Twilio calls it when our main URL failed."""
    metric("FallbacksServed")
    return _answer_safely(lambda service, req: service.fallback_for_number(req))


@voice.route("/twilio/voice/fallback/dialed", methods=["POST"], content_types=FORM)
def fallback_dialed():
    return _answer_safely(lambda service, req: service.fallback_dialed(req))


@voice.route("/twilio/voice/fallback/recorded", methods=["POST"], content_types=FORM)
def fallback_recorded():
    return _answer_safely(lambda service, req: service.fallback_recorded(req))


@voice.route("/twilio/voice/status", methods=["POST"], content_types=FORM)
def call_status():
    try:
        req = _voice_request()
        root().voice.status(req)
    except MalformedWebhook as exc:
        return malformed(exc)
    except Exception:  # noqa: BLE001 - Twilio retries a 503 (the status URL's overrides)
        log.exception("call status not stored")
        return unavailable("call status")
    return xml(twiml.empty())


@voice.route("/twilio/voice/transcription", methods=["POST"], content_types=FORM)
def voicemail_transcription():
    try:
        root().voice.transcription(parse_form(voice.current_request.raw_body))
    except MalformedWebhook as exc:
        return malformed(exc)
    except Exception:  # noqa: BLE001 - Twilio retries a 503 (the callback URL's overrides)
        log.exception("transcription not stored")
        return unavailable("transcription")
    return xml(twiml.empty())


@voice.route("/twilio/voice/hold/{node}/choice", methods=["POST"], content_types=FORM)
def queue_hold_choice(node):
    """A key pressed during hold music (1: call me back, keep my place; 2: voicemail)."""
    try:
        req = _voice_request()
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        return xml(root().voice.hold_choice(req, node))
    except Exception:  # noqa: BLE001 - back to the music: the caller keeps waiting
        log.exception("hold choice failed for call %s", req.call_sid)
        return xml(twiml.empty())
