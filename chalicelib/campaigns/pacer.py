"""The adaptive pacer: how many new calls a campaign places in this round.

Called once a round (every second, or when an agent frees up) with the campaign's live
``Figures``; answers a ``Pace``. Pure: the caller counts, the pacer decides.

**Progressive** dialling rings one number per free agent: ``calls = max(0, ready − ringing)``.
Nobody is ever abandoned, but each agent waits through every unanswered ring.

**Predictive** dialling rings ahead of the agents and is a closed loop around the one-round
binomial model of ``pacing``: with n new calls, X ~ Binomial(ringing + n, p) people answer for
the k agents free now, and the expected abandoned share E[(X − k)+] / E[X] must stay within an
*effective* target. The "dial level" (numbers ringing per free agent) is VICIdial's figure, capped
like VICIdial's at ``max_dial_level`` (default 3.0). The loop closes on what was measured:

* p, the live-answer rate, is the window's live answers over its dials under a Beta prior worth
  ``PRIOR_DIALS`` dials at ``PRIOR_ANSWER_RATE`` (0.5, higher than most lists answer, so a young
  estimate errs towards fewer calls); below ``MIN_DIALS`` finished dials the round is progressive;
* AMD false positives are abandoned calls pacing cannot avoid (a person the detector called a
  machine hears silence), so their expected share of live answers,
  ``estimated_false_positives(machine_answers) / live_answers``, comes off the target first and
  leaves the *live-drop budget* (OUTBOUND.md's AMD budget: 40 % machines, 20 % live answers and
  99 % accuracy leave about 1 % of the 3 %);
* the effective target is that whole budget while the measured live drops (the measured
  abandonment less the false-positive share) use at most half of it, shrinks linearly as they
  climb, and is 0 (progressive) once the measured abandonment reaches the target: a campaign that
  has spent its allowance stops dialling ahead until answers dilute the drops again;
* a team too small to stay within the target (k = 1, p = 0.3: a second number already makes 15 %)
  is paced progressively: the round's mode says which rule placed the calls.

**Agents about to free up.** Agents now talking (or wrapping up) free up while the numbers ring.
With H the mean handle time (talk + wrap-up) of recently finished calls and R the mean time from
dial to a person's answer (both over a window of the caller's choosing), a talking agent is free
again by the time an answer arrives with probability about q = 1 − exp(−R/H): the memoryless
estimate, exact for exponential handle times and a fixed R, otherwise a fair guess (an agent
already in wrap-up frees sooner than it says, one just connected later). The agents there for
the answers are then K = ready + Y, Y ~ Binomial(talking, q), and the round plans with
E[(X − K)+] / E[X] (``pacing.expected_abandon_share``). With no talking agents, or H unknown
(0), q is 0 and the round is exactly the one-round oracle above; with H known and R unknown (0)
R is taken as ``DEFAULT_ANSWER_DELAY_SECONDS``, 15 s (a guess: the bench's people answer after
a uniform 5–25 s ring).
The cap counts the agents expected there too: ``max_dial_level`` × (ready + q·talking) numbers
ringing (VICIdial's default, "Available Only Tally" N, counts every agent in a call at the full
dial level), so the reported ``Pace.dial_level``, still per *ready* agent, may then exceed
``max_dial_level``. With nobody ready the round places no call, as before: the numbers already
ringing wait for the agents about to free up (ringing ahead of them too added drops, not talk
time, in the simulation).

The model counts every ringing number as still able to answer at the full rate and every
answer as arriving at R, so it errs in both directions (a number ringing for 20 s is less likely
to answer; an answer before an agent frees is lost even if that agent frees later); the
measured rate, not the model, is what the rules judge, and the effective target closes the loop.

The target is the regulators' (``../shared/docs/OUTBOUND.md``): abandoned calls at most 3 % of
calls answered by a person, per campaign per 30 days (FTC TSR 16 CFR 310.4(b)(4)(i); the FCC's
47 CFR 64.1200 the same) or per 24 hours (Ofcom's persistent-misuse statement, which also
counts AMD false positives as abandoned). The window of ``Figures`` is the caller's: the
campaign's last 30 days (or its life, if shorter) for the US, its last 24 hours for the UK.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import exp, floor, isfinite

from chalicelib.campaigns.pacing import DEFAULT_ABANDON_TARGET, dial_level

__all__ = [
    "AMD_ACCURACY",
    "DEFAULT_ABANDON_TARGET",
    "DEFAULT_ANSWER_DELAY_SECONDS",
    "Figures",
    "MIN_DIALS",
    "PREDICTIVE",
    "PROGRESSIVE",
    "Pace",
    "estimated_false_positives",
    "free_rate",
    "pace",
]

PREDICTIVE = "predictive"
PROGRESSIVE = "progressive"

# The share of "machine" verdicts that really were machines. OUTBOUND.md's AMD budget assumes
# 99 %; a campaign that measured its own (say, from agents' dispositions) passes that instead.
AMD_ACCURACY = 0.99
MIN_DIALS = 20  # finished dials before the answer rate is trusted: progressive until then
PRIOR_DIALS = 20  # the Beta prior's weight, in dials ...
PRIOR_ANSWER_RATE = 0.5  # ... and its mean: pessimistic (more answers, fewer calls)
CAUTION_FROM = 0.5  # measured abandonment, as a share of the target, where caution begins
DEFAULT_ANSWER_DELAY_SECONDS = 15.0  # dial to a person's answer when unknown (a guess)


@dataclass(frozen=True)
class Figures:
    """What the campaign measured: now (``ready_agents``, ``ringing``, ``talking``) and over
    the pacing window (the rest). The last three have defaults that leave them out of the
    plan (module docstring: agents about to free up)."""

    ready_agents: int  # agents connected to the campaign and free now
    ringing: int  # calls placed and not yet answered or ended
    dials: int  # calls that finished ringing in the pacing window (answered or not)
    live_answers: int  # of those, answered by a person (AMD "human" or unknown)
    abandoned: int  # live answers with no agent within 2 s, plus estimated AMD false positives
    machine_answers: int = 0  # answered by a machine (for the AMD false-positive estimate)
    talking: int = 0  # agents on a campaign call or wrapping one up now (not ready)
    handle_seconds: float = 0.0  # mean talk + wrap-up of the window's answered calls; 0 unknown
    answer_delay_seconds: float = 0.0  # mean dial -> person's answer in the window; 0 unknown


@dataclass(frozen=True)
class Pace:
    """The round's answer."""

    calls: int  # new calls to place now (>= 0)
    dial_level: float  # numbers ringing per ready agent after this round, 0 when no agent is
    # ready (above ``max_dial_level`` when agents about to free up widened the cap)
    mode: str  # "predictive" | "progressive": the rule that placed the calls
    answer_rate: float  # the live-answer rate the round used
    abandon_rate: float  # measured: abandoned / live_answers in the window (0 with no answers)


def estimated_false_positives(machine_answers: int, accuracy: float = AMD_ACCURACY) -> float:
    """How many of ``machine_answers`` were people the detector called machines, and so count as
    abandoned (Ofcom): the verdicts times the share that are wrong, ``1 − accuracy``. With 400
    machine verdicts at 99 %: 4 (OUTBOUND.md's AMD budget). ValueError unless 0 <= accuracy <= 1
    and the count is not negative."""
    if machine_answers < 0:
        raise ValueError("machine_answers must not be negative")
    if not 0 <= accuracy <= 1:
        raise ValueError("accuracy must be in [0, 1]")
    return machine_answers * (1 - accuracy)


def pace(figures: Figures, *, target: float = DEFAULT_ABANDON_TARGET, predictive: bool = True,
         max_dial_level: float = 3.0) -> Pace:
    """The calls to place now for ``figures``: progressively when ``predictive`` is False, in
    warm-up, when the measured abandonment has reached ``target``, or when no more than one
    number per free agent fits within the effective target; otherwise the most numbers (up to
    ``max_dial_level`` per agent expected there: the ready ones and the talking ones likely to
    free up in time) whose expected abandoned share fits (module docstring). ValueError for a
    negative figure, more live answers than dials, negative or infinite seconds, a target
    outside [0, 1) or a maximum dial level below 1."""
    _check(figures, target, max_dial_level)
    ready, ringing, talking = figures.ready_agents, figures.ringing, figures.talking
    measured = figures.abandoned / figures.live_answers if figures.live_answers else 0.0
    answer_rate = _answer_rate(figures)
    freeing = free_rate(figures.handle_seconds, figures.answer_delay_seconds) if talking else 0.0
    expected = ready + freeing * talking  # agents there when the answers come
    total = ready  # progressive: one number per free agent
    mode = PROGRESSIVE
    if predictive and figures.dials >= MIN_DIALS and ready > 0:
        planning = _effective_target(measured, target, _false_positive_share(figures))
        if planning > 0:
            most = dial_level(ready, answer_rate, planning,
                              max_numbers=floor(max_dial_level * expected + 1e-9),
                              talking=talking, free_rate=freeing)
            if most > ready:
                total, mode = most, PREDICTIVE
    calls = max(0, total - ringing)
    level = (ringing + calls) / ready if ready else 0.0
    return Pace(calls, level, mode, answer_rate, measured)


def free_rate(handle_seconds: float, answer_delay_seconds: float = 0.0) -> float:
    """q = 1 − exp(−R/H): the chance that an agent talking now (or wrapping up) is free again
    by the time an answer arrives, for mean handle time H = ``handle_seconds`` and mean answer
    delay R = ``answer_delay_seconds`` (memoryless: exponential handle times, R fixed). 0 when
    H is unknown (0); R unknown (0) is ``DEFAULT_ANSWER_DELAY_SECONDS``. H = 130 s, R = 15 s:
    0.109. ValueError for a negative or infinite figure."""
    if not (isfinite(handle_seconds) and isfinite(answer_delay_seconds)) or min(
            handle_seconds, answer_delay_seconds) < 0:
        raise ValueError("handle_seconds and answer_delay_seconds must be finite and >= 0")
    if handle_seconds == 0:
        return 0.0
    delay = answer_delay_seconds or DEFAULT_ANSWER_DELAY_SECONDS
    return 1 - exp(-delay / handle_seconds)


def _effective_target(measured: float, target: float, false_positives: float) -> float:
    """The share of live answers the round may plan to drop: the live-drop budget (``target``
    less the ``false_positives`` share) while the measured live drops use at most
    ``CAUTION_FROM`` of it, then linearly less, 0 once ``measured`` (drops and false positives)
    reaches the target."""
    budget = target - false_positives
    if measured >= target or budget <= 0:
        return 0.0
    drops = max(0.0, measured - false_positives)
    caution = CAUTION_FROM * budget
    if drops <= caution:
        return budget
    return budget * (budget - drops) / (budget - caution)


def _false_positive_share(figures: Figures) -> float:
    """Expected AMD false positives per live answer: abandoned calls pacing cannot prevent."""
    if not figures.live_answers:
        return 0.0
    return estimated_false_positives(figures.machine_answers) / figures.live_answers


def _answer_rate(figures: Figures) -> float:
    """The window's live-answer rate under the Beta prior (never 0, never above 1)."""
    return ((figures.live_answers + PRIOR_DIALS * PRIOR_ANSWER_RATE)
            / (figures.dials + PRIOR_DIALS))


def _check(figures: Figures, target: float, max_dial_level: float) -> None:
    counts = (figures.ready_agents, figures.ringing, figures.dials, figures.live_answers,
              figures.abandoned, figures.machine_answers, figures.talking)
    if any(count < 0 for count in counts):
        raise ValueError(f"figures must not be negative: {figures}")
    free_rate(figures.handle_seconds, figures.answer_delay_seconds)  # the seconds, checked
    if figures.live_answers + figures.machine_answers > figures.dials:
        raise ValueError(f"more answers than dials: {figures}")
    if not 0 <= target < 1:
        raise ValueError("target must be in [0, 1)")
    if max_dial_level < 1:
        raise ValueError("max_dial_level must be at least 1")
