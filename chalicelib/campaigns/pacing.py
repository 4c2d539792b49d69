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

from math import comb

DEFAULT_ABANDON_TARGET = 0.03
MAX_DIAL_RATIO = 10  # never ring more than ten numbers per free agent, whatever the estimate


def expected_abandon_share(n: int, free_agents: int, answer_rate: float) -> float:
    """E[(X − k)+] / E[X] for X ~ Binomial(``n``, ``answer_rate``) and k = ``free_agents``: the
    expected share of live answers with no agent. 0 when nobody can answer."""
    if n <= 0 or answer_rate <= 0:
        return 0.0
    if not 0 < answer_rate <= 1:
        raise ValueError("answer_rate must be in (0, 1]")
    expected_answers = n * answer_rate
    expected_excess = sum(
        (x - free_agents) * comb(n, x) * answer_rate ** x * (1 - answer_rate) ** (n - x)
        for x in range(free_agents + 1, n + 1))
    return expected_excess / expected_answers


def dial_level(free_agents: int, answer_rate: float,
               target: float = DEFAULT_ABANDON_TARGET) -> int:
    """How many numbers to ring now: the largest n (at least ``free_agents``, at most
    ``MAX_DIAL_RATIO`` each) whose expected abandoned share stays within ``target``. Returns
    ``free_agents`` (progressive dialling) when no larger n does."""
    if free_agents <= 0:
        return 0
    if answer_rate <= 0:
        return free_agents  # no estimate yet: one number per agent
    n = free_agents
    limit = free_agents * MAX_DIAL_RATIO
    while n < limit and expected_abandon_share(n + 1, free_agents, answer_rate) <= target:
        n += 1
    return n


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
