"""Tickets: customers' texts that no agent could take, listed newest first by status (a GSI, never
a Scan). Opening one is a conditional put on its id, which is derived from the inbound
MessageSid, so a webhook Twilio retries can never open a second ticket."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.store.models import Ticket, update_if

STATUSES = ("open", "closed")


def open_ticket(
    ticket_id: str,
    *,
    message_sid: str,
    sender: str,
    hotline: str,
    body: str | None,
    media_urls: list[str],
    language: str | None,
    now: datetime,
) -> bool:
    """Open a ticket; False when this id (this inbound message) already has one."""
    ticket = Ticket(
        ticket_id,
        message_sid=message_sid,
        sender=sender,
        hotline=hotline,
        body=body or None,
        media_urls=media_urls,
        language=language,
        status="open",
        created_at=now,
    )
    try:
        ticket.save(condition=Ticket.ticket_id.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_ticket(ticket_id: str) -> Ticket | None:
    try:
        return Ticket.get(ticket_id, consistent_read=True)
    except DoesNotExist:
        return None


def list_tickets(status: str, limit: int, before: datetime | None = None) -> list[Ticket]:
    """Up to ``limit`` tickets with ``status``, newest first, created before ``before`` if given
    (the cursor for the next page)."""
    condition = Ticket.created_at < before if before is not None else None
    return list(Ticket.by_status.query(status, range_key_condition=condition,
                                       scan_index_forward=False, limit=limit))


def close_ticket(ticket_id: str, now: datetime) -> Ticket | None:
    """Close a ticket (closing a closed one changes nothing); None if there is no such ticket."""
    update_if(Ticket(ticket_id), [Ticket.status.set("closed"), Ticket.closed_at.set(now)],
              Ticket.ticket_id.exists() & (Ticket.status == "open"))
    return get_ticket(ticket_id)
