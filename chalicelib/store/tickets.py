"""Tickets: customers' texts that no agent could take, listed newest first by status (a GSI, never
a Scan). Opening one is a conditional put on its id, which is derived from the inbound
MessageSid, so a webhook Twilio retries can never open a second ticket."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.messaging.model import Ticket
from chalicelib.store.models import Ticket as TicketItem
from chalicelib.store.models import save_if_absent, update_if


def _to_ticket(item: TicketItem) -> Ticket:
    return Ticket(
        ticket_id=item.ticket_id, message_sid=item.message_sid, sender=item.sender,
        hotline=item.hotline, body=item.body, status=item.status, created_at=item.created_at,
        media_urls=list(item.media_urls or []), language=item.language, closed_at=item.closed_at,
    )


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
    ticket = TicketItem(
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
    return save_if_absent(ticket, TicketItem.ticket_id.does_not_exist())


def get_ticket(ticket_id: str) -> Ticket | None:
    try:
        return _to_ticket(TicketItem.get(ticket_id, consistent_read=True))
    except DoesNotExist:
        return None


def list_tickets(status: str, limit: int, before: datetime | None = None) -> list[Ticket]:
    """Up to ``limit`` tickets with ``status``, newest first, created before ``before`` if given
    (the cursor for the next page)."""
    condition = TicketItem.created_at < before if before is not None else None
    return [_to_ticket(item) for item in TicketItem.by_status.query(
        status, range_key_condition=condition, scan_index_forward=False, limit=limit)]


def close_ticket(ticket_id: str, now: datetime) -> Ticket | None:
    """Close a ticket (closing a closed one changes nothing); None if there is no such ticket."""
    update_if(TicketItem(ticket_id),
              [TicketItem.status.set("closed"), TicketItem.closed_at.set(now)],
              TicketItem.ticket_id.exists() & (TicketItem.status == "open"))
    return get_ticket(ticket_id)
