"""How many agents a half-hour needs: Erlang C, and Erlang A when callers hang up.

Units throughout: times in seconds, traffic in erlangs (arrival rate × AHT), shares 0..1.

- **Erlang C** (M/M/N, A. K. Erlang 1917): Poisson arrivals, exponential handle times, N agents,
  nobody hangs up. ``erlang_b``, ``erlang_c``, ``erlang_c_service_level`` and ``erlang_c_asa`` live
  in ``chalicelib.routing.estimates`` (GLOSSARY.md, "Erlang C") and are reused here.
- **Erlang A** (M/M/N+M, C. Palm 1943): the same queue, but each waiting caller hangs up after an
  exponential patience with mean ``patience_seconds``. The formulas are those of Garnett,
  Mandelbaum & Reiman, "Designing a call center with impatient customers" (2002) and Mandelbaum &
  Zeltyn, "The M/M/n+G queue: summary of performance measures": with λ the arrival rate, μ = 1/AHT,
  θ = 1/patience, x = λ/θ and a = Nμ/θ, the queue part of the birth-death chain sums to
  ``S = Σ_j x^j / ((a+1)(a+2)…(a+j)) = a·e^x·x^(−a)·γ(a, x)`` (γ the lower incomplete gamma
  function), the offered wait V has density ``Nμ·π_N·exp(x(1 − e^(−θv)) − Nμv)`` for v > 0, and
  a caller is answered when V is shorter than their patience. Everything is computed from
  regularized incomplete gamma ratios in logarithms (``math.lgamma``, a series below the mean and
  Legendre's continued fraction above it), so nothing overflows for long patience: Erlang A with
  patience → ∞ is Erlang C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from chalicelib.routing.estimates import (
    erlang_b,
    erlang_c,
    erlang_c_asa,
    erlang_c_service_level,
)

_EPS = 1e-16
_TINY = 1e-300
_MAX_TERMS = 10_000_000


@dataclass(frozen=True)
class Staffing:
    """The agents one interval needs and what the callers get with them.

    ``agents`` are on the phones (N); ``scheduled_agents`` = ceil(N / (1 − shrinkage)) are rostered
    so that N remain after breaks, training and absence. ``service_level`` is the share of offered
    calls answered within the threshold; ``asa_seconds`` the mean wait of answered calls;
    ``occupancy`` the share of on-phone time spent handling calls; ``wait_probability`` the share
    of callers who wait at all. ``abandon_share`` is the share of offered calls that hang up
    (Erlang A only; None under Erlang C, which assumes nobody does).
    """

    traffic_erlangs: float
    agents: int
    scheduled_agents: int
    service_level: float
    asa_seconds: float
    occupancy: float
    wait_probability: float
    abandon_share: float | None = None


@dataclass(frozen=True)
class ErlangA:
    """Erlang A (M/M/N+M) figures for one N: shares 0..1, ``asa_seconds`` over answered calls."""

    wait_probability: float
    service_level: float
    abandon_share: float
    asa_seconds: float
    occupancy: float


def occupancy(traffic_erlangs: float, agents: int) -> float:
    """Share (0..1) of the agents' time on calls under Erlang C: A/N, capped at 1 (N ≤ A)."""
    if agents <= 0:
        return 0.0
    return min(traffic_erlangs / agents, 1.0)


def _log_series(b: float, z: float) -> float:
    """ln Σ_j z^j / ((b+1)(b+2)…(b+j)) for b > 0, z > 0: the series of the regularized lower
    incomplete gamma P(b, z) = z^b·e^(−z)/Γ(b+1) · Σ (Abramowitz & Stegun 6.5.29).

    Below the mean (z < b + 1) the terms only shrink and are summed directly; above it the sum is
    Γ(b+1)·e^z·z^(−b)·(1 − Q(b, z)) with Q from Legendre's continued fraction (evaluated by the
    modified Lentz method), which converges fast there.
    """
    if z < b + 1:
        total, term, j = 1.0, 1.0, 0
        while term > _EPS * total and j < _MAX_TERMS:
            j += 1
            term *= z / (b + j)
            total += term
        return math.log(total)
    upper = _upper_regularized_gamma(b, z)
    return math.lgamma(b + 1) + z - b * math.log(z) + math.log1p(-upper)


def _upper_regularized_gamma(b: float, z: float) -> float:
    """Q(b, z) = Γ(b, z)/Γ(b) by the continued fraction, for z ≥ b + 1."""
    bb = z + 1 - b
    c = 1 / _TINY
    d = 1 / bb
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - b)
        bb += 2
        d = an * d + bb
        d = _TINY if abs(d) < _TINY else d
        c = bb + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < _EPS:
            break
    return math.exp(-z + b * math.log(z) - math.lgamma(b)) * h


def _validate(traffic_erlangs: float, agents: int, aht_seconds: float,
              patience_seconds: float) -> None:
    if traffic_erlangs < 0:
        raise ValueError("traffic must be at least 0 erlangs")
    if agents < 0:
        raise ValueError("agents must be at least 0")
    if aht_seconds <= 0:
        raise ValueError("average handle time must be more than 0 seconds")
    if patience_seconds <= 0:
        raise ValueError("patience must be more than 0 seconds")


def erlang_a(traffic_erlangs: float, agents: int, aht_seconds: float, patience_seconds: float,
             answer_within_seconds: float = 0.0) -> ErlangA:
    """Erlang A (M/M/N+M, Palm's model) for ``agents`` agents; see the module docstring.

    ``traffic_erlangs`` = arrival rate × AHT; ``patience_seconds`` is the callers' mean time before
    hanging up. The service level counts calls answered within ``answer_within_seconds`` over all
    offered calls (a caller who hangs up is not answered). ASA is the mean wait of answered calls,
    summed over the number of callers ahead on arrival (a caller with j ahead is answered with
    probability Nμ/(Nμ + (j+1)θ) after passing stages with rates Nμ + (i+1)θ, i = 0..j).

    Raises ValueError for negative traffic or agents, or AHT, patience ≤ 0.
    """
    figures, answered_waited = _erlang_a_without_asa(
        traffic_erlangs, agents, aht_seconds, patience_seconds, answer_within_seconds)
    if figures.wait_probability == 0 or answered_waited == 0:
        return replace(figures, asa_seconds=0.0)
    answered = 1 - figures.abandon_share
    if answered <= 0:
        return replace(figures, asa_seconds=math.inf)
    mu, theta = 1 / aht_seconds, 1 / patience_seconds
    x, a = traffic_erlangs * mu / theta, agents * mu / theta
    waited = _mean_wait_if_answered(x, a, agents * mu, theta)
    return replace(figures, asa_seconds=figures.wait_probability * answered_waited * waited
                   / answered)


def _erlang_a_without_asa(traffic_erlangs: float, agents: int, aht_seconds: float,
                          patience_seconds: float,
                          answer_within_seconds: float) -> tuple[ErlangA, float]:
    """Erlang A without ASA (the costly part), and the share of waiting callers answered."""
    _validate(traffic_erlangs, agents, aht_seconds, patience_seconds)
    if answer_within_seconds < 0:
        raise ValueError("the answer threshold must be at least 0 seconds")
    if traffic_erlangs == 0:
        return ErlangA(0.0, 1.0, 0.0, 0.0, 0.0), 0.0
    if agents == 0:
        return ErlangA(1.0, 0.0, 1.0, 0.0, 0.0), 0.0
    mu = 1 / aht_seconds
    theta = 1 / patience_seconds
    lam = traffic_erlangs * mu
    x = lam / theta
    a = agents * mu / theta
    blocking = erlang_b(traffic_erlangs, agents)
    log_s = _log_series(a, x)
    # Pw = S / (R + S), R = Σ_{k<N} π_k/π_N = 1/B − 1 (B the Erlang B blocking of N agents).
    if blocking <= 0:
        wait = 0.0
    else:
        below = 1 / blocking - 1
        wait = 1.0 if below <= 0 else 1 / (1 + math.exp(math.log(below) - log_s))
    s = math.exp(min(log_s, 700.0))
    # Abandonment (Mandelbaum & Zeltyn): P(Ab | waited) = 1 − 1/ρ + 1/(ρS), ρ = λ/(Nμ) = x/a.
    abandon_if_waited = min(max(1 - a / x + a / (x * s), 0.0), 1.0)
    # Answered after waiting at most t: (a/x)·[P(a+1, x) − P(a+1, y)] / P(a, x), y = x·e^(−θt).
    t = answer_within_seconds
    y = x * math.exp(-theta * t)
    log_ratio_all = math.log(x) - math.log(a + 1) + _log_series(a + 1, x) - log_s
    log_ratio_late = (-agents * mu * t + math.log(x) - theta * t - math.log(a + 1)
                      + x * -math.expm1(-theta * t) + _log_series(a + 1, y) - log_s)
    within_if_waited = (a / x) * (math.exp(log_ratio_all) - math.exp(log_ratio_late))
    answered_waited = (a / x) * math.exp(log_ratio_all)
    service = (1 - wait) + wait * max(within_if_waited, 0.0)
    abandon = wait * abandon_if_waited
    answered = 1 - abandon
    return ErlangA(
        wait_probability=wait,
        service_level=min(service, 1.0),
        abandon_share=abandon,
        asa_seconds=math.nan,
        occupancy=min(traffic_erlangs * answered / agents, 1.0),
    ), answered_waited


def _mean_wait_if_answered(x: float, a: float, service_rate: float, theta: float) -> float:
    """E[wait | waited and answered] in seconds, by the sum over j callers ahead on arrival.

    Weights are the queue states' shares x^j/((a+1)…(a+j)), rescaled as they grow so that
    nothing overflows; the cost grows with max(0, x − a), the overload in patience units.
    """
    weight = 1.0
    stages = 1 / (service_rate + theta)  # Σ_{i=0}^{j} 1/(Nμ + (i+1)θ)
    answered = service_rate / (service_rate + theta)  # P(answered | j ahead)
    total = weight * answered
    timed = weight * answered * stages
    j = 0
    while j < _MAX_TERMS:
        j += 1
        weight *= x / (a + j)
        stages += 1 / (service_rate + (j + 1) * theta)
        answered = service_rate / (service_rate + (j + 1) * theta)
        total += weight * answered
        timed += weight * answered * stages
        if weight > 1e250:
            weight, total, timed = weight / 1e250, total / 1e250, timed / 1e250
        if j > x - a and weight * answered * stages <= _EPS * timed:
            break
    return timed / total if total > 0 else 0.0


def agents_for(
    calls: float,
    interval_seconds: float,
    aht_seconds: float,
    target_sl: float,
    answer_within_seconds: float,
    *,
    max_occupancy: float | None = None,
    shrinkage: float = 0.0,
    patience_seconds: float | None = None,
) -> Staffing:
    """The fewest agents on the phones (N) for ``calls`` offered in ``interval_seconds``.

    N is the smallest number whose service level (share of offered calls answered within
    ``answer_within_seconds``) reaches ``target_sl`` and, if ``max_occupancy`` is given, whose
    occupancy stays at or below it. Without ``patience_seconds`` the model is Erlang C; with it,
    Erlang A (callers hang up after that mean wait). No calls need no agents (N = 0, SL 1).
    Scheduled agents = ceil(N / (1 − shrinkage)).

    Raises ValueError for negative calls, interval or AHT ≤ 0, target or max occupancy outside
    (0, 1), a negative threshold, shrinkage outside [0, 1), or patience ≤ 0.
    """
    if calls < 0:
        raise ValueError("calls must be at least 0")
    if interval_seconds <= 0:
        raise ValueError("the interval must be more than 0 seconds")
    if aht_seconds <= 0:
        raise ValueError("average handle time must be more than 0 seconds")
    if not 0 < target_sl < 1:
        raise ValueError("the service level target must be between 0 and 1 (exclusive)")
    if answer_within_seconds < 0:
        raise ValueError("the answer threshold must be at least 0 seconds")
    if max_occupancy is not None and not 0 < max_occupancy < 1:
        raise ValueError("the maximum occupancy must be between 0 and 1 (exclusive)")
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be at least 0 and below 1")
    if patience_seconds is not None and patience_seconds <= 0:
        raise ValueError("patience must be more than 0 seconds")
    traffic = calls * aht_seconds / interval_seconds
    if traffic == 0:
        return Staffing(0.0, 0, 0, 1.0, 0.0, 0.0, 0.0, None if patience_seconds is None else 0.0)
    if patience_seconds is None:
        agents = max(int(math.floor(traffic)) + 1, 1)
        if max_occupancy is not None:
            agents = max(agents, math.ceil(traffic / max_occupancy - 1e-9))
        while erlang_c_service_level(traffic, agents, aht_seconds,
                                     answer_within_seconds) < target_sl:
            agents += 1
        return Staffing(
            traffic_erlangs=traffic,
            agents=agents,
            scheduled_agents=_scheduled(agents, shrinkage),
            service_level=erlang_c_service_level(traffic, agents, aht_seconds,
                                                 answer_within_seconds),
            asa_seconds=erlang_c_asa(traffic, agents, aht_seconds),
            occupancy=occupancy(traffic, agents),
            wait_probability=erlang_c(traffic, agents),
        )
    # Fewer than target·A agents cannot answer the target share: they answer at most N/A of calls.
    agents = max(math.ceil(target_sl * traffic - 1e-9), 1)
    while True:
        figures, _ = _erlang_a_without_asa(traffic, agents, aht_seconds, patience_seconds,
                                           answer_within_seconds)
        enough = figures.service_level >= target_sl
        if enough and (max_occupancy is None or figures.occupancy <= max_occupancy):
            break
        agents += 1
    figures = erlang_a(traffic, agents, aht_seconds, patience_seconds, answer_within_seconds)
    return Staffing(
        traffic_erlangs=traffic,
        agents=agents,
        scheduled_agents=_scheduled(agents, shrinkage),
        service_level=figures.service_level,
        asa_seconds=figures.asa_seconds,
        occupancy=figures.occupancy,
        wait_probability=figures.wait_probability,
        abandon_share=figures.abandon_share,
    )


def _scheduled(agents: int, shrinkage: float) -> int:
    # The tolerance keeps 7 / (1 − 0.3) = 10.000000000000002 at 10, not 11.
    return math.ceil(agents / (1 - shrinkage) - 1e-9)
