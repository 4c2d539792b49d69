"""The agent state machine: legal moves, what each records, misses, wrap-up, SMS commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.routing import agent_states
from chalicelib.routing.agent_states import (
    ALLOWED,
    InvalidTransition,
    after_call,
    calls_handled_today,
    parse_state_command,
    record_miss,
    transition,
    wrap_up_over,
)
from chalicelib.routing.model import Agent, AgentState, Endpoint

S = AgentState
T0 = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)


def agent(state: AgentState = S.OFFLINE, **fields) -> Agent:
    fields.setdefault("state_since", T0 - timedelta(hours=1))
    return Agent("a1", "Ada", Endpoint("phone", "+14155550100"), state=state, **fields)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_call_walks_the_whole_cycle():
    a = transition(agent(), S.AVAILABLE, at(0), "sms ON")
    a = transition(a, S.RESERVED, at(10))
    a = transition(a, S.ON_CALL, at(15))
    a = after_call(a, at(200))
    assert a.state is S.WRAP_UP and a.state_since == at(200)
    a = transition(a, S.AVAILABLE, at(230))
    assert (a.state, a.state_since, a.idle_since) == (S.AVAILABLE, at(230), at(230))


@pytest.mark.parametrize(
    "start, end",
    [
        (S.OFFLINE, S.AVAILABLE),
        (S.AVAILABLE, S.RESERVED),
        (S.AVAILABLE, S.AWAY),
        (S.RESERVED, S.ON_CALL),
        (S.RESERVED, S.AVAILABLE),
        (S.ON_CALL, S.WRAP_UP),
        (S.WRAP_UP, S.AVAILABLE),
        (S.WRAP_UP, S.AWAY),
        (S.AWAY, S.AVAILABLE),
        (S.AWAY, S.AWAY),
    ]
    + [(state, S.OFFLINE) for state in S if state is not S.OFFLINE],
)
def test_allowed_transitions(start, end):
    moved = transition(agent(start), end, at(5), "why")
    assert (moved.state, moved.state_since, moved.state_reason) == (end, at(5), "why")


@pytest.mark.parametrize(
    "start, end",
    [
        (S.OFFLINE, S.ON_CALL),
        (S.OFFLINE, S.OFFLINE),
        (S.OFFLINE, S.AWAY),
        (S.AVAILABLE, S.ON_CALL),
        (S.AVAILABLE, S.AVAILABLE),
        (S.ON_CALL, S.AVAILABLE),
        (S.ON_CALL, S.AWAY),
        (S.RESERVED, S.WRAP_UP),
        (S.AWAY, S.RESERVED),
        (S.WRAP_UP, S.RESERVED),
    ],
)
def test_forbidden_transitions_say_what_is_allowed(start, end):
    with pytest.raises(InvalidTransition, match=f"from {start.value} to {end.value}"):
        transition(agent(start), end, at(0))


def test_every_state_can_log_out_and_only_available_leaves_offline():
    assert all(S.OFFLINE in ALLOWED[s] for s in S if s is not S.OFFLINE)
    assert ALLOWED[S.OFFLINE] == {S.AVAILABLE}


def test_transition_returns_a_copy_and_accepts_the_state_value():
    original = agent()
    moved = transition(original, "available", at(0))
    assert moved.state is S.AVAILABLE and original.state is S.OFFLINE


def test_idle_clock_starts_on_becoming_available_but_survives_a_reservation_falling_through():
    a = transition(agent(), S.AVAILABLE, at(0))
    a = transition(a, S.RESERVED, at(50))
    a = transition(a, S.AVAILABLE, at(60), "caller hung up")
    assert a.idle_since == at(0)
    a = transition(a, S.AWAY, at(70), "break")
    assert transition(a, S.AVAILABLE, at(900)).idle_since == at(900)


def test_after_call_counts_the_call_and_ends_the_miss_streak():
    a = after_call(agent(S.ON_CALL, missed_in_row=2), at(0))
    assert (a.calls_today, a.calls_today_date, a.missed_in_row) == (1, "2026-03-06", 0)
    for state in (S.AVAILABLE, S.RESERVED, S.ON_CALL):
        a = transition(a, state, at(60))
    assert after_call(a, at(300)).calls_today == 2


def test_calls_today_restarts_when_the_date_changes():
    yesterday = agent(S.ON_CALL, calls_today=37, calls_today_date="2026-03-05")
    assert calls_handled_today(yesterday, at(0)) == 0
    assert after_call(yesterday, at(0)).calls_today == 1
    assert calls_handled_today(agent(calls_today=3, calls_today_date="2026-03-06"), at(0)) == 3


def test_after_call_needs_a_call():
    with pytest.raises(InvalidTransition):
        after_call(agent(S.AVAILABLE), at(0))


def test_a_miss_sends_the_agent_to_the_back_of_the_idle_line():
    a = record_miss(agent(S.RESERVED, idle_since=at(-600)), at(0), max_misses=3)
    assert (a.state, a.missed_in_row, a.idle_since, a.state_reason) == (
        S.AVAILABLE,
        1,
        at(0),
        "missed call",
    )


def test_max_misses_in_a_row_sends_the_agent_away_and_a_call_resets_the_count():
    a = agent(S.AVAILABLE)
    for n in range(1, 3):
        a = record_miss(transition(a, S.RESERVED, at(n)), at(n), max_misses=3)
        assert a.state is S.AVAILABLE and a.missed_in_row == n
    a = record_miss(transition(a, S.RESERVED, at(10)), at(10), max_misses=3)
    assert (a.state, a.state_reason, a.missed_in_row) == (S.AWAY, "missed 3 calls in a row", 3)

    a = transition(a, S.AVAILABLE, at(100))
    a = transition(transition(a, S.RESERVED, at(101)), S.ON_CALL, at(102))
    assert after_call(a, at(300)).missed_in_row == 0


def test_max_misses_zero_never_sends_away():
    a = record_miss(agent(S.RESERVED, missed_in_row=40), at(0), max_misses=0)
    assert a.state is S.AVAILABLE and a.missed_in_row == 41


def test_only_a_reserved_agent_can_miss():
    with pytest.raises(InvalidTransition, match="not reserved"):
        record_miss(agent(S.AWAY), at(0), max_misses=3)


def test_wrap_up_lasts_the_agents_wrap_up_seconds():
    a = after_call(agent(S.ON_CALL, wrap_up_seconds=30), at(0))
    assert not wrap_up_over(a, at(29.9))
    assert wrap_up_over(a, at(30))
    assert wrap_up_over(after_call(agent(S.ON_CALL, wrap_up_seconds=0), at(0)), at(0))
    assert not wrap_up_over(agent(S.AVAILABLE), at(1000))


def test_a_wrap_up_noticed_late_ends_when_it_was_over():
    a = after_call(agent(S.ON_CALL, wrap_up_seconds=30), at(0))
    assert agent_states.wrap_up_end(a, at(75)) == at(30)  # the sweep came 45 s late
    assert agent_states.wrap_up_end(a, at(10)) == at(10)  # ended early (by hand): now


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ON", (S.AVAILABLE, "on")),
        ("  available\n", (S.AVAILABLE, "available")),
        ("上线", (S.AVAILABLE, "上线")),
        ("off", (S.OFFLINE, "off")),
        ("Logout", (S.OFFLINE, "logout")),
        (" 下线 ", (S.OFFLINE, "下线")),
        ("BREAK", (S.AWAY, "break")),
        ("away", (S.AWAY, "away")),
        ("Lunch!", (S.AWAY, "lunch")),
        ("\u3000休息。", (S.AWAY, "休息")),
    ],
)
def test_state_commands(text, expected):
    assert parse_state_command(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # what a CJK keyboard types: full-width letters and punctuation
        ("ＯＮ", (S.AVAILABLE, "on")),
        ("Ｂｒｅａｋ！", (S.AWAY, "break")),
        ("ｏｆｆ。", (S.OFFLINE, "off")),
        ("上线。", (S.AVAILABLE, "上线")),
        ("下线！", (S.OFFLINE, "下线")),
        ("休息？", (S.AWAY, "休息")),
        # a phone's capital and punctuation around the word, on either side
        ("Lunch?", (S.AWAY, "lunch")),
        ("On, ", (S.AVAILABLE, "on")),
        ("...away...", (S.AWAY, "away")),
        ('"OFF"', (S.OFFLINE, "off")),
    ],
)
def test_state_commands_as_phones_really_send_them(text, expected):
    assert parse_state_command(text) == expected


@pytest.mark.parametrize("text", ["", "   ", None, "ON NOW", "hello", "offline please", "上"])
def test_anything_else_is_not_a_state_command(text):
    assert parse_state_command(text) is None


def test_an_agents_calls_today_restart_at_their_own_midnight_not_utcs():
    from chalicelib.routing.model import business_day

    new_york = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)  # 22:30 on the 23rd in New York
    assert business_day(new_york, "America/New_York") == "2026-11-23"
    assert business_day(new_york, None) == "2026-11-24"  # no zone: UTC's day
    agent = Agent("a1", "A", Endpoint("phone", "+14155550100"), state=AgentState.ON_CALL,
                  timezone="America/New_York")
    late = agent_states.after_call(agent, new_york)
    assert late.calls_today_date == "2026-11-23" and late.calls_today == 1
    # an hour later it is still the 23rd in New York (UTC has long moved on): same day
    assert agent_states.calls_handled_today(late, new_york + timedelta(hours=1)) == 1
    # after New York's midnight the count starts again
    assert agent_states.calls_handled_today(late, new_york + timedelta(hours=2)) == 0
