"""Warm transfer: the agent talks to the next party first, then hands the caller over.

Twilio bridges a caller and an agent with ``<Dial>``, which cannot take a third party. So a warm
transfer moves the conversation into a conference room named after the call:

1. ``start``: the agent's leg is redirected into the room; the caller's ``<Dial>`` ends and its
   action (``RoutingService.dialed_twiml``) puts the caller on hold music (a call already in a
   room: a fresh room, the caller redirected to the music, ``routing.hold.step_aside``); the
   consulted party (an agent, a free agent of a queue, or an outside number) is called into the
   room. The caller's wait on the music until the consultation ends is hold time.
2. ``answered``: the consulted party picks up, hears who is being transferred, joins the room.
3. ``complete``: the caller joins the room, the first agent's leg is hung up (wrap-up); the
   consulted party now owns the call and its context. ``cancel`` (or the consulted leg failing)
   brings the caller back to the first agent in the room instead.

The call record carries ``consult_state`` (dialing, talking); every step is a conditional write on
it, so double clicks, Twilio retries and racing callbacks act once. Agents join the room with
``endConferenceOnExit=false`` and the caller with ``true``; when an agent's leg leaves the room its
``<Dial>`` action (``left``) tells us, and if that agent owned the call the caller is let go.
"""

from __future__ import annotations

import logging
from datetime import datetime

from chalicelib.calls.model import Call
from chalicelib.prompts import render_prompt
from chalicelib.routing.agents import MAX_MISSES
from chalicelib.routing.hold import (
    HOLD,
    MONITORED,
    hang_up_quietly,
    record_hold,
    redirect_quietly,
    room_for,
    step_aside,
)
from chalicelib.routing.model import AgentState, TransferRefused, language_for
from chalicelib.store import calls, routing
from chalicelib.telephony import twiml as voice_twiml
from chalicelib.telephony.twiml_routing import (
    dial_address,
    render_conference,
    render_on_hold,
)

log = logging.getLogger(__name__)

FAILED_LEG = ("busy", "failed", "no-answer", "canceled")
OUTSIDE = "outside"  # the ``party`` of an outside number in a conference room


class WarmTransfers:
    """Warm transfers of one routing service (its clock, Twilio connector and agent bookkeeping)."""

    def __init__(self, service):
        self.service = service

    # ---- the agent's commands ---------------------------------------------------------------
    def start(self, agent_id: str, kind: str, target: str) -> dict:
        now = self.service.clock()
        record = self.service.current_call_of(agent_id)
        if not record.agent_leg_sid:
            raise TransferRefused("this call's agent leg is unknown; use a cold transfer")
        if record.consult_state:
            raise TransferRefused("a warm transfer is already in progress on this call")
        if record.monitor:
            raise TransferRefused(MONITORED)
        target_agent, address = self._reserve_target(kind, target, agent_id, record, now)
        consult = {"conference": room_for(record), "from_agent": agent_id,
                   "to": kind, "target": target, "target_agent": target_agent,
                   "started_at": now.isoformat(), "leg": None}
        if not calls.start_consult(record.call_sid, consult):
            self._release_target(target_agent, now, "transfer already in progress")
            raise TransferRefused("a warm transfer is already in progress on this call")
        connector, urls = self.service.connector, self.service.urls
        try:
            step_aside(self.service, record, agent_id, consult["conference"])
        except Exception:  # noqa: BLE001 - the agent leg is gone: the caller goes back in line
            log.exception("warm transfer of %s: agent leg unreachable", record.call_sid)
            self._close(record, consult, ("dialing",), "agent leg unreachable", now)
            self._release_target(target_agent, now, "transfer failed")
            redirect_quietly(self.service.connector, record.call_sid,
                             self.service.requeue_twiml(record))
            raise TransferRefused("the agent's leg could not be moved; "
                                  "the caller is back in line") from None
        try:
            consult["leg"] = connector.place_call(
                to=address, from_=record.hotline, url=urls.consult_join(record.call_sid),
                status_callback=urls.consult_status(record.call_sid))
        except Exception as exc:  # noqa: BLE001 - the consulted party cannot be called: back
            # (no traceback: Twilio's message may quote the number dialled)
            log.warning("warm transfer of %s: could not call the target: %s %s", record.call_sid,
                        type(exc).__name__, getattr(exc, "code", "") or "")
            self.cancel_consult(record.call_sid, "could not call the target")
            raise TransferRefused(f"could not call the {kind} '{target}'") from None
        calls.set_consult_leg(record.call_sid, consult)
        log.info("call %s: %s consults %s %s", record.call_sid, agent_id, kind,
                 target if kind != "number" else "(number)")
        return {"call_sid": record.call_sid, "to": kind, "target": target, "mode": "warm",
                "consult": "dialing", "target_agent": target_agent}

    def complete(self, agent_id: str) -> dict:
        """Hand the caller to the consulted party; the first agent leaves and wraps up."""
        record = self.service.current_call_of(agent_id)
        consult = record.consult or {}
        if record.consult_state != "talking" or consult.get("from_agent") != agent_id:
            raise TransferRefused("no answered warm transfer to complete on this call")
        self._hand_over(record, consult)
        return {"call_sid": record.call_sid, "to": consult["to"], "target": consult["target"],
                "mode": "warm", "consult": "completed"}

    def cancel(self, agent_id: str) -> dict:
        record = self.service.current_call_of(agent_id)
        consult = record.consult or {}
        if not record.consult_state or consult.get("from_agent") != agent_id:
            raise TransferRefused("no warm transfer in progress on this call")
        self.cancel_consult(record.call_sid, "cancelled by the agent")
        return {"call_sid": record.call_sid, "mode": "warm", "consult": "cancelled"}

    # ---- Twilio's requests -------------------------------------------------------------------
    def answered_twiml(self, call_sid: str, leg_sid: str) -> str:
        """The consulted party picked up: they hear who is coming and join the room."""
        now = self.service.clock()
        record = calls.get_call(call_sid)
        consult = dict(record.consult or {}) if record else {}
        if record is None or record.consult_state != "dialing":
            return voice_twiml.hangup()  # cancelled meanwhile (or a stray retry)
        target_agent = consult.get("target_agent")
        language: str | None = record.language  # an outside party: the call's language
        if target_agent:
            agent = routing.get_agent(target_agent)
            if agent is None or agent.state is not AgentState.RESERVED:
                return voice_twiml.hangup()
            if not self.service.agents.take_call(agent, call_sid, now, f"consult {call_sid}"):
                return voice_twiml.hangup()
            language = language_for(agent, record.language)
        consult["leg"] = leg_sid
        if not calls.consult_answered(call_sid, consult):
            return voice_twiml.hangup()
        from_agent = routing.get_agent(consult["from_agent"])
        customer = record.customer or {}
        intro = render_prompt("consult_whisper", language,
                              from_agent=from_agent.name if from_agent else consult["from_agent"],
                              caller_name=customer.get("name"), vip=bool(customer.get("vip")))
        return render_conference(consult["conference"], end_on_exit=False, intro=intro,
                                 action=self.service.urls.conference_left(
                                     call_sid, target_agent or OUTSIDE))

    def leg_status(self, call_sid: str, params: dict) -> None:
        """The consulted party's call ended. Before the hand-over that cancels the transfer."""
        record = calls.get_call(call_sid)
        consult = (record.consult or {}) if record else {}
        if record is None or not record.consult_state:
            return
        if consult.get("leg") not in (None, params.get("CallSid")):
            return  # an older attempt's leg
        status = params.get("CallStatus", "")
        if status in FAILED_LEG or status == "completed":
            self.cancel_consult(call_sid, f"consulted party {status}",
                                missed=status in FAILED_LEG, hang_up_leg=False)

    def left_twiml(self, call_sid: str, party: str) -> str:
        """An agent's (or the outside party's) leg left the conference room."""
        now = self.service.clock()
        record = calls.get_call(call_sid)
        if record is None:
            return voice_twiml.hangup()
        consult = record.consult or {}
        if record.consult_state == HOLD:
            if party == consult.get("from_agent"):
                self.service.holds.agent_left(record)
            return voice_twiml.hangup()
        if record.consult_state:
            if party == consult.get("from_agent"):
                # the transferring agent hung up mid-consultation: an answered transfer
                # completes (as on a desk phone); one still ringing goes back to the line
                if record.consult_state == "talking":
                    self._hand_over(record, consult, first_leg_gone=True)
                else:
                    self.cancel_consult(call_sid, "transferring agent left", requeue=True)
            elif party == (consult.get("target_agent") or OUTSIDE):
                self.cancel_consult(call_sid, "consulted party left", hang_up_leg=False)
            return voice_twiml.hangup()
        owner = record.agent_id or OUTSIDE
        if party == owner:
            self.service.monitors.call_over(record)  # the supervisor goes with the agent
        if record.conference and party == owner and record.status not in calls.FINAL_STATUSES:
            # the conversation is over: let the caller go, the agent wraps up
            text, voice, language = render_prompt("call_ended_by_agent", record.language)
            redirect_quietly(self.service.connector, call_sid,
                             voice_twiml.say(text, voice, language))
            if record.agent_id:
                self.service.agents.finish_call(record.agent_id, call_sid, now)
        return voice_twiml.hangup()

    def on_hold_twiml(self) -> str:
        return render_on_hold(self.service.settings.hold_music_url)

    # ---- shared steps ------------------------------------------------------------------------
    def cancel_consult(self, call_sid: str, reason: str, *, missed: bool = False,
                       hang_up_leg: bool = True, requeue: bool = False) -> bool:
        """Close the consultation and bring the caller back to the first agent (or the line)."""
        now = self.service.clock()
        record = calls.get_call(call_sid)
        consult = (record.consult or {}) if record else {}
        if record is None or not record.consult_state:
            return False
        if not self._close(record, consult, calls.CONSULTING, reason, now):
            return False  # someone else closed it first
        if hang_up_leg and consult.get("leg"):
            hang_up_quietly(self.service.connector, consult["leg"])
        target_agent = consult.get("target_agent")
        if target_agent:
            agent = routing.get_agent(target_agent)
            if agent is not None and agent.state is AgentState.RESERVED:
                if missed:
                    queue = routing.get_queue(min(agent.queues)) if agent.queues else None
                    self.service.agents.miss(target_agent, now,
                                             queue.max_misses if queue else MAX_MISSES)
                else:
                    self.service.agents.free(target_agent, now, reason)
            else:
                self.service.agents.finish_call(target_agent, call_sid, now)
        if requeue:
            redirect_quietly(self.service.connector, call_sid, self.service.requeue_twiml(record))
        else:
            redirect_quietly(self.service.connector, call_sid, render_conference(
                consult["conference"], end_on_exit=True, action=None))
        log.info("call %s: warm transfer cancelled (%s)", call_sid, reason)
        return True

    def caller_gone(self, record: Call) -> None:
        """The caller hung up during a consultation: end it and free the consulted party."""
        if not record.consult_state:
            return
        consult = record.consult or {}
        if self.cancel_consult(record.call_sid, "caller hung up", requeue=True):
            # nobody is left to talk to: the first agent's leg ends too
            hang_up_quietly(self.service.connector, record.agent_leg_sid)
            log.info("call %s: caller left during a warm transfer from %s", record.call_sid,
                     consult.get("from_agent"))

    def _hand_over(self, record: Call, consult: dict, first_leg_gone: bool = False) -> None:
        now = self.service.clock()
        from_agent = consult["from_agent"]
        transfer = {"at": now.isoformat(), "from_agent": from_agent, "to": consult["to"],
                    "target": consult["target"], "mode": "warm", "outcome": "completed"}
        if not calls.end_consult(record.call_sid, ("talking",), transfer,
                                 conference=consult["conference"],
                                 agent_id=consult.get("target_agent"),
                                 agent_leg_sid=consult.get("leg"), new_agent=True):
            return  # already handed over (a retry, or the agent's hang-up raced the click)
        record_hold(from_agent, record.call_sid, consult.get("started_at"), now)
        redirect_quietly(self.service.connector, record.call_sid, render_conference(
            consult["conference"], end_on_exit=True, action=None))
        if not first_leg_gone:
            hang_up_quietly(self.service.connector, record.agent_leg_sid)
        self.service.agents.finish_call(from_agent, record.call_sid, now, transferred=True)
        log.info("call %s: warm transfer from %s completed", record.call_sid, from_agent)

    def _close(self, record: Call, consult: dict, expected, reason: str, now: datetime) -> bool:
        transfer = {"at": now.isoformat(), "from_agent": consult.get("from_agent"),
                    "to": consult.get("to"), "target": consult.get("target"), "mode": "warm",
                    "outcome": "cancelled", "reason": reason}
        if not calls.end_consult(record.call_sid, tuple(expected), transfer,
                                 conference=consult.get("conference")):
            return False
        # the caller waited on music while their agent consulted: hold time
        record_hold(consult.get("from_agent"), record.call_sid, consult.get("started_at"), now)
        return True

    def _reserve_target(self, kind: str, target: str, agent_id: str, record: Call,
                        now: datetime) -> tuple[str | None, str]:
        """Reserve the agent to consult (named, or the longest idle of a queue) and say where
        to call them; an outside number needs no reservation."""
        if kind == "number":
            return None, target
        if kind == "agent":
            if target == agent_id:
                raise TransferRefused("an agent cannot transfer a call to themselves")
            named = routing.get_agent(target)
            if named is None:
                raise TransferRefused(f"no agent '{target}'")
            candidates = [named]
        elif kind == "queue":
            if routing.get_queue(target) is None:
                raise TransferRefused(f"no queue '{target}'")
            candidates = sorted(
                (a for a in routing.queue_agents(target)
                 if a.agent_id != agent_id and a.state is AgentState.AVAILABLE),
                key=lambda a: (a.idle_since or now, a.agent_id))
            if not candidates:
                raise TransferRefused(f"no agent of queue '{target}' is free to consult; "
                                      "a cold transfer waits in line")
        else:
            raise TransferRefused(f"cannot transfer to a '{kind}'")
        for agent in candidates:
            if agent.state is not AgentState.AVAILABLE:
                raise TransferRefused(f"agent {agent.agent_id} is {agent.state.value}, "
                                      "not available")
            if self.service.agents.hold_for(agent, record.call_sid, now,
                                            f"consult {record.call_sid}"):
                return agent.agent_id, dial_address(agent.endpoint)
        raise TransferRefused(f"{kind} '{target}' was just taken by another call")

    def _release_target(self, agent_id: str | None, now: datetime, reason: str) -> None:
        if agent_id:
            self.service.agents.free(agent_id, now, reason)
