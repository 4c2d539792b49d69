"""The compliance rules every outbound call or text obeys, as one pure decision.

``decide`` takes what is known about a recipient (``RecipientFacts``: opt-out, do-not-call
entries, consents, recent contacts), the contact about to happen (``Attempt``) and the rules in
force (``Policy``), and answers ``Decision(allowed, reasons, next_allowed_at)``. It reads no
storage and no clock: ``gate.py`` gathers the facts and records what happened.

Defaults and their sources (``../shared/docs/OUTBOUND.md`` has the wording):

* calling window 08:00–21:00 in the recipient's local time, in *every* zone the number may be in
  (FCC 47 CFR 64.1200(c)(1), FTC TSR 16 CFR 310.4(c)); stricter windows by country, and dates
  with no contact at all;
* a number that opted out or is on a do-not-call list gets nothing on that channel (or any, for
  a global entry): FCC 47 CFR 64.1200(d), the 2024 consent-revocation order;
* marketing needs recorded consent on the channel (TCPA for autodialled calls and texts;
  China MIIT Order 31 for commercial texts);
* frequency caps per recipient across campaigns: 4 calls in 2 days and 6 in 14 days by default
  (a voicemail left counts), texts separately;
* collections: at most 7 calls about one debt in 7 days (CFPB Regulation F, 12 CFR
  1006.14(b)(2));
* no new call within 72 hours of a call we abandoned, unless an agent is reserved for it
  (Ofcom's persistent-misuse statement);
* caller ID always set (TSR 16 CFR 310.4(a)(8)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.hours.calling_window import customer_time_zones
from chalicelib.hours.schedule import HORIZON_DAYS, WeeklySchedule, require_aware, weekly_schedule

VOICE = "voice"
SMS = "sms"
CHANNELS = (VOICE, SMS)
ALL_CHANNELS = "all"  # a do-not-call entry or opt-out that covers every channel

INFORMATIONAL = "informational"  # a notice, a reminder of something due
MARKETING = "marketing"
COLLECTIONS = "collections"
# Asked for by the recipient: the callback they requested, the reply to their own call or form
# (a confirmation, "we missed you"), a text to one of our agents. No frequency cap or
# abandoned-call hold applies, and a text answering them goes out at once; a call still keeps
# to the calling window.
REQUESTED = "requested"
PURPOSES = (INFORMATIONAL, MARKETING, COLLECTIONS, REQUESTED)

# Why a contact was refused: the ``reasons`` of a ``Decision``, in the order checked.
NO_CALLER_ID = "no_caller_id"
OPTED_OUT = "opted_out"
DO_NOT_CALL = "do_not_call"
NO_CONSENT = "no_consent"
RESTRICTED_DATE = "restricted_date"
OUTSIDE_WINDOW = "outside_calling_window"
FREQUENCY_CAP = "frequency_cap"
DEBT_CALL_CAP = "debt_call_cap"
ABANDONED_RECENTLY = "abandoned_recently"
NO_WINDOW = "no_calling_window"  # the window never opens within the search horizon

DEFAULT_WINDOW = {"mon-sun": ["08:00-21:00"]}


@dataclass(frozen=True)
class Cap:
    """At most ``count`` contacts on ``channel`` in any ``days`` days."""

    channel: str
    count: int
    days: int


@dataclass(frozen=True)
class Policy:
    """The rules in force for one campaign or hotline (every field has the default above).

    - ``window``: weekly hours (``hours.weekly`` form) in the recipient's local time;
    - ``country_windows``: stricter hours by ISO country (the recipient's number);
    - ``restricted_dates``: YYYY-MM-DD local dates with no contact at all;
    - ``consent_required``: the purposes that need a recorded consent;
    - ``caps``: frequency caps; ``debt_cap``: (count, days) per debt, for collections calls;
    - ``abandoned_hold``: no call this long after an abandoned one, unless an agent is reserved.
    """

    window: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_WINDOW))
    country_windows: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    restricted_dates: frozenset[str] = frozenset()
    consent_required: frozenset[str] = frozenset({MARKETING})
    caps: tuple[Cap, ...] = (Cap(VOICE, 4, 2), Cap(VOICE, 6, 14))
    debt_cap: tuple[int, int] | None = (7, 7)
    abandoned_hold: timedelta = timedelta(hours=72)

    def window_for(self, country: str | None) -> dict[str, list[str]]:
        return self.country_windows.get(country or "", self.window)


@dataclass(frozen=True)
class Contact:
    """One contact we made: ``at`` (aware UTC), ``channel``, ``purpose``; ``outcome`` for calls
    (``abandoned`` matters here); ``subject``: what it was about (a debt's account id);
    ``key``: what placed it (a callback attempt, a text's idempotency key)."""

    at: datetime
    channel: str
    purpose: str = INFORMATIONAL
    outcome: str | None = None
    subject: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class RecipientFacts:
    """What storage knows of one number (E.164). ``opted_out``/``do_not_call``: the channels
    blocked (``ALL_CHANNELS`` for every one); ``consents``: (purpose, channel) pairs granted and
    not revoked; ``contacts``: recent contacts, any order."""

    number: str
    opted_out: frozenset[str] = frozenset()
    do_not_call: frozenset[str] = frozenset()
    consents: frozenset[tuple[str, str]] = frozenset()
    contacts: tuple[Contact, ...] = ()
    country: str | None = None


@dataclass(frozen=True)
class Attempt:
    """The contact about to be made: at ``at`` (aware), on ``channel``, for ``purpose``, shown
    as ``caller_id`` (E.164); ``subject``: the debt (collections); ``agent_reserved``: a person
    is waiting for this call (lifts the abandoned-call hold); ``fallback_tz``: the zone to use
    when the number says nothing (the hotline's)."""

    at: datetime
    channel: str
    purpose: str
    caller_id: str | None
    subject: str | None = None
    agent_reserved: bool = False
    fallback_tz: str = "UTC"


@dataclass(frozen=True)
class Decision:
    """``allowed``; ``reasons`` for a refusal (codes above, first found first); and
    ``next_allowed_at``: when the same contact would pass the time-bound rules (None: never by
    waiting — an opt-out, a do-not-call entry, missing consent or caller ID)."""

    allowed: bool
    reasons: tuple[str, ...] = ()
    next_allowed_at: datetime | None = None


def decide(facts: RecipientFacts, attempt: Attempt, policy: Policy | None = None) -> Decision:
    """Apply every rule of ``policy`` (default: ``Policy()``) to ``attempt``. ValueError for an
    unknown channel or purpose, or a naive time."""
    policy = policy or Policy()
    if attempt.channel not in CHANNELS:
        raise ValueError(f"unknown channel {attempt.channel!r}")
    if attempt.purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {attempt.purpose!r}")
    require_aware(attempt.at)
    lasting = list(_lasting_refusals(facts, attempt, policy))
    waits = dict(_time_bound_refusals(facts, attempt, policy, attempt.at))
    reasons = tuple(lasting + list(waits))
    if not reasons:
        return Decision(True)
    if lasting:
        return Decision(False, reasons, None)
    later = next_allowed(facts, attempt, policy)
    return Decision(False, reasons, later)


def next_allowed(facts: RecipientFacts, attempt: Attempt, policy: Policy,
                 horizon_days: int = HORIZON_DAYS) -> datetime | None:
    """The earliest instant at or after ``attempt.at`` when the time-bound rules (window, dates,
    caps, holds) all pass, or None within ``horizon_days``: each failing rule says when it
    would pass, and the search moves to the latest of those until none fails."""
    t = attempt.at
    limit = attempt.at + timedelta(days=horizon_days)
    while t <= limit:
        waits = dict(_time_bound_refusals(facts, attempt, policy, t))
        if not waits:
            return t
        if any(when is None for when in waits.values()):
            return None
        t = max(when for when in waits.values() if when is not None)
    return None


def _lasting_refusals(facts: RecipientFacts, attempt: Attempt, policy: Policy) -> Iterable[str]:
    """Refusals that waiting does not cure."""
    if not attempt.caller_id:
        yield NO_CALLER_ID
    if facts.opted_out & {attempt.channel, ALL_CHANNELS}:
        yield OPTED_OUT
    if facts.do_not_call & {attempt.channel, ALL_CHANNELS}:
        yield DO_NOT_CALL
    if attempt.purpose in policy.consent_required and \
            (attempt.purpose, attempt.channel) not in facts.consents:
        yield NO_CONSENT


def _time_bound_refusals(facts: RecipientFacts, attempt: Attempt, policy: Policy,
                         at: datetime) -> Iterable[tuple[str, datetime | None]]:
    """Refusals that pass with time, each with the instant it would pass (None: not within the
    horizon)."""
    if attempt.purpose == REQUESTED and attempt.channel == SMS:
        return  # an answer to the recipient's own request: now, not in the morning
    schedules = _windows(facts, attempt, policy)
    closed = [s for s in schedules if not s.is_open(at)]
    if closed:
        limit = at + timedelta(days=HORIZON_DAYS)
        openings = [s.next_opening(at, limit) for s in closed]
        when = None if any(o is None for o in openings) else max(o for o in openings if o)
        reason = RESTRICTED_DATE if _restricted_today(facts, attempt, policy, at) \
            else OUTSIDE_WINDOW
        yield reason, when
    if attempt.purpose == REQUESTED:
        return  # the recipient asked: no cap, no hold after an abandoned call
    for cap in policy.caps:
        if cap.channel == attempt.channel:
            counted = [c.at for c in facts.contacts if c.channel == cap.channel]
            when = _cap_frees_at(counted, cap.count, timedelta(days=cap.days), at)
            if when is not None:
                yield FREQUENCY_CAP, when
    if attempt.purpose == COLLECTIONS and attempt.channel == VOICE and policy.debt_cap \
            and attempt.subject:
        count, days = policy.debt_cap
        about = [c.at for c in facts.contacts if c.channel == VOICE
                 and c.purpose == COLLECTIONS and c.subject == attempt.subject]
        when = _cap_frees_at(about, count, timedelta(days=days), at)
        if when is not None:
            yield DEBT_CALL_CAP, when
    if attempt.channel == VOICE and not attempt.agent_reserved:
        abandoned = [c.at for c in facts.contacts
                     if c.channel == VOICE and c.outcome == "abandoned"
                     and c.at <= at < c.at + policy.abandoned_hold]
        if abandoned:
            yield ABANDONED_RECENTLY, max(abandoned) + policy.abandoned_hold


def _cap_frees_at(times: list[datetime], count: int, span: timedelta,
                  at: datetime) -> datetime | None:
    """None if fewer than ``count`` of ``times`` fall in the ``span`` before ``at``; else when
    enough of them age out for one more."""
    recent = sorted(t for t in times if at - span < t <= at)
    if len(recent) < count:
        return None
    return recent[len(recent) - count] + span


def _windows(facts: RecipientFacts, attempt: Attempt, policy: Policy) -> list[WeeklySchedule]:
    """The calling window in every zone the recipient may be in, closed on restricted dates."""
    week = policy.window_for(facts.country)
    zones = customer_time_zones(facts.number, attempt.fallback_tz)
    return [weekly_schedule(zone, week, policy.restricted_dates) for zone in zones]


def _restricted_today(facts: RecipientFacts, attempt: Attempt, policy: Policy,
                      at: datetime) -> bool:
    if not policy.restricted_dates:
        return False
    zones = customer_time_zones(facts.number, attempt.fallback_tz)
    return any(at.astimezone(ZoneInfo(z)).date().isoformat() in policy.restricted_dates
               for z in zones)
