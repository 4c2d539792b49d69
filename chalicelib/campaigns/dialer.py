"""Placing one campaign call: the gate, the account's calls per second, Twilio, and what each
of Twilio's refusals means for the contact.

``VoiceDialer.place`` takes a contact the runner has claimed (``dialing``, with ``dial_by``):

1. past ``dial_by`` it is released, never dialled late (Amazon Connect's dial-request expiry);
   the campaign's ``ContactCheck`` may end it (a bill paid meanwhile: ``checks.py``);
2. the compliance gate admits the attempt (key ``campaign:<id>:<digits>:<attempt>``, so a
   retried run is one contact) or refuses it: for now (calling window, caps: the contact waits
   until ``next_allowed_at``) or for good (opted out, do-not-call, no consent: done);
3. a slot under the account's calls per second (``throttle.RateLimiter`` over a DynamoDB
   counter every Lambda shares) — Twilio queues calls beyond 1 CPS instead of refusing them,
   so pacing ourselves is what keeps a dial on time;
4. the dial key (``recovery.dial_key``), so a claim the job takes over from a run that seems
   dead is never dialled by both;
5. the REST call, with answering-machine detection (``DetectMessageEnd`` when the campaign
   leaves a message after the beep; asynchronous for an agentless campaign that hangs up on
   machines) and the campaign's ring time (15-60 s).

Twilio's refusals (``../shared/docs/OUTBOUND.md``): 20429 backs the whole run off; 21211,
21214, 21217 and 13224 (not a valid, callable number) end the contact; 21216 (a blocked
destination) ends it as blocked; 21610 (the number replied STOP) opts it out everywhere; any
other 4xx is a failed attempt (retried by the campaign's rule); 5xx and network errors release
the contact for a later run without counting an attempt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.campaigns.campaign import AGENTLESS, FAILED, HANG_UP, LEAVE_MESSAGE, Campaign
from chalicelib.campaigns.checks import ContactCheck, KeepEveryone
from chalicelib.campaigns.contact import (
    BLOCKED,
    CALLING,
    DONE,
    INVALID_NUMBER,
    OPTED_OUT,
    WAITING,
    CampaignContact,
    after_attempt,
)
from chalicelib.campaigns.policy import policy_of
from chalicelib.campaigns.recovery import dial_key
from chalicelib.campaigns.throttle import RateLimiter
from chalicelib.compliance.gate import ComplianceGate
from chalicelib.compliance.rules import OPTED_OUT as GATE_OPTED_OUT
from chalicelib.compliance.rules import VOICE
from chalicelib.consent import record_opt_out
from chalicelib.logs import mask_number
from chalicelib.settings import Settings
from chalicelib.store import campaigns as store
from chalicelib.store import claims
from chalicelib.telephony.rest import Connector

log = logging.getLogger(__name__)

TOO_MANY_REQUESTS = 20429
INVALID_CODES = frozenset({21211, 21214, 21217, 13224})
BLOCKED_CODES = frozenset({21216})
UNSUBSCRIBED = 21610
BACK_OFF = timedelta(seconds=30)  # after 20429: the contact waits, the run stops dialling
RETRY_LATER = timedelta(seconds=60)  # after a 5xx or a network error

# place() outcomes (the runner's tallies)
PLACED, EXPIRED, DEFERRED, REFUSED, BACKOFF, ERROR, ENDED, SKIPPED = (
    "placed", "expired", "deferred", "refused", "backoff", "error", "ended", "skipped")


def answer_url(base: str, contact: CampaignContact, attempt: int, step: str) -> str:
    """Our webhook for one attempt: ``answer`` (TwiML on answer) or ``status`` (final)."""
    return (f"{base}/twilio/campaigns/{contact.campaign_id}/calls/{contact.contact_id}/"
            f"{attempt}/{step}")


def attempt_key(contact: CampaignContact, attempt: int) -> str:
    """What the gate and the claims know attempt number ``attempt`` by."""
    return replace(contact, attempts=attempt).attempt_key


class VoiceDialer:
    """``clock``: aware UTC now; ``limiter``: the account's calls per second; ``sleep``:
    waits for a slot (a simulated clock's in tests)."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime], connector: Connector,
                 gate: ComplianceGate, limiter: RateLimiter,
                 sleep: Callable[[float], None] = time.sleep,
                 check: ContactCheck | None = None):
        self.settings, self.clock, self.connector = settings, clock, connector
        self.gate, self.limiter, self.sleep = gate, limiter, sleep
        self.check = check or KeepEveryone()

    def place(self, campaign: Campaign, contact: CampaignContact, *,
              agent_id: str | None = None) -> str:
        """Place the next attempt to ``contact`` (claimed: ``dialing``); ``agent_id``: the
        agent reserved for it (preview), which lifts the abandoned-call hold. Returns one of
        ``placed``, ``expired``, ``deferred``, ``refused``, ``backoff``, ``error``, ``ended``."""
        now = self.clock()
        if contact.dial_by is not None and now > contact.dial_by:
            return self._release(contact, now, now, EXPIRED)
        verdict = self.check.before_contact(campaign, contact, now)
        if verdict.skip:  # no longer wanted (a bill paid meanwhile): never dialled
            self._end(contact, now, verdict.skip, "checked before the call")
            return SKIPPED
        attempt = contact.attempts + 1
        decision = self.gate.admit(
            contact.phone, VOICE, campaign.purpose, key=attempt_key(contact, attempt),
            caller_id=campaign.caller_id, subject=self._subject(campaign, contact),
            agent_reserved=agent_id is not None,
            fallback_tz=contact.timezone or campaign.fallback_tz, policy=policy_of(campaign))
        if not decision.allowed:
            if decision.next_allowed_at is not None:
                return self._release(contact, now, decision.next_allowed_at, DEFERRED)
            disposition = OPTED_OUT if GATE_OPTED_OUT in decision.reasons else BLOCKED
            self._end(contact, now, disposition, ",".join(decision.reasons))
            return REFUSED
        self._wait_for_slot()
        now = self.clock()
        if contact.dial_by is not None and now > contact.dial_by:
            return self._release(contact, now, now, EXPIRED)
        if not claims.claim(dial_key(contact), now):
            return EXPIRED  # the job took this claim over (the run was too slow): it decides
        base = self.settings.public_base_url
        # An agentless call that hangs up on machines need not keep a person waiting for the
        # verdict (about 1.2 s of silence after their hello): the flow starts at once and the
        # verdict, posted later, hangs up on a machine. Leaving a message needs the beep, and
        # an agent campaign the verdict before it spends an agent: both wait for it.
        async_amd = campaign.kind == AGENTLESS and campaign.machine == HANG_UP
        try:
            sid = self.connector.place_call(
                to=contact.phone, from_=campaign.caller_id,
                url=answer_url(base, contact, attempt, "answer"),
                status_callback=answer_url(base, contact, attempt, "status"),
                machine_detection="DetectMessageEnd" if campaign.machine == LEAVE_MESSAGE
                else "Enable",
                ring_seconds=campaign.ring_seconds,
                amd_callback=answer_url(base, contact, attempt, "amd") if async_amd else None)
        except Exception as exc:  # noqa: BLE001 - every refusal of Twilio's has a meaning
            return self._refused_by_twilio(campaign, contact, attempt, exc, now)
        store.add_ringing(campaign.campaign_id, 1)
        history = contact.history + ({"at": now.isoformat(), "attempt": attempt,
                                      "event": "dialled"},)
        moved = store.change_contact(contact, now, status=CALLING, attempts=attempt,
                                     call_sid=sid, dial_by=None, agent_id=agent_id,
                                     history=history)
        if moved is None:  # its final status came first (a very short call): already settled
            log.info("campaign %s: %s settled before it was marked calling",
                     campaign.campaign_id, mask_number(contact.phone))
        return PLACED

    def _wait_for_slot(self) -> None:
        while True:
            wait = self.limiter.wait(self.clock().timestamp())
            if wait <= 0:
                return
            self.sleep(wait)

    @staticmethod
    def _subject(campaign: Campaign, contact: CampaignContact) -> str | None:
        if campaign.subject_attribute:
            return contact.attributes.get(campaign.subject_attribute) or None
        return None

    @staticmethod
    def _release(contact: CampaignContact, now: datetime, due_at: datetime,
                 outcome: str) -> str:
        """Back to waiting until ``due_at``, no attempt counted."""
        store.change_contact(contact, now, status=WAITING, due_at=due_at, dial_by=None)
        return outcome

    @staticmethod
    def _end(contact: CampaignContact, now: datetime, disposition: str, detail: str) -> None:
        history = contact.history + ({"at": now.isoformat(), "event": disposition,
                                      "detail": detail},)
        store.change_contact(contact, now, status=DONE, disposition=disposition,
                             outcome=disposition, dial_by=None, history=history)

    def _refused_by_twilio(self, campaign: Campaign, contact: CampaignContact, attempt: int,
                           exc: Exception, now: datetime) -> str:
        code = getattr(exc, "code", None)
        status = getattr(exc, "status", None)
        log.warning("campaign %s: Twilio refused the call to %s (%s)", campaign.campaign_id,
                    mask_number(contact.phone), code or type(exc).__name__)
        if code == TOO_MANY_REQUESTS:
            return self._release(contact, now, now + BACK_OFF, BACKOFF)
        if code in INVALID_CODES:
            self._end(contact, now, INVALID_NUMBER, f"twilio {code}")
            return ENDED
        if code in BLOCKED_CODES:
            self._end(contact, now, BLOCKED, f"twilio {code}")
            return ENDED
        if code == UNSUBSCRIBED:
            record_opt_out(contact.phone, f"carrier:{code}", now, channel=VOICE)
            self._end(contact, now, OPTED_OUT, f"twilio {code}")
            return ENDED
        if isinstance(status, int) and 400 <= status < 500:
            step = after_attempt(attempt, FAILED, campaign.retries, now)
            history = contact.history + ({"at": now.isoformat(), "attempt": attempt,
                                          "outcome": FAILED, "detail": f"twilio {code}"},)
            store.change_contact(contact, now, status=step.status, due_at=step.due_at,
                                 disposition=step.disposition, outcome=FAILED,
                                 attempts=attempt, dial_by=None, history=history)
            return ENDED if step.status == DONE else DEFERRED
        return self._release(contact, now, now + RETRY_LATER, ERROR)
