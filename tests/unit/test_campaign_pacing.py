"""The pacing arithmetic against the oracles of OUTBOUND.md (independent numbers)."""

from __future__ import annotations

import random

import pytest

from chalicelib.campaigns.pacing import (
    dial_level,
    erlang_b,
    erlang_b_offered,
    erlang_b_utilisation,
    expected_abandon_share,
    is_progressive,
)


@pytest.mark.parametrize(("n", "k", "p", "share"), [
    (10, 5, 0.3, 0.0199),  # OUTBOUND.md: 1.99 %
    (17, 5, 0.3, 0.155),  # n = k / p: 15.5 %
    (26, 10, 0.3, 0.0288),  # the largest n within 3 % for ten agents
    (2, 1, 0.3, 0.15),  # one agent: 15 % at the first extra number
])
def test_the_one_round_binomial_oracle(n, k, p, share):
    assert expected_abandon_share(n, k, p) == pytest.approx(share, abs=0.0005)


def test_the_expectation_agrees_with_sampling():
    rng = random.Random(7)
    n, k, p, rounds = 20, 8, 0.4, 40_000
    abandoned = answered = 0
    for _ in range(rounds):
        x = sum(rng.random() < p for _ in range(n))
        answered += x
        abandoned += max(0, x - k)
    assert abandoned / answered == pytest.approx(expected_abandon_share(n, k, p), abs=0.002)


def test_the_dial_level_is_the_largest_within_the_target():
    assert dial_level(10, 0.3) == 26
    assert expected_abandon_share(27, 10, 0.3) > 0.03
    assert dial_level(5, 0.3) >= 10  # 10 numbers give 1.99 %
    assert dial_level(5, 1.0) == 5  # everyone answers: no room to over-dial


def test_small_teams_fall_back_to_progressive():
    assert is_progressive(1, 0.3)  # 15 % at n = 2
    assert not is_progressive(10, 0.3)
    assert dial_level(0, 0.3) == 0
    assert dial_level(3, 0.0) == 3  # no answer-rate estimate yet


@pytest.mark.parametrize(("servers", "erlangs", "utilisation"), [
    (10, 5.53, 0.536), (20, 14.00, 0.679), (50, 41.93, 0.813), (100, 90.79, 0.881),
])
def test_the_open_loop_erlang_b_oracle(servers, erlangs, utilisation):
    blocking = erlang_b(servers, erlangs)
    assert blocking == pytest.approx(0.03, abs=0.001)
    assert erlangs * (1 - blocking) / servers == pytest.approx(utilisation, abs=0.001)


@pytest.mark.parametrize(("servers", "blocking", "erlangs", "utilisation"), [
    (10, 0.03, 5.53, 0.536), (20, 0.03, 14.00, 0.679), (50, 0.03, 41.93, 0.813),
    (100, 0.03, 90.79, 0.881),
    (10, 0.01, None, 0.442), (20, 0.01, None, 0.596), (50, 0.01, None, 0.750),
    (100, 0.01, None, 0.832),
])
def test_the_erlang_b_oracle_inverted(servers, blocking, erlangs, utilisation):
    offered = erlang_b_offered(servers, blocking)
    assert erlang_b(servers, offered) == pytest.approx(blocking, rel=1e-6)
    if erlangs is not None:
        assert offered == pytest.approx(erlangs, abs=0.005)
    assert erlang_b_utilisation(servers, blocking) == pytest.approx(utilisation, abs=0.001)


def test_the_inverse_at_the_edges():
    assert erlang_b_offered(10, 0.0) == 0.0
    assert erlang_b_utilisation(10, 0.0) == 0.0
    assert erlang_b_utilisation(0, 0.03) == 0.0
    assert erlang_b_offered(1, 0.9) == pytest.approx(9.0)  # B(1, A) = A / (1 + A)
    for bad in (-0.01, 1.0):
        with pytest.raises(ValueError):
            erlang_b_offered(10, bad)


def _share_by_comb(n, k, p):
    from math import comb

    return sum((x - k) * comb(n, x) * p ** x * (1 - p) ** (n - x)
               for x in range(k + 1, n + 1)) / (n * p)


@pytest.mark.parametrize(("n", "k", "p"), [(1, 0, 0.3), (7, 3, 0.5), (40, 9, 0.27), (60, 1, 0.05)])
def test_the_share_agrees_with_the_textbook_sum(n, k, p):
    assert expected_abandon_share(n, k, p) == pytest.approx(_share_by_comb(n, k, p), rel=1e-9)


def test_the_share_edges():
    assert expected_abandon_share(0, 3, 0.3) == 0.0
    assert expected_abandon_share(5, 5, 0.3) == 0.0  # never more answers than agents
    assert expected_abandon_share(4, 1, 1.0) == 0.75  # everyone answers, one agent
    with pytest.raises(ValueError):
        expected_abandon_share(4, 1, 1.5)


def test_large_campaigns_neither_overflow_nor_crawl():
    # 200 agents and a 5 % answer rate: the old sum of comb(n, x) overflowed a float here
    assert dial_level(200, 0.05) == 2000  # the ten-per-agent limit binds
    assert dial_level(200, 0.05, max_numbers=600) == 600
    # n·p = k: the excess is about σ·φ(0) = sqrt(n·p·q / 2π) (normal approximation)
    sigma = (4000 * 0.05 * 0.95) ** 0.5
    normal = sigma / (2 * 3.141592653589793) ** 0.5 / 200
    assert expected_abandon_share(4000, 200, 0.05) == pytest.approx(normal, abs=0.0005)


def test_the_binary_search_finds_what_a_scan_upwards_finds():
    for k in range(1, 25):
        for p in (0.05, 0.17, 0.3, 0.62, 0.9):
            for target in (0.005, 0.03, 0.1):
                n = k
                while n < 10 * k and expected_abandon_share(n + 1, k, p) <= target:
                    n += 1
                assert dial_level(k, p, target) == n, (k, p, target)


def test_a_ceiling_on_numbers():
    assert dial_level(10, 0.3, max_numbers=20) == 20
    assert dial_level(10, 0.3, max_numbers=5) == 10  # never fewer than one per agent


# ---- agents about to free up: K = k + Binomial(talking, q) ---------------------------------------

def _share_with_returns_by_comb(n, k, p, talking, q):
    """E[(X − k − Y)+] / E[X], X ~ Bin(n, p), Y ~ Bin(talking, q), as a plain double sum."""
    from math import comb

    excess = sum(comb(n, x) * p ** x * (1 - p) ** (n - x)
                 * comb(talking, y) * q ** y * (1 - q) ** (talking - y) * (x - k - y)
                 for x in range(n + 1) for y in range(talking + 1) if x > k + y)
    return excess / (n * p)


@pytest.mark.parametrize(("n", "k", "p", "talking", "q"), [
    (1, 0, 0.3, 1, 0.5), (4, 1, 0.3, 1, 0.11), (7, 3, 0.5, 2, 0.3), (12, 2, 0.3, 8, 0.109),
    (26, 10, 0.3, 5, 0.2), (40, 9, 0.27, 30, 0.05), (60, 1, 0.05, 3, 0.9), (9, 0, 0.6, 12, 0.4),
    (120, 15, 0.3, 60, 0.12),
])
def test_the_share_with_agents_freeing_up_agrees_with_the_brute_force_sum(n, k, p, talking, q):
    share = expected_abandon_share(n, k, p, talking=talking, free_rate=q)
    assert share == pytest.approx(_share_with_returns_by_comb(n, k, p, talking, q),
                                  rel=1e-9, abs=1e-15)


def test_the_share_with_agents_freeing_up_agrees_with_sampling():
    rng = random.Random(11)
    n, k, p, talking, q, rounds = 20, 3, 0.4, 12, 0.25, 40_000
    abandoned = answered = 0
    for _ in range(rounds):
        x = sum(rng.random() < p for _ in range(n))
        y = sum(rng.random() < q for _ in range(talking))
        answered += x
        abandoned += max(0, x - k - y)
    assert abandoned / answered == pytest.approx(
        expected_abandon_share(n, k, p, talking=talking, free_rate=q), abs=0.003)


def test_without_agents_freeing_up_the_share_is_the_one_round_oracle():
    for n, k, p in ((10, 5, 0.3), (26, 10, 0.3), (2, 1, 0.3)):
        old = expected_abandon_share(n, k, p)
        assert expected_abandon_share(n, k, p, talking=0, free_rate=0.4) == old
        assert expected_abandon_share(n, k, p, talking=7, free_rate=0.0) == old
        # everyone talking frees up for sure: that many more agents
        assert expected_abandon_share(n, k, p, talking=3, free_rate=1.0) == pytest.approx(
            expected_abandon_share(n, k + 3, p), rel=1e-9, abs=1e-15)
    assert dial_level(10, 0.3, talking=0, free_rate=0.5) == dial_level(10, 0.3) == 26
    assert dial_level(10, 0.3, talking=9, free_rate=0.0) == 26


def test_agents_freeing_up_lower_the_share_and_raise_the_dial_level():
    shares = [expected_abandon_share(26, 10, 0.3, talking=t, free_rate=0.11) for t in (0, 5, 20)]
    assert shares[0] > shares[1] > shares[2] > 0
    levels = [dial_level(10, 0.3, talking=t, free_rate=0.11) for t in range(0, 60, 5)]
    assert levels == sorted(levels) and levels[0] == 26 and levels[-1] > 26
    assert dial_level(10, 0.3, talking=20, free_rate=0.2) > dial_level(10, 0.3, talking=20,
                                                                        free_rate=0.1)


def test_nobody_ready_and_agents_freeing_up():
    # the share is then positive from the first number: P(Y = 0) of one answer is lost
    assert expected_abandon_share(1, 0, 0.3, talking=1, free_rate=0.25) == pytest.approx(0.75)
    assert dial_level(0, 0.3, talking=2, free_rate=0.1) == 0  # 1 number: 81 % lost
    assert dial_level(0, 0.3, talking=60, free_rate=0.5) > 0  # 30 agents expected


def test_the_binary_search_with_agents_freeing_up_finds_what_a_scan_finds():
    for k in (1, 2, 5, 12):
        for talking in (1, 8, 30):
            for p, q in ((0.3, 0.11), (0.17, 0.4), (0.62, 0.05)):
                target = 0.03
                limit = int(10 * (k + q * talking) + 1e-9)
                n = k
                while n < limit and expected_abandon_share(
                        n + 1, k, p, talking=talking, free_rate=q) <= target:
                    n += 1
                assert dial_level(k, p, target, talking=talking, free_rate=q) == n


def test_large_campaigns_with_agents_freeing_up_neither_overflow_nor_crawl():
    import time

    started = time.perf_counter()
    for _ in range(20):
        most = dial_level(20, 0.3, talking=180, free_rate=0.11)
    assert (time.perf_counter() - started) / 20 < 0.05  # well under a millisecond, in fact
    assert dial_level(20, 0.3) < most < 10 * (20 + 0.11 * 180)
    # a 5 % answer rate: ten numbers per agent expected (20 + 19.8) is the limit that binds
    assert dial_level(20, 0.05, talking=180, free_rate=0.11) == 398
    assert expected_abandon_share(4000, 200, 0.05, talking=200, free_rate=0.5) < 1e-6


def test_an_impossible_free_rate_is_refused():
    for bad in (-0.1, 1.1):
        with pytest.raises(ValueError):
            expected_abandon_share(10, 2, 0.3, talking=3, free_rate=bad)
        with pytest.raises(ValueError):
            dial_level(10, 0.3, talking=3, free_rate=bad)
