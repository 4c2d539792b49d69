"""The real pacer, throttle and compliance gate, dialling on a simulated clock.

``simulate`` runs one campaign: every simulated second a pacing round asks ``pacer.pace`` how
many calls to place from the campaign's figures, each call claims a slot from
``throttle.RateLimiter`` (its shared counter a dict) and asks ``compliance.rules.decide`` about
its number (an in-memory ``RecipientFacts``: a few numbers are on the do-not-call list or were
abandoned in the last 72 hours, and the gate must skip them). Then:

* each dial is answered by a person with probability ``answer_rate``; of the rest a
  ``machine_share`` reach a machine, the others ring out;
* an answer comes after a ring of uniform 5–25 s; an unanswered call rings out at 25 s (more than
  the 15 s the rules require);
* the answering-machine detector calls ``1 − amd_accuracy`` of its "machine" verdicts wrongly:
  those are people who hear silence and count as abandoned (Ofcom). The pacer is told what
  production would know: machine verdicts, and abandoned = live drops + the *estimated* false
  positives (``pacer.estimated_false_positives``, rounded to whole calls);
* a person answering with no ready agent is abandoned (the safe-harbour message plays); one
  answering with an agent free talks for an exponential time of mean ``talk_seconds``, then the
  agent wraps up for uniform 0–10 s and is ready again.

The pacer is also told what production would know about the agents not ready: how many are
talking or wrapping up now, the mean handle time (talk + wrap-up) of the calls that finished in
the last ``HANDLE_WINDOW_HOURS``, and the mean time from dial to a person's answer over the live
answers in that window (both 0, unknown, until the first such call: the pacer then counts only
the ready agents).

Agents are interchangeable and all ready at the start; the pacing window is the whole run (a
US campaign's 30 days, or its life if shorter) unless ``window_hours`` is given. The abandonment
reported is (live drops + real false positives) / live answers, the same ratio the pacer measures:
counting the misjudged people in the denominator too would make it a little lower. The figures
returned beside the measured ones are the open-loop oracle of OUTBOUND.md: the utilisation of an
Erlang B loss system dropping the same share of answers. A closed-loop pacer must beat it.

``simulate_cps`` measures the throttle alone: dispatchers with an endless backlog, each taking
50–250 ms per request, claiming slots from one shared counter.

Run ``python tests/bench/dialer_sim.py`` from the repo root; it prints, never asserts.
"""

from __future__ import annotations

import heapq
import math
import random
import sys
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chalicelib.campaigns.pacer import (  # noqa: E402
    AMD_ACCURACY,
    PREDICTIVE,
    PROGRESSIVE,
    Figures,
    estimated_false_positives,
    pace,
)
from chalicelib.campaigns.pacing import erlang_b_utilisation  # noqa: E402
from chalicelib.campaigns.throttle import RateLimiter  # noqa: E402
from chalicelib.compliance.rules import (  # noqa: E402
    INFORMATIONAL,
    VOICE,
    Attempt,
    Contact,
    RecipientFacts,
    decide,
)

# Tuesday 08:00 in San Francisco (PST): the list's +1 415 numbers may be called for 13 hours.
START = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
START_EPOCH = int(START.timestamp())
CALLER_ID = "+14155550100"
FIRST_NUMBER = 2_000_000  # +1 415 200-0000: a valid exchange (0xx and 1xx are not)
RING_OUT = 25.0  # seconds an unanswered call rings
ANSWER_AFTER = (5.0, 25.0)  # an answered call's ring, uniform
WRAP_UP = (0.0, 10.0)  # after-call work, uniform
ROLLING_HOURS = 1.0  # the rolling window whose worst abandonment is reported
HANDLE_WINDOW_HOURS = 1.0  # the mean handle time and answer delay: finished calls this recent
DO_NOT_CALL_SHARE = 0.02  # numbers on the do-not-call list
RECENTLY_ABANDONED_SHARE = 0.01  # numbers we abandoned yesterday: held for 72 h

RING_END, TALK_END, READY = 0, 1, 2
LIVE, MACHINE, FALSE_MACHINE, NO_ANSWER = "live", "machine", "false_machine", "no_answer"


def simulate(agents: int, answer_rate: float = 0.3, talk_seconds: float = 120, hours: float = 8,
             seed: int = 1, target: float = 0.03, mode: str = PREDICTIVE, *,
             machine_share: float = 0.3, amd_accuracy: float = AMD_ACCURACY, cps: float = 10,
             max_dial_level: float = 3.0, window_hours: float | None = None) -> dict:
    """One campaign of ``agents`` for ``hours`` (module docstring). Returns the counts (dials,
    live answers, abandoned — live drops plus real AMD false positives — and the gate's
    refusals), the abandonment over the run and its worst rolling hour, the agents' talking
    share, the Erlang B utilisation at the measured abandonment, the mean planned dial level
    over rounds with a free agent, and the mode that placed most calls."""
    if mode not in (PREDICTIVE, PROGRESSIVE):
        raise ValueError(f"unknown mode {mode!r}")
    rng = random.Random(seed)
    numbers = _CallingList(random.Random(seed + 1))
    counts: dict[int, int] = {}

    def counter(second: int) -> int:
        counts[second] = counts.get(second, 0) + 1
        return counts[second]

    limiter = RateLimiter(cps, counter)
    machine_rate = machine_share * (1 - answer_rate)
    end = hours * 3600
    events: list[tuple[float, int, int, str, float]] = []
    seq = 0

    def schedule(at: float, kind: int, what: str = "", since: float = 0.0) -> None:
        """``since``: when a ring began (RING_END), when the person answered (TALK_END, READY)."""
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, seq, kind, what, since))

    ready, ringing = agents, 0
    window: deque[tuple[float, str]] = deque()  # finished rings in the pacing window
    seen = {LIVE: 0, MACHINE: 0, FALSE_MACHINE: 0, NO_ANSWER: 0, "drop": 0}  # in the window
    total = {"dials": 0, LIVE: 0, "drops": 0, "false_positives": 0}
    by_minute: list[list[int]] = []  # [live answers, abandoned] per minute, for rolling windows
    talking = 0.0
    levels: list[float] = []
    placed = {PREDICTIVE: 0, PROGRESSIVE: 0}
    per_second: dict[int, int] = {}
    handles = _RecentMean(HANDLE_WINDOW_HOURS * 3600)  # talk + wrap-up of finished calls
    answer_delays = _RecentMean(HANDLE_WINDOW_HOURS * 3600)  # dial -> a person's answer

    def finish_ring(at: float, outcome: str, dialled: float) -> None:
        nonlocal ready, ringing, talking
        ringing -= 1
        total["dials"] += 1
        minute = _minute(by_minute, at)
        dropped = False
        if outcome == LIVE:
            total[LIVE] += 1
            minute[0] += 1
            answer_delays.add(at, at - dialled)
            if ready:
                ready -= 1
                talk = rng.expovariate(1 / talk_seconds)
                talking += max(0.0, min(at + talk, end) - at)
                schedule(at + talk, TALK_END, since=at)
            else:
                dropped = True
                total["drops"] += 1
                minute[1] += 1
        elif outcome == FALSE_MACHINE:
            total["false_positives"] += 1
            minute[1] += 1
        seen[outcome] += 1
        seen["drop"] += dropped
        window.append((at, outcome + ("+drop" if dropped else "")))

    second = 0
    while second < end:
        while events and events[0][0] <= second:
            at, _, kind, what, since = heapq.heappop(events)
            if kind == RING_END:
                finish_ring(at, what, since)
            elif kind == TALK_END:
                schedule(at + rng.uniform(*WRAP_UP), READY, since=since)
            else:
                ready += 1
                handles.add(at, at - since)
        if window_hours is not None:
            _forget_before(window, seen, second - window_hours * 3600)
        machines = seen[MACHINE] + seen[FALSE_MACHINE]
        figures = Figures(
            ready_agents=ready, ringing=ringing,
            dials=sum(seen[o] for o in (LIVE, MACHINE, FALSE_MACHINE, NO_ANSWER)),
            live_answers=seen[LIVE],
            abandoned=seen["drop"] + int(estimated_false_positives(machines, amd_accuracy) + 0.5),
            machine_answers=machines, talking=agents - ready,
            handle_seconds=handles.mean(second), answer_delay_seconds=answer_delays.mean(second))
        plan = pace(figures, target=target, predictive=mode == PREDICTIVE,
                    max_dial_level=max_dial_level)
        if ready:
            levels.append(plan.dial_level)
        now = START + timedelta(seconds=second)
        for _ in range(plan.calls):
            if limiter.wait(START_EPOCH + second) > 0:
                break  # this second's slots are taken: the next round plans again
            numbers.next_allowed(now)
            per_second[second] = per_second.get(second, 0) + 1
            ringing += 1
            placed[plan.mode] += 1
            u = rng.random()
            if u < answer_rate:
                outcome = LIVE
            elif u < answer_rate + machine_rate:
                outcome = FALSE_MACHINE if rng.random() > amd_accuracy else MACHINE
            else:
                outcome = NO_ANSWER
            ring = RING_OUT if outcome == NO_ANSWER else rng.uniform(*ANSWER_AFTER)
            schedule(second + ring, RING_END, outcome, since=second)
        second += 1

    live = total[LIVE]
    abandoned = total["drops"] + total["false_positives"]
    rate = abandoned / live if live else 0.0
    calls = placed[PREDICTIVE] + placed[PROGRESSIVE]
    return {
        "agents": agents,
        "dials": total["dials"],
        "live_answers": live,
        "abandoned": abandoned,
        "live_drops": total["drops"],
        "false_positives": total["false_positives"],
        "refused": numbers.refused,
        "abandon_rate": rate,
        "abandon_rate_max_hour": _worst_window(by_minute, round(ROLLING_HOURS * 60)),
        "utilisation": talking / (agents * end),
        "erlang_b_utilisation": erlang_b_utilisation(agents, min(rate, 0.999)),
        "dial_level": sum(levels) / len(levels) if levels else 0.0,
        "predictive_share": placed[PREDICTIVE] / calls if calls else 0.0,
        "mode": PREDICTIVE if placed[PREDICTIVE] > placed[PROGRESSIVE] else PROGRESSIVE,
        "max_calls_in_a_second": max(per_second.values(), default=0),
    }


def simulate_cps(cps: float, minutes: float = 10, seed: int = 1,
                 dispatchers: int | None = None) -> dict:
    """``dispatchers`` (Lambdas; default enough to reach ``cps`` twice over) with an endless
    backlog share one counter dict, each through its own ``RateLimiter``; each request to the
    carrier takes 50–250 ms, and a refused dispatcher sleeps what the limiter says. The clock is
    epoch seconds, as in production. Returns the configured and achieved calls per second, their
    ratio, and the most calls placed in any one second."""
    rng = random.Random(seed)
    counts: dict[int, int] = {}

    def counter(second: int) -> int:
        counts[second] = counts.get(second, 0) + 1
        return counts[second]

    if dispatchers is None:
        dispatchers = math.ceil(2 * cps * 0.25) + 1
    limiters = [RateLimiter(cps, counter) for _ in range(dispatchers)]
    end = START_EPOCH + minutes * 60
    turns = [(START_EPOCH + rng.uniform(0, 1), i) for i in range(dispatchers)]  # next tries
    heapq.heapify(turns)
    per_second: dict[int, int] = {}
    while turns[0][0] < end:
        at, i = heapq.heappop(turns)
        wait = limiters[i].wait(at)
        if wait == 0:
            per_second[math.floor(at)] = per_second.get(math.floor(at), 0) + 1
            at += rng.uniform(0.05, 0.25)  # the REST request to the carrier
        else:
            at += wait
        heapq.heappush(turns, (at, i))
    placed = sum(per_second.values())
    achieved = placed / (minutes * 60)
    return {"cps": cps, "placed": placed, "achieved": achieved, "ratio": achieved / cps,
            "max_in_a_second": max(per_second.values(), default=0)}


class _CallingList:
    """Fresh numbers in order, each with its in-memory facts; the gate decides about each."""

    def __init__(self, rng: random.Random):
        self._rng = rng
        self._next = 0
        self.refused = 0

    def next_allowed(self, now: datetime) -> str:
        while True:
            number = f"+1415{FIRST_NUMBER + self._next}"  # San Francisco
            self._next += 1
            decision = decide(self._facts(number, now),
                              Attempt(now, VOICE, INFORMATIONAL, CALLER_ID))
            if decision.allowed:
                return number
            self.refused += 1

    def _facts(self, number: str, now: datetime) -> RecipientFacts:
        u = self._rng.random()
        if u < DO_NOT_CALL_SHARE:
            return RecipientFacts(number, do_not_call=frozenset({VOICE}))
        if u < DO_NOT_CALL_SHARE + RECENTLY_ABANDONED_SHARE:
            yesterday = Contact(now - timedelta(days=1), VOICE, outcome="abandoned")
            return RecipientFacts(number, contacts=(yesterday,))
        return RecipientFacts(number)


class _RecentMean:
    """The mean of the values added in the last ``seconds`` (0 when there is none)."""

    def __init__(self, seconds: float):
        self._seconds = seconds
        self._values: deque[tuple[float, float]] = deque()
        self._sum = 0.0

    def add(self, at: float, value: float) -> None:
        self._values.append((at, value))
        self._sum += value

    def mean(self, now: float) -> float:
        while self._values and self._values[0][0] < now - self._seconds:
            self._sum -= self._values.popleft()[1]
        if not self._values:
            self._sum = 0.0
            return 0.0
        return max(0.0, self._sum / len(self._values))


def _minute(by_minute: list[list[int]], at: float) -> list[int]:
    index = int(at // 60)
    while len(by_minute) <= index:
        by_minute.append([0, 0])
    return by_minute[index]


def _forget_before(window: deque[tuple[float, str]], seen: dict[str, int], since: float) -> None:
    while window and window[0][0] < since:
        _, outcome = window.popleft()
        if outcome.endswith("+drop"):
            seen["drop"] -= 1
            outcome = outcome.removesuffix("+drop")
        seen[outcome] -= 1


def _worst_window(by_minute: list[list[int]], minutes: int) -> float:
    """The highest abandoned / live answers over every full window of ``minutes``."""
    worst = 0.0
    for start in range(0, max(0, len(by_minute) - minutes) + 1):
        live = sum(m[0] for m in by_minute[start:start + minutes])
        abandoned = sum(m[1] for m in by_minute[start:start + minutes])
        if live and len(by_minute) >= minutes:
            worst = max(worst, abandoned / live)
    return worst


def main(hours: float = 8, seeds: int = 3) -> None:
    from tests.bench.run import dialer_figures

    dialer_figures(hours=hours, seeds=seeds)


if __name__ == "__main__":
    main()
