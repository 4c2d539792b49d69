"""The agents report: handled calls, talk / hold / wrap-up, AHT, logged-in and break time,
occupancy and utilisation per agent, by local day or half-hour, read from the rollups of
agent-time facts (``routing.agent_facts``), with each agent's totals and a ranking.

``agent_report(first, last, interval, agent_id=None, page=WHOLE)`` answers
``GET /reports/agents``:

    {"kind": "agents", "from": "2026-11-01", "to": "2026-11-30", "interval": "day",
     "rows": [{"agent_id", "day", "half_hour"?, handled, talk_seconds, ...}],
     "totals": [{"agent_id", handled, talk_seconds, ...}],
     "ranking": [{"rank", "agent_id", "handled", "aht_seconds"}],
     "next": "/reports/agents?...&cursor=..." or None}

Paged by agent id (``reports.cursors``): a page holds whole agents, their rows and their totals
(over the whole range), and reads only their rollups. The ranking is of the page's agents:
ranking every agent would read every agent's rollups on every page; one page (the default
limit holds 10,000 rows: 27 agents for a year by day, 333 for a month) ranks them all, and
``manage.py reports export`` ranks the concatenated totals again.

Days are each agent's own local days (``Agent.timezone``, else UTC); a state's time counts on
the day and in the half-hour it ended. Every day (or half-hour) of the range is a row, zeros
where nothing happened. Cost as the queues report's. ``NotFound`` for an unknown agent;
``InvalidRequest`` for an unknown interval or a range longer than it allows.
"""

from __future__ import annotations

from datetime import date

from chalicelib.api_errors import NotFound
from chalicelib.facts import zone_of
from chalicelib.reports import grid
from chalicelib.reports.agent_figures import AGENT_COLUMNS, agent_figures, ranking
from chalicelib.reports.cursors import WHOLE, Page
from chalicelib.reports.figures import disposition_columns, every_code
from chalicelib.routing.model import DEFAULT_ZONE, Agent
from chalicelib.store import routing as agents_store

TARGET = "agent"  # the query parameter naming one agent
PAGED = True  # report() takes page= (reports.cursors)
INTERVALS = ("day", "half-hour")
MAX_DAYS = {"day": 366, "half-hour": 31}
TOTAL_COLUMNS = ["agent_id", *AGENT_COLUMNS]


def zone_of_agent(agent: Agent) -> str:
    """The zone the agent's days are counted in: theirs, else (unset or unknown) UTC."""
    try:
        zone_of(agent.timezone or DEFAULT_ZONE)
    except ValueError:
        return DEFAULT_ZONE  # as the facts count it (``routing.agent_facts``)
    return agent.timezone or DEFAULT_ZONE


def agent_report(first: date, last: date, interval: str = "day",
                 agent_id: str | None = None, page: Page = WHOLE) -> dict:
    days = grid.days_of(first, last, interval, MAX_DAYS)
    if agent_id is not None:
        agent = agents_store.get_agent(agent_id)
        if agent is None:
            raise NotFound("agent", agent_id)
        agents = [agent]
    else:
        agents = agents_store.agents()
    members, after = grid.paged([(a.agent_id, zone_of_agent(a)) for a in agents], days,
                                interval, page)
    rows, summed = grid.scope_rows("agent", "agent_id", members, days, interval, agent_figures)
    totals = [{"agent_id": ident, **agent_figures(summed[ident])} for ident, _ in members]
    every_code(rows, totals)
    return {"kind": "agents", "from": first.isoformat(), "to": last.isoformat(),
            "interval": interval, "rows": rows, "totals": totals,
            "ranking": ranking(totals), "next": page.next_path(after)}


def columns(report: dict) -> list[str]:
    """The rows' columns: ``agent_id, day[, half_hour], <AGENT_COLUMNS>``, then a
    ``disposition_<code>`` column for each code the report's calls were given."""
    half = ["half_hour"] if report["interval"] == "half-hour" else []
    return ["agent_id", "day", *half, *AGENT_COLUMNS, *disposition_columns(report["totals"])]


def total_columns(report: dict) -> list[str]:
    """The totals' columns: ``TOTAL_COLUMNS`` and the report's disposition codes."""
    return TOTAL_COLUMNS + disposition_columns(report["totals"])


report = agent_report  # the reports API's name for it (``reports.routes``)
