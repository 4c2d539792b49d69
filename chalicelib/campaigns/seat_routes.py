"""Agents on an agent campaign (``campaigns/seats.py``): the admin API an agent's console uses,
and the Twilio webhooks of the agent's own line.

Admin (signed in; an agent their own seat): ``GET /agents/{agent_id}/seats`` the agent's seats on
live campaigns (their desk); ``POST /campaigns/{id}/seats`` ``{agent_id}`` calls
the agent onto the campaign's open line; ``GET`` the seats, or one; ``DELETE`` takes the agent off;
``accept`` / ``skip`` answer a preview offer; ``disposition`` ``{disposition}`` ends a wrap-up.
404 for an unknown campaign, agent or seat; 409 for a campaign without agents or a state the
action does not fit.

Twilio (signed, like every ``/twilio/*``): ``join`` answers the agent's leg with the TwiML of
their room (a hang-up whatever goes wrong: the leg's end then removes the seat), and
``seat-status`` hears the leg end (503 when it cannot be stored: Twilio retries it).
"""

from __future__ import annotations

import logging
import re

from chalice import Blueprint

from chalicelib.api_errors import InvalidRequest, json_answer
from chalicelib.api_input import ID_PATTERN, json_object, path_id
from chalicelib.campaigns.campaign import Campaign
from chalicelib.campaigns.contact import CampaignContact
from chalicelib.campaigns.seat import DISPOSITION_FORM, DISPOSITION_PATTERN
from chalicelib.telephony import twiml as voice_twiml
from chalicelib.telephony.webhook_request import MalformedWebhook, VoiceRequest
from chalicelib.telephony.webhooks import FORM, malformed, unavailable, xml
from chalicelib.wiring import root

log = logging.getLogger(__name__)
campaign_seats_api = Blueprint(__name__)

LEG_ENDED = ("completed", "busy", "no-answer", "failed", "canceled")
SEAT = "/campaigns/{campaign_id}/seats/{agent_id}"


def _campaign(campaign_id: str) -> Campaign:
    """The agent campaign of the path (404 impossible or unknown, 409 without agents)."""
    return root().seats.agent_campaign(path_id(campaign_id, "campaign_id", "campaign"))


def _agent_id(value: str) -> str:
    return path_id(value, "agent_id", "agent")


def _field(name: str, pattern: str, form: str) -> str:
    """The JSON body's one field ``name``, a string of ``pattern``'s ``form``; 400 for anything
    else (another field too, a missing or malformed value)."""
    body = json_object(campaign_seats_api.current_request.raw_body)
    for extra in sorted(set(body) - {name}):
        raise InvalidRequest(extra, "is not a field of this request")
    value = body.get(name)
    if not (isinstance(value, str) and re.fullmatch(pattern, value)):
        raise InvalidRequest(name, f"is required: {form}")
    return value


@campaign_seats_api.route("/campaigns/{campaign_id}/seats", methods=["POST"])
def join_campaign(campaign_id):
    def join():
        campaign = _campaign(campaign_id)
        agent_id = _field("agent_id", ID_PATTERN, "an agent's id")
        return root().seats.join(campaign, agent_id, root().now())

    return json_answer(join, status=201)


@campaign_seats_api.route("/campaigns/{campaign_id}/seats", methods=["GET"])
def campaign_seats(campaign_id):
    def seats():
        campaign = _campaign(campaign_id)
        return {"campaign_id": campaign.campaign_id,
                "seats": root().seats.seats(campaign.campaign_id)}

    return json_answer(seats)


@campaign_seats_api.route("/agents/{agent_id}/seats", methods=["GET"])
def agent_seats(agent_id):
    """The agent's own seats on live agent campaigns (their desk's preview offers)."""
    return json_answer(lambda: {"agent_id": _agent_id(agent_id),
                                "seats": root().seats.agent_seats(_agent_id(agent_id))})


@campaign_seats_api.route(SEAT, methods=["GET"])
def campaign_seat(campaign_id, agent_id):
    return json_answer(lambda: root().seats.seat(_campaign(campaign_id).campaign_id,
                                                 _agent_id(agent_id)))


@campaign_seats_api.route(SEAT, methods=["DELETE"])
def leave_campaign(campaign_id, agent_id):
    return json_answer(lambda: root().seats.leave(_campaign(campaign_id).campaign_id,
                                                  _agent_id(agent_id), root().now()))


@campaign_seats_api.route(SEAT + "/accept", methods=["POST"])
def accept_offer(campaign_id, agent_id):
    def accept():
        campaign = _campaign(campaign_id)

        def dial(contact: CampaignContact, agent: str) -> str:
            # the runner's VoiceDialer, asked for only when a call is to be placed
            dialer = root().dialer
            return dialer.place(campaign, contact, agent_id=agent)

        return root().seats.accept(campaign, _agent_id(agent_id), dial, root().now())

    return json_answer(accept)


@campaign_seats_api.route(SEAT + "/skip", methods=["POST"])
def skip_offer(campaign_id, agent_id):
    return json_answer(lambda: root().seats.skip(_campaign(campaign_id).campaign_id,
                                                 _agent_id(agent_id), root().now()))


@campaign_seats_api.route(SEAT + "/disposition", methods=["POST"])
def post_disposition(campaign_id, agent_id):
    def disposition():
        campaign = _campaign(campaign_id)
        agent = _agent_id(agent_id)
        label = _field("disposition", DISPOSITION_PATTERN, DISPOSITION_FORM)
        return root().seats.disposition(campaign.campaign_id, agent, label, root().now())

    return json_answer(disposition)


# ---- Twilio: the agent's leg ------------------------------------------------------------------
@campaign_seats_api.route("/twilio" + SEAT + "/join", methods=["POST"], content_types=FORM)
def agent_leg_answered(campaign_id, agent_id):
    try:
        req = VoiceRequest.parse(campaign_seats_api.current_request.raw_body)
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        return xml(root().seats.joined(campaign_id, agent_id, req.call_sid, root().now()))
    except Exception:  # noqa: BLE001 - hang the leg up: its end removes the seat
        log.exception("campaign %s: agent %s join failed", campaign_id, agent_id)
        return xml(voice_twiml.hangup())


@campaign_seats_api.route("/twilio" + SEAT + "/seat-status", methods=["POST"],
                          content_types=FORM)
def agent_leg_status(campaign_id, agent_id):
    try:
        req = VoiceRequest.parse(campaign_seats_api.current_request.raw_body)
    except MalformedWebhook as exc:
        return malformed(exc)
    try:
        if req.params.get("CallStatus") in LEG_ENDED:
            root().seats.leg_ended(campaign_id, agent_id, req.call_sid, root().now())
    except Exception:  # noqa: BLE001 - Twilio retries a 503 (the status URL's overrides)
        log.exception("campaign %s: agent %s leg status not stored", campaign_id, agent_id)
        return unavailable("seat status")
    return xml(voice_twiml.empty())
