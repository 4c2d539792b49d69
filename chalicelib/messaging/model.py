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


@dataclass(frozen=True)
class SentText:
    """A text we send, kept once per idempotency key: ``status`` is pending, queued, sent,
    delivered, undelivered, failed or opted_out (never moves backwards); ``to``/``sender``:
    E.164; ``error_code``: Twilio's ErrorCode (e.g. 21610 for a number that replied STOP);
    ``campaign_id``: the campaign whose text it is (its contact is ``to``)."""

    message_key: str
    to: str
    status: str
    created_at: datetime
    message_sid: str | None = None
    sender: str | None = None
    body_template: str | None = None
    call_sid: str | None = None
    error: str | None = None
    error_code: str | None = None
    campaign_id: str | None = None
