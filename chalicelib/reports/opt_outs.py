"""The opt-outs report: numbers that opted out and back in, per channel and UTC day, read from
the rollups of the consent gate's facts (``consent.opt_out_fact``).

``opt_out_report(first, last, interval="day", channel=None)`` answers ``GET /reports/opt-outs``:

    {"kind": "opt-outs", "from": "2026-11-01", "to": "2026-11-30", "interval": "day",
     "rows": [{"channel": "sms", "day": "2026-11-01", "opt_outs": 3, "opt_ins": 1, "net": 2}],
     "totals": [{"channel": "sms", "opt_outs", "opt_ins", "net"}], "next": None}

Channels are ``consent.CHANNELS``: ``sms`` (STOP / START texts, a carrier refusing a text) and
``voice`` (a carrier refusing a call as unsubscribed). A STOP Twilio delivers twice counts once;
a number texting STOP twice (two messages) counts twice: two requests. ``net`` = opt-outs −
opt-ins. Days are UTC days (the facts carry no hotline's zone). Every day a row, zeros where
nothing happened. Cost: one BatchGetItem per 100 channel-days. ``NotFound`` for an unknown
channel; ``InvalidRequest`` for an interval other than ``day`` or a range over 366 days. One
page always (``next`` None, as the paged reports' last page): two channels of at most 366 days
are at most 732 rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.consent import CHANNELS
from chalicelib.store import rollups

TARGET = "channel"  # the query parameter naming one channel
INTERVALS = ("day",)
MAX_DAYS = 366
OPT_OUT_COLUMNS = ("opt_outs", "opt_ins", "net")
TOTAL_COLUMNS = ["channel", *OPT_OUT_COLUMNS]


def opt_out_figures(values: Mapping[str, int]) -> dict:
    """``OPT_OUT_COLUMNS`` of one day's sums (absent: 0)."""
    outs, ins = values.get("opt_outs", 0), values.get("opt_ins", 0)
    return {"opt_outs": outs, "opt_ins": ins, "net": outs - ins}


def opt_out_report(first: date, last: date, interval: str = "day",
                   channel: str | None = None) -> dict:
    if interval not in INTERVALS:
        raise InvalidRequest("interval", "opt-outs are counted by day: interval=day")
    if (last - first).days >= MAX_DAYS:
        raise InvalidRequest("from", f"a day report covers at most {MAX_DAYS} days")
    if channel is not None and channel not in CHANNELS:
        raise NotFound("channel", channel)
    channels = [channel] if channel else sorted(CHANNELS)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    keys = {(c, d): rollups.day_key("channel", c, d) for c in channels for d in days}
    found = rollups.read_days(keys.values())
    rows: list[dict] = []
    totals: list[dict] = []
    for name in channels:
        summed: Counter[str] = Counter()
        for day in days:
            values = found.get(keys[(name, day)], {})
            summed.update(values)
            rows.append({"channel": name, "day": day.isoformat(), **opt_out_figures(values)})
        totals.append({"channel": name, **opt_out_figures(summed)})
    return {"kind": "opt-outs", "from": first.isoformat(), "to": last.isoformat(),
            "interval": interval, "rows": rows, "totals": totals, "next": None}


def columns(report: dict) -> list[str]:
    """The rows' columns: ``channel, day, opt_outs, opt_ins, net``."""
    return ["channel", "day", *OPT_OUT_COLUMNS]


report = opt_out_report  # the reports API's name for it (``reports.routes``)
