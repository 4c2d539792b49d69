"""A finished wrap-up ends when a caller needs the agent, not at the next minute's sweep, and
the reports count the wrap-up the agent had, however late it was noticed; an offer the caller
ended while it rang is no miss of the agent's. DynamoDB Local; Twilio's edge faked."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chalicelib.routing.model import AgentState, WaitingCaller
from chalicelib.store import calls, facts, routing
from chalicelib.wiring import Root, install
from tests.integration.conftest import OPEN_HOURS
from tests.integration.test_queue_calls import support_queue  # noqa: F401 - the fixture
from tests.support import FakeTwilio


def wrapping_up(agent, since, seconds: int):
    """``agent`` on a call until ``since``, then in wrap-up for ``seconds``."""
    agent = routing.get_agent(agent.agent_id)
    agent.wrap_up_seconds = seconds
    routing.save_agent_profile(agent, OPEN_HOURS)
    stored = routing.get_agent(agent.agent_id)
    stored.state, stored.state_since = AgentState.WRAP_UP, since
    routing.change_agent_state(stored, AgentState.AVAILABLE, since)  # as the fixture left it
    return routing.get_agent(agent.agent_id)


def test_a_waiting_caller_gets_an_agent_whose_wrap_up_is_over(support_queue):  # noqa: F811
    first, second = support_queue
    ended_call = OPEN_HOURS
    for agent in (first, second):
        wrapping_up(agent, ended_call, 30)
    # a caller is waiting; 75 s after the calls ended nobody has swept yet
    now = ended_call + timedelta(seconds=75)
    edge = FakeTwilio()
    previous = install(Root(clock=lambda: now, connector=edge))
    try:
        caller = WaitingCaller("CA" + "9" * 32, "support", "+14155550196", now)
        routing.join_queue(caller)
        # When a dispatch round runs (a hold-music request does one)
        assert Root(clock=lambda: now, connector=edge).routing.dispatch("support") == 1
    finally:
        install(previous)
    # Then one agent is offered the caller at once, and both are out of wrap-up
    states = sorted(routing.get_agent(a.agent_id).state.value for a in (first, second))
    assert states == ["available", "reserved"]
    # and each wrap-up counts the 30 s it was, not the 75 s until it was noticed
    for agent in (first, second):
        fact = facts.get(f"agent:{agent.agent_id}:{ended_call.isoformat()}:wrap-up")
        assert fact is not None and fact.values["wrap_up_seconds"] == 30
        assert fact.at == ended_call + timedelta(seconds=30)


@pytest.mark.parametrize(("status", "state", "misses"), [
    ("canceled", "available", 0),  # the caller hung up while the agent's phone rang
    ("no-answer", "available", 1),  # the agent let it ring out
])
def test_only_an_offer_the_agent_let_ring_out_is_a_miss(support_queue, status, state,  # noqa: F811
                                                        misses):
    ringing, _ = support_queue
    sid = "CA" + uuid.uuid4().hex
    step = calls.StepOutcome("main", 1, "en-US", "agent_queue", ["agent_queue"], {}, {}, {},
                             "<Response/>", None)
    calls.start_call(calls.NewCall(sid, "+14155550100", "+14155550197", "inbound", None, {}),
                     step, now=OPEN_HOURS, retention_days=1)
    key = routing.join_queue(WaitingCaller(sid, "support", "+14155550197", OPEN_HOURS))
    assert calls.set_queue_entry(sid, "support", key)
    assert routing.reserve(routing.get_entry("support", key), [ringing], OPEN_HOURS, 45)
    service = Root(clock=lambda: OPEN_HOURS, connector=FakeTwilio()).routing
    service.dialed_twiml("support", sid, {"DialCallStatus": status})
    agent = routing.get_agent(ringing.agent_id)
    assert (agent.state.value, agent.missed_in_row) == (state, misses)
