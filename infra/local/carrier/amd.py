"""Answering machine detection (AMD) on the emulated carrier: the verdict Twilio would report and
how long detection took, from what really answered according to the callee's answer script.

Twilio's ``AnsweredBy`` values: ``human``, ``machine_start`` (``MachineDetection=Enable``),
``machine_end_beep`` / ``machine_end_silence`` / ``machine_end_other`` (``DetectMessageEnd``, which
waits for the greeting to end so a message can be left), ``fax`` and ``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Virtual seconds per verdict. A person's "Hello?" plus ~1.2 s of silence; a machine's greeting
# crosses the 2.4 s speech threshold; DetectMessageEnd also waits out the greeting and the beep.
SECONDS = {"human": 3.0, "machine_start": 3.0, "machine_end_beep": 12.0,
           "machine_end_other": 6.0, "fax": 2.0}
DEFAULT_TIMEOUT = 30.0  # MachineDetectionTimeout, seconds (Twilio: 3-59, default 30)


@dataclass(frozen=True)
class Verdict:
    answered_by: str
    seconds: float  # virtual seconds from answer to verdict
    false_positive: bool = False  # a person reported as a machine

    @property
    def millis(self) -> str:
        """``MachineDetectionDuration``: milliseconds, as Twilio sends it."""
        return str(int(round(self.seconds * 1000)))


def detect(callee: str, mode: str, timeout: float = DEFAULT_TIMEOUT,
           false_positive: bool = False) -> Verdict:
    """The verdict for ``callee`` (``human`` | ``machine`` | ``fax`` | ``unknown``) under
    ``mode`` (``Enable`` | ``DetectMessageEnd``) within ``timeout`` seconds.

    ``false_positive`` takes a person for a machine: ``machine_start`` with Enable; with
    DetectMessageEnd (which never says machine_start) ``machine_end_other``, the verdict when
    a "greeting" ends without a beep. A verdict that would take longer than the timeout is
    ``unknown`` at the timeout."""
    ends = mode.strip().lower() == "detectmessageend"
    if callee == "machine":
        answered = "machine_end_beep" if ends else "machine_start"
    elif callee in ("fax", "unknown"):
        answered = callee
    elif false_positive:
        answered = "machine_end_other" if ends else "machine_start"
    else:
        answered = "human"
    seconds = SECONDS.get(answered, timeout)
    if answered == "unknown" or seconds > timeout:
        return Verdict("unknown", timeout, false_positive)
    return Verdict(answered, seconds, false_positive)
