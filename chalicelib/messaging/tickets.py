"""What the tickets admin API does: read query parameters, list / show / close tickets, as
JSON-ready dicts. ``InvalidRequest`` (400, naming the ``field``) and ``NotFound`` (404) say what
went wrong; ``messaging.ticket_routes`` maps them to HTTP."""

from __future__ import annotations

from datetime import datetime

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.api_input import query_int, query_time
from chalicelib.messaging.model import TICKET_STATUSES, Ticket
from chalicelib.store import tickets as store

DEFAULT_LIMIT = 50
MAX_LIMIT = 200




def to_json(ticket: Ticket) -> dict:
    return {
        "ticket_id": ticket.ticket_id,
        "status": ticket.status,
        "from": ticket.sender,
        "to": ticket.hotline,
        "body": ticket.body,
        "media_urls": list(ticket.media_urls or []),
        "language": ticket.language,
        "message_sid": ticket.message_sid,
        "created_at": ticket.created_at.isoformat(),
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
    }


def list_tickets(query: dict | None) -> dict:
    """``?status=open|closed`` (default open), ``limit`` (1..200, default 50) and ``before`` (the
    ``next_before`` of the previous page): newest first."""
    query = query or {}
    status = query.get("status", "open")
    if status not in TICKET_STATUSES:
        raise InvalidRequest("status", f"must be one of {', '.join(TICKET_STATUSES)}")
    limit = query_int(query, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    before = query_time(query, "before")
    found = store.list_tickets(status, limit, before)
    more = len(found) == limit
    # "Z", not "+00:00": the cursor goes into a URL as it is, where "+" would mean a space
    cursor = found[-1].created_at.isoformat().replace("+00:00", "Z") if more else None
    return {"tickets": [to_json(t) for t in found], "next_before": cursor}


def get_ticket(ticket_id: str) -> dict:
    ticket = store.get_ticket(ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket '{ticket_id}'")
    return to_json(ticket)


def close_ticket(ticket_id: str, now: datetime) -> dict:
    ticket = store.close_ticket(ticket_id, now)
    if ticket is None:
        raise NotFound(f"no ticket '{ticket_id}'")
    return to_json(ticket)
