"""The wire format of Twilio's webhooks: signatures, headers, SIDs and the default HTTP transport.

Everything here mirrors what Twilio puts on the wire, so an app that validates real webhooks
validates ours unchanged (same ``X-Twilio-Signature``, same form encoding, same retry token).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
USER_AGENT = "TwilioProxy/1.1"
FORM = "application/x-www-form-urlencoded"
CONNECT_TIMEOUT = 5.0  # Twilio's budget: 5 s to connect...
READ_TIMEOUT = 15.0  # ...and 15 s for the response.

# transport(url, params, headers) -> (status_code, body_text, content_type).
# ``params`` is a dict for a POST (possibly empty) and None for a GET (the URL holds the query).
Transport = Callable[[str, "Mapping[str, str] | None", Mapping[str, str]], tuple[int, str, str]]

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def sign(auth_token: str, url: str, params: Mapping[str, str] | None) -> str:
    """``X-Twilio-Signature`` for a request: Twilio's own algorithm, via the SDK that checks it."""
    return RequestValidator(auth_token).compute_signature(url, dict(params or {}))


def new_idempotency_token() -> str:
    """A fresh ``I-Twilio-Idempotency-Token``; a retry reuses the token of its first attempt."""
    return str(uuid.uuid4())


def webhook_headers(auth_token: str, url: str, params: Mapping[str, str] | None,
                    token: str) -> dict[str, str]:
    """The headers Twilio sends with every webhook (a GET carries no Content-Type)."""
    headers = {
        "X-Twilio-Signature": sign(auth_token, url, params),
        "I-Twilio-Idempotency-Token": token,
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Cache-Control": "max-age=259200",
        "X-Home-Region": "us1",
    }
    if params is not None:
        headers["Content-Type"] = FORM
    return headers


def with_query(url: str, params: Mapping[str, str]) -> str:
    """The URL Twilio requests for a GET webhook: parameters appended to the query string."""
    parts = urlsplit(url)
    extra = urlencode(list(params.items()))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def strip_fragment(url: str) -> str:
    """Twilio reads connection overrides from the fragment and never sends it."""
    return url.split("#", 1)[0]


def make_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two-letter prefix and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def queue_sid(name: str) -> str:
    """Queues are created on demand by name; derive the SID (``QU`` + md5 of the name) so tests
    and humans can compute it and it is stable across runs."""
    return "QU" + hashlib.md5(name.encode()).hexdigest()


def mask(number: str | None) -> str:
    """Phone numbers in log lines show their last four digits only."""
    if not number:
        return "-"
    if number.startswith("client:") or number.startswith("sip:"):
        return number.split(":", 1)[0] + ":***"
    return "***" + number[-4:]


_NUMBER_IN_TEXT = re.compile(r"(?:\+|%2B|(?<![\w+%-]))\d{10,15}(?![\w])|(?:\+|%2B)\d{7,9}(?!\w)")


def mask_text(text: str) -> str:
    """Mask anything that looks like a phone number inside a log line (URLs, query strings)."""
    return _NUMBER_IN_TEXT.sub(lambda m: mask(m.group(0)), text)


def valid_number(number: str | None) -> bool:
    """E.164, or a Client/SIP address; checked with phonenumbers when it is installed."""
    if not number:
        return False
    if number.startswith(("client:", "sip:")):
        return len(number) > len("sip:")
    if not E164.match(number):
        return False
    try:
        import phonenumbers
    except ImportError:
        return True
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return False


def country_of(number: str | None) -> str:
    """ISO country of a number for the ``FromCountry``/``ToCountry`` hints ('' when unknown)."""
    if not number or not number.startswith("+"):
        return ""
    try:
        import phonenumbers
    except ImportError:
        return ""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""


def requests_transport(url: str, params: Mapping[str, str] | None,
                       headers: Mapping[str, str]) -> tuple[int, str, str]:
    """Deliver one webhook over HTTP with Twilio's time budget; errors propagate (the caller
    retries). Redirects are not followed, as Twilio does not follow them for POSTs."""
    import requests

    timeout = (CONNECT_TIMEOUT, READ_TIMEOUT)
    if params is None:
        response = requests.get(url, headers=dict(headers), timeout=timeout,
                                allow_redirects=False)
    else:
        body = urlencode(list(params.items()))
        response = requests.post(url, data=body.encode(), headers=dict(headers),
                                 timeout=timeout, allow_redirects=False)
    content_type = response.headers.get("Content-Type", "")
    if "charset" not in content_type.lower():
        # Like Twilio, read TwiML as the UTF-8 its XML declaration names, not HTTP's Latin-1
        # default for text/* without a charset.
        return response.status_code, response.content.decode("utf-8", "replace"), content_type
    return response.status_code, response.text, content_type
