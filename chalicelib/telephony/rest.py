"""The Twilio REST client, created lazily: ``twilio.rest`` costs ~150 ms to import.

When ``TWILIO_API_BASE`` is set every request goes there instead of Twilio's hosts, with the same
paths and bodies, so the local carrier emulator (or any Twilio-compatible carrier) can stand in.
"""

from __future__ import annotations

import logging
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from chalicelib.settings import Settings, get_settings
from chalicelib.telephony.retries import retried
from chalicelib.telephony.webhook_request import whole_number

# The SDK logs request bodies (phone numbers, texts) at INFO; keep those out of our logs.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

REST_TIMEOUT_SECONDS = 5.0
# Twilio refuses to move a call that has ended: 21220 "Call is not in-progress. Cannot
# redirect." (or 20404 when it never existed / is no longer found).
CALL_GONE_CODES = frozenset({21220, 20404})


class CallGone(Exception):
    """Twilio says the call is over (or unknown): it cannot be redirected or bridged any more."""

    def __init__(self, call_sid: str):
        super().__init__(f"call {call_sid} is not in progress")
        self.call_sid = call_sid


def call_gone(exc: Exception) -> bool:
    """Is ``exc`` Twilio saying the call is no longer in progress?"""
    return getattr(exc, "code", None) in CALL_GONE_CODES

_client = None


def _redirecting_http_client(api_base: str | None):
    # twilio's REST client costs ~150 ms to import: only a container that calls Twilio pays it
    from twilio.http.http_client import TwilioHttpClient

    class RedirectingHttpClient(TwilioHttpClient):
        """Send each request to ``api_base``, keeping Twilio's path and query."""

        def request(self, method, url, *args, **kwargs):
            if api_base:
                base = urlsplit(api_base)
                parts = urlsplit(url)
                path = base.path.rstrip("/") + parts.path
                url = urlunsplit((base.scheme, base.netloc, path, parts.query, ""))
            return super().request(method, url, *args, **kwargs)

    return RedirectingHttpClient(timeout=REST_TIMEOUT_SECONDS)


def twilio_client(settings: Settings | None = None):
    """The process-wide REST client (one connection pool per Lambda container)."""
    global _client
    if _client is None:
        from twilio.rest import Client  # ~150 ms: see _redirecting_http_client

        settings = settings or get_settings()
        _client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=_redirecting_http_client(settings.twilio_api_base),
        )
    return _client


def reset_client() -> None:
    global _client
    _client = None


class Connector(Protocol):
    """How a live call is moved: to TwiML at ``url`` (connect an agent) or given inline.
    ``redirect``/``redirect_twiml`` raise ``telephony.rest.CallGone`` for a call that is over."""

    def redirect(self, call_sid: str, url: str) -> None: ...

    def redirect_twiml(self, call_sid: str, twiml: str) -> None: ...

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str,
                   machine_detection: str | None = None,
                   ring_seconds: int | None = None, amd_callback: str | None = None) -> str:
        """Place a call; its sid. ``ring_seconds``: Twilio's ``Timeout`` (default: the
        connector's own); ``amd_callback``: detect machines asynchronously (``AsyncAmd``): the
        call runs its TwiML at once and the verdict is posted there. Twilio's errors propagate
        (``code``: 20429, 21211...)."""
        ...

    def hangup(self, call_sid: str) -> None: ...

    def call_state(self, call_sid: str) -> tuple[str, int] | None:
        """Twilio's own ``(CallStatus, duration in s)`` of a call; None if it knows no such
        call (the Calls resource, for reconciliation)."""
        ...

    def add_participant(self, room: str, *, to: str, from_: str, muted: bool,
                        coach: str | None, status_callback: str,
                        ring_seconds: int) -> tuple[str, str]:
        """Call ``to`` into the conference named ``room`` (created if none runs); ``coach``: the
        CallSid this participant is heard by alone (coaching). Returns ``(participant CallSid,
        ConferenceSid)``. Twilio's errors propagate."""
        ...

    def update_participant(self, conference_sid: str, call_sid: str, *, muted: bool,
                           coach: str | None) -> None:
        """Change a participant's ``muted`` and coaching (``coach``: the CallSid it coaches,
        None: no coaching); ``CallGone`` when it is no longer in the conference."""
        ...


class TwilioConnector:
    """``Connector`` over Twilio's REST API (the Calls resource). ``ring_seconds``: how long an
    outbound leg rings before Twilio gives up (its ``Timeout``)."""

    def __init__(self, settings: Settings, ring_seconds: int):
        self.settings = settings
        self.ring_seconds = ring_seconds

    def redirect(self, call_sid: str, url: str) -> None:
        self._update(call_sid, url=url, method="POST")

    def redirect_twiml(self, call_sid: str, twiml: str) -> None:
        self._update(call_sid, twiml=twiml)

    def _update(self, call_sid: str, **changes) -> None:
        """Move a live call; ``CallGone`` when Twilio says it is over."""
        try:
            twilio_client(self.settings).calls(call_sid).update(**changes)
        except Exception as exc:
            if call_gone(exc):
                raise CallGone(call_sid) from None
            raise

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str,
                   machine_detection: str | None = None,
                   ring_seconds: int | None = None, amd_callback: str | None = None) -> str:
        options: dict = {"machine_detection": machine_detection} if machine_detection else {}
        if machine_detection and amd_callback:
            options.update(async_amd="true", async_amd_status_callback=retried(amd_callback),
                           async_amd_status_callback_method="POST")
        call = twilio_client(self.settings).calls.create(
            to=to, from_=from_, url=url, method="POST", status_callback=retried(status_callback),
            status_callback_method="POST", status_callback_event=["completed"],
            timeout=ring_seconds or self.ring_seconds, **options)
        return call.sid

    def hangup(self, call_sid: str) -> None:
        twilio_client(self.settings).calls(call_sid).update(status="completed")

    def add_participant(self, room: str, *, to: str, from_: str, muted: bool,
                        coach: str | None, status_callback: str,
                        ring_seconds: int) -> tuple[str, str]:
        coaching: dict = {"coaching": True, "call_sid_to_coach": coach} if coach else {}
        participant = twilio_client(self.settings).conferences(room).participants.create(
            from_=from_, to=to, muted=muted, early_media=True, beep="false",
            start_conference_on_enter=True, end_conference_on_exit=False,
            timeout=ring_seconds, status_callback=retried(status_callback),
            status_callback_method="POST", status_callback_event=["completed"],
            label="supervisor", **coaching)
        return participant.call_sid, participant.conference_sid

    def update_participant(self, conference_sid: str, call_sid: str, *, muted: bool,
                           coach: str | None) -> None:
        coaching: dict = {"coaching": True, "call_sid_to_coach": coach} if coach \
            else {"coaching": False}
        try:
            twilio_client(self.settings).conferences(conference_sid).participants(
                call_sid).update(muted=muted, **coaching)
        except Exception as exc:
            if call_gone(exc):
                raise CallGone(call_sid) from None
            raise

    def call_state(self, call_sid: str) -> tuple[str, int] | None:
        try:
            call = twilio_client(self.settings).calls(call_sid).fetch()
        except Exception as exc:
            if call_gone(exc):
                return None
            raise
        return call.status, whole_number(str(call.duration or "0"), 0)
