"""The adaptive pacer: every branch, against the oracles of OUTBOUND.md."""

from __future__ import annotations

from math import exp, floor

import pytest

from chalicelib.campaigns.pacer import (
    AMD_ACCURACY,
    DEFAULT_ABANDON_TARGET,
    DEFAULT_ANSWER_DELAY_SECONDS,
    MIN_DIALS,
    PREDICTIVE,
    PROGRESSIVE,
    Figures,
    Pace,
    estimated_false_positives,
    free_rate,
    pace,
)
from chalicelib.campaigns.pacing import dial_level, expected_abandon_share

# 290 live answers in 980 dials, under the prior of 20 dials at 0.5: (290 + 10) / 1000 = 0.3
SETTLED = {"dials": 980, "live_answers": 290}


def figures(ready: int, ringing: int = 0, abandoned: int = 0, **window) -> Figures:
    return Figures(ready_agents=ready, ringing=ringing, abandoned=abandoned,
                   **{**SETTLED, **window})


def test_the_answer_rate_is_the_window_under_the_prior():
    assert pace(figures(10)).answer_rate == pytest.approx(0.3)
    assert pace(Figures(3, 0, 0, 0, 0)).answer_rate == 0.5  # the prior alone
    assert pace(Figures(3, 0, 20, 0, 0)).answer_rate == 0.25  # no answer yet: (0 + 10) / 40


def test_ten_agents_ring_the_largest_n_within_three_percent():
    # OUTBOUND.md: p = 0.3, k = 10 -> 26 numbers (2.88 %), 27 would be over
    result = pace(figures(10))
    assert result == Pace(calls=26, dial_level=2.6, mode=PREDICTIVE, answer_rate=result.answer_rate,
                          abandon_rate=0.0)
    assert expected_abandon_share(26, 10, result.answer_rate) <= DEFAULT_ABANDON_TARGET
    assert expected_abandon_share(27, 10, result.answer_rate) > DEFAULT_ABANDON_TARGET


def test_numbers_already_ringing_count_against_the_plan():
    assert pace(figures(10, ringing=20)).calls == 6
    assert pace(figures(10, ringing=26)).calls == 0
    over = pace(figures(10, ringing=40))  # more ringing than the plan: nothing new, never < 0
    assert over.calls == 0 and over.dial_level == 4.0


def test_five_agents_may_ring_ten():
    # OUTBOUND.md: p = 0.3, k = 5, n = 10 -> 1.99 %; n = 17 = k/p would be 15.5 %
    result = pace(figures(5))
    assert result.mode == PREDICTIVE
    assert 10 <= result.calls < 17


def test_one_agent_cannot_dial_ahead_within_three_percent():
    # OUTBOUND.md: k = 1, p = 0.3, n = 2 -> 15 %: progressive
    result = pace(figures(1))
    assert (result.calls, result.mode, result.dial_level) == (1, PROGRESSIVE, 1.0)
    assert pace(figures(1, ringing=1)).calls == 0


def test_two_agents_dial_ahead_only_with_the_whole_target_and_a_modest_answer_rate():
    # k = 2, n = 3: p² / 3, exactly 3 % at p = 0.3; just over it at the estimate 0.3 + ε
    assert pace(figures(2)).mode == PREDICTIVE  # (290 + 10) / 1000: 3.0 % fits
    assert pace(figures(2, live_answers=291)).mode == PROGRESSIVE
    assert pace(figures(2, machine_answers=100)).mode == PROGRESSIVE  # AMD takes a share


def test_progressive_on_request():
    result = pace(figures(10, ringing=3), predictive=False)
    assert (result.calls, result.mode, result.dial_level) == (7, PROGRESSIVE, 1.0)
    assert pace(figures(10, ringing=12), predictive=False).calls == 0


def test_progressive_until_the_answer_rate_is_known():
    young = Figures(ready_agents=8, ringing=2, dials=MIN_DIALS - 1, live_answers=3, abandoned=0)
    assert pace(young) == Pace(6, 1.0, PROGRESSIVE, pytest.approx(13 / 39), 0.0)
    grown = Figures(ready_agents=8, ringing=2, dials=MIN_DIALS, live_answers=3, abandoned=0)
    assert pace(grown).mode == PREDICTIVE


def test_no_agent_no_call():
    result = pace(figures(0, ringing=4))
    assert (result.calls, result.dial_level, result.mode) == (0, 0.0, PROGRESSIVE)
    assert pace(figures(0), predictive=False).calls == 0


def test_the_measured_rate_is_abandoned_over_live_answers():
    assert pace(figures(10, abandoned=3)).abandon_rate == pytest.approx(3 / 290)
    assert pace(Figures(10, 0, 30, 0, 0)).abandon_rate == 0.0


def test_well_under_target_plans_with_the_whole_target():
    # 4 drops in 290 answers: 1.4 %, under half of 3 %
    assert pace(figures(10, abandoned=4)).calls == 26


def test_nearer_the_target_the_plan_gets_more_cautious():
    # 6.5 drops in 290 would be 2.24 %: three quarters of the target -> plan for half of it
    result = pace(figures(10, abandoned=6, live_answers=260, dials=880))  # 2.31 %
    measured = 6 / 260
    planning = 0.03 * (0.03 - measured) / 0.015
    assert result.calls == dial_level(10, result.answer_rate, planning)
    assert result.mode == PREDICTIVE
    assert 10 < result.calls < 26


def test_at_or_over_target_the_campaign_dials_progressively():
    for abandoned in (9, 20):  # 3.1 %, 6.9 %
        result = pace(figures(10, ringing=2, abandoned=abandoned))
        assert (result.calls, result.mode) == (8, PROGRESSIVE)


def test_a_zero_target_is_always_progressive():
    assert pace(figures(10), target=0.0).mode == PROGRESSIVE


def test_a_looser_target_allows_more():
    assert pace(figures(10), target=0.05).calls > 26


def test_the_dial_level_is_capped():
    # a 5 % answer rate would allow about 13 numbers per agent: the cap says 3
    sparse = figures(10, dials=1980, live_answers=90)
    assert pace(sparse).calls == 30
    assert pace(sparse).dial_level == 3.0
    assert pace(sparse, max_dial_level=1.55).calls == 15
    assert pace(sparse, max_dial_level=1.0).mode == PROGRESSIVE


def test_amd_false_positives_come_off_the_target_first():
    # OUTBOUND.md's AMD budget: per 1,000 dials 400 machines and 200 live answers at 99 %
    # accuracy make 4 silent calls against 6 allowed: 1 % of live answers left for live drops
    assert estimated_false_positives(400, 0.99) == pytest.approx(4)
    amd = Figures(ready_agents=10, ringing=0, dials=2000, live_answers=400, abandoned=8,
                  machine_answers=800)
    result = pace(amd, max_dial_level=10)  # a 20 % answer rate: let the budget bind, not the cap
    assert result.abandon_rate == pytest.approx(0.02)
    budget = 0.03 - estimated_false_positives(800) / 400
    assert budget == pytest.approx(0.01)
    assert result.calls == dial_level(10, result.answer_rate, budget)
    assert result.mode == PREDICTIVE
    assert result.calls < dial_level(10, result.answer_rate, 0.03)
    # live drops: 1 (0.25 %) is under half the 1 % budget; 3 (0.75 %) past it; 4 spend it
    def calls(abandoned: int) -> Pace:
        return pace(Figures(10, 0, 2000, 400, abandoned, 800), max_dial_level=10)

    assert calls(8 + 1).calls == result.calls
    assert 10 < calls(8 + 3).calls < result.calls
    assert calls(8 + 4).mode == PROGRESSIVE


def test_an_amd_that_uses_the_whole_target_leaves_only_progressive():
    # 600 machine verdicts at 99 % against 200 live answers: 3 % before any live drop, even
    # while the window's rounded count says less
    assert pace(Figures(10, 0, 1000, 200, 6, 600)).mode == PROGRESSIVE
    assert pace(Figures(10, 0, 1000, 200, 5, 600)).mode == PROGRESSIVE


def test_false_positive_estimate():
    assert AMD_ACCURACY == 0.99
    assert estimated_false_positives(0) == 0.0
    assert estimated_false_positives(1000) == pytest.approx(10)
    assert estimated_false_positives(50, accuracy=1.0) == 0.0
    for bad in ({"machine_answers": -1}, {"machine_answers": 5, "accuracy": 1.2}):
        with pytest.raises(ValueError):
            estimated_false_positives(**bad)


# ---- agents about to free up ---------------------------------------------------------------------

def busy(ready: int, talking: int, handle: float = 130.0, delay: float = 15.0, **rest) -> Figures:
    return figures(ready, talking=talking, handle_seconds=handle, answer_delay_seconds=delay,
                   **rest)


def test_the_free_rate_is_memoryless_from_handle_time_and_answer_delay():
    assert free_rate(130, 15) == pytest.approx(1 - exp(-15 / 130))
    assert free_rate(130, 15) == pytest.approx(0.109, abs=0.0005)
    assert free_rate(60, 30) == pytest.approx(1 - exp(-0.5))
    assert free_rate(0, 15) == 0.0  # handle time unknown: nobody is counted on
    assert free_rate(0, 0) == 0.0
    assert DEFAULT_ANSWER_DELAY_SECONDS == 15.0
    assert free_rate(130) == free_rate(130, 0) == free_rate(130, 15)  # delay unknown: 15 s
    assert free_rate(1e-9, 15) == pytest.approx(1.0)
    for bad in ((-1, 15), (130, -1), (float("inf"), 15), (130, float("nan"))):
        with pytest.raises(ValueError):
            free_rate(*bad)


def test_the_new_figures_default_to_todays_plan():
    plain = Figures(ready_agents=10, ringing=4, dials=980, live_answers=290, abandoned=3)
    assert (plain.talking, plain.handle_seconds, plain.answer_delay_seconds) == (0, 0.0, 0.0)
    today = pace(plain)
    assert today == Pace(22, 2.6, PREDICTIVE, today.answer_rate, today.abandon_rate)  # 26 − 4
    # no talking agent, or no handle time to judge them by: the same plan, whatever else is known
    for same in (busy(10, 0, ringing=4, abandoned=3),
                 busy(10, 15, handle=0.0, ringing=4, abandoned=3),
                 busy(10, 15, handle=0.0, delay=0.0, ringing=4, abandoned=3)):
        assert pace(same) == today
    amd = {"dials": 2000, "live_answers": 400, "abandoned": 8, "machine_answers": 800}
    assert pace(Figures(7, 2, **amd)) == pace(Figures(7, 2, **amd, talking=0,
                                                      handle_seconds=130.0))


def test_talking_agents_about_to_free_up_allow_more_calls():
    calls = [pace(busy(10, talking)).calls for talking in (0, 5, 10, 20, 40)]
    assert calls[0] == 26  # the one-round oracle
    assert calls == sorted(calls) and calls[-1] > calls[0]
    # shorter calls free agents sooner: more again
    assert pace(busy(10, 20, handle=60)).calls > pace(busy(10, 20, handle=130)).calls
    assert pace(busy(10, 20, delay=25)).calls > pace(busy(10, 20, delay=5)).calls


def test_the_plan_is_the_largest_within_target_counting_agents_freeing_up():
    result = pace(busy(10, 20))
    q = free_rate(130, 15)
    expected = 10 + q * 20
    assert result.calls == dial_level(10, result.answer_rate, DEFAULT_ABANDON_TARGET,
                                      max_numbers=floor(3.0 * expected + 1e-9), talking=20,
                                      free_rate=q)
    assert result.mode == PREDICTIVE
    share = expected_abandon_share(result.calls, 10, result.answer_rate, talking=20, free_rate=q)
    assert share <= DEFAULT_ABANDON_TARGET
    over = expected_abandon_share(result.calls + 1, 10, result.answer_rate, talking=20,
                                  free_rate=q)
    assert over > DEFAULT_ABANDON_TARGET
    assert result.dial_level == pytest.approx(result.calls / 10)  # per ready agent, as before


def test_an_unknown_answer_delay_is_taken_as_fifteen_seconds():
    assert pace(busy(10, 20, delay=0.0)) == pace(busy(10, 20, delay=15.0))


def test_the_cap_counts_the_agents_expected():
    sparse = {"dials": 1980, "live_answers": 90}  # 5 %: the cap binds, not the target
    q = free_rate(130, 15)
    result = pace(busy(10, 20, **sparse))
    assert result.calls == floor(3.0 * (10 + 20 * q)) == 36
    assert result.dial_level == 3.6  # per ready agent: over the cap, which counts 12.18 agents
    # a level of 1 is one number per agent expected: the 2.18 about to free up count too
    assert pace(busy(10, 20, **sparse), max_dial_level=1.0).calls == 12
    assert pace(busy(10, 0, **sparse), max_dial_level=1.0).mode == PROGRESSIVE


def test_small_teams_still_fall_back_to_progressive():
    # one agent ready and one talking: n = 2 loses about 13 % (15 % without the second)
    one = pace(busy(1, 1))
    assert (one.calls, one.mode) == (1, PROGRESSIVE) == (pace(figures(1)).calls, PROGRESSIVE)
    assert pace(busy(1, 1, ringing=1)).calls == 0
    # two ready at p just over 0.3 cannot ring a third number; three talking tip it over
    assert pace(busy(2, 0, live_answers=291)).mode == PROGRESSIVE
    assert pace(busy(2, 3, live_answers=291)).mode == PREDICTIVE
    # nobody ready: no call, however many are about to free up
    nobody = pace(busy(0, 50, ringing=3))
    assert (nobody.calls, nobody.mode, nobody.dial_level) == (0, PROGRESSIVE, 0.0)


def test_agents_freeing_up_change_nothing_past_the_target_or_in_warm_up():
    spent = pace(busy(10, 40, ringing=2, abandoned=9))  # 3.1 % measured
    assert (spent.calls, spent.mode) == (8, PROGRESSIVE)
    young = Figures(ready_agents=8, ringing=2, dials=MIN_DIALS - 1, live_answers=3, abandoned=0,
                    talking=30, handle_seconds=130, answer_delay_seconds=15)
    assert (pace(young).calls, pace(young).mode) == (6, PROGRESSIVE)
    assert pace(busy(10, 40), predictive=False).calls == 10


@pytest.mark.parametrize("bad", [
    Figures(3, 0, 100, 30, 0, talking=-1), Figures(3, 0, 100, 30, 0, handle_seconds=-1.0),
    Figures(3, 0, 100, 30, 0, answer_delay_seconds=-0.5),
    Figures(3, 0, 100, 30, 0, talking=2, handle_seconds=float("nan")),
])
def test_impossible_talking_figures_are_refused(bad):
    with pytest.raises(ValueError):
        pace(bad)


@pytest.mark.parametrize("bad", [
    Figures(-1, 0, 0, 0, 0), Figures(1, -1, 0, 0, 0), Figures(1, 0, -1, 0, 0),
    Figures(1, 0, 10, -1, 0), Figures(1, 0, 10, 1, -1), Figures(1, 0, 10, 1, 0, -1),
    Figures(1, 0, 10, 11, 0), Figures(1, 0, 10, 6, 0, 5),
])
def test_impossible_figures_are_refused(bad):
    with pytest.raises(ValueError):
        pace(bad)


@pytest.mark.parametrize("options", [{"target": -0.01}, {"target": 1.0}, {"max_dial_level": 0.9}])
def test_impossible_options_are_refused(options):
    with pytest.raises(ValueError):
        pace(figures(3), **options)
