"""The agent's own day on the desk (``GET /agents/{id}/today``): the agents report of that agent
for their local today, its figures unchanged. DynamoDB Local; facts rolled up as the stream
would."""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.facts import Fact
from chalicelib.routing.agent_facts import hold_time, time_in_state
from chalicelib.routing.model import Agent, AgentState, Endpoint
from chalicelib.store import facts, rollups, routing
from tests.integration.conftest import OPEN_HOURS  # 15:00 UTC: 10:00 in New York
from tests.integration.test_reports import get

NY = "America/New_York"
AGENT = "ag-today"


def record(*made: Fact | None) -> None:
    for fact in made:
        assert fact is not None
        facts.record(fact)
        rollups.apply_fact(fact)


def test_the_desk_shows_the_agents_own_figures_for_their_local_today(client):
    routing.save_agent_profile(Agent(AGENT, "Today", Endpoint("client", AGENT), timezone=NY),
                               OPEN_HOURS)
    morning = OPEN_HOURS - timedelta(hours=4)  # 06:00 in New York
    record(time_in_state(AGENT, NY, AgentState.AVAILABLE, morning, morning + timedelta(minutes=10)),
           time_in_state(AGENT, NY, AgentState.ON_CALL, morning + timedelta(minutes=10),
                         morning + timedelta(minutes=15)),
           hold_time(AGENT, NY, "CAtoday", morning + timedelta(minutes=11),
                     morning + timedelta(minutes=12)),
           time_in_state(AGENT, NY, AgentState.WRAP_UP, morning + timedelta(minutes=15),
                         morning + timedelta(minutes=15, seconds=30)),
           time_in_state(AGENT, NY, AgentState.AWAY, morning + timedelta(minutes=20),
                         morning + timedelta(minutes=22)),
           Fact(f"disposition:CAtoday:{AGENT}:agent", "disposition", morning, NY,
                {"agent": AGENT}, {"dispositions": 1, "disposition_resolved": 1}))
    # the same UTC day, but yesterday evening in New York: not today's
    evening = OPEN_HOURS.replace(hour=2)  # 21:00 the day before in New York
    record(time_in_state(AGENT, NY, AgentState.ON_CALL, evening - timedelta(minutes=5), evening))

    status, _, body = get(client, f"/agents/{AGENT}/today")
    assert status == 200, body
    day = json.loads(body)
    assert (day["agent_id"], day["day"], day["timezone"]) == (AGENT, "2026-11-23", NY)
    assert (day["handled"], day["talk_seconds"], day["hold_seconds"], day["holds"],
            day["wrap_up_seconds"], day["aht_seconds"]) == (1, 240, 60, 1, 30, 330.0)
    assert (day["available_seconds"], day["break_seconds"], day["logged_in_seconds"]) == (
        600, 120, 600 + 300 + 30 + 120)
    assert day["occupancy"] == round(330 / (600 + 330), 4)
    assert (day["dispositions"], day["disposition_codes"]) == (1, {"resolved": 1})
    # the agents report says the same (no arithmetic of its own)
    _, _, text = get(client, f"/reports/agents?from=2026-11-23&to=2026-11-23&agent={AGENT}")
    [total] = json.loads(text)["totals"]
    assert {k: v for k, v in total.items() if k != "disposition_resolved"} == {
        k: v for k, v in day.items() if k not in ("day", "timezone", "disposition_codes")}


def test_an_unknown_agent_has_no_day(client):
    assert get(client, "/agents/nobody-here/today")[0] == 404
    assert get(client, "/agents/not%20an%20id/today")[0] == 404
