"""Calling customers back: the every-minute job, the two dial strategies, retries and outcomes.

A request waits in one of two places (see ``callbacks/requests.py``): ``scheduled`` in the due
index, or ``queued`` as an entry of kind ``callback`` in its queue's line, ordered with the
callers on hold by priority and join time. A queue callback keeps the caller's original join time,
so it is called when that caller would have reached the front.

- ``tick`` (scheduled every minute) moves due requests into their lines, or further into the
  future when the customer's local time (08:00-21:00) or the queue's hours forbid a call now, then
  runs a routing round for each queue it touched. A routing round also runs whenever an agent
  becomes available (the immediate trigger) and from the queues' own sweeper.
- In a routing round (``RoutingService.dispatch``) callback entries compete with callers on hold:
  - **agent-first** (default): an agent and the entry are reserved together, exactly as for a
    caller; then ``offer_to_agent`` calls the agent, whose answer (``agent_answered``) whispers
    the request and dials the customer from the hotline number;
  - **customer-first**: the entries at the head of the line, as many as agents are free, are
    claimed (``waiting -> dialing``) and the customer is called with answering-machine
    detection. A person is put on hold at the front of the line (a ``call`` entry keeping the
    request's join time, at higher priority); a machine gets a short templated message and the
    request a later retry.
- Each request is claimed by a conditional write (the line entry's status and the request's
  version) before any REST call, so the job, the immediate trigger and Twilio's retries cannot
  dial one request twice.
- A failed attempt (busy, no answer, machine, Twilio 429/5xx) is retried with exponential backoff
  inside the allowed hours, keeping the place in line; after ``max_attempts``, or a permanent
  error such as an invalid number (4xx), the request fails with its reason, the customer gets an
  apology text and a missed-call record is written.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from chalicelib.callbacks.backoff import retry_at
from chalicelib.callbacks.missed import record_missed_call
from chalicelib.callbacks.model import (
    CANCELLED,
    COMPLETED,
    CONNECTED,
    DIALING,
    FAILED,
    QUEUED,
    CallbackRequest,
)
from chalicelib.callbacks.numbers import callable_caller
from chalicelib.callbacks.requests import close_as_called_in, open_request_in, request_callback
from chalicelib.compliance.gate import ComplianceGate
from chalicelib.compliance.rules import OPTED_OUT, REQUESTED, VOICE
from chalicelib.hours.calling_window import may_call_at, next_contact_time
from chalicelib.logs import mask_number, ref
from chalicelib.messaging.outbound import send_sms
from chalicelib.prompts import render_prompt
from chalicelib.routing.agents import MAX_MISSES
from chalicelib.routing.model import (
    AgentState,
    LineEntry,
    QueueConfig,
    WaitingCaller,
    language_for,
)
from chalicelib.store import callbacks as store
from chalicelib.store import calls, directory, routing
from chalicelib.telephony import twiml as voice_twiml
from chalicelib.telephony.twiml_routing import (
    dial_address,
    render_callback_hold,
    render_dial_customer,
    render_enqueue,
)
from chalicelib.telephony.webhook_request import whole_number

log = logging.getLogger(__name__)

AGENT_FIRST = "agent-first"
CUSTOMER_FIRST = "customer-first"
STRATEGIES = (AGENT_FIRST, CUSTOMER_FIRST)
TICK_LIMIT = 1000  # due requests moved per tick (a Lambda minute holds this many easily)
ANSWERED_PRIORITY_BOOST = 100  # a customer we called back waits ahead of everyone who joined
CUSTOMER_RING_SECONDS = 30
NOT_REACHED = ("busy", "no-answer", "failed", "canceled")
STUCK_DIALING = timedelta(minutes=10)  # a placed call always reports back well before this


class CallbackDispatcher:
    """Callback dialing for one routing service (its clock, Twilio connector and agents); the
    ``routing.ports.CallbackDesk`` that routing calls."""

    def __init__(self, service, gate: ComplianceGate):
        self.service = service
        self.gate = gate  # every customer call and text passes it (compliance/gate.py)

    @property
    def settings(self):
        return self.service.settings

    def url(self, callback_id: str, step: str) -> str:
        return f"{self.settings.public_base_url}/twilio/voice/callback/{callback_id}/{step}"

    # ---- the scheduled job ---------------------------------------------------------------
    def tick(self, limit: int = TICK_LIMIT) -> dict:
        """Move due requests into their queues' lines (or later), then dispatch those queues."""
        now = self.service.clock()
        queues: dict[str, QueueConfig | None] = {}
        queued = postponed = failed = 0
        for req in store.due_requests(now, limit):
            if req.queue_id not in queues:
                queues[req.queue_id] = routing.get_queue(req.queue_id)
            queue = queues[req.queue_id]
            if queue is None:
                failed += store.transition(req, int(req.version), FAILED, now,
                                           detail=f"queue '{req.queue_id}' no longer exists")
                continue
            if not self._may_call(req.phone, now, queue):
                when = self._next_window(req.phone, now, queue)
                if when is None:
                    failed += self._fail(req, "no allowed time to call within two weeks", now)
                else:
                    postponed += store.transition(req, int(req.version), req.status, now,
                                                  detail="outside calling hours", due_at=when)
                continue
            queued += store.queue_up(req, now, joined_at=req.joined_at)
        offered = sum(self.service.dispatch(queue_id) for queue_id, queue in queues.items()
                      if queue is not None)
        return {"queued": queued, "postponed": postponed, "failed": failed, "offered": offered}

    # ---- inside a routing round -----------------------------------------------------------
    def allowed_now(self, entry: LineEntry, queue: QueueConfig, now: datetime) -> bool:
        """May this callback entry be dialled now? If not, it leaves the line for later."""
        if self._may_call(entry.caller, now, queue):
            return True
        req = store.get_request(entry.call_sid)
        if req is not None and req.status == QUEUED:
            when = self._next_window(req.phone, now, queue)
            if when is None:
                self._fail(req, "no allowed time to call within two weeks", now)
            else:
                store.transition(req, int(req.version), "scheduled", now, due_at=when,
                                 detail="outside calling hours", leave_line=True)
        return False

    def offer_to_agent(self, entry: LineEntry, agents: list, queue: QueueConfig,
                       now: datetime) -> bool:
        """Agent-first: ``agents`` were just reserved with ``entry``; call the first of them.
        Returns False (after undoing the reservation) when the request cannot be dialled."""
        agent, others = agents[0], agents[1:]
        for other in others:  # a callback rings one agent, even in a ring-all queue
            self.service.agents.free(other.agent_id, now, "callback goes to one agent")
        req = store.get_request(entry.call_sid)
        if req is None or req.status != QUEUED or not self._cleared(req, now, queue):
            self.service.agents.free(agent.agent_id, now, "callback no longer wanted")
            if req is None or req.status != QUEUED:
                routing.leave_queue(entry.queue_id, entry.entry_key)
            return False
        if not store.transition(req, int(req.version), DIALING, now, detail=f"calling agent "
                                f"{agent.agent_id}"):
            self.service.agents.undo_reservation(entry, [agent], now, "callback changed meanwhile")
            return False
        try:
            self.service.connector.place_call(
                to=dial_address(agent.endpoint), from_=req.hotline,
                url=self.url(req.callback_id, "agent"),
                status_callback=self.url(req.callback_id, "agent-status"))
        except Exception as exc:  # noqa: BLE001 - the agent's phone could not be called
            log.warning("callback %s: calling agent %s failed: %s", ref(req.callback_id),
                        agent.agent_id, type(exc).__name__)
            self.service.agents.undo_reservation(entry, [agent], now, "agent call failed")
            fresh = store.get_request(req.callback_id)
            if fresh is not None and fresh.status == DIALING:
                store.transition(fresh, int(fresh.version), QUEUED, now,
                                 detail="the agent's phone could not be called")
            return False
        log.info("callback %s offered to %s in %s", ref(req.callback_id), agent.agent_id,
                 queue.queue_id)
        return True

    def call_customers_first(self, queue: QueueConfig, entries: list[LineEntry], agents: list,
                             now: datetime) -> int:
        """Customer-first: dial the callback entries at the head of the line, as many as agents
        are free right now; each is claimed (waiting -> dialing) before its call is placed."""
        free = sum(a.state is AgentState.AVAILABLE for a in agents)
        free -= sum(e.kind == "callback" and e.status == DIALING for e in entries)
        dialled = 0
        for entry in [e for e in entries if e.status == "waiting"][:max(0, free)]:
            if entry.kind != "callback" or not self.allowed_now(entry, queue, now):
                continue
            if not routing.mark_entry(entry.queue_id, entry.entry_key, DIALING):
                continue  # another round claimed it
            dialled += self._call_customer(entry, queue, now)
        return dialled

    def _call_customer(self, entry: LineEntry, queue: QueueConfig, now: datetime) -> int:
        req = store.get_request(entry.call_sid)
        if req is None or req.status != QUEUED or not self._cleared(req, now, queue,
                                                                        dialling=True):
            if req is None:
                routing.leave_queue(entry.queue_id, entry.entry_key)
            return 0
        if not store.transition(req, int(req.version), DIALING, now,
                                detail="calling the customer"):
            routing.set_entry_status(entry.queue_id, entry.entry_key, DIALING, "waiting")
            return 0
        try:
            sid = self.service.connector.place_call(
                to=req.phone, from_=req.hotline, url=self.url(req.callback_id, "customer"),
                status_callback=self.url(req.callback_id, "customer-status"),
                machine_detection="Enable")
        except Exception as exc:  # noqa: BLE001 - Twilio refused or failed: see _rest_failed
            self._rest_failed(req.callback_id, exc, now)
            return 0
        fresh = store.get_request(req.callback_id)
        if fresh is not None and fresh.status == DIALING:
            store.transition(fresh, int(fresh.version), DIALING, now, call_sid=sid,
                             detail="ringing the customer")
        log.info("callback %s: calling %s (customer first)", ref(req.callback_id),
                 mask_number(req.phone))
        return 1

    def repair(self, entry: LineEntry, now: datetime) -> None:
        """The sweeper found a callback entry whose webhooks never came: an expired agent
        reservation puts the request back in line; a customer call with no outcome for
        ``STUCK_DIALING`` counts as a failed attempt."""
        req = store.get_request(entry.call_sid)
        if req is None:
            routing.leave_queue(entry.queue_id, entry.entry_key)
            return
        if entry.status == "waiting" and req.status == DIALING:
            store.transition(req, int(req.version), QUEUED, now,
                             detail="the agent's offer expired")
        elif entry.status == DIALING and req.status == DIALING and req.updated_at \
                and now - req.updated_at > STUCK_DIALING:
            self._attempt_failed(req, "no outcome from the carrier", now)

    # ---- agent-first webhooks ---------------------------------------------------------------
    def agent_answered_twiml(self, callback_id: str, params: dict) -> str:
        """The agent picked up: they hear what the callback is, then we dial the customer."""
        now = self.service.clock()
        leg = params.get("CallSid", "")
        req = store.get_request(callback_id)
        entry = routing.get_entry(req.queue_id, req.entry_key) if req and req.entry_key else None
        if req is None or req.status != DIALING or entry is None or entry.status != "reserved":
            return voice_twiml.hangup()  # the offer is over (expired, cancelled, a retry)
        agent = routing.get_agent(entry.reserved_agents[0])
        if agent is None or agent.state is not AgentState.RESERVED:
            return voice_twiml.hangup()
        if not self.service.agents.take_call(agent, leg, now, f"callback {callback_id}"):
            return voice_twiml.hangup()
        if not store.transition(req, int(req.version), DIALING, now, call_sid=leg,
                                leave_line=True,
                                detail=f"agent {agent.agent_id} answered; calling the customer"):
            # cancelled (or settled) this very moment: the agent's leg ends, they wrap up
            return voice_twiml.hangup()
        queue = routing.get_queue(req.queue_id)
        calls.start_callback_call(
            leg, hotline=req.hotline, customer_phone=req.phone, queue_id=req.queue_id,
            callback_id=callback_id, customer=directory.get_customer(req.phone),
            language=req.language, agent_id=agent.agent_id, now=now,
            retention_days=self.settings.call_retention_days, status_step="agent-status")
        spoken = language_for(agent, req.language)  # the agent hears these, not the customer
        if not self._cleared(req, now, queue, dialling=True, close=False):
            store.cancel(callback_id, now, "the compliance gate refused the call")
            text, voice, language = render_prompt("callback_opted_out", spoken)
            return voice_twiml.say_and_hangup(text, voice, language)
        whisper = render_prompt("callback_whisper", spoken,
                                queue=queue.name if queue else req.queue_id, customer_name=req.name,
                                attempt=int(req.attempts or 0) + 1)
        return render_dial_customer(whisper, req.phone, caller_id=req.hotline,
                                    action=self.url(callback_id, "dialed"),
                                    timeout=CUSTOMER_RING_SECONDS)

    def agent_leg_status(self, callback_id: str, params: dict) -> None:
        """The agent's call ended. Unanswered: a miss for the agent, the request keeps its place.
        Answered: the agent wraps up (the outcome came with ``customer_dialed``)."""
        now = self.service.clock()
        status = params.get("CallStatus", "")
        req = store.get_request(callback_id)
        if req is None:
            return
        record = self._apply_status(params, now)
        if record is not None and record.agent_id:
            self.service.agents.finish_call(record.agent_id, record.call_sid, now)
            if req.status == DIALING and req.call_sid == record.call_sid:
                # the agent hung up before the customer's dial ended: count it as not reached
                self._attempt_failed(req, "the agent hung up before the customer answered", now)
            return
        if status not in NOT_REACHED or req.status != DIALING or not req.entry_key:
            return
        entry = routing.get_entry(req.queue_id, req.entry_key)
        if entry is None or entry.status != "reserved":
            return
        queue = routing.get_queue(req.queue_id)
        for agent_id in entry.reserved_agents:
            self.service.agents.miss(agent_id, now, queue.max_misses if queue else MAX_MISSES)
        routing.release_entry(entry)
        store.transition(req, int(req.version), QUEUED, now,
                         detail=f"agent did not answer ({status})")

    def customer_dialed_twiml(self, callback_id: str, params: dict) -> str:
        """How the agent's dial to the customer ended (agent-first)."""
        now = self.service.clock()
        status = params.get("DialCallStatus", "")
        req = store.get_request(callback_id)
        if req is None or req.status != DIALING:
            return voice_twiml.hangup()  # already settled (a retried webhook)
        if status in ("completed", "answered"):
            talked = params.get("DialCallDuration", "0")
            self._completed(req, f"talked {talked} s", now)
            return voice_twiml.hangup()
        self._attempt_failed(req, f"customer {status or 'not reached'}", now)
        text, voice, language = render_prompt("callback_not_reached", req.language)
        return voice_twiml.say_and_hangup(text, voice, language)

    # ---- customer-first webhooks --------------------------------------------------------------
    def customer_answered_twiml(self, callback_id: str, params: dict) -> str:
        """The customer's phone answered: a person waits at the front of the line, a machine
        gets a message and the request a retry."""
        now = self.service.clock()
        sid = params.get("CallSid", "")
        req = store.get_request(callback_id)
        if req is None or req.status != DIALING:
            record = calls.get_call(sid)
            if record is not None and record.queue_id and record.queue_entry_key:  # a retry
                return render_enqueue(record.queue_id, **self.hold_urls(callback_id))
            return voice_twiml.hangup()
        line = directory.get_hotline(req.hotline)
        company = line.name if line else "us"
        answered_by = params.get("AnsweredBy", "unknown")
        if answered_by.startswith("machine") or answered_by == "fax":
            text, voice, language = render_prompt("callback_voicemail", req.language,
                                                  company=company, hotline=req.hotline)
            self._attempt_failed(req, f"answering machine ({answered_by}); left a message", now)
            return voice_twiml.say_and_hangup(text, voice, language)
        entry = routing.get_entry(req.queue_id, req.entry_key) if req.entry_key else None
        joined = entry.joined_at if entry else (req.joined_at or now)
        priority = (int(entry.priority or 0) if entry else 0) + ANSWERED_PRIORITY_BOOST
        calls.start_callback_call(
            sid, hotline=req.hotline, customer_phone=req.phone, queue_id=req.queue_id,
            callback_id=callback_id, customer=directory.get_customer(req.phone),
            language=req.language, agent_id=None, now=now,
            retention_days=self.settings.call_retention_days, status_step="customer-status")
        key = routing.join_queue(WaitingCaller(
            call_sid=sid, queue_id=req.queue_id, caller=req.phone, joined_at=joined,
            priority=priority, language=req.language, customer_name=req.name,
            country=entry.country if entry else None))
        calls.set_queue_entry(sid, req.queue_id, key)
        store.transition(req, int(req.version), CONNECTED, now, call_sid=sid, leave_line=True,
                         detail="customer answered; waiting for an agent")
        log.info("callback %s: customer answered, waiting first in line", ref(callback_id))
        greeting = render_prompt("callback_greeting", req.language, customer_name=req.name,
                                 company=company)
        return render_enqueue(req.queue_id, greeting=greeting, **self.hold_urls(callback_id))

    def customer_leg_status(self, callback_id: str, params: dict) -> None:
        """The customer's call ended (customer-first): not reached → retry; hung up while
        waiting → the line is freed like any caller's."""
        now = self.service.clock()
        status = params.get("CallStatus", "")
        req = store.get_request(callback_id)
        record = self._apply_status(params, now)
        if record is not None and status in calls.FINAL_STATUSES:
            self.service.caller_gone(record)
        if req is None:
            return
        if req.status == DIALING and status in NOT_REACHED:
            self._attempt_failed(req, f"customer {status}", now)
        elif req.status == CONNECTED and status == "completed":
            # answered, then hung up before an agent took the call: they chose to go
            store.transition(req, int(req.version), CANCELLED, now,
                             detail="customer hung up while waiting")

    def hold_twiml(self, callback_id: str, params: dict) -> str:
        """Hold music for a called-back customer, with their place in line."""
        record = calls.get_call(params.get("CallSid", ""))
        facts = self.service.hold(record) if record is not None else {"line": {}}
        text = render_prompt("callback_hold", record.language if record else None,
                             **facts["line"])
        return render_callback_hold(text, self.settings.hold_music_url)

    def agent_took_call(self, record, now: datetime) -> None:
        """An agent answered a called-back customer (the routing whisper): done."""
        req = store.get_request(record.callback_id) if record.callback_id else None
        if req is not None and req.status == CONNECTED:
            self._completed(req, f"connected to agent {record.agent_id}", now)

    # ---- outcomes --------------------------------------------------------------------------
    def _completed(self, req: CallbackRequest, detail: str, now: datetime) -> None:
        """The customer was reached: that attempt counts too (``attempts`` = calls placed)."""
        if store.transition(req, int(req.version), COMPLETED, now, detail=detail,
                            attempts=int(req.attempts or 0) + 1,
                            leave_line=bool(req.entry_key)):
            log.info("callback %s completed", ref(req.callback_id))

    def _attempt_failed(self, req: CallbackRequest, reason: str, now: datetime,
                        retry: bool = True) -> None:
        """One attempt did not reach the customer: try again later, or give up politely."""
        attempts = int(req.attempts or 0) + 1
        queue = routing.get_queue(req.queue_id)
        when = None
        if retry and queue is not None and attempts < queue.callback_max_attempts:
            after = retry_at(attempts, now, jitter=random.random())  # noqa: S311
            when = self._next_window(req.phone, after, queue)
        if when is not None:
            store.transition(req, int(req.version), "scheduled", now, due_at=when,
                             attempts=attempts, last_error=reason, detail=reason,
                             leave_line=bool(req.entry_key))
            log.info("callback %s: attempt %d failed (%s); next at %s", ref(req.callback_id),
                     attempts, reason, when.isoformat())
            return
        self._fail(req, reason, now, attempts)

    def _fail(self, req: CallbackRequest, reason: str, now: datetime,
              attempts: int | None = None) -> int:
        attempts = attempts if attempts is not None else int(req.attempts or 0)
        if not store.transition(req, int(req.version), FAILED, now, attempts=attempts,
                                last_error=reason, detail=reason,
                                leave_line=bool(req.entry_key)):
            return 0
        log.info("callback %s failed: %s", ref(req.callback_id), reason)
        self._apologise(req, attempts, now)
        try:
            record_missed_call(hotline=req.hotline, caller=req.phone, reason="callback_failed",
                               call_sid=req.call_sid, language=req.language,
                               queue_id=req.queue_id, now=now, settings=self.settings,
                               gate=self.gate)
        except Exception:  # noqa: BLE001 - the failure itself is recorded already
            log.exception("callback %s: missed-call record failed", ref(req.callback_id))
        return 1

    def _apologise(self, req: CallbackRequest, attempts: int, now: datetime) -> None:
        if attempts == 0:
            return  # never tried (e.g. an invalid number): there is nobody to apologise to
        text = render_prompt("callback_apology", req.language, customer_name=req.name,
                             attempts=attempts, hotline=req.hotline)[0]
        send_sms(key=f"callback-apology:{req.callback_id}", to=req.phone, sender=req.hotline,
                 body=text, template="callback_apology", call_sid=req.call_sid,
                 settings=self.settings, now=now, gate=self.gate)

    def _rest_failed(self, callback_id: str, exc: Exception, now: datetime) -> None:
        """Twilio refused the call: 429 and 5xx are retried with backoff; any other 4xx (an
        invalid or unreachable number) ends the request with Twilio's reason."""
        status = getattr(exc, "status", None)
        code = getattr(exc, "code", None)
        reason = f"Twilio {status or type(exc).__name__}" + (f" ({code})" if code else "")
        req = store.get_request(callback_id)
        if req is None:
            return
        transient = status is None or status == 429 or int(status) >= 500
        log.warning("callback %s: placing the call failed: %s", ref(callback_id), reason)
        self._attempt_failed(req, reason, now, retry=transient)

    def _apply_status(self, params: dict, now: datetime):
        """Record the callback call's status on its call record; None if stale or unknown."""
        def number(name):
            return whole_number(params.get(name))

        return calls.apply_status(params["CallSid"], params.get("CallStatus", ""),
                                  sequence=number("SequenceNumber") or 0,
                                  duration=number("CallDuration"), now=now,
                                  retention_days=self.settings.call_retention_days,
                                  existing_only=True)

    def _cleared(self, req: CallbackRequest, now: datetime, queue: QueueConfig | None, *,
                 dialling: bool = False, close: bool = True) -> bool:
        """May the customer be called now? The compliance gate decides: ``dialling`` admits the
        call (counted once per attempt), else it is only checked. A refusal that waiting does
        not cure (opted out, on our do-not-call list) closes the request when ``close``; one
        that passes with time leaves it for the next round."""
        attempt = int(req.attempts or 0) + 1
        zone = ((queue.hours if queue else None) or {}).get("timezone", "UTC")
        if dialling:
            decision = self.gate.admit(req.phone, VOICE, REQUESTED, caller_id=req.hotline,
                                       key=f"callback:{req.callback_id}:{attempt}",
                                       agent_reserved=True, fallback_tz=zone)
        else:
            decision = self.gate.check(req.phone, VOICE, REQUESTED, caller_id=req.hotline,
                                       at=now, agent_reserved=True, fallback_tz=zone)
        if decision.allowed:
            return True
        lasting = decision.next_allowed_at is None
        if lasting and close:
            detail = "the number opted out" if OPTED_OUT in decision.reasons else \
                "refused: " + ", ".join(decision.reasons)
            store.cancel(req.callback_id, now, detail)
        log.info("callback %s: not calling %s now: %s", ref(req.callback_id),
                 mask_number(req.phone), ", ".join(decision.reasons))
        return False

    # ---- what routing asks of callbacks (routing.ports.CallbackDesk) ---------------------
    def requeue_twiml(self, record, queue_id: str | None) -> str:
        """A called-back customer goes back on hold in their line (they have no IVR flow)."""
        return render_enqueue(queue_id or record.queue_id, **self.hold_urls(record.callback_id))

    @staticmethod
    def open_request_in(queue_id: str, phone: str | None) -> CallbackRequest | None:
        return open_request_in(queue_id, phone)

    @staticmethod
    def close_as_called_in(request: CallbackRequest, now: datetime) -> bool:
        return close_as_called_in(request, now)

    def keep_place(self, record, queue_id: str, language: str | None, name: str | None,
                   joined_at: datetime, ticket: int | None = None) -> bool:
        """A queue-callback request for the caller, placed in line at ``joined_at``; False
        when the caller's number cannot be called back (anonymous, a client, a short code)."""
        phone = callable_caller(record.caller)
        if phone is None:
            log.info("call %s: no number to call back", record.call_sid)
            return False
        request_callback(hotline=record.hotline, queue_id=queue_id, phone=phone, name=name,
                         language=language, kind="queue", now=self.service.clock(),
                         joined_at=joined_at, ticket=ticket)
        return True

    def abandoned(self, record, entry: LineEntry, now: datetime) -> None:
        """A caller hung up in line: a missed call for the hotline's follow-up."""
        record_missed_call(hotline=record.hotline, caller=record.caller, reason="abandoned",
                           call_sid=record.call_sid, language=entry.language or record.language,
                           queue_id=entry.queue_id, now=now, settings=self.service.settings,
                           gate=self.gate)

    def hold_urls(self, callback_id: str) -> dict:
        """A called-back customer in line: ``wait_url`` plays the hold, ``action`` hears the
        wait end (``render_enqueue``'s keywords)."""
        return {"wait_url": self.url(callback_id, "hold"), "action": self.url(callback_id, "left")}

    def _may_call(self, phone: str, at: datetime, queue: QueueConfig) -> bool:
        return may_call_at(phone, at, queue.hours or None,
                           fallback_tz=(queue.hours or {}).get("timezone", "UTC"))

    def _next_window(self, phone: str, after: datetime, queue: QueueConfig) -> datetime | None:
        return next_contact_time(phone, after, queue.hours or None,
                                 fallback_tz=(queue.hours or {}).get("timezone", "UTC"))
