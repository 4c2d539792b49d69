"""The pacing arithmetic against the oracles of OUTBOUND.md (independent numbers)."""

from __future__ import annotations

import random

import pytest

from chalicelib.campaigns.pacing import (
    dial_level,
    erlang_b,
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
