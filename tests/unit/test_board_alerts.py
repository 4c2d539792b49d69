"""Wallboard alerts from a board's live figures and the queue's thresholds (pure)."""

from __future__ import annotations

from chalicelib.routing.alerts import DEFAULT_ALERTS, board_alerts, thresholds_of


def board(**figures) -> dict:
    quiet = {"callers_waiting": 0, "oldest_wait_seconds": None, "offered_today": 0,
             "answered_today": 0, "service_level_today": None, "abandon_rate_today": None,
             "agents": []}
    return {**quiet, **figures}


def test_a_quiet_queue_raises_nothing():
    assert board_alerts(board(), thresholds_of(None)) == []


def test_each_threshold_crossed_is_an_alert_most_urgent_first():
    busy = board(callers_waiting=12, oldest_wait_seconds=130, offered_today=50,
                 answered_today=40, service_level_today=0.7, abandon_rate_today=0.2,
                 agents=[{"agent_id": "a1", "state": "wrap-up", "seconds_in_state": 400},
                         {"agent_id": "a2", "state": "away", "seconds_in_state": 60},
                         {"agent_id": "a3", "state": "on-call", "seconds_in_state": 9000}])
    assert board_alerts(busy, thresholds_of({})) == [
        {"alert": "oldest_wait_seconds", "value": 130, "threshold": 120},
        {"alert": "callers_waiting", "value": 12, "threshold": 10},
        {"alert": "service_level_below", "value": 0.7, "threshold": 0.8},
        {"alert": "abandon_rate_above", "value": 0.2, "threshold": 0.1},
        {"alert": "seconds_in_state", "value": 400, "threshold": 300, "agent_id": "a1",
         "state": "wrap-up"}]


def test_at_the_threshold_is_not_over_it_and_none_switches_one_off():
    edge = board(callers_waiting=10, oldest_wait_seconds=120)
    assert board_alerts(edge, thresholds_of({})) == []
    late = board(oldest_wait_seconds=500)
    assert board_alerts(late, thresholds_of({"oldest_wait_seconds": None})) == []
    assert thresholds_of({"callers_waiting": 3})["oldest_wait_seconds"] == \
        DEFAULT_ALERTS["oldest_wait_seconds"]


def test_the_days_first_calls_do_not_turn_the_board_red():
    early = board(offered_today=2, answered_today=1, service_level_today=0.0,
                  abandon_rate_today=0.5)
    assert board_alerts(early, thresholds_of({})) == []
    assert [a["alert"] for a in board_alerts(early, thresholds_of(
        {"min_answered_today": 0}))] == ["service_level_below", "abandon_rate_above"]
