"""One person in a campaign: where they stand, how each attempt ended, what they answered.

A contact moves ``waiting`` (in the due index, until ``due_at``) -> ``dialing`` (claimed by one
job run, to be placed before ``dial_by``) -> ``calling`` (a call or text is out: ``call_sid``)
-> ``waiting`` again (a retry) or ``done`` with a ``disposition``. Every contact not done stays
in the due index (``looked_at_again``), so a claim left by a run that died, or a call whose
final status was lost, is found again by the job without a Scan. Every change is conditional
on ``version`` (``store.campaigns``), so ticks racing, Twilio's retried webhooks and a person
pressing stop cannot dial one attempt twice or count one answer twice.

``after_attempt`` is the one owner of the retry policy: what an attempt's outcome leads to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.campaigns.campaign import RETRYABLE, RetryRule

WAITING = "waiting"
DIALING = "dialing"
CALLING = "calling"
DONE = "done"
CONTACT_STATUSES = (WAITING, DIALING, CALLING, DONE)

# dispositions: how a contact ended (the results CSV's ``disposition`` column)
ANSWERED = "answered"  # a person answered: the flow ran, or an agent talked to them
ABANDONED = "abandoned"  # a person answered and no agent was free within 2 s
MESSAGE_LEFT = "message_left"  # a machine answered and took the templated message
INVALID_NUMBER = "invalid_number"  # Twilio 21211/21217/13224/21214
OPTED_OUT = "opted_out"  # the person opted out (STOP, 21610) or was already
BLOCKED = "blocked"  # the compliance gate refuses for good (do-not-call, no consent...)
SKIPPED = "skipped"  # a preview agent skipped it
SENT = "sent"  # an SMS campaign's text went out
DELIVERED = "delivered"
UNDELIVERED = "undelivered"
REPLIED = "replied"  # an SMS campaign's text got an answer

# Amazon Connect's dial requests expire "a few minutes" after they are made: a request that
# waited longer (a slow tick, Twilio backing off) is dropped, never dialled late.
DIAL_EXPIRY = timedelta(minutes=2)
# A claim still ``dialing`` this long after its expiry was left by a run that died (a Lambda
# timeout): the job looks at it again. The margin is far above one REST request's 5 s, so the
# run that claimed it has either dialled by then or can no longer.
STALE_DIAL = timedelta(minutes=1)
# A call still ``calling`` this long after it was placed lost its final status (Twilio gave up
# retrying): the job asks Twilio how it ended. Twilio's calls last at most 4 hours.
CALL_CHECK = timedelta(hours=4)


def looked_at_again(status: str, now: datetime, dial_by: datetime | None = None,
                    due_at: datetime | None = None) -> datetime | None:
    """When the job reads a contact again (its place in the due index): ``waiting`` at
    ``due_at`` (default now), ``dialing`` once its claim is stale, ``calling`` once its final
    status is overdue; ``done``: never (None)."""
    if status == WAITING:
        return due_at or now
    if status == DIALING:
        return (dial_by or now) + STALE_DIAL
    if status == CALLING:
        return due_at or now + CALL_CHECK
    return None


@dataclass(frozen=True)
class CampaignContact:
    """A contact of ``campaign_id`` (``phone`` E.164, its key): the list's columns (``name``,
    ``language``, ``timezone``, free ``attributes`` for templates), ``attempts`` made so far,
    the last ``outcome`` (``busy``, ``no_answer``, ``machine``, ``failed``, ``human``...), the
    final ``disposition``, survey ``answers`` and ``history``: ``[{at, attempt, outcome}]``."""

    campaign_id: str
    phone: str
    status: str = WAITING
    version: int = 1
    attempts: int = 0
    name: str | None = None
    language: str | None = None
    timezone: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    due_at: datetime | None = None
    dial_by: datetime | None = None
    call_sid: str | None = None
    outcome: str | None = None
    disposition: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    history: tuple[dict[str, Any], ...] = ()
    agent_id: str | None = None
    updated_at: datetime | None = None

    @property
    def contact_id(self) -> str:
        """The phone's digits: what our webhook URLs carry (a ``+`` does not travel well)."""
        return self.phone.lstrip("+")

    @property
    def attempt_key(self) -> str:
        """What the compliance gate and the claims know this attempt by."""
        return f"campaign:{self.campaign_id}:{self.contact_id}:{self.attempts}"


def phone_of(contact_id: str) -> str:
    """The E.164 number of a ``contact_id`` (ValueError if it is not 6-15 digits)."""
    if not (contact_id.isascii() and contact_id.isdigit() and 6 <= len(contact_id) <= 15):
        raise ValueError("not a contact id")
    return "+" + contact_id


@dataclass(frozen=True)
class NextStep:
    """What follows an attempt: ``status`` (waiting or done), ``due_at`` for a retry,
    ``disposition`` when done."""

    status: str
    due_at: datetime | None = None
    disposition: str | None = None


def after_attempt(attempts: int, outcome: str, retries: dict[str, RetryRule],
                  now: datetime) -> NextStep:
    """The contact's next step after attempt number ``attempts`` ended with ``outcome``: a
    retryable outcome (busy, no_answer, machine, failed) waits ``delay_seconds`` and tries
    again until ``max_attempts``; anything else (and the last attempt) is final, with the
    outcome as disposition."""
    rule = retries.get(outcome) if outcome in RETRYABLE else None
    if rule is not None and attempts < rule.max_attempts:
        return NextStep(WAITING, due_at=now + timedelta(seconds=rule.delay_seconds))
    return NextStep(DONE, disposition=outcome)
