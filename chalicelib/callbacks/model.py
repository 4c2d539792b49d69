"""The callback request's vocabulary: kinds, statuses, ids and the due-index shard.

A request's life::

    scheduled ──(its time comes)──> queued ──> dialing ──> connected ──> completed
        │                             │           │
        └─────────────┬───────────────┴───────────┴──> failed | cancelled

``scheduled`` waits for a time (a preferred slot, or the queue's next opening) and is the only
status in the sparse ``due`` index; ``queued`` holds a place in the queue's line like a caller on
hold. ``completed``, ``failed`` and ``cancelled`` close the request and free its number for a new
one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from chalicelib.facts import Fact

KINDS = ("web", "queue", "missed")

SCHEDULED = "scheduled"
QUEUED = "queued"
DIALING = "dialing"
CONNECTED = "connected"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"

STATUSES = (SCHEDULED, QUEUED, DIALING, CONNECTED, COMPLETED, FAILED, CANCELLED)
OPEN_STATUSES = frozenset({SCHEDULED, QUEUED, DIALING, CONNECTED})
CLOSED_STATUSES = frozenset({COMPLETED, FAILED, CANCELLED})
# The customer may still call it off: not once an agent is talking to them or it has ended.
CANCELLABLE = frozenset({SCHEDULED, QUEUED, DIALING})

DUE_SHARDS = 8
ID_PREFIX = "cb_"


@dataclass(frozen=True)
class CallbackRequest:
    """A customer asked to be called back (web form, "press 1" in a queue, a missed call), as
    read from storage. Times are aware UTC datetimes; numbers are E.164.

    ``version`` is the stored version this copy was read at: ``store.callbacks.transition``
    takes it and refuses the change when someone else moved the request first. A copy is never
    changed in place: build another with ``dataclasses.replace`` (before it is stored) or re-read
    it after a transition.
    """

    callback_id: str  # "cb_" + 24 random URL-safe characters
    kind: str  # web | queue | missed
    hotline: str  # the number we call from, E.164
    queue_id: str
    phone: str  # the customer's number, E.164
    status: str  # one of STATUSES
    requested_at: datetime
    name: str | None = None
    topic: str | None = None
    language: str | None = None  # BCP 47: en-US, zh-CN
    preferred_at: datetime | None = None  # None: as soon as possible
    joined_at: datetime | None = None  # its place in the queue's line
    attempts: int = 0  # calls placed so far
    max_attempts: int = 3
    last_error: str | None = None
    history: tuple[dict, ...] = ()  # ({at: ISO time, status, detail}, ...) oldest first
    call_sid: str | None = None  # the last outbound call placed for it
    entry_key: str | None = None  # its place in line while queued
    version: int = 0
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    due_shard: str | None = None  # set only while scheduled (see ``due_shard``)
    due_at: datetime | None = None  # when a scheduled request is due
    expires: datetime | None = None  # set when it closes; gone from storage after this


@dataclass(frozen=True)
class MissedCall:
    """Calls we missed from one number to one hotline, merged into one record until resolved.
    Times are aware UTC datetimes; numbers are E.164.

    ``status`` is ``open`` or ``followed_up`` for the record repeat misses merge into,
    ``resolved`` once someone resolved it (kept as history). ``version`` grows with every write
    to the open record.
    """

    hotline: str
    caller: str
    status: str  # open | followed_up | resolved
    miss_count: int = 0  # distinct calls missed
    first_at: datetime | None = None
    last_at: datetime | None = None
    reasons: frozenset[str] = frozenset()  # abandoned, after_hours, voicemail, callback_failed
    last_reason: str | None = None
    call_sids: tuple[str, ...] = ()  # the first calls merged (bounded), oldest first
    last_call_sid: str | None = None
    language: str | None = None
    queue_id: str | None = None  # the queue the caller was in, if any
    sms_sent_at: datetime | None = None  # follow-up: the text sent
    sms_sid: str | None = None
    callback_id: str | None = None  # follow-up: the callback request made
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    note: str | None = None
    version: int = 0


def new_callback_id() -> str:
    """An unguessable id (144 random bits): knowing it is what lets a customer see and cancel
    their request without an account."""
    return ID_PREFIX + secrets.token_urlsafe(18)


def looks_like_callback_id(value: str) -> bool:
    return value.startswith(ID_PREFIX) and 10 <= len(value) <= 64 and \
        all(c.isalnum() or c in "-_" for c in value[len(ID_PREFIX):])


def due_shard(callback_id: str) -> str:
    """Which of the ``due`` index's partitions a request sits in: spread by a hash of the id so
    many requests due at once do not all land on one partition."""
    digest = hashlib.sha256(callback_id.encode()).digest()
    return f"due#{int.from_bytes(digest[:4], 'big') % DUE_SHARDS}"


def all_due_shards() -> list[str]:
    return [f"due#{n}" for n in range(DUE_SHARDS)]


def request_fact(req: CallbackRequest, what: str, at: datetime, zone: str) -> Fact:
    """The report fact of a request asked for (``what`` = ``requested``) or closed
    (``completed``, ``failed``, ``cancelled``): counted for its queue and hotline in the queue's
    local day (``zone``). Values: ``callbacks_requested`` and ``callbacks_<kind>`` (web, queue,
    missed) when asked; ``callbacks_<status>``, ``callback_attempts`` and, when completed,
    ``callback_wait_seconds`` (asked to closed) when closed. Its id is the request's and what
    happened, so a retried close counts once."""
    if what == "requested":
        values = {"callbacks_requested": 1, f"callbacks_{req.kind}": 1}
    else:
        values = {f"callbacks_{what}": 1, "callback_attempts": req.attempts}
        if what == COMPLETED:
            values["callback_wait_seconds"] = max(0, round((at - req.requested_at)
                                                           .total_seconds()))
    return Fact(f"callback:{req.callback_id}:{what}", f"callback_{what}", at, zone,
                {"queue": req.queue_id, "hotline": req.hotline}, values)
