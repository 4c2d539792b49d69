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
import math
import random
import statistics
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
    batches: int = 10,
) -> dict:
    """Run ``calls`` arrivals through one queue; figures cover calls after the first ``warmup``.

    Returns the measured service level within ``threshold`` (0..1), ASA and share that waited,
    with the Erlang C predictions for the same traffic beside them, and two counts that must be
    zero: ``stalls`` (rounds that left a caller waiting beside a free agent) and ``out_of_order``
    (callers answered before someone who arrived earlier). Waits are correlated (a busy
    spell delays many callers), so the standard errors come from ``batches`` consecutive batch
    means rather than from treating calls as independent.
    """
    rng = random.Random(seed)
    queue = QueueConfig(queue_id="q", name="sim", max_size=10**9, max_wait_seconds=10**9)
    staff = {}
    for i in range(agents):
        agent = Agent(
            f"a{i:03d}",
            f"Agent {i}",
            Endpoint("client", f"a{i}"),
            queues={"q": 1},
            wrap_up_seconds=0,
        )
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
    stalls = out_of_order = 0  # both must stay 0: no agent idle while a caller waits, FIFO
    last_served = -1

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
        if not waiting:
            continue  # a hangup with nobody queued: the agent just waits
        for offer in choose_offers(queue, waiting.values(), staff.values(), now):
            caller, (agent,) = offer.caller, offer.agents
            del waiting[caller.call_sid]
            agent = agent_states.transition(agent, AgentState.RESERVED, now)
            staff[agent.agent_id] = agent_states.transition(agent, AgentState.ON_CALL, now)
            number = int(caller.call_sid[1:])
            out_of_order += number < last_served
            last_served = max(last_served, number)
            if number >= measured_from:
                waits.append((now - caller.joined_at).total_seconds())
            handle = rng.expovariate(1 / aht)
            busy_seconds += handle
            schedule(clock + handle, HANGUP, agent.agent_id)
        if waiting and any(a.state is AgentState.AVAILABLE for a in staff.values()):
            stalls += 1

    traffic = arrival_rate * aht
    size = len(waits) // batches
    parts = [waits[i * size : (i + 1) * size] for i in range(batches)]
    return {
        "traffic": traffic,
        "agents": agents,
        "calls": len(waits),
        "service_level": service_level(waits, threshold),
        "service_level_se": _standard_error([service_level(p, threshold) for p in parts]),
        "asa": sum(waits) / len(waits),
        "asa_se": _standard_error([sum(p) / len(p) for p in parts]),
        "waited": sum(1 for w in waits if w > 0) / len(waits),
        "occupancy": busy_seconds / (agents * clock),
        "erlang_service_level": erlang_c_service_level(traffic, agents, aht, threshold),
        "erlang_asa": erlang_c_asa(traffic, agents, aht),
        "erlang_pw": erlang_c(traffic, agents),
        "stalls": stalls,
        "out_of_order": out_of_order,
    }


def _standard_error(batch_means: list[float]) -> float:
    return statistics.stdev(batch_means) / math.sqrt(len(batch_means))


def main(calls: int = 30_000, seeds: int = 5) -> None:
    """Each row pools ``seeds`` independent runs: one run's service level at N = 12 wanders by
    about ±2.4 points (one standard error), which would hide what the routing does."""
    aht, traffic = 180.0, 10.0
    print(f"M/M/N through choose_offers + agent_states: A = {traffic:g} erlangs, AHT {aht:g} s,")
    print(f"{calls} calls x {seeds} seeds per row, longest-idle, FIFO, no abandonment,"
          " no wrap-up.")
    print(f"SL = answered within {THRESHOLD} s; ± = one standard error over the seeds.\n")
    print(
        f"{'N':>3} {'SL sim':>13} {'Erlang C':>9} {'Δ pts':>6}   {'ASA sim':>12} {'Erlang C':>9}"
        f" {'Δ s':>6}   {'Pw sim':>6} {'Pw erl':>6}   {'occ':>4} {'secs':>5}"
    )
    faults = 0
    for agents in (12, 13, 14):
        started = time.perf_counter()
        runs = [simulate(traffic / aht, aht, agents, calls, seed=agents * 100 + i)
                for i in range(seeds)]
        took = time.perf_counter() - started
        r = runs[0]

        def pooled(key: str, runs: list[dict] = runs) -> tuple[float, float]:
            values = [run[key] for run in runs]
            spread = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0
            return statistics.fmean(values), spread

        (sl, sl_se), (asa, asa_se) = pooled("service_level"), pooled("asa")
        sl, sl_se = 100 * sl, 100 * sl_se
        sl_erl = 100 * r["erlang_service_level"]
        waited = statistics.fmean(run["waited"] for run in runs)
        occupancy = statistics.fmean(run["occupancy"] for run in runs)
        sl_cell = f"{sl:.1f} ± {sl_se:.1f}%"
        asa_cell = f"{asa:.1f} ± {asa_se:.1f}s"
        print(
            f"{agents:>3} {sl_cell:>13} {sl_erl:>8.1f}% {sl - sl_erl:>+6.1f}"
            f"   {asa_cell:>12} {r['erlang_asa']:>8.1f}s {asa - r['erlang_asa']:>+6.1f}"
            f"   {waited:>6.3f} {r['erlang_pw']:>6.3f}   {occupancy:>4.2f} {took:>5.1f}"
        )
        faults += sum(run["stalls"] + run["out_of_order"] for run in runs)
    print(f"\nRounds leaving a caller beside a free agent, or answering out of turn: {faults}")


if __name__ == "__main__":
    main()
