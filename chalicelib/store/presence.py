"""Each queue's live agent counts ("presence"): how many of its agents are available, reserved,
on a call, in wrap-up, away or logged out, read with one Query whatever the queue's size.

Admission, estimated waits and "is anyone free" read these instead of every agent of the
queue. The counts live in ``queue_stats`` items ``agents#<shard>`` of the queue's partition.
An agent is counted in one shard (a stable hash of its id), so agents changing state at once
seldom touch the same item, and every write that moves an agent moves its counts in the same
transaction (``Moves.write_in``): the counts never disagree with the agents. A queue's counts
are taken from its agents once, the first time they are read (``store.routing.queue_presence``),
which covers queues from before.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.routing.model import AgentState, QueuePresence
from chalicelib.store.models import QueueDay, QueueMember, transaction_connection

SHARDS = 4  # items per queue; more shards, fewer transactions meeting on one item
FIRST = "agents#0"  # the shard that also says the counts were taken (``counted``)

_FIELD = {
    AgentState.AVAILABLE: QueueDay.available,
    AgentState.RESERVED: QueueDay.reserved,
    AgentState.ON_CALL: QueueDay.on_call,
    AgentState.WRAP_UP: QueueDay.wrap_up,
    AgentState.AWAY: QueueDay.away,
    AgentState.OFFLINE: QueueDay.offline,
}


def shard_key(agent_id: str) -> str:
    """The presence item an agent is counted in: ``agents#<0..SHARDS-1>``."""
    return f"agents#{zlib.crc32(agent_id.encode()) % SHARDS}"


class Moves:
    """Count changes to write together: one update per presence item, however many agents of
    one transaction share it (a transaction may touch an item only once); and, for agents
    becoming available or ceasing to be, their memberships' ``free_at`` (the sparse index of a
    queue's free agents that dispatch reads)."""

    def __init__(self):
        self._deltas: dict[tuple[str, str], dict[AgentState, int]] = {}
        self._free: dict[tuple[str, str], datetime | None] = {}

    def move(self, agent_id: str, queues: Iterable[str], before: AgentState | None,
             after: AgentState | None, free_at: datetime | None = None) -> Moves:
        """``agent_id`` goes from ``before`` to ``after`` in each of ``queues`` (None: it joins
        or leaves the queue). ``free_at`` (since when an agent now available is free) also
        marks the memberships; leave it None where the caller writes the memberships itself."""
        if before == after:
            return self
        available = AgentState.AVAILABLE
        for queue_id in queues:
            deltas = self._deltas.setdefault((queue_id, shard_key(agent_id)), {})
            for state, step in ((before, -1), (after, 1)):
                if state is not None:
                    deltas[state] = deltas.get(state, 0) + step
            if after is available and free_at is not None:
                self._free[(queue_id, agent_id)] = free_at
            elif before is available and after is not None:
                self._free[(queue_id, agent_id)] = None
        return self

    def write_in(self, tx: TransactWrite) -> None:
        for (queue_id, agent_id), free_at in self._free.items():
            action = QueueMember.free_at.set(free_at) if free_at is not None \
                else QueueMember.free_at.remove()
            tx.update(QueueMember(queue_id, agent_id), actions=[action])
        for (queue_id, key), deltas in self._deltas.items():
            actions: list[Action] = [_FIELD[state].add(step)
                                     for state, step in deltas.items() if step]
            if actions:
                tx.update(QueueDay(queue_id, key), actions=actions)


def read(queue_id: str, consistent: bool = False) -> QueuePresence | None:
    """The queue's counts, or None before they were first taken: one Query of its shards (on
    the queue's partition, charged by what it returns: 0.5 read unit eventually consistent, 1
    strongly, for all of them)."""
    items = list(QueueDay.query(queue_id, QueueDay.day.startswith("agents#"),
                                consistent_read=consistent))
    if not any(item.day == FIRST and item.counted for item in items):
        return None
    counts = {state: 0 for state in _FIELD}
    for item in items:
        for state, field in _FIELD.items():
            counts[state] += int(getattr(item, field.attr_name) or 0)
    return QueuePresence(queue_id, counts)


def take(queue_id: str, states: dict[str, AgentState]) -> QueuePresence:
    """Set the queue's counts from its agents' states (agent id -> state, as just read), once:
    if another request took them first, theirs stand. The counts returned are these."""
    per_shard: dict[str, dict[AgentState, int]] = {
        f"agents#{k}": {state: 0 for state in _FIELD} for k in range(SHARDS)}
    for agent_id, state in states.items():
        per_shard[shard_key(agent_id)][state] += 1
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            for key, counts in per_shard.items():
                actions: list[Action] = [_FIELD[state].set(count)
                                         for state, count in counts.items()]
                condition = None
                if key == FIRST:
                    actions.append(QueueDay.counted.set(True))
                    condition = QueueDay.counted.does_not_exist()
                tx.update(QueueDay(queue_id, key), actions=actions, condition=condition)
    except TransactWriteError:
        pass  # another request took them first (or an agent moved meanwhile): theirs stand
    totals = {state: sum(counts[state] for counts in per_shard.values()) for state in _FIELD}
    return QueuePresence(queue_id, totals)

