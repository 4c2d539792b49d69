"""Agents, queues and the waiting line in DynamoDB, and the one write that matters most: the
reservation that pairs one caller with an agent.

A reservation is a single DynamoDB transaction: the queue entry moves waiting → reserved and every
offered agent available → reserved, each conditional on its current state. Many Lambdas may
dispatch the same queue at once; whichever transaction commits first wins and the others are
cancelled whole, so no agent ever holds two callers and no caller two agents.

Every write that moves an agent also moves, in the same transaction, the queue's agent counts
(``store.presence``), the agent's memberships in the index of free agents, and the sparse
``due`` attributes the sweeper reads (a reservation's end, a wrap-up's end).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.callbacks.model import DIALING
from chalicelib.facts import Fact
from chalicelib.routing import agent_facts
from chalicelib.routing.model import (
    Agent,
    AgentState,
    AgentStateChange,
    ContactHistory,
    Endpoint,
    LineEntry,
    OverflowTier,
    QueueConfig,
    QueuePresence,
    QueueRouting,
    Strategy,
    WaitingCaller,
)
from chalicelib.store import claims, line, presence, queue_stats
from chalicelib.store import facts as facts_store
from chalicelib.store.models import (
    AgentEvent,
    AgentItem,
    Contact,
    QueueEntry,
    QueueItem,
    QueueMember,
    save_if_absent,
    transaction_connection,
    update_if,
)

log = logging.getLogger(__name__)

EVENT_RETENTION_DAYS = 400  # a year of history for reports, plus slack
ENTRY_RETENTION_HOURS = 24  # a forgotten entry disappears by TTL (reads also check status)

# a queue's hot counters (day figures, handle-time samples) live in store.queue_stats; routing
# callers know them by these names
count_in_queue_day = queue_stats.count_in_queue_day
queue_day = queue_stats.queue_day
add_handle_time = queue_stats.add_handle_time
recent_handle_times = queue_stats.recent_handle_times


class StateConflict(Exception):
    """The agent or entry was not in the state the write expected (someone else moved it)."""


def _conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


CONFLICT_TRIES = 4  # a transaction cancelled only by another one in flight is tried again


def _conflicted(exc: TransactWriteError) -> bool:
    """Cancelled because another transaction held one of the items, with no condition failed:
    nothing was wrong with this write, it met another on a shared counter."""
    codes = {reason.code for reason in exc.cancellation_reasons or () if reason is not None}
    return "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes


def _transact(write: Callable[[TransactWrite], None]) -> None:
    """Run ``write(tx)`` in one transaction, again after a short random pause when it only met
    another transaction (``_conflicted``); a failed condition raises ``TransactWriteError`` at
    once."""
    for attempt in range(CONFLICT_TRIES):
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                write(tx)
            return
        except TransactWriteError as exc:
            if attempt + 1 == CONFLICT_TRIES or not _conflicted(exc):
                raise
            time.sleep(random.uniform(0, 0.01 * 2 ** attempt))


DUE_SHARDS = 4
DUE_AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)  # due for every sweep, whatever its clock


def due_shard(key: str) -> str:
    """Which shard of a ``due`` index an item with this key is in: ``due#0`` .. ``due#3``."""
    return due_shard_key(zlib.crc32(key.encode()) % DUE_SHARDS)


def due_shard_key(shard: int) -> str:
    return f"due#{shard}"


def agent_due_at(agent: Agent, reserved_until: datetime | None) -> datetime | None:
    """When the agent's state ends by the clock, if it does: a reservation at its end, a
    wrap-up after ``wrap_up_seconds`` (``agent_states.wrap_up_over``)."""
    if agent.state is AgentState.RESERVED:
        return reserved_until or agent.reserved_until
    if agent.state is AgentState.WRAP_UP:
        if agent.state_since is None:
            return DUE_AT_ONCE
        return agent.state_since + timedelta(seconds=agent.wrap_up_seconds)
    return None


def _due_actions(model, key: str, at: datetime | None) -> list[Action]:
    """Into the sparse ``due`` index at ``at``, or out of it (None)."""
    if at is None:
        return [model.due_shard.remove(), model.due_at.remove()]
    return [model.due_shard.set(due_shard(key)), model.due_at.set(at)]


# ---- agents ---------------------------------------------------------------------------------


def _to_agent(item: AgentItem) -> Agent:
    return Agent(
        agent_id=item.agent_id,
        name=item.name,
        endpoint=Endpoint(item.endpoint_kind, item.endpoint_address),
        skills=dict(item.skills or {}),
        queues=dict(item.queues or {}),
        languages=list(item.languages or []),
        wrap_up_seconds=int(item.wrap_up_seconds),
        state=AgentState(item.state),
        state_since=item.state_since,
        state_reason=item.state_reason,
        idle_since=item.idle_since,
        calls_today=int(item.calls_today or 0),
        calls_today_date=item.calls_today_date,
        missed_in_row=int(item.missed_in_row or 0),
        mobile=item.mobile,
        regions=list(item.regions or []),
        reserved_until=item.reserved_until,
        timezone=item.timezone,
        reserved_call=item.reserved_call,
        current_call=item.current_call,
        profile_version=int(item.profile_version or 0),
    )


def _agent_item(agent_id: str) -> AgentItem | None:
    try:
        return AgentItem.get(agent_id, consistent_read=True)
    except DoesNotExist:
        return None


def get_agent(agent_id: str) -> Agent | None:
    """The agent as stored now (a strongly consistent read), or None."""
    item = _agent_item(agent_id)
    return _to_agent(item) if item else None


def agent_by_mobile(mobile: str) -> Agent | None:
    for key in AgentItem.by_mobile.query(mobile, limit=1):
        return get_agent(key.agent_id)
    return None


def save_agent_profile(agent: Agent, now: datetime) -> None:
    """Create or update an agent's profile and queue memberships, never its live state: the
    profile fields are written with an update, so a reservation made meanwhile stands. The
    queues' agent counts (``store.presence``) take the agent in or out in the same transaction,
    conditional on the state read: a state change meanwhile makes it read and try again."""
    # into the directory (``agents``) first, outside the transaction (agents saved at once
    # would conflict on the one item): an id whose agent write then fails is simply skipped
    QueueItem(DIRECTORY).update(actions=[QueueItem.agent_ids.add({agent.agent_id})])
    for attempt in range(CONFLICT_TRIES):
        existing = _agent_item(agent.agent_id)

        def write(tx: TransactWrite, read: AgentItem | None = existing) -> None:
            _write_profile(tx, agent, read, now)

        try:
            _transact(write)
            return
        except TransactWriteError:
            if attempt + 1 == CONFLICT_TRIES:
                raise


def _write_profile(tx: TransactWrite, agent: Agent, existing: AgentItem | None,
                   now: datetime) -> None:
    old_queues = set(existing.queues or {}) if existing else set()
    state = AgentState(existing.state) if existing else AgentState.OFFLINE
    version = int(existing.profile_version or 0) if existing else 0
    profile = [
        AgentItem.name.set(agent.name),
        AgentItem.endpoint_kind.set(agent.endpoint.kind),
        AgentItem.endpoint_address.set(agent.endpoint.address),
        AgentItem.skills.set(agent.skills),
        AgentItem.queues.set(agent.queues),
        AgentItem.languages.set(agent.languages),
        AgentItem.regions.set(agent.regions),
        AgentItem.wrap_up_seconds.set(agent.wrap_up_seconds),
        *_set_or_remove(AgentItem.mobile, agent.mobile),
        *_set_or_remove(AgentItem.timezone, agent.timezone),
        # a new agent starts logged out; an existing one keeps its state
        AgentItem.state.set(AgentItem.state | AgentState.OFFLINE.value),
        AgentItem.state_since.set(AgentItem.state_since | now),
        AgentItem.calls_today.set(AgentItem.calls_today | 0),
        AgentItem.missed_in_row.set(AgentItem.missed_in_row | 0),
        AgentItem.profile_version.set(version + 1),
    ]
    if existing is None:
        condition = AgentItem.agent_id.does_not_exist()
    else:
        condition = (AgentItem.state == state.value) & _version_is(version)
    tx.update(AgentItem(agent.agent_id), actions=profile, condition=condition)
    free_at = (existing.state_since or now) if state is AgentState.AVAILABLE and existing \
        else None
    for queue_id, tier in agent.queues.items():
        tx.save(QueueMember(queue_id, agent.agent_id, tier=tier, free_at=free_at))
    for queue_id in old_queues - set(agent.queues):
        tx.delete(QueueMember(queue_id, agent.agent_id))
    presence.Moves() \
        .move(agent.agent_id, set(agent.queues) - old_queues, None, state) \
        .move(agent.agent_id, old_queues - set(agent.queues), state, None) \
        .write_in(tx)


def _version_is(version: int):
    """The profile read is still the stored one (items from before versions have none)."""
    if version:
        return AgentItem.profile_version == version
    return AgentItem.profile_version.does_not_exist() | (AgentItem.profile_version == 0)


def change_agent_state(
    agent: Agent,
    expected: AgentState | tuple[AgentState, ...],
    now: datetime,
    *,
    reserved_call: str | None = None,
    reserved_until: datetime | None = None,
    current_call: str | None = None,
    call_sid: str | None = None,
    claim: str | None = None,
    transferred: bool = False,
) -> None:
    """Write ``agent``'s new state (already decided by ``routing.agent_states``) if the stored
    state is still ``expected`` (and still began at ``agent.left_since``); record the change
    with its reason in the agent's history, and the time spent in the state left as a fact
    (``routing.agent_facts``; ``transferred``: the call ended by a transfer).

    ``claim`` (a key derived from the Twilio request that asked, e.g. an SMS command's
    MessageSid) is taken in the same transaction: ``AlreadyClaimed`` if it was taken before,
    ``StateConflict`` if the agent moved meanwhile."""
    expected = expected if isinstance(expected, tuple) else (expected,)
    # the state left, exactly: the queues' counts move from it (``store.presence``)
    left = agent.left_state or expected[0]
    actions: list[Action] = [
        AgentItem.state.set(agent.state.value),
        AgentItem.state_since.set(agent.state_since or now),
        AgentItem.calls_today.set(agent.calls_today),
        AgentItem.missed_in_row.set(agent.missed_in_row),
    ]
    actions += _set_or_remove(AgentItem.state_reason, agent.state_reason)
    actions += _set_or_remove(AgentItem.idle_since, agent.idle_since)
    actions += _set_or_remove(AgentItem.calls_today_date, agent.calls_today_date)
    actions += _set_or_remove(AgentItem.reserved_call, reserved_call)
    actions += _set_or_remove(AgentItem.reserved_until, reserved_until)
    actions += _set_or_remove(AgentItem.current_call, current_call)
    actions += _due_actions(AgentItem, agent.agent_id, agent_due_at(agent, reserved_until))
    condition = AgentItem.state == left.value
    if agent.profile_version:
        # counted in the queues read: a profile saved meanwhile (other queues) fails this
        # write (an agent built rather than read knows no version, and is taken as it is)
        condition &= AgentItem.profile_version == agent.profile_version
    if agent.left_since is not None:
        # the state left is the one read: a change decided on a stale read (the agent left and
        # re-entered that state meanwhile) would count the wrong stretch of time
        condition &= AgentItem.state_since == agent.left_since
    previous = ",".join(state.value for state in expected)
    event = _event(agent.agent_id, agent.state, previous, agent.state_reason,
                   call_sid or reserved_call or current_call, now)
    fact = _fact_item(agent_facts.state_left(agent, now, transferred=transferred))
    moves = presence.Moves().move(agent.agent_id, agent.queues, left, agent.state,
                                  free_at=agent.state_since or now)

    def write(tx: TransactWrite) -> None:
        tx.update(AgentItem(agent.agent_id), actions=actions, condition=condition)
        tx.save(event)
        if fact is not None:
            # Unconditional on purpose: the agent's condition (state and its start) lets one
            # change of a state stretch commit, so the fact is written once with it,
            # atomically; a put-if-absent here could only fail the state change. An identical
            # overwrite (same stretch, same values) changes nothing, and the facts stream
            # counts only INSERTs.
            facts_store.save_in(tx, fact)
        moves.write_in(tx)
        if claim:
            claims.claim_in(tx, claim, now)

    try:
        _transact(write)
    except TransactWriteError as exc:
        if claim and claims.is_claimed(claim):
            raise claims.AlreadyClaimed(claim) from exc
        raise StateConflict(f"agent {agent.agent_id} is no longer {expected}") from exc


def _fact_item(fact: Fact | None) -> Fact | None:
    """``fact`` when it can be counted, else None (logged): the state change must never fail
    for its fact."""
    if fact is None:
        return None
    try:
        return fact.check()
    except ValueError:
        log.warning("agent fact %s cannot be counted; the state change goes ahead", fact.fact_id)
        return None


def _event(agent_id, state, previous, reason, call_sid, now) -> AgentEvent:
    previous = previous.value if isinstance(previous, AgentState) else previous
    return AgentEvent(
        agent_id,
        f"{now.isoformat()}#{secrets.token_hex(3)}",
        state=AgentState(state).value,
        previous=previous,
        reason=reason,
        call_sid=call_sid,
        expires=now + timedelta(days=EVENT_RETENTION_DAYS),
    )


def agent_history(agent_id: str, limit: int = 50) -> list[AgentStateChange]:
    """The agent's state changes, newest first."""
    return [_to_state_change(event)
            for event in AgentEvent.query(agent_id, scan_index_forward=False, limit=limit)]


def _to_state_change(event: AgentEvent) -> AgentStateChange:
    return AgentStateChange(
        agent_id=event.agent_id,
        at=datetime.fromisoformat(event.at.split("#")[0]),  # the key: "<ISO time>#<suffix>"
        state=AgentState(event.state),
        previous=event.previous,
        reason=event.reason,
        call_sid=event.call_sid,
    )


def _set_or_remove(attribute: Attribute[Any], value: object) -> list[Action]:
    return [attribute.set(value)] if value is not None else [attribute.remove()]


# ---- queues ---------------------------------------------------------------------------------


def config_to_dict(config: QueueConfig) -> dict:
    data = dict(config.__dict__)
    data["strategy"] = config.strategy.value
    data["tiers"] = [tier.__dict__ for tier in config.tiers]
    return data


def config_from_dict(data: dict) -> QueueConfig:
    data = dict(data)
    data["strategy"] = Strategy(data.get("strategy", Strategy.LONGEST_IDLE.value))
    data["tiers"] = [OverflowTier(**tier) for tier in data.get("tiers", [])]
    return QueueConfig(**data)


DIRECTORY = "#directory"  # the queues table's one item that lists every queue id


def save_queue(config: QueueConfig, now: datetime) -> None:
    """Write a queue's configuration; its routing data (round-robin pointer, handle times)
    is left as it is. The queue's id joins the directory (``queues``)."""
    QueueItem(config.queue_id).update(
        actions=[QueueItem.config.set(config_to_dict(config)), QueueItem.updated_at.set(now)]
    )
    QueueItem(DIRECTORY).update(actions=[QueueItem.queue_ids.add({config.queue_id})])


def _directory(ids_attribute, listed_attribute, scan: Callable[[], Iterable[str]]) -> list[str]:
    """The ids the directory item holds in ``ids_attribute``, sorted: one GetItem. The first
    read after the directory came in (``listed_attribute`` unset) Scans once and adds every
    id found, so ids written before it are never missed; ids saved meanwhile are added by
    their own writes (a set ADD: nothing is lost either way)."""
    try:
        item: QueueItem | None = QueueItem.get(DIRECTORY, consistent_read=True)
    except DoesNotExist:
        item = None
    if item is not None and getattr(item, listed_attribute.attr_name):
        return sorted(getattr(item, ids_attribute.attr_name) or ())
    found = set(scan())
    actions = [listed_attribute.set(True)]
    if found:
        actions.append(ids_attribute.add(found))
    QueueItem(DIRECTORY).update(actions=actions)
    return sorted(found | set(getattr(item, ids_attribute.attr_name) or () if item else ()))


def queues() -> list[QueueConfig]:
    """All queues, by id, without a Scan (but once: ``_directory``): the directory's ids (one
    GetItem), then their configurations (BatchGetItem)."""
    ids = _directory(QueueItem.queue_ids, QueueItem.queues_listed,
                     lambda: (config.queue_id for config in list_queues()))
    found = {item.queue_id: config_from_dict(item.config)
             for item in QueueItem.batch_get(ids) if item.config}
    return [found[queue_id] for queue_id in ids if queue_id in found]


def agents() -> list[Agent]:
    """All agents, by id, without a Scan (but once: ``_directory``): the directory's ids (one
    GetItem), then the agents (BatchGetItem, 100 a request)."""
    ids = _directory(QueueItem.agent_ids, QueueItem.agents_listed,
                     lambda: (item.agent_id for item in AgentItem.scan(
                         attributes_to_get=["agent_id"])))
    return sorted(get_agents(ids), key=lambda agent: agent.agent_id)


def get_queue_routing(queue_id: str) -> QueueRouting | None:
    """The queue's configuration and its routing data: two reads, the queue item (GetItem)
    and its handle-time samples (one Query, ``queue_stats.handle_samples``; the list kept
    on the queue item before them is the fallback)."""
    try:
        item = QueueItem.get(queue_id)
    except DoesNotExist:
        return None
    return QueueRouting(
        config=config_from_dict(item.config),
        handle_times=tuple(queue_stats.handle_samples(queue_id) or item.handle_times or ()),
        last_agent_id=item.last_agent_id,
    )


def get_queue(queue_id: str) -> QueueConfig | None:
    try:
        return config_from_dict(QueueItem.get(queue_id).config)
    except DoesNotExist:
        return None


def list_queues() -> list[QueueConfig]:
    """All queues: a small configuration table, read whole by the admin API and the board."""
    return [config_from_dict(item.config) for item in QueueItem.scan()
            if item.queue_id != DIRECTORY]


def round_robin_pointer(queue_id: str) -> str | None:
    try:
        return QueueItem.get(queue_id).last_agent_id
    except DoesNotExist:
        return None


def set_round_robin_pointer(queue_id: str, agent_id: str) -> None:
    QueueItem(queue_id).update(actions=[QueueItem.last_agent_id.set(agent_id)])


def queue_agents(queue_id: str) -> list[Agent]:
    """The agents serving a queue (any state), by key: a Query and one BatchGet."""
    return get_agents([member.agent_id for member in QueueMember.query(queue_id)])


def get_agents(agent_ids: list[str]) -> list[Agent]:
    """Several agents in one BatchGet (unknown ids are left out)."""
    if not agent_ids:
        return []
    return [_to_agent(item) for item in AgentItem.batch_get(agent_ids)]


def queue_presence(queue_id: str, consistent: bool = False) -> QueuePresence:
    """How many of the queue's agents are in each state: one BatchGet of its counts
    (``store.presence``; ``consistent``: strongly consistent reads, 1 read unit an item instead
    of 0.5), whatever the queue's size. The first read of a queue whose counts were never taken
    (a queue from before them) takes them from its agents, once."""
    found = presence.read(queue_id, consistent)
    if found is not None:
        return found
    agents = queue_agents(queue_id)
    for agent in agents:  # and the free ones into the index dispatch reads (``free_agents``)
        if agent.state is AgentState.AVAILABLE:
            QueueMember(queue_id, agent.agent_id).update(
                actions=[QueueMember.free_at.set(agent.state_since or DUE_AT_ONCE)])
    return presence.take(queue_id, {agent.agent_id: agent.state for agent in agents})


def free_agents(queue_id: str) -> list[str]:
    """Ids of the queue's available agents (the sparse ``free`` index of its memberships, kept
    in each agent change's transaction): dispatch reads these, not every agent. Eventually
    consistent: an agent freed a moment ago may be missing, so a caller that knows of one
    passes it along (``RoutingService.dispatch``)."""
    return [item.agent_id for item in QueueMember.free.query(queue_id)]


def due_agents(now: datetime, limit: int = 200) -> list[str]:
    """Ids of agents whose reservation or wrap-up ended by ``now`` (the sparse ``due`` index:
    one Query per shard, only what is due). Eventually consistent: re-read before acting."""
    return [item.agent_id for item in _due(AgentItem, now, limit)]


def due_entries(now: datetime, limit: int = 200) -> list[tuple[str, str]]:
    """``(queue id, entry key)`` of line entries due a look by ``now``: reservations past their
    end, callbacks being dialled (the sparse ``due`` index, as ``due_agents``)."""
    return [(item.queue_id, item.entry_key) for item in _due(QueueEntry, now, limit)]


def _due(model, now: datetime, limit: int) -> list:
    """The keys in ``model``'s ``due`` index due by ``now``: up to ``limit`` a shard."""
    return [item for shard in range(DUE_SHARDS)
            for item in model.due.query(due_shard_key(shard), model.due_at <= now, limit=limit)]


# ---- the waiting line ---------------------------------------------------------------------


def entry_key(caller: WaitingCaller) -> str:
    """Sorts ascending in dispatch order: higher priority first, then earlier join."""
    priority = max(0, min(999, caller.priority))
    return f"{999 - priority:03d}#{caller.joined_at.isoformat()}#{caller.call_sid}"


def join_queue(caller: WaitingCaller, kind: str = "call") -> str:
    """Put a caller in line (idempotent per call: a retried join keeps the first place)."""
    return add_to_line(caller, kind)[0]


def add_to_line(caller: WaitingCaller, kind: str = "call") -> tuple[str, bool]:
    """Put a caller in line; ``(entry key, True)`` if this put the entry there, ``(key, False)``
    when it was there already (a retried join): only the first counts as an offered call.

    The entry takes the next ticket of its priority band, or ``caller.ticket`` when it takes
    over a place already in line (``routing.tickets``); a retried join's unused fresh ticket is
    recorded as gone."""
    key = entry_key(caller)
    ticket = caller.ticket
    if ticket is None:
        ticket = line.take_ticket(caller.queue_id, caller.priority)
    entry = QueueEntry(
        caller.queue_id,
        key,
        call_sid=caller.call_sid,
        caller=caller.caller,
        joined_at=caller.joined_at,
        priority=caller.priority,
        kind=kind,
        language=caller.language,
        country=caller.country,
        customer_name=caller.customer_name,
        vip=caller.vip,
        dedicated_agent=caller.dedicated_agent,
        sticky_agent=caller.sticky_agent,
        expires=caller.joined_at + timedelta(hours=ENTRY_RETENTION_HOURS),
        line_caller=line_caller(caller.queue_id, caller.caller) if kind == "call" else None,
        ticket=ticket,
    )
    created = save_if_absent(entry, QueueEntry.entry_key.does_not_exist())
    if not created and caller.ticket is None:
        line.ticket_gone(caller.queue_id, caller.priority, ticket)
    return key, created


def line_caller(queue_id: str, number: str | None) -> str | None:
    """``<queue>#<E.164>`` for a caller with a number: the sparse ``by_caller`` index finds a
    number's live call in a queue's line (one person, one offer: see ``callbacks.merge``)."""
    return f"{queue_id}#{number}" if number and number.startswith("+") else None


def calls_in_line(queue_id: str, number: str) -> list[LineEntry]:
    """The calls from ``number`` waiting in ``queue_id``'s line (strongly consistent re-reads of
    what the eventually consistent index names)."""
    key = line_caller(queue_id, number)
    if key is None:
        return []
    found = [get_entry(queue_id, item.entry_key)
             for item in QueueEntry.by_caller.query(key, limit=10)]
    return [entry for entry in found if entry is not None and entry.status == "waiting"]


def _to_line_entry(item: QueueEntry) -> LineEntry:
    return LineEntry(
        queue_id=item.queue_id,
        entry_key=item.entry_key,
        call_sid=item.call_sid,
        caller=item.caller,
        joined_at=item.joined_at,
        priority=int(item.priority or 0),
        status=item.status,
        kind=item.kind,
        language=item.language,
        country=item.country,
        customer_name=item.customer_name,
        vip=bool(item.vip),
        dedicated_agent=item.dedicated_agent,
        sticky_agent=item.sticky_agent,
        reserved_agents=tuple(item.reserved_agents or ()),
        reserved_until=item.reserved_until,
        line_caller=item.line_caller,
        expires=item.expires,
        ticket=int(item.ticket) if item.ticket is not None else None,
    )


def to_waiting(entry: LineEntry) -> WaitingCaller:
    return WaitingCaller(
        call_sid=entry.call_sid,
        queue_id=entry.queue_id,
        caller=entry.caller,
        joined_at=entry.joined_at,
        priority=int(entry.priority or 0),
        language=entry.language,
        country=entry.country,
        customer_name=entry.customer_name,
        vip=bool(entry.vip),
        dedicated_agent=entry.dedicated_agent,
        sticky_agent=entry.sticky_agent,
    )


def queue_entries(queue_id: str, limit: int = 100) -> list[LineEntry]:
    """The line in dispatch order (waiting and reserved), one Query."""
    return [_to_line_entry(item)
            for item in QueueEntry.query(queue_id, consistent_read=True, limit=limit)]


def get_entry(queue_id: str | None, key: str | None) -> LineEntry | None:
    """A place in line; None when there is none (or no queue or key: a call not in line)."""
    if not queue_id or not key:
        return None
    try:
        return _to_line_entry(QueueEntry.get(queue_id, key, consistent_read=True))
    except DoesNotExist:
        return None


def position_in_line(queue_id: str, key: str) -> int:
    """1 for the head of the line: callers ahead of this one, plus one. From the entry's ticket
    and its queue's bands (a GetItem and one Query, whatever the line's length); an entry
    without a ticket (written before tickets) or already gone is counted instead (a Query)."""
    entry = get_entry(queue_id, key)
    if entry is None or entry.ticket is None:
        ahead = QueueEntry.count(queue_id, QueueEntry.entry_key < key, consistent_read=True)
        return ahead + 1
    return line.position(queue_id, entry.priority, entry.ticket)


def line_length(queue_id: str) -> int:
    """How many entries the queue's line holds (every status, as ``queue_entries`` lists
    them), from its bands: one Query of a few small items."""
    return line.length(queue_id)


def compact_line(queue_id: str, head: list[LineEntry]) -> int:
    """Heal the queue's bands from the head of its line just read (``queue_entries``, in key
    order): each band present moves its floor below its smallest ticket seen, which also
    forgets departures never recorded (a lost write, an entry expired by TTL). A Query of a
    few small items and a conditional write per band that changed; returns how many changed."""
    smallest: dict[int, int] = {}
    for entry in head:
        if entry.ticket is not None:
            band = max(0, min(999, entry.priority))
            smallest[band] = min(smallest.get(band, entry.ticket), entry.ticket)
    return sum(line.compact_band(queue_id, band, ticket) for band, ticket in smallest.items())


def compact_band(queue_id: str, priority: int, head_ticket: int | None) -> bool:
    """``line.compact_band``: the band's floor moves to ``head_ticket - 1``."""
    return line.compact_band(queue_id, priority, head_ticket)


def leave_queue(queue_id: str, key: str, *, ticket_handed_over: bool = False) -> None:
    """Take an entry out of the line, recording its ticket as gone (unless another entry now
    holds it: ``ticket_handed_over``)."""
    old = _delete_entry(queue_id, key, None)
    if old is not None and not ticket_handed_over:
        line.ticket_gone(queue_id, int(old.priority or 0), old.ticket)


def remove_entry(queue_id: str, key: str, statuses: tuple[str, ...]) -> bool:
    """Take an entry out of the line if its status is one of ``statuses``; True for the one
    request that did it. The Enqueue action (``QueueResult=hangup``) and the final status
    callback race to free a caller's place: the winner alone counts the abandoned call."""
    old = _delete_entry(queue_id, key, QueueEntry.status.is_in(*statuses))
    if old is None:
        return False
    line.ticket_gone(queue_id, int(old.priority or 0), old.ticket)
    return True


def _delete_entry(queue_id: str, key: str, condition) -> QueueEntry | None:
    """Delete the entry (if ``condition`` holds) and return it as it was: None if it was not
    there or the condition failed. A crash before its ticket is recorded as gone is healed by
    ``compact_line``."""
    try:
        old = QueueEntry.delete_returning_old(queue_id, key, condition)
    except DeleteError as exc:
        if _conditional_failed(exc):
            return None
        raise
    return old if isinstance(old, QueueEntry) else None


def hand_over_ticket(queue_id: str, key: str) -> None:
    """The entry's ticket now belongs to another entry (a call taking its callback request's
    place): the entry keeps its place without it, so its leaving records nothing."""
    update_if(QueueEntry(queue_id, key), [QueueEntry.ticket.remove()],
              QueueEntry.entry_key.exists())


def reserve(
    entry: LineEntry, agents: list[Agent], now: datetime, hold_seconds: int
) -> bool:
    """Reserve ``agents`` (one, or several for ring-all) for the waiting ``entry``, atomically.

    Returns False when another dispatcher got there first: nothing was written.
    """
    until = now + timedelta(seconds=hold_seconds)
    moves = presence.Moves()
    for agent in agents:
        moves.move(agent.agent_id, agent.queues, AgentState.AVAILABLE, AgentState.RESERVED)

    def write(tx: TransactWrite) -> None:
        tx.update(
            QueueEntry(entry.queue_id, entry.entry_key),
            actions=[
                QueueEntry.status.set("reserved"),
                QueueEntry.reserved_agents.set([agent.agent_id for agent in agents]),
                QueueEntry.reserved_until.set(until),
                *_due_actions(QueueEntry, entry.entry_key, until),
            ],
            condition=(QueueEntry.status == "waiting"),
        )
        for agent in agents:
            condition = AgentItem.state == AgentState.AVAILABLE.value
            if agent.profile_version:  # the queues counted are the ones read (as above)
                condition &= AgentItem.profile_version == agent.profile_version
            if agent.state_since is not None:  # the available stretch read (see above)
                condition &= AgentItem.state_since == agent.state_since
            tx.update(
                AgentItem(agent.agent_id),
                actions=[
                    AgentItem.state.set(AgentState.RESERVED.value),
                    AgentItem.state_since.set(now),
                    AgentItem.state_reason.set(f"reserved for {entry.call_sid}"),
                    AgentItem.reserved_call.set(entry.call_sid),
                    AgentItem.reserved_until.set(until),
                    *_due_actions(AgentItem, agent.agent_id, until),
                ],
                condition=condition,
            )
            tx.save(_event(agent.agent_id, AgentState.RESERVED, AgentState.AVAILABLE,
                           f"reserved for {entry.call_sid}", entry.call_sid, now))
            fact = _fact_item(agent_facts.time_in_state(
                agent.agent_id, agent.timezone, AgentState.AVAILABLE, agent.state_since, now))
            if fact is not None:  # unconditional, as in change_agent_state
                facts_store.save_in(tx, fact)
        moves.write_in(tx)

    try:
        _transact(write)
    except TransactWriteError:
        return False
    return True


def release_entry(entry: LineEntry) -> bool:
    """Put a reserved entry back in line at its original place (the agent did not answer)."""
    return update_if(
        QueueEntry(entry.queue_id, entry.entry_key),
        [
            QueueEntry.status.set("waiting"),
            QueueEntry.reserved_agents.set([]),
            QueueEntry.reserved_until.remove(),
            *_due_actions(QueueEntry, entry.entry_key, None),
        ],
        QueueEntry.status == "reserved",
    )


def mark_entry(queue_id: str, key: str, status: str) -> bool:
    """Take a waiting entry out of dispatch with a reason (e.g. "voicemail": the caller chose
    to leave a message); False if it was no longer waiting."""
    return update_if(QueueEntry(queue_id, key),
                     [QueueEntry.status.set(status), *_entry_due(key, status)],
                     QueueEntry.status == "waiting")


def set_entry_status(queue_id: str, key: str, expected: str, status: str) -> bool:
    """Move an entry from ``expected`` to ``status`` (e.g. a claimed callback back to waiting)."""
    return update_if(QueueEntry(queue_id, key),
                     [QueueEntry.status.set(status), *_entry_due(key, status)],
                     QueueEntry.status == expected)


def _entry_due(key: str, status: str) -> list[Action]:
    """A callback being dialled is due for the sweeper's look at once (a lost outcome is
    repaired there); other statuses set here are not due."""
    return _due_actions(QueueEntry, key, DUE_AT_ONCE if status == DIALING else None)


# ---- what we remember of callers, and each queue's day ------------------------------------

CONTACTS_KEPT = 10
CONTACT_RETENTION_DAYS = 400


def get_contact(phone: str) -> ContactHistory | None:
    try:
        item = Contact.get(phone)
    except DoesNotExist:
        return None
    return ContactHistory(
        phone=item.phone,
        last_agent_id=item.last_agent_id,
        last_served_at=item.last_served_at,
        recent=tuple(item.recent or ()),
    )


def remember_contact(phone: str, contact: dict, now: datetime) -> None:
    """Add a contact to the caller's recent history (newest first, a few kept); a served one
    also records the agent for sticky routing."""
    existing = get_contact(phone)
    recent = [contact] + [c for c in (existing.recent if existing else ())
                          if c.get("call_sid") != contact.get("call_sid")]
    actions: list[Action] = [
        Contact.recent.set(recent[:CONTACTS_KEPT]),
        Contact.expires.set(now + timedelta(days=CONTACT_RETENTION_DAYS)),
    ]
    if contact.get("agent_id"):
        actions += [Contact.last_agent_id.set(contact["agent_id"]),
                    Contact.last_served_at.set(now)]
    Contact(phone).update(actions=actions)


