"""The facts missed calls leave for the reports (``chalicelib.facts``; read by
``reports.missed``): each missed call once, and how fast its record was followed up.

- **a miss** (kind ``missed_call``): when ``callbacks.missed.record_missed_call`` counts a new
  call into the number's open record. Id ``call:<CallSid>:missed:<hotline>``; a miss without a
  CallSid (a failed callback: each one counts, ``store.missed.merge_miss``) takes the record's
  identity and its count after the merge, ``<record id>:miss:<count>``, which the atomic ``ADD``
  makes unique. Values ``missed: 1`` and ``missed_<reason>: 1``; ``at``: the miss.
- **a follow-up** (kind ``missed_follow_up``): the first of an automatic callback request, a
  "we missed you" text or a person resolving the record (whoever resolves it has dealt with the
  caller). One per record (id ``<record id>:followed_up``, put-if-absent: the later ones count
  nothing). Values ``missed_followed_up: 1`` and ``follow_up_seconds``: from the record's first
  miss to the follow-up (whole seconds, never negative); ``at``: the follow-up.

A record's id is ``missed:<hotline digits>-<caller digits>:<first miss, ISO UTC>``. Scopes:
``{"hotline": <number>}``, plus ``queue`` when the record names the queue the caller left. Zone:
the hotline's (``store.hotline_zone``).
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.callbacks.model import MissedCall
from chalicelib.facts import Fact

MISSED = "missed_call"
FOLLOW_UP = "missed_follow_up"


def record_id(record: MissedCall) -> str:
    first = record.first_at.isoformat() if record.first_at else "unknown"
    return f"missed:{record.hotline.lstrip('+')}-{record.caller.lstrip('+')}:{first}"


def _scopes(record: MissedCall, queue_id: str | None) -> dict[str, str]:
    scopes = {"hotline": record.hotline}
    if queue_id:
        scopes["queue"] = queue_id
    return scopes


def missed_fact(record: MissedCall, reason: str, call_sid: str | None, queue_id: str | None,
                at: datetime, zone: str) -> Fact:
    """The fact of one new miss merged into ``record`` (the open record after the merge)."""
    fact_id = f"call:{call_sid}:missed:{record.hotline}" if call_sid else \
        f"{record_id(record)}:miss:{record.miss_count}"
    return Fact(fact_id, MISSED, at, zone, _scopes(record, queue_id),
                {"missed": 1, f"missed_{reason}": 1}).check()


def follow_up_fact(record: MissedCall, at: datetime, zone: str) -> Fact:
    """The fact of ``record``'s (first) follow-up at ``at``."""
    waited = round((at - record.first_at).total_seconds()) if record.first_at else 0
    return Fact(f"{record_id(record)}:followed_up", FOLLOW_UP, at, zone,
                _scopes(record, record.queue_id),
                {"missed_followed_up": 1, "follow_up_seconds": max(0, waited)}).check()
