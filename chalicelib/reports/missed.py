"""The missed-calls report: per hotline and local day, the calls missed (by reason) and how many
records were followed up, how fast. Read from the hotline rollups of the ``missed_call`` and
``missed_follow_up`` facts (``callbacks.missed_facts``), never from the missed-call records.

``report(first, last, interval, hotline=None, page=WHOLE)`` answers ``GET /reports/missed?from=
&to=&hotline=``:

    {"kind": "missed", "from": "2026-11-01", "to": "2026-11-30", "interval": "day",
     "rows": [{"hotline", "day", "missed", "abandoned", "after_hours", "voicemail",
               "callback_failed", "followed_up", "average_follow_up_seconds"}],
     "totals": [{"hotline", "missed", ..., "average_follow_up_seconds"}],
     "next": "/reports/missed?...&cursor=..." or None}

A follow-up counts on the day it happened (a miss late on Monday followed up on Tuesday is
Tuesday's follow-up); ``average_follow_up_seconds`` is from a record's first miss to its first
follow-up (an automatic callback request, a text or a person resolving it), rounded to a
second, None on a day without follow-ups. Every day of the range is a row (zeros where nothing
was missed). Every hotline (``store.directory.list_hotlines``: a Scan of the small hotlines
table), or only ``hotline``: ``NotFound`` for an unknown one; ``InvalidRequest`` for an interval
other than ``day`` or a range over ``MAX_DAYS`` days. Cost: one BatchGetItem per 100
hotline-days. Rows grow with the hotlines (366 a hotline), so it is paged by hotline number
(``reports.cursors``): a page holds whole hotlines, their rows and totals (each hotline's, over
the whole range; there is no total across hotlines), and reads only their rollups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.reports.cursors import WHOLE, Page
from chalicelib.reports.repeat_arithmetic import days_between, e164
from chalicelib.store import directory, rollups

TARGET = "hotline"  # the query parameter naming one hotline
PAGED = True  # report() takes page= (reports.cursors)
MAX_DAYS = 366
REASONS = ("abandoned", "after_hours", "voicemail", "callback_failed")  # callbacks.missed's
MISSED_COLUMNS = ("missed", *REASONS, "followed_up", "average_follow_up_seconds")
TOTAL_COLUMNS = ["hotline", *MISSED_COLUMNS]


def missed_figures(values: Mapping[str, int]) -> dict:
    """The columns of one day's (or the range's) sums; absent sums are zeros."""
    followed = values.get("missed_followed_up", 0)
    waited = values.get("follow_up_seconds", 0)
    return {"missed": values.get("missed", 0),
            **{reason: values.get(f"missed_{reason}", 0) for reason in REASONS},
            "followed_up": followed,
            "average_follow_up_seconds": round(waited / followed) if followed else None}


def _hotlines(hotline: str | None) -> list[str]:
    if hotline is None:
        return [line.number for line in directory.list_hotlines()]
    hotline = e164(hotline)
    if directory.get_hotline(hotline) is None:
        raise NotFound("hotline", hotline)
    return [hotline]


def missed_report(first: date, last: date, interval: str = "day",
                  hotline: str | None = None, page: Page = WHOLE) -> dict:
    if interval != "day":
        raise InvalidRequest("interval", "must be day")
    if (last - first).days >= MAX_DAYS:
        raise InvalidRequest("from", f"a missed-calls report covers at most {MAX_DAYS} days")
    days = days_between(first, last)
    numbers, after = page.take(_hotlines(hotline), key=str, rows=lambda _: len(days))
    keys = {(n, d): rollups.day_key("hotline", n, d) for n in numbers for d in days}
    found = rollups.read_days(keys.values())
    rows, totals = [], []
    for number in numbers:
        summed: Counter[str] = Counter()
        for day in days:
            values = found.get(keys[(number, day)], {})
            summed.update(values)
            rows.append({"hotline": number, "day": day.isoformat(), **missed_figures(values)})
        totals.append({"hotline": number, **missed_figures(summed)})
    return {"kind": "missed", "from": first.isoformat(), "to": last.isoformat(),
            "interval": "day", "rows": rows, "totals": totals,
            "next": page.next_path(after)}


def columns(report: dict) -> list[str]:
    """The rows' columns: ``hotline, day`` and ``MISSED_COLUMNS``."""
    return ["hotline", "day", *MISSED_COLUMNS]


report = missed_report  # the reports API's name for it (``reports.routes``)
