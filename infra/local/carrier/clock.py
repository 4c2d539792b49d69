"""Virtual time: calls last minutes on paper and milliseconds on the laptop.

The emulator never sleeps for a prompt or a hold loop; each call owns a clock that verbs advance
by what they would take on a real line, and CallDuration / QueueTime / Timestamp come from it.
"""

from __future__ import annotations

import re
import time
from email.utils import formatdate

SECONDS_PER_WORD = 0.4
SECONDS_PER_CJK = 0.25
DIGIT_SECONDS = 0.5  # a keypress, or a 'w' (half-second wait) in <Play digits>

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def speech_seconds(text: str) -> float:
    """How long a TTS engine takes to say ``text`` (CJK characters are counted one by one)."""
    cjk = len(_CJK.findall(text))
    words = len(_CJK.sub(" ", text).split())
    return words * SECONDS_PER_WORD + cjk * SECONDS_PER_CJK


class VirtualClock:
    """Seconds since the call started, anchored to the wall clock only for timestamps."""

    def __init__(self, epoch: float | None = None) -> None:
        self.epoch = time.time() if epoch is None else epoch
        self.now = 0.0

    def advance(self, seconds: float) -> float:
        self.now += max(0.0, float(seconds))
        return self.now

    def timestamp(self) -> str:
        """RFC 2822, as in Twilio's ``Timestamp`` parameter and its JSON resources."""
        return rfc2822(self.epoch + self.now)

    def elapsed(self, since: float) -> int:
        return int(round(self.now - since))


def rfc2822(epoch: float | None = None) -> str:
    return formatdate(time.time() if epoch is None else epoch, usegmt=False).replace(
        "-0000", "+0000")
