"""The opt-out list: one item per number, changed by STOP / START texts (and by the carrier
telling us a number opted out), read before anything outbound goes to that number.

A change carries its message time. It applies only if it is later than the change in force
(on a tie, opting out wins), so a STOP and a START handled by two Lambdas at once end as the
later message said, whichever write lands first. Each change is one conditional UpdateItem
(no read first, no retry loop), so any number of concurrent changes to one number settle in one
write each. A change whose MessageSid was already applied (Twilio retried the webhook, with a
later receive time) is refused by the same condition, so a retried STOP cannot undo a START that
followed it.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.models import OptOut, update_if

OPTED_OUT = "opted_out"
OPTED_IN = "opted_in"


def _opt_out_item(number: str) -> OptOut | None:
    try:
        return OptOut.get(number, consistent_read=True)
    except DoesNotExist:
        return None


def is_opted_out(number: str) -> bool:
    """True if ``number`` opted out and has not opted back in (a strongly consistent read)."""
    item = _opt_out_item(number)
    return item is not None and item.status == OPTED_OUT


def opt_out(number: str, keyword: str, now: datetime, *, message_sid: str | None = None) -> bool:
    """Record that ``number`` opted out at ``now``; True if that opt-out is in force afterwards
    (False when a later opt-in already stands)."""
    return _change(number, OPTED_OUT, keyword, now, message_sid)


def opt_in(number: str, keyword: str, now: datetime, *, message_sid: str | None = None) -> bool:
    """Record that ``number`` opted back in at ``now``; True if that opt-in is in force
    afterwards (False when an opt-out as late or later already stands)."""
    return _change(number, OPTED_IN, keyword, now, message_sid)


def _change(number: str, status: str, keyword: str, at: datetime, message_sid: str | None) -> bool:
    later = OptOut.changed_at.does_not_exist() | (OptOut.changed_at < at)
    if status == OPTED_OUT:
        later = later | (OptOut.changed_at == at)  # a tie goes to the safe side
    condition = later
    actions = [
        OptOut.status.set(status),
        OptOut.keyword.set(keyword),
        OptOut.changed_at.set(at),
        (OptOut.opted_out_at if status == OPTED_OUT else OptOut.opted_in_at).set(at),
    ]
    if message_sid:
        condition = condition & ~OptOut.recent_sids.contains(message_sid)
        actions.append(OptOut.recent_sids.set(
            (OptOut.recent_sids | []).append([message_sid])))
    if update_if(OptOut(number), actions, condition):
        return True
    current = _opt_out_item(number)  # refused: say whether this change is the one in force
    if current is None:
        return False
    return bool(message_sid) and message_sid in (current.recent_sids or []) \
        and current.status == status
