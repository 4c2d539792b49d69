"""The agent state machine: which state changes are legal, and what each one records.

Every change goes through ``transition`` so that ``state_since``, ``state_reason`` and
``idle_since`` (the longest-idle clock) stay consistent wherever the change comes from: a webhook,
an SMS command, a sweeper expiring a reservation. Functions return updated copies; the caller
stores them (conditionally, so two webhooks cannot both reserve one agent).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from chalicelib.routing.model import Agent, AgentState, business_day
from chalicelib.text import fold

OFFLINE = AgentState.OFFLINE
AVAILABLE = AgentState.AVAILABLE
RESERVED = AgentState.RESERVED
ON_CALL = AgentState.ON_CALL
WRAP_UP = AgentState.WRAP_UP
AWAY = AgentState.AWAY

_MOVES: dict[AgentState, frozenset[AgentState]] = {
    OFFLINE: frozenset({AVAILABLE}),
    AVAILABLE: frozenset({RESERVED, AWAY}),
    RESERVED: frozenset({ON_CALL, AVAILABLE}),  # answered; or missed, expired, caller hung up
    ON_CALL: frozenset({WRAP_UP}),
    WRAP_UP: frozenset({AVAILABLE, AWAY}),
    AWAY: frozenset({AVAILABLE, AWAY}),  # away -> away changes the reason (break -> lunch)
}
# Going offline is always allowed: logout, end of shift, a supervisor forcing it.
ALLOWED: dict[AgentState, frozenset[AgentState]] = {
    state: targets if state is OFFLINE else targets | {OFFLINE} for state, targets in _MOVES.items()
}


class InvalidTransition(ValueError):
    """A state change the machine does not allow, e.g. on-call straight to available."""


def transition(
    agent: Agent, new_state: AgentState | str, now: datetime, reason: str | None = None
) -> Agent:
    """Return a copy of ``agent`` in ``new_state`` from ``now``.

    The copy remembers the stored state it leaves (``left_state``, ``left_since``): the
    agent-time fact counts that state's time (``routing.agent_facts``).

    Becoming available starts the idle clock, except when a reservation falls through
    (reserved -> available): the agent did no work, so a caller hanging up while it rang does not
    cost them their place in the longest-idle line. ``record_miss`` does move them back.
    """
    new_state = AgentState(new_state)
    if new_state not in ALLOWED[agent.state]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[agent.state]))
        raise InvalidTransition(
            f"agent {agent.agent_id} cannot go from {agent.state.value} to {new_state.value}"
            f" (allowed: {allowed})"
        )
    idle_since = agent.idle_since
    if new_state is AVAILABLE and not (agent.state is RESERVED and idle_since is not None):
        idle_since = now
    # A chain of moves in one write (record_miss: reserved -> available -> away) leaves the
    # state that is stored, so the first move's left state is kept.
    left_state, left_since = (agent.left_state, agent.left_since) if agent.left_state \
        else (agent.state, agent.state_since)
    return dataclasses.replace(
        agent, state=new_state, state_since=now, state_reason=reason, idle_since=idle_since,
        left_state=left_state, left_since=left_since,
    )


def calls_handled_today(agent: Agent, now: datetime) -> int:
    """``calls_today`` as of ``now``: a count from an earlier day is stale and means zero. The
    day is the agent's local one (``Agent.timezone``)."""
    return agent.calls_today if agent.calls_today_date == business_day(now, agent.timezone) \
        else 0


def after_call(agent: Agent, now: datetime) -> Agent:
    """The caller hung up: on-call -> wrap-up, one more call today, the miss streak is over.

    ``now`` is in the agent's day, so the count restarts at their midnight.
    """
    updated = transition(agent, WRAP_UP, now, "after-call work")
    updated.calls_today = calls_handled_today(agent, now) + 1
    updated.calls_today_date = business_day(now, agent.timezone)
    updated.missed_in_row = 0
    return updated


def record_miss(agent: Agent, now: datetime, max_misses: int) -> Agent:
    """A reserved agent let an offer ring out: back to available, at the end of the idle line.

    After ``max_misses`` misses in a row (0 = never) the agent is set away, so callers stop
    ringing a phone nobody is at; the reason tells a supervisor why.
    """
    if agent.state is not RESERVED:
        raise InvalidTransition(
            f"agent {agent.agent_id} is {agent.state.value}, not reserved: nothing to miss"
        )
    missed = agent.missed_in_row + 1
    updated = transition(agent, AVAILABLE, now, "missed call")
    updated.idle_since = now
    updated.missed_in_row = missed
    if max_misses > 0 and missed >= max_misses:
        updated = transition(updated, AWAY, now, f"missed {missed} calls in a row")
    return updated


def wrap_up_end(agent: Agent, now: datetime) -> datetime:
    """When an agent in wrap-up is ready again: ``wrap_up_seconds`` after it began, or ``now``
    if that is earlier (or the start is unknown). Whoever notices a finished wrap-up (a
    dispatch round, the sweep) ends it at this moment, so the reports count the after-call work
    the agent had, not how late it was noticed."""
    if agent.state_since is None:
        return now
    return min(now, agent.state_since + timedelta(seconds=agent.wrap_up_seconds))


def wrap_up_over(agent: Agent, now: datetime) -> bool:
    """True when an agent in wrap-up has had their ``wrap_up_seconds`` of after-call work."""
    if agent.state is not WRAP_UP:
        return False
    if agent.state_since is None:
        return True
    return (now - agent.state_since).total_seconds() >= agent.wrap_up_seconds


STATE_COMMANDS: dict[str, AgentState] = {
    "on": AVAILABLE,
    "available": AVAILABLE,
    "上线": AVAILABLE,
    "off": OFFLINE,
    "logout": OFFLINE,
    "下线": OFFLINE,
    "break": AWAY,
    "away": AWAY,
    "lunch": AWAY,
    "休息": AWAY,
}


def parse_state_command(text: str | None) -> tuple[AgentState, str] | None:
    """Read an agent's SMS to the hotline ("ON", "lunch", "休息") as (state, reason), else None.

    Compared as ``chalicelib.text.fold`` reads it, so a CJK keyboard's "ＯＮ", "Ｂｒｅａｋ！" and
    "上线。" are commands too. The reason is the command word, folded, so "LUNCH" shows as
    away: "lunch".
    """
    word = fold(text)
    state = STATE_COMMANDS.get(word)
    return (state, word) if state is not None else None
