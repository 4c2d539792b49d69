"""The staffing report: next week's calls per half-hour for one queue and the agents each
half-hour needs (issue 12 scope 5), served as ``GET /reports/staffing?queue=``.

History is the queue's own half-hour rollups (calls offered) over the ``weeks`` weeks before
the planned week (one Query per day); handle time is ``aht`` when given, else the mean of the
queue's recent handle times (what the wait estimates use), else 180 s. The forecast and the
arithmetic are ``reports.forecast`` and ``reports.staffing`` (Erlang C, or Erlang A given
``patience``). The planned week is ``from``..``to`` as asked, default the 7 days from the next
Monday (query ``from`` alone plans 7 days from it).

Options (query parameters, all optional): ``target_sl`` (share, default 0.8), ``answer_within``
(seconds, 20), ``shrinkage`` (share, 0.3), ``patience`` (seconds; absent: Erlang C),
``max_occupancy`` (share), ``aht`` (seconds), ``weeks`` (1–12, 4). ``InvalidRequest`` naming the
option for anything out of range; ``NotFound`` for an unknown queue; ``queue`` is required.
One page always (``next`` None, as the paged reports' last page): one queue, at most 7 days
of at most 50 half-hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from statistics import fmean

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.facts import zone_of
from chalicelib.reports.forecast import forecast_week, staffing_plan
from chalicelib.store import rollups
from chalicelib.store import routing as queues_store

TARGET = "queue"
OPTIONS = True  # reads its own query options (``report(..., options=)``)
DEFAULT_INTERVAL = "half-hour"
COLUMNS = ["queue_id", "day", "half_hour", "forecast_offered", "aht_seconds", "agents",
           "scheduled_agents", "service_level", "asa_seconds", "occupancy", "abandon_share"]
TOTAL_COLUMNS = ["queue_id", "forecast_offered", "peak_agents", "peak_scheduled_agents",
                 "agent_half_hours", "scheduled_agent_hours"]
DEFAULTS = {"target_sl": 0.8, "answer_within": 20.0, "shrinkage": 0.3, "weeks": 4}
DEFAULT_AHT = 180.0


def _number(options: Mapping[str, str], name: str, low: float, high: float,
            default: float) -> float:
    """Option ``name`` as a number from ``low`` to ``high``; ``default`` when absent."""
    found = _optional(options, name, low, high)
    return default if found is None else found


def _optional(options: Mapping[str, str], name: str, low: float,
              high: float) -> float | None:
    """Option ``name`` as a number from ``low`` to ``high``; None when absent."""
    text = (options.get(name) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise InvalidRequest(name, f"must be a number from {low:g} to {high:g}")
    return value


def columns(report: dict) -> list[str]:
    return list(COLUMNS)


def _history(queue_id: str, zone: str, first: date, weeks: int) -> list[tuple]:
    tz = zone_of(zone)
    found = []
    for offset in range(1, 7 * weeks + 1):
        day = first - timedelta(days=offset)
        for slot, values in rollups.read_day(rollups.day_key("queue", queue_id, day)).items():
            if slot == "day" or slot.endswith("+"):
                continue  # the forecast reads a repeated hour's first pass only
            hour, minute = int(slot[:2]), int(slot[3:5])
            found.append((datetime.combine(day, time(hour, minute), tzinfo=tz),
                          float(values.get("offered", 0)), 0.0))
    return found


def report(first: date, last: date, interval: str, target: str | None,
           options: Mapping[str, str] | None = None) -> dict:
    options = options or {}
    if target is None:
        raise InvalidRequest("queue", "is required: the queue to staff")
    if interval != "half-hour":
        raise InvalidRequest("interval", "staffing is planned by half-hour")
    found = queues_store.get_queue_routing(target)  # the config and handle times, two reads
    if found is None:
        raise NotFound("queue", target)
    target_sl = _number(options, "target_sl", 0.01, 0.99, DEFAULTS["target_sl"])
    within = _number(options, "answer_within", 0, 3600, DEFAULTS["answer_within"])
    shrinkage = _number(options, "shrinkage", 0, 0.9, DEFAULTS["shrinkage"])
    patience = _optional(options, "patience", 1, 86400)
    max_occupancy = _optional(options, "max_occupancy", 0.1, 1)
    weeks = int(_number(options, "weeks", 1, 12, DEFAULTS["weeks"]))
    queue, samples = found.config, found.handle_times
    aht = _optional(options, "aht", 1, 7200) or (fmean(samples) if samples else DEFAULT_AHT)
    days = (last - first).days + 1
    if days > 7:
        raise InvalidRequest("to", "staffing is planned a week at a time (7 days at most)")
    history = [(start, offered, aht) for start, offered, _ in
               _history(queue.queue_id, queue.zone, first, weeks)]
    intervals = [i for i in forecast_week(history, first, zone_of(queue.zone), weeks=weeks,
                                          default_aht_seconds=aht)
                 if i.start.date() <= last]
    plan = staffing_plan(intervals, target_sl, within, shrinkage, patience,
                         max_occupancy=max_occupancy)
    rows: list[dict] = []
    for planned, staffed in plan:
        start = planned.start
        rows.append({
            "queue_id": queue.queue_id, "day": start.date().isoformat(),
            "half_hour": f"{start:%H:%M}" + ("+" if start.fold else ""),
            "forecast_offered": round(planned.offered, 2),
            "aht_seconds": round(planned.aht_seconds, 1), "agents": staffed.agents,
            "scheduled_agents": staffed.scheduled_agents,
            "service_level": round(staffed.service_level, 4),
            "asa_seconds": round(staffed.asa_seconds, 1),
            "occupancy": round(staffed.occupancy, 4),
            "abandon_share": (None if staffed.abandon_share is None
                              else round(staffed.abandon_share, 4))})
    offered = sum(planned.offered for planned, _ in plan)
    agents = [staffed.agents for _, staffed in plan]
    scheduled = [staffed.scheduled_agents for _, staffed in plan]
    totals = [{
        "queue_id": queue.queue_id, "forecast_offered": round(offered, 1),
        "peak_agents": max(agents, default=0), "peak_scheduled_agents": max(scheduled, default=0),
        "agent_half_hours": sum(agents), "scheduled_agent_hours": sum(scheduled) / 2}]
    return {"kind": "staffing", "from": first.isoformat(), "to": last.isoformat(),
            "interval": "half-hour", "queue_id": queue.queue_id,
            "assumptions": {"target_sl": target_sl, "answer_within": within,
                            "shrinkage": shrinkage, "patience": patience,
                            "max_occupancy": max_occupancy, "aht_seconds": round(aht, 1),
                            "weeks": weeks, "model": "Erlang A" if patience else "Erlang C"},
            "rows": rows, "totals": totals, "next": None}


def default_range(today: date, first: date | None = None) -> tuple[date, date]:
    """The week planned when the query names no ``to``: 7 days from ``first``, else from the
    next Monday after ``today``."""
    if first is not None:
        return first, first + timedelta(days=6)
    return next_week(today)


def next_week(today: date) -> tuple[date, date]:
    """The 7 days from the next Monday after ``today``."""
    monday = today + timedelta(days=7 - today.weekday())
    return monday, monday + timedelta(days=6)
