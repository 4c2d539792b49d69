"""How many numbers to dial for the agents free now, kept under an abandonment target.

One round of a predictive dialler rings ``n`` numbers for ``k`` free agents; each is answered by a
person with probability ``p``. The people beyond ``k`` have nobody to talk to: abandoned calls.
With X ~ Binomial(n, p) answered, the expected abandoned share of live answers is
E[(X − k)+] / E[X] (the one-round oracle of ``../shared/docs/OUTBOUND.md``: p = 0.3, k = 5,
n = 10 → 1.99 %; k = 10 → at most 26 numbers within 3 %). ``dial_level`` picks the largest n
within the target; when that is k itself (one agent, or a target near zero) predictive dialling
cannot stay within it and the campaign dials progressively: one number per free agent.

The 3 % default is the US rule (FTC TSR 16 CFR 310.4(b)(4)(i): abandoned calls at most 3 % of
calls answered by a person, per campaign per 30 days); Ofcom's UK rule is the same share per 24 h.
"""

from __future__ import annotations

from math import exp, lgamma, log, log1p

DEFAULT_ABANDON_TARGET = 0.03
MAX_DIAL_RATIO = 10  # never ring more than ten numbers per free agent, whatever the estimate


def expected_abandon_share(n: int, free_agents: int, answer_rate: float) -> float:
    """E[(X − k)+] / E[X] for X ~ Binomial(``n``, ``answer_rate``) and k = ``free_agents``: the
    expected share of live answers with no agent. 0 when nobody can answer.

    The binomial probabilities are taken in logs, so thousands of numbers neither overflow nor
    underflow, and the excess is a sum of positive terms (no cancellation)."""
    if n <= 0 or answer_rate <= 0:
        return 0.0
    if not 0 < answer_rate <= 1:
        raise ValueError("answer_rate must be in (0, 1]")
    k = max(0, free_agents)
    if k >= n:
        return 0.0
    if answer_rate == 1:
        return (n - k) / n
    log_p, log_q, log_n = log(answer_rate), log1p(-answer_rate), lgamma(n + 1)
    expected_excess = sum((x - k) * exp(log_n - lgamma(x + 1) - lgamma(n - x + 1)
                                        + x * log_p + (n - x) * log_q)
                          for x in range(k + 1, n + 1))
    return expected_excess / (n * answer_rate)


def dial_level(free_agents: int, answer_rate: float,
               target: float = DEFAULT_ABANDON_TARGET, max_numbers: int | None = None) -> int:
    """How many numbers to ring now: the largest n (at least ``free_agents``, at most
    ``MAX_DIAL_RATIO`` each, and at most ``max_numbers`` when given) whose expected abandoned
    share stays within ``target``. Returns ``free_agents`` (progressive dialling) when no larger
    n does.

    The share grows with n (E[(X − k)+] is convex in n and 0 at n = 0, so its ratio to n·p never
    falls), so a binary search finds the same n a scan upwards would."""
    if free_agents <= 0:
        return 0
    if answer_rate <= 0:
        return free_agents  # no estimate yet: one number per agent
    limit = free_agents * MAX_DIAL_RATIO
    if max_numbers is not None:
        limit = min(limit, max_numbers)
    low, high = free_agents, limit  # the share is within target at low (0); maybe not at high
    if high <= low:
        return free_agents
    if expected_abandon_share(high, free_agents, answer_rate) <= target:
        return high
    while high - low > 1:  # invariant: within target at low, over it at high
        middle = (low + high) // 2
        if expected_abandon_share(middle, free_agents, answer_rate) <= target:
            low = middle
        else:
            high = middle
    return low


def is_progressive(free_agents: int, answer_rate: float,
                   target: float = DEFAULT_ABANDON_TARGET) -> bool:
    """True when predictive dialling cannot beat one number per agent within ``target`` (a
    small team: see the k = 1 oracle, 15 % at n = 2)."""
    return dial_level(free_agents, answer_rate, target) <= free_agents


def erlang_b(servers: int, offered_erlangs: float) -> float:
    """Erlang B blocking probability (the open-loop oracle a pacer must beat: dial as a Poisson
    stream, drop an answered call with no free agent). Iterative, stable for large ``servers``."""
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = offered_erlangs * blocking / (n + offered_erlangs * blocking)
    return blocking


def erlang_b_offered(servers: int, blocking: float) -> float:
    """The offered traffic A (erlangs) at which ``erlang_b(servers, A)`` equals ``blocking``:
    the open-loop dialler that would drop that share of answers. 0 for no blocking (or no
    servers); ValueError unless 0 <= ``blocking`` < 1. Bisection, to 1e-9 erlangs."""
    if not 0 <= blocking < 1:
        raise ValueError("blocking must be in [0, 1)")
    if blocking == 0 or servers <= 0:
        return 0.0
    low, high = 0.0, float(servers) + 1
    while erlang_b(servers, high) < blocking:  # B grows with A, towards 1
        low, high = high, 2 * high
    while high - low > 1e-9 * max(1.0, high):
        middle = (low + high) / 2
        if erlang_b(servers, middle) < blocking:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def erlang_b_utilisation(servers: int, blocking: float) -> float:
    """The agents' busy share A(1 − B)/N of the open-loop dialler dropping ``blocking`` of its
    answers (OUTBOUND.md: 3 % → N = 10 53.6 %, 20 67.9 %, 50 81.3 %): what a closed-loop pacer
    must beat at the same measured abandonment. 0 with no servers."""
    if servers <= 0:
        return 0.0
    return erlang_b_offered(servers, blocking) * (1 - blocking) / servers
