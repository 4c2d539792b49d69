"""The repeat-callers report: numbers that called one hotline at least ``times`` (N) times within
``days`` (D) days, with their last outcomes, and the hotline's first-contact resolution. Read
from the ``callers`` rollups (``ivr.caller_facts``: calls and served calls per number per local
day), never from calls; the arithmetic and its exact definitions are
``reports.repeat_arithmetic``'s.

``report(first, last, interval, hotline, options=query, page=WHOLE)`` answers
``GET /reports/repeat-callers?hotline=+14155550100&from=&to=&times=3&days=7``:

    {"kind": "repeat-callers", "from": "2026-11-01", "to": "2026-11-30", "interval": "day",
     "hotline": "+14155550100", "times": 3, "days": 7,
     "rows": [{"number": "+14155550123", "calls": 4, "most_in_window": 3,
               "first_day": "2026-11-02", "last_day": "2026-11-05", "last_outcome": "served",
               "last_outcomes": [{"call_sid", "at", "queue_id", "agent_id", "outcome"}]}],
     "totals": [{"hotline", "callers", "calls", "repeat_callers", "served_callers",
                 "first_contact_resolution"}],
     "next": "/reports/repeat-callers?...&cursor=..." or None}

Numbers are shown in full (as ``GET /missed-calls`` shows them): a supervisor calls them back.
``last_outcomes``: the number's newest contacts (at most ``OUTCOMES``), any hotline, from the
routing contact history (``store.routing.get_contact``). Errors: ``InvalidRequest`` without a
``hotline``, for an interval other than ``day``, a range over ``MAX_DAYS`` days or ``times``/
``days`` out of bounds; ``NotFound`` for an unknown hotline. Cost: one BatchGetItem per 100
shard-days (``SHARDS`` per day, ``days_to_read``), one GetItem per repeat caller of the page.

Repeat callers grow without bound, so the rows are paged in their order (most calls first,
then number; ``reports.cursors``, a row a member, ``row_key``). Every page reads the range's
counts (the figures need them all) and gives the hotline's totals over the whole range, the
same on every page; only the page's callers' outcomes are read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.api_input import query_int
from chalicelib.ivr.caller_facts import SHARDS, callers_id, number_of, served_number_of
from chalicelib.reports.cursors import WHOLE, Page
from chalicelib.reports.repeat_arithmetic import days_to_read, e164, repeat_figures
from chalicelib.store import directory, rollups
from chalicelib.store import routing as contacts

TARGET = "hotline"  # the query parameter naming the hotline (required)
PAGED = True  # report() takes page= (reports.cursors)
OPTIONS = True  # report() takes the query: times, days
MAX_DAYS = 92
MAX_WINDOW = 31
OUTCOMES = 3
MAX_CALLS = 9_999_999_999  # far over a number's calls in MAX_DAYS days
COLUMNS = ["number", "calls", "most_in_window", "first_day", "last_day", "last_outcome"]
TOTAL_COLUMNS = ["hotline", "callers", "calls", "repeat_callers", "served_callers",
                 "first_contact_resolution"]


Counts = dict[str, dict[date, int]]


def read_counts(hotline: str, days: list[date]) -> tuple[Counts, Counts]:
    """``({number: {day: calls}}, {number: {day: served calls}})`` of the hotline's ``callers``
    rollups on ``days``."""
    keys = {rollups.day_key("callers", callers_id(hotline, k), day): day
            for day in days for k in range(SHARDS)}
    counts: Counts = defaultdict(dict)
    served: Counts = defaultdict(dict)
    for key, values in rollups.read_days(keys).items():
        for name, calls in values.items():
            number = number_of(name)
            into = counts
            if number is None:
                number, into = served_number_of(name), served
            if number is not None and calls:
                into[number][keys[key]] = into[number].get(keys[key], 0) + calls
    return counts, served


def row_key(row: dict) -> str:
    """A repeat caller's place in the report's order (most calls first, then number) as a
    string that sorts the same: ``"9999999995 +14155550123"`` for 4 calls."""
    return f"{MAX_CALLS - row['calls']:010d} {row['number']}"


def last_outcomes(number: str) -> list[dict]:
    history = contacts.get_contact(number)
    return [dict(contact) for contact in (history.recent if history else ())][:OUTCOMES]


def repeat_callers_report(first: date, last: date, interval: str = "day",
                          hotline: str | None = None,
                          options: Mapping[str, str] | None = None,
                          page: Page = WHOLE) -> dict:
    if interval != "day":
        raise InvalidRequest("interval", "must be day")
    if hotline is None:
        raise InvalidRequest("hotline", "is required: the hotline's E.164 number")
    if (last - first).days >= MAX_DAYS:
        raise InvalidRequest("from", f"a repeat-callers report covers at most {MAX_DAYS} days")
    times = query_int(options, "times", default=3, low=2, high=1000)
    days = query_int(options, "days", default=7, low=1, high=MAX_WINDOW)
    hotline = e164(hotline)
    if directory.get_hotline(hotline) is None:
        raise NotFound("hotline", hotline)
    counts, served = read_counts(hotline, days_to_read(first, last, days))
    found, totals = repeat_figures(counts, first, last, times, days, served=served)
    rows, after = page.take(found, key=row_key, rows=lambda _: 1)
    for row in rows:
        row["last_outcomes"] = last_outcomes(row["number"])
        row["last_outcome"] = next((c.get("outcome") for c in row["last_outcomes"]), None)
    return {"kind": "repeat-callers", "from": first.isoformat(), "to": last.isoformat(),
            "interval": "day", "hotline": hotline, "times": times, "days": days,
            "rows": rows, "totals": [{"hotline": hotline, **totals}],
            "next": page.next_path(after)}


def columns(report: dict) -> list[str]:
    """The rows' columns (a file has the newest outcome only; JSON has ``last_outcomes``)."""
    return list(COLUMNS)


report = repeat_callers_report  # the reports API's name for it (``reports.routes``)
