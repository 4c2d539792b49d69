"""Callback requests in DynamoDB: creating one per number and queue, finding the due ones, and
moving each through its statuses without ever applying a change twice.

Three rules hold every write here together:

- **One open request per (queue, number).** Creating a request writes the request and a lock
  item ``<queue>#<number>`` in one transaction, the lock only if absent; closing a request
  (completed, failed, cancelled) deletes the lock in the transaction that closes it. Two
  submissions racing for the same number cannot both win.
- **Every transition is conditional on ``version``** and bumps it, with an outcome appended to
  ``history``. The dispatcher, the web API and an SMS reply may act on one request at the same
  moment; the one whose version is stale gets False and must re-read.
- **Only scheduled requests are in the ``due`` index.** ``due_shard``/``due_at`` are set when a
  request becomes ``scheduled`` and removed on any other status, so ``due_requests`` is one
  Query per shard over exactly the requests waiting for their time: no Scan, at any size.

A ``queued`` request also holds a place in the queue's line (a ``QueueEntry`` of kind
``callback`` whose ``call_sid`` is the callback id), put there in the same transaction that
makes it queued.

Callers get and give ``callbacks.model.CallbackRequest`` values (frozen, version included); the
PynamoDB items stay in this module.
"""

from __future__ import annotations

import time
from dataclasses import fields, replace
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.callbacks.model import (
    CANCELLABLE,
    CANCELLED,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    QUEUED,
    SCHEDULED,
    STATUSES,
    CallbackRequest,
    all_due_shards,
    due_shard,
    request_fact,
)
from chalicelib.callbacks.numbers import number_region
from chalicelib.facts import Fact
from chalicelib.routing.model import WaitingCaller
from chalicelib.store import facts, line, routing
from chalicelib.store.models import (
    CallbackLock,
    QueueEntry,
    transaction_connection,
)
from chalicelib.store.models import CallbackRequest as CallbackRequestItem

CLOSED_RETENTION_DAYS = 30  # a closed request stays readable (status page, reports) this long
LOCK_SAFETY_DAYS = 60  # a lock outlives any sane open request; closing deletes it long before
LINE_ENTRY_DAYS = 3  # a callback's place in line, should its request be forgotten
CREATE_TRIES = 4
CANCEL_TRIES = 3  # re-reads when the dispatcher moved the request meanwhile

# Fields a transition may set besides the status (None removes a nullable one).
TRANSITION_FIELDS = frozenset({
    "attempts", "max_attempts", "last_error", "call_sid", "preferred_at", "joined_at",
    "entry_key", "name", "topic", "language",
})


class AlreadyRequested(Exception):
    """This number already has an open request in this queue: ``existing_id``."""

    def __init__(self, existing_id: str):
        super().__init__(f"an open callback request exists: {existing_id}")
        self.existing_id = existing_id


def lock_key(queue_id: str, phone: str) -> str:
    return f"{queue_id}#{phone}"


def outcome(status: str, now: datetime, detail: str | None = None) -> dict:
    return {"at": now.isoformat(), "status": status, "detail": detail}


# ---- creating --------------------------------------------------------------------------------


def _line_entry(req: CallbackRequest, joined_at: datetime, ticket: int,
                priority: int = 0) -> QueueEntry:
    """The request's place in its queue's line: ordered with the callers on hold by priority and
    ``joined_at`` (a queue callback keeps the caller's original join time, and its ticket)."""
    waiting = WaitingCaller(call_sid=req.callback_id, queue_id=req.queue_id, caller=req.phone,
                            joined_at=joined_at, priority=priority)
    return QueueEntry(
        req.queue_id,
        routing.entry_key(waiting),
        call_sid=req.callback_id,
        caller=req.phone,
        joined_at=joined_at,
        priority=priority,
        kind="callback",
        language=req.language,
        country=number_region(req.phone),
        customer_name=req.name,
        expires=joined_at + timedelta(days=LINE_ENTRY_DAYS),
        ticket=ticket,
    )


def create_request(req: CallbackRequest, now: datetime,
                   ticket: int | None = None) -> CallbackRequest:
    """Store a new request (and its place in line at ``joined_at``, default now, for a
    ``queued`` one) with the open lock, in one transaction; the request as stored, or
    ``AlreadyRequested`` if the number has an open request in that queue.

    ``req`` comes fully built (id, status, times); this sets ``version`` and the due index.
    ``ticket``: the line ticket of the call whose place a queued request takes (else it takes
    the next one); a ticket it does not use is recorded as gone, but for a handed-over one
    whose call keeps its place (the request could not be stored).
    """
    entry = None
    handed_over = ticket is not None
    if req.status == QUEUED:
        joined = req.joined_at or now
        if ticket is None:
            ticket = line.take_ticket(req.queue_id, 0)
        entry = _line_entry(req, joined, ticket)
        req = replace(req, joined_at=joined, entry_key=entry.entry_key)
    try:
        stored = _create(req, entry, now)
    except AlreadyRequested:
        line.ticket_gone(req.queue_id, 0, ticket)  # the call leaves for the existing request
        raise
    except Exception:
        if not handed_over:
            line.ticket_gone(req.queue_id, 0, ticket)
        raise
    if entry is None:
        line.ticket_gone(req.queue_id, 0, ticket)  # not in line: the call's place is left
    return stored


def _create(req: CallbackRequest, entry: QueueEntry | None, now: datetime) -> CallbackRequest:
    req = replace(req, version=1, updated_at=now, **_due_fields(req))
    item = _item(req)
    lock = CallbackLock(lock_key(req.queue_id, req.phone), callback_id=req.callback_id,
                        created_at=now, expires=now + timedelta(days=LOCK_SAFETY_DAYS))
    for attempt in range(CREATE_TRIES):
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(item, condition=CallbackRequestItem.callback_id.does_not_exist())
                tx.save(lock, condition=CallbackLock.lock_key.does_not_exist())
                if entry is not None:
                    tx.save(entry, condition=QueueEntry.entry_key.does_not_exist())
                facts.save_in(tx, _fact(req, "requested", now))
            return req
        except TransactWriteError:
            holder = _lock_holder(lock.lock_key)
            if holder is not None and holder != req.callback_id:
                existing = get_request(holder)
                if existing is not None and existing.status in OPEN_STATUSES:
                    raise AlreadyRequested(holder) from None
                _drop_stale_lock(lock.lock_key, holder)
            # No holder: a concurrent transaction on the same lock was in flight (DynamoDB
            # cancels both sides of a conflict). Try again; its outcome is visible by now.
            time.sleep(0.02 * (attempt + 1))
    raise RuntimeError(f"could not store callback request {req.callback_id}")


def _lock_holder(key: str) -> str | None:
    try:
        return CallbackLock.get(key, consistent_read=True).callback_id
    except DoesNotExist:
        return None


def lock_holder(queue_id: str, phone: str) -> str | None:
    """The id of the number's open request in ``queue_id`` (its lock), if any."""
    return _lock_holder(lock_key(queue_id, phone))


def _drop_stale_lock(key: str, holder: str) -> None:
    """A lock whose request is gone or closed (it expired by TTL): free the number."""
    try:
        CallbackLock(key).delete(condition=CallbackLock.callback_id == holder)
    except DeleteError:
        pass  # someone else freed or took it meanwhile: the next try sees which


def _due_fields(req: CallbackRequest) -> dict:
    """Only a scheduled request is in the sparse ``due`` index."""
    if req.status == SCHEDULED:
        return {"due_shard": due_shard(req.callback_id),
                "due_at": req.due_at or req.preferred_at or req.requested_at}
    return {"due_shard": None, "due_at": None}


# ---- reading ---------------------------------------------------------------------------------


def get_request(callback_id: str) -> CallbackRequest | None:
    try:
        return _request(CallbackRequestItem.get(callback_id, consistent_read=True))
    except DoesNotExist:
        return None


def due_requests(now: datetime, limit: int = 100) -> list[CallbackRequest]:
    """Scheduled requests whose time has come, earliest first, at most ``limit``: one Query per
    shard of the sparse ``due`` index (``due_at <= now``), never a Scan.

    The requests come from the index (eventually consistent): act on them with ``transition``,
    whose version check refuses a stale one.
    """
    found: list[CallbackRequest] = []
    for shard in all_due_shards():
        found.extend(_request(item) for item in CallbackRequestItem.due.query(
            shard, CallbackRequestItem.due_at <= now, limit=limit))
    found.sort(key=lambda req: (req.due_at, req.callback_id))
    return found[:limit]


def requests_for_number(phone: str, limit: int = 50) -> list[CallbackRequest]:
    """A number's requests, newest first (from the ``by_phone`` index: eventually consistent)."""
    return [_request(item) for item in
            CallbackRequestItem.by_phone.query(phone, scan_index_forward=False, limit=limit)]


_REQUEST_FIELDS = tuple(field.name for field in fields(CallbackRequest))


def _request(item: CallbackRequestItem) -> CallbackRequest:
    values = {name: getattr(item, name) for name in _REQUEST_FIELDS}
    values.update(attempts=int(item.attempts or 0), max_attempts=int(item.max_attempts),
                  version=int(item.version or 0), history=tuple(item.history or ()))
    return CallbackRequest(**values)


def _item(req: CallbackRequest) -> CallbackRequestItem:
    values = {name: getattr(req, name) for name in _REQUEST_FIELDS if name != "callback_id"}
    values["history"] = list(req.history)
    return CallbackRequestItem(req.callback_id, **values)


# ---- changing --------------------------------------------------------------------------------


def transition(
    request: str | CallbackRequest,
    expected_version: int,
    new_status: str,
    now: datetime,
    *,
    detail: str | None = None,
    due_at: datetime | None = None,
    join_line_at: datetime | None = None,
    leave_line: bool = False,
    **changes,
) -> bool:
    """Move a request to ``new_status`` if its stored version is still ``expected_version``;
    False (nothing written) when someone else changed it first.

    - ``new_status == "scheduled"`` puts it in the due index at ``due_at`` (default: now); any
      other status takes it out.
    - A closing status (completed, failed, cancelled) deletes the open lock in the same
      transaction, so the number may ask again, and starts the TTL.
    - ``join_line_at`` (with ``queued``): its place in line at that time, written in the same
      transaction.
    - ``leave_line``: delete its current place in line in the same transaction.
    - ``changes``: attempts, max_attempts, last_error, call_sid, preferred_at, joined_at, ...
    - ``detail`` goes into the history entry (why: "busy", "cancelled by SMS", ...).

    ``request`` may be the id, or the request when the caller has it (saves a read when closing
    or changing its place in line).
    """
    if new_status not in STATUSES:
        raise ValueError(f"unknown callback status {new_status!r}")
    unknown = set(changes) - TRANSITION_FIELDS
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)} in a transition")
    closing = new_status in CLOSED_STATUSES
    req: CallbackRequest | None
    if isinstance(request, CallbackRequest):
        req, callback_id = request, request.callback_id
    else:
        req, callback_id = None, request
    if (closing or leave_line or join_line_at is not None) and req is None:
        req = get_request(callback_id)
        if req is None:
            return False
    entry = _line_entry(req, join_line_at, line.take_ticket(req.queue_id, 0)) \
        if req is not None and join_line_at is not None else None
    # the place left: its ticket is recorded as gone once the transaction committed (not in
    # it: the band item is the queue's busiest, and a join's write to it would cancel the
    # transaction); a crash in between is healed like an expired entry (``compact_line``)
    leaving = routing.get_entry(req.queue_id, req.entry_key) \
        if leave_line and req is not None and req.entry_key else None

    actions: list[Action] = [
        CallbackRequestItem.status.set(new_status),
        CallbackRequestItem.version.set(expected_version + 1),
        CallbackRequestItem.updated_at.set(now),
        CallbackRequestItem.history.set(
            CallbackRequestItem.history.append([outcome(new_status, now, detail)])),
    ]
    if new_status == SCHEDULED:
        actions += [CallbackRequestItem.due_shard.set(due_shard(callback_id)),
                    CallbackRequestItem.due_at.set(due_at or now)]
    else:
        actions += [CallbackRequestItem.due_shard.remove(), CallbackRequestItem.due_at.remove()]
    if closing:
        actions += [CallbackRequestItem.closed_at.set(now),
                    CallbackRequestItem.expires.set(now + timedelta(days=CLOSED_RETENTION_DAYS))]
    if entry is not None:
        changes["entry_key"] = entry.entry_key
    elif leave_line:
        changes["entry_key"] = None
    for name, value in changes.items():
        attribute = getattr(CallbackRequestItem, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))

    closed = _fact(replace(req, attempts=changes.get("attempts", req.attempts)),
                   new_status, now) if closing and req is not None else None
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(CallbackRequestItem(callback_id), actions=actions,
                      condition=CallbackRequestItem.version == expected_version)
            if closed is not None:
                facts.save_in(tx, closed)  # a close happens once: the version guards it
            if closing:
                assert req is not None  # read above whenever closing or leaving the line
                tx.delete(CallbackLock(lock_key(req.queue_id, req.phone)),
                          condition=CallbackLock.lock_key.does_not_exist()
                          | (CallbackLock.callback_id == callback_id))
            if entry is not None:
                tx.save(entry, condition=QueueEntry.entry_key.does_not_exist())
            if leave_line:
                assert req is not None  # likewise
                if req.entry_key:
                    tx.delete(QueueEntry(req.queue_id, req.entry_key))
    except TransactWriteError:
        if entry is not None:
            line.ticket_gone(entry.queue_id, 0, entry.ticket)  # its place was never taken
        return False
    if leaving is not None:
        line.ticket_gone(leaving.queue_id, leaving.priority, leaving.ticket)
    return True


def _fact(req: CallbackRequest, what: str, now: datetime) -> Fact:
    """The report's fact of what is happening to ``req`` (``callbacks.model.request_fact``),
    in its queue's local day, to write in the same transaction as the change."""
    queue = routing.get_queue(req.queue_id)
    return request_fact(req, what, now, queue.zone if queue else "UTC")


def queue_up(req: CallbackRequest, now: datetime, joined_at: datetime | None = None,
             detail: str | None = None) -> bool:
    """A scheduled request whose time came takes a place in its queue's line (at ``joined_at``,
    default now) and becomes ``queued``, in one transaction; False if it changed meanwhile."""
    joined = joined_at or now
    return transition(req, req.version, QUEUED, now, detail=detail, join_line_at=joined,
                      joined_at=joined)


def cancel(callback_id: str, now: datetime, detail: str = "cancelled by the customer", *,
           closed_only: bool = False) -> bool:
    """Cancel the request (and free its place in line) if it is still scheduled, queued or
    dialing; True if it is cancelled afterwards. An already cancelled request gives True (the
    API's DELETE is idempotent) unless ``closed_only``, which counts only this call's cancel."""
    for _ in range(CANCEL_TRIES):
        req = get_request(callback_id)
        if req is None:
            return False
        if req.status == CANCELLED:
            return not closed_only
        if req.status not in CANCELLABLE:
            return False
        if transition(req, int(req.version), CANCELLED, now, detail=detail,
                      leave_line=bool(req.entry_key)):
            return True
    return False
