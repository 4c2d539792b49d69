"""Queue arithmetic: the wait we announce, the figures we report, and Erlang C."""

from __future__ import annotations

import math

import pytest

from chalicelib.routing.estimates import (
    abandon_rate,
    erlang_b,
    erlang_c,
    erlang_c_asa,
    erlang_c_service_level,
    estimated_wait,
    service_level,
    trimmed_mean,
)


def test_estimated_wait_is_handle_time_times_position_over_agents():
    assert estimated_wait(1, 2, [100, 200, 300]) == 100
    assert estimated_wait(6, 3, [120.0]) == 240
    assert estimated_wait(0, 3, [120.0]) == 0


def test_callers_an_agent_is_free_for_wait_nothing_and_the_rest_wait_for_the_others():
    assert estimated_wait(1, 2, [120.0], free_agents=1) == 0
    assert estimated_wait(2, 2, [120.0], free_agents=2) == 0
    assert estimated_wait(3, 2, [120.0], free_agents=1) == 120  # two ahead of it are served


def test_estimated_wait_uses_the_default_handle_time_before_any_calls():
    assert estimated_wait(2, 4, []) == 90
    assert estimated_wait(2, 4, [], default_handle=300) == 150


def test_estimated_wait_is_unknown_with_nobody_staffed():
    assert estimated_wait(1, 0, [120]) is None


def test_one_marathon_call_does_not_move_the_estimate():
    calls = [180.0] * 19 + [7200.0]
    assert trimmed_mean(calls) == 180
    assert estimated_wait(1, 1, calls) == 180
    assert trimmed_mean([10, 20]) == 15


def test_service_level_counts_answers_within_the_threshold():
    assert service_level([0, 5, 20, 21, 60], 20) == pytest.approx(0.6)
    assert service_level([], 20) is None


def test_abandon_rate():
    assert abandon_rate(3, 60) == pytest.approx(0.05)
    assert abandon_rate(0, 0) is None


@pytest.mark.parametrize(
    "agents, pw, sl, asa",
    [
        (11, 0.682, 39.0, 122.8),
        (12, 0.449, 64.0, 40.4),
        (13, 0.285, 79.6, 17.1),
        (14, 0.174, 88.8, 7.8),
    ],
)
def test_erlang_c_matches_the_glossary_table(agents, pw, sl, asa):
    assert round(erlang_c(10, agents), 3) == pw
    assert round(100 * erlang_c_service_level(10, agents, 180, 20), 1) == sl
    assert round(erlang_c_asa(10, agents, 180), 1) == asa


def erlang_c_by_logs(traffic: float, agents: int) -> float:
    """The glossary formula term by term, in logarithms so big N cannot overflow."""
    terms = [k * math.log(traffic) - math.lgamma(k + 1) for k in range(agents)]
    top = (
        agents * math.log(traffic) - math.lgamma(agents + 1) + math.log(agents / (agents - traffic))
    )
    peak = max(*terms, top)
    waiting = math.exp(top - peak)
    return waiting / (math.fsum(math.exp(t - peak) for t in terms) + waiting)


@pytest.mark.parametrize("traffic, agents", [(2.5, 3), (10, 12), (80, 90), (300, 320), (470, 500)])
def test_erlang_c_is_stable_for_large_centers(traffic, agents):
    assert erlang_c(traffic, agents) == pytest.approx(erlang_c_by_logs(traffic, agents), rel=1e-9)


def test_erlang_c_edges():
    assert erlang_c(10, 10) == 1.0
    assert erlang_c(12, 10) == 1.0
    assert erlang_c(0, 3) == 0.0
    assert erlang_c_service_level(10, 9, 180, 20) == 0.0
    assert erlang_c_asa(10, 10, 180) == math.inf
    assert erlang_b(1, 1) == pytest.approx(0.5)
    assert erlang_c(1, 1000) < 1e-300 or erlang_c(1, 1000) == 0.0
