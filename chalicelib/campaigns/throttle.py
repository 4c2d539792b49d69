"""Calls (or texts) per second: one account's capacity shared by the campaigns, and kept.

Twilio places 1 call per second per account by default and *queues* the excess rather than
refusing it (OUTBOUND.md), so a dialler that trusts Twilio's queue rings people late. Two pure
pieces keep us inside the limit ourselves:

* ``share`` splits one second's capacity among the campaigns that want to dial, by weight (as
  Amazon Connect's campaigns share dialling capacity): weighted max-min fairness ("water
  filling"), so a campaign never gets more than it asked for and what it leaves goes to the
  others, then whole calls by largest remainder. Deterministic: ties go by campaign name,
  rotated by the caller's round number, so a tie (three campaigns sharing two texts) goes to
  each in turn and none starves.
* ``RateLimiter`` claims a slot from a counter every Lambda shares (a DynamoDB item per second in
  production, a dict in the simulation), so concurrent dispatchers together stay within the
  rate. The rate may be fractional: second s allows ``floor(rate·(s+1)) − floor(rate·s)``
  events, so 0.5 allows one every other second, 2.5 alternates 2 and 3, and no second ever
  holds more than ``ceil(rate)``. Every Lambda computes the same allowance for the same second
  from its clock (skew between clocks is a fraction of a second; Twilio queues the rare
  excess rather than failing it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from math import floor

Counter = Callable[[int], int]  # window start (epoch second) -> the count after adding one


def share(capacity: int, demands: Mapping[str, int],
          weights: Mapping[str, float], turn: int = 0) -> dict[str, int]:
    """Weighted fair share of ``capacity`` dials among campaigns (``demands``: how many each
    wants now; ``weights``: its weight, 1.0 when missing). A campaign never gets more than it
    demands, what one leaves unused goes to the others, the sum never exceeds ``capacity``, and
    the same inputs always give the same answer. Every campaign in ``demands`` is in the result
    (0 for no demand or weight 0). ``turn`` (the round's number) rotates who wins a tie for
    the last whole call. ValueError for a negative capacity, demand or weight."""
    if capacity < 0:
        raise ValueError("capacity must not be negative")
    for name, demand in demands.items():
        if demand < 0:
            raise ValueError(f"negative demand for {name!r}")
    for name, weight in weights.items():
        if weight < 0:
            raise ValueError(f"negative weight for {name!r}")
    granted = {name: 0 for name in demands}
    wanting = {name: Fraction(weights.get(name, 1.0)) for name, demand in demands.items()
               if demand > 0 and weights.get(name, 1.0) > 0}
    if sum(demands[name] for name in wanting) <= capacity:
        granted.update({name: demands[name] for name in wanting})
        return granted
    fair = _water_fill(capacity, {name: demands[name] for name in wanting}, wanting)
    for name, amount in fair.items():
        granted[name] = floor(amount)
    left = capacity - sum(granted.values())
    names = sorted(wanting)
    place = {name: (n - turn) % len(names) for n, name in enumerate(names)}
    by_remainder = sorted((name for name in wanting if granted[name] < demands[name]),
                          key=lambda name: (-(fair[name] - granted[name]), place[name]))
    for name in by_remainder[:left]:
        granted[name] += 1
    return granted


def _water_fill(capacity: int, demands: Mapping[str, int],
                weights: Mapping[str, Fraction]) -> dict[str, Fraction]:
    """Exact weighted max-min shares: everyone gets ``level × weight`` or their demand if less,
    with the level chosen so the shares sum to ``capacity`` (less than the demands' sum)."""
    shares: dict[str, Fraction] = {}
    left, weight_left = Fraction(capacity), sum(weights.values(), Fraction(0))
    for name in sorted(demands, key=lambda n: (Fraction(demands[n]) / weights[n], n)):
        level = left / weight_left
        if demands[name] <= level * weights[name]:
            shares[name] = Fraction(demands[name])  # satisfied below the level
        else:
            shares[name] = level * weights[name]
        left -= shares[name]
        weight_left -= weights[name]
    return shares


class RateLimiter:
    """At most `rate` events per second across every Lambda: `counter(window_start_epoch_second)
    -> count after adding one` is the shared counter (DynamoDB in production, a dict in the
    simulation)."""

    def __init__(self, rate: float, counter: Counter):
        if not rate > 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._rate = Fraction(rate).limit_denominator(1_000_000)  # 0.1 is 1/10, not 0.1000…0555
        self._counter = counter

    def allowance(self, second: int) -> int:
        """How many events epoch second ``second`` allows: the integer part of the rate, plus
        one in the seconds where the fractional parts add up to a whole event."""
        return floor(self._rate * (second + 1)) - floor(self._rate * second)

    def wait(self, now: float) -> float:
        """Claim a slot at ``now`` (epoch seconds): 0.0 if one is free in the current second,
        else the seconds to wait before trying again (the caller sleeps and calls again). A
        second that allows nothing is not asked about; a refused claim still counts, which
        only makes the rest of that second's callers wait too."""
        second = floor(now)
        if self.allowance(second) > 0 and self._counter(second) <= self.allowance(second):
            return 0.0
        return self._next_second_with_room(second + 1) - now

    def _next_second_with_room(self, second: int) -> int:
        """The first second from ``second`` on that allows an event: the first s with
        floor(rate·(s + 1)) above floor(rate·second)."""
        if self.allowance(second) > 0:
            return second
        events_so_far = floor(self._rate * second)
        return _ceil(Fraction(events_so_far + 1) / self._rate) - 1


def _ceil(value: Fraction) -> int:
    return -floor(-value)
