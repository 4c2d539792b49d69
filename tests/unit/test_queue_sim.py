"""The queue simulation drives the real routing code and lands near Erlang C."""

from __future__ import annotations

from tests.bench.queue_sim import simulate


def test_a_short_run_lands_near_erlang_c():
    result = simulate(arrival_rate=10 / 180, aht=180, agents=13, calls=3000, seed=7)
    assert result["calls"] == 2850  # the first 5 % warm the queue up
    assert abs(result["service_level"] - result["erlang_service_level"]) < 0.08
    assert 0 < result["asa"] < 2 * result["erlang_asa"]
    assert 0.70 < result["occupancy"] < 0.84


def test_routing_never_idles_an_agent_beside_a_waiting_caller_and_keeps_turns():
    result = simulate(arrival_rate=10 / 180, aht=180, agents=11, calls=2000, seed=3)
    assert result["waited"] > 0.5  # a busy queue, so the checks below mean something
    assert result["stalls"] == 0
    assert result["out_of_order"] == 0


def test_without_queueing_nobody_waits():
    result = simulate(arrival_rate=1 / 180, aht=180, agents=40, calls=500, seed=1)
    assert result["service_level"] == 1.0 and result["asa"] == 0.0
