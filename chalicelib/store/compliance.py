"""The compliance gate's storage: do-not-call entries, consents, the contacts we made and the
refusals, all under the number, so one Query reads everything a check needs.

Contacts are written with a key derived from what placed them (a callback attempt, a message's
idempotency key), conditionally, so a retried job records one contact, not two.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.compliance.rules import Contact, RecipientFacts
from chalicelib.store.models import ComplianceEntry, save_if_absent, update_if

CONTACT_RETENTION = timedelta(days=31)  # the longest cap looks back 14 days; reports a month
REFUSAL_RETENTION = timedelta(days=400)  # the audit trail of refusals, kept over a year


def facts_for(number: str, now: datetime, opted_out: frozenset[str]) -> RecipientFacts:
    """Everything known of ``number`` (E.164) at ``now``; ``opted_out``: the channels its
    opt-outs block (from ``consent.py``, the one reader of the opt-out list)."""
    dnc: set[str] = set()
    consents: set[tuple[str, str]] = set()
    contacts: list[Contact] = []
    for item in ComplianceEntry.query(number, consistent_read=True):
        kind = item.entry.split("#", 1)[0]
        if kind == "dnc":
            dnc.add(item.channel or "all")
        elif kind == "consent" and item.revoked_at is None:
            consents.add((item.purpose or "", item.channel or ""))
        elif kind == "contact" and (item.expires is None or item.expires > now):
            contacts.append(Contact(at=item.at, channel=item.channel or "",
                                    purpose=item.purpose or "", outcome=item.outcome,
                                    subject=item.subject, key=item.entry.split("#", 1)[1]))
    return RecipientFacts(number=number, opted_out=opted_out, do_not_call=frozenset(dnc),
                          consents=frozenset(consents), contacts=tuple(contacts))


def record_contact(number: str, contact: Contact) -> bool:
    """Remember a contact made (for the caps) under its ``key``; False when that key was
    recorded before."""
    item = ComplianceEntry(
        number, f"contact#{contact.key}", at=contact.at,
        channel=contact.channel, purpose=contact.purpose, outcome=contact.outcome,
        subject=contact.subject, expires=contact.at + CONTACT_RETENTION)
    return save_if_absent(item, ComplianceEntry.entry.does_not_exist())


def set_contact_outcome(number: str, key: str, outcome: str) -> None:
    """How a recorded contact ended (``abandoned`` starts the 72 h hold)."""
    ComplianceEntry(number, f"contact#{key}").update(
        actions=[ComplianceEntry.outcome.set(outcome)],
        condition=ComplianceEntry.entry.exists())


def record_refusal(number: str, key: str, at: datetime, channel: str, purpose: str,
                   reasons: tuple[str, ...]) -> None:
    """The audit trail: a contact the gate refused, and why."""
    save_if_absent(ComplianceEntry(
        number, f"refusal#{at.isoformat()}#{key}", at=at, channel=channel, purpose=purpose,
        detail={"reasons": list(reasons)}, expires=at + REFUSAL_RETENTION),
        ComplianceEntry.entry.does_not_exist())


def refusals(number: str, limit: int = 50) -> list[dict]:
    """The newest refusals of ``number``: ``{at, channel, purpose, reasons}``."""
    found = ComplianceEntry.query(number, ComplianceEntry.entry.startswith("refusal#"),
                                  scan_index_forward=False, limit=limit)
    return [{"at": item.at.isoformat(), "channel": item.channel, "purpose": item.purpose,
             "reasons": list((item.detail or {}).get("reasons", []))} for item in found]


def add_do_not_call(number: str, channel: str, source: str, now: datetime,
                    reason: str | None = None) -> None:
    """Put ``number`` on our do-not-call list for ``channel`` (``all``: every channel)."""
    ComplianceEntry(number, f"dnc#{channel}", at=now, channel=channel, source=source,
                    detail={"reason": reason} if reason else None).save()


def remove_do_not_call(number: str, channel: str | None = None) -> int:
    """Take ``number`` off the list (one channel, or every entry); how many were removed."""
    removed = 0
    for item in ComplianceEntry.query(number, ComplianceEntry.entry.startswith("dnc#")):
        if channel is None or item.channel == channel:
            item.delete()
            removed += 1
    return removed


def record_consent(number: str, purpose: str, channel: str, source: str, now: datetime,
                   evidence: str | None = None) -> None:
    """A consent given (the ledger: source, time, evidence); replaces a revoked one."""
    ComplianceEntry(number, f"consent#{purpose}#{channel}", at=now, purpose=purpose,
                    channel=channel, source=source,
                    detail={"evidence": evidence} if evidence else None).save()


def revoke_consent(number: str, purpose: str, channel: str, now: datetime) -> bool:
    """The consent no longer stands (kept, with the time it was revoked); False if the ledger
    has no such consent."""
    return update_if(ComplianceEntry(number, f"consent#{purpose}#{channel}"),
                     [ComplianceEntry.revoked_at.set(now)], ComplianceEntry.entry.exists())
