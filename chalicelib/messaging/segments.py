"""How many SMS segments a text takes, and in which encoding (what a carrier bills).

A text that fits the GSM 03.38 alphabet goes as GSM-7: 160 characters in one segment, 153 per
segment once split (the 7 others hold the concatenation header); characters of the extension
table (``{ } [ ] ~ \\ | ^ €``) take two. Anything else (Chinese, most emoji) forces UCS-2 for the
whole text: 70 characters in one segment, 67 per segment once split, counted in UTF-16 code
units (an emoji outside the basic plane takes two). Source: 3GPP TS 23.038 and 23.040; Twilio's
"What the heck is a segment?" support article gives the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7 = "gsm-7"
UCS2 = "ucs-2"

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = frozenset("\f^{}\\[~]|€")
_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True)
class SegmentCount:
    """``encoding``: ``gsm-7`` or ``ucs-2``; ``units``: septets (GSM-7) or UTF-16 code units
    (UCS-2); ``segments``: how many messages the carrier sends (0 for an empty text)."""

    encoding: str
    units: int
    segments: int


def count_segments(text: str) -> SegmentCount:
    """The encoding, length in units and segment count of ``text``."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        encoding = GSM7
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
    else:
        encoding = UCS2
        units = len(text.encode("utf-16-le")) // 2
    single, multi = _LIMITS[encoding]
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = -(-units // multi)
    return SegmentCount(encoding, units, segments)
