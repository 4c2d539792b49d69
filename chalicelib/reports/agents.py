"""The agents report: handled calls, talk / hold / wrap-up, AHT, logged-in and break time,
occupancy and utilisation per agent, by local day or half-hour, read from the rollups of
agent-time facts (``routing.agent_facts``), with each agent's totals and a ranking.

``agent_report(first, last, interval, agent_id=None)`` answers ``GET /reports/agents``:

    {"kind": "agents", "from": "2026-11-01", "to": "2026-11-30", "interval": "day",
     "rows": [{"agent_id", "day", "half_hour"?, handled, talk_seconds, ...}],
     "totals": [{"agent_id", handled, talk_seconds, ...}],
     "ranking": [{"rank", "agent_id", "handled", "aht_seconds"}]}

Days are each agent's own local days (``Agent.timezone``, else UTC); a state's time counts on
the day and in the half-hour it ended. Every day (or half-hour) of the range is a row, zeros
where nothing happened. Cost as the queues report's. ``NotFound`` for an unknown agent;
``InvalidRequest`` for an unknown interval or a range longer than it allows.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.facts import DAY, half_hours_of, zone_of
from chalicelib.reports.agent_figures import AGENT_COLUMNS, agent_figures, ranking
from chalicelib.routing.model import DEFAULT_ZONE, Agent
from chalicelib.store import rollups
from chalicelib.store import routing as agents_store

TARGET = "agent"  # the query parameter naming one agent
INTERVALS = ("day", "half-hour")
MAX_DAYS = {"day": 366, "half-hour": 31}
TOTAL_COLUMNS = ["agent_id", *AGENT_COLUMNS]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _zone(agent: Agent) -> str:
    try:
        zone_of(agent.timezone or DEFAULT_ZONE)
    except ValueError:
        return DEFAULT_ZONE  # as the facts count it (``routing.agent_facts``)
    return agent.timezone or DEFAULT_ZONE


def agent_report(first: date, last: date, interval: str = "day",
                 agent_id: str | None = None) -> dict:
    if interval not in INTERVALS:
        raise InvalidRequest("interval", f"must be one of {', '.join(INTERVALS)}")
    if (last - first).days >= MAX_DAYS[interval]:
        raise InvalidRequest("from", f"a {interval} report covers at most "
                                     f"{MAX_DAYS[interval]} days")
    if agent_id is not None:
        agent = agents_store.get_agent(agent_id)
        if agent is None:
            raise NotFound("agent", agent_id)
        agents = [agent]
    else:
        agents = agents_store.list_agents()
    days = _days(first, last)
    rows: list[dict] = []
    totals: list[dict] = []
    if interval == "day":
        keys = {(a.agent_id, d): rollups.day_key("agent", a.agent_id, d)
                for a in agents for d in days}
        found = rollups.read_days(keys.values())
    for agent in sorted(agents, key=lambda a: a.agent_id):
        summed: Counter[str] = Counter()
        for day in days:
            if interval == "day":
                values = found.get(keys[(agent.agent_id, day)], {})
                rows.append({"agent_id": agent.agent_id, "day": day.isoformat(),
                             **agent_figures(values)})
                summed.update(values)
                continue
            slots = rollups.read_day(rollups.day_key("agent", agent.agent_id, day))
            summed.update(slots.get(DAY, {}))
            for half in half_hours_of(day, _zone(agent)):
                rows.append({"agent_id": agent.agent_id, "day": day.isoformat(),
                             "half_hour": half, **agent_figures(slots.get(half, {}))})
        totals.append({"agent_id": agent.agent_id, **agent_figures(summed)})
    return {"kind": "agents", "from": first.isoformat(), "to": last.isoformat(),
            "interval": interval, "rows": rows, "totals": totals,
            "ranking": ranking(totals)}


def columns(report: dict) -> list[str]:
    """The rows' columns: ``agent_id, day[, half_hour], <AGENT_COLUMNS>``."""
    return ["agent_id", "day"] + (["half_hour"] if report["interval"] == "half-hour"
                                  else []) + list(AGENT_COLUMNS)


report = agent_report  # the reports API's name for it (``reports.routes``)
