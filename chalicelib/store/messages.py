"""Outbound texts, claimed by idempotency key before sending so a retried webhook never sends twice.

A message is claimed (conditional put), then sent, then marked. A Lambda that dies between claim
and send leaves a ``pending`` message rather than a duplicate text: for courtesy texts, at most
once is the right failure mode.

Delivery statuses arrive later in Twilio's status callbacks, out of order at times: each status
has a rank (``STATUS_RANK``) and a write applies only when it ranks higher than the one stored,
so a late ``sent`` never overwrites ``delivered``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.messaging.model import SentText
from chalicelib.store.models import Message, save_if_absent, update_if

# Twilio's MessageStatus values in the order a message moves through them; the final ones share
# a rank (one message gets one of them). ``opted_out`` and ``failed`` are also our own finals
# (never sent: the number opted out; the REST request failed), and so is ``refused`` (the
# compliance gate said no).
STATUS_RANK = {
    "pending": 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "opted_out": 5,
    "refused": 5,  # the compliance gate refused it (its reasons are in the gate's audit)
    "read": 6,  # WhatsApp and RCS: after delivered
}


def claim(
    key: str,
    *,
    to: str,
    template: str,
    call_sid: str | None,
    now: datetime,
    retention_days: int,
    status: str = "pending",
    campaign_id: str | None = None,
) -> bool:
    message = Message(
        key,
        to=to,
        body_template=template,
        call_sid=call_sid,
        campaign_id=campaign_id,
        status=status,
        status_rank=STATUS_RANK[status],
        created_at=now,
        expires=now + timedelta(days=retention_days),
    )
    return save_if_absent(message, Message.message_key.does_not_exist())


def get_message(key: str) -> SentText | None:
    """The text sent under ``key``, as it stands now (a strongly consistent read)."""
    try:
        item = Message.get(key, consistent_read=True)
    except DoesNotExist:
        return None
    return _sent_text(item)


def _sent_text(item: Message) -> SentText:
    return SentText(
        message_key=item.message_key, to=item.to, status=item.status,
        created_at=item.created_at, message_sid=item.message_sid, sender=item.sender,
        body_template=item.body_template, call_sid=item.call_sid, error=item.error,
        error_code=item.error_code, campaign_id=item.campaign_id)


def _status_actions(status: str, error_code: str | None = None) -> tuple[list[Action], Condition]:
    """The update that sets ``status`` and the condition that it does not move backwards."""
    rank = STATUS_RANK[status]
    actions: list[Action] = [Message.status.set(status), Message.status_rank.set(rank)]
    if error_code:
        actions.append(Message.error_code.set(error_code))
    return actions, Message.status_rank.does_not_exist() | (Message.status_rank < rank)


def mark_sent(key: str, message_sid: str, status: str, sender: str | None) -> None:
    """Twilio accepted the message. Its sid is always recorded; its status only if no status
    callback got there first."""
    ids: list[Action] = [Message.message_sid.set(message_sid)]
    if sender:
        ids.append(Message.sender.set(sender))
    status = status if status in STATUS_RANK else "queued"
    actions, newer = _status_actions(status)
    if not update_if(Message(key), ids + actions, Message.message_key.exists() & newer):
        Message(key).update(actions=ids)


def mark_failed(key: str, error: str, error_code: str | None = None) -> None:
    actions: list[Action] = [
        Message.status.set("failed"),
        Message.status_rank.set(STATUS_RANK["failed"]),
        Message.error.set(error[:500]),
    ]
    if error_code:
        actions.append(Message.error_code.set(error_code))
    Message(key).update(actions=actions)


def mark_opted_out(key: str, error_code: str | None = None) -> None:
    """The carrier refused the text because the number opted out (Twilio error 21610)."""
    actions, _ = _status_actions("opted_out", error_code)
    Message(key).update(actions=actions)


def key_for_sid(message_sid: str) -> str | None:
    """The idempotency key of the message Twilio knows as ``message_sid`` (sparse GSI)."""
    for item in Message.by_message_sid.query(message_sid, limit=1):
        return item.message_key
    return None


def record_status(message_sid: str, status: str, error_code: str | None) -> str:
    """Apply a delivery status callback: ``"applied"``, ``"stale"`` (a later status is already
    stored, or the same one again), ``"unknown-status"`` or ``"unknown-message"``."""
    return apply_status(message_sid, status, error_code)[0]


def apply_status(message_sid: str, status: str,
                 error_code: str | None) -> tuple[str, SentText | None]:
    """``record_status``, and the message as it stands afterwards (None when unknown): the
    applied update returns it, a stale one reads it."""
    if status not in STATUS_RANK:
        return "unknown-status", None
    key = key_for_sid(message_sid)
    if key is None:
        return "unknown-message", None
    actions, newer = _status_actions(status, error_code)
    item = Message(key)
    if update_if(item, actions, newer):  # PynamoDB loads the updated item (ALL_NEW) into it
        return "applied", _sent_text(item)
    return "stale", get_message(key)
