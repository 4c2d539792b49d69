"""What happens when a campaign call is answered and when it ends (Twilio's two webhooks).

**Answered** (``answered``: TwiML, synchronous AMD's verdict in ``AnsweredBy``):

- a machine (``machine_*``, ``fax``): hang up, or with the campaign's ``message`` policy speak
  the templated message after the beep (``DetectMessageEnd`` waited for it) and hang up;
- a person (``human`` or ``unknown``): an *agentless* campaign runs its published flow (a
  message, a survey whose answers land on the contact, "press 1" into a queue); an *agent*
  campaign bridges them at once into a ready agent's open line (``Seats.bridge``). With nobody
  free they hear the templated abandon message — who we are, a number to call back, how to opt
  out (FTC TSR 16 CFR 310.4(b)(4)(iii); Ofcom) — and the call counts as abandoned: in the
  campaign's figures (the pacer's target), and at the gate (no re-call for 72 h).

With asynchronous AMD (agentless campaigns that hang up on machines) the answer comes with no
verdict and runs the flow; ``machine_verdict`` hangs up on a machine when the verdict arrives.

**Ended** (``ended``: the status callback): the attempt's outcome (busy, no answer, failed,
machine, or answered) goes through the campaign's retry policy (``contact.after_attempt``) and
the figures. Both are idempotent: the answer's effects are claimed once per CallSid, and the
outcome is applied by one version-conditional write that only a contact still on that call
passes, so Twilio's retries and reordering count nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chalicelib.campaigns.campaign import (
    AGENTLESS,
    BUSY,
    FAILED,
    LEAVE_MESSAGE,
    MACHINE,
    NO_ANSWER,
    Campaign,
)
from chalicelib.campaigns.contact import (
    ABANDONED,
    ANSWERED,
    CALLING,
    DIALING,
    MESSAGE_LEFT,
    CampaignContact,
    NextStep,
    after_attempt,
    phone_of,
)
from chalicelib.campaigns.dialer import attempt_key
from chalicelib.compliance.gate import ComplianceGate
from chalicelib.logs import mask_number
from chalicelib.prompts import render_prompt
from chalicelib.store import calls as call_records
from chalicelib.store import campaigns as store
from chalicelib.store import claims
from chalicelib.telephony import twiml
from chalicelib.telephony.rest import CallGone, Connector
from chalicelib.telephony.webhook_request import VoiceRequest

log = logging.getLogger(__name__)

HUMAN = "human"
PERSON_VERDICTS = ("human", "unknown", "")  # no verdict (AMD off or undecided): a person
SETTLE_TRIES = 3  # a contact is written by the dialler and the answer too: read again on a race
STATUS_OUTCOMES = {"busy": BUSY, "no-answer": NO_ANSWER, "failed": FAILED,
                   "canceled": NO_ANSWER}


class SeatDesk(Protocol):
    """The agents on a campaign's open lines (``campaigns/seats.py``)."""

    def bridge(self, campaign: Campaign, contact: CampaignContact, call_sid: str,
               now: datetime) -> str | None: ...

    def customer_left(self, campaign_id: str, call_sid: str, now: datetime) -> None: ...


class FlowRunner(Protocol):
    """The IVR, running a published flow for a call we placed (``ivr/service.py``)."""

    def answer_outbound(self, req: VoiceRequest, flow_id: str, language: str | None,
                        customer: dict) -> str: ...

    def status(self, req: VoiceRequest) -> bool: ...


class CampaignCalls:
    """``clock``: aware UTC now; ``seats`` and ``voice`` are looked up on use (the wiring's
    parts), so a campaign with no agents never builds them."""

    def __init__(self, clock: Callable[[], datetime], gate: ComplianceGate,
                 connector: Connector, seats: Callable[[], SeatDesk],
                 voice: Callable[[], FlowRunner]):
        self.clock, self.gate, self.connector = clock, gate, connector
        self._seats, self._voice = seats, voice

    def machine_verdict(self, campaign_id: str, contact_id: str, attempt: int,
                        req: VoiceRequest) -> None:
        """Asynchronous AMD's verdict on a call already running its flow: a machine is hung
        up on (and counted once); a person goes on. LookupError for an unknown contact."""
        verdict = req.params.get("AnsweredBy", "")
        if verdict in PERSON_VERDICTS:
            return
        now = self.clock()
        _, contact = self._find(campaign_id, contact_id)
        if claims.claim(f"campaign-machine:{req.call_sid}", now):
            store.count(campaign_id, now, machine_answers=1)
        self._note(contact, attempt, req.call_sid, MACHINE, now)
        try:
            self.connector.redirect_twiml(req.call_sid, twiml.hangup())
        except CallGone:
            pass  # it ended already

    # ---- answered --------------------------------------------------------------------------
    def answered(self, campaign_id: str, contact_id: str, attempt: int,
                 req: VoiceRequest) -> str:
        """TwiML for an answered campaign call (see the module's docstring). LookupError for an
        unknown campaign or contact (the route answers a hang-up)."""
        now = self.clock()
        campaign, contact = self._find(campaign_id, contact_id)
        first = claims.claim(f"campaign-answer:{req.call_sid}", now)
        if first:
            store.add_ringing(campaign_id, -1)
        verdict = req.params.get("AnsweredBy", "")
        if verdict not in PERSON_VERDICTS:
            return self._machine(campaign, contact, req, verdict, first, now)
        if campaign.kind == AGENTLESS:
            self._note(contact, attempt, req.call_sid, HUMAN, now)
            # what the flow may read of them: the list's columns, and who is calling
            customer = {"name": contact.name, "company": campaign.name, **contact.attributes}
            return self._voice().answer_outbound(
                req, campaign.flow_id or "", contact.language or campaign.language, customer)
        bridge = self._seats().bridge(campaign, contact, req.call_sid, now)
        if first:  # after the bridge: the person's 2 s are spent on finding them an agent
            self._time_the_answer(campaign_id, contact, now)
        if bridge is not None:
            self._note(contact, attempt, req.call_sid, HUMAN, now)
            return bridge
        return self._abandon(campaign, contact, attempt, req.call_sid, first, now)

    @staticmethod
    def _time_the_answer(campaign_id: str, contact: CampaignContact, now: datetime) -> None:
        """Seconds from the dial to a person's answer, for the pacer (how long new calls ring
        before agents are needed)."""
        dialled = [entry["at"] for entry in contact.history if entry.get("event") == "dialled"]
        if not dialled:
            return  # answered before the dialler noted the dial: no time to measure
        wait = (now - datetime.fromisoformat(dialled[-1])).total_seconds()
        if 0 <= wait <= 600:
            store.count(campaign_id, now, answer_wait_seconds=round(wait), answers_timed=1)

    def _machine(self, campaign: Campaign, contact: CampaignContact, req: VoiceRequest,
                 verdict: str, first: bool, now: datetime) -> str:
        if first:
            store.count(campaign.campaign_id, now, machine_answers=1)
        message = campaign.machine == LEAVE_MESSAGE and campaign.machine_template \
            and verdict.startswith("machine_end")
        self._note(contact, None, req.call_sid, MESSAGE_LEFT if message else MACHINE, now)
        if not message:
            return twiml.hangup()
        return twiml.say_and_hangup(*render_prompt(
            campaign.machine_template or "", contact.language or campaign.language,
            **self._template_context(campaign, contact)))

    def _abandon(self, campaign: Campaign, contact: CampaignContact, attempt: int,
                 call_sid: str, first: bool, now: datetime) -> str:
        if first:
            store.count(campaign.campaign_id, now, abandoned=1)
            self.gate.contact_ended(contact.phone, attempt_key(contact, attempt), ABANDONED)
            log.info("campaign %s: %s abandoned (no agent free)", campaign.campaign_id,
                     mask_number(contact.phone))
        self._note(contact, attempt, call_sid, ABANDONED, now)
        return twiml.say_and_hangup(*render_prompt(
            campaign.abandon_template, contact.language or campaign.language,
            **self._template_context(campaign, contact)))

    @staticmethod
    def _template_context(campaign: Campaign, contact: CampaignContact) -> dict:
        columns = {key: value for key, value in contact.attributes.items()
                   if key.isidentifier() and key not in ("name", "language")}
        return {**columns, "campaign": campaign.name, "company": campaign.name,
                "customer_name": contact.name,
                "callback_number": campaign.caller_id}

    @staticmethod
    def _note(contact: CampaignContact, attempt: int | None, call_sid: str, outcome: str,
              now: datetime) -> None:
        """Remember how the call was answered (the final status reads it); a contact that
        moved on, or a retried webhook, changes nothing. ``contact`` is as the webhook read it
        (no second read on the answer's path); read again only when the dialler's own write
        (the call placed) came between."""
        current: CampaignContact | None = contact
        for _ in range(SETTLE_TRIES):
            if current is None or current.outcome == outcome and current.call_sid == call_sid:
                return
            if current.status == CALLING and current.call_sid in (call_sid, None):
                moved = store.change_contact(current, now, status=CALLING, outcome=outcome,
                                             call_sid=call_sid)
            elif current.status == DIALING and attempt is not None \
                    and current.attempts + 1 == attempt:
                # answered before the dialler marked it calling (a fast answer)
                moved = store.change_contact(current, now, status=CALLING, outcome=outcome,
                                             call_sid=call_sid, attempts=attempt, dial_by=None)
            else:
                return
            if moved is not None:
                return
            current = store.get_contact(contact.campaign_id, contact.phone)

    # ---- ended -------------------------------------------------------------------------------
    def ended(self, campaign_id: str, contact_id: str, attempt: int,
              req: VoiceRequest) -> bool:
        """Apply an attempt's final status; False when it was applied before (or is not this
        contact's current attempt). LookupError for an unknown campaign or contact."""
        now = self.clock()
        status = req.params.get("CallStatus", "")
        if status not in ("completed", *STATUS_OUTCOMES):
            return False  # not final: nothing to settle yet
        campaign, contact = self._find(campaign_id, contact_id)
        if campaign.kind == AGENTLESS or contact.outcome == HUMAN:
            self._voice().status(req)  # the IVR's call record, if the flow ran
        for _ in range(SETTLE_TRIES):
            settled = self._settle(campaign, contact, attempt, status, req, now)
            if settled is not None:
                break
            # another write came between our read and ours (the dialler marking the call
            # placed, the answer's note): read again, unless it was this outcome itself
            _, contact = self._find(campaign_id, contact_id)
        else:
            return False
        if not isinstance(settled, tuple):
            return False
        outcome, step = settled
        if claims.claim(f"campaign-answer:{req.call_sid}", now):
            store.add_ringing(campaign_id, -1)  # never answered: it stopped ringing now
        live = outcome in (ANSWERED, ABANDONED)
        talked = campaign.with_agents and outcome == ANSWERED
        store.count(campaign_id, now, dials=1, live_answers=1 if live else 0,
                    talk_seconds=req.whole_number("CallDuration", 0) if talked else 0,
                    talks=1 if talked else 0)
        if outcome in (MACHINE, MESSAGE_LEFT):
            self.gate.contact_ended(contact.phone, attempt_key(contact, attempt), "voicemail")
        if campaign.with_agents:  # frees the agent (a preview's, even when nobody answered)
            self._seats().customer_left(campaign_id, req.call_sid, now)
        log.info("campaign %s: %s attempt %d %s -> %s", campaign_id,
                 mask_number(contact.phone), attempt, outcome,
                 step.disposition or f"retry at {step.due_at}")
        return True

    def _settle(self, campaign: Campaign, contact: CampaignContact, attempt: int, status: str,
                req: VoiceRequest, now: datetime) -> tuple[str, NextStep] | None | bool:
        """Write the attempt's outcome on ``contact`` (as read): ``(outcome, next step)``;
        False when the contact is not on this call (settled before: a retried webhook); None
        when it changed since it was read."""
        if not self._on_this_call(contact, attempt, req.call_sid):
            return False
        outcome = self._outcome(contact, status, req)
        answers = dict(contact.answers)
        if campaign.kind == AGENTLESS and outcome == ANSWERED:
            record = call_records.get_call(req.call_sid)
            answers.update((record.inputs or {}) if record else {})
        step = after_attempt(attempt, outcome, campaign.retries, now)
        history = contact.history + ({"at": now.isoformat(), "attempt": attempt,
                                      "outcome": outcome,
                                      "duration": req.whole_number("CallDuration", 0)},)
        moved = store.change_contact(contact, now, status=step.status, due_at=step.due_at,
                                     disposition=step.disposition, outcome=outcome,
                                     attempts=attempt, call_sid=req.call_sid, answers=answers,
                                     dial_by=None, history=history)
        return None if moved is None else (outcome, step)

    @staticmethod
    def _on_this_call(contact: CampaignContact, attempt: int, call_sid: str) -> bool:
        if contact.status == CALLING:  # (no sid: a call the job adopted from a run that died)
            return contact.call_sid in (call_sid, None) and contact.attempts == attempt
        # the final status can beat the dialler's own write (a call that failed at once)
        return contact.status == DIALING and contact.attempts + 1 == attempt

    @staticmethod
    def _outcome(contact: CampaignContact, status: str, req: VoiceRequest) -> str:
        if status != "completed":
            return STATUS_OUTCOMES[status]
        if contact.outcome in (ABANDONED, MACHINE, MESSAGE_LEFT):
            return contact.outcome or MACHINE
        verdict = req.params.get("AnsweredBy", "")
        if verdict and verdict not in PERSON_VERDICTS:
            return MACHINE
        return ANSWERED

    @staticmethod
    def _find(campaign_id: str, contact_id: str) -> tuple[Campaign, CampaignContact]:
        campaign = store.get(campaign_id)
        if campaign is None:
            raise LookupError(f"no campaign {campaign_id}")
        try:
            phone = phone_of(contact_id)
        except ValueError:
            raise LookupError("not a contact id") from None
        contact = store.get_contact(campaign_id, phone)
        if contact is None:
            raise LookupError(f"no contact {mask_number(phone)} in {campaign_id}")
        return campaign, contact
