"""SMS campaigns: the text each contact gets, what it costs in segments, sending it through
the compliance gate, and what comes back (delivery statuses, replies, STOP).

- ``render_text`` writes a contact's text from the campaign's template
  (``text_templates``); a marketing text without an opt-out instruction gets the opt-out line
  of its language (China MIIT Order 31: "回复TD退订"; US carriers and CTIA: "Reply STOP to opt
  out"; the system prompt ``campaign_opt_out``).
- ``check_template`` refuses an unknown or broken template when the campaign is created, never
  at send time.
- ``segment_preview``: segments per text (GSM-7 160/153, UCS-2 70/67: ``messaging.segments``)
  and the total, before anything is sent.
- ``TextSender.send`` texts one contact the runner claimed; ``record_delivery``,
  ``record_reply`` and ``record_opt_out`` are what the SMS webhooks call for a campaign's text.

A contact's text is sent under its attempt's key (``campaign:<id>:<digits>:<attempt>``): the
gate counts it once and ``messages`` sends it once, however often the runner retries. The
contact then ends ``done`` with disposition ``sent`` (``call_sid``: the MessageSid), and moves
on to ``delivered`` / ``undelivered`` with the status callbacks, ``replied`` with an answer,
``opted_out`` with a STOP.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sized
from dataclasses import replace
from datetime import datetime
from itertools import islice
from typing import Any

from jinja2 import TemplateError

from chalicelib.campaigns import text_templates
from chalicelib.campaigns.campaign import FAILED, SMS_KIND, Campaign
from chalicelib.campaigns.checks import ContactCheck, KeepEveryone
from chalicelib.campaigns.contact import (
    BLOCKED,
    DELIVERED,
    DONE,
    INVALID_NUMBER,
    OPTED_OUT,
    REPLIED,
    SENT,
    UNDELIVERED,
    WAITING,
    CampaignContact,
    after_attempt,
)
from chalicelib.campaigns.policy import policy_of
from chalicelib.compliance.gate import ComplianceGate
from chalicelib.compliance.rules import MARKETING
from chalicelib.logs import mask_number
from chalicelib.messaging.model import SentText
from chalicelib.messaging.outbound import TextOutcome, send_text
from chalicelib.messaging.segments import GSM7, count_segments
from chalicelib.prompts import render_prompt
from chalicelib.settings import Settings
from chalicelib.store import campaign_texts, claims
from chalicelib.store import campaigns as store
from chalicelib.telephony.webhook_request import DeliveryStatus, InboundSms

log = logging.getLogger(__name__)

ENCODINGS = {GSM7: "GSM-7"}  # what the preview calls them; anything else is UCS-2
# An instruction to opt out already in the text: "Reply STOP", "text STOP to ...", 退订.
_OPT_OUT_INSTRUCTION = re.compile(
    r"\b(?:reply|text|txt|send)\s+[\"'“‘]?(?:stop|unsubscribe)\b|退订|回复\s*TD", re.IGNORECASE)
# Twilio: invalid 'To' (21211), not a mobile / unreachable / not SMS-capable (21612, 21614),
# and the numbers the voice side treats as invalid (``contact.INVALID_NUMBER``).
INVALID_NUMBER_CODES = frozenset({21211, 21214, 21217, 21612, 21614, 13224})
FINAL_STATUSES = {"delivered": DELIVERED, "undelivered": UNDELIVERED, "failed": UNDELIVERED}
ANSWERED_TEXT = (SENT, DELIVERED, UNDELIVERED, REPLIED)  # dispositions a reply or STOP moves on
SAMPLES = 3


# ---- the text -------------------------------------------------------------------------------


def _context(contact: CampaignContact, language: str) -> dict[str, Any]:
    return {"name": contact.name, "attributes": text_templates.Attributes(contact.attributes),
            "phone_last4": contact.phone[-4:], "language": language}


def render_text(campaign: Campaign, contact: CampaignContact) -> str:
    """The text ``contact`` gets: the campaign's template in the contact's language (else the
    campaign's), and for a marketing campaign the opt-out line when the text has no opt-out
    instruction of its own. ValueError for a campaign without a known template; jinja2's
    TemplateError for one that does not render (``check_template`` catches both first)."""
    if not campaign.template:
        raise ValueError("template: an SMS campaign needs one")
    language = text_templates.language_for(campaign.template, contact.language,
                                           campaign.language)
    text = text_templates.render(campaign.template, language, _context(contact, language))
    if campaign.purpose == MARKETING and not _OPT_OUT_INSTRUCTION.search(text):
        text = f"{text}\n{render_prompt('campaign_opt_out', language)[0]}"
    return text


def check_template(campaign: Campaign) -> None:
    """ValueError naming the problem unless the campaign's template exists (in its language
    at least), renders in each of its languages for a sample contact, and has sound reply
    choices. A campaign that sends no text (not ``sms``, no template) passes."""
    if campaign.template is None and campaign.kind != SMS_KIND:
        return
    if not campaign.template:
        raise ValueError("template: an SMS campaign needs one")
    text_templates.check(campaign.template, campaign.language)
    sample = CampaignContact(campaign.campaign_id, "+14155550123", name="Alex Sample")
    for language in text_templates.languages(campaign.template):
        try:
            text = render_text(campaign, replace(sample, language=language))
        except TemplateError as exc:
            raise ValueError(f"template: {campaign.template} ({language}) does not render: "
                             f"{exc}") from None
        if not text:
            raise ValueError(f"template: {campaign.template} ({language}) renders no text")


def segment_preview(campaign: Campaign, contacts: Iterable[CampaignContact],
                    limit: int = 1000) -> dict:
    """What the campaign's texts cost, before any is sent::

        {"encoding_counts": {"GSM-7": n, "UCS-2": m}, "segments_total": S, "texts": T,
         "max_segments": k, "samples": [{"phone_last4", "text", "encoding", "segments"}],
         "sampled": bool, "contacts": N | None, "segments_estimate": E, "note": str | None}

    Each of the first ``limit`` contacts' texts is rendered and counted (``texts``). When
    there are more (``sampled``), ``segments_estimate`` extrapolates to every contact: their
    number ``contacts`` is ``len(contacts)`` for a sequence, else the campaign's loaded count
    once its list is fully loaded (else None, and the estimate is what was counted).
    ``samples``: up to three texts, the longest first, one of each encoding among them."""
    counts = {"GSM-7": 0, "UCS-2": 0}
    total = longest = texts = 0
    rendered: list[dict] = []
    iterator = iter(contacts)
    for contact in islice(iterator, limit):
        text = render_text(campaign, contact)
        counted = count_segments(text)
        encoding = ENCODINGS.get(counted.encoding, "UCS-2")
        counts[encoding] += 1
        total += counted.segments
        longest = max(longest, counted.segments)
        texts += 1
        rendered.append({"phone_last4": contact.phone[-4:], "text": text,
                         "encoding": encoding, "segments": counted.segments})
        rendered = _samples(rendered)
    sampled = next(iterator, None) is not None
    everyone: int | None = texts
    if sampled:
        everyone = len(contacts) if isinstance(contacts, Sized) else (
            campaign.loaded if campaign.load_done else None)
    estimate = round(total / texts * everyone) if sampled and everyone and texts else total
    note = None
    if sampled:
        note = (f"counted the first {texts} texts; segments_estimate extrapolates to "
                + (f"all {everyone} contacts" if everyone else
                   "the contacts counted (the list is not fully loaded yet)"))
    return {"encoding_counts": counts, "segments_total": total, "texts": texts,
            "max_segments": longest, "samples": rendered, "sampled": sampled,
            "contacts": everyone, "segments_estimate": estimate, "note": note}


def _samples(rendered: list[dict]) -> list[dict]:
    """Up to ``SAMPLES`` different texts: the longest, then the longest of the other
    encoding, then the next longest."""
    distinct = list({s["text"]: s for s in reversed(rendered)}.values())[::-1]  # first of each
    by_length = sorted(distinct, key=lambda s: -s["segments"])
    chosen = by_length[:1]
    other = [s for s in by_length if chosen and s["encoding"] != chosen[0]["encoding"]]
    chosen += other[:1]
    chosen += [s for s in by_length if s not in chosen][:SAMPLES - len(chosen)]
    return chosen


# ---- sending --------------------------------------------------------------------------------


def _history(contact: CampaignContact, now: datetime, attempt: int, outcome: str,
             **extra: Any) -> tuple[dict[str, Any], ...]:
    return (*contact.history, {"at": now.isoformat(), "attempt": attempt, "outcome": outcome,
                               **extra})


class TextSender:
    """Texts campaign contacts through the compliance gate (``settings``: Twilio and the
    public URL; ``clock``: aware UTC now; ``gate``: the one gate)."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime], gate: ComplianceGate,
                 check: ContactCheck | None = None):
        self.settings, self.clock, self.gate = settings, clock, gate
        self.check = check or KeepEveryone()

    def send(self, campaign: Campaign, contact: CampaignContact) -> str:
        """Text ``contact``, which the runner claimed (status ``dialing``, ``attempts`` not yet
        counted). Returns ``sent``, ``deferred`` (the gate allows it later: waiting until
        then), ``blocked`` / ``opted_out`` (refused for good: done), ``invalid`` (Twilio says
        the number cannot take texts: done), ``expired`` (the claim's ``dial_by`` passed:
        waiting again, nothing sent) or ``failed`` (Twilio refused it: retried under the
        campaign's ``failed`` rule, or done). ValueError for a campaign whose compliance
        overrides are invalid (refused when it is created)."""
        now = self.clock()
        if contact.dial_by is not None and now > contact.dial_by:
            store.change_contact(contact, now, status=WAITING, due_at=now, dial_by=None)
            return "expired"
        verdict = self.check.before_contact(campaign, contact, now)
        if verdict.skip:  # no longer wanted (a bill paid meanwhile): never texted
            history = contact.history + ({"at": now.isoformat(), "event": verdict.skip},)
            store.change_contact(contact, now, status=DONE, disposition=verdict.skip,
                                 outcome=verdict.skip, dial_by=None, history=history)
            return "skipped"
        if verdict.attributes:  # fresh values for the template (the amount still due)
            contact = replace(contact, attributes={**contact.attributes, **verdict.attributes})
        policy = policy_of(campaign)
        try:
            body = render_text(campaign, contact)
        except (ValueError, TemplateError) as exc:  # checked at creation: the template changed
            log.warning("campaign %s: no text for %s: %s", campaign.campaign_id,
                        mask_number(contact.phone), exc)
            return self._settle(campaign, contact, TextOutcome("failed"), now)
        attempt = replace(contact, attempts=contact.attempts + 1)
        outcome = send_text(
            key=attempt.attempt_key, to=contact.phone, sender=campaign.caller_id,
            body=body, template=campaign.template or "",
            call_sid=None, settings=self.settings, now=now, gate=self.gate,
            purpose=campaign.purpose, policy=policy,
            fallback_tz=contact.timezone or campaign.fallback_tz,
            campaign_id=campaign.campaign_id)
        if outcome.status == "duplicate":  # the runner retried a send that went through
            outcome = _as_outcome(outcome.previous)
        return self._settle(campaign, contact, outcome, now)

    def _settle(self, campaign: Campaign, contact: CampaignContact, outcome: TextOutcome,
                now: datetime) -> str:
        """Move the contact as ``outcome`` says; what ``send`` returns."""
        n = contact.attempts + 1
        move = store.change_contact
        if outcome.status == "sent" and outcome.message_sid:
            # where a reply goes, first: written again by a retry, it is never missing
            campaign_texts.note_text(campaign_texts.CampaignText(
                contact.phone, campaign.campaign_id, outcome.message_sid, campaign.caller_id,
                campaign.template, now))
            moved = move(contact, now, status=DONE, disposition=SENT, attempts=n,
                         call_sid=outcome.message_sid, outcome=SENT, dial_by=None,
                         history=_history(contact, now, n, SENT))
            if moved is not None:  # counted by the one change that applies
                store.count(campaign.campaign_id, now, texts=1)
            result = "sent"
        elif outcome.status == "deferred":
            moved = move(contact, now, status=WAITING, due_at=outcome.next_allowed_at,
                         dial_by=None)
            result = "deferred"
        elif outcome.status in ("opted_out", "refused"):
            # Twilio refused it (21610): an attempt was made; the gate refused it: none was
            made = n if outcome.error_code is not None else contact.attempts
            disposition = OPTED_OUT if outcome.status == "opted_out" else BLOCKED
            reason = ",".join(outcome.reasons) or disposition
            moved = move(contact, now, status=DONE, disposition=disposition, attempts=made,
                         outcome=reason, dial_by=None,
                         history=_history(contact, now, made, reason))
            result = "opted_out" if disposition == OPTED_OUT else "blocked"
        elif outcome.error_code in INVALID_NUMBER_CODES:
            moved = move(contact, now, status=DONE, disposition=INVALID_NUMBER, attempts=n,
                         outcome=INVALID_NUMBER, dial_by=None,
                         history=_history(contact, now, n, INVALID_NUMBER,
                                          error_code=outcome.error_code))
            result = "invalid"
        else:
            step = after_attempt(n, FAILED, campaign.retries, now)
            if outcome.status == "pending":  # a send died half-way (it may have gone: never
                step = replace(step, status=DONE, due_at=None, disposition=FAILED)  # twice)
            moved = move(contact, now, status=step.status, due_at=step.due_at,
                         disposition=step.disposition, attempts=n, outcome=FAILED,
                         dial_by=None, history=_history(contact, now, n, FAILED,
                                                        error_code=outcome.error_code))
            result = "failed"
        if moved is None:
            log.info("campaign %s contact %s changed meanwhile; text %s", campaign.campaign_id,
                     mask_number(contact.phone), result)
        return result

    # ---- what comes back --------------------------------------------------------------------

    def record_delivery(self, text: SentText, report: DeliveryStatus) -> None:
        """A final status of a campaign's text: its contact's ``sent`` becomes ``delivered``
        or ``undelivered`` (a later reply or STOP is never overwritten)."""
        disposition = FINAL_STATUSES.get(report.status)
        if disposition is None or text.campaign_id is None:
            return
        contact = store.get_contact(text.campaign_id, text.to)
        if contact is None or contact.status != DONE or contact.disposition != SENT \
                or contact.call_sid != report.message_sid:
            return
        now = self.clock()
        extra = {"error_code": report.error_code} if report.error_code else {}
        store.change_contact(contact, now, status=DONE, disposition=disposition,
                             outcome=report.status,
                             history=_history(contact, now, contact.attempts, report.status,
                                              **extra))

    def record_reply(self, sms: InboundSms, now: datetime) -> bool:
        """A text from a number that got a campaign text from that number within 7 days
        (``store.campaign_texts``): stored on the contact as ``answers["reply"]``, with
        ``answers["choice"]`` when the template's reply choices read it; disposition
        ``replied`` (a later free-text reply keeps the last choice). Once per MessageSid (a
        retried webhook, even after a later reply, changes nothing). True when the
        reply was a choice (nobody needs to read it); False for free text or no campaign,
        which then goes to people as any text does."""
        if not sms.body.strip():
            return False  # a picture alone is for people to see
        text = campaign_texts.last_text(sms.sender, now)
        if text is None or text.sender != sms.hotline:
            return False
        choice = text_templates.choice_of(text.template, sms.body) if text.template else None
        claim = f"campaign-reply:{sms.message_sid}"
        if claims.is_claimed(claim):
            return choice is not None
        answers = {"reply": sms.body.strip(), **({"choice": choice} if choice else {})}
        for _ in range(3):  # a delivery status may move the contact at the same moment
            contact = store.get_contact(text.campaign_id, sms.sender)
            if contact is None:
                return False
            keep = contact.disposition if contact.disposition == OPTED_OUT else REPLIED
            if store.change_contact(contact, now, status=DONE, disposition=keep,
                                    answers={**contact.answers, **answers}) is not None:
                break
        else:  # unclaimed: Twilio's retry (the route answers 503) tries again
            raise RuntimeError(f"campaign {text.campaign_id}: the contact kept changing")
        claims.claim(claim, now)  # after the change: a retry after a failure applies it again
        log.info("campaign %s: reply from %s%s", text.campaign_id, mask_number(sms.sender),
                 f" ({choice})" if choice else "")
        return choice is not None

    def record_opt_out(self, number: str, now: datetime) -> None:
        """``number`` opted out (the opt-out list has it already): the contact of the last
        campaign text it got ends ``opted_out``."""
        text = campaign_texts.last_text(number, now)
        if text is None:
            return
        contact = store.get_contact(text.campaign_id, number)
        if contact is None or contact.disposition == OPTED_OUT or not (
                contact.status == WAITING
                or (contact.status == DONE and contact.disposition in ANSWERED_TEXT)):
            return
        store.change_contact(contact, now, status=DONE, disposition=OPTED_OUT,
                             history=_history(contact, now, contact.attempts, OPTED_OUT))


def _as_outcome(previous: SentText | None) -> TextOutcome:
    """What an earlier send under the same key came to, as if it had just ended."""
    if previous is None or previous.status == "pending":
        return TextOutcome("pending")
    code = previous.error_code
    error_code = int(code) if code and code.isdigit() else None
    if previous.status in ("opted_out", "refused", "failed"):
        return TextOutcome(previous.status, error_code=error_code)
    return TextOutcome("sent", message_sid=previous.message_sid)
