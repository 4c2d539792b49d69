"""The real routing code against Erlang C, on a simulated clock.

Poisson arrivals, exponential handle times, N interchangeable agents, one longest-idle FIFO queue,
no abandonment, no wrap-up: the textbook M/M/N queue, whose service level and ASA Erlang C gives
exactly. Every routing decision is made by ``choose_offers`` and every agent change goes through
``agent_states``, so routing that ever leaves a caller waiting while an agent sits free shows up
as measured figures worse than the formula.

Run ``python tests/bench/queue_sim.py`` from the repo root; it prints, never asserts.
"""

from __future__ import annotations

import heapq
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chalicelib.routing import agent_states  # noqa: E402
from chalicelib.routing.estimates import (  # noqa: E402
    erlang_c,
    erlang_c_asa,
    erlang_c_service_level,
    service_level,
)
from chalicelib.routing.model import (  # noqa: E402
    Agent,
    AgentState,
    Endpoint,
    QueueConfig,
    WaitingCaller,
)
from chalicelib.routing.selection import choose_offers  # noqa: E402

START = datetime(2026, 3, 2, tzinfo=UTC)
THRESHOLD = 20
ARRIVAL, HANGUP = 0, 1


def simulate(
    arrival_rate: float,
    aht: float,
    agents: int,
    calls: int,
    seed: int,
    threshold: float = THRESHOLD,
    warmup: float = 0.05,
) -> dict:
    """Run ``calls`` arrivals through one queue; figures cover calls after the first ``warmup``.

    Returns the measured service level within ``threshold`` (0..1), ASA and share that waited,
    with the Erlang C predictions for the same traffic beside them.
    """
    rng = random.Random(seed)
    queue = QueueConfig(queue_id="q", name="sim", max_size=10**9, max_wait_seconds=10**9)
    staff = {}
    for i in range(agents):
        agent = Agent(f"a{i:03d}", f"Agent {i}", Endpoint("client", f"a{i}"), queues={"q": 1})
        agent.wrap_up_seconds = 0
        staff[agent.agent_id] = agent_states.transition(agent, AgentState.AVAILABLE, START)

    events: list[tuple[float, int, int, str]] = []
    seq = 0

    def schedule(at: float, kind: int, ref: str) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, seq, kind, ref))

    schedule(rng.expovariate(arrival_rate), ARRIVAL, "c0")
    waiting: dict[str, WaitingCaller] = {}
    waits: list[float] = []
    arrived = 0
    busy_seconds = 0.0
    measured_from = int(calls * warmup)
    clock = 0.0

    while events:
        clock, _, kind, ref = heapq.heappop(events)
        now = START + timedelta(seconds=clock)
        if kind == ARRIVAL:
            waiting[ref] = WaitingCaller(ref, "q", f"+1555{arrived:07d}", joined_at=now)
            arrived += 1
            if arrived < calls:
                schedule(clock + rng.expovariate(arrival_rate), ARRIVAL, f"c{arrived}")
        else:
            agent = agent_states.after_call(staff[ref], now)
            if agent_states.wrap_up_over(agent, now):
                agent = agent_states.transition(agent, AgentState.AVAILABLE, now)
            staff[ref] = agent
        for offer in choose_offers(queue, waiting.values(), staff.values(), now):
            caller, (agent,) = offer.caller, offer.agents
            del waiting[caller.call_sid]
            agent = agent_states.transition(agent, AgentState.RESERVED, now)
            staff[agent.agent_id] = agent_states.transition(agent, AgentState.ON_CALL, now)
            if int(caller.call_sid[1:]) >= measured_from:
                waits.append((now - caller.joined_at).total_seconds())
            handle = rng.expovariate(1 / aht)
            busy_seconds += handle
            schedule(clock + handle, HANGUP, agent.agent_id)

    traffic = arrival_rate * aht
    return {
        "traffic": traffic,
        "agents": agents,
        "calls": len(waits),
        "service_level": service_level(waits, threshold),
        "asa": sum(waits) / len(waits),
        "waited": sum(1 for w in waits if w > 0) / len(waits),
        "occupancy": busy_seconds / (agents * clock),
        "erlang_service_level": erlang_c_service_level(traffic, agents, aht, threshold),
        "erlang_asa": erlang_c_asa(traffic, agents, aht),
        "erlang_pw": erlang_c(traffic, agents),
    }


def main() -> None:
    aht, traffic, calls = 180.0, 10.0, 20_000
    print(f"M/M/N through choose_offers: A = {traffic:g} erlangs, AHT {aht:g} s, {calls} calls,")
    print(f"longest-idle, FIFO, SL within {THRESHOLD} s; measured vs Erlang C\n")
    print(
        f"{'N':>3} {'SL sim':>8} {'SL erl':>8} {'Δ pts':>6}   {'ASA sim':>8} {'ASA erl':>8}"
        f" {'Δ s':>6}   {'Pw sim':>6} {'Pw erl':>6}   {'occ':>5} {'secs':>5}"
    )
    for agents in (12, 13, 14):
        started = time.perf_counter()
        r = simulate(traffic / aht, aht, agents, calls, seed=agents)
        took = time.perf_counter() - started
        sl, sl_erl = 100 * r["service_level"], 100 * r["erlang_service_level"]
        print(
            f"{agents:>3} {sl:>7.1f}% {sl_erl:>7.1f}% {sl - sl_erl:>+6.1f}   {r['asa']:>7.1f}s"
            f" {r['erlang_asa']:>7.1f}s {r['asa'] - r['erlang_asa']:>+6.1f}   {r['waited']:>6.3f}"
            f" {r['erlang_pw']:>6.3f}   {r['occupancy']:>5.2f} {took:>5.1f}"
        )


if __name__ == "__main__":
    main()
