"""Logging helpers: phone numbers never reach the logs in full."""

from __future__ import annotations

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
