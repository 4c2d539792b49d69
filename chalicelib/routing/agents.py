"""Agent bookkeeping: every change to an agent's state that a call causes, in one place.

Routing, warm transfers, callbacks and (next) the outbound dialer all reserve agents, put them
on calls, free them, count their missed offers and send them to wrap-up. Each change is the pure
transition of ``agent_states`` written conditionally on the state it was read in
(``store.routing.change_agent_state``): when two Lambdas race, the first change stands and the
other is told so (a False return), never overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from chalicelib.routing import agent_states
from chalicelib.routing.model import Agent, AgentState, LineEntry
from chalicelib.store import routing

AGENT_RING_SECONDS = 20  # how long an agent's phone rings for an offer
RESERVATION_SECONDS = 45  # ring time plus slack; past this the sweeper frees both sides
MAX_MISSES = 3  # unanswered offers in a row before an agent is set away, if the queue is gone


class AgentBook:
    """Conditional agent state changes. Methods taking an ``agent_id`` read the agent first and
    do nothing when it is unknown or no longer in the state the change starts from (a duplicate
    or late webhook). Returns: True when this call made the change."""

    @staticmethod
    def change(agent: Agent, expected: AgentState, now: datetime, **fields) -> bool:
        """Write ``agent`` (already moved by ``agent_states``) if it is still ``expected``;
        ``fields``: ``current_call`` / ``reserved_call`` / ``call_sid`` / ``transferred`` as
        ``store.routing.change_agent_state`` takes them."""
        try:
            routing.change_agent_state(agent, expected, now, **fields)
        except routing.StateConflict:
            return False  # someone else moved the agent first: their change stands
        return True

    def reserve(self, entry: LineEntry, agents: list[Agent], now: datetime,
                seconds: int = RESERVATION_SECONDS) -> bool:
        """Reserve ``agents`` for the waiting line ``entry`` together, for ``seconds``; False
        when another dispatcher took any of them (or the entry) first."""
        return routing.reserve(entry, agents, now, seconds)

    def take_call(self, agent: Agent, call_sid: str, now: datetime, reason: str,
                  leg_sid: str | None = None) -> bool:
        """A reserved agent answered: they are on ``call_sid`` (``leg_sid``: the leg to track as
        their current call when it differs, e.g. a callback's agent leg)."""
        on_call = agent_states.transition(agent, AgentState.ON_CALL, now, reason)
        return self.change(on_call, AgentState.RESERVED, now, current_call=leg_sid or call_sid)

    def hold_for(self, agent: Agent, call_sid: str, now: datetime, reason: str) -> bool:
        """Reserve one available agent for ``call_sid`` without a line entry (a consult)."""
        reserved = agent_states.transition(agent, AgentState.RESERVED, now, reason)
        return self.change(reserved, AgentState.AVAILABLE, now, reserved_call=call_sid)

    def finish_call(self, agent_id: str, call_sid: str, now: datetime,
                    transferred: bool = False) -> bool:
        """The agent's call ended (``transferred``: they handed it on): on to wrap-up."""
        agent = routing.get_agent(agent_id)
        if agent is None or agent.state is not AgentState.ON_CALL:
            return False  # already wrapped up: a duplicate or late callback
        return self.change(agent_states.after_call(agent, now), AgentState.ON_CALL, now,
                           call_sid=call_sid, transferred=transferred)

    def miss(self, agent_id: str, now: datetime, max_misses: int = MAX_MISSES) -> bool:
        """A reserved agent let an offer ring out: count it (``max_misses`` in a row: away)."""
        agent = routing.get_agent(agent_id)
        if agent is None or agent.state is not AgentState.RESERVED:
            return False
        return self.change(agent_states.record_miss(agent, now, max_misses),
                           AgentState.RESERVED, now)

    def free(self, agent_id: str, now: datetime, reason: str) -> bool:
        """A reserved agent is available again (the offer went elsewhere or went away)."""
        agent = routing.get_agent(agent_id)
        if agent is None or agent.state is not AgentState.RESERVED:
            return False
        return self.change(agent_states.transition(agent, AgentState.AVAILABLE, now, reason),
                           AgentState.RESERVED, now)

    def end_wrap_up(self, agent: Agent, now: datetime) -> bool:
        """Wrap-up time is over: available again, from when it was over
        (``agent_states.wrap_up_end``), however late this is noticed."""
        at = agent_states.wrap_up_end(agent, now)
        return self.change(
            agent_states.transition(agent, AgentState.AVAILABLE, at, "wrap-up over"),
            AgentState.WRAP_UP, at)

    def undo_reservation(self, entry: LineEntry, agents: Iterable[Agent], now: datetime,
                         reason: str) -> None:
        """Free ``agents`` and put ``entry`` back in line at its place."""
        for agent in agents:
            self.free(agent.agent_id, now, reason)
        routing.release_entry(entry)
