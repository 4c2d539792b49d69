"""Queue arithmetic: the wait we announce to callers, the figures we report, and Erlang C.

``estimated_wait`` is what a caller hears ("about 3 minutes"), in the spirit of Amazon Connect's
EWT: recent handle times, the caller's position and the agents able to serve. Erlang C (see
docs GLOSSARY.md) is the textbook prediction for a FIFO queue; the staffing screen uses it and
``tests/bench/queue_sim.py`` holds the real routing code to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def trimmed_mean(values: Sequence[float], trim: float = 0.1) -> float:
    """Mean without the top and bottom ``trim`` share: one two-hour call must not move the EWT."""
    ordered = sorted(values)
    cut = int(len(ordered) * trim)
    kept = ordered[cut : len(ordered) - cut] or ordered
    return math.fsum(kept) / len(kept)


def estimated_wait(
    position: int,
    staffed_agents: int,
    recent_handle_seconds: Sequence[float],
    default_handle: float = 180,
    free_agents: int = 0,
) -> int | None:
    """Seconds until the caller at ``position`` (1 = next) is likely answered; None if unstaffed.

    The first ``free_agents`` callers are answered now (0 s: an agent is already free); the
    rest wait for the staffed agents to finish calls of the usual length. Handle time is the
    trimmed mean of recent calls, or ``default_handle`` before there are any.
    """
    if staffed_agents <= 0:
        return None
    ahead = max(position, 0) - max(free_agents, 0)
    if ahead <= 0:
        return 0
    handle = trimmed_mean(recent_handle_seconds) if recent_handle_seconds else default_handle
    return round(handle * ahead / staffed_agents)


def service_level(answered_waits: Sequence[float], threshold: float) -> float | None:
    """Share (0..1) of answered calls that waited at most ``threshold`` seconds."""
    if not answered_waits:
        return None
    return sum(1 for wait in answered_waits if wait <= threshold) / len(answered_waits)


def abandon_rate(abandoned: int, offered: int) -> float | None:
    """Share (0..1) of queued callers who hung up before being answered."""
    return abandoned / offered if offered > 0 else None


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability, by the recursion B(k) = A·B(k−1) / (k + A·B(k−1)): no factorials."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def erlang_c(traffic_erlangs: float, agents: int) -> float:
    """Pw, the probability a caller waits at all; 1.0 when agents cannot keep up (N ≤ A)."""
    if agents <= traffic_erlangs:
        return 1.0
    if traffic_erlangs <= 0:
        return 0.0
    blocking = erlang_b(traffic_erlangs, agents)
    return agents * blocking / (agents - traffic_erlangs * (1 - blocking))


def erlang_c_service_level(traffic: float, agents: int, aht: float, t: float) -> float:
    """Share (0..1) answered within ``t`` seconds: 1 − Pw·exp(−(N−A)·t/AHT)."""
    if agents <= traffic:
        return 0.0
    return 1 - erlang_c(traffic, agents) * math.exp(-(agents - traffic) * t / aht)


def erlang_c_asa(traffic: float, agents: int, aht: float) -> float:
    """Average speed of answer in seconds: Pw·AHT/(N−A); infinite when N ≤ A."""
    if agents <= traffic:
        return math.inf
    return erlang_c(traffic, agents) * aht / (agents - traffic)
