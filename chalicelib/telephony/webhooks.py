"""Everything under ``/twilio/`` passes here first: only requests Twilio signed for our account
get through.

A missing or wrong signature gets 403 before any handler runs, so it can change nothing. The
check is on in every stage unless ``TWILIO_VALIDATE_SIGNATURES=false``, which prod refuses (see
``chalicelib.settings``). A webhook that names another Twilio account (``AccountSid``; every
webhook Twilio sends carries it) is refused with 403 too: a number moved to another account, or
a request replayed from one, must not act on this one's calls.
"""

from __future__ import annotations

import json
import logging

from chalice import Response

from chalicelib.settings import get_settings
from chalicelib.telephony.signature import app_path, is_valid, signed_urls
from chalicelib.telephony.webhook_request import MalformedWebhook, parse_form

log = logging.getLogger(__name__)

TWILIO_PREFIX = "/twilio/"
FORM = ["application/x-www-form-urlencoded"]


def error(status: int, message: str) -> Response:
    return Response(
        body=json.dumps({"error": message}),
        status_code=status,
        headers={"Content-Type": "application/json"},
    )


def malformed(exc: MalformedWebhook) -> Response:
    """400 for a webhook that is not what Twilio sends (``webhook_request``): every route
    refuses one this way, and nothing it carries is acted on."""
    return error(400, str(exc))


def unavailable(what: str, why: str = "storage unavailable") -> Response:
    """503 for a status-type webhook we could not store (``why``: storage failed, or what it
    updates is not recorded yet): Twilio retries it (the connection overrides on the URLs we
    hand out, ``telephony.retries``); nothing it carries is lost."""
    log.warning("%s not stored (%s); asking Twilio to retry", what, why)
    return Response(
        body=json.dumps({"error": "temporarily unavailable; retry"}),
        status_code=503,
        headers={"Content-Type": "application/json", "Retry-After": "1"},
    )


def xml(body: str) -> Response:
    return Response(
        body=body, status_code=200, headers={"Content-Type": "text/xml; charset=utf-8"}
    )


def twilio_signature_guard(event, get_response):
    """Chalice HTTP middleware: validate Twilio's signature on every ``/twilio/*`` request."""
    if not event.path.startswith(TWILIO_PREFIX):
        return get_response(event)
    try:
        params = parse_form(event.raw_body)
    except MalformedWebhook as exc:
        return malformed(exc)
    settings = get_settings()
    if settings.validate_signatures:
        original = event.to_original_event()
        query = original.get("multiValueQueryStringParameters") or None
        urls = signed_urls(settings.public_base_url, app_path(event.path, event.uri_params),
                           original.get("rawQueryString"), query)
        signature = event.headers.get("x-twilio-signature")
        if not any(is_valid(settings.twilio_auth_token, url, params, signature) for url in urls):
            log.warning("rejected %s: %s Twilio signature", event.path,
                        "wrong" if signature else "missing")
            return error(403, "invalid Twilio signature")
    if params.get("AccountSid") != settings.twilio_account_sid:
        log.warning("rejected %s: a webhook for %s Twilio account", event.path,
                    "another" if params.get("AccountSid") else "no")
        return error(403, "webhook for another Twilio account")
    return get_response(event)
