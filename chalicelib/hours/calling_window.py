"""When we may call (or text) a customer: their local calling window and the queue's hours.

Two rules must both allow a contact:

* **quiet hours**: only 08:00–21:00 in the *customer's* local time. The zone comes from the number
  (``phonenumbers``). A number may map to several zones (a Newfoundland area code covers two, an
  Australian mobile eight): then the window must hold in every one of them, because we cannot
  tell which the customer is in. A number with no zone, or whose zones are so far apart that they
  never share a window (a North American toll-free number lists every zone from Guam to Hawaii),
  falls back to the zone the caller passes in (the hotline's or the queue's);
* **queue hours**: the queue's ``{timezone, weekly, holidays}`` (``QueueConfig.hours``; empty means
  always open), read exactly as a flow's *hours* node reads them (``hours.schedule``).

``may_call_at`` checks one instant. ``next_contact_time`` intersects the rules leapfrog style:
each says "earliest open at or after t" (``WeeklySchedule.next_opening``), t becomes the latest
of those, until all agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.hours.schedule import (
    HORIZON_DAYS,
    WeeklySchedule,
    require_aware,
    schedule_of,
    weekly_schedule,
)

CONTACT_WINDOW = "08:00-21:00"  # customer's local time, every day
CONTACT_WEEK = {"mon-sun": [CONTACT_WINDOW]}
_WINDOW_MINUTES = 13 * 60  # 08:00 to 21:00: zones further apart never share a window


def customer_time_zones(number: str, fallback_tz: str = "UTC") -> tuple[str, ...]:
    """The IANA zones the customer may be in, from their number (E.164); ``(fallback_tz,)`` when
    the number says nothing usable (unknown, invalid, anonymous, ``client:...``,
    non-geographic)."""
    return _zones_of_number(number or "") or (fallback_tz,)


@lru_cache(maxsize=1024)
def calling_window(zone: str) -> WeeklySchedule:
    """The customer's calling window (``CONTACT_WINDOW`` every day) in ``zone``."""
    return weekly_schedule(zone, CONTACT_WEEK)


def may_call_at(number: str, at: datetime, queue_hours: Mapping | None,
                fallback_tz: str = "UTC") -> bool:
    """Whether we may call (or text) ``number`` at ``at`` (aware): inside the calling window in
    every zone the customer may be in, and inside the queue's hours (``None`` or ``{}``: always
    open). ValueError for a naive ``at``."""
    require_aware(at)
    if not all(calling_window(zone).is_open(at)
               for zone in customer_time_zones(number, fallback_tz)):
        return False
    queue = schedule_of(queue_hours)
    return queue is None or queue.is_open(at)


def next_contact_time(
    number: str,
    after: datetime,
    queue_hours: Mapping | None,
    fallback_tz: str = "UTC",
    horizon_days: int = HORIZON_DAYS,
) -> datetime | None:
    """The earliest instant at or after ``after`` when ``may_call_at`` holds, or None if there is
    none within ``horizon_days`` (a queue that never opens, a run of holidays)."""
    require_aware(after)
    schedules = [calling_window(zone) for zone in customer_time_zones(number, fallback_tz)]
    queue = schedule_of(queue_hours)
    if queue is not None:
        schedules.append(queue)
    limit = after + timedelta(days=horizon_days)
    # Leapfrog: ask each rule in turn for its earliest opening at or after t; a rule that moves t
    # is open there, so the search ends once every rule in a row has agreed with t.
    t, agreed, index = after, 0, 0
    while agreed < len(schedules):
        opens = schedules[index].next_opening(t, limit)
        if opens is None:
            return None
        agreed = agreed + 1 if opens == t else 1
        t = opens
        index = (index + 1) % len(schedules)
    return t


@lru_cache(maxsize=65536)
def _zones_of_number(number: str) -> tuple[str, ...]:
    # phonenumbers costs ~20 ms to import: only a number's first zone look-up pays it
    import phonenumbers
    from phonenumbers import timezone as number_zones

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = []
    for name in number_zones.time_zones_for_number(parsed):
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue  # "Etc/Unknown" and anything this system's tzdata lacks
        zones.append(name)
    if len(zones) > 1 and _spread_minutes(zones) >= _WINDOW_MINUTES:
        return ()  # no instant is 08:00-21:00 everywhere: as good as unknown
    return tuple(sorted(zones))


def _spread_minutes(zones: list[str]) -> float:
    """How far apart the zones' clocks are, at worst, in winter or in summer."""
    worst = 0.0
    for probe in (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC)):
        offsets = [_offset_minutes(probe, z) for z in zones]
        worst = max(worst, max(offsets) - min(offsets))
    return worst


def _offset_minutes(at: datetime, zone: str) -> float:
    offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None  # an aware time in a ZoneInfo always has one
    return offset.total_seconds() / 60
