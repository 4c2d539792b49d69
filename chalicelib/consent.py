"""May we contact this number? The one consent gate for every text and call we start.

Consent lives on the opt-out list (``store.optouts``), and this is the only module outside
``store`` that reads or changes it:

* ``may_contact`` is asked before anything outbound: ``send_sms`` for every text; the callback
  dispatcher and missed-call follow-ups right before dialling; the callback form and the IVR's
  texts before they offer anything. A number that texted STOP (or 退订, ...) gets nothing from
  us, text or call, until it texts START: one list covers both channels.
* ``record_opt_out`` / ``record_opt_in`` change it: the SMS keywords (with the message's sid and
  time) and the carrier reporting that a number opted out. A change applies only if it is later
  than the change in force (on a tie, opting out wins) and its message was not applied before,
  in one conditional write, so concurrent and retried STOP / START texts settle as the later
  message said.

Storage errors propagate: a caller should try again later rather than assume consent (or, worse,
record a refusal that was never given).
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.store import optouts

VOICE = "voice"
SMS = "sms"
CHANNELS = (VOICE, SMS)


def may_contact(number: str, channel: str | None = None) -> bool:
    """False if ``number`` (E.164) opted out. ``channel`` (``VOICE`` or ``SMS``; None: either)
    says what the caller is about to do; today the one list refuses both. ValueError for any
    other channel."""
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r} (expected one of {', '.join(CHANNELS)})")
    return not optouts.is_opted_out(number)


def record_opt_out(number: str, keyword: str, at: datetime, *,
                   message_sid: str | None = None) -> bool:
    """``number`` asked us to stop (``keyword``: the word it texted, or ``carrier:<code>``) at
    ``at``, the message time; True if that opt-out is in force afterwards (False when a later
    opt-in already stands, or this message was applied before)."""
    return optouts.opt_out(number, keyword, at, message_sid=message_sid)


def record_opt_in(number: str, keyword: str, at: datetime, *,
                  message_sid: str | None = None) -> bool:
    """``number`` opted back in (texted ``keyword``) at ``at``; True if that opt-in is in force
    afterwards (False when an opt-out as late or later already stands)."""
    return optouts.opt_in(number, keyword, at, message_sid=message_sid)
