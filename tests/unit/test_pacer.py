"""The adaptive pacer: every branch, against the oracles of OUTBOUND.md."""

from __future__ import annotations

import pytest

from chalicelib.campaigns.pacer import (
    AMD_ACCURACY,
    DEFAULT_ABANDON_TARGET,
    MIN_DIALS,
    PREDICTIVE,
    PROGRESSIVE,
    Figures,
    Pace,
    estimated_false_positives,
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
