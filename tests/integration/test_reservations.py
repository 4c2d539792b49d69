"""The reservation under concurrency, on DynamoDB Local: many dispatchers, no double booking."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

from chalicelib.routing.model import Agent, AgentState, Endpoint, WaitingCaller
from chalicelib.store import routing
from chalicelib.store.models import AgentItem

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def make_agent(queue_id: str, state=AgentState.AVAILABLE) -> Agent:
    agent = Agent(f"ag-{uuid.uuid4().hex[:8]}", "Agent", Endpoint("phone", "+14155550150"),
                  queues={queue_id: 1})
    routing.save_agent_profile(agent, NOW)
    if state is not AgentState.OFFLINE:
        agent.state = state
        agent.state_since = NOW
        agent.state_reason = "test"
        routing.change_agent_state(agent, AgentState.OFFLINE, NOW)
    return agent


def make_caller(queue_id: str, i: int) -> WaitingCaller:
    return WaitingCaller(call_sid="CA" + uuid.uuid4().hex, queue_id=queue_id,
                         caller=f"+1415555{i:04d}", joined_at=NOW + timedelta(seconds=i))


def test_the_line_is_ordered_by_priority_then_join_time_and_joins_are_idempotent():
    queue_id = "q-" + uuid.uuid4().hex[:8]
    first, second, vip = (make_caller(queue_id, i) for i in range(3))
    vip.priority = 10
    # joined in time order (tickets follow it), the VIP last, then first's join retried
    for caller in (first, second, vip, first):  # the repeated join keeps one place
        routing.join_queue(caller)
    line = routing.queue_entries(queue_id)
    assert [e.call_sid for e in line] == [vip.call_sid, first.call_sid, second.call_sid]
    assert routing.position_in_line(queue_id, routing.entry_key(second)) == 3


def test_concurrent_dispatchers_never_double_book_an_agent_or_a_caller():
    # Given 6 available agents and 12 waiting callers in one queue
    queue_id = "q-" + uuid.uuid4().hex[:8]
    agents = [make_agent(queue_id) for _ in range(6)]
    for i in range(12):
        routing.join_queue(make_caller(queue_id, i))
    wins: list[tuple[str, str]] = []
    lock = threading.Lock()

    def dispatcher(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(15):
            waiting = [e for e in routing.queue_entries(queue_id) if e.status == "waiting"]
            if not waiting:
                return
            entry = rng.choice(waiting[:3])  # everyone fights over the head of the line
            agent = rng.choice(agents)
            if routing.reserve(entry, [agent], NOW, hold_seconds=30):
                with lock:
                    wins.append((agent.agent_id, entry.call_sid))

    # When 12 dispatchers race with stale views of the line
    threads = [threading.Thread(target=dispatcher, args=(seed,)) for seed in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Then each agent was reserved once at most, each caller once at most, and the stored state
    # agrees with the winners
    assert len(wins) == 6
    assert len({agent for agent, _ in wins}) == len(wins)
    assert len({call for _, call in wins}) == len(wins)
    for agent_id, call_sid in wins:
        item = AgentItem.get(agent_id, consistent_read=True)
        assert item.state == "reserved" and item.reserved_call == call_sid
    reserved = [e for e in routing.queue_entries(queue_id) if e.status == "reserved"]
    assert sorted(e.call_sid for e in reserved) == sorted(call for _, call in wins)
    assert all(len(e.reserved_agents) == 1 for e in reserved)


def test_ring_all_reserves_every_offered_agent_or_none():
    queue_id = "q-" + uuid.uuid4().hex[:8]
    free, busy = make_agent(queue_id), make_agent(queue_id, AgentState.AWAY)
    routing.join_queue(make_caller(queue_id, 1))
    entry = routing.queue_entries(queue_id)[0]
    assert not routing.reserve(entry, [free, busy], NOW, 30)
    assert AgentItem.get(free.agent_id, consistent_read=True).state == "available"
    assert routing.queue_entries(queue_id)[0].status == "waiting"
    other = make_agent(queue_id)
    assert routing.reserve(entry, [free, other], NOW, 30)
    assert routing.release_entry(routing.queue_entries(queue_id)[0])
    assert routing.queue_entries(queue_id)[0].status == "waiting"


def test_a_state_change_is_conditional_and_leaves_a_history():
    queue_id = "q-" + uuid.uuid4().hex[:8]
    agent = make_agent(queue_id)
    agent.state, agent.state_reason = AgentState.AWAY, "lunch"
    routing.change_agent_state(agent, AgentState.AVAILABLE, NOW + timedelta(minutes=5))
    agent.state = AgentState.OFFLINE
    try:
        routing.change_agent_state(agent, AgentState.AVAILABLE, NOW)
        raise AssertionError("a stale expected state must be refused")
    except routing.StateConflict:
        pass
    history = routing.agent_history(agent.agent_id)
    assert [(e.state, e.reason) for e in history][:2] == [("away", "lunch"), ("available", "test")]
    assert [a.agent_id for a in routing.queue_agents(queue_id)] == [agent.agent_id]
