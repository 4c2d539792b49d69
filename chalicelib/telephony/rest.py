"""The Twilio REST client, created lazily: ``twilio.rest`` costs ~150 ms to import.

When ``TWILIO_API_BASE`` is set every request goes there instead of Twilio's hosts, with the same
paths and bodies, so the local carrier emulator (or any Twilio-compatible carrier) can stand in.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from chalicelib.settings import Settings, get_settings

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
        from twilio.rest import Client

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
