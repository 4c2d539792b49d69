"""The dialer simulation drives the real pacer, throttle and gate: small, seeded runs.

The bench (``tests/bench/run.py``) runs it for longer and for more teams; here each run covers
two simulated hours.
"""

from __future__ import annotations

from math import ceil

import pytest

from chalicelib.campaigns.pacing import erlang_b_utilisation
from tests.bench.dialer_sim import simulate, simulate_cps


@pytest.mark.parametrize(("agents", "seed"), [(10, 1), (10, 2), (20, 1), (20, 2)])
def test_predictive_pacing_stays_within_three_percent_and_beats_the_open_loop(agents, seed):
    result = simulate(agents, answer_rate=0.3, talk_seconds=120, hours=2, seed=seed)
    assert result["mode"] == "predictive"
    assert result["live_answers"] > 400  # enough answers for the rate to mean something
    assert 0 < result["abandon_rate"] <= 0.03
    assert result["abandon_rate"] == result["abandoned"] / result["live_answers"]
    oracle = erlang_b_utilisation(agents, result["abandon_rate"])
    assert result["erlang_b_utilisation"] == pytest.approx(oracle)
    assert result["utilisation"] > oracle
    assert result["dial_level"] > 1.2  # it did dial ahead


def test_predictive_beats_progressive_for_the_same_team():
    predictive = simulate(20, hours=2, seed=3)
    progressive = simulate(20, hours=2, seed=3, mode="progressive")
    assert progressive["mode"] == "progressive" and progressive["predictive_share"] == 0
    assert progressive["live_drops"] == 0  # only AMD's mistakes are ever abandoned
    assert progressive["dial_level"] == 1.0
    assert predictive["utilisation"] > progressive["utilisation"] + 0.05


@pytest.mark.parametrize("agents", [1, 2])
def test_a_small_team_falls_back_to_progressive(agents):
    result = simulate(agents, hours=2, seed=4)
    assert result["mode"] == "progressive"
    assert result["predictive_share"] == 0
    assert result["live_drops"] == 0
    assert result["utilisation"] > 0.4


def test_the_gate_and_the_throttle_are_in_the_loop():
    result = simulate(20, hours=1, seed=5, cps=2)
    # about 3 % of the list is on the do-not-call list or was abandoned yesterday
    assert 0.01 < result["refused"] / result["dials"] < 0.06
    assert result["max_calls_in_a_second"] <= 2


def test_a_rolling_pacing_window_works_too():
    result = simulate(10, hours=2, seed=6, window_hours=0.5)
    assert result["abandon_rate"] <= 0.03
    # the two clock hours are among the rolling hours, and the run's rate is their average
    assert result["abandon_rate_max_hour"] >= result["abandon_rate"]


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        simulate(5, hours=0.1, mode="preview")


@pytest.mark.parametrize("cps", [0.5, 1, 5, 10])
def test_the_throttle_achieves_its_configured_rate(cps):
    result = simulate_cps(cps, minutes=10)
    assert result["achieved"] == pytest.approx(cps, rel=0.05)
    assert result["max_in_a_second"] <= ceil(cps)
