"""When we may call or text a customer, and how long to wait before trying again.

Two rules must both allow a contact:

* **quiet hours**: only 08:00–21:00 in the *customer's* local time. The zone comes from the number
  (``phonenumbers``). A number may map to several zones (a Newfoundland area code covers two, an
  Australian mobile eight): then the window must hold in every one of them, because we cannot
  tell which the customer is in. A number with no zone, or whose zones are so far apart that they
  never share a window (a North American toll-free number lists every zone from Guam to Hawaii),
  falls back to the zone the caller passes in (the hotline's or the queue's);
* **queue hours**: the queue's ``{timezone, weekly, holidays}`` (``QueueConfig.hours``; empty means
  always open), read exactly as a flow's *hours* node reads them (``ivr.model.is_open``).

``may_call_at`` checks one instant with ``is_open`` itself. ``next_contact_time`` is what the
dispatcher asks for thousands of requests per tick, so it does not step through minutes. Each rule
is a weekly schedule in one zone, and a schedule can only *turn* open at a few instants: a span's
start on some local date (read both ways when the wall time is ambiguous at a DST change) or the
DST change itself (a wall clock jumping into a span). ``_Schedule.next_open`` jumps from one such
instant to the next; the rules are then intersected leapfrog style: each says "earliest open at or
after t", t becomes the latest of those, until all agree. Day candidates and DST changes are cached
per zone and date, so a search costs a few ``astimezone`` calls.

Pure: no AWS, no clock of its own; every instant is an aware datetime passed in.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.ivr.model import is_open, opening_minutes

CONTACT_WINDOW = "08:00-21:00"  # customer's local time, every day
CONTACT_WEEK = {"mon-sun": [CONTACT_WINDOW]}
_WINDOW_MINUTES = 13 * 60  # 08:00 to 21:00: zones further apart never share a window


# ---- the customer's zones --------------------------------------------------------------------


def customer_time_zones(number: str, fallback_tz: str = "UTC") -> tuple[str, ...]:
    """The IANA zones the customer may be in, from their number; ``(fallback_tz,)`` when the
    number says nothing usable (unknown, invalid, anonymous, ``client:...``, non-geographic)."""
    return _zones_of_number(number or "") or (fallback_tz,)


@lru_cache(maxsize=65536)
def _zones_of_number(number: str) -> tuple[str, ...]:
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
        offsets = [probe.astimezone(ZoneInfo(z)).utcoffset().total_seconds() / 60 for z in zones]
        worst = max(worst, max(offsets) - min(offsets))
    return worst


# ---- the two rules at one instant ------------------------------------------------------------


def may_call_at(
    number: str, at: datetime, queue_hours: dict | None, fallback_tz: str = "UTC"
) -> bool:
    """Whether we may call (or text) ``number`` at ``at``: inside 08:00–21:00 in every zone the
    customer may be in, and inside the queue's hours (``None`` or ``{}``: always open)."""
    _require_aware(at)
    if not all(is_open(zone, CONTACT_WEEK, (), at)
               for zone in customer_time_zones(number, fallback_tz)):
        return False
    if not queue_hours:
        return True
    return is_open(queue_hours["timezone"], queue_hours["weekly"],
                   queue_hours.get("holidays") or (), at)


def next_contact_time(
    number: str,
    after: datetime,
    queue_hours: dict | None,
    fallback_tz: str = "UTC",
    horizon_days: int = 14,
) -> datetime | None:
    """The earliest instant at or after ``after`` when ``may_call_at`` holds, or None if there is
    none within ``horizon_days`` (a queue that never opens, a run of holidays)."""
    _require_aware(after)
    schedules = [_contact_schedule(zone) for zone in customer_time_zones(number, fallback_tz)]
    if queue_hours:
        schedules.append(_queue_rule(queue_hours))
    limit = after + timedelta(days=horizon_days)
    # Leapfrog: ask each rule in turn for its earliest opening at or after t; a rule that moves t
    # is open there, so the search ends once every rule in a row has agreed with t.
    t, agreed, index = after, 0, 0
    while agreed < len(schedules):
        opens = schedules[index].next_open(t, limit)
        if opens is None:
            return None
        agreed = agreed + 1 if opens == t else 1
        t = opens
        index = (index + 1) % len(schedules)
    return t


def next_queue_opening(
    queue_hours: dict | None, after: datetime, horizon_days: int = 14
) -> datetime | None:
    """``after`` if the queue is open then, else when it next opens (within ``horizon_days``);
    None if it never does. Empty hours: always open."""
    _require_aware(after)
    if not queue_hours:
        return after
    return _queue_rule(queue_hours).next_open(after, after + timedelta(days=horizon_days))


def retry_at(
    attempt: int,
    now: datetime,
    *,
    base_seconds: float = 120,
    factor: float = 2.0,
    cap_seconds: float = 3600,
    jitter: float = 0.0,
) -> datetime:
    """When to try again after failed attempt number ``attempt`` (1 = the first try failed).

    Exponential: ``base``, ``base*factor``, ... capped at ``cap``. ``jitter`` is a random value in
    [0, 1] from the caller (so tests can fix it): it pulls the delay down by up to half, spreading
    the retries of many requests that failed together (an outage) without ever exceeding the cap.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be between 0 and 1")
    if factor <= 1.0 or base_seconds >= cap_seconds:
        delay = min(base_seconds, cap_seconds)
    elif (attempt - 1) * math.log(factor) >= math.log(cap_seconds / base_seconds):
        delay = cap_seconds  # also keeps factor ** attempt from overflowing
    else:
        delay = base_seconds * factor ** (attempt - 1)
    return now + timedelta(seconds=delay * (1.0 - jitter / 2))


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("times must be timezone-aware (UTC)")


# ---- weekly schedules as searchable timelines ------------------------------------------------


class _Schedule:
    """A weekly schedule in one zone: open during ``week[weekday]`` spans (minutes after local
    midnight), closed all day on ``holidays`` (ISO dates). Same reading as ``is_open``; a unit
    test holds the two together."""

    __slots__ = ("zone_name", "zone", "week", "holidays", "_days")

    def __init__(self, zone: str, week: tuple, holidays: frozenset[str]):
        self.zone_name, self.zone = zone, ZoneInfo(zone)  # an unknown zone fails here
        self.week, self.holidays = week, holidays
        self._days: dict[date, tuple[datetime, ...]] = {}

    def open_at(self, t: datetime) -> bool:
        local = t.astimezone(self.zone)
        if self.holidays and local.date().isoformat() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        for start, end in self.week[local.weekday()]:
            if start <= minute < end:
                return True
        return False

    def next_open(self, t: datetime, limit: datetime) -> datetime | None:
        """The earliest instant >= ``t`` (and <= ``limit``) when the schedule is open.

        Either it is open at t, or it turns open at one of the candidate instants after t: those
        are walked in order, day by day, and the first open one wins. Around a DST change at
        midnight a candidate of the next local date can come before one of this date, so one
        more day is looked at before answering.
        """
        if self.open_at(t):
            return t
        day = t.astimezone(self.zone).date() - timedelta(days=1)
        last_day = limit.astimezone(self.zone).date() + timedelta(days=1)
        found: datetime | None = None
        found_day: date | None = None
        while day <= last_day:
            for candidate in self.candidates(day):
                if candidate <= t:
                    continue
                if found is not None and candidate >= found:
                    break
                if self.open_at(candidate):
                    found, found_day = candidate, candidate.astimezone(self.zone).date()
                    break
            if found_day is not None and day > found_day:
                break
            day += timedelta(days=1)
        return found if found is not None and found <= limit else None

    def candidates(self, day: date) -> tuple[datetime, ...]:
        """Instants (UTC, sorted) on local date ``day`` at which the schedule may turn open: each
        span's start, read both ways if DST repeats or skips that wall time, and the DST change
        itself (a clock that jumps into a span opens it mid-span)."""
        found = self._days.get(day)
        if found is None:
            instants = set()
            if day.isoformat() not in self.holidays:
                for start, _ in self.week[day.weekday()]:
                    wall = datetime.combine(day, time(start // 60, start % 60))
                    for fold in (0, 1):
                        instants.add(wall.replace(tzinfo=self.zone, fold=fold).astimezone(UTC))
            change = _offset_change(self.zone_name, day)
            if change is not None:
                instants.add(change)
            found = self._days[day] = tuple(sorted(instants))
            if len(self._days) > 4096:  # a long-lived Lambda: keep the cache bounded
                self._days.clear()
        return found


@lru_cache(maxsize=1024)
def _contact_schedule(zone: str) -> _Schedule:
    return _compile(zone, CONTACT_WEEK, frozenset())


def _queue_rule(queue_hours: dict) -> _Schedule:
    """A queue's ``{timezone, weekly, holidays}`` as a (cached) searchable schedule."""
    return _queue_schedule(
        queue_hours["timezone"],
        tuple(sorted((days, tuple(spans)) for days, spans in queue_hours["weekly"].items())),
        frozenset(queue_hours.get("holidays") or ()),
    )


@lru_cache(maxsize=1024)
def _queue_schedule(zone: str, weekly: tuple, holidays: frozenset[str]) -> _Schedule:
    return _compile(zone, {days: list(spans) for days, spans in weekly}, holidays)


def _compile(zone: str, weekly: dict, holidays: frozenset[str]) -> _Schedule:
    spans = opening_minutes(weekly)
    week = tuple(tuple(sorted(spans.get(day, []))) for day in range(7))
    return _Schedule(zone, week, frozenset(holidays))


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=16384)
def _local_midnight(zone: str, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_zone(zone)).astimezone(UTC)


@lru_cache(maxsize=16384)
def _offset_change(zone_name: str, day: date) -> datetime | None:
    """The instant ``zone``'s UTC offset changes during local date ``day`` (DST), if it does."""
    zone = _zone(zone_name)
    lo = _local_midnight(zone_name, day)
    hi = _local_midnight(zone_name, day + timedelta(days=1))
    before, after = lo.astimezone(zone).utcoffset(), hi.astimezone(zone).utcoffset()
    if before == after:
        return None
    low, high = int(lo.timestamp()), int(hi.timestamp())  # offset(low) == before, (high) == after
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == before:
            low = mid
        else:
            high = mid
    return datetime.fromtimestamp(high, UTC)
