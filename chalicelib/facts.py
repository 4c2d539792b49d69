"""Facts: what happened, kept once, and the local day and half-hour each one counts in.

Every figure a report shows is a sum of facts (issue 12, "Facts, kept once"): a caller offered
to a queue, answered after so many seconds, abandoned after so many. A fact carries

- ``fact_id``: derived from the ids of what happened (Twilio's CallSid, a line entry's key), so
  the same event delivered twice, by a retry or a replayed stream, is the same fact and counts
  once;
- ``at``: when it happened (aware UTC) and ``zone``: the IANA zone whose calendar it counts in
  (the queue's: a queue's day is its own local day, like the board's);
- ``scopes``: what it is about, ``{"queue": "support", "agent": "a-7", "hotline": "+1415..."}``;
- ``values``: the counters it adds, whole numbers (``{"answered": 1, "wait_seconds": 12}``).

A fact counts in one **slot** per scope and grain: its local day, and its local half-hour. The
half-hour is the wall-clock ``HH:MM`` of the start of the half-hour; on the night clocks go
back, the second pass through the repeated hour is a slot of its own (``01:30+``), so a call at
01:40 the first time and one at 01:40 the second time never share a half-hour, and on the night
they go forward the missing half-hours simply have no slot. Sources: the zone database (Python's
``zoneinfo``) for the offsets and ``datetime.fold`` for which pass of a repeated hour a time is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY = "day"  # the grain of a whole local day
# channel: sms or voice (opt-outs); callers: a hotline's calling numbers (repeat callers)
SCOPES = ("queue", "agent", "hotline", "flow", "campaign", "channel", "callers")
# scopes counted by day only: a ``callers`` partition holds one count per calling number
# (``ivr.caller_facts``), and its half-hours would multiply that by 48 for no report
DAY_ONLY_SCOPES = frozenset({"callers"})
SLOT = re.compile(r"(day|[0-2][0-9]:[03]0\+?)")
_VALUE = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Fact:
    """One event, counted once: see the module's docstring. ValueError (from ``check``) for an
    id, a time, a zone, a scope or a value that cannot be counted."""

    fact_id: str
    kind: str
    at: datetime
    zone: str
    scopes: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, int] = field(default_factory=dict)

    def check(self) -> Fact:
        if not self.fact_id or len(self.fact_id) > 200:
            raise ValueError("fact_id: 1 to 200 characters")
        if not _VALUE.fullmatch(self.kind):
            raise ValueError(f"kind: {self.kind!r} is not a lower-case name")
        if self.at.tzinfo is None:
            raise ValueError("at: must be an aware time")
        zone_of(self.zone)
        for scope, ident in self.scopes.items():
            if scope not in SCOPES or not ident:
                raise ValueError(f"scopes: {scope!r} is not one of {', '.join(SCOPES)}")
        for name, value in self.values.items():
            if not _VALUE.fullmatch(name) or isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"values: {name!r} must be a whole number")
        return self


@dataclass(frozen=True)
class Slot:
    """Where a fact counts: ``scope`` and its id, the local ``day``, and ``slot`` (``"day"``
    or the half-hour ``"HH:MM"``, ``"HH:MM+"`` for the second pass of a repeated hour)."""

    scope: str
    scope_id: str
    day: date
    slot: str

    @property
    def key(self) -> str:
        """The rollup's partition: ``queue#support#2026-11-30``."""
        return f"{self.scope}#{self.scope_id}#{self.day.isoformat()}"


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"zone: {name!r} is not an IANA time zone") from None


def local_slot(at: datetime, zone: str) -> tuple[date, str]:
    """The local day and half-hour of ``at`` in ``zone``: ``(date, "HH:MM")``, the half-hour
    marked ``+`` in the second pass of an hour the clocks repeat."""
    local = at.astimezone(UTC).astimezone(zone_of(zone))
    half = f"{local.hour:02d}:{30 if local.minute >= 30 else 0:02d}"
    return local.date(), half + ("+" if local.fold else "")


def slots(fact: Fact) -> list[Slot]:
    """Every slot the fact counts in: for each scope, its local day and its half-hour (the day
    only for ``DAY_ONLY_SCOPES``)."""
    day, half = local_slot(fact.at, fact.zone)
    found = []
    for scope, ident in sorted(fact.scopes.items()):
        found.append(Slot(scope, ident, day, DAY))
        if scope not in DAY_ONLY_SCOPES:
            found.append(Slot(scope, ident, day, half))
    return found


def add_up(facts: Iterable[Fact]) -> dict[tuple[str, str], dict[str, int]]:
    """What a set of facts sums to, slot by slot: ``{(key, slot): {value: total}}``. Rebuilding
    a day from its stored facts with this gives exactly what the stream kept up fact by fact,
    because both are the same sums (each fact once)."""
    totals: dict[tuple[str, str], dict[str, int]] = {}
    seen: set[str] = set()
    for fact in facts:
        if fact.fact_id in seen:
            continue
        seen.add(fact.fact_id)
        for slot in slots(fact):
            bucket = totals.setdefault((slot.key, slot.slot), {})
            for name, value in fact.values.items():
                bucket[name] = bucket.get(name, 0) + value
    return totals


def half_hours_of(day: date, zone: str) -> list[str]:
    """The half-hour slots a local ``day`` has in ``zone``, in time order: 48 on most days, 46
    when the clocks go forward an hour, 50 when they go back (the repeated ones marked ``+``)."""
    tz = zone_of(zone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    found: list[str] = []
    at = start
    while True:
        local_day, half = local_slot(at, zone)
        if local_day != day:
            if found:
                break
        elif half not in found:
            found.append(half)
        at += timedelta(minutes=30)
    return found
