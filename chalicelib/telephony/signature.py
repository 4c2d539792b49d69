"""Twilio request signatures: the only proof that a webhook really came from Twilio.

Twilio signs the exact URL it called plus the POST parameters. Behind API Gateway the Lambda sees
neither the public host nor the TLS scheme, and the stage prefix comes and goes, so the URL is
rebuilt from ``PUBLIC_BASE_URL`` and the route's own path (template filled with path parameters),
never from request headers that a client controls.
"""

from __future__ import annotations

from urllib.parse import quote, quote_plus, urlencode

from twilio.request_validator import RequestValidator


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


def signed_urls(base_url: str, path: str, raw_query: str | None,
                query: dict[str, list[str]] | None) -> list[str]:
    """The URLs Twilio may have signed for this request, most likely first.

    Twilio signs the URL exactly as it requested it, query string byte for byte. Where the
    gateway hands us the raw query string (``rawQueryString``) that is the one URL. API
    Gateway's REST events carry only the decoded parameters (every value of a repeated key, in
    order), so the query is rebuilt in both encodings a URL can use for a space (``+`` and
    ``%20``); the HMAC still needs the auth token, so trying both admits nothing unsigned.
    """
    url = base_url.rstrip("/") + path
    if raw_query is not None:
        return [f"{url}?{raw_query}" if raw_query else url]
    if not query:
        return [url]
    pairs = [(name, value) for name, values in query.items() for value in values]
    return list(dict.fromkeys(
        f"{url}?{urlencode(pairs, quote_via=quote_via)}" for quote_via in (quote_plus, quote)))


def is_valid(auth_token: str, url: str, params: dict[str, str], signature: str | None) -> bool:
    """``params`` may be a ``webhook_request.FormParams``: every value of a repeated key is
    checked."""
    if not signature:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)
