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

Each change in force is also a fact (``opt_out_fact``: the opt-outs report counts them per
channel and UTC day; the hotline's zone is not at hand here, so UTC), recorded after the change
and put only if absent: its id is the message's sid (a STOP Twilio delivers twice is one fact)
or, for a carrier's refusal, the number's hash and the time. A crash between the two writes is
healed by the retry, which finds its message applied and records the fact then.

Storage errors propagate: a caller should try again later rather than assume consent (or, worse,
record a refusal that was never given).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from chalicelib.facts import Fact
from chalicelib.store import facts, optouts

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


def opt_out_fact(number: str, channel: str, at: datetime, *, opted_out: bool = True,
                 message_sid: str | None = None, hotline: str | None = None) -> Fact:
    """The fact of one opt-out (``opt_outs: 1``) or opt-in (``opt_ins: 1``) on ``channel``
    (``SMS``: a STOP / START text or the carrier refusing a text; ``VOICE``: the carrier
    refusing a call), scoped ``channel`` and, when known, ``hotline`` (the number texted).
    Counted in UTC days. No number is kept in its id: a sid, or a hash of the number."""
    kind = "opt_out" if opted_out else "opt_in"
    if message_sid:
        fact_id = f"{kind}:{message_sid}"
    else:
        digest = hashlib.sha256(number.encode()).hexdigest()[:20]
        fact_id = f"{kind}:{channel}:{digest}:{at.astimezone(UTC).isoformat()}"
    scopes = {"channel": channel} | ({"hotline": hotline} if hotline else {})
    return Fact(fact_id, kind, at.astimezone(UTC), "UTC", scopes,
                {"opt_outs" if opted_out else "opt_ins": 1})


def record_opt_out(number: str, keyword: str, at: datetime, *,
                   message_sid: str | None = None, channel: str = SMS,
                   hotline: str | None = None) -> bool:
    """``number`` asked us to stop (``keyword``: the word it texted, or ``carrier:<code>``) at
    ``at``, the message time, on ``channel`` (a carrier refusing a call: ``VOICE``), texting
    ``hotline`` when known; True if that opt-out is in force afterwards (False when a later
    opt-in already stands). True again for a message applied before: its fact counts once."""
    in_force = optouts.opt_out(number, keyword, at, message_sid=message_sid)
    if in_force:
        facts.record(opt_out_fact(number, channel, at, message_sid=message_sid,
                                  hotline=hotline))
    return in_force


def record_opt_in(number: str, keyword: str, at: datetime, *,
                  message_sid: str | None = None, hotline: str | None = None) -> bool:
    """``number`` opted back in (texted ``keyword``) at ``at``; True if that opt-in is in force
    afterwards (False when an opt-out as late or later already stands). Always a text: ``SMS``."""
    in_force = optouts.opt_in(number, keyword, at, message_sid=message_sid)
    if in_force:
        facts.record(opt_out_fact(number, SMS, at, opted_out=False, message_sid=message_sid,
                                  hotline=hotline))
    return in_force
