"""The agent-time fact of a state change, and the agents report's figures (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.reports.agent_figures import agent_figures, ranking
from chalicelib.routing import agent_facts, agent_states
from chalicelib.routing.model import Agent, AgentState, Endpoint

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def agent(state: AgentState, **fields) -> Agent:
    return Agent("a-7", "Ada", Endpoint("phone", "+14155550100"), state=state, state_since=T0,
                 **fields)


def test_leaving_a_state_counts_its_seconds_under_its_name_and_logged_in():
    moved = agent_states.transition(agent(AgentState.WRAP_UP), AgentState.AVAILABLE,
                                    T0 + timedelta(seconds=30.4), "done")
    fact = agent_facts.state_left(moved, moved.state_since)
    assert fact is not None
    assert fact.fact_id == f"agent:a-7:{T0.isoformat()}:wrap-up"
    assert (fact.kind, fact.at, fact.zone, dict(fact.scopes)) == \
        ("agent_time", T0 + timedelta(seconds=30.4), "UTC", {"agent": "a-7"})
    assert fact.values == {"wrap_up_seconds": 30, "logged_in_seconds": 30}
    fact.check()


def test_leaving_on_call_is_a_handled_call_and_a_transfer_when_handed_on():
    moved = agent_states.after_call(agent(AgentState.ON_CALL, timezone="Asia/Shanghai"),
                                    T0 + timedelta(seconds=95))
    fact = agent_facts.state_left(moved, T0 + timedelta(seconds=95), transferred=True)
    assert fact is not None and fact.zone == "Asia/Shanghai"
    assert fact.values == {"on_call_seconds": 95, "logged_in_seconds": 95, "handled": 1,
                           "transfers": 1}
    plain = agent_facts.state_left(moved, T0 + timedelta(seconds=95))
    assert plain is not None and "transfers" not in plain.values


def test_offline_an_unmoved_agent_and_an_unknown_zone():
    logged_in = agent_states.transition(agent(AgentState.OFFLINE), AgentState.AVAILABLE, T0)
    assert agent_facts.state_left(logged_in, T0) is None  # offline time is not counted
    assert agent_facts.state_left(agent(AgentState.AVAILABLE), T0) is None  # nothing left
    odd = agent_states.transition(agent(AgentState.AVAILABLE, timezone="Mars/Olympus"),
                                  AgentState.AWAY, T0 + timedelta(seconds=5))
    fact = agent_facts.state_left(odd, T0 + timedelta(seconds=5))
    assert fact is not None and fact.zone == "UTC"
    assert fact.values == {"available_seconds": 5, "logged_in_seconds": 5}


def test_a_chain_of_moves_leaves_the_stored_state():
    # reserved -> available -> away in one write (a third miss): the time was spent reserved
    moved = agent_states.record_miss(agent(AgentState.RESERVED, missed_in_row=2),
                                     T0 + timedelta(seconds=20), max_misses=3)
    assert moved.state is AgentState.AWAY
    assert (moved.left_state, moved.left_since) == (AgentState.RESERVED, T0)
    fact = agent_facts.state_left(moved, T0 + timedelta(seconds=20))
    assert fact is not None and fact.values == {"reserved_seconds": 20, "logged_in_seconds": 20}


def test_a_long_agent_id_still_makes_a_short_fact_id():
    fact = agent_facts.time_in_state("x" * 300, None, AgentState.AVAILABLE, T0,
                                     T0 + timedelta(seconds=1))
    assert fact is not None and len(fact.fact_id) <= 200
    fact.check()


def test_figures_split_handle_time_and_share_busy_time():
    figures = agent_figures({"handled": 2, "on_call_seconds": 300, "wrap_up_seconds": 60,
                             "available_seconds": 520, "reserved_seconds": 20,
                             "away_seconds": 100, "logged_in_seconds": 1000, "transfers": 1})
    assert figures == {
        "handled": 2, "talk_seconds": 300, "hold_seconds": 0, "holds": 0, "wrap_up_seconds": 60,
        "aht_seconds": 180.0, "available_seconds": 520, "reserved_seconds": 20,
        "break_seconds": 100, "logged_in_seconds": 1000, "occupancy": 0.4,
        "utilisation": 0.36, "transfers": 1, "dispositions": 0}
    held = agent_figures({"handled": 2, "on_call_seconds": 300, "wrap_up_seconds": 60,
                          "hold_seconds": 45, "holds": 2})
    # hold is part of the on-call time: talk shrinks, AHT stays (talk + hold + wrap-up)
    assert (held["talk_seconds"], held["hold_seconds"], held["holds"], held["aht_seconds"]) \
        == (255, 45, 2, 180.0)
    empty = agent_figures({})
    assert (empty["aht_seconds"], empty["occupancy"], empty["utilisation"]) == (None, None, None)


def test_ranking_most_handled_first_then_shorter_aht():
    totals = [{"agent_id": "c", "handled": 0, "aht_seconds": None},
              {"agent_id": "b", "handled": 5, "aht_seconds": 200.0},
              {"agent_id": "a", "handled": 5, "aht_seconds": 150.0},
              {"agent_id": "d", "handled": 7, "aht_seconds": 400.0}]
    assert [(r["rank"], r["agent_id"]) for r in ranking(totals)] == \
        [(1, "d"), (2, "a"), (3, "b"), (4, "c")]


def test_a_hold_fact_counts_the_seconds_held_for_the_agent_who_held():
    fact = agent_facts.hold_time("ag1", "America/New_York", "CA" + "1" * 32, T0,
                                 T0 + timedelta(seconds=44.6))
    fact.check()
    assert (fact.kind, fact.scopes, fact.values) == (
        "agent_hold", {"agent": "ag1"}, {"hold_seconds": 45, "holds": 1})
    assert fact.fact_id == f"hold:CA{'1' * 32}:{T0.isoformat()}" and fact.at > T0
    assert agent_facts.hold_time("ag1", "Not/AZone", "CA1", T0, T0).zone == "UTC"
