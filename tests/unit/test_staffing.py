"""Staffing arithmetic: published Erlang tables, limits, the birth-death chain, a simulation."""

from __future__ import annotations

import heapq
import math
import random

import pytest

from chalicelib.reports.staffing import Staffing, agents_for, erlang_a, occupancy
from chalicelib.routing.estimates import (
    erlang_b,
    erlang_c,
    erlang_c_asa,
    erlang_c_service_level,
)

# GLOSSARY.md, "Erlang C": A = 10 erlangs (100 calls per 30 min at AHT 180 s), t = 20 s.
GLOSSARY_TABLE = [
    (11, 0.682, 0.390, 122.8),
    (12, 0.449, 0.640, 40.4),
    (13, 0.285, 0.796, 17.1),
    (14, 0.174, 0.888, 7.8),
]


@pytest.mark.parametrize(("agents", "wait", "service", "asa"), GLOSSARY_TABLE)
def test_erlang_c_gives_the_glossary_worked_numbers(agents, wait, service, asa):
    assert erlang_c(10, agents) == pytest.approx(wait, abs=0.0005)
    assert erlang_c_service_level(10, agents, 180, 20) == pytest.approx(service, abs=0.0005)
    assert erlang_c_asa(10, agents, 180) == pytest.approx(asa, abs=0.05)
    assert occupancy(10, agents) == pytest.approx(10 / agents)


def test_the_classic_example_100_calls_in_half_an_hour_at_80_in_20_needs_14_agents():
    # Given 100 calls per 30 minutes, AHT 180 s, a target of 80 % answered within 20 s
    staffing = agents_for(100, 1800, 180, 0.80, 20)
    # Then 13 agents reach 79.6 % (short) and 14 reach 88.8 %
    assert staffing.traffic_erlangs == pytest.approx(10.0)
    assert staffing.agents == 14
    assert staffing.scheduled_agents == 14
    assert staffing.service_level == pytest.approx(0.888, abs=0.0005)
    assert staffing.asa_seconds == pytest.approx(7.8, abs=0.05)
    assert staffing.wait_probability == pytest.approx(0.174, abs=0.0005)
    assert staffing.occupancy == pytest.approx(10 / 14)
    assert staffing.abandon_share is None


def test_erlang_b_table_value_for_10_erlangs_on_15_trunks():
    assert erlang_b(10, 15) == pytest.approx(0.0365, abs=0.00005)


def test_erlang_c_by_hand_for_2_erlangs_on_3_agents():
    # A^N/N!·N/(N−A) = 8/6·3 = 4; Σ_{k<3} A^k/k! = 1 + 2 + 2 = 5; Pw = 4/9
    assert erlang_c(2, 3) == pytest.approx(4 / 9)
    assert agents_for(40, 3600, 180, 0.5, 0).agents == 3  # SL(0) = 1 − Pw = 5/9


def test_shrinkage_rosters_more_agents_than_are_on_the_phones():
    assert agents_for(100, 1800, 180, 0.8, 20, shrinkage=0.3).scheduled_agents == 20
    # 14 / (1 − 0.8) is 70.00000000000001 in floating point: still 70 people
    assert agents_for(100, 1800, 180, 0.8, 20, shrinkage=0.8).scheduled_agents == 70
    assert agents_for(100, 1800, 180, 0.8, 20, shrinkage=0.31).scheduled_agents == 21


def test_a_maximum_occupancy_adds_agents_the_service_level_alone_would_not():
    staffing = agents_for(100, 1800, 180, 0.8, 20, max_occupancy=0.7)
    assert staffing.agents == 15  # 10/14 = 0.714 is above 0.7
    assert staffing.occupancy <= 0.7


def test_no_calls_need_no_agents():
    assert agents_for(0, 1800, 180, 0.8, 20) == Staffing(0.0, 0, 0, 1.0, 0.0, 0.0, 0.0, None)
    assert agents_for(0, 1800, 180, 0.8, 20, patience_seconds=60).abandon_share == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"calls": -1},
        {"aht_seconds": 0},
        {"aht_seconds": -5},
        {"target_sl": 0},
        {"target_sl": 1},
        {"target_sl": 1.2},
        {"shrinkage": -0.1},
        {"shrinkage": 1.0},
        {"answer_within_seconds": -1},
        {"interval_seconds": 0},
        {"max_occupancy": 1.5},
        {"patience_seconds": 0},
    ],
)
def test_nonsense_staffing_input_is_refused(kwargs):
    arguments = {"calls": 100, "interval_seconds": 1800, "aht_seconds": 180, "target_sl": 0.8,
                 "answer_within_seconds": 20} | kwargs
    extra = {key: arguments.pop(key) for key in ("shrinkage", "max_occupancy", "patience_seconds")
             if key in arguments}
    with pytest.raises(ValueError):
        agents_for(**arguments, **extra)


@pytest.mark.parametrize("agents", [11, 12, 13, 14, 20])
def test_erlang_a_with_endless_patience_is_erlang_c(agents):
    figures = erlang_a(10, agents, 180, 1e11, 20)
    assert figures.wait_probability == pytest.approx(erlang_c(10, agents), abs=1e-6)
    assert figures.service_level == pytest.approx(
        erlang_c_service_level(10, agents, 180, 20), abs=1e-6)
    assert figures.asa_seconds == pytest.approx(erlang_c_asa(10, agents, 180), abs=1e-5)
    assert figures.abandon_share == pytest.approx(0, abs=1e-6)


def test_erlang_a_with_no_patience_is_erlang_b_loss_and_nobody_waits_long():
    # Callers who find every agent busy leave at once: the M/M/N/N loss system.
    for agents in (8, 12, 15):
        figures = erlang_a(10, agents, 180, 1e-3, 20)
        assert figures.abandon_share == pytest.approx(erlang_b(10, agents), rel=1e-3)
        assert figures.asa_seconds < 1e-3
        assert figures.service_level == pytest.approx(1 - erlang_b(10, agents), rel=1e-3)


def test_more_agents_answer_more_and_lose_fewer_under_erlang_a():
    figures = [erlang_a(10, agents, 180, 120, 20) for agents in range(6, 20)]
    for fewer, more in zip(figures, figures[1:], strict=False):
        assert more.service_level > fewer.service_level
        assert more.abandon_share < fewer.abandon_share
        assert more.wait_probability < fewer.wait_probability
        assert more.asa_seconds < fewer.asa_seconds


def test_erlang_a_copes_with_overload_that_erlang_c_cannot_staff():
    # 8 agents for 10 erlangs: Erlang C's queue grows without end; impatient callers keep it finite.
    figures = erlang_a(10, 8, 180, 120, 20)
    assert 0.2 < figures.abandon_share < 1
    assert 0 < figures.service_level < 0.8
    assert figures.occupancy <= 1
    assert figures.asa_seconds < 120
    # Long patience and heavy overload: no overflow, nearly everyone waits
    heavy = erlang_a(50, 20, 180, 1e5, 20)
    assert heavy.wait_probability == pytest.approx(1, abs=1e-9)
    assert heavy.abandon_share == pytest.approx(1 - 20 / 50, abs=0.01)


def test_impatient_callers_need_no_more_agents_than_erlang_c_says():
    patient = agents_for(100, 1800, 180, 0.8, 20)
    impatient = agents_for(100, 1800, 180, 0.8, 20, patience_seconds=120)
    assert impatient.agents <= patient.agents
    assert impatient.service_level >= 0.8
    assert impatient.abandon_share is not None and impatient.abandon_share > 0
    assert agents_for(100, 1800, 180, 0.8, 20, patience_seconds=1e9).agents == patient.agents


def birth_death_wait_and_abandon(lam, mu, theta, agents, states=4000):
    """P(wait) and P(abandon) of M/M/N+M from its stationary distribution, cut at ``states``."""
    weights = [1.0]
    for k in range(1, states):
        death = min(k, agents) * mu + max(k - agents, 0) * theta
        weights.append(weights[-1] * lam / death)
    total = math.fsum(weights)
    wait = math.fsum(weights[agents:]) / total
    queue = math.fsum((k - agents) * w for k, w in enumerate(weights) if k > agents) / total
    return wait, theta * queue / lam  # arrivals see time averages; abandons = θ·E[queue]


@pytest.mark.parametrize(
    ("traffic", "agents", "aht", "patience"),
    [(0.8, 1, 180, 60), (1.5, 1, 180, 300), (0.3, 1, 240, 30), (10, 12, 180, 120),
     (10, 8, 180, 90)],
)
def test_erlang_a_matches_its_birth_death_chain_summed_by_hand(traffic, agents, aht, patience):
    mu, theta = 1 / aht, 1 / patience
    wait, abandon = birth_death_wait_and_abandon(traffic * mu, mu, theta, agents)
    figures = erlang_a(traffic, agents, aht, patience, 20)
    assert figures.wait_probability == pytest.approx(wait, rel=1e-9)
    assert figures.abandon_share == pytest.approx(abandon, rel=1e-9)


def simulate_impatient_queue(traffic, agents, aht, patience, within, callers, seed):
    """M/M/N+M by discrete events, FIFO: (share answered within ``within``, mean answered wait)."""
    rng = random.Random(seed)
    lam = traffic / aht
    free = agents
    queue: list[tuple[float, float]] = []  # (arrival, gives up at), FIFO
    ends: list[float] = []
    now = 0.0
    answered_in_time = answered = 0
    waited = 0.0
    warmup = callers // 10
    for caller in range(callers):
        now += rng.expovariate(lam)
        while ends and ends[0] <= now:
            done = heapq.heappop(ends)
            while queue and queue[0][1] <= done:
                queue.pop(0)
            if queue:
                arrival, _ = queue.pop(0)
                if arrival >= 0:
                    answered += 1
                    waited += done - arrival
                    answered_in_time += done - arrival <= within
                heapq.heappush(ends, done + rng.expovariate(1 / aht))
            else:
                free += 1
        while queue and queue[0][1] <= now:
            queue.pop(0)
        counted = caller >= warmup
        if free:
            free -= 1
            heapq.heappush(ends, now + rng.expovariate(1 / aht))
            if counted:
                answered += 1
                answered_in_time += 1
        else:
            queue.append((now if counted else -1.0, now + rng.expovariate(1 / patience)))
    offered = callers - warmup
    return answered_in_time / offered, waited / answered


def test_erlang_a_service_level_and_asa_agree_with_a_simulation():
    # Abandoning callers ahead in the FIFO line leave it; the head is served first.
    share, asa = simulate_impatient_queue(10, 11, 180, 120, 20, 400_000, seed=12)
    figures = erlang_a(10, 11, 180, 120, 20)
    assert figures.service_level == pytest.approx(share, abs=0.01)
    assert figures.asa_seconds == pytest.approx(asa, rel=0.05)
