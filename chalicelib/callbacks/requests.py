"""The one way in for callback requests: create (web form, "press 1" in a queue, a missed call's
follow-up), look up, cancel (the web API, the SMS ``CANCEL CALL`` reply).

Where a new request starts:

- a preferred time later than a few minutes from now → ``scheduled`` at that time (the
  dispatcher finds it through the due index);
- as soon as possible while the queue is open and it is 08:00-21:00 for the customer →
  ``queued``: a place in the queue's line next to the callers on hold, at ``joined_at`` (a queue
  callback keeps the caller's original place, also when it has to wait for the morning);
- otherwise → ``scheduled`` at the next minute both allow (a chosen time that falls in the
  customer's night moves to their morning).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from chalicelib.callbacks import slots
from chalicelib.callbacks.model import (
    CANCELLABLE,
    KINDS,
    OPEN_STATUSES,
    QUEUED,
    SCHEDULED,
    CallbackRequest,
    new_callback_id,
)
from chalicelib.hours.calling_window import may_call_at, next_contact_time
from chalicelib.hours.schedule import next_opening
from chalicelib.logs import mask_number, ref
from chalicelib.store import callbacks as store
from chalicelib.store import routing

log = logging.getLogger(__name__)

CALLED_IN = "called in"  # why a request closed: the customer called and waits on the line


class UnknownQueue(LookupError):
    """The queue named has no routing configuration: nobody would ever call back."""


class AlreadyInLine(Exception):
    """This number is on the phone, waiting in this queue's line right now: one person, one
    offer, so no callback request is made (the call keeps its place)."""

    def __init__(self, call_sid: str):
        super().__init__("the number is already waiting in line on a call")
        self.call_sid = call_sid


@dataclass(frozen=True)
class Placement:
    status: str  # queued | scheduled
    due_at: datetime | None  # when scheduled


def placement(queue, now: datetime, preferred_at: datetime | None,
              phone: str = "") -> Placement:
    """Where a new request starts (see the module docstring). Both the queue's hours and the
    customer's calling hours (08:00-21:00 where their number is) decide "now" and "when"."""
    hours = queue.hours or {}
    fallback_tz = hours.get("timezone", "UTC")
    if preferred_at is not None and preferred_at > now + slots.ASAP_SLACK:
        when = next_contact_time(phone, preferred_at, hours or None, fallback_tz)
        return Placement(SCHEDULED, when or preferred_at)
    if may_call_at(phone, now, hours or None, fallback_tz):
        return Placement(QUEUED, None)
    when = next_contact_time(phone, now, hours or None, fallback_tz)
    return Placement(SCHEDULED, when or next_opening(hours, now) or now)


def request_callback(
    *,
    hotline: str,
    queue_id: str,
    phone: str,
    name: str | None,
    language: str | None,
    kind: str,
    now: datetime,
    preferred_at: datetime | None = None,
    joined_at: datetime | None = None,
    topic: str | None = None,
    ticket: int | None = None,
) -> tuple[str, bool]:
    """Ask for a callback to ``phone`` (E.164, already checked) from ``queue_id``'s agents.

    Returns ``(callback_id, True)`` for a new request, or ``(existing_id, False)`` when this
    number already has an open request in this queue (nothing is written then). ``joined_at``
    is the place in line (a queue callback passes the caller's original join time; default
    now). Raises ``UnknownQueue`` for a queue without routing, and ``AlreadyInLine`` when the
    number is waiting in that queue's line on a live call (a web or missed-call request would
    offer one person to two agents; a queue callback comes from that very call, whose entry has
    left the waiting state first).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    queue = routing.get_queue(queue_id)
    if queue is None:
        raise UnknownQueue(f"no queue '{queue_id}'")
    if kind != "queue":
        waiting = routing.calls_in_line(queue_id, phone)
        if waiting:
            log.info("no callback for %s in %s: waiting in line on call %s", mask_number(phone),
                     queue_id, waiting[0].call_sid)
            raise AlreadyInLine(waiting[0].call_sid)
    where = placement(queue, now, preferred_at, phone)
    req = CallbackRequest(
        callback_id=new_callback_id(),
        kind=kind,
        hotline=hotline,
        queue_id=queue_id,
        phone=phone,
        name=name,
        topic=topic,
        language=language,
        status=where.status,
        requested_at=now,
        preferred_at=preferred_at if where.status == SCHEDULED and preferred_at else None,
        # a queue callback's place, kept for when it joins the line (a queued one joins now)
        joined_at=(joined_at or now) if where.status == QUEUED else joined_at,
        due_at=where.due_at,
        history=(store.outcome(where.status, now, f"requested ({kind})"),),
    )
    try:
        req = store.create_request(req, now, ticket=ticket)
    except store.AlreadyRequested as exc:
        log.info("callback for %s in %s already requested: %s", mask_number(phone), queue_id,
                 ref(exc.existing_id))
        return exc.existing_id, False
    log.info("callback %s (%s) for %s in %s: %s", ref(req.callback_id), kind,
             mask_number(phone), queue_id, where.status)
    return req.callback_id, True


def get_request(callback_id: str) -> CallbackRequest | None:
    return store.get_request(callback_id)


def open_request_in(queue_id: str, phone: str | None) -> CallbackRequest | None:
    """The number's open request in ``queue_id`` that a call from it would replace, if any."""
    if not phone or not phone.startswith("+"):
        return None
    holder = store.lock_holder(queue_id, phone)
    req = store.get_request(holder) if holder else None
    return req if req is not None and req.status in CANCELLABLE else None


def close_as_called_in(req: CallbackRequest, now: datetime) -> bool:
    """The customer called and now waits in the same queue's line: one person, one offer. The
    request closes (cancelled, "called in", its place in line freed in the same write); the
    call has taken the better of the two places (``RoutingService.join``)."""
    if not store.cancel(req.callback_id, now, CALLED_IN, closed_only=True):
        return False
    log.info("callback %s closed: %s called in", ref(req.callback_id), mask_number(req.phone))
    return True


def cancel_request(callback_id: str, now: datetime,
                   detail: str = "cancelled by the customer") -> str | None:
    """Cancel a request if it still can be; return its status afterwards (``cancelled``, or
    the status that stopped it: ``connected``, ``completed``, ``failed``), None if unknown.
    Cancelling twice is harmless: the second time finds it ``cancelled``."""
    store.cancel(callback_id, now, detail)
    req = store.get_request(callback_id)
    return req.status if req else None


def open_for_number(phone: str) -> list[CallbackRequest]:
    """The number's open requests in every queue (newest first)."""
    return [req for req in store.requests_for_number(phone) if req.status in OPEN_STATUSES]


def cancel_open_for_number(number: str, now: datetime) -> int:
    """The customer replied ``CANCEL CALL``: cancel each of their requests that can still be
    cancelled; return how many were."""
    cancelled = 0
    for req in open_for_number(number):
        if req.status in CANCELLABLE and store.cancel(req.callback_id, now,
                                                      "cancelled by SMS reply", closed_only=True):
            cancelled += 1
    return cancelled
