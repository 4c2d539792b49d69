"""Texts that arrive on a hotline number: the SMS channel.

In this order:

1. **Agents' state commands.** A text from an agent's registered mobile that is a state command
   (``ON``, ``OFF``, ``BREAK``, ``上线``, ...) changes the agent's state. Anything else an agent
   sends gets the command help, except STOP/START, which count for agents as for anyone.
2. **Keywords** (``keywords.classify``): opt-out records the number on the opt-out list and
   cancels its open callbacks (and ends the contact of a campaign that texted it); opt-in takes
   it off; help answers with our help text; ``CANCEL CALL`` cancels open callbacks and says so.
3. **Answers to a campaign's text** (``campaign_texts``: from a number a campaign texted from
   this number within 7 days) are stored on that campaign's contact. One of the template's
   reply choices ("1", "是") ends there, with no reply; free text goes on to 4 as well.
4. **Anything else** goes to the last agent who served that customer (within
   ``FORWARD_WINDOW_DAYS``), forwarded to the agent's mobile from the hotline number, or, when
   there is no such agent or the text cannot reach them, becomes a ticket for the admin API.

Which replies we send (as TwiML), and why:

* Opt-out / opt-in with Twilio's own keywords (STOP, START, ...): **none**. On long codes Twilio
  blocks or unblocks the number and sends the standard confirmation itself before our webhook
  runs (Twilio support, "Twilio support for opt-out keywords (SMS STOP filtering)"); a second
  confirmation from us would be noise, and a reply to a number Twilio has just blocked fails
  with error 21610 anyway. The same holds when the request carries ``OptOutType`` (a Messaging
  Service with Advanced Opt-Out handled the keyword and sent its configured reply).
* Opt-out / opt-in with our own keywords (退订, 订阅, TD, ...): Twilio neither acts nor answers,
  so we send the one confirmation (``sms_opted_out`` / ``sms_opted_in``). That confirmation is
  the only text an opted-out number ever gets from us, as is the custom in SMS programmes.
* HELP / INFO / 帮助: our help text, which is the one that names ``CANCEL CALL``. On a long code
  Twilio also sends its generic help reply to HELP and INFO; configure Advanced Opt-Out's help
  text if one reply is wanted.
* Cancel-callback: what was cancelled, or that there was nothing to cancel.
* Anything else: no reply. The text reaches a person (the agent, or a ticket) who answers it;
  an automatic "thank you" to every text would be noise, and a text to the wrong number (an
  agent command from an unregistered phone, say) should meet silence, not an invitation.
* Nothing at all, except that one opt-out confirmation, to a number on the opt-out list.

Time comes in as ``now`` (the message time for the opt-out list), and cancelling callbacks is
injected (``cancel_callbacks(number, now) -> int``), so this module needs neither a clock nor
the callbacks package.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.compliance.gate import ComplianceGate
from chalicelib.consent import SMS, may_contact, record_opt_in, record_opt_out
from chalicelib.logs import mask_number
from chalicelib.messaging import keywords
from chalicelib.messaging.keywords import Intent, Keyword
from chalicelib.messaging.outbound import send_sms
from chalicelib.prompts import render_prompt
from chalicelib.routing import agent_states
from chalicelib.routing.model import Agent, AgentState
from chalicelib.settings import Settings
from chalicelib.store import claims, directory, messages, routing, tickets
from chalicelib.telephony.webhook_request import InboundSms

log = logging.getLogger(__name__)

CancelCallbacks = Callable[[str, datetime], int]


class CampaignReplies(Protocol):
    """What a campaign does with a text back (``campaigns.texting.TextSender``)."""

    def record_reply(self, sms: InboundSms, now: datetime) -> bool:
        """Record the text as an answer to a recent campaign text; True when nobody needs to
        read it (a reply choice), False to go on as any text."""

    def record_opt_out(self, number: str, now: datetime) -> None:
        """``number`` opted out: its campaign contact ends ``opted_out``."""

FORWARD_WINDOW_DAYS = 30  # an agent who served the customer longer ago than this gets no texts
FORWARDED_BODY_LIMIT = 1000  # characters of the customer's text in the forward (Twilio: 1,600)


def ticket_id_for(message_sid: str, secret: str) -> str:
    """The ticket id for an inbound message: the same for a retried webhook (so one ticket per
    message), and unguessable without ``secret``."""
    digest = hmac.new(secret.encode(), f"ticket:{message_sid}".encode(), hashlib.sha256)
    return "TK" + digest.hexdigest()[:32]


def handle_inbound_sms(
    sms: InboundSms,
    now: datetime,
    on_available: Callable[[str], object],
    *,
    cancel_callbacks: CancelCallbacks,
    settings: Settings,
    gate: ComplianceGate,
    campaign_texts: CampaignReplies | None = None,
) -> str | None:
    """The reply text for an inbound SMS, or None for no reply.

    ``on_available(agent_id)`` runs after an agent becomes available (it dispatches their queues);
    ``cancel_callbacks(number, now)`` cancels the number's open callback requests;
    ``campaign_texts`` takes answers to campaign texts (and a STOP ends the campaign contact).
    """
    keyword = keywords.classify(sms.body)
    agent = routing.agent_by_mobile(sms.sender) if sms.sender else None
    if agent is not None:
        command = agent_states.parse_state_command(sms.body)
        if command is not None:
            return _change_agent_state(agent, command, now, on_available, sms.message_sid)
        if keyword.intent not in (Intent.OPT_OUT, Intent.OPT_IN):
            return render_prompt("agent_command_help", _agent_language(agent))[0]
    if not sms.sender:
        log.info("sms %s has no sender; ignored", sms.message_sid)
        return None
    language = _reply_language(keyword, sms)
    if keyword.intent is Intent.OPT_OUT:
        return _opt_out(sms, keyword, language, now, cancel_callbacks, campaign_texts)
    if keyword.intent is Intent.OPT_IN:
        return _opt_in(sms, keyword, language, now)
    if keyword.intent is Intent.HELP:
        hotline = directory.get_hotline(sms.hotline)
        return _reply(sms, "sms_help", language, hotline_name=hotline.name if hotline else None,
                      cancel_word=keywords.CANCEL_CALLBACK_WORD,
                      cancel_word_zh=keywords.CANCEL_CALLBACK_WORD_ZH)
    if keyword.intent is Intent.CANCEL_CALLBACK:
        cancelled = cancel_callbacks(sms.sender, now)
        log.info("sms from %s cancelled %d callbacks", mask_number(sms.sender), cancelled)
        template = "sms_callback_cancelled" if cancelled else "sms_nothing_to_cancel"
        return _reply(sms, template, language, count=cancelled)
    if campaign_texts is not None and campaign_texts.record_reply(sms, now):
        return None  # a campaign's reply choice: the campaign's results have it
    _message_for_people(sms, language, now, settings, gate)
    return None


# ---- agents ---------------------------------------------------------------------------------


def _agent_language(agent: Agent) -> str | None:
    return agent.languages[0] if agent.languages else None


def _change_agent_state(agent: Agent, command: tuple[AgentState, str], now: datetime,
                        on_available: Callable[[str], object], message_sid: str) -> str:
    """Apply an agent's command once per MessageSid: a retried ON that arrives after a later
    OFF changes nothing (the claim is taken in the state change's own transaction) and the
    reply tells the agent the state they are really in."""
    language = _agent_language(agent)
    state, reason = command
    if agent.state is state:
        return render_prompt("agent_state_changed", language, state=state.value)[0]
    try:
        updated = agent_states.transition(agent, state, now, f"sms: {reason}")
        routing.change_agent_state(updated, agent.state, now,
                                   claim=f"sms-command:{message_sid}")
    except claims.AlreadyClaimed:
        log.info("sms %s: agent %s's command was applied before; not again", message_sid,
                 agent.agent_id)
        current = routing.get_agent(agent.agent_id) or agent
        return render_prompt("agent_state_changed", language, state=current.state.value)[0]
    except (agent_states.InvalidTransition, routing.StateConflict):
        return render_prompt("agent_state_refused", language, state=agent.state.value)[0]
    log.info("agent %s is %s (by sms)", agent.agent_id, state.value)
    if state is AgentState.AVAILABLE:
        on_available(agent.agent_id)
    return render_prompt("agent_state_changed", language, state=state.value)[0]


# ---- consent --------------------------------------------------------------------------------


def _opt_out(sms: InboundSms, keyword: Keyword, language: str | None, now: datetime,
             cancel_callbacks: CancelCallbacks,
             campaign_texts: CampaignReplies | None) -> str | None:
    if not record_opt_out(sms.sender, keyword.word, now, message_sid=sms.message_sid,
                          hotline=sms.hotline):
        log.info("sms %s: opt-out from %s is older than an opt-in in force; ignored",
                 sms.message_sid, mask_number(sms.sender))
        return None
    cancelled = cancel_callbacks(sms.sender, now)
    if campaign_texts is not None:
        campaign_texts.record_opt_out(sms.sender, now)
    log.info("%s opted out (%s); %d open callbacks cancelled", mask_number(sms.sender),
             keyword.word, cancelled)
    if keyword.carrier_handled or sms.opt_out_type:
        return None  # Twilio confirmed it
    return render_prompt("sms_opted_out", language)[0]


def _opt_in(sms: InboundSms, keyword: Keyword, language: str | None,
            now: datetime) -> str | None:
    if not record_opt_in(sms.sender, keyword.word, now, message_sid=sms.message_sid,
                         hotline=sms.hotline):
        log.info("sms %s: opt-in from %s is older than an opt-out in force; ignored",
                 sms.message_sid, mask_number(sms.sender))
        return None
    log.info("%s opted back in (%s)", mask_number(sms.sender), keyword.word)
    if keyword.carrier_handled or sms.opt_out_type:
        return None
    return render_prompt("sms_opted_in", language)[0]


def _reply(sms: InboundSms, template: str, language: str | None, **context) -> str | None:
    """A reply, unless the sender opted out: then nothing goes back."""
    if not may_contact(sms.sender, SMS):
        log.info("no reply to %s: opted out", mask_number(sms.sender))
        return None
    return render_prompt(template, language, **context)[0]


def _reply_language(keyword: Keyword, sms: InboundSms) -> str | None:
    """Chinese if they wrote Chinese; else the customer's language, else the hotline's."""
    if keyword.language == "zh-CN":
        return keyword.language
    customer = directory.get_customer(sms.sender)
    if customer and customer.get("language"):
        return customer["language"]
    if keyword.language:
        return keyword.language
    hotline = directory.get_hotline(sms.hotline)
    return hotline.default_language if hotline else None


# ---- everything else: to the customer's agent, or a ticket ---------------------------------


def _message_for_people(sms: InboundSms, language: str | None, now: datetime,
                        settings: Settings, gate: ComplianceGate) -> None:
    if not sms.body.strip() and not sms.media_urls:
        log.info("empty sms %s from %s; ignored", sms.message_sid, mask_number(sms.sender))
        return
    if not _forward_to_agent(sms, now, settings, gate):
        ticket_id = ticket_id_for(sms.message_sid, settings.twilio_auth_token)
        created = tickets.open_ticket(
            ticket_id, message_sid=sms.message_sid, sender=sms.sender, hotline=sms.hotline,
            body=sms.body, media_urls=sms.media_urls, language=language, now=now)
        log.info("sms %s from %s: ticket %s %s", sms.message_sid, mask_number(sms.sender),
                 ticket_id, "opened" if created else "already open")


def last_agent(customer: str, now: datetime) -> Agent | None:
    """The agent who last served ``customer``, if that was within ``FORWARD_WINDOW_DAYS``."""
    contact = routing.get_contact(customer)
    if contact is None or not contact.last_agent_id:
        return None
    served = contact.last_served_at
    if served is not None and now - served > timedelta(days=FORWARD_WINDOW_DAYS):
        return None
    return routing.get_agent(contact.last_agent_id)


def _forward_to_agent(sms: InboundSms, now: datetime, settings: Settings,
                      gate: ComplianceGate) -> bool:
    """Forward the text to the customer's last agent; False if it could not go (no agent, no
    mobile, the agent's number opted out, Twilio refused), so the caller opens a ticket."""
    agent = last_agent(sms.sender, now)
    if agent is None or not agent.mobile:
        return False
    customer = directory.get_customer(sms.sender)
    name = customer.get("name") if customer else None
    body = sms.body.strip()
    if len(body) > FORWARDED_BODY_LIMIT:
        body = body[: FORWARDED_BODY_LIMIT - 1] + "…"
    key = f"sms-forward:{sms.message_sid}"  # a retried webhook forwards once
    text = render_prompt(
        "sms_forwarded", _agent_language(agent),
        customer=f"{name} ({sms.sender})" if name else sms.sender,
        hotline=sms.hotline, body=body, media=len(sms.media_urls),
    )[0]
    if send_sms(key=key, to=agent.mobile, sender=sms.hotline, body=text,
                template="sms_forwarded", call_sid=None, settings=settings, now=now,
                gate=gate):
        log.info("sms %s forwarded to agent %s", sms.message_sid, agent.agent_id)
        return True
    sent = messages.get_message(key)  # None returned: a retry of a forward, or a failure
    return sent is not None and sent.status not in ("failed", "opted_out", "pending")
