"""Access tokens for the browser softphone: a JWT the Twilio Voice JavaScript SDK registers
with, so calls to ``<Client>identity</Client>`` ring in the agent's browser.

Signed (HS256) with an API key's secret, never the auth token (Twilio's access-token docs: an
API key SID as the issuer, the account SID as the subject). The grant lets the identity
receive calls and, when a TwiML app is named, place calls through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

MAX_TTL_SECONDS = 24 * 3600  # Twilio refuses an access token valid longer than a day


@dataclass(frozen=True)
class SigningKey:
    """The account and API key a token is signed with (``SK...`` and its secret)."""

    account_sid: str
    key_sid: str
    key_secret: str


def voice_token(key: SigningKey, identity: str, now: datetime, ttl_seconds: int = 3600,
                twiml_app_sid: str | None = None) -> tuple[str, datetime]:
    """``(token, expires_at)`` for ``identity`` (a client identity: letters, digits, ``_``,
    ``-``, ``.``), valid ``ttl_seconds`` (1..``MAX_TTL_SECONDS``, else ValueError) from
    ``now``."""
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be 1 to {MAX_TTL_SECONDS}")
    issued = int(now.timestamp())
    # ``nbf`` and ``exp`` from the app's clock (the library's default is the wall clock)
    token = AccessToken(key.account_sid, key.key_sid, key.key_secret, identity=identity,
                        nbf=issued, valid_until=issued + ttl_seconds)
    token.add_grant(VoiceGrant(incoming_allow=True, outgoing_application_sid=twiml_app_sid))
    return token.to_jwt(), datetime.fromtimestamp(issued, now.tzinfo) + timedelta(
        seconds=ttl_seconds)
