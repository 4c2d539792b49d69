"""A campaign as the domain sees it: what it dials or texts, when, how it retries, and its
lifecycle. Plain frozen dataclasses and pure functions (``store.campaigns`` reads and writes
them; nothing here knows DynamoDB or Twilio).

Lifecycle (the states of Amazon Connect's outbound campaigns, with *scheduled* for a start date
in the future)::

    draft --start--> scheduled --(starts_at reached: the job)--> running
    running --pause--> paused --resume--> running
    draft | scheduled | running | paused --stop--> stopped
    running --(every contact final, or ends_at passed: the job)--> completed

``transition`` is the one owner of those arrows; ``LifecycleError`` (a 409 at the API) for any
other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from chalicelib.compliance.rules import DEFAULT_WINDOW

# ---- kinds: how a contact is reached (see ../shared/docs/OUTBOUND.md, "anchors")
AGENTLESS = "agentless"  # a published flow plays on answer: message, survey, "press 1"
PREVIEW = "preview"  # an agent sees the contact first and accepts or skips
PROGRESSIVE = "progressive"  # one number per free agent
PREDICTIVE = "predictive"  # dials ahead of free agents, kept under an abandonment target
SMS_KIND = "sms"  # a templated text; replies are read as answers
KINDS = (AGENTLESS, PREVIEW, PROGRESSIVE, PREDICTIVE, SMS_KIND)
AGENT_KINDS = (PREVIEW, PROGRESSIVE, PREDICTIVE)

# ---- lifecycle
DRAFT = "draft"
SCHEDULED = "scheduled"
RUNNING = "running"
PAUSED = "paused"
COMPLETED = "completed"
STOPPED = "stopped"
STATUSES = (DRAFT, SCHEDULED, RUNNING, PAUSED, COMPLETED, STOPPED)
FINAL = (COMPLETED, STOPPED)
LIVE = (SCHEDULED, RUNNING)  # what the job looks at every minute

# ---- one attempt's outcome (the retry policy's keys) and what answering-machine detection does
BUSY = "busy"
NO_ANSWER = "no_answer"
MACHINE = "machine"
FAILED = "failed"
RETRYABLE = (BUSY, NO_ANSWER, MACHINE, FAILED)
HANG_UP = "hangup"  # a machine answered: hang up
LEAVE_MESSAGE = "message"  # a machine answered: wait for the beep (DetectMessageEnd), speak

# Ring at least 15 s (FTC TSR 16 CFR 310.4(b)(1)(iv); Ofcom) and at most 60 s (Amazon Connect's
# ring timeout range; Twilio's Timeout goes to 600 s but nobody waits that long).
MIN_RING_SECONDS, MAX_RING_SECONDS = 15, 60


class LifecycleError(ValueError):
    """The action does not apply to the campaign's status (``status``, ``action``)."""

    def __init__(self, status: str, action: str):
        super().__init__(f"a {status} campaign cannot {action}")
        self.status, self.action = status, action


@dataclass(frozen=True)
class RetryRule:
    """After an attempt ends with this outcome, try again ``delay_seconds`` later, up to
    ``max_attempts`` attempts in all (the first one included)."""

    delay_seconds: int
    max_attempts: int


# VICIdial recycles busy and no-answer leads after 120 s to 12 h with 1-10 attempts; these sit
# inside that range and keep well under the default frequency caps (4 calls in 2 days).
DEFAULT_RETRIES: dict[str, RetryRule] = {
    BUSY: RetryRule(1800, 3),
    NO_ANSWER: RetryRule(3600, 3),
    MACHINE: RetryRule(4 * 3600, 2),
    FAILED: RetryRule(3600, 2),
}


@dataclass(frozen=True)
class Campaign:
    """One campaign. Times are aware UTC; ``window`` is weekly hours (``hours.weekly`` form) in
    the *recipient's* local time, applied by the compliance gate in every zone the number may
    be in; ``caller_id`` is E.164 and always sent.

    - ``flow_id``: the published flow an agentless call runs on answer;
    - ``queue_id``: where "press 1 to talk to us" goes (agentless) and whose agents serve an
      agent campaign (preview, progressive, predictive);
    - ``template``: the text of an SMS campaign (a template under ``templates/campaigns/``);
    - ``machine``: ``hangup`` or ``message`` (``machine_template`` after the beep);
    - ``abandon_template``: what a person hears when no agent is free (who we are, a number to
      call back, how to opt out);
    - ``abandon_target`` (share of live answers) over ``abandon_window_hours`` (720 = 30 days,
      the US rule; 24 for Ofcom's);
    - ``weight``: its share of the account's calls (or texts) per second against other
      campaigns running at once;
    - ``compliance``: overrides of the gate's policy (``campaigns.policy``).
    """

    campaign_id: str
    name: str
    kind: str
    purpose: str
    list_id: str
    caller_id: str
    created_at: datetime
    status: str = DRAFT
    version: int = 1
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    window: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_WINDOW))
    flow_id: str | None = None
    queue_id: str | None = None
    template: str | None = None
    language: str = "en-US"
    machine: str = HANG_UP
    machine_template: str | None = None
    abandon_template: str = "abandon"
    retries: dict[str, RetryRule] = field(default_factory=lambda: dict(DEFAULT_RETRIES))
    ring_seconds: int = 30
    abandon_target: float = 0.03
    abandon_window_hours: int = 720
    max_dial_level: float = 3.0
    weight: float = 1.0
    preview_seconds: int = 60
    wrap_up_seconds: int = 10
    fallback_tz: str = "UTC"
    compliance: dict = field(default_factory=dict)
    subject_attribute: str | None = None  # the list column naming a debt (collections)
    # a reminder batch the hourly job made: its policy and step (days from the due date)
    reminder_policy: str | None = None
    reminder_step: int | None = None
    # the contact list copied into the campaign so far (``store.campaigns.load_contacts``)
    loaded: int = 0
    load_cursor: str | None = None
    load_done: bool = False
    load_pending: str | None = None  # a page being written: its last number
    load_lease_until: datetime | None = None  # until then, nobody else writes that page
    updated_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def channel(self) -> str:
        return "sms" if self.kind == SMS_KIND else "voice"

    @property
    def with_agents(self) -> bool:
        return self.kind in AGENT_KINDS


# action -> {from status: to status}; "start" and "resume" may land in scheduled (see below)
_ARROWS = {
    "start": {DRAFT: SCHEDULED},
    "pause": {RUNNING: PAUSED, SCHEDULED: PAUSED},
    "resume": {PAUSED: SCHEDULED},
    "stop": {DRAFT: STOPPED, SCHEDULED: STOPPED, RUNNING: STOPPED, PAUSED: STOPPED},
    "run": {SCHEDULED: RUNNING},  # the job, once starts_at has come
    "complete": {RUNNING: COMPLETED, SCHEDULED: COMPLETED, PAUSED: COMPLETED},
}
ACTIONS = ("start", "pause", "resume", "stop")  # what a person may ask for


def transition(campaign: Campaign, action: str, now: datetime) -> Campaign:
    """The campaign after ``action`` at ``now`` (aware). ``start`` and ``resume`` go to
    ``running`` at once when the start date has come (else ``scheduled``). ``LifecycleError``
    when the action does not apply; ValueError for an unknown action."""
    if action not in _ARROWS:
        raise ValueError(f"unknown action {action!r}")
    target = _ARROWS[action].get(campaign.status)
    if target is None:
        raise LifecycleError(campaign.status, action)
    if target == SCHEDULED and (campaign.starts_at is None or campaign.starts_at <= now):
        target = RUNNING
    changes: dict = {"status": target, "updated_at": now}
    if target == RUNNING and campaign.started_at is None:
        changes["started_at"] = now
    if target in FINAL:
        changes["ended_at"] = now
    return replace(campaign, **changes)


def due_to_run(campaign: Campaign, now: datetime) -> bool:
    """A scheduled campaign whose start date has come."""
    return campaign.status == SCHEDULED and (campaign.starts_at is None
                                             or campaign.starts_at <= now)


def past_end(campaign: Campaign, now: datetime) -> bool:
    return campaign.ends_at is not None and now >= campaign.ends_at
