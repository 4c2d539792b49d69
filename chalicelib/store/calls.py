"""Call records: one item per call, advanced by conditional writes so retries change nothing twice.

Two guards keep the record right under Twilio's retries and out-of-order callbacks:

* every IVR step carries the step number it expects (it is in the action URL); the write that
  advances the call succeeds only if the record is still at that step, and stores the TwiML it
  answered so that a retried request gets the very same answer;
* a status callback is applied only if it is newer than the last one applied, ordered first by
  the status's place in a call's life (ringing < in-progress < final) and then by Twilio's
  ``SequenceNumber``.

Callers get a ``Call`` (``chalicelib.calls.model``), never the PynamoDB item: ``_to_call`` is the
one place an item becomes one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.calls.model import Call
from chalicelib.facts import Fact
from chalicelib.store import facts
from chalicelib.store.models import CallRecord, transaction_connection, update_if

OPEN_BUCKETS = 8  # shards of the sparse open-calls index, so no partition runs hot

STATUS_RANK = {
    "queued": 1,
    "initiated": 2,
    "ringing": 3,
    "in-progress": 4,
    "answered": 4,
    "completed": 5,
    "busy": 5,
    "failed": 5,
    "no-answer": 5,
    "canceled": 5,
}
FINAL_RANK = 5
FINAL_STATUSES = {status for status, rank in STATUS_RANK.items() if rank == FINAL_RANK}


class StepConflict(Exception):
    """The call moved on (a retry or a racing request); ``record`` is its current state."""

    def __init__(self, record: Call | None):
        super().__init__("call record is not at the expected step")
        self.record = record


@dataclass
class NewCall:
    """Facts about a call fixed when it is answered."""

    call_sid: str
    hotline: str
    caller: str
    direction: str
    customer: dict | None
    fallback: dict


@dataclass
class StepOutcome:
    """Where one IVR step left the call: what is written to the record after each step."""

    flow_id: str
    flow_version: int
    language: str
    node: str | None  # the node waiting for Twilio's next request; None when the flow ended
    visited: list[str]
    vars: dict
    attempts: dict
    inputs: dict
    twiml: str
    outcome: str | None


def _conditional_failed(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def open_bucket(call_sid: str) -> str:
    digest = hashlib.sha1(call_sid.encode()).digest()
    return f"open#{digest[0] % OPEN_BUCKETS}"


_CALL_FIELDS = tuple(f.name for f in fields(Call))


def _to_call(item: CallRecord) -> Call:
    """The domain's snapshot of a stored call item (same names, same values)."""
    return Call(**{name: getattr(item, name) for name in _CALL_FIELDS})


def get_call(call_sid: str) -> Call | None:
    try:
        return _to_call(CallRecord.get(call_sid, consistent_read=True))
    except DoesNotExist:
        return None


def start_call(
    call: NewCall, step: StepOutcome, *, now: datetime, retention_days: int
) -> Call:
    """Create the record at step 1; raise StepConflict if the IVR already answered (a retry)."""
    record = CallRecord(
        call.call_sid,
        hotline=call.hotline,
        caller=call.caller,
        direction=call.direction,
        customer=call.customer,
        fallback=call.fallback,
        flow_id=step.flow_id,
        flow_version=step.flow_version,
        language=step.language,
        node=step.node,
        step=1,
        path=step.visited,
        vars=step.vars,
        attempts=step.attempts,
        inputs=step.inputs,
        last_response=step.twiml,
        outcome=step.outcome,
        status="in-progress",
        started_at=now,
        updated_at=now,
        open_bucket=open_bucket(call.call_sid),
        expires=now + timedelta(days=retention_days),
    )
    try:
        # An item made earlier by a status callback has no step yet; the IVR may still take it,
        # unless that status said the call is over (then no flow starts for nobody).
        record.save(condition=CallRecord.step.does_not_exist() & _not_over())
    except PutError as exc:
        if _conditional_failed(exc):
            raise StepConflict(get_call(call.call_sid)) from exc
        raise
    return _to_call(record)


def advance_call(record: Call, expected_step: int, step: StepOutcome, *, now: datetime) -> Call:
    """Move the call one step on, only if nobody else did (one UpdateItem); the call as it
    now stands."""
    actions: list[Action] = [
        CallRecord.step.set(expected_step + 1),
        CallRecord.flow_id.set(step.flow_id),
        CallRecord.flow_version.set(step.flow_version),
        CallRecord.language.set(step.language),
        CallRecord.vars.set(step.vars),
        CallRecord.attempts.set(step.attempts),
        CallRecord.inputs.set(step.inputs),
        CallRecord.last_response.set(step.twiml),
        CallRecord.updated_at.set(now),
    ]
    actions.append(CallRecord.node.set(step.node) if step.node else CallRecord.node.remove())
    if step.visited:
        actions.append(CallRecord.path.set(CallRecord.path.append(step.visited)))
    if step.outcome:
        actions.append(CallRecord.outcome.set(step.outcome))
    item = CallRecord(record.call_sid)
    try:
        item.update(actions=actions, condition=CallRecord.step == expected_step)  # ALL_NEW
    except UpdateError as exc:
        if _conditional_failed(exc):
            raise StepConflict(get_call(record.call_sid)) from exc
        raise
    return _to_call(item)


def apply_status(
    call_sid: str,
    status: str,
    *,
    sequence: int,
    duration: int | None,
    now: datetime,
    retention_days: int,
    hotline: str | None = None,
    caller: str | None = None,
    existing_only: bool = False,
) -> Call | None:
    """Record a call status if it is newer than what we have; return the updated record, or
    None when the status was stale or a duplicate (or, with ``existing_only``, the call has no
    record: a leg we placed that was never answered).

    A final status also drops the live flow variables (they may hold sensitive inputs) and takes
    the call out of the open-calls index.
    """
    rank = STATUS_RANK.get(status)
    if rank is None:
        raise ValueError(f"unknown call status {status!r}")
    actions: list[Action] = [
        CallRecord.status.set(status),
        CallRecord.status_rank.set(rank),
        CallRecord.status_seq.set(sequence),
        CallRecord.updated_at.set(now),
        CallRecord.expires.set(now + timedelta(days=retention_days)),
    ]
    if hotline:
        actions.append(CallRecord.hotline.set(CallRecord.hotline | hotline))
    if caller:
        actions.append(CallRecord.caller.set(CallRecord.caller | caller))
    if status in FINAL_STATUSES:
        actions += [
            CallRecord.ended_at.set(now),
            CallRecord.vars.remove(),
            CallRecord.open_bucket.remove(),
        ]
        if duration is not None:
            actions.append(CallRecord.duration.set(duration))
    newer = (
        CallRecord.status_rank.does_not_exist()
        | (CallRecord.status_rank < rank)
        | ((CallRecord.status_rank == rank) & (CallRecord.status_seq < sequence))
    )
    if existing_only:
        newer = newer & CallRecord.call_sid.exists()
    record = CallRecord(call_sid)
    try:
        record.update(actions=actions, condition=newer)  # fills ``record`` with ALL_NEW
    except UpdateError as exc:
        if _conditional_failed(exc):
            return None
        raise
    return _to_call(record)


def stale_open_calls(older_than: datetime, limit: int = 500) -> list[str]:
    """Calls still open that started before ``older_than`` (their final callback was lost)."""
    sids: list[str] = []
    for bucket in range(OPEN_BUCKETS):
        query = CallRecord.open_calls.query(
            f"open#{bucket}", CallRecord.started_at < older_than, limit=limit
        )
        sids.extend(item.call_sid for item in query)
    return sids[:limit]


def close_stale_call(call_sid: str, now: datetime) -> bool:
    """Close a call whose final status never came; a late real callback still wins after."""
    return update_if(
        CallRecord(call_sid),
        [
            CallRecord.outcome.set(CallRecord.outcome | "lost"),
            CallRecord.ended_at.set(now),
            CallRecord.vars.remove(),
            CallRecord.open_bucket.remove(),
            CallRecord.updated_at.set(now),
        ],
        CallRecord.open_bucket.exists(),
    )


def _not_over():
    """The call's final status has not been recorded (no status at all counts as live)."""
    return CallRecord.status_rank.does_not_exist() | (CallRecord.status_rank < FINAL_RANK)


def is_over(record: Call | None) -> bool:
    """True once the call's final status (completed, busy, ...) is on its record."""
    return record is not None and record.status in FINAL_STATUSES


def set_queue_entry(call_sid: str, queue_id: str, entry_key: str) -> bool:
    """Remember where the caller stands in line, so a hang-up can find and free it; False when
    the call is already over (its final status came first), and the entry must not stay."""
    return update_if(
        CallRecord(call_sid),
        [CallRecord.queue_id.set(queue_id), CallRecord.queue_entry_key.set(entry_key)],
        _not_over(),
    )


def set_agent(call_sid: str, agent_id: str, leg_sid: str | None = None) -> None:
    actions: list[Action] = [CallRecord.agent_id.set(agent_id)]
    if leg_sid:
        actions.append(CallRecord.agent_leg_sid.set(leg_sid))
    CallRecord(call_sid).update(actions=actions)


def start_callback_call(call_sid: str, *, hotline: str, customer_phone: str, queue_id: str,
                        callback_id: str, customer: dict | None, language: str | None,
                        agent_id: str | None, now: datetime, retention_days: int,
                        status_step: str | None = None) -> Call:
    """The record of a call we placed to return a customer's call: the customer is the
    ``caller`` (so screen pop, contacts and reports read it like an inbound call).
    ``status_step`` names the callback webhook its final status goes to (``agent-status``,
    ``customer-status``), so reconciliation can deliver a status Twilio could not."""
    record = CallRecord(
        call_sid, hotline=hotline, caller=customer_phone, direction="outbound-callback",
        customer=customer, language=language, queue_id=queue_id, agent_id=agent_id,
        callback_id=callback_id, status="in-progress", started_at=now, updated_at=now,
        path=["callback"], open_bucket=open_bucket(call_sid), status_step=status_step,
        expires=now + timedelta(days=retention_days))
    record.save()
    return _to_call(record)


def mark_reconciled(call_sid: str, now: datetime) -> None:
    """Twilio says the call is still live: ask again later, not at every run."""
    update_if(CallRecord(call_sid), [CallRecord.reconciled_at.set(now)],
              CallRecord.open_bucket.exists())


def set_announced(call_sid: str, queue_time: int) -> None:
    """Remember when (in seconds of waiting) the caller last heard their place in line."""
    CallRecord(call_sid).update(actions=[CallRecord.announced_at.set(queue_time)])


def set_outcome(call_sid: str, outcome: str) -> None:
    CallRecord(call_sid).update(actions=[CallRecord.outcome.set(outcome)])


def set_recording(call_sid: str, recording: dict) -> None:
    """The agent conversation's recording status (in-progress, completed, absent, failed)."""
    CallRecord(call_sid).update(actions=[CallRecord.recording.set(recording)])


def add_transfer(call_sid: str, transfer: dict) -> None:
    """Append a transfer to the call's history (the list is created on the first one)."""
    CallRecord(call_sid).update(
        actions=[CallRecord.transfers.set((CallRecord.transfers | []).append([transfer]))]
    )


def add_disposition(call_sid: str, disposition: dict, new_facts: list[Fact]) -> bool:
    """Append ``disposition`` to the call's and write ``new_facts`` (its report counts), all
    or nothing, once: False when one of the facts is already there (the code was set before:
    a retry, or a second code for the same call and agent)."""
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(CallRecord(call_sid), actions=[CallRecord.dispositions.set(
                (CallRecord.dispositions | []).append([disposition]))],
                condition=CallRecord.call_sid.exists())
            for fact in new_facts:
                facts.save_in(tx, fact, if_absent=True)
    except TransactWriteError:
        return False
    return True


# ---- warm transfer (consultation) -------------------------------------------------------------
CONSULTING = ("dialing", "talking")


def start_consult(call_sid: str, consult: dict, state: str = "dialing") -> bool:
    """Open a consultation (``state`` "dialing") or a hold ("hold", ``routing/hold.py``) on
    the call unless one is already running (two clicks, two agents, a hold and a transfer)."""
    return update_if(
        CallRecord(call_sid),
        [CallRecord.consult_state.set(state), CallRecord.consult.set(consult)],
        CallRecord.call_sid.exists() & CallRecord.consult_state.does_not_exist()
        & CallRecord.monitor.does_not_exist(),
    )


def consult_answered(call_sid: str, consult: dict) -> bool:
    """The consulted party picked up: dialing -> talking (once)."""
    return update_if(
        CallRecord(call_sid),
        [CallRecord.consult_state.set("talking"), CallRecord.consult.set(consult)],
        CallRecord.consult_state == "dialing",
    )


def set_consult_leg(call_sid: str, consult: dict) -> None:
    """Remember the consulted party's CallSid, if the consultation is still running."""
    update_if(CallRecord(call_sid), [CallRecord.consult.set(consult)],
              CallRecord.consult_state.is_in(*CONSULTING))


def end_hold(call_sid: str, conference: str | None) -> bool:
    """Close a hold exactly once (resumed, or either party gone): the call now lives in the
    conference room ``conference`` (None: in no room, e.g. the caller is back in line)."""
    actions = [CallRecord.consult_state.remove(), CallRecord.consult.remove(),
               CallRecord.conference.set(conference) if conference
               else CallRecord.conference.remove()]
    return update_if(CallRecord(call_sid), actions, CallRecord.consult_state == "hold")


def end_consult(call_sid: str, expected: tuple[str, ...], transfer: dict, *,
                conference: str | None, agent_id: str | None = None,
                agent_leg_sid: str | None = None, new_agent: bool = False) -> bool:
    """Close the consultation exactly once (complete, cancel, or the consulted leg failing).

    ``new_agent`` hands the call to the consulted party (``agent_id`` may then be None: an
    outside number). The outcome is appended to the call's transfer history.
    """
    actions = [
        CallRecord.consult_state.remove(),
        CallRecord.consult.remove(),
        CallRecord.transfers.set((CallRecord.transfers | []).append([transfer])),
    ]
    if conference:
        actions.append(CallRecord.conference.set(conference))
    if new_agent:
        actions.append(CallRecord.agent_id.set(agent_id) if agent_id
                       else CallRecord.agent_id.remove())
        actions.append(CallRecord.agent_leg_sid.set(agent_leg_sid) if agent_leg_sid
                       else CallRecord.agent_leg_sid.remove())
    return update_if(CallRecord(call_sid), actions, CallRecord.consult_state.is_in(*expected))


# ---- a supervisor monitoring the call (routing/monitor.py) -------------------------------------
def start_monitor(call_sid: str, monitor: dict, agent_id: str, conference: str | None) -> bool:
    """Record ``monitor`` on a live call of ``agent_id`` that has none and is neither held nor
    in a warm transfer (one conditional write: two supervisors, two clicks or a racing hold act
    once); ``conference``: the room the call moves into (None: it already talks in one)."""
    actions = [CallRecord.monitor.set(monitor)]
    if conference:
        actions.append(CallRecord.conference.set(conference))
    return update_if(
        CallRecord(call_sid), actions,
        CallRecord.call_sid.exists() & _not_over() & (CallRecord.agent_id == agent_id)
        & CallRecord.consult_state.does_not_exist() & CallRecord.monitor.does_not_exist())


def change_monitor(call_sid: str, expected: dict, monitor: dict) -> bool:
    """Replace the monitor ``expected`` (exactly as read) by ``monitor``; False when it changed
    or ended meanwhile."""
    return update_if(CallRecord(call_sid), [CallRecord.monitor.set(monitor)],
                     CallRecord.monitor == expected)


def end_monitor(call_sid: str, expected: dict, *, leave_room: bool = False) -> bool:
    """Close the monitor ``expected`` (exactly as read) once; ``leave_room``: the call never
    made it into the room (it stays a ``<Dial>`` bridge)."""
    actions = [CallRecord.monitor.remove()]
    if leave_room:
        actions.append(CallRecord.conference.remove())
    return update_if(CallRecord(call_sid), actions, CallRecord.monitor == expected)
