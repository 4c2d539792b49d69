"""One dispatcher per queue at a time: a short lease on the queue's ``dispatch`` item.

Many Lambdas dispatch the same queue at once (callers joining, agents freed, hold requests).
Rounds that run together read the same line and agents, choose the same pairs, and all but one
of their reservation transactions are cancelled, round after round. With the lease, a request
that finds the queue being dispatched leaves a note instead (``lease_again``) and returns; the
holder runs one more round before letting go, so nothing asked for is missed and no two rounds
of a queue race. A holder that dies frees the queue when its lease runs out.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from chalicelib.store.models import QueueDay, update_if

ITEM = "dispatch"
LEASE_SECONDS = 15  # longer than a round (reads, a few transactions, Twilio redirects)


_FREE = [QueueDay.lease_owner.remove(), QueueDay.lease_until.remove(),
         QueueDay.lease_again.remove()]


def take(queue_id: str, now: datetime) -> str | None:
    """The lease's token if this request now dispatches ``queue_id``; None when another holds
    it (asked, here, for one more round). Raises ``UpdateError`` on other storage errors."""
    token = _grab(queue_id, now)
    if token is not None:
        return token
    if update_if(QueueDay(queue_id, ITEM), [QueueDay.lease_again.set(True)],
                 QueueDay.lease_owner.exists()):
        return None
    return _grab(queue_id, now)  # the holder let go between our two writes


def _grab(queue_id: str, now: datetime) -> str | None:
    token = secrets.token_hex(8)
    grabbed = update_if(
        QueueDay(queue_id, ITEM),
        [QueueDay.lease_owner.set(token),
         QueueDay.lease_until.set(now + timedelta(seconds=LEASE_SECONDS)),
         QueueDay.lease_again.set(False)],
        QueueDay.lease_owner.does_not_exist() | (QueueDay.lease_until < now))
    return token if grabbed else None


def release(queue_id: str, token: str) -> bool:
    """Let go of the lease; False when another round was asked for meanwhile: the note is
    cleared and the holder keeps the lease for that round (True also when the lease was lost:
    its new holder runs the rounds)."""
    not_asked = QueueDay.lease_again.does_not_exist() | (QueueDay.lease_again == False)  # noqa: E712
    if update_if(QueueDay(queue_id, ITEM), _FREE, (QueueDay.lease_owner == token) & not_asked):
        return True
    # asked for another round (or no longer ours: then its new holder runs the rounds)
    return not update_if(QueueDay(queue_id, ITEM), [QueueDay.lease_again.set(False)],
                         QueueDay.lease_owner == token)


def let_go(queue_id: str, token: str) -> None:
    """Let go of the lease whatever was asked meanwhile (the holder stops: an error, or its
    rounds are used up; a request asked for later finds the queue free)."""
    update_if(QueueDay(queue_id, ITEM), _FREE, QueueDay.lease_owner == token)
