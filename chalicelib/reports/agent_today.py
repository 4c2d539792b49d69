"""The agent's own day for the desk: the agents report (``reports.agents``) of one agent, their
local today, by day; its figures as they are, nothing computed anew.

``agent_today(agent_id, now)`` answers ``GET /agents/{agent_id}/today``."""

from __future__ import annotations

from datetime import datetime

from chalicelib.api_errors import NotFound
from chalicelib.facts import zone_of
from chalicelib.reports import agents
from chalicelib.reports.figures import CODE_PREFIX
from chalicelib.store import routing as agents_store


def agent_today(agent_id: str, now: datetime) -> dict:
    """``{"agent_id", "day" (the agent's local date, ISO), "timezone", "handled",
    "talk_seconds", "hold_seconds", "holds", "wrap_up_seconds", "aht_seconds" (None with nothing
    handled), "available_seconds", "reserved_seconds", "break_seconds" (break and away),
    "logged_in_seconds", "occupancy", "utilisation" (0..1 or None), "transfers",
    "dispositions" (how many calls got a code), "disposition_codes": {code: n}}`` so far today
    in the agent's zone (``Agent.timezone``, else UTC; the facts' own rule). Times are whole
    seconds; a state still running counts once it ends. ``NotFound`` for an unknown agent."""
    agent = agents_store.get_agent(agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    zone = agents.zone_of_agent(agent)
    day = now.astimezone(zone_of(zone)).date()
    [totals] = agents.report(day, day, "day", agent_id)["totals"]
    codes = {name[len(CODE_PREFIX):]: n for name, n in totals.items()
             if name.startswith(CODE_PREFIX)}
    figures = {name: value for name, value in totals.items()
               if not name.startswith(CODE_PREFIX)}
    return {**figures, "day": day.isoformat(), "timezone": zone, "disposition_codes": codes}
