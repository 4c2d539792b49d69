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
