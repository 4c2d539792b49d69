"""When a callback may happen: the customer's preferred time against the queue's hours
(``hours.schedule``).

Pure: plain values and a ``now`` in, datetimes (UTC) or a refusal out. ``hours`` is a queue's
``{timezone, weekly, holidays}``; an empty dict means the queue is always open.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.hours.schedule import open_at, zone_of

# A preferred time this close to now (or a little in the past: clocks differ) means "now".
ASAP_SLACK = timedelta(minutes=5)


class SlotRefused(ValueError):
    """The preferred time cannot be used; ``code`` is ``malformed``, ``past``, ``too_far`` or
    ``closed``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_preferred(value: str | None, hours: dict) -> datetime | None:
    """``asap`` (or nothing) → None; an ISO 8601 time → that instant in UTC. A time without an
    offset is read in the queue's time zone (the customer picked it from the queue's hours)."""
    text = (value or "").strip()
    if not text or text.lower() in ("asap", "now"):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise SlotRefused("malformed", "Give a time like 2026-11-24T10:30 or 'asap'.") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone_of(hours))
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved across midnight: no time we could call at
        raise SlotRefused("malformed", "Give a time like 2026-11-24T10:30 or 'asap'.") from None


def check_preferred(preferred: datetime | None, hours: dict, now: datetime,
                    max_days_ahead: int) -> datetime | None:
    """The preferred time if it can be honoured, None for "as soon as possible", or
    ``SlotRefused``: in the past, more than ``max_days_ahead`` away, or outside the hours."""
    if preferred is None or preferred <= now + ASAP_SLACK:
        if preferred is not None and preferred < now - ASAP_SLACK:
            raise SlotRefused("past", "That time has already passed.")
        return None
    if preferred > now + timedelta(days=max_days_ahead):
        raise SlotRefused("too_far", f"Pick a time within the next {max_days_ahead} days.")
    if not open_at(hours, preferred):
        raise SlotRefused("closed", "We are closed at that time; pick a time within our "
                                    "opening hours.")
    return preferred
