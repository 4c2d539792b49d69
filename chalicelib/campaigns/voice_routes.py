"""Twilio webhooks of campaign calls: ``/twilio/campaigns/{campaign_id}/calls/{contact_id}/
{attempt}/answer`` (TwiML when the call is answered), ``.../amd`` (an asynchronous
answering-machine verdict) and ``.../status`` (its final status).

The answer always gets valid TwiML: whatever fails, the person hears a hang-up, never Twilio's
application error. A status is answered 200 once handled (or when it names nothing we know:
retrying would not help) and 503 when it could not be stored, which Twilio retries
(``telephony.retries``).
"""

from __future__ import annotations

import logging

from chalice import Blueprint

from chalicelib.telephony import twiml as voice_twiml
from chalicelib.telephony.webhook_request import MalformedWebhook, VoiceRequest, whole_number
from chalicelib.telephony.webhooks import FORM, error, malformed, unavailable, xml
from chalicelib.wiring import root

log = logging.getLogger(__name__)
campaign_voice = Blueprint(__name__)


@campaign_voice.route("/twilio/campaigns/{campaign_id}/calls/{contact_id}/{attempt}/{step}",
                      methods=["POST"], content_types=FORM)
def campaign_call(campaign_id, contact_id, attempt, step):
    try:
        req = VoiceRequest.parse(campaign_voice.current_request.raw_body)
    except MalformedWebhook as exc:
        return malformed(exc)
    number = whole_number(attempt)
    if step not in ("answer", "status", "amd") or number is None or number < 1:
        return error(404, "no such campaign call step")
    calls = root().campaign_calls
    if step == "answer":
        try:
            return xml(calls.answered(campaign_id, contact_id, number, req))
        except LookupError as exc:
            log.warning("campaign call %s: %s", req.call_sid, exc)
        except Exception:  # noqa: BLE001 - a person is on the line: never an application error
            log.exception("campaign %s call %s: answer failed", campaign_id, req.call_sid)
        return xml(voice_twiml.hangup())
    try:
        if step == "amd":
            calls.machine_verdict(campaign_id, contact_id, number, req)
        else:
            calls.ended(campaign_id, contact_id, number, req)
    except LookupError as exc:
        log.warning("campaign call %s status: %s", req.call_sid, exc)
    except Exception:  # noqa: BLE001 - an outcome must not be lost: Twilio retries a 503
        log.exception("campaign %s call %s: status failed", campaign_id, req.call_sid)
        return unavailable("campaign call status")
    return xml(voice_twiml.empty())
