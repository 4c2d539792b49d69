"""Dispatch: pair waiting callers with free agents and connect them through Twilio.

A dispatch round for a queue reads the line (one Query) and the queue's free agents (the sparse
``free`` index and a BatchGet), lets the pure ``selection.choose_offers`` decide, then tries each
offer as one DynamoDB transaction (``store.routing.reserve``). An offer that loses a race is
simply dropped: the next round sees the new state. Each reservation that wins becomes one Twilio
REST request that redirects the waiting call to TwiML dialling the agent with a whisper.

Rounds run when a caller joins, when an agent becomes available, when a hold request finds the
queue's counts showing a free agent, and for the queues the scheduled sweeper repaired (it reads
only what its ``due`` indexes list: reservations whose webhooks were lost, wrap-ups over). One
dispatcher runs a queue at a time (``store.dispatch_lease``).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cached_property

from chalicelib.calls.model import Call
from chalicelib.hours.schedule import open_at
from chalicelib.observability import metric
from chalicelib.prompts import render_prompt
from chalicelib.routing import agent_states, queue_facts, selection
from chalicelib.routing.agents import AGENT_RING_SECONDS, MAX_MISSES, AgentBook
from chalicelib.routing.consult import WarmTransfers
from chalicelib.routing.estimates import estimated_wait
from chalicelib.routing.hold import MONITORED, CallHold
from chalicelib.routing.model import (
    Agent,
    AgentState,
    LineEntry,
    QueuePresence,
    Strategy,
    TransferRefused,
    WaitingCaller,
    language_for,
)
from chalicelib.routing.monitor import CallMonitor
from chalicelib.routing.ports import CallbackDesk
from chalicelib.routing.urls import RoutingUrls
from chalicelib.settings import Settings
from chalicelib.store import calls, claims, dispatch_lease, facts, routing
from chalicelib.telephony import twiml as voice_twiml
from chalicelib.telephony.rest import CallGone, Connector
from chalicelib.telephony.twiml import VoiceUrls
from chalicelib.telephony.twiml_routing import render_connect, render_dial_out, render_enqueue
from chalicelib.telephony.webhook_request import whole_number

log = logging.getLogger(__name__)

MAX_HEALING_ROUNDS = 5  # routing rounds in a row while dead entries keep turning up
MAX_ASKED_ROUNDS = 5  # rounds one lease holder runs for requests that found the queue busy
SWEEP_BUDGET_SECONDS = 10.0  # one sweep's work; the job's Lambda times out at 20 s
LINE_HEALING_SHARE = 1 / 16  # rounds that also heal the line's ticket bands


class QueueConfigs:
    """Queue configurations read at most once per webhook: one request may consult the same
    queue several times (admission, overflow, joining the line)."""

    def __init__(self):
        self._read: dict[str, object] = {}

    def get(self, queue_id: str):
        if queue_id not in self._read:
            self._read[queue_id] = routing.get_queue(queue_id)
        return self._read[queue_id]


class RoutingService:
    """Queues and agents. ``clock``: aware UTC now; ``connector``: how calls are moved (Twilio's
    REST API); ``callbacks``: builds the callbacks port for this service (callbacks build on
    routing, so routing knows them only through ``routing.ports.CallbackDesk``). The
    composition root (``wiring.py``) builds it."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime],
        connector: Connector,
        callbacks: Callable[[RoutingService], CallbackDesk],
    ):
        self.settings = settings
        self.clock = clock
        self.connector = connector
        self.agents = AgentBook()
        self.callbacks: CallbackDesk = callbacks(self)

    @property
    def urls(self) -> RoutingUrls:
        return RoutingUrls(self.settings.public_base_url)

    @cached_property
    def warm(self) -> WarmTransfers:
        """Warm transfers (consult first, then hand over): ``routing/consult.py``."""
        return WarmTransfers(self)

    @cached_property
    def holds(self) -> CallHold:
        """Hold and resume (the caller on music): ``routing/hold.py``."""
        return CallHold(self)

    @cached_property
    def monitors(self) -> CallMonitor:
        """Supervisors listening, whispering or barging in: ``routing/monitor.py``."""
        return CallMonitor(self)

    # ---- joining and waiting -------------------------------------------------------------
    def overflow_reason(self, queue_id: str, queues: QueueConfigs | None = None) -> str | None:
        """Why ``queue_id`` cannot take another caller now (closed, no agent logged in, full),
        or None. A queue with no routing configuration takes everyone onto hold music."""
        queue = (queues or QueueConfigs()).get(queue_id)
        if queue is None:
            return None
        if not open_at(queue.hours, self.clock()):
            return "closed"
        waiting = routing.line_length(queue_id)
        logged_in = routing.queue_presence(queue_id).logged_in
        return selection.overflow_action(queue, waiting, logged_in, 0)

    def join(
        self,
        record: Call,
        queue_id: str,
        language: str | None,
        country: str | None,
        queues: QueueConfigs | None = None,
    ) -> bool:
        """Put a caller the IVR handed to ``queue_id`` in line (after the step is saved).

        One person, one offer: a caller with an open callback request in this queue takes the
        better of the two places and the request closes as "called in". Returns False, leaving
        nothing in line, when the call ended meanwhile (its final status was handled first).
        """
        return self._line_up(record, queue_id, language, country, queues) is not None

    def _line_up(self, record: Call, queue_id: str, language: str | None, country: str | None,
                 queues: QueueConfigs | None = None) -> Call | None:
        """``join``, returning the call as it now stands (its queue and place in line), or
        None when it did not join."""
        queue = (queues or QueueConfigs()).get(queue_id)
        if queue is None:
            return None
        customer = record.customer or {}
        now = self.clock()
        request = self.callbacks.open_request_in(queue_id, record.caller)
        joined = min(now, request.joined_at) if request and request.joined_at else now
        priority = queue.vip_priority if customer.get("vip") else 0
        # taking the request's earlier place in line takes its ticket too (same band only)
        kept = routing.get_entry(queue_id, request.entry_key) \
            if request is not None and request.entry_key and joined < now else None
        ticket = kept.ticket if kept is not None and kept.priority == priority else None
        caller = WaitingCaller(
            call_sid=record.call_sid,
            queue_id=queue_id,
            caller=record.caller or "",
            joined_at=joined,
            priority=priority,
            language=language,
            country=country,
            customer_name=customer.get("name"),
            vip=bool(customer.get("vip")),
            dedicated_agent=customer.get("account_manager"),
            sticky_agent=self._last_agent(record.caller, queue, now),
            ticket=ticket,
        )
        key, created = routing.add_to_line(caller)
        if not calls.set_queue_entry(record.call_sid, queue_id, key):
            # the request keeps its place, and the ticket the call borrowed
            routing.leave_queue(queue_id, key, ticket_handed_over=ticket is not None)
            log.info("call %s ended before it could join %s", record.call_sid, queue_id)
            return None
        if request is not None:
            if ticket is not None and kept is not None:
                routing.hand_over_ticket(queue_id, kept.entry_key)  # its leaving records none
            self.callbacks.close_as_called_in(request, now)
        if created:
            routing.count_in_queue_day(queue, now, shard_key=key, offered=1)
            facts.record(queue_facts.offered(queue, key, now, record.hotline))
            metric("CallsOffered")
        return replace(record, queue_id=queue_id, queue_entry_key=key)

    @staticmethod
    def _last_agent(phone: str | None, queue, now: datetime) -> str | None:
        """Who served this caller last, if within the queue's sticky window (sticky routing)."""
        if not phone or queue.sticky_days <= 0:
            return None
        contact = routing.get_contact(phone)
        if contact is None or contact.last_served_at is None:
            return None
        if now - contact.last_served_at > timedelta(days=queue.sticky_days):
            return None
        return contact.last_agent_id

    def overflow_of(self, queue_id: str, queues: QueueConfigs | None = None) -> dict:
        """The queue's own overflow action ({kind: queue|callback|transfer, ...}), or {}."""
        queue = (queues or QueueConfigs()).get(queue_id)
        return dict(queue.overflow) if queue is not None and queue.overflow else {}

    def keep_place(self, record: Call, queue_id: str, language: str | None) -> None:
        """An overflow to callback: a queue-callback request joins the line now."""
        customer = record.customer or {}
        self._queue_callback(record, queue_id, language, customer.get("name"), self.clock())

    def _queue_callback(self, record: Call, queue_id: str, language: str | None, name: str | None,
                        joined_at: datetime, ticket: int | None = None) -> bool:
        """Store a queue-callback request for the caller, placed in line at ``joined_at``
        (with ``ticket``, the call's own, when it takes the call's place)."""
        return self.callbacks.keep_place(record, queue_id, language, name, joined_at, ticket)

    def choose_voicemail(self, record: Call) -> bool:
        """The caller pressed 2 on hold: out of dispatch now; their leaving means voicemail."""
        if not record.queue_id or not record.queue_entry_key:
            return False
        return routing.mark_entry(record.queue_id, record.queue_entry_key, "voicemail")

    def leave(self, record: Call, result: str | None = None) -> str | None:
        """The caller left the queue before an agent took them: out of our line too. Twilio's
        ``QueueResult`` says how; ``hangup`` is an abandoned call (counted, and a missed call
        for the hotline's follow-up). Returns why they left: "voicemail" when they chose it,
        else None (the queue gave up, or the caller did)."""
        entry = routing.get_entry(record.queue_id, record.queue_entry_key)
        if entry is None or entry.kind != "call":
            return None
        if entry.status == "voicemail":
            routing.remove_entry(entry.queue_id, entry.entry_key, ("voicemail",))
            return "voicemail"
        # the final status callback may be freeing this place at the same moment: whichever
        # request removes the entry counts the abandoned call, the other nothing
        if entry.status == "waiting" and \
                routing.remove_entry(entry.queue_id, entry.entry_key, ("waiting",)) and \
                result == "hangup":
            self._abandoned(record, entry, self.clock())
        return None

    def hold(self, record: Call) -> dict:
        """Everything one hold-music request needs, read once: run a dispatch round for the
        queue, then the caller's place, the estimated wait, the limit and the offers.

        Returns ``{"line": {queue_position, estimated_wait_minutes}, "max_wait": seconds,
        "offers": {callback, voicemail}, "announce_every": seconds}``; empty facts for a queue
        without routing.
        """
        stored = routing.get_queue_routing(record.queue_id) if record.queue_id else None
        if stored is None:
            return {"line": {}, "max_wait": None, "offers": self.hold_offers(None),
                    "announce_every": 0}
        queue = stored.config
        # a round only when one could offer: an agent is free, or a wrap-up may be over
        # (dispatch and ending wrap-ups move no one in or out of ``staffed``)
        agents = routing.queue_presence(queue.queue_id)
        if agents[AgentState.AVAILABLE] > 0:
            self.dispatch(queue.queue_id, queue=queue, presence=agents)
        elif agents[AgentState.WRAP_UP] > 0:
            self.end_due_wrap_ups(self.clock())
        line = {}
        if record.queue_entry_key:
            position = routing.position_in_line(queue.queue_id, record.queue_entry_key)
            wait = estimated_wait(position, agents.staffed, list(stored.handle_times))
            line = {"queue_position": position}
            if wait:  # 0: an agent is free ("shortly"); None: nobody staffed
                line["estimated_wait_minutes"] = max(1, round(wait / 60))
        offers = {"callback": queue.offer_callback, "voicemail": queue.offer_voicemail}
        return {"line": line, "max_wait": queue.max_wait_seconds, "offers": offers,
                "announce_every": queue.announce_every_seconds}

    def end_due_wrap_ups(self, now: datetime) -> int:
        """End the wrap-ups that are over (``_end_wrap_ups_due``), then dispatch the queues of
        the agents freed; how many ended."""
        ended = self._end_wrap_ups_due(now)
        for queue_id in sorted({queue_id for agent in ended for queue_id in agent.queues}):
            self.dispatch(queue_id)
        return len(ended)

    def hold_offers(self, queue_id: str | None) -> dict:
        """Which keys a waiting caller is offered: 1 = callback keeping the place, 2 = voicemail."""
        queue = routing.get_queue(queue_id) if queue_id else None
        if queue is None:
            return {"callback": False, "voicemail": False}
        return {"callback": queue.offer_callback, "voicemail": queue.offer_voicemail}

    def keep_place_for_callback(self, record: Call) -> bool:
        """The caller pressed 1: a queue-callback request takes their place in line (their
        original join time), and the call's own entry leaves it."""
        if not record.queue_id or not record.queue_entry_key:
            return False
        entry = routing.get_entry(record.queue_id, record.queue_entry_key)
        if entry is None or not routing.mark_entry(entry.queue_id, entry.entry_key, "callback"):
            return False  # already reserved for an agent, or gone: the call goes on
        # a callback waits in the normal band: it takes the call's ticket when of that band
        ticket = entry.ticket if entry.priority <= 0 else None
        try:
            stored = self._queue_callback(record, entry.queue_id, record.language,
                                          entry.customer_name, entry.joined_at, ticket)
        except Exception:  # noqa: BLE001 - keep the caller in line rather than lose them
            log.exception("call %s: could not store the queue callback", record.call_sid)
            stored = False
        if not stored:
            routing.set_entry_status(entry.queue_id, entry.entry_key, "callback", "waiting")
            return False
        # the request holds the call's ticket now (or recorded it gone, when one existed)
        routing.leave_queue(entry.queue_id, entry.entry_key,
                            ticket_handed_over=ticket is not None)
        return True

    # ---- dispatch -------------------------------------------------------------------------
    def agent_became_available(self, agent_id: str) -> int:
        """Dispatch every queue the agent serves; return how many callers were offered."""
        agent = routing.get_agent(agent_id)
        if agent is None:
            return 0
        return sum(self.dispatch(queue_id, free=(agent_id,)) for queue_id in sorted(agent.queues))

    def dispatch(self, queue_id: str, queue=None, free: tuple[str, ...] = (),
                 presence: QueuePresence | None = None) -> int:
        """Routing for ``queue_id``; return the number of reservations made. ``queue`` and the
        queue's counts (``presence``) may be passed when the caller has just read them;
        ``free``: agents the caller knows to have just become available (the index of free
        agents may not show them yet).

        A round runs only when the queue's counts say an offer is possible (an agent free, or
        one in wrap-up that may be done), and only one dispatcher runs a queue at a time
        (``store.dispatch_lease``): a request that finds it busy asks the holder for one more
        round instead. A round reads the line, the queue's free agents and the waiting
        callers' own agents, never all its agents.

        A line heals itself: an entry whose call turns out to be over (Twilio refuses to move
        it) is taken out and counted as abandoned, and the round runs again at once, so one
        dead entry at the front never keeps a free agent from the live callers behind it.
        """
        queue = queue or routing.get_queue(queue_id)
        if queue is None:
            return 0
        agents = presence or routing.queue_presence(queue_id, consistent=True)
        wrapping = agents[AgentState.WRAP_UP] > 0
        if not free and agents[AgentState.AVAILABLE] <= 0 and not wrapping:
            return 0
        token = dispatch_lease.take(queue_id, self.clock())
        if token is None:
            return 0  # the queue is being dispatched: its holder runs one more round for us
        made, released = 0, False
        try:
            for _ in range(MAX_ASKED_ROUNDS):
                made += self._rounds(queue_id, queue, free, wrapping)
                released = dispatch_lease.release(queue_id, token)
                if released:
                    break
        finally:
            if not released:
                dispatch_lease.let_go(queue_id, token)
        return made

    def _rounds(self, queue_id: str, queue, free: tuple[str, ...], wrapping: bool) -> int:
        """Routing rounds until no dead entry turns up (``dispatch``)."""
        made = 0
        for _ in range(MAX_HEALING_ROUNDS):
            offered, healed = self._round(queue_id, queue, free, wrapping)
            made += offered
            if not healed:
                break
        return made

    def _round_agents(self, queue_id: str, waiting: list[WaitingCaller], free: tuple[str, ...],
                      wrapping: bool, now: datetime) -> list[Agent]:
        """The agents a round chooses among: the queue's free ones, those just freed, the
        waiting callers' own agents (a dedicated or sticky agent, in any state: selection may
        hold a caller for them), and those whose wrap-up was over and is ended now (a waiting
        caller never waits for the minute's sweep to free an agent whose after-call work is
        done)."""
        ids = set(routing.free_agents(queue_id)) | set(free)
        ids |= {agent_id for caller in waiting
                for agent_id in (caller.dedicated_agent, caller.sticky_agent) if agent_id}
        if wrapping:
            ids |= {agent.agent_id for agent in self._end_wrap_ups_due(now)
                    if queue_id in agent.queues}
        return routing.get_agents(sorted(ids))

    def _end_wrap_ups_due(self, now: datetime, limit: int = 10) -> list[Agent]:
        """End the wrap-ups the sparse ``due`` index says are over (up to ``limit`` a shard),
        whichever queues they serve; the agents ended."""
        ended: list[Agent] = []
        for agent in routing.get_agents(routing.due_agents(now, limit)):
            if agent_states.wrap_up_over(agent, now) and self.agents.end_wrap_up(agent, now):
                ended.append(agent)
        return ended

    def _round(self, queue_id: str, queue, free: tuple[str, ...] = (),
               wrapping: bool = False) -> tuple[int, int]:
        """One routing round: ``(reservations made, dead entries removed)``."""
        now = self.clock()
        line = routing.queue_entries(queue_id)
        if line and random.random() < LINE_HEALING_SHARE:
            # the ticket bands forget places left with no departure recorded (a lost write,
            # an entry expired): now and then, from the head just read (one small Query)
            routing.compact_line(queue_id, line)
        entries = {e.call_sid: e for e in line}
        agent_first = queue.callback_strategy != "customer-first"
        waiting = [
            routing.to_waiting(e)
            for e in line
            if e.status == "waiting" and (e.kind == "call" or (
                e.kind == "callback" and agent_first
                and self.callbacks.allowed_now(e, queue, now)))
        ]
        if not waiting and agent_first:
            return 0, 0
        agents = self._round_agents(queue_id, waiting, free, wrapping, now)
        made = healed = 0
        if not agent_first and any(e.kind == "callback" for e in line):
            dialled = self.callbacks.call_customers_first(queue, line, agents, now)
            made += dialled
            # each customer being called back keeps one free agent for when they answer
            held = dialled + sum(e.kind == "callback" and e.status == "dialing" for e in line)
            kept = sorted((a for a in agents if a.state is AgentState.AVAILABLE),
                          key=lambda a: (a.idle_since or now, a.agent_id))[:held]
            agents = [a for a in agents if a not in kept]
            if not waiting:
                return made, 0
        pointer = routing.round_robin_pointer(queue_id) if queue.strategy is Strategy.ROUND_ROBIN \
            else None
        offers = selection.choose_offers(queue, waiting, agents, now, last_agent_id=pointer)
        for offer in offers:
            entry = entries[offer.caller.call_sid]
            if not self.agents.reserve(entry, list(offer.agents), now):
                continue  # another dispatcher won this caller or agent: the next round decides
            if queue.strategy is Strategy.ROUND_ROBIN:
                routing.set_round_robin_pointer(queue_id, offer.agents[-1].agent_id)
            if entry.kind == "callback":
                made += self.callbacks.offer_to_agent(entry, list(offer.agents), queue, now)
                continue
            try:
                self.connector.redirect(entry.call_sid, self.urls.connect(queue_id, entry.call_sid))
            except CallGone:
                healed += self._drop_dead_entry(entry, offer.agents, now)
                continue
            except Exception:  # noqa: BLE001 - the caller stays in line, the agents are freed
                log.exception("could not connect call %s; releasing", entry.call_sid)
                self.agents.undo_reservation(entry, offer.agents, now, "connect failed")
                if calls.is_over(calls.get_call(entry.call_sid)):
                    healed += self._drop_dead_entry(entry, (), now)
                continue
            made += 1
            log.info("call %s offered to %s in %s", entry.call_sid,
                     ",".join(a.agent_id for a in offer.agents), queue_id)
        return made, healed

    def _drop_dead_entry(self, entry: LineEntry, agents, now: datetime) -> int:
        """The entry's call is over though no final status reached us (lost, or not yet
        arrived): free its agents, take it out of the line and count it abandoned, once."""
        for agent in agents:
            self.agents.free(agent.agent_id, now, "caller already gone")
        log.warning("call %s in %s is over; taken out of the line", entry.call_sid,
                    entry.queue_id)
        if not routing.remove_entry(entry.queue_id, entry.entry_key, ("waiting", "reserved")):
            return 0  # its final status freed the place meanwhile
        record = calls.get_call(entry.call_sid)
        if record is not None:
            self._abandoned(record, entry, now)
        return 1

    # ---- the connection through Twilio -------------------------------------------------------
    def connect_twiml(self, queue_id: str, call_sid: str) -> str:
        """The redirected caller's TwiML: dial the reserved agent(s), each with a whisper."""
        record = calls.get_call(call_sid)
        entry = routing.get_entry(queue_id, record.queue_entry_key) if record else None
        if entry is None or entry.status != "reserved":
            return self.requeue_twiml(record)
        queue = routing.get_queue(queue_id)
        agents = routing.get_agents(list(entry.reserved_agents))
        return render_connect(
            [(agent.endpoint, self.urls.whisper(queue_id, call_sid, agent.agent_id))
             for agent in agents],
            action=self.urls.dialed(queue_id, call_sid),
            timeout=AGENT_RING_SECONDS,
            record=bool(queue and queue.record),
            recording_status=self.urls.recording_status,
        )

    def whisper_twiml(self, queue_id: str, call_sid: str, agent_id: str,
                      leg_sid: str | None = None) -> str:
        """The agent answered: they are on the call, others offered the call are freed."""
        now = self.clock()
        record = calls.get_call(call_sid)
        agent = routing.get_agent(agent_id)
        if record is not None and record.agent_id == agent_id and agent is not None \
                and agent.current_call == call_sid:
            # Twilio retried this request: the agent is already on this call; whisper again.
            return self._whisper(record, agent, queue_id, waited=None)
        entry = routing.get_entry(queue_id, record.queue_entry_key) if record else None
        if record is None or entry is None or agent is None \
                or agent.state is not AgentState.RESERVED:
            return voice_twiml.hangup()  # the reservation is over: this leg must not bridge
        if not self.agents.take_call(agent, call_sid, now, f"call {call_sid}"):
            return voice_twiml.hangup()  # the reservation expired this very moment
        for other in entry.reserved_agents:
            if other != agent_id:
                self.agents.free(other, now, "answered by another agent")
        routing.leave_queue(queue_id, entry.entry_key)
        calls.set_agent(call_sid, agent_id, leg_sid)
        if record.callback_id:
            record = replace(record, agent_id=agent_id)
            self.callbacks.agent_took_call(record, now)
        queue = routing.get_queue(queue_id)
        waited = round((now - entry.joined_at).total_seconds())
        level = queue.service_level_seconds if queue else 20
        metric("CallsAnswered")
        if queue is not None:
            routing.count_in_queue_day(queue, now, shard_key=entry.entry_key, answered=1,
                                       answered_in_sl=int(waited <= level), wait_seconds=waited)
            facts.record(queue_facts.answered(queue, entry.entry_key, now, record.hotline,
                                              agent_id, waited))
        if record.caller:
            routing.remember_contact(record.caller, {
                "call_sid": call_sid, "at": now.isoformat(), "queue_id": queue_id,
                "agent_id": agent_id, "outcome": "answered"}, now)
        return self._whisper(record, agent, queue_id, waited, entry, queue)

    def _whisper(self, record: Call, agent: Agent, queue_id: str, waited: int | None,
                 entry: LineEntry | None = None, queue=None) -> str:
        """What the agent hears before the caller is put through (the queue may switch it off),
        in a language the agent speaks: the caller's if they share it."""
        queue = queue or routing.get_queue(queue_id)
        if queue is not None and not queue.whisper:
            return voice_twiml.empty()
        customer = record.customer or {}
        text, voice, language = render_prompt(
            "whisper",
            language_for(agent, record.language),
            queue=queue.name if queue else queue_id,
            caller_name=entry.customer_name if entry else customer.get("name"),
            vip=bool(entry.vip) if entry else bool(customer.get("vip")),
            waited_minutes=max(0, round((waited or 0) / 60)),
        )
        return voice_twiml.say(text, voice, language)

    def dialed_twiml(self, queue_id: str, call_sid: str, params: dict) -> str:
        """The agent leg ended. Answered: wrap-up, the call is done. Not answered: the caller
        goes back to the front of the line and the agents who let it ring log a miss."""
        now = self.clock()
        status = params.get("DialCallStatus", "")
        record = calls.get_call(call_sid)
        into_room = self.monitors.caller_twiml(record) if record is not None else None
        if into_room:
            return into_room  # a supervisor's monitor moved the agent into a room
        if record is not None and record.consult_state:
            return self.warm.on_hold_twiml()  # the agent stepped aside: a hold or a consult
        if status in ("completed", "answered") and record is not None and record.agent_id:
            self.agents.finish_call(record.agent_id, call_sid, now)
            duration = whole_number(params.get("DialCallDuration"))
            # one talk-time sample per agent leg, however often Twilio replays this request
            leg = params.get("DialCallSid") or record.agent_leg_sid or record.agent_id
            if duration is not None and claims.claim(f"handle-time:{call_sid}:{leg}", now):
                routing.add_handle_time(queue_id, duration, sample_key=f"{call_sid}:{leg}")
            calls.set_outcome(call_sid, "agent")
            return voice_twiml.hangup()
        entry = routing.get_entry(queue_id, record.queue_entry_key) if record else None
        if entry is not None and entry.status == "reserved":
            queue = routing.get_queue(queue_id)
            for agent_id in entry.reserved_agents:
                if status == "canceled":  # the caller hung up while it rang: nobody missed it
                    self.agents.free(agent_id, now, "caller hung up")
                else:
                    self.agents.miss(agent_id, now, queue.max_misses if queue else MAX_MISSES)
            routing.release_entry(entry)
        return self.requeue_twiml(record)

    def requeue_call_twiml(self, call_sid: str) -> str:
        """The caller's leg failed mid-connection: back in line (reads the call record)."""
        return self.requeue_twiml(calls.get_call(call_sid))

    def record_agent_recording(self, call_sid: str, params) -> None:
        """Twilio's recordingStatusCallback for a queue's dual-channel agent recording."""
        calls.set_recording(call_sid, {
            "sid": params.get("RecordingSid"),
            "status": params.get("RecordingStatus"),
            "url": params.get("RecordingUrl"),
            "duration": params.get("RecordingDuration"),
            "channels": params.get("RecordingChannels"),
        })

    def requeue_twiml(self, record: Call | None, queue_id: str | None = None) -> str:
        """Back into a Twilio queue, at the flow's queue node (our line keeps the place)."""
        if record is not None and record.callback_id:  # a called-back customer: no IVR flow
            return self.callbacks.requeue_twiml(record, queue_id)
        if record is None or not record.node:
            return voice_twiml.hangup()
        urls = VoiceUrls(self.urls.base)
        return render_enqueue(queue_id or record.queue_id or "default",
                              action=urls.step(record.step, record.node),
                              wait_url=urls.hold(record.node))

    def caller_gone(self, record: Call) -> None:
        """The caller's call ended: free what it held (an entry, a reservation, an agent)."""
        now = self.clock()
        self.monitors.call_over(record)
        self.warm.caller_gone(record)
        self.holds.caller_gone(record)
        if record.queue_id and record.queue_entry_key:
            entry = routing.get_entry(record.queue_id, record.queue_entry_key)
            if entry is not None and entry.kind == "call" and entry.status != "callback":
                if entry.status == "reserved":
                    for agent_id in entry.reserved_agents:
                        self.agents.free(agent_id, now, "caller hung up")
                # the Enqueue action (QueueResult=hangup) may be racing us for this place:
                # the request that removes the entry counts the abandoned call
                waited = entry.status in ("waiting", "reserved")
                if routing.remove_entry(entry.queue_id, entry.entry_key,
                                        ("waiting", "reserved", "voicemail")) and waited:
                    self._abandoned(record, entry, now)
        if record.agent_id:
            self.agents.finish_call(record.agent_id, record.call_sid, now)

    def _abandoned(self, record: Call, entry: LineEntry, now: datetime) -> None:
        """A caller hung up while waiting: the day's abandon count, the caller's contact
        history, and a missed call for the hotline's follow-up."""
        metric("CallsAbandoned")
        queue = routing.get_queue(entry.queue_id)
        if queue is not None:
            routing.count_in_queue_day(queue, now, shard_key=entry.entry_key, abandoned=1)
            waited = round((now - entry.joined_at).total_seconds())
            facts.record(queue_facts.abandoned(queue, entry.entry_key, now, record.hotline,
                                               waited))
        if record.caller:
            routing.remember_contact(record.caller, {
                "call_sid": record.call_sid, "at": now.isoformat(), "queue_id": entry.queue_id,
                "agent_id": None, "outcome": "abandoned"}, now)
        try:
            self.callbacks.abandoned(record, entry, now)
        except Exception:  # noqa: BLE001 - never break the status callback
            log.exception("call %s: missed call (abandoned) not recorded", record.call_sid)

    # ---- transfers ------------------------------------------------------------------------
    def current_call_of(self, agent_id: str) -> Call:
        """The call record of the call ``agent_id`` is talking on, or TransferRefused."""
        agent = routing.get_agent(agent_id)
        call_sid = agent.current_call if agent else None
        if agent is None or agent.state is not AgentState.ON_CALL or not call_sid:
            raise TransferRefused(f"agent {agent_id} is not on a call")
        record = calls.get_call(call_sid)
        if record is None:
            raise TransferRefused(f"call {call_sid} is unknown")
        return record

    def transfer(self, agent_id: str, kind: str, target: str, mode: str = "cold") -> dict:
        """Transfer the agent's current caller to a queue, an agent or an outside number.

        The call record (IVR path, inputs, customer) goes with the caller, so the next agent's
        screen pop shows the same context; the transfer itself is added to the record. A cold
        transfer ends the agent's leg at once (wrap-up); a warm one consults first
        (``routing/consult.py``).
        """
        if mode == "warm":
            return self.warm.start(agent_id, kind, target)
        now = self.clock()
        record = self.current_call_of(agent_id)
        if record.consult_state:
            raise TransferRefused("the caller is on hold or in a warm transfer; resume, "
                                  "complete or cancel it first")
        if record.monitor:
            raise TransferRefused(MONITORED)
        call_sid = record.call_sid
        if kind == "number":
            body = render_dial_out(target, timeout=AGENT_RING_SECONDS * 2)
            self.connector.redirect_twiml(call_sid, body)
        elif kind == "queue":
            queue = routing.get_queue(target)
            if queue is None:
                raise TransferRefused(f"no queue '{target}'")
            self.join(record, target, record.language, None)
            self.connector.redirect_twiml(call_sid, self.requeue_twiml(record, target))
        elif kind == "agent":
            queue_id = self._reserve_for_agent(record, target, now)
            self.connector.redirect(call_sid, self.urls.connect(queue_id, call_sid))
        else:
            raise TransferRefused(f"cannot transfer to a '{kind}'")
        self.agents.finish_call(agent_id, call_sid, now, transferred=True)
        calls.add_transfer(call_sid, {"at": now.isoformat(), "from_agent": agent_id,
                                      "to": kind, "target": target})
        log.info("call %s transferred by %s to %s %s", call_sid, agent_id, kind,
                 target if kind != "number" else "(number)")
        return {"call_sid": call_sid, "to": kind, "target": target}

    def _reserve_for_agent(self, record: Call, agent_id: str, now: datetime) -> str:
        """Line the caller up for one named agent and reserve them together, or refuse; the
        queue the call now waits in (the agent's)."""
        target = routing.get_agent(agent_id)
        if target is None:
            raise TransferRefused(f"no agent '{agent_id}'")
        if target.state is not AgentState.AVAILABLE:
            raise TransferRefused(f"agent {agent_id} is {target.state.value}, not available")
        queue_id = next(iter(sorted(target.queues)), None)
        if queue_id is None:
            raise TransferRefused(f"agent {agent_id} serves no queue")
        record = self._line_up(record, queue_id, record.language, None) or record
        entry = routing.get_entry(queue_id, record.queue_entry_key)
        if entry is None:  # the call ended before it could join the line
            raise TransferRefused(f"call {record.call_sid} is over")
        if not self.agents.reserve(entry, [target], now):
            routing.leave_queue(queue_id, entry.entry_key)
            raise TransferRefused(f"agent {agent_id} was just taken by another call")
        return queue_id

    # ---- the sweeper ----------------------------------------------------------------------
    def sweep(self, budget_seconds: float = SWEEP_BUDGET_SECONDS) -> dict:
        """Repair what lost webhooks would strand and end finished wrap-ups, then dispatch the
        queues that changed. Only what the sparse ``due`` indexes list is read (reservations
        past their end, callbacks being dialled, wrap-ups over), never every queue or agent;
        past ``budget_seconds`` (well inside the job's 20 s timeout) the rest stays due for the
        next run. Returns ``{wrap_up_ended, reservations_expired, offered, left_due}``."""
        now = self.clock()
        started = time.monotonic()
        touched: set[str] = set()
        expired = ended_wrap_up = left = 0
        queues = QueueConfigs()
        # line entries before agents: an offer that rang out is the ringing agent's miss,
        # not a reservation that merely lapsed
        for queue_id, key in routing.due_entries(now):
            if time.monotonic() - started > budget_seconds:
                left += 1
                continue
            entry = routing.get_entry(queue_id, key)
            if entry is None:
                continue  # gone since the index was written
            touched.add(queue_id)
            if entry.status == "reserved" and entry.reserved_until and \
                    entry.reserved_until < now:
                queue = queues.get(queue_id)
                for agent_id in entry.reserved_agents:
                    self.agents.miss(agent_id, now, queue.max_misses if queue else MAX_MISSES)
                expired += routing.release_entry(entry)
                if entry.kind == "callback":  # its request goes back in line too
                    self.callbacks.repair(dataclasses.replace(entry, status="waiting"), now)
            elif entry.kind == "callback" and entry.status == "dialing":
                self.callbacks.repair(entry, now)  # a customer call with no outcome
        for agent in routing.get_agents(routing.due_agents(now)):
            if time.monotonic() - started > budget_seconds:
                left += 1
                continue
            if agent_states.wrap_up_over(agent, now):
                ended_wrap_up += self.agents.end_wrap_up(agent, now)
            elif agent.state is AgentState.RESERVED and agent.reserved_until and \
                    agent.reserved_until < now:
                # a reservation whose entry went away (its request cancelled, its call over)
                # would hold the agent for good: past its time the agent is free again
                expired += self.agents.free(agent.agent_id, now, "reservation lapsed")
            touched.update(agent.queues)
        offered = sum(self.dispatch(queue_id) for queue_id in sorted(touched))
        return {"wrap_up_ended": ended_wrap_up, "reservations_expired": expired,
                "offered": offered, "left_due": left}
