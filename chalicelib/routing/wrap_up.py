"""Disposition codes: what became of a call, said by the agent who handled it, usually during
wrap-up (``resolved``, ``follow_up``...). The reports count them per agent and per queue.

A code is one of the call's queue's ``QueueConfig.dispositions`` (``DEFAULT_DISPOSITIONS``
when the call was in no queue). An agent sets one code per call, once: the same code again
answers the same (a double click, a retry), another code is refused (``Conflict``), so the
counts never move under a report. The call is the one named, else the agent's current call,
else the last call in their recent history (the one they are wrapping up); an agent may only
set the code of a call they handled (their current call or one of their last
``HISTORY_LOOKBACK`` state changes).

Each code leaves facts of kind ``disposition`` (``chalicelib.facts``), written in the same
transaction as the call's record, with values ``dispositions: 1`` and ``disposition_<code>: 1``:
one in the agent's scope and zone (id ``disposition:<CallSid>:<agent>:agent``), and one in the
queue's (``...:queue``) when the call had a queue.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from chalicelib.api_errors import Conflict, InvalidRequest, NotFound
from chalicelib.facts import Fact, zone_of
from chalicelib.routing.model import (
    DEFAULT_DISPOSITIONS,
    DEFAULT_ZONE,
    Agent,
    AgentState,
    QueueConfig,
)
from chalicelib.store import calls
from chalicelib.store import routing as store

KIND = "disposition"
CODE = re.compile(r"[a-z][a-z0-9_]{0,27}")  # ``disposition_<code>`` is a fact value name
MAX_CODES = 30
HISTORY_LOOKBACK = 20


def value_name(code: str) -> str:
    """The rollup value a code is counted under: ``resolved`` -> ``disposition_resolved``."""
    return f"disposition_{code}"


def check_codes(codes, field: str = "dispositions") -> list[str]:
    """A queue's codes as given (a list of 1..``MAX_CODES`` distinct ``CODE``s), else
    ``InvalidRequest`` naming ``field``."""
    if not isinstance(codes, list) or not 1 <= len(codes) <= MAX_CODES:
        raise InvalidRequest(field, f"must be a list of 1 to {MAX_CODES} codes")
    for i, code in enumerate(codes):
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise InvalidRequest(f"{field}[{i}]", "must be lowercase letters, digits and _, "
                                                  "starting with a letter, at most 28")
    if len(set(codes)) != len(codes):
        raise InvalidRequest(field, "must not repeat a code")
    return list(codes)


def _zone(name: str | None) -> str:
    try:
        zone_of(name or DEFAULT_ZONE)
    except ValueError:
        return DEFAULT_ZONE
    return name or DEFAULT_ZONE


def _fact_id(call_sid: str, agent_id: str, scope: str) -> str:
    fact_id = f"disposition:{call_sid}:{agent_id}:{scope}"
    if len(fact_id) > 200:
        fact_id = f"disposition:{call_sid}:{hashlib.sha256(agent_id.encode()).hexdigest()}:{scope}"
    return fact_id


def disposition_facts(call_sid: str, agent: Agent, queue: QueueConfig | None, code: str,
                      at: datetime) -> list[Fact]:
    """The facts one code leaves: the agent's, and the queue's when there is one."""
    values = {"dispositions": 1, value_name(code): 1}
    found = [Fact(_fact_id(call_sid, agent.agent_id, "agent"), KIND, at, _zone(agent.timezone),
                  {"agent": agent.agent_id}, dict(values))]
    if queue is not None:
        found.append(Fact(_fact_id(call_sid, agent.agent_id, "queue"), KIND, at, queue.zone,
                          {"queue": queue.queue_id}, dict(values)))
    return found


def codes_for(queue_id: str | None) -> list[str]:
    """The codes an agent may give a call of ``queue_id`` (the defaults without a queue, or
    for a queue since removed)."""
    queue = store.get_queue(queue_id) if queue_id else None
    return list(queue.dispositions) if queue is not None else list(DEFAULT_DISPOSITIONS)


def last_handled_call(agent: Agent) -> str | None:
    """The call an agent in wrap-up is wrapping up: their last taken one (None if none)."""
    try:
        return _handled_call(agent, None)
    except Conflict:
        return None


def _handled_call(agent: Agent, call_sid: str | None) -> str:
    """The call the agent means: named (and handled by them), current, or last handled."""
    recent = [agent.current_call] if agent.current_call else []
    # calls taken or wrapped up, not merely offered (a reservation names its call too)
    recent += [event.call_sid for event in store.agent_history(agent.agent_id,
                                                                limit=HISTORY_LOOKBACK)
               if event.call_sid and event.state in (AgentState.ON_CALL, AgentState.WRAP_UP)]
    if call_sid is None:
        if not recent:
            raise Conflict(f"agent {agent.agent_id} has handled no call lately; name call_sid")
        return recent[0]
    if call_sid not in recent:
        raise Conflict(f"agent {agent.agent_id} did not handle call {call_sid} lately")
    return call_sid


def set_disposition(agent_id: str, code: str, call_sid: str | None, note: str | None,
                    now: datetime) -> dict:
    """Record ``code`` for the agent's call: ``{"call_sid", "agent_id", "code", "at",
    "note"}``. ``NotFound`` for an unknown agent or call; ``InvalidRequest`` (``code``) for a
    code the call's queue does not offer; ``Conflict`` for a call the agent did not handle or
    one they already gave another code."""
    agent = store.get_agent(agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    call_sid = _handled_call(agent, call_sid)
    record = calls.get_call(call_sid)
    if record is None:
        raise NotFound("call", call_sid)
    queue = store.get_queue(record.queue_id) if record.queue_id else None
    offered = queue.dispositions if queue is not None else list(DEFAULT_DISPOSITIONS)
    if code not in offered:
        raise InvalidRequest("code", f"must be one of {', '.join(offered)}")
    disposition = {"agent_id": agent_id, "code": code, "at": now.isoformat(), "note": note}
    if not calls.add_disposition(call_sid, disposition,
                                 disposition_facts(call_sid, agent, queue, code, now)):
        now_stored = calls.get_call(call_sid)
        earlier = next((d for d in (now_stored.dispositions or [] if now_stored else [])
                        if d.get("agent_id") == agent_id), None)
        if earlier is None or earlier.get("code") != code:
            raise Conflict(f"call {call_sid} already has agent {agent_id}'s code "
                           f"'{earlier.get('code') if earlier else '?'}'")
        disposition = earlier
    return {"call_sid": call_sid, **disposition}
