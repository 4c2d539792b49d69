"""The opt-out list: one item per number, changed by STOP / START texts (and by the carrier
telling us a number opted out), read before anything outbound goes to that number.

A change carries its message time. It applies only if it is later than the change in force
(on a tie, opting out wins), so a STOP and a START handled by two Lambdas at once end as the
later message said, whichever write lands first. Each write is conditional on the item being
exactly as read (``changed_at``), and re-reads when another write got in between. A change whose
MessageSid was applied lately (Twilio retried the webhook) is not applied again, so a retried
STOP cannot undo a START that followed it.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.store.models import OptOut

OPTED_OUT = "opted_out"
OPTED_IN = "opted_in"
RECENT_SIDS_KEPT = 10
MAX_ATTEMPTS = 5


class ConcurrentChange(RuntimeError):
    """The item kept changing under us (never expected: a number texts a few times a day)."""


def get_opt_out(number: str) -> OptOut | None:
    try:
        return OptOut.get(number, consistent_read=True)
    except DoesNotExist:
        return None


def is_opted_out(number: str) -> bool:
    """True if ``number`` opted out and has not opted back in (a strongly consistent read)."""
    item = get_opt_out(number)
    return item is not None and item.status == OPTED_OUT


def opt_out(number: str, keyword: str, now: datetime, *, message_sid: str | None = None) -> bool:
    """Record that ``number`` opted out at ``now``; True if that opt-out is in force afterwards
    (False when a later opt-in already stands)."""
    return _change(number, OPTED_OUT, keyword, now, message_sid)


def opt_in(number: str, keyword: str, now: datetime, *, message_sid: str | None = None) -> bool:
    """Record that ``number`` opted back in at ``now``; True if that opt-in is in force
    afterwards (False when an opt-out as late or later already stands)."""
    return _change(number, OPTED_IN, keyword, now, message_sid)


def _supersedes(status: str, at: datetime, current: OptOut) -> bool:
    if at != current.changed_at:
        return at > current.changed_at
    return status == OPTED_OUT  # a tie goes to the safe side


def _change(number: str, status: str, keyword: str, at: datetime, message_sid: str | None) -> bool:
    for _ in range(MAX_ATTEMPTS):
        current = get_opt_out(number)
        if current is not None:
            if message_sid and message_sid in (current.recent_sids or []):
                return current.status == status  # a retry: already applied
            if not _supersedes(status, at, current):
                return False
        sids = [message_sid] if message_sid else []
        if current is not None:
            sids += list(current.recent_sids or [])[: RECENT_SIDS_KEPT - 1]
        item = OptOut(
            number,
            status=status,
            keyword=keyword,
            opted_out_at=at if status == OPTED_OUT else getattr(current, "opted_out_at", None),
            opted_in_at=at if status == OPTED_IN else getattr(current, "opted_in_at", None),
            changed_at=at,
            recent_sids=sids,
        )
        unchanged = (OptOut.number.does_not_exist() if current is None
                     else OptOut.changed_at == current.changed_at)
        try:
            item.save(condition=unchanged)
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                continue  # someone changed it since we read: decide again
            raise
        return True
    raise ConcurrentChange(f"opt-out item kept changing for {MAX_ATTEMPTS} attempts")
