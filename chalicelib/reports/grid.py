"""What the rollup-backed reports share (queues, agents, ivr): the range they may cover, its
days, and a row per scope id and local day (or half-hour) read from the rollups.

``days_of(first, last, interval)`` checks the interval and the range (``InvalidRequest`` naming
``interval`` or ``from``) and gives the days. ``scope_rows(scope, id_column, members, days,
interval, figures)`` reads the rollups of each ``(id, zone)`` member — by day one BatchGetItem
per 100 id-days, by half-hour one Query per id-day — and gives the rows (every day or half-hour
of the zone's calendar a row, zeros where nothing happened) and each id's sums over the range.
``paged(members, days, interval, page)`` picks a page of members (``reports.cursors``): whole
members, by id, each ``row_count`` rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta

from chalicelib.api_errors import InvalidRequest
from chalicelib.facts import DAY, half_hours_of
from chalicelib.reports.cursors import Page
from chalicelib.store import rollups

MAX_DAYS = {"day": 366, "half-hour": 31}  # a half-hour report reads one Query per id-day


def days_of(first: date, last: date, interval: str,
            max_days: Mapping[str, int] = MAX_DAYS) -> list[date]:
    if interval not in max_days:
        raise InvalidRequest("interval", f"must be one of {', '.join(max_days)}")
    if (last - first).days >= max_days[interval]:
        raise InvalidRequest("from", f"a {interval} report covers at most "
                                     f"{max_days[interval]} days")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def scope_rows(scope: str, id_column: str, members: Sequence[tuple[str, str]],
               days: Sequence[date], interval: str, figures: Callable[[Mapping], dict]
               ) -> tuple[list[dict], dict[str, Counter[str]]]:
    """Rows ``{id_column, day[, half_hour], **figures(values)}`` for each ``(id, zone)`` of
    ``members`` in their order, and ``{id: the sums of its day slots}``."""
    rows: list[dict] = []
    summed: dict[str, Counter[str]] = {}
    found: dict[str, dict[str, int]] = {}
    if interval == DAY:
        found = rollups.read_days(rollups.day_key(scope, ident, day)
                                  for ident, _ in members for day in days)
    for ident, zone in members:
        total = summed[ident] = Counter()
        for day in days:
            key = rollups.day_key(scope, ident, day)
            if interval == DAY:
                values = found.get(key, {})
                rows.append({id_column: ident, "day": day.isoformat(), **figures(values)})
                total.update(values)
                continue
            slots = rollups.read_day(key)
            total.update(slots.get(DAY, {}))
            rows += [{id_column: ident, "day": day.isoformat(), "half_hour": half,
                      **figures(slots.get(half, {}))} for half in half_hours_of(day, zone)]
    return rows, summed


def row_count(days: Sequence[date], interval: str, zone: str) -> int:
    """How many rows a member in ``zone`` has: a day each, or each day's half-hours."""
    if interval == DAY:
        return len(days)
    return sum(len(half_hours_of(day, zone)) for day in days)


def paged(members: Sequence[tuple[str, str]], days: Sequence[date], interval: str,
          page: Page) -> tuple[list[tuple[str, str]], str | None]:
    """The ``(id, zone)`` members of ``page`` (by id) and the id the next page starts at."""
    return page.take(members, key=lambda member: member[0],
                     rows=lambda member: row_count(days, interval, member[1]))
