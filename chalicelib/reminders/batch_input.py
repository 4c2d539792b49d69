"""A reminder batch's input: the segment, the channel and the campaign it makes.

A batch is a campaign (``campaigns``); its fields go through the campaign parser
(``campaigns.campaign_input.parse_campaign``) so a batch accepts what a campaign accepts, and
the parser's errors are renamed to the batch's field names (``flow_id`` → ``flow``,
``queue_id`` → ``queue``). The channel decides the campaign's kind:

- ``sms``: kind ``sms``, a text from ``template``;
- ``voice``: kind ``agentless`` running ``flow`` (default ``reminder_call``);
- ``agent``: kind ``progressive`` for ``queue`` (a routing queue id): the queue's agents join
  the campaign's open line (``POST /campaigns/{id}/seats``) and each answered customer is
  bridged to a ready agent, whose seat view shows the account (the contact's attributes).

Voice and agent batches need ``name`` (the business name the voicemail says) and leave the
Regulation F limited-content voicemail (``VOICEMAIL``) when a machine answers.

Errors: ``InvalidRequest`` naming the field (400).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.api_errors import InvalidRequest
from chalicelib.api_input import ID_PATTERN
from chalicelib.campaigns import admin
from chalicelib.campaigns.campaign import AGENTLESS, PROGRESSIVE, SMS_KIND
from chalicelib.campaigns.campaign_input import parse_campaign

SEGMENT_STATUSES = ("overdue", "open", "current")
SMS, VOICE, AGENT = "sms", "voice", "agent"
CHANNELS = (SMS, VOICE, AGENT)
PURPOSES = ("collections", "informational")
DEFAULT_FLOW = "reminder_call"
VOICEMAIL = "reminder_voicemail"  # Regulation F's limited content: no amount, no debt
MAX_DAYS = 3650
FIELDS = frozenset({"segment", "channel", "template", "flow", "queue", "caller_id", "purpose",
                    "starts_at", "preview", "name", "language", "request_id"})
ONE_FIELDS = frozenset({"account_id", "channel", "template", "flow", "queue", "caller_id",
                        "at", "name", "language", "request_id"})
REQUEST_ID = re.compile(ID_PATTERN)
# a placeholder that passes the campaign parser's list id check; replaced by ``batch:<id>``
PLACEHOLDER_LIST = "cl_" + "0" * 16
_NAMES = {"flow_id": "flow", "queue_id": "queue"}  # the batch's names for campaign fields


@dataclass(frozen=True)
class Segment:
    """Which open accounts: ``status`` (overdue, open, current), due between ``due_from`` and
    ``due_to`` (inclusive, None: unbounded)."""

    status: str
    due_from: date | None = None
    due_to: date | None = None


def _date(raw: object, field: str) -> date | None:
    if raw is None:
        return None
    try:
        if not isinstance(raw, str):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(field, "must be a date like 2026-11-30") from None


def parse_segment(raw: object, today: date) -> Segment:
    """``{"status", "overdue_more_than_days"?, "due_from"?, "due_to"?}``: more than N days
    overdue is ``due_date <= today - N - 1`` (``today``: UTC)."""
    if not isinstance(raw, dict):
        raise InvalidRequest("segment", "is required: {status, overdue_more_than_days?, "
                                        "due_from?, due_to?}")
    unknown = set(raw) - {"status", "overdue_more_than_days", "due_from", "due_to"}
    if unknown:
        raise InvalidRequest(f"segment.{sorted(unknown)[0]}", "is not a field of a segment")
    status = raw.get("status")
    if status not in SEGMENT_STATUSES:
        raise InvalidRequest("segment.status", f"must be one of {', '.join(SEGMENT_STATUSES)}")
    due_from = _date(raw.get("due_from"), "segment.due_from")
    due_to = _date(raw.get("due_to"), "segment.due_to")
    days = raw.get("overdue_more_than_days")
    if days is not None:
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
            raise InvalidRequest("segment.overdue_more_than_days",
                                 f"must be a whole number from 0 to {MAX_DAYS}")
        latest = today - timedelta(days=days + 1)
        due_to = min(due_to, latest) if due_to else latest
    if due_from and due_to and due_from > due_to:
        raise InvalidRequest("segment.due_from", "must not be after due_to")
    return Segment(str(status), due_from, due_to)


def _only(body: dict, field: str, channels: str) -> None:
    if body.get(field) is not None:
        raise InvalidRequest(field, f"is only for {channels} batches")


def _by_channel(body: dict, channel: str) -> dict[str, Any]:
    """The campaign fields the channel decides: kind and what the kind runs."""
    if channel == SMS:
        _only(body, "flow", "voice")
        _only(body, "queue", "agent")
        return {"kind": SMS_KIND, "template": body.get("template")}
    _only(body, "template", "SMS")
    machine = {"machine": "message", "machine_template": VOICEMAIL}
    if channel == VOICE:
        _only(body, "queue", "agent")
        return {"kind": AGENTLESS, "flow_id": body.get("flow", DEFAULT_FLOW), **machine}
    if body.get("flow") is not None:
        raise InvalidRequest("flow", "is only for voice batches (an agent batch's calls go to "
                                     "the queue's agents)")
    queue = body.get("queue")
    if queue is None:
        raise InvalidRequest("queue", "is required for an agent batch: the queue whose agents "
                                      "take the calls")
    return {"kind": PROGRESSIVE, "queue_id": queue, **machine}


def campaign_fields(body: dict, *, purpose: str, now: datetime,
                    starts_at: str | None) -> dict[str, Any]:
    """The campaign's fields through the campaign parser (its errors renamed to ours)."""
    channel = body.get("channel")
    if channel not in CHANNELS:
        raise InvalidRequest("channel", f"must be one of {', '.join(CHANNELS)}")
    name = body.get("name")
    if channel != SMS and name is None:
        # the voicemail says "this is <name>": a business name that does not say it collects
        raise InvalidRequest("name", f"is required for a {channel} batch: the business name "
                                     "the voicemail says (no word of a debt or a bill)")
    campaign: dict[str, Any] = {
        "name": name if name is not None else "Payment reminders",
        "purpose": purpose, "list_id": PLACEHOLDER_LIST, "caller_id": body.get("caller_id"),
        "language": body.get("language", "en-US"), **_by_channel(body, str(channel)),
    }
    if starts_at is not None:
        campaign["starts_at"] = starts_at
    if purpose == "collections":
        campaign["subject_attribute"] = "account_id"  # the frequency caps count per debt
    try:
        fields, _ = parse_campaign(campaign, now)
    except InvalidRequest as exc:
        raise renamed(exc) from None
    return fields


def renamed(exc: InvalidRequest) -> InvalidRequest:
    """The campaign parser's (or ``admin.check_references``') error with the batch's name."""
    field = _NAMES.get(exc.field, exc.field)
    return InvalidRequest(field, str(exc).partition(": ")[2] or str(exc))


def batch_id(body: dict) -> str | None:
    """The batch id a caller's ``request_id`` names (the same id: the same batch, so a retried
    request never texts anyone twice); None without one."""
    request_id = body.get("request_id")
    if request_id is None:
        return None
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise InvalidRequest("request_id", "must be your id of this request: letters, digits, "
                                           "'_', '.', '-' (64 at most)")
    digest = hashlib.sha256(request_id.encode()).hexdigest()
    return admin.ID_PREFIX + digest[:24]


def parse_request(body: dict, now: datetime, preview_query: bool = False
                  ) -> tuple[Segment, dict[str, Any], bool]:
    """``POST /reminder-batches``'s body: the segment, the campaign's fields, and whether it is
    a preview (``"preview": true`` or ``?preview=true``)."""
    unknown = set(body) - FIELDS
    if unknown:
        raise InvalidRequest(sorted(unknown)[0], "is not a field of a reminder batch")
    segment = parse_segment(body.get("segment"), now.date())
    preview = body.get("preview", False)
    if not isinstance(preview, bool):
        raise InvalidRequest("preview", "must be true or false")
    purpose = body.get("purpose", "collections" if segment.status == "overdue"
                       else "informational")
    if purpose not in PURPOSES:
        raise InvalidRequest("purpose", f"must be one of {', '.join(PURPOSES)}")
    starts_at = body.get("starts_at")
    if starts_at is not None and not isinstance(starts_at, str):
        raise InvalidRequest("starts_at", "must be an ISO 8601 time with its offset")
    fields = campaign_fields(body, purpose=str(purpose), now=now, starts_at=starts_at)
    return segment, fields, preview or preview_query
