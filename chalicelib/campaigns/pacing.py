"""How many numbers to dial for the agents free now, kept under an abandonment target.

One round of a predictive dialler rings ``n`` numbers for ``k`` free agents; each is answered by a
person with probability ``p``. The people beyond ``k`` have nobody to talk to: abandoned calls.
With X ~ Binomial(n, p) answered, the expected abandoned share of live answers is
E[(X − k)+] / E[X] (the one-round oracle of ``../shared/docs/OUTBOUND.md``: p = 0.3, k = 5,
n = 10 → 1.99 %; k = 10 → at most 26 numbers within 3 %). ``dial_level`` picks the largest n
within the target; when that is k itself (one agent, or a target near zero) predictive dialling
cannot stay within it and the campaign dials progressively: one number per free agent.

Agents now talking (or wrapping up) may free up while the numbers ring: with ``talking`` of them,
each free again by the time an answer arrives with probability ``free_rate``, the agents there
for the answers are K = k + Y, Y ~ Binomial(talking, free_rate), independent of X, and the share
is E[(X − K)+] / E[X]. With H(m) = E[(m − Y)+] = Σ_{j<m} P(Y <= j) (0 for m <= 0) that is
Σ_x P(X = x)·H(x − k) / E[X]: one table of H for Y, then one pass over X's probabilities. Both
binomials are summed exactly where they matter: from the mode outwards by the ratio of
neighbouring terms, stopping where a term falls below 1e-18 (``_binomial``), so 600 numbers for
200 agents cost a few hundred multiplications, not a thousand lgamma calls.

The 3 % default is the US rule (FTC TSR 16 CFR 310.4(b)(4)(i): abandoned calls at most 3 % of
calls answered by a person, per campaign per 30 days); Ofcom's UK rule is the same share per 24 h.
"""

from __future__ import annotations

from collections.abc import Callable
from math import exp, floor, lgamma, log, log1p

DEFAULT_ABANDON_TARGET = 0.03
MAX_DIAL_RATIO = 10  # never ring more than ten numbers per free agent, whatever the estimate
NEGLIGIBLE = 1e-18  # a binomial term below this is left out of the sums (``_binomial``)


def expected_abandon_share(n: int, free_agents: int, answer_rate: float, *, talking: int = 0,
                           free_rate: float = 0.0) -> float:
    """E[(X − K)+] / E[X] for X ~ Binomial(``n``, ``answer_rate``) and K = ``free_agents``
    plus Binomial(``talking``, ``free_rate``) agents freeing up in time (module docstring): the
    expected share of live answers with no agent. 0 when nobody can answer. Without talking
    agents (or with ``free_rate`` 0) K is ``free_agents``, the one-round oracle.

    The binomial probabilities are taken in logs, so thousands of numbers neither overflow nor
    underflow, and the excess is a sum of positive terms (no cancellation). ValueError unless
    0 <= ``free_rate`` <= 1 and ``answer_rate`` <= 1."""
    if not 0 <= free_rate <= 1:
        raise ValueError("free_rate must be in [0, 1]")
    if n <= 0 or answer_rate <= 0:
        return 0.0
    if not 0 < answer_rate <= 1:
        raise ValueError("answer_rate must be in (0, 1]")
    if talking > 0 and free_rate > 0:
        return _share_with_returns(max(0, free_agents), talking, free_rate)(n, answer_rate)
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
               target: float = DEFAULT_ABANDON_TARGET, max_numbers: int | None = None, *,
               talking: int = 0, free_rate: float = 0.0) -> int:
    """How many numbers to ring now: the largest n (at least ``free_agents``, at most
    ``MAX_DIAL_RATIO`` per agent expected there — ``free_agents`` + ``free_rate`` ×
    ``talking`` — and at most ``max_numbers`` when given) whose expected abandoned share stays
    within ``target``, counting the ``talking`` agents that free up in time (module docstring).
    Returns ``free_agents`` (progressive dialling) when no larger n does; ValueError unless
    0 <= ``free_rate`` <= 1.

    The share grows with n (E[(X − k)+] is convex in n and 0 at n = 0, so its ratio to n·p never
    falls; a mixture over k keeps that), so a binary search finds the same n a scan upwards
    would."""
    if not 0 <= free_rate <= 1:
        raise ValueError("free_rate must be in [0, 1]")
    returning = free_rate * talking if talking > 0 and free_rate > 0 else 0.0
    if free_agents <= 0 and returning <= 0:
        return 0
    free_agents = max(0, free_agents)
    if answer_rate <= 0:
        return free_agents  # no estimate yet: one number per agent
    if returning:
        share = _share_with_returns(free_agents, talking, free_rate)
    else:
        def share(n: int, p: float) -> float:
            return expected_abandon_share(n, free_agents, p)
    limit = floor(MAX_DIAL_RATIO * (free_agents + returning) + 1e-9)
    if max_numbers is not None:
        limit = min(limit, max_numbers)
    low, high = free_agents, limit  # the share is within target at low (0); maybe not at high
    if high <= low:
        return free_agents
    if share(high, answer_rate) <= target:
        return high
    while high - low > 1:  # invariant: within target at low, over it at high
        middle = (low + high) // 2
        if share(middle, answer_rate) <= target:
            low = middle
        else:
            high = middle
    return low


def _share_with_returns(free_agents: int, talking: int,
                        free_rate: float) -> Callable[[int, float], float]:
    """E[(X − K)+] / E[X] as a function of (n, p), for K = ``free_agents`` + Y and
    Y ~ Binomial(``talking``, ``free_rate``): H(m) = E[(m − Y)+] is tabulated once (for m past
    Y's last term it is m − E[Y]), then each call sums P(X = x)·H(x − k) over X's terms."""
    first, terms = _binomial(talking, free_rate)
    last = first + len(terms) - 1  # beyond it P(Y <= j) is 1 (to NEGLIGIBLE)
    mean_y = talking * free_rate
    shortfall = [0.0]  # shortfall[m] = H(m) = Σ_{j<m} P(Y <= j), for m = 0 .. last + 1
    below = 0.0  # P(Y <= j)
    for j in range(last + 1):
        if j >= first:
            below += terms[j - first]
        shortfall.append(shortfall[-1] + below)

    def excess(m: int) -> float:
        if m <= 0:
            return 0.0
        if m < len(shortfall):
            return shortfall[m]
        return m - mean_y

    def share(n: int, answer_rate: float) -> float:
        if n <= free_agents or answer_rate <= 0:
            return 0.0  # never more answers than agents ready now
        x_first, x_terms = _binomial(n, answer_rate)
        total = 0.0
        for x in range(max(x_first, free_agents + 1), x_first + len(x_terms)):
            total += x_terms[x - x_first] * excess(x - free_agents)
        return total / (n * answer_rate)

    return share


def _binomial(n: int, p: float) -> tuple[int, list[float]]:
    """The terms of Binomial(``n``, ``p``) that matter: (the first x, [P(X = x), ...]), from the
    mode outwards (its probability in logs, the rest by the ratio of neighbours) until a term
    falls below ``NEGLIGIBLE``. Exact for p = 0 or 1 (a single term)."""
    if p <= 0 or n <= 0:
        return 0, [1.0]
    if p >= 1:
        return n, [1.0]
    mode = min(n, floor((n + 1) * p))
    odds = p / (1 - p)
    peak = exp(lgamma(n + 1) - lgamma(mode + 1) - lgamma(n - mode + 1)
               + mode * log(p) + (n - mode) * log1p(-p))
    upper = [peak]
    x, term = mode, peak
    while x < n:
        term *= (n - x) / (x + 1) * odds
        if term < NEGLIGIBLE:
            break
        upper.append(term)
        x += 1
    lower: list[float] = []
    x, term = mode, peak
    while x > 0:
        term *= x / ((n - x + 1) * odds)
        if term < NEGLIGIBLE:
            break
        lower.append(term)
        x -= 1
    lower.reverse()
    return mode - len(lower), lower + upper


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
