"""A weekly schedule in one time zone: open at an instant, next opening, next closing.

A schedule is open during its weekly spans of local wall time (``hours.weekly``), read at minute
resolution, and closed all day on its holidays (local ISO dates). A flow's *hours* node and a
queue's ``hours`` are both read here, so an IVR, a queue and a callback never disagree.

The searches do not step through minutes: the callback dispatcher asks thousands of times per
tick. A schedule can only *turn* open (or closed) at a few instants: a span's start (or end) on
some local date, read both ways when DST makes that wall time ambiguous or skips it, or the DST
change itself (a wall clock jumping into or out of a span). ``next_opening`` and ``next_closing``
walk those instants in order, day by day; the instants are cached per zone and date, so a search
costs a few ``astimezone`` calls.

Queue hours are a dict ``{timezone, weekly, holidays}`` (``QueueConfig.hours``); empty or None
means always open. The functions taking ``hours`` read that form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from chalicelib.hours.weekly import MINUTES_PER_DAY, opening_minutes

HORIZON_DAYS = 14  # how far the searches look by default


class WeeklySchedule:
    """Open during ``week[weekday]`` spans (minutes after local midnight, 0 = Monday) in
    ``zone_name``, closed all day on ``holidays`` (ISO dates). Build one with
    ``weekly_schedule``; an unknown zone fails there (``ZoneInfoNotFoundError``)."""

    __slots__ = ("zone_name", "zone", "week", "holidays", "_openings", "_closings")

    def __init__(self, zone: str, week: tuple[tuple[tuple[int, int], ...], ...],
                 holidays: frozenset[str]):
        self.zone_name, self.zone = zone, ZoneInfo(zone)
        self.week, self.holidays = week, holidays
        self._openings: dict[date, tuple[datetime, ...]] = {}
        self._closings: dict[date, tuple[datetime, ...]] = {}

    def is_open(self, at: datetime) -> bool:
        """Whether the schedule is open at ``at`` (aware)."""
        local = at.astimezone(self.zone)
        if self.holidays and local.date().isoformat() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        for start, end in self.week[local.weekday()]:
            if start <= minute < end:
                return True
        return False

    def next_opening(self, after: datetime, limit: datetime) -> datetime | None:
        """The earliest instant at or after ``after``, and not after ``limit``, when the
        schedule is open (``after`` itself when open then); None if there is none."""
        if self.is_open(after):
            return after
        return self._first(after, limit, self.openings, want_open=True)

    def next_closing(self, after: datetime, limit: datetime) -> datetime | None:
        """The earliest instant at or after ``after``, and not after ``limit``, when the
        schedule is closed (``after`` itself when closed then); None if it stays open."""
        if not self.is_open(after):
            return after
        return self._first(after, limit, self.closings, want_open=False)

    def openings(self, day: date) -> tuple[datetime, ...]:
        """Instants (UTC, sorted) on local date ``day`` at which the schedule may turn open:
        each span's start, read both ways if DST repeats or skips that wall time, and the DST
        change itself (a clock that jumps into a span opens it mid-span)."""
        found = self._openings.get(day)
        if found is None:
            walls = [] if day.isoformat() in self.holidays else \
                [(day, start) for start, _ in self.week[day.weekday()]]
            found = self._remember(self._openings, day, walls)
        return found

    def closings(self, day: date) -> tuple[datetime, ...]:
        """Instants (UTC, sorted) on or right after local date ``day`` at which the schedule may
        turn closed: each span's end (24:00 is the next midnight), read both ways across DST,
        and the DST change itself (a clock that jumps out of a span closes it)."""
        found = self._closings.get(day)
        if found is None:
            walls = [(day + timedelta(days=1), 0) if end == MINUTES_PER_DAY else (day, end)
                     for _, end in self.week[day.weekday()]]
            found = self._remember(self._closings, day, walls)
        return found

    def _remember(self, cache: dict, day: date, walls: Iterable[tuple[date, int]]) -> tuple:
        instants = set()
        for wall_day, minute in walls:
            wall = datetime.combine(wall_day, time(minute // 60, minute % 60))
            for fold in (0, 1):
                instants.add(wall.replace(tzinfo=self.zone, fold=fold).astimezone(UTC))
        change = _offset_change(self.zone_name, day)
        if change is not None:
            instants.add(change)
        if len(cache) > 4096:  # a long-lived Lambda: keep the cache bounded
            cache.clear()
        found = cache[day] = tuple(sorted(instants))
        return found

    def _first(self, t: datetime, limit: datetime, candidates: Callable[[date], tuple],
               want_open: bool) -> datetime | None:
        """The first candidate instant after ``t`` where ``is_open`` is ``want_open``.

        Candidates are walked day by day. Around a DST change at midnight a candidate of the
        next local date can come before one of this date (and a 24:00 end is the next date's
        midnight), so one more day is looked at before answering.
        """
        day = t.astimezone(self.zone).date() - timedelta(days=1)
        last_day = limit.astimezone(self.zone).date() + timedelta(days=1)
        found: datetime | None = None
        found_day: date | None = None
        while day <= last_day:
            for candidate in candidates(day):
                if candidate <= t:
                    continue
                if found is not None and candidate >= found:
                    break
                if self.is_open(candidate) is want_open:
                    found, found_day = candidate, candidate.astimezone(self.zone).date()
                    break
            if found_day is not None and day > found_day:
                break
            day += timedelta(days=1)
        return found if found is not None and found <= limit else None


def weekly_schedule(timezone: str, weekly: Mapping[str, list[str]],
                    holidays: Iterable[str] = ()) -> WeeklySchedule:
    """The schedule of ``weekly`` hours (``hours.weekly`` form) in IANA zone ``timezone``,
    closed on ``holidays`` (YYYY-MM-DD). Cached by value; ValueError on hours that do not
    parse, ``ZoneInfoNotFoundError`` on an unknown zone."""
    return _compiled(timezone, tuple(sorted((days, tuple(spans)) for days, spans in
                                            weekly.items())), frozenset(holidays))


@lru_cache(maxsize=1024)
def _compiled(timezone: str, weekly: tuple, holidays: frozenset[str]) -> WeeklySchedule:
    spans = opening_minutes({days: list(spans) for days, spans in weekly})
    week = tuple(tuple(sorted(spans.get(day, []))) for day in range(7))
    return WeeklySchedule(timezone, week, holidays)


def is_open(timezone: str, weekly: Mapping[str, list[str]], holidays: Iterable[str],
            at: datetime) -> bool:
    """Open at ``at`` by ``weekly`` hours in ``timezone``, closed all day on ``holidays``."""
    return weekly_schedule(timezone, weekly, holidays).is_open(at)


# ---- queue hours: {timezone, weekly, holidays}, empty = always open ----------------------------


def schedule_of(hours: Mapping | None) -> WeeklySchedule | None:
    """A queue's hours as a schedule; None when it has none (always open)."""
    if not hours:
        return None
    return weekly_schedule(hours["timezone"], hours["weekly"], hours.get("holidays") or ())


def open_at(hours: Mapping | None, at: datetime) -> bool:
    """Whether a queue with ``hours`` is open at ``at``."""
    schedule = schedule_of(hours)
    return schedule is None or schedule.is_open(at)


def next_opening(hours: Mapping | None, after: datetime,
                 horizon_days: int = HORIZON_DAYS) -> datetime | None:
    """``after`` if the queue is open then, else when it next opens within ``horizon_days``;
    None if it does not (a queue that never opens, a run of holidays)."""
    require_aware(after)
    schedule = schedule_of(hours)
    if schedule is None:
        return after
    return schedule.next_opening(after, after + timedelta(days=horizon_days))


def next_closing(hours: Mapping | None, after: datetime,
                 horizon_days: int = HORIZON_DAYS) -> datetime | None:
    """``after`` if the queue is closed then, else when it next closes within
    ``horizon_days``; None if it stays open that long (or has no hours at all)."""
    require_aware(after)
    schedule = schedule_of(hours)
    if schedule is None:
        return None
    return schedule.next_closing(after, after + timedelta(days=horizon_days))


def zone_of(hours: Mapping | None) -> ZoneInfo:
    """The zone a queue's hours are written in (UTC when it names none)."""
    return ZoneInfo((hours or {}).get("timezone") or "UTC")


def require_aware(at: datetime) -> None:
    """ValueError for a naive datetime: every instant here must carry its offset."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("times must be timezone-aware (UTC)")


# ---- DST changes -------------------------------------------------------------------------------


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
