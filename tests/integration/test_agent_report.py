"""Agent time from state changes to the agents report: every change records the time spent in
the state left once (however often it is retried or raced), the facts roll up by the agent's
local day, and the report's seconds and shares are exactly what the agent did. DynamoDB Local,
the routing admin API through Chalice's test client on a settable clock."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.api_errors import NotFound
from chalicelib.reports import agents as agents_report
from chalicelib.routing import agent_states
from chalicelib.routing.agents import AgentBook
from chalicelib.routing.model import AgentState
from chalicelib.store import facts, rollups
from chalicelib.store import routing as store
from tests.integration.test_routing_api import (  # noqa: F401 - fixtures
    NOW,
    api,
    new_agent,
    routing,
    set_state,
)

NY = "America/New_York"


def stream_everything(first: date, last: date) -> int:
    """What the stream consumer does, for every stored fact of those UTC days."""
    return sum(rollups.apply_fact(fact) for fact in facts.facts_of_days(first, last))


def at(seconds: int):
    return NOW + timedelta(seconds=seconds)


def test_a_shift_becomes_talk_wrap_up_break_occupancy_and_utilisation(api, routing):  # noqa: F811
    # Given an agent in New York (10:00 local) who logs in, takes a break, takes a call that
    # they transfer, wraps up and logs out
    agent_id = new_agent(api, timezone=NY)
    book = AgentBook()
    for seconds, state in ((0, "available"), (600, "away"), (900, "available")):
        routing.now = at(seconds)
        assert set_state(api, agent_id, state)[0] == 200
    assert book.hold_for(store.get_agent(agent_id), "CA-agent-report", at(1000), "consult")
    assert book.take_call(store.get_agent(agent_id), "CA-agent-report", at(1010), "call")
    assert book.finish_call(agent_id, "CA-agent-report", at(1130), transferred=True)
    assert not book.finish_call(agent_id, "CA-agent-report", at(1131))  # Twilio retried
    assert book.end_wrap_up(store.get_agent(agent_id), at(1160))
    routing.now = at(1200)
    assert set_state(api, agent_id, "offline")[0] == 200

    # When the stream carries the facts (twice: a retried batch adds nothing)
    day = NOW.date()
    stream_everything(day - timedelta(days=1), day + timedelta(days=1))
    stream_everything(day - timedelta(days=1), day + timedelta(days=1))

    # Then one fact per state left, named by the stretch it ends
    talk = facts.get(f"agent:{agent_id}:{at(1010).isoformat()}:on-call")
    assert talk is not None and talk.zone == NY and talk.at == at(1130)
    assert talk.values == {"on_call_seconds": 120, "logged_in_seconds": 120, "handled": 1,
                           "transfers": 1}
    # and the report adds them up exactly
    report = agents_report.report(day, day, "day", agent_id)
    [row] = report["rows"]
    assert row == {
        "agent_id": agent_id, "day": day.isoformat(), "handled": 1, "talk_seconds": 120,
        "hold_seconds": 0, "holds": 0, "wrap_up_seconds": 30, "aht_seconds": 150.0,
        "available_seconds": 600 + 100 + 40, "reserved_seconds": 10, "break_seconds": 300,
        "logged_in_seconds": 1200, "occupancy": round(150 / 900, 4),
        "utilisation": round(150 / 1200, 4), "transfers": 1, "dispositions": 0}
    assert report["totals"] == [{k: v for k, v in row.items() if k != "day"}]
    assert report["ranking"] == [{"rank": 1, "agent_id": agent_id, "handled": 1,
                                  "aht_seconds": 150.0}]
    # by half-hour: all of it in 10:00-10:30 New York time, when each state ended
    halves = agents_report.report(day, day, "half-hour", agent_id)["rows"]
    assert len(halves) == 48
    busy = [r for r in halves if r["logged_in_seconds"]]
    assert [(r["half_hour"], r["logged_in_seconds"]) for r in busy] == [("10:00", 1200)]


def test_a_retried_or_raced_state_change_records_its_time_once(api, routing):  # noqa: F811
    agent_id = new_agent(api)
    routing.now = at(0)
    assert set_state(api, agent_id, "available")[0] == 200
    read = store.get_agent(agent_id)

    # Two Lambdas decide the same change from the same read: one commits, one conflicts
    store.change_agent_state(agent_states.transition(read, AgentState.AWAY, at(60), "break"),
                             AgentState.AVAILABLE, at(60))
    with pytest.raises(store.StateConflict):
        store.change_agent_state(agent_states.transition(read, AgentState.AWAY, at(61), "lunch"),
                                 AgentState.AVAILABLE, at(61))
    # A retried request for a state the agent is in changes nothing
    routing.now = at(90)
    assert set_state(api, agent_id, "away", "break")[0] == 200  # away -> away: a new reason
    assert set_state(api, agent_id, "available")[0] == 200
    assert set_state(api, agent_id, "available")[0] == 200

    # A change decided on a stale read (the agent left and re-entered available meanwhile)
    # conflicts instead of counting the wrong stretch again
    with pytest.raises(store.StateConflict):
        store.change_agent_state(
            agent_states.transition(read, AgentState.OFFLINE, at(120), "logout"),
            AgentState.AVAILABLE, at(120))

    first = facts.get(f"agent:{agent_id}:{at(0).isoformat()}:available")
    assert first is not None and first.values == {"available_seconds": 60,
                                                  "logged_in_seconds": 60}
    day = NOW.date()
    stream_everything(day, day)
    [row] = agents_report.report(day, day, "day", agent_id)["rows"]
    # available 60, away 60 -> 90 (30) and away 90 -> 90 (0)
    assert (row["available_seconds"], row["break_seconds"], row["logged_in_seconds"]) == \
        (60, 30, 90)
    assert row["occupancy"] == 0.0 and row["aht_seconds"] is None


def test_an_unknown_agent_is_not_found(api):  # noqa: F811
    with pytest.raises(NotFound):
        agents_report.report(NOW.date(), NOW.date(), "day", "nobody-here")
