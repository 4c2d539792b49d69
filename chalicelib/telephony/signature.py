"""Twilio request signatures: the only proof that a webhook really came from Twilio.

Twilio signs the exact URL it called plus the POST parameters. Behind API Gateway the Lambda sees
neither the public host nor the TLS scheme, and the stage prefix comes and goes, so the URL is
rebuilt from ``PUBLIC_BASE_URL`` and the route's own path (template filled with path parameters),
never from request headers that a client controls.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from twilio.request_validator import RequestValidator


class MalformedWebhook(ValueError):
    """The body is not a form Twilio could have sent."""


def parse_form(raw_body: bytes | str | None) -> dict[str, str]:
    """Parse a form body keeping blank fields: Twilio signs ``Digits=`` too."""
    if not raw_body:
        return {}
    try:
        text = raw_body.decode("utf-8") if isinstance(raw_body, bytes) else raw_body
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedWebhook(f"body is not a valid form: {exc}") from exc
    return dict(pairs)


def app_path(route_template: str, uri_params: dict | None) -> str:
    """The path relative to the app, without a stage prefix: ``/twilio/voice/step/3/menu``."""
    path = route_template
    for name, value in (uri_params or {}).items():
        path = path.replace("{" + name + "}", value)
    return path


def public_url(base_url: str, path: str, query: dict | None = None) -> str:
    url = base_url.rstrip("/") + path
    if query:
        url += "?" + urlencode(query, doseq=True)
    return url


def is_valid(auth_token: str, url: str, params: dict[str, str], signature: str | None) -> bool:
    if not signature:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)
