"""Twilio webhooks of the agent connection: connect (caller leg), whisper (agent leg), dialed.

Like every voice route they answer valid TwiML whatever happens: a failure on the caller's leg
sends the caller back to the queue's hold music, never to Twilio's application error.
"""

from __future__ import annotations

import logging

from chalice import Blueprint

from chalicelib.observability import metric
from chalicelib.routing.routes import routing_service
from chalicelib.telephony import twiml as voice_twiml
from chalicelib.telephony.signature import MalformedWebhook, parse_form
from chalicelib.telephony.webhooks import FORM, error, unavailable, xml

log = logging.getLogger(__name__)
agent_voice = Blueprint(__name__)


def _params() -> dict:
    params = parse_form(agent_voice.current_request.raw_body)
    if not params.get("CallSid", "").startswith("CA"):
        raise ValueError("CallSid is missing or malformed")
    return params


def _back_in_line_or_fallback(call_sid: str, params: dict) -> str:
    """The caller's leg failed mid-connection: back in line if the call record can be read,
    else (storage down) the hotline's fallback, which needs no storage. Never Twilio's
    application error."""
    try:
        from chalicelib.store import calls

        return routing_service().requeue_twiml(calls.get_call(call_sid))
    except Exception:  # noqa: BLE001 - storage is the likely culprit: no more reads
        log.warning("call %s: cannot requeue; answering the fallback", call_sid)
        metric("FallbacksServed")
        from chalicelib.ivr.request import VoiceRequest
        from chalicelib.ivr.routes import voice_service

        return voice_service().fallback(VoiceRequest.from_params(params))


@agent_voice.route("/twilio/voice/agent/connect/{queue_id}/{call_sid}", methods=["POST"],
                   content_types=FORM)
def connect_caller(queue_id, call_sid):
    try:
        params = _params()
    except (MalformedWebhook, ValueError) as exc:
        return error(400, str(exc))
    try:
        return xml(routing_service().connect_twiml(queue_id, call_sid))
    except Exception:  # noqa: BLE001
        log.exception("connect failed for call %s", call_sid)
        return xml(_back_in_line_or_fallback(call_sid, params))


@agent_voice.route("/twilio/voice/agent/whisper/{queue_id}/{call_sid}/{agent_id}",
                   methods=["POST"], content_types=FORM)
def whisper_to_agent(queue_id, call_sid, agent_id):
    try:
        params = _params()
        return xml(routing_service().whisper_twiml(queue_id, call_sid, agent_id,
                                                   params["CallSid"]))
    except (MalformedWebhook, ValueError) as exc:
        return error(400, str(exc))
    except Exception:  # noqa: BLE001 - hang up the agent leg: the caller's dial then fails over
        log.exception("whisper failed for call %s agent %s", call_sid, agent_id)
        return xml(voice_twiml.hangup())


@agent_voice.route("/twilio/voice/agent/dialed/{queue_id}/{call_sid}", methods=["POST"],
                   content_types=FORM)
def agent_leg_ended(queue_id, call_sid):
    try:
        params = _params()
    except (MalformedWebhook, ValueError) as exc:
        return error(400, str(exc))
    try:
        return xml(routing_service().dialed_twiml(queue_id, call_sid, params))
    except Exception:  # noqa: BLE001
        log.exception("dial outcome failed for call %s", call_sid)
        return xml(_back_in_line_or_fallback(call_sid, params))


@agent_voice.route("/twilio/voice/agent/consult/{call_sid}/join", methods=["POST"],
                   content_types=FORM)
def consulted_party_answered(call_sid):
    """A warm transfer's consulted party picked up (their own leg asks what to play)."""
    try:
        params = _params()
        return xml(routing_service().warm.answered_twiml(call_sid, params["CallSid"]))
    except (MalformedWebhook, ValueError) as exc:
        return error(400, str(exc))
    except Exception:  # noqa: BLE001 - hang up this leg; its status callback cancels the consult
        log.exception("consult join failed for call %s", call_sid)
        return xml(voice_twiml.hangup())


@agent_voice.route("/twilio/voice/agent/consult/{call_sid}/status", methods=["POST"],
                   content_types=FORM)
def consulted_leg_status(call_sid):
    try:
        params = _params()
    except (MalformedWebhook, ValueError) as exc:
        return error(400, str(exc))
    try:
        routing_service().warm.leg_status(call_sid, params)
    except Exception:  # noqa: BLE001 - Twilio retries a 503 (the status URL's overrides)
        log.exception("consult status for call %s not stored", call_sid)
        return unavailable("consult status")
    return xml("<Response/>")


@agent_voice.route("/twilio/voice/agent/consult/{call_sid}/left/{party}", methods=["POST"],
                   content_types=FORM)
def left_conference(call_sid, party):
    """An agent's (or outside party's) leg left the call's conference room."""
    try:
        _params()
        return xml(routing_service().warm.left_twiml(call_sid, party))
    except (MalformedWebhook, ValueError) as exc:
        return error(400, str(exc))
    except Exception:  # noqa: BLE001
        log.exception("conference exit failed for call %s", call_sid)
        return xml(voice_twiml.hangup())


@agent_voice.route("/twilio/voice/recording", methods=["POST"], content_types=FORM)
def recording_status():
    """Twilio's recordingStatusCallback for a queue's dual-channel agent recording."""
    try:
        params = _params()
    except (MalformedWebhook, ValueError) as exc:
        return error(400, str(exc))
    from chalicelib.store import calls

    try:
        calls.set_recording(params["CallSid"], {
            "sid": params.get("RecordingSid"),
            "status": params.get("RecordingStatus"),
            "url": params.get("RecordingUrl"),
            "duration": params.get("RecordingDuration"),
            "channels": params.get("RecordingChannels"),
        })
    except Exception:  # noqa: BLE001 - Twilio retries a 503 (the callback URL's overrides)
        log.exception("recording status of call %s not stored", params["CallSid"])
        return unavailable("recording status")
    return xml("<Response/>")
