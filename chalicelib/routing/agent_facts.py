"""The facts an agent's time leaves for the reports (``chalicelib.facts``): how long they spent
in the state they just left, recorded with every state change (``store.routing``).

One fact per state left, kind ``agent_time``, scope ``{"agent": agent_id}`` only (the time is
the agent's, not a queue's: an agent in several queues is available for all of them at once),
counted in the agent's own zone (``Agent.timezone``, else UTC) at the moment the state was
left. So a state spanning midnight counts wholly on the day it ended, and in a half-hour report
in the half-hour it ended: day figures are exact for states within a day, half-hour shares are
approximate for long states.

Values (whole seconds, rounded): ``<state>_seconds`` for ``available``, ``reserved``,
``on_call``, ``wrap_up``, ``away`` (break); ``logged_in_seconds`` for every state but offline
(offline time records nothing). Leaving on-call also counts ``handled: 1`` (talk time =
``on_call_seconds``, AHT = (on_call + wrap_up seconds) / handled; a consulted agent's leg is a
handled contact too) and ``transfers: 1`` when the agent's call ended by a transfer.

The id is ``agent:<agent_id>:<state_since ISO>:<state>``: the state left and when it began, so a
retried or raced change of the same state records one fact.

A caller put on hold (``routing/hold.py``, and the wait while their agent consults in a warm
transfer) leaves a fact of kind ``agent_hold`` when the hold ends: ``hold_seconds`` and
``holds: 1`` for the agent who held, id ``hold:<CallSid>:<hold start ISO>``. The agent is on a
call throughout, so hold time is a part of ``on_call_seconds``: talk = on-call - hold.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from chalicelib.facts import Fact, zone_of
from chalicelib.routing.model import DEFAULT_ZONE, Agent, AgentState

KIND = "agent_time"
HOLD_KIND = "agent_hold"


def seconds_name(state: AgentState) -> str:
    """The value a state's time is summed under: ``on-call`` -> ``on_call_seconds``."""
    return f"{state.value.replace('-', '_')}_seconds"


def _zone(name: str | None) -> str:
    try:
        zone_of(name or DEFAULT_ZONE)
    except ValueError:
        return DEFAULT_ZONE  # a zone the database does not know must not lose the time
    return name or DEFAULT_ZONE


def _id(agent_id: str, since: datetime, state: AgentState) -> str:
    fact_id = f"agent:{agent_id}:{since.isoformat()}:{state.value}"
    if len(fact_id) <= 200:
        return fact_id
    digest = hashlib.sha256(agent_id.encode()).hexdigest()
    return f"agent:{digest}:{since.isoformat()}:{state.value}"


def time_in_state(agent_id: str, zone: str | None, state: AgentState,
                  since: datetime | None, left_at: datetime, *,
                  transferred: bool = False) -> Fact | None:
    """The fact of ``agent_id`` leaving ``state`` (entered at ``since``) at ``left_at``; None
    for offline (no time to count) or an unknown start. ``zone``: the agent's IANA zone."""
    if state is AgentState.OFFLINE or since is None:
        return None
    seconds = max(round((left_at - since).total_seconds()), 0)
    values = {seconds_name(state): seconds, "logged_in_seconds": seconds}
    if state is AgentState.ON_CALL:
        values["handled"] = 1
        if transferred:
            values["transfers"] = 1
    return Fact(_id(agent_id, since, state), KIND, left_at, _zone(zone),
                {"agent": agent_id}, values)


def state_left(agent: Agent, now: datetime, *, transferred: bool = False) -> Fact | None:
    """The fact of the state an unsaved ``agent`` (moved by ``agent_states.transition``)
    leaves at ``now``; None when it was not moved or leaves offline."""
    if agent.left_state is None:
        return None
    return time_in_state(agent.agent_id, agent.timezone, agent.left_state, agent.left_since,
                         now, transferred=transferred)


def hold_time(agent_id: str, zone: str | None, call_sid: str, since: datetime,
              ended_at: datetime) -> Fact:
    """The fact of ``agent_id`` holding the caller of ``call_sid`` from ``since`` to
    ``ended_at`` (whole seconds), counted in the agent's IANA ``zone`` when the hold ended."""
    seconds = max(round((ended_at - since).total_seconds()), 0)
    return Fact(f"hold:{call_sid}:{since.isoformat()}", HOLD_KIND, ended_at, _zone(zone),
                {"agent": agent_id}, {"hold_seconds": seconds, "holds": 1})
