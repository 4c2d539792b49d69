"""Routing figures for ``make bench`` (run from ``tests/bench/run.py`` against DynamoDB Local).

* routing decisions per second with 200 agents and 1,000 waiting callers across 10 queues, and
  DynamoDB requests per routed call (Twilio replaced by a connector that records redirects);
* a concurrent stress run: threads join callers, dispatch and free agents at once, and every
  reservation is checked against who holds each agent — double assignments must print 0.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig, WaitingCaller
from chalicelib.store import routing
from chalicelib.wiring import Root

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class RecordingConnector:
    def __init__(self):
        self.redirects: list[str] = []
        self.lock = threading.Lock()

    def redirect(self, call_sid: str, url: str) -> None:
        with self.lock:
            self.redirects.append(call_sid)


def _agents(prefix: str, queue_id: str, count: int) -> list[Agent]:
    agents = []
    for i in range(count):
        agent = Agent(f"{prefix}-{queue_id}-{i:03d}", f"Agent {i}",
                      Endpoint("phone", "+14155550150"),
                      queues={queue_id: 1})
        routing.save_agent_profile(agent, NOW)
        agents.append(agent)
    return agents


def _make_available(agent: Agent, expected: AgentState, at: datetime) -> None:
    agent.state, agent.state_since, agent.idle_since, agent.state_reason = (
        AgentState.AVAILABLE, at, at, "bench")
    routing.change_agent_state(agent, expected, at)


def _callers(queue_id: str, count: int, start: datetime) -> None:
    for i in range(count):
        routing.join_queue(WaitingCaller("CA" + uuid.uuid4().hex, queue_id, f"+1415555{i:04d}",
                                         start + timedelta(milliseconds=i)))


def throughput(counter) -> None:
    run = uuid.uuid4().hex[:6]
    queues = [f"bq{run}{q}" for q in range(10)]
    agents = {}
    for queue_id in queues:
        routing.save_queue(QueueConfig(queue_id, queue_id), NOW)
        agents[queue_id] = _agents("ba", queue_id, 20)
        _callers(queue_id, 100, NOW)
    connector = RecordingConnector()
    service = Root(clock=lambda: NOW, connector=connector).routing
    routed = 0
    requests = 0
    elapsed = 0.0
    for round_no in range(5):  # 5 rounds x 200 agents = the 1,000 callers
        for queue_id in queues:
            for agent in agents[queue_id]:
                current = routing.get_agent(agent.agent_id)
                _make_available(current, current.state, NOW + timedelta(seconds=round_no))
        for queue_id in queues:
            before_requests = counter.count
            started = time.perf_counter()
            routed += service.dispatch(queue_id)
            elapsed += time.perf_counter() - started
            requests += counter.count - before_requests
            for entry in routing.queue_entries(queue_id):
                if entry.status == "reserved":
                    routing.leave_queue(queue_id, entry.entry_key)  # served
    print(f"routing: {routed} calls routed in {elapsed:.2f} s of dispatch = "
          f"{routed / elapsed:,.0f} routing decisions/s (200 agents, 1,000 callers, 10 queues)")
    print(f"routing: DynamoDB requests per routed call: {requests / routed:.2f}")


def stress(threads: int = 8, seconds: float = 8.0) -> None:
    run = uuid.uuid4().hex[:6]
    queue_id = f"stress{run}"
    routing.save_queue(QueueConfig(queue_id, queue_id), NOW)
    agents = _agents("st", queue_id, 12)
    for agent in agents:
        _make_available(agent, AgentState.OFFLINE, NOW)
    holder: dict[str, str | None] = {a.agent_id: None for a in agents}
    served: dict[str, int] = {}
    lock = threading.Lock()
    doubles = [0]
    reservations = [0]
    deadline = time.monotonic() + seconds

    class CheckingConnector:
        def redirect(self, call_sid: str, url: str) -> None:
            entry = next((e for e in routing.queue_entries(queue_id) if e.call_sid == call_sid),
                         None)
            with lock:
                reservations[0] += 1
                served[call_sid] = served.get(call_sid, 0) + 1
                if served[call_sid] > 1:
                    doubles[0] += 1
                for agent_id in entry.reserved_agents if entry else []:
                    if holder[agent_id] is not None:
                        doubles[0] += 1
                    holder[agent_id] = call_sid

    service = Root(clock=lambda: NOW, connector=CheckingConnector()).routing

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            action = rng.random()
            if action < 0.35:
                _callers(queue_id, rng.randint(1, 3), NOW + timedelta(seconds=rng.random()))
            elif action < 0.7:
                service.dispatch(queue_id)
            else:  # an agent finishes: the caller leaves the line, the agent is free again
                with lock:
                    busy = [a for a, call in holder.items() if call is not None]
                    if not busy:
                        continue
                    agent_id = rng.choice(busy)
                    call_sid = holder[agent_id]
                    holder[agent_id] = None
                for entry in routing.queue_entries(queue_id):
                    if entry.call_sid == call_sid:
                        routing.leave_queue(queue_id, entry.entry_key)
                _make_available(routing.get_agent(agent_id), AgentState.RESERVED, NOW)

    pool = [threading.Thread(target=worker, args=(seed,)) for seed in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    print(f"stress: {threads} threads for {seconds:.0f} s, {reservations[0]} reservations, "
          f"double assignments: {doubles[0]}")
