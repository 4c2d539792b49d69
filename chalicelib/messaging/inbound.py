"""Texts that arrive on a hotline number.

For now one kind is understood: an agent texting a state command (``ON``, ``OFF``, ``BREAK``,
``上线``, ...) from their registered phone. Everything else is acknowledged with no reply; the
customer SMS channel (opt-outs, replies to confirmations) builds on this entry point.
"""

from __future__ import annotations

import logging
from datetime import datetime

from chalicelib.logs import mask_number
from chalicelib.prompts import render_prompt
from chalicelib.routing import agent_states
from chalicelib.routing.model import AgentState
from chalicelib.store import routing

log = logging.getLogger(__name__)


def handle_inbound_sms(params: dict, now: datetime, on_available) -> str | None:
    """The reply text for an inbound SMS, or None for no reply.

    ``on_available(agent_id)`` runs after an agent becomes available (it dispatches their queues).
    """
    sender = params.get("From", "")
    agent = routing.agent_by_mobile(sender) if sender else None
    if agent is None:
        log.info("sms from %s: not an agent; no reply", mask_number(sender))
        return None
    language = agent.languages[0] if agent.languages else None
    command = agent_states.parse_state_command(params.get("Body"))
    if command is None:
        return render_prompt("agent_command_help", language)[0]
    state, reason = command
    if agent.state is state:
        return render_prompt("agent_state_changed", language, state=state.value)[0]
    try:
        updated = agent_states.transition(agent, state, now, f"sms: {reason}")
        routing.change_agent_state(updated, agent.state, now)
    except (agent_states.InvalidTransition, routing.StateConflict):
        return render_prompt("agent_state_refused", language, state=agent.state.value)[0]
    log.info("agent %s is %s (by sms)", agent.agent_id, state.value)
    if state is AgentState.AVAILABLE:
        on_available(agent.agent_id)
    return render_prompt("agent_state_changed", language, state=state.value)[0]
