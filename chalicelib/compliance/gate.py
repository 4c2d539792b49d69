"""The compliance gate: the one place that says whether an outbound call or text may go now.

``check`` gathers what is known of the number (opt-outs through ``consent.py``, the do-not-call
list, consents and recent contacts from ``store.compliance``) and applies ``rules.decide``.
``admit`` is what a sender calls right before it dials or texts: the same check, and then either
the contact is remembered (for the frequency caps and the abandoned-call hold, once per ``key``,
so a retried job counts one contact) or the refusal is audited with its reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from chalicelib.compliance.rules import (
    ALL_CHANNELS,
    REQUESTED,
    Attempt,
    Contact,
    Decision,
    Policy,
    RecipientFacts,
    decide,
)
from chalicelib.consent import may_contact
from chalicelib.logs import mask_number, ref
from chalicelib.store import compliance as store

log = logging.getLogger(__name__)


class ComplianceGate:
    """``clock``: aware UTC now; ``policy``: the rules when a sender names none (defaults in
    ``rules.py``)."""

    def __init__(self, clock: Callable[[], datetime], policy: Policy | None = None):
        self.clock = clock
        self.policy = policy or Policy()

    def check(self, number: str, channel: str, purpose: str, *, caller_id: str | None,
              at: datetime | None = None, subject: str | None = None,
              agent_reserved: bool = False, fallback_tz: str = "UTC",
              policy: Policy | None = None) -> Decision:
        """May ``number`` (E.164) be contacted on ``channel`` for ``purpose`` at ``at`` (default
        now)? ValueError for an unknown channel or purpose."""
        at = at or self.clock()
        attempt = Attempt(at=at, channel=channel, purpose=purpose, caller_id=caller_id,
                          subject=subject, agent_reserved=agent_reserved,
                          fallback_tz=fallback_tz)
        return decide(self._facts(number, at), attempt, policy or self.policy)

    def admit(self, number: str, channel: str, purpose: str, *, key: str,
              caller_id: str | None, subject: str | None = None,
              agent_reserved: bool = False, fallback_tz: str = "UTC",
              policy: Policy | None = None) -> Decision:
        """``check`` now, then remember the contact under ``key`` (what places it: a callback
        attempt, a text's idempotency key) or audit the refusal. A contact already admitted
        under ``key`` (a retried job) is admitted again without counting twice."""
        now = self.clock()
        facts = self._facts(number, now)
        if any(contact.key == key for contact in facts.contacts):
            return Decision(True)
        attempt = Attempt(at=now, channel=channel, purpose=purpose, caller_id=caller_id,
                          subject=subject, agent_reserved=agent_reserved,
                          fallback_tz=fallback_tz)
        decision = decide(facts, attempt, policy or self.policy)
        if decision.allowed:
            store.record_contact(number, Contact(at=now, channel=channel, purpose=purpose,
                                                 subject=subject, key=key))
        else:
            store.record_refusal(number, key, now, channel, purpose, decision.reasons)
            log.info("%s %s to %s refused: %s", channel, ref(key), mask_number(number),
                     ", ".join(decision.reasons))
        return decision

    @staticmethod
    def _facts(number: str, at: datetime) -> RecipientFacts:
        """What storage knows of ``number``: one read of the opt-out list, one Query."""
        opted_out = frozenset() if may_contact(number) else frozenset({ALL_CHANNELS})
        return store.facts_for(number, at, opted_out)

    def blocked(self, number: str, channel: str) -> tuple[str, ...]:
        """Why ``number`` may not be contacted on ``channel`` for good (opted out, on our
        do-not-call list), or ``()``: what a form or a flow asks before it offers a call or a
        text, so that no path offers what the gate would refuse later."""
        decision = self.check(number, channel, REQUESTED, caller_id="(set)")
        return () if decision.allowed or decision.next_allowed_at else decision.reasons

    def contact_ended(self, number: str, key: str, outcome: str) -> None:
        """How an admitted contact ended (``abandoned`` holds the number for 72 h)."""
        store.set_contact_outcome(number, key, outcome)
