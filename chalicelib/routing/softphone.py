"""The agent's browser softphone: its access token (``telephony.access_tokens``).

``voice_token(agent_id, settings, now)`` answers ``POST /agents/{id}/voice-token``: the
Twilio Voice JavaScript SDK registers the agent's ``client`` identity with it, so calls routed
to ``<Client>identity</Client>`` ring in the browser. On a laptop the carrier emulator stands in
for Twilio (``TWILIO_API_BASE``); the answer then says so (``edge``), and the desk's softphone
(``console/page/softphone.js``) talks to the emulator instead of loading a Twilio device.
"""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlsplit

from chalicelib.api_errors import Conflict, NotFound
from chalicelib.settings import ConfigError, Settings
from chalicelib.store import routing as store

log = logging.getLogger(__name__)
VOICE_TOKEN_SECONDS = 3600  # the desk asks again before it runs out
TWILIO_DOMAIN = "twilio.com"


def carrier_edge(api_base: str | None) -> dict:
    """Where the browser's softphone registers: ``{"edge": "twilio"}`` when the stage talks to
    Twilio (no ``TWILIO_API_BASE``, or one on ``twilio.com``), else ``{"edge": "emulator",
    "emulator_url": <the base, no trailing slash>}`` (the local carrier emulator, which plays
    the Voice SDK's part at ``/_emulator/clients/{identity}``)."""
    host = urlsplit(api_base or "").hostname or ""
    if not api_base or not host or host == TWILIO_DOMAIN or host.endswith("." + TWILIO_DOMAIN):
        return {"edge": "twilio"}
    return {"edge": "emulator", "emulator_url": api_base.rstrip("/")}


def voice_token(agent_id: str, settings: Settings, now: datetime) -> dict:
    """An access token for the agent's browser softphone (``telephony.access_tokens``):
    ``{"agent_id", "identity", "token", "expires_at", "ttl_seconds", "outgoing", "edge",
    "emulator_url"?}`` (``carrier_edge``).
    ``Conflict`` when the agent's endpoint is not a ``client`` (a phone rings by itself) or
    the stage has no API key to sign with (``TWILIO_API_KEY_SID``/``_SECRET``)."""
    agent = store.get_agent(agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    if agent.endpoint.kind != "client":
        raise Conflict(f"agent {agent_id} takes calls on a {agent.endpoint.kind}, not a "
                       "softphone: set the endpoint to {\"kind\": \"client\"} first")
    # here, not at the top: PyJWT loads cryptography, which no webhook's cold start needs
    from chalicelib.telephony import access_tokens

    try:
        key = access_tokens.SigningKey(settings.twilio_account_sid, settings.twilio_api_key_sid,
                                       settings.twilio_api_key_secret)
    except ConfigError as exc:  # a stage set up before softphones: say what is missing
        raise Conflict(f"softphones are not set up on this stage: {exc}") from None
    token, expires = access_tokens.voice_token(key, agent.endpoint.address, now,
                                               VOICE_TOKEN_SECONDS, settings.twiml_app_sid)
    log.info("voice token for agent %s until %s", agent_id, expires.isoformat())
    return {"agent_id": agent_id, "identity": agent.endpoint.address, "token": token,
            "expires_at": expires.isoformat(), "ttl_seconds": VOICE_TOKEN_SECONDS,
            "outgoing": settings.twiml_app_sid is not None,
            **carrier_edge(settings.twilio_api_base)}
