"""Twilio webhooks of the agent connection: connect (caller leg), whisper (agent leg), dialed.

Like every voice route they answer valid TwiML whatever happens: a failure on the caller's leg
sends the caller back to the queue's hold music, never to Twilio's application error.
"""

from __future__ import annotations

import logging

from chalice import Blueprint

from chalicelib.observability import metric
from chalicelib.telephony import twiml as voice_twiml
from chalicelib.telephony.webhook_request import MalformedWebhook, VoiceRequest
from chalicelib.telephony.webhooks import FORM, malformed, unavailable, xml
from chalicelib.wiring import root

log = logging.getLogger(__name__)
agent_voice = Blueprint(__name__)


def _voice_request() -> VoiceRequest:
    return VoiceRequest.parse(agent_voice.current_request.raw_body)


def _back_in_line_or_fallback(call_sid: str, req: VoiceRequest) -> str:
    """The caller's leg failed mid-connection: back in line if the call record can be read,
    else (storage down) the hotline's fallback, which needs no storage. Never Twilio's
    application error."""
    try:
        return root().routing.requeue_call_twiml(call_sid)
    except Exception:  # noqa: BLE001 - storage is the likely culprit: no more reads
        log.warning("call %s: cannot requeue; answering the fallback", call_sid)
        metric("FallbacksServed")
        return root().voice.fallback(req)


@agent_voice.route("/twilio/voice/agent/connect/{queue_id}/{call_sid}", methods=["POST"],
                   content_types=FORM)
def connect_caller(queue_id, call_sid):
    try:
        req = _voice_request()
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        return xml(root().routing.connect_twiml(queue_id, call_sid))
    except Exception:  # noqa: BLE001
        log.exception("connect failed for call %s", call_sid)
        return xml(_back_in_line_or_fallback(call_sid, req))


@agent_voice.route("/twilio/voice/agent/whisper/{queue_id}/{call_sid}/{agent_id}",
                   methods=["POST"], content_types=FORM)
def whisper_to_agent(queue_id, call_sid, agent_id):
    try:
        req = _voice_request()
        return xml(root().routing.whisper_twiml(queue_id, call_sid, agent_id, req.call_sid))
    except MalformedWebhook as exc:
        return malformed(exc)
    except Exception:  # noqa: BLE001 - hang up the agent leg: the caller's dial then fails over
        log.exception("whisper failed for call %s agent %s", call_sid, agent_id)
        return xml(voice_twiml.hangup())


@agent_voice.route("/twilio/voice/agent/dialed/{queue_id}/{call_sid}", methods=["POST"],
                   content_types=FORM)
def agent_leg_ended(queue_id, call_sid):
    try:
        req = _voice_request()
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        return xml(root().routing.dialed_twiml(queue_id, call_sid, req.params))
    except Exception:  # noqa: BLE001
        log.exception("dial outcome failed for call %s", call_sid)
        return xml(_back_in_line_or_fallback(call_sid, req))


@agent_voice.route("/twilio/voice/agent/consult/{call_sid}/join", methods=["POST"],
                   content_types=FORM)
def consulted_party_answered(call_sid):
    """A warm transfer's consulted party picked up (their own leg asks what to play)."""
    try:
        req = _voice_request()
        return xml(root().warm.answered_twiml(call_sid, req.call_sid))
    except MalformedWebhook as exc:
        return malformed(exc)
    except Exception:  # noqa: BLE001 - hang up this leg; its status callback cancels the consult
        log.exception("consult join failed for call %s", call_sid)
        return xml(voice_twiml.hangup())


@agent_voice.route("/twilio/voice/agent/monitor/{call_sid}/status", methods=["POST"],
                   content_types=FORM)
def supervisor_leg_status(call_sid):
    """The status callback of a supervisor's leg (``routing/monitor.py``)."""
    try:
        req = _voice_request()
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        root().routing.monitors.leg_status(call_sid, req.params)
    except Exception:  # noqa: BLE001 - Twilio retries a 503 (the status URL's overrides)
        log.exception("monitor status for call %s not stored", call_sid)
        return unavailable("monitor status")
    return xml(voice_twiml.empty())


@agent_voice.route("/twilio/voice/agent/consult/{call_sid}/status", methods=["POST"],
                   content_types=FORM)
def consulted_leg_status(call_sid):
    try:
        req = _voice_request()
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        root().warm.leg_status(call_sid, req.params)
    except Exception:  # noqa: BLE001 - Twilio retries a 503 (the status URL's overrides)
        log.exception("consult status for call %s not stored", call_sid)
        return unavailable("consult status")
    return xml(voice_twiml.empty())


@agent_voice.route("/twilio/voice/agent/consult/{call_sid}/left/{party}", methods=["POST"],
                   content_types=FORM)
def left_conference(call_sid, party):
    """An agent's (or outside party's) leg left the call's conference room."""
    try:
        _voice_request()
        return xml(root().warm.left_twiml(call_sid, party))
    except MalformedWebhook as exc:
        return malformed(exc)
    except Exception:  # noqa: BLE001
        log.exception("conference exit failed for call %s", call_sid)
        return xml(voice_twiml.hangup())


@agent_voice.route("/twilio/voice/recording", methods=["POST"], content_types=FORM)
def recording_status():
    """Twilio's recordingStatusCallback for a queue's dual-channel agent recording."""
    try:
        req = _voice_request()
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        root().routing.record_agent_recording(req.call_sid, req.params)
    except Exception:  # noqa: BLE001 - Twilio retries a 503 (the callback URL's overrides)
        log.exception("recording status of call %s not stored", req.call_sid)
        return unavailable("recording status")
    return xml(voice_twiml.empty())
