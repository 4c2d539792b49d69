"""The queues report: offered, answered, abandoned, service level, ASA and abandon rate per
queue, by local day or half-hour, read from the rollups (``store.rollups``), never from calls.

``queue_report(first, last, interval, queue_id=None)`` answers ``GET /reports/queues``:

    {"kind": "queues", "from": "2026-11-01", "to": "2026-11-30", "interval": "day",
     "rows": [{"queue_id", "day", "half_hour"?, offered, answered, ...}],
     "totals": [{"queue_id", offered, answered, ...}]}

Every day (or half-hour the day has: 46 or 50 on DST days) of the range is a row, zeros where
nothing happened, so charts need no gaps filled. Days are each queue's own local days. Cost:
by day, one BatchGetItem per 100 queue-days; by half-hour, one Query per queue-day. ``NotFound``
for an unknown queue; ``InvalidRequest`` for a range longer than the interval allows.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.facts import DAY, half_hours_of
from chalicelib.reports.figures import QUEUE_COLUMNS, queue_figures
from chalicelib.store import rollups
from chalicelib.store import routing as queues_store

TARGET = "queue"  # the query parameter naming one queue
INTERVALS = ("day", "half-hour")
MAX_DAYS = {"day": 366, "half-hour": 31}
TOTAL_COLUMNS = ["queue_id", *QUEUE_COLUMNS]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def queue_report(first: date, last: date, interval: str = "day",
                 queue_id: str | None = None) -> dict:
    if interval not in INTERVALS:
        raise InvalidRequest("interval", f"must be one of {', '.join(INTERVALS)}")
    if (last - first).days >= MAX_DAYS[interval]:
        raise InvalidRequest("from", f"a {interval} report covers at most "
                                     f"{MAX_DAYS[interval]} days")
    queues = queues_store.queues()
    if queue_id is not None:
        queues = [q for q in queues if q.queue_id == queue_id]
        if not queues:
            raise NotFound("queue", queue_id)
    days = _days(first, last)
    rows: list[dict] = []
    totals: list[dict] = []
    if interval == "day":
        keys = {(q.queue_id, d): rollups.day_key("queue", q.queue_id, d)
                for q in queues for d in days}
        found = rollups.read_days(keys.values())
    for queue in sorted(queues, key=lambda q: q.queue_id):
        summed: Counter[str] = Counter()
        for day in days:
            if interval == "day":
                values = found.get(keys[(queue.queue_id, day)], {})
                rows.append({"queue_id": queue.queue_id, "day": day.isoformat(),
                             **queue_figures(values)})
                summed.update(values)
                continue
            slots = rollups.read_day(rollups.day_key("queue", queue.queue_id, day))
            summed.update(slots.get(DAY, {}))
            for half in half_hours_of(day, queue.zone):
                rows.append({"queue_id": queue.queue_id, "day": day.isoformat(),
                             "half_hour": half, **queue_figures(slots.get(half, {}))})
        totals.append({"queue_id": queue.queue_id, **queue_figures(summed)})
    return {"kind": "queues", "from": first.isoformat(), "to": last.isoformat(),
            "interval": interval, "rows": rows, "totals": totals}


def columns(report: dict) -> list[str]:
    """The rows' columns: ``queue_id, day[, half_hour], <QUEUE_COLUMNS>``."""
    return ["queue_id", "day"] + (["half_hour"] if report["interval"] == "half-hour"
                                  else []) + list(QUEUE_COLUMNS)


report = queue_report  # the reports API's name for it (``reports.routes``)
