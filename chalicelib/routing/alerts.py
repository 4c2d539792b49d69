"""Wallboard alerts: which of a queue's live figures have crossed the supervisor's thresholds.

A queue's ``QueueConfig.alerts`` names its thresholds (``DEFAULT_ALERTS`` where it names none;
``None`` switches one off):

- ``callers_waiting``: more callers than this in line;
- ``oldest_wait_seconds``: the longest wait in line is longer (seconds);
- ``service_level_below``: today's service level (a share 0..1, answered within the queue's
  ``service_level_seconds``) is under this, once ``min_answered_today`` calls were answered (a
  day's first call must not turn the board red);
- ``abandon_rate_above``: today's abandon rate (a share) is over this, with the same minimum;
- ``seconds_in_state``: ``{state: seconds}``: an agent in ``wrap-up`` or ``away`` (or any
  state named) for longer.

``board_alerts(board, thresholds)`` reads a board as ``routing.admin`` builds it and answers
``[{"alert", "value", "threshold", "agent_id"?}]``, most urgent kinds first; pure, so a
board's alerts are the same wherever they are worked out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_ALERTS: dict[str, Any] = {
    "callers_waiting": 10,
    "oldest_wait_seconds": 120,
    "service_level_below": 0.8,
    "abandon_rate_above": 0.1,
    "min_answered_today": 20,
    "seconds_in_state": {"wrap-up": 300, "away": 1800},
}
KINDS = ("oldest_wait_seconds", "callers_waiting", "service_level_below", "abandon_rate_above",
         "seconds_in_state")


def thresholds_of(alerts: Mapping[str, Any] | None) -> dict[str, Any]:
    """A queue's thresholds: its own over ``DEFAULT_ALERTS`` (a key set to None: off)."""
    return {**DEFAULT_ALERTS, **(alerts or {})}


def _over(value, threshold) -> bool:
    return value is not None and threshold is not None and value > threshold


def board_alerts(board: Mapping[str, Any], thresholds: Mapping[str, Any]) -> list[dict]:
    """The alerts of one queue's ``board`` under ``thresholds`` (``thresholds_of``)."""
    found: list[dict] = []

    def alert(kind: str, value, threshold, **extra) -> None:
        found.append({"alert": kind, "value": value, "threshold": threshold, **extra})

    for kind, name in (("oldest_wait_seconds", "oldest_wait_seconds"),
                       ("callers_waiting", "callers_waiting")):
        if _over(board.get(name), thresholds.get(kind)):
            alert(kind, board[name], thresholds[kind])
    enough = (board.get("answered_today") or 0) >= (thresholds.get("min_answered_today") or 0)
    level, floor = board.get("service_level_today"), thresholds.get("service_level_below")
    if enough and level is not None and floor is not None and level < floor:
        alert("service_level_below", level, floor)
    rate, ceiling = board.get("abandon_rate_today"), thresholds.get("abandon_rate_above")
    if (board.get("offered_today") or 0) >= (thresholds.get("min_answered_today") or 0) \
            and _over(rate, ceiling):
        alert("abandon_rate_above", rate, ceiling)
    limits = thresholds.get("seconds_in_state") or {}
    for agent in board.get("agents", ()):
        limit = limits.get(agent.get("state"))
        if _over(agent.get("seconds_in_state"), limit):
            alert("seconds_in_state", agent["seconds_in_state"], limit,
                  agent_id=agent["agent_id"], state=agent["state"])
    return sorted(found, key=lambda a: KINDS.index(a["alert"]))
