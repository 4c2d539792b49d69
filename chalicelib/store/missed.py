"""Missed calls in DynamoDB: one open record per (hotline, number) that every miss merges into,
safely under concurrent Lambdas.

How the writes stay correct without locks:

- **A merge is one UpdateItem** on the open record (``slot = open``): ``ADD`` the count, the
  reason (a string set) and the version, ``if_not_exists`` for the first time and the status,
  ``list_append`` for the call sid. Its condition tells apart the three cases: a new call with
  room left in the (bounded) list of call sids; a new call once the list is full; the same call
  again (a caller who reached a closed *hours* node and then left a voicemail is one miss with two
  reasons, not two misses). When a condition fails because another Lambda changed the record in
  between, the next case is tried; nothing is ever read first and written back.
- **The text window is its own item** (``slot = sms``), claimed by a conditional write on
  ``window_until``: of any number of misses racing, one wins the window and the others see it
  taken. It survives resolving the record, so "one text per number per window" holds across
  records too.
- **Resolving moves the record**: the open item is deleted and a copy kept as history
  (``slot = resolved#<time>``) in one transaction, conditional on the version read, so a miss
  merged meanwhile is never lost (the resolve retries on the newer record). The next miss then
  opens a fresh record.

Everything returned is a ``callbacks.model.MissedCall`` (frozen); the PynamoDB items stay in
this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.operand import Value
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.callbacks.model import MissedCall
from chalicelib.store.models import MissedCall as MissedCallItem
from chalicelib.store.models import transaction_connection, update_if

OPEN_SLOT = "open"
SMS_SLOT = "sms"
RESOLVED_PREFIX = "resolved#"
MAX_CALL_SIDS = 20  # call sids kept per record; the count goes on beyond
MERGE_ROUNDS = 4  # each round tries the three cases; a round only fails under a race
RESOLVE_TRIES = 4
STATUS_FILTERS = ("open", "followed_up", "resolved", "unresolved")


class Contention(RuntimeError):
    """The open record kept changing under a merge or a resolve (misses pouring in at once)."""


@dataclass(frozen=True)
class Merge:
    record: MissedCall  # the open record after the merge
    new_call: bool  # False when this call had already been counted


def contact_key(hotline: str, caller: str) -> str:
    """``+14155550100``, ``+8613800138000`` → ``14155550100-8613800138000``: URL-safe."""
    return f"{hotline.lstrip('+')}-{caller.lstrip('+')}"


# ---- merging a miss --------------------------------------------------------------------------


def merge_miss(
    *,
    hotline: str,
    caller: str,
    reason: str,
    call_sid: str | None,
    language: str | None,
    queue_id: str | None,
    now: datetime,
    retention_days: int,
) -> Merge:
    """Count this miss into the open record (creating it); see the module docstring."""
    common: list[Action] = [
        MissedCallItem.hotline.set(hotline),
        MissedCallItem.caller.set(caller),
        MissedCallItem.status.set(MissedCallItem.status | "open"),
        MissedCallItem.first_at.set(MissedCallItem.first_at | now),
        MissedCallItem.last_at.set(now),
        MissedCallItem.last_reason.set(reason),
        MissedCallItem.reasons.add({reason}),
        MissedCallItem.version.add(1),
        MissedCallItem.expires.set(now + timedelta(days=retention_days)),
    ]
    if language:
        common.append(MissedCallItem.language.set(language))
    if queue_id:
        common.append(MissedCallItem.queue_id.set(queue_id))
    counted = [*common, MissedCallItem.miss_count.add(1)]
    if call_sid is None:  # nothing to tell calls apart by (e.g. a failed callback): count it
        cases: list[tuple[list[Action], Condition | None, bool]] = [(counted, None, True)]
    else:
        sids, last = MissedCallItem.call_sids, MissedCallItem.last_call_sid
        sid = Value(call_sid)  # a plain string: the list attribute would serialize it as a list
        new_call = [*counted, last.set(call_sid)]
        cases = [
            ([*new_call, sids.set((sids | []).append([call_sid]))],
             sids.does_not_exist() | (~sids.contains(sid) & (size(sids) < MAX_CALL_SIDS)),
             True),
            (new_call,
             (size(sids) >= MAX_CALL_SIDS) & ~sids.contains(sid) & (last != call_sid),
             True),
            (common, sids.contains(sid) | (last == call_sid), False),
        ]
    item = MissedCallItem(contact_key(hotline, caller), OPEN_SLOT)
    for _ in range(MERGE_ROUNDS):
        for actions, condition, is_new in cases:
            if condition is None:
                item.update(actions=actions)
                return Merge(_record(item), is_new)
            if update_if(item, actions, condition):
                return Merge(_record(item), is_new)
    raise Contention(f"could not merge a miss into {item.contact}")


# ---- follow-up ----------------------------------------------------------------------------------


def claim_sms_window(hotline: str, caller: str, now: datetime, window: timedelta) -> bool:
    """True for the one miss that may text this number now: nobody else has until ``now +
    window``. False while an earlier text's window is still running."""
    guard = MissedCallItem(contact_key(hotline, caller), SMS_SLOT)
    return update_if(
        guard,
        [MissedCallItem.window_until.set(now + window),
         MissedCallItem.sms_sent_at.set(now),
         MissedCallItem.expires.set(now + window + timedelta(days=1))],
        MissedCallItem.window_until.does_not_exist() | (MissedCallItem.window_until <= now),
    )


def note_follow_up(
    hotline: str,
    caller: str,
    *,
    sms_sid: str | None = None,
    sms_sent_at: datetime | None = None,
    callback_id: str | None = None,
) -> bool:
    """Record what was done about the open record (a text, a callback request); it becomes
    ``followed_up``. False if it was resolved in the meantime (nothing is written then)."""
    actions: list[Action] = [MissedCallItem.status.set("followed_up"),
                             MissedCallItem.version.add(1)]
    if sms_sid:
        actions.append(MissedCallItem.sms_sid.set(sms_sid))
    if sms_sent_at is not None:  # else keep the time on record (set(None) writes a NULL)
        actions.append(MissedCallItem.sms_sent_at.set(sms_sent_at))
    if callback_id:
        actions.append(MissedCallItem.callback_id.set(callback_id))
    item = MissedCallItem(contact_key(hotline, caller), OPEN_SLOT)
    return update_if(item, actions, MissedCallItem.contact.exists())


# ---- reading ---------------------------------------------------------------------------------


def get_open(hotline: str, caller: str) -> MissedCall | None:
    item = _get(contact_key(hotline, caller), OPEN_SLOT)
    return _record(item) if item is not None else None


def history(hotline: str, caller: str, limit: int = 20) -> list[MissedCall]:
    """The number's resolved records, newest first."""
    items = MissedCallItem.query(
        contact_key(hotline, caller),
        MissedCallItem.slot.startswith(RESOLVED_PREFIX),
        scan_index_forward=False,
        limit=limit,
    )
    return [_record(item) for item in items]


def list_for_hotline(
    hotline: str, status: str | None = None, limit: int = 50, before: datetime | None = None
) -> list[MissedCall]:
    """The hotline's records by latest miss, newest first (a Query on ``by_hotline``)."""
    condition: Condition | None = None
    if status == "unresolved":
        condition = MissedCallItem.status.is_in("open", "followed_up")
    elif status:
        condition = MissedCallItem.status == status
    items = MissedCallItem.by_hotline.query(
        hotline,
        MissedCallItem.last_at < before if before is not None else None,
        filter_condition=condition,
        scan_index_forward=False,
        limit=limit,
    )
    return [_record(item) for item in items]


# ---- resolving -------------------------------------------------------------------------------


def resolve(
    hotline: str, caller: str, now: datetime, by: str | None = None, note: str | None = None
) -> MissedCall | None:
    """Close the open record (kept as history); None if there is none. See the module docstring
    for why this is a transaction conditional on the version."""
    contact = contact_key(hotline, caller)
    for _ in range(RESOLVE_TRIES):
        item = _get(contact, OPEN_SLOT)
        if item is None:
            return None
        values = {
            name: value for name, value in item.attribute_values.items()
            if name not in ("contact", "slot")
        }
        values.update(status="resolved", resolved_at=now)
        if by:
            values["resolved_by"] = by
        if note:
            values["note"] = note
        resolved = MissedCallItem(contact, f"{RESOLVED_PREFIX}{now.isoformat()}", **values)
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(resolved, condition=MissedCallItem.slot.does_not_exist())
                tx.delete(item, condition=MissedCallItem.version == item.version)
        except TransactWriteError:
            continue  # a miss merged (or another resolve won) meanwhile: read again
        return _record(resolved)
    raise Contention(f"missed call {contact} kept changing; try again")


# ---- internals -------------------------------------------------------------------------------


def _get(contact: str, slot: str) -> MissedCallItem | None:
    try:
        return MissedCallItem.get(contact, slot, consistent_read=True)
    except DoesNotExist:
        return None


def _record(item: MissedCallItem) -> MissedCall:
    return MissedCall(
        hotline=item.hotline or "",
        caller=item.caller or "",
        status=item.status or "open",
        miss_count=int(item.miss_count or 0),
        first_at=item.first_at,
        last_at=item.last_at,
        reasons=frozenset(item.reasons or ()),
        last_reason=item.last_reason,
        call_sids=tuple(item.call_sids or ()),
        last_call_sid=item.last_call_sid,
        language=item.language,
        queue_id=item.queue_id,
        sms_sent_at=item.sms_sent_at,
        sms_sid=item.sms_sid,
        callback_id=item.callback_id,
        resolved_at=item.resolved_at,
        resolved_by=item.resolved_by,
        note=item.note,
        version=int(item.version or 0),
    )
