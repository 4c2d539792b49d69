"""Calls per second: the weighted share of one account's capacity, and the shared limiter."""

from __future__ import annotations

import random
from math import ceil

import pytest

from chalicelib.campaigns.throttle import RateLimiter, share


class DictCounter:
    """The shared counter as the simulation has it: one count per window start."""

    def __init__(self):
        self.counts: dict[int, int] = {}

    def __call__(self, second: int) -> int:
        self.counts[second] = self.counts.get(second, 0) + 1
        return self.counts[second]


# -- share -------------------------------------------------------------------------------------

def test_enough_for_everyone_gives_every_demand():
    assert share(10, {"a": 3, "b": 4}, {"a": 1, "b": 5}) == {"a": 3, "b": 4}


def test_equal_weights_split_evenly():
    assert share(10, {"a": 20, "b": 20}, {"a": 1, "b": 1}) == {"a": 5, "b": 5}


def test_weights_set_the_proportions():
    assert share(12, {"a": 50, "b": 50}, {"a": 3, "b": 1}) == {"a": 9, "b": 3}


def test_what_one_leaves_goes_to_the_others():
    # c wants 1 of its 2.5: the 1.5 left goes to a and b by their weights
    assert share(10, {"a": 10, "b": 10, "c": 1}, {"a": 2, "b": 1, "c": 1}) == \
        {"a": 6, "b": 3, "c": 1}
    assert share(10, {"a": 2, "b": 100}, {"a": 5, "b": 1}) == {"a": 2, "b": 8}


def test_whole_calls_by_largest_remainder_ties_by_name():
    assert share(7, {"a": 10, "b": 10, "c": 10}, {}) == {"a": 3, "b": 2, "c": 2}
    assert share(7, {"c": 10, "b": 10, "a": 10}, {}) == {"a": 3, "b": 2, "c": 2}
    # 10 by 1:1:1.2 -> 3.125, 3.125, 3.75: the 1 left goes to the largest remainder, c
    assert share(10, {"a": 9, "b": 9, "c": 9}, {"a": 1, "b": 1, "c": 1.2}) == \
        {"a": 3, "b": 3, "c": 4}


def test_a_tie_for_the_last_call_goes_to_each_in_turn():
    """Three campaigns tied for two texts a round: rotated by the round's number, each gets
    two texts in three rounds; by name alone, c would never get one."""
    demands = {"a": 2, "b": 2, "c": 2}
    assert share(2, demands, {}) == share(2, demands, {}, turn=0) == {"a": 1, "b": 1, "c": 0}
    rounds = [share(2, demands, {}, turn=turn) for turn in range(3)]
    assert {name: sum(r[name] for r in rounds) for name in demands} == {"a": 2, "b": 2, "c": 2}
    assert all(sum(r.values()) == 2 for r in rounds)
    # a larger remainder still wins, whatever the turn
    weighted = {"a": 1, "b": 1, "c": 1.2}
    assert {tuple(share(10, {"a": 9, "b": 9, "c": 9}, weighted, turn=t).values())
            for t in range(3)} == {(3, 3, 4)}


def test_no_demand_no_weight_no_capacity():
    assert share(10, {"a": 0, "b": 4}, {"a": 1, "b": 1}) == {"a": 0, "b": 4}
    assert share(10, {"a": 10, "b": 10}, {"a": 0, "b": 1}) == {"a": 0, "b": 10}
    assert share(0, {"a": 10}, {"a": 1}) == {"a": 0}
    assert share(5, {}, {"a": 1}) == {}
    assert share(5, {"a": 10}, {}) == {"a": 5}  # a missing weight is 1


@pytest.mark.parametrize(("capacity", "demands", "weights"), [
    (-1, {"a": 1}, {}), (5, {"a": -1}, {}), (5, {"a": 1}, {"a": -0.5}),
])
def test_negative_inputs_are_refused(capacity, demands, weights):
    with pytest.raises(ValueError):
        share(capacity, demands, weights)


def test_the_share_keeps_its_promises_on_random_inputs():
    rng = random.Random(11)
    for _ in range(500):
        names = [f"c{i}" for i in range(rng.randint(1, 6))]
        demands = {n: rng.choice([0, rng.randint(0, 30)]) for n in names}
        weights = {n: rng.choice([0.0, 0.5, 1.0, 2.0, rng.uniform(0, 5)]) for n in names}
        capacity = rng.randint(0, 60)
        got = share(capacity, demands, weights)
        assert got == share(capacity, dict(reversed(demands.items())), weights)  # deterministic
        assert set(got) == set(demands)
        assert sum(got.values()) <= capacity
        assert all(0 <= got[n] <= demands[n] for n in names)
        eligible = [n for n in names if demands[n] > 0 and weights[n] > 0]
        assert all(got[n] == 0 for n in names if n not in eligible)
        # work-conserving: capacity stays unused only if every eligible demand is met
        if sum(got.values()) < capacity:
            assert all(got[n] == demands[n] for n in eligible)
        # fair: each within one call of the exact weighted max-min share min(d, λ·w), where
        # λ (found here by bisection) makes the shares add up to the capacity
        if sum(demands[n] for n in eligible) > capacity:
            low, high = 0.0, 1e6
            for _ in range(200):
                level = (low + high) / 2
                if sum(min(demands[n], level * weights[n]) for n in eligible) < capacity:
                    low = level
                else:
                    high = level
            for n in eligible:
                exact = min(demands[n], high * weights[n])
                assert exact - 1 - 1e-6 < got[n] < exact + 1 + 1e-6


# -- RateLimiter -------------------------------------------------------------------------------

def test_one_per_second():
    counter = DictCounter()
    limiter = RateLimiter(1, counter)
    assert limiter.wait(100.2) == 0.0
    assert limiter.wait(100.5) == pytest.approx(0.5)  # taken: try at 101
    assert limiter.wait(101.0) == 0.0


def test_integer_rates_allow_that_many_each_second():
    limiter = RateLimiter(5, DictCounter())
    assert [limiter.wait(7.1) for _ in range(6)] == [0.0] * 5 + [pytest.approx(0.9)]
    assert limiter.wait(8.0) == 0.0


def test_half_a_call_per_second_is_one_every_other_second():
    counter = DictCounter()
    limiter = RateLimiter(0.5, counter)
    assert [limiter.allowance(s) for s in range(6)] == [0, 1, 0, 1, 0, 1]
    assert limiter.wait(10.25) == pytest.approx(0.75)  # second 10 allows nothing
    assert counter.counts == {}  # ... and is not even asked
    assert limiter.wait(11.0) == 0.0
    assert limiter.wait(11.5) == pytest.approx(1.5)  # 12 allows nothing: 13


def test_fractional_rates_spread_evenly():
    limiter = RateLimiter(2.5, DictCounter())
    assert [limiter.allowance(s) for s in range(4)] == [2, 3, 2, 3]
    limiter = RateLimiter(0.3, DictCounter())
    allowances = [limiter.allowance(s) for s in range(10)]
    assert sum(allowances) == 3 and max(allowances) == 1
    assert limiter.wait(0.0) == pytest.approx(3.0)  # first slot: second 3


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 1, 1.5, 2.5, 7, 10, 33.3])
def test_every_rate_holds_over_any_span(rate):
    limiter = RateLimiter(rate, DictCounter())
    allowances = [limiter.allowance(s) for s in range(1_700_000_000, 1_700_001_000)]
    assert max(allowances) <= ceil(rate)
    for span in (1, 10, 100, 1000):
        for start in range(0, 1000 - span + 1, span):
            assert sum(allowances[start:start + span]) <= ceil(rate * span)
    assert sum(allowances) == pytest.approx(rate * 1000, abs=1)


def test_many_dispatchers_sharing_one_counter_stay_within_the_rate():
    counter = DictCounter()
    limiters = [RateLimiter(3, counter) for _ in range(8)]
    placed: dict[int, int] = {}
    rng = random.Random(5)
    retry = [rng.uniform(0, 1) for _ in limiters]
    for _ in range(4000):
        i = min(range(len(limiters)), key=lambda j: retry[j])
        wait = limiters[i].wait(retry[i])
        if wait == 0:
            placed[int(retry[i])] = placed.get(int(retry[i]), 0) + 1
            retry[i] += rng.uniform(0.05, 0.2)
        else:
            assert wait > 0
            retry[i] += wait
    assert max(placed.values()) == 3
    assert all(placed.get(s, 0) == 3 for s in range(1, int(max(retry)) - 1))  # never idle


def test_a_refused_claim_says_when_to_come_back_never_now():
    limiter = RateLimiter(2, DictCounter())
    limiter.wait(5.0), limiter.wait(5.1)
    assert limiter.wait(5.999) == pytest.approx(0.001)
    assert limiter.wait(6.0) == 0.0


@pytest.mark.parametrize("rate", [0, -1, float("nan")])
def test_a_rate_must_be_positive(rate):
    with pytest.raises(ValueError):
        RateLimiter(rate, DictCounter())
