"""Issue 14: a queue's agent counts stay equal to its agents' states (in the same transactions,
under races), webhooks read them instead of every agent, the sweeper reads only what is due,
and one dispatcher runs a queue at a time. DynamoDB Local, no mocks."""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from datetime import timedelta

from pynamodb.connection.base import Connection

from chalicelib.calls.model import Call
from chalicelib.routing import agent_states
from chalicelib.routing.agents import AgentBook
from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig, WaitingCaller
from chalicelib.store import calls, dispatch_lease, presence, routing
from chalicelib.store.models import QueueDay
from chalicelib.wiring import Root
from tests.integration.conftest import OPEN_HOURS

S = AgentState


class Redirects:
    def __init__(self):
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def redirect(self, call_sid: str, url: str) -> None:
        with self.lock:
            self.calls.append(call_sid)


class Requests:
    """Every DynamoDB request made inside the block: (operation, its arguments as JSON)."""

    def __enter__(self):
        self.seen: list[tuple[str, str]] = []
        self.original = Connection.dispatch
        seen = self.seen
        original = self.original

        def counting(conn, operation_name, operation_kwargs):
            seen.append((operation_name, json.dumps(operation_kwargs, default=str)))
            return original(conn, operation_name, operation_kwargs)

        Connection.dispatch = counting  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc):
        Connection.dispatch = self.original  # type: ignore[method-assign]


def new_queue(**config) -> str:
    queue_id = f"pq-{uuid.uuid4().hex[:8]}"
    routing.save_queue(QueueConfig(queue_id, queue_id, **config), OPEN_HOURS)
    return queue_id


def new_agents(queues: dict[str, int], count: int, wrap_up: int = 30) -> list[Agent]:
    agents = []
    for _ in range(count):
        agent = Agent(f"ag-p{uuid.uuid4().hex[:8]}", "Agent", Endpoint("phone", "+14155550150"),
                      queues=dict(queues), wrap_up_seconds=wrap_up)
        routing.save_agent_profile(agent, OPEN_HOURS)
        agents.append(agent)
    return agents


def move(agent_id: str, state: AgentState, at=OPEN_HOURS) -> bool:
    agent = routing.get_agent(agent_id)
    return AgentBook.change(agent_states.transition(agent, state, at, "test"), agent.state, at)


def truth(queue_id: str) -> Counter:
    return Counter(agent.state for agent in routing.queue_agents(queue_id))


def counted(queue_id: str) -> Counter:
    found = routing.queue_presence(queue_id)
    return Counter({state: found[state] for state in S if found[state]})


def test_counts_follow_every_kind_of_agent_change():
    first, second = new_queue(), new_queue()
    a, b, c = new_agents({first: 1}, 3)
    assert counted(first) == Counter({S.OFFLINE: 3})
    move(a.agent_id, S.AVAILABLE)
    move(b.agent_id, S.AVAILABLE)
    move(c.agent_id, S.AVAILABLE)
    move(c.agent_id, S.AWAY)
    assert counted(first) == truth(first) == Counter({S.AVAILABLE: 2, S.AWAY: 1})
    # a reservation of two agents at once (ring-all), in one transaction
    routing.join_queue(WaitingCaller("CA" + uuid.uuid4().hex, first, "+14155550100",
                                     OPEN_HOURS))
    entry = routing.queue_entries(first)[0]
    assert routing.reserve(entry, routing.get_agents([a.agent_id, b.agent_id]), OPEN_HOURS, 45)
    assert counted(first) == truth(first) == Counter({S.RESERVED: 2, S.AWAY: 1})
    # the agent joins a second queue and leaves the first, in state
    agent = routing.get_agent(a.agent_id)
    agent.queues = {second: 1}
    routing.save_agent_profile(agent, OPEN_HOURS)
    assert counted(first) == truth(first) == Counter({S.RESERVED: 1, S.AWAY: 1})
    assert counted(second) == truth(second) == Counter({S.RESERVED: 1})
    # a chain of moves in one write: reserved -> available -> away (missed too often)
    agent = routing.get_agent(b.agent_id)
    missed = agent_states.record_miss(agent, OPEN_HOURS, 1)
    assert AgentBook.change(missed, S.RESERVED, OPEN_HOURS)
    assert counted(first) == truth(first) == Counter({S.AWAY: 2})


def test_a_change_read_before_a_profile_save_is_refused_not_miscounted():
    first, second = new_queue(), new_queue()
    (agent,) = new_agents({first: 1}, 1)
    stale = routing.get_agent(agent.agent_id)
    moved = routing.get_agent(agent.agent_id)
    moved.queues = {second: 1}
    routing.save_agent_profile(moved, OPEN_HOURS)
    assert not AgentBook.change(agent_states.transition(stale, S.AVAILABLE, OPEN_HOURS),
                                S.OFFLINE, OPEN_HOURS)
    assert move(agent.agent_id, S.AVAILABLE)
    assert counted(first) == truth(first) == Counter()
    assert counted(second) == truth(second) == Counter({S.AVAILABLE: 1})


def test_counts_stay_exact_when_agents_change_at_once():
    queue_id = new_queue()
    agents = new_agents({queue_id: 1}, 12)
    cycle = {S.OFFLINE: S.AVAILABLE, S.AVAILABLE: S.AWAY, S.AWAY: S.AVAILABLE}

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(15):
            agent = routing.get_agent(rng.choice(agents).agent_id)
            AgentBook.change(agent_states.transition(agent, cycle[agent.state], OPEN_HOURS),
                             agent.state, OPEN_HOURS)  # False when another thread won

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counted(queue_id) == truth(queue_id)
    assert sum(counted(queue_id).values()) == 12


def test_counts_are_taken_from_the_agents_once_for_a_queue_from_before():
    queue_id = new_queue()
    agents = new_agents({queue_id: 1}, 3)
    move(agents[0].agent_id, S.AVAILABLE)
    for shard in range(presence.SHARDS):  # as written before the counts existed
        QueueDay(queue_id, f"agents#{shard}").delete()
    assert counted(queue_id) == Counter({S.AVAILABLE: 1, S.OFFLINE: 2})
    move(agents[1].agent_id, S.AVAILABLE)
    assert counted(queue_id) == truth(queue_id) == Counter({S.AVAILABLE: 2, S.OFFLINE: 1})


def caller_in(queue_id: str) -> Call:
    sid = "CA" + uuid.uuid4().hex
    call = calls.NewCall(sid, "+14155550100", "+14155550177", "inbound", None, {})
    step = calls.StepOutcome(
        flow_id="main", flow_version=1, language="en-US", node="agent_queue",
        visited=["agent_queue"], vars={}, attempts={}, inputs={}, twiml="<Response/>",
        outcome=None)
    return calls.start_call(call, step, now=OPEN_HOURS, retention_days=30)


def test_join_and_hold_read_the_same_whatever_the_number_of_agents():
    """With every agent busy, the admission check and a hold request make the same requests at
    3 or 40 agents, and none reads an agent."""
    figures = []
    for size in (3, 40):
        queue_id = new_queue(max_size=50)
        for agent in new_agents({queue_id: 1}, size):
            move(agent.agent_id, S.AVAILABLE)
            move(agent.agent_id, S.AWAY)
        routing.queue_presence(queue_id)  # (a queue's first read takes its counts, once)
        service = Root(clock=lambda: OPEN_HOURS, connector=Redirects()).routing
        record = caller_in(queue_id)
        service.join(record, queue_id, "en", "US")
        record = calls.get_call(record.call_sid)
        with Requests() as seen:
            assert service.overflow_reason(queue_id) is None
            held = service.hold(record)
        assert held["line"] == {"queue_position": 1}, "nobody staffed: no estimate"
        figures.append(Counter(operation for operation, _ in seen.seen))
        read_agents = [args for _, args in seen.seen
                       if '-agents"' in args or '-queue_members"' in args]
        assert not read_agents, "a webhook read the queue's agents"
    assert figures[0] == figures[1]


def test_the_sweep_reads_only_what_is_due_and_repairs_it():
    idle = [new_queue() for _ in range(5)]
    for queue_id in idle:
        for agent in new_agents({queue_id: 1}, 2):
            move(agent.agent_id, S.AVAILABLE)
    busy = new_queue()
    ringing, wrapping = new_agents({busy: 1}, 2, wrap_up=30)
    for agent in (ringing, wrapping):
        move(agent.agent_id, S.AVAILABLE)
    move(wrapping.agent_id, S.RESERVED)
    move(wrapping.agent_id, S.ON_CALL)
    move(wrapping.agent_id, S.WRAP_UP)
    routing.join_queue(WaitingCaller("CA" + uuid.uuid4().hex, busy, "+14155550100",
                                     OPEN_HOURS))
    entry = routing.queue_entries(busy)[0]
    assert routing.reserve(entry, [routing.get_agent(ringing.agent_id)], OPEN_HOURS, 45)
    later = OPEN_HOURS + timedelta(minutes=2)
    connector = Redirects()
    service = Root(clock=lambda: later, connector=connector).routing
    with Requests() as seen:
        report = service.sweep()
    assert report["reservations_expired"] >= 1 and report["wrap_up_ended"] >= 1
    assert routing.get_agent(ringing.agent_id).missed_in_row == 1
    assert routing.get_agent(wrapping.agent_id).state is not S.WRAP_UP
    # the caller was put back in line and offered again to a free agent of the queue
    assert entry.call_sid in connector.calls
    for queue_id in idle:
        assert not any(queue_id in args for _, args in seen.seen), "an idle queue was read"
    assert counted(busy) == truth(busy)


def test_a_busy_queue_is_asked_for_another_round_not_raced():
    queue_id = new_queue()
    (agent,) = new_agents({queue_id: 1}, 1)
    move(agent.agent_id, S.AVAILABLE)
    routing.join_queue(WaitingCaller("CA" + uuid.uuid4().hex, queue_id, "+14155550100",
                                     OPEN_HOURS))
    service = Root(clock=lambda: OPEN_HOURS, connector=Redirects()).routing
    holder = dispatch_lease.take(queue_id, OPEN_HOURS)
    assert holder is not None
    assert service.dispatch(queue_id) == 0, "another request holds the queue: no second round"
    assert not dispatch_lease.release(queue_id, holder), "it was asked for one more round"
    assert dispatch_lease.release(queue_id, holder)
    assert service.dispatch(queue_id) == 1
    # a holder that died frees the queue when its lease runs out
    assert dispatch_lease.take(queue_id, OPEN_HOURS) is not None
    later = OPEN_HOURS + timedelta(seconds=dispatch_lease.LEASE_SECONDS + 1)
    assert dispatch_lease.take(queue_id, later) is not None


def test_eight_dispatchers_on_one_queue_never_double_book_and_seldom_collide():
    queue_id = new_queue()
    agents = new_agents({queue_id: 1}, 10)
    for agent in agents:
        move(agent.agent_id, S.AVAILABLE)
    for i in range(10):
        routing.join_queue(WaitingCaller("CA" + uuid.uuid4().hex, queue_id, f"+1415555{i:04d}",
                                         OPEN_HOURS + timedelta(milliseconds=i)))
    routing.queue_presence(queue_id)  # (a queue's first read takes its counts, once)
    connector = Redirects()
    service = Root(clock=lambda: OPEN_HOURS, connector=connector).routing
    cancelled = Counter()
    original = Connection.dispatch

    def watching(conn, operation_name, operation_kwargs):
        try:
            return original(conn, operation_name, operation_kwargs)
        except Exception:
            cancelled[operation_name] += 1
            raise

    Connection.dispatch = watching  # type: ignore[method-assign]
    try:
        threads = [threading.Thread(target=service.dispatch, args=(queue_id,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        Connection.dispatch = original  # type: ignore[method-assign]
    assert sorted(connector.calls) == sorted(set(connector.calls)), "a caller offered twice"
    assert len(connector.calls) == 10, "every caller offered once, by the lease holder's rounds"
    assert cancelled["TransactWriteItems"] == 0
    assert counted(queue_id) == truth(queue_id) == Counter({S.RESERVED: 10})
