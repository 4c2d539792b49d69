"""The SMS channel's domain objects (plain data; ``store/`` reads and writes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

TICKET_STATUSES = ("open", "closed")


@dataclass(frozen=True)
class Ticket:
    """A customer's text that no agent could take, kept for a person to read and close.
    ``ticket_id``: "TK" + 32 hex characters, derived from the inbound MessageSid;
    ``sender``/``hotline``: E.164; times aware UTC."""

    ticket_id: str
    message_sid: str
    sender: str
    hotline: str
    body: str | None
    status: str
    created_at: datetime
    media_urls: list[str] = field(default_factory=list)
    language: str | None = None
    closed_at: datetime | None = None
