"""Logging helpers: phone numbers never reach the logs in full.

``mask_number``/``mask_text``/``ref`` are for the code that writes a log line; ``scrub`` and
``scrub_value`` are the safety net that ``chalicelib.observability`` runs over every record
(message, arguments, extra fields, tracebacks), so a number passed as a plain argument is masked
all the same.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")
# In whole log records: a number stands alone (not inside a SID, a hash or a word), may be
# URL-encoded (%2B) and needs 7 digits; ISO dates and decimals are left as they are.
_LOGGED_NUMBER = re.compile(r"(?<![\w#])(?:%2[Bb]|\+)?\d[\d\s().-]{5,}\d(?!\w)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?!\d)")
_DECIMAL = re.compile(r"\d+\.\d+")
_CALLBACK_ID = re.compile(r"(?<![\w-])cb_[A-Za-z0-9_-]{7,61}")  # callbacks.model.new_callback_id
_MIN_DIGITS = 7


def mask_number(number: str | None) -> str:
    """``+14155550111`` → ``+1•••••••0111``: enough to correlate, not enough to dial."""
    if not number:
        return "-"
    digits = re.sub(r"\D", "", number)
    if len(digits) <= 4:
        return "•" * len(digits)
    prefix = "+" + digits[0] if number.startswith("+") else ""
    hidden = len(digits) - 4 - (1 if prefix else 0)
    return f"{prefix}{'•' * hidden}{digits[-4:]}"


def mask_text(text: str) -> str:
    """Mask anything in free text that looks like a phone number."""
    return _NUMBER.sub(lambda m: mask_number(m.group(0)), text)


def ref(value: str | None) -> str:
    """A short, stable stand-in for a bearer id or a key that may hold a number (a callback id
    is the only key to a request's status page; an SMS idempotency key may name the customer):
    ``cb_…#1f3a9c02``. The same value always gives the same reference, so log lines still
    correlate, but the value cannot be read back."""
    if not value:
        return "-"
    prefix = value[:3] if value.startswith("cb_") else value.split(":", 1)[0][:24] + ":"
    return f"{prefix}…#{hashlib.sha256(value.encode()).hexdigest()[:8]}"


def scrub(text: str) -> str:
    """Whatever ends up in a log record: phone numbers masked, callback ids as ``ref``.
    Idempotent (masked numbers and references pass through unchanged), so records may be
    scrubbed twice."""
    return _LOGGED_NUMBER.sub(_mask_logged, _CALLBACK_ID.sub(lambda m: ref(m.group(0)), text))


def scrub_value(value: Any) -> Any:
    """``scrub`` through strings, dicts, lists and tuples (a log record's extra fields); any
    other object but a number becomes its scrubbed text, as it would be written anyway."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(item) for item in value)
    if value is None or isinstance(value, int | float):
        return value
    return scrub(str(value))


def _mask_logged(match: re.Match) -> str:
    text = match.group(0)
    date = _DATE.match(text)
    if date:  # 2025-03-01 (and whatever follows it, scrubbed on its own)
        return date.group(0) + scrub(text[date.end():])
    if _DECIMAL.fullmatch(text) or sum(c.isdigit() for c in text) < _MIN_DIGITS:
        return text
    if text[:3].upper() == "%2B":
        return "%2B" + mask_number("+" + text[3:])[1:]
    return mask_number(text)
