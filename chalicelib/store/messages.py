"""Outbound texts, claimed by idempotency key before sending so a retried webhook never sends twice.

A message is claimed (conditional put), then sent, then marked. A Lambda that dies between claim
and send leaves a ``pending`` message rather than a duplicate text: for courtesy texts, at most
once is the right failure mode.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import PutError

from chalicelib.store.models import Message


def claim(
    key: str, *, to: str, template: str, call_sid: str | None, now: datetime, retention_days: int
) -> bool:
    message = Message(
        key,
        to=to,
        body_template=template,
        call_sid=call_sid,
        status="pending",
        created_at=now,
        expires=now + timedelta(days=retention_days),
    )
    try:
        message.save(condition=Message.message_key.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def mark_sent(key: str, message_sid: str, status: str, sender: str | None) -> None:
    actions = [Message.message_sid.set(message_sid), Message.status.set(status)]
    if sender:
        actions.append(Message.sender.set(sender))
    Message(key).update(actions=actions)


def mark_failed(key: str, error: str) -> None:
    Message(key).update(actions=[Message.status.set("failed"), Message.error.set(error[:500])])
