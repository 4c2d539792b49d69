"""The queues report: offered, answered, abandoned, service level, ASA and abandon rate per
queue, by local day or half-hour, read from the rollups (``store.rollups``), never from calls.

``queue_report(first, last, interval, queue_id=None, page=WHOLE)`` answers
``GET /reports/queues``:

    {"kind": "queues", "from": "2026-11-01", "to": "2026-11-30", "interval": "day",
     "rows": [{"queue_id", "day", "half_hour"?, offered, answered, ...}],
     "totals": [{"queue_id", offered, answered, ...}],
     "next": "/reports/queues?...&cursor=..." or None}

Paged by queue id (``reports.cursors``): a page holds whole queues, their rows and their totals
(each queue's, over the whole range; there is no total across queues), and reads only those
queues' rollups.

Every day (or half-hour the day has: 46 or 50 on DST days) of the range is a row, zeros where
nothing happened, so charts need no gaps filled. Days are each queue's own local days. Cost:
by day, one BatchGetItem per 100 queue-days; by half-hour, one Query per queue-day. ``NotFound``
for an unknown queue; ``InvalidRequest`` for a range longer than the interval allows.
"""

from __future__ import annotations

from datetime import date

from chalicelib.api_errors import NotFound
from chalicelib.reports import grid
from chalicelib.reports.cursors import WHOLE, Page
from chalicelib.reports.figures import QUEUE_COLUMNS, disposition_columns, every_code, queue_figures
from chalicelib.store import routing as queues_store

TARGET = "queue"  # the query parameter naming one queue
PAGED = True  # report() takes page= (reports.cursors)
INTERVALS = ("day", "half-hour")
MAX_DAYS = {"day": 366, "half-hour": 31}
TOTAL_COLUMNS = ["queue_id", *QUEUE_COLUMNS]


def queue_report(first: date, last: date, interval: str = "day",
                 queue_id: str | None = None, page: Page = WHOLE) -> dict:
    days = grid.days_of(first, last, interval, MAX_DAYS)
    queues = queues_store.queues()
    if queue_id is not None:
        queues = [q for q in queues if q.queue_id == queue_id]
        if not queues:
            raise NotFound("queue", queue_id)
    members, after = grid.paged([(q.queue_id, q.zone) for q in queues], days, interval, page)
    rows, summed = grid.scope_rows("queue", "queue_id", members, days, interval, queue_figures)
    totals = [{"queue_id": ident, **queue_figures(summed[ident])} for ident, _ in members]
    every_code(rows, totals)
    return {"kind": "queues", "from": first.isoformat(), "to": last.isoformat(),
            "interval": interval, "rows": rows, "totals": totals,
            "next": page.next_path(after)}


def columns(report: dict) -> list[str]:
    """The rows' columns: ``queue_id, day[, half_hour], <QUEUE_COLUMNS>``, then a
    ``disposition_<code>`` column for each code the report's calls were given."""
    half = ["half_hour"] if report["interval"] == "half-hour" else []
    return ["queue_id", "day", *half, *QUEUE_COLUMNS, *disposition_columns(report["totals"])]


def total_columns(report: dict) -> list[str]:
    """The totals' columns: ``TOTAL_COLUMNS`` and the report's disposition codes."""
    return TOTAL_COLUMNS + disposition_columns(report["totals"])


report = queue_report  # the reports API's name for it (``reports.routes``)
