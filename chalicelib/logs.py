"""Logging helpers: phone numbers never reach the logs in full."""

from __future__ import annotations

import hashlib
import re

_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")


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
