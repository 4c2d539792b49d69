"""Supervisor monitoring: listen to an agent's live call, whisper to the agent, or barge in.

A third party can only join a conference room, not a ``<Dial>`` bridge. So the first monitor of a
bridged call moves it into a room, as a hold does (``routing.hold.step_aside``): the agent's leg
is redirected into the room and the caller's ``<Dial>`` ends; its action
(``RoutingService.dialed_twiml``) sees the monitor and sends the caller straight into the same
room (no music: the caller hears a moment of silence while Twilio moves the legs). The caller
joins with ``endConferenceOnExit`` and the agent without, as after a hold or a warm transfer.

The supervisor is then called into the room through Twilio's Conference Participants API (by
the room's name, which creates the conference if Twilio has not yet), never ending it on leaving:

* ``listen``: muted; ``whisper``: coaching the agent's leg (only the agent hears them);
  ``barge``: unmuted, heard by both. Changing the mode updates the participant.

The call record's ``monitor`` says who listens (``{"endpoint", "mode", "agent_id", "room",
"agent_leg", "started_at", "leg", "conference_sid"}``); it is written with a conditional write,
so a call has one monitor at a time: two clicks act once, a second supervisor is refused (409
naming who monitors). Holds and warm or cold transfers are refused while a supervisor is on the
call (and a monitor while one runs): the supervisor's leg would otherwise be left in a room the
call has moved out of. When the call ends (the caller hangs up: the room ends; the agent hangs
up: the caller is let go, the room ends) the supervisor's leg goes with the room, is also hung
up explicitly, and the monitor is cleared; the supervisor hanging up clears it through the
participant's status callback.
"""

from __future__ import annotations

import logging

from chalicelib.calls.model import Call
from chalicelib.prompts import render_prompt
from chalicelib.routing.hold import hang_up_quietly, redirect_quietly, room_for, step_aside
from chalicelib.routing.model import AgentState, TransferRefused
from chalicelib.store import calls, routing
from chalicelib.telephony import twiml as voice_twiml
from chalicelib.telephony.rest import CallGone
from chalicelib.telephony.twiml_routing import render_conference

log = logging.getLogger(__name__)

MODES = ("listen", "whisper", "barge")
SUPERVISOR_RING_SECONDS = 30
FINAL = ("completed", "busy", "failed", "no-answer", "canceled")


def _flags(mode: str, agent_leg: str) -> dict:
    """The participant's ``muted`` and ``coach`` (the CallSid it coaches) for ``mode``."""
    return {"muted": mode == "listen", "coach": agent_leg if mode == "whisper" else None}


def _answer(record: Call, monitor: dict) -> dict:
    return {"call_sid": record.call_sid, "agent_id": monitor["agent_id"],
            "mode": monitor["mode"], "endpoint": monitor["endpoint"],
            "room": monitor["room"], "since": monitor["started_at"],
            "supervisor_leg": monitor.get("leg")}


class CallMonitor:
    """Monitoring for one routing service (its clock, Twilio connector, urls and agents)."""

    def __init__(self, service):
        self.service = service

    def monitor(self, agent_id: str, mode: str, endpoint: str) -> dict:
        """Start monitoring ``agent_id``'s call from ``endpoint`` (``client:<identity>`` or an
        E.164 number), or change the mode: ``{"call_sid", "agent_id", "mode", "endpoint",
        "room", "since", "supervisor_leg"}``. The same mode again answers the same.
        ``TransferRefused`` (409) when the agent is on no call, the call has ended, is held or
        in a transfer, another endpoint monitors it, or the supervisor cannot be called."""
        record = self._live_call(agent_id)
        current = record.monitor
        if current:
            return self._change(record, current, mode, endpoint)
        if record.consult_state:
            raise TransferRefused("the call is on hold or in a warm transfer; "
                                  "monitor it once the agent is back with the caller")
        if not record.agent_leg_sid:
            raise TransferRefused("this call's agent leg is unknown; it cannot be monitored")
        move = not record.conference
        room = record.conference or room_for(record)
        started = {"endpoint": endpoint, "mode": mode, "agent_id": agent_id, "room": room,
                   "agent_leg": record.agent_leg_sid,
                   "started_at": self.service.clock().isoformat(), "leg": None,
                   "conference_sid": None}
        if not calls.start_monitor(record.call_sid, started, agent_id, room if move else None):
            self._refuse_after_race(agent_id)
        if move:
            self._move_into_room(record, started, room)
        leg, conference_sid = self._call_supervisor(record, started)
        joined = {**started, "leg": leg, "conference_sid": conference_sid}
        if not calls.change_monitor(record.call_sid, started, joined):
            # the call ended, or the supervisor stopped, while their leg was being placed
            hang_up_quietly(self.service.connector, leg)
            raise TransferRefused("the call has ended or the monitoring was stopped meanwhile")
        log.info("call %s: %s monitors %s (%s)", record.call_sid, endpoint, agent_id, mode)
        return _answer(record, joined)

    def stop(self, agent_id: str) -> dict:
        """End the supervisor's leg on ``agent_id``'s call: ``{"call_sid", "monitor": None}``
        (also when nobody monitored it). ``TransferRefused`` when the agent is on no call."""
        record = self._live_call(agent_id)
        if record.monitor and calls.end_monitor(record.call_sid, record.monitor):
            hang_up_quietly(self.service.connector, record.monitor.get("leg"))
            log.info("call %s: monitoring of %s stopped", record.call_sid, agent_id)
        return {"call_sid": record.call_sid, "monitor": None}

    # ---- Twilio's requests and the call ending ------------------------------------------------
    def caller_twiml(self, record: Call) -> str | None:
        """The caller's ``<Dial>`` ended because a monitor moved the agent into a room: the
        caller joins that room (None: not this case)."""
        if record.monitor and record.conference and not record.consult_state:
            return render_conference(record.conference, end_on_exit=True, action=None)
        return None

    def leg_status(self, call_sid: str, params: dict) -> None:
        """The supervisor's leg ended (hung up, not answered): the monitor is over."""
        if params.get("CallStatus") not in FINAL:
            return
        record = calls.get_call(call_sid)
        current = record.monitor if record else None
        if current and current.get("leg") in (None, params.get("CallSid")):
            calls.end_monitor(call_sid, current)

    def call_over(self, record: Call) -> None:
        """The call ended (or the agent left it): the supervisor's leg ends too."""
        if record.monitor and calls.end_monitor(record.call_sid, record.monitor):
            hang_up_quietly(self.service.connector, record.monitor.get("leg"))

    # ---- steps --------------------------------------------------------------------------------
    def _live_call(self, agent_id: str) -> Call:
        try:
            record = self.service.current_call_of(agent_id)
        except TransferRefused:
            agent = routing.get_agent(agent_id)
            if agent is not None and agent.state is AgentState.WRAP_UP:
                raise TransferRefused("the call has ended; the agent is wrapping up") from None
            raise
        if calls.is_over(record):
            raise TransferRefused("the call has ended")
        return record

    def _change(self, record: Call, current: dict, mode: str, endpoint: str) -> dict:
        if current["endpoint"] != endpoint:
            raise TransferRefused(f"{current['endpoint']} is already monitoring this call")
        if current["mode"] == mode:
            return _answer(record, current)
        if not current.get("leg"):
            raise TransferRefused("the supervisor is still being called; try again")
        try:
            self.service.connector.update_participant(
                current["conference_sid"], current["leg"], **_flags(mode, current["agent_leg"]))
        except CallGone:
            calls.end_monitor(record.call_sid, current)
            raise TransferRefused("the supervisor's leg has ended; start monitoring again") \
                from None
        changed = {**current, "mode": mode}
        if not calls.change_monitor(record.call_sid, current, changed):
            raise TransferRefused("the monitoring changed meanwhile; try again")
        log.info("call %s: monitoring of %s now %s", record.call_sid, current["agent_id"], mode)
        return _answer(record, changed)

    def _refuse_after_race(self, agent_id: str):
        """The conditional write lost: say why, from the record as it is now."""
        record = self._live_call(agent_id)
        if record.monitor:
            raise TransferRefused(f"{record.monitor['endpoint']} is already monitoring this call")
        if record.consult_state:
            raise TransferRefused("the call has just been put on hold or into a transfer")
        raise TransferRefused("the call changed meanwhile; try again")

    def _move_into_room(self, record: Call, monitor: dict, room: str) -> None:
        """The ``<Dial>`` bridge becomes a room: the agent's leg steps in, the caller follows
        (``caller_twiml``). An agent leg already gone ends the call for the caller too."""
        try:
            step_aside(self.service, record, monitor["agent_id"], room)
        except Exception as exc:  # noqa: BLE001 - the agent's leg is gone or unreachable
            log.warning("monitor of %s: agent leg not moved", record.call_sid, exc_info=True)
            calls.end_monitor(record.call_sid, monitor, leave_room=True)
            if isinstance(exc, CallGone):
                # the agent hung up as the supervisor clicked: the caller's Dial may already
                # have been sent into the room; let them go as if the agent had ended the call
                text, voice, language = render_prompt("call_ended_by_agent", record.language)
                redirect_quietly(self.service.connector, record.call_sid,
                                 voice_twiml.say(text, voice, language))
                self.service.agents.finish_call(monitor["agent_id"], record.call_sid,
                                                self.service.clock())
                raise TransferRefused("the call has ended") from None
            raise TransferRefused("the agent's leg could not be moved; "
                                  "the call is not monitored") from None

    def _call_supervisor(self, record: Call, monitor: dict) -> tuple[str, str]:
        try:
            return self.service.connector.add_participant(
                monitor["room"], to=monitor["endpoint"], from_=record.hotline or "",
                status_callback=self.service.urls.monitor_status(record.call_sid),
                ring_seconds=SUPERVISOR_RING_SECONDS,
                **_flags(monitor["mode"], monitor["agent_leg"]))
        except Exception as exc:  # noqa: BLE001 - Twilio refused: the call goes on unmonitored
            log.warning("monitor of %s: supervisor not called: %s %s", record.call_sid,
                        type(exc).__name__, getattr(exc, "code", "") or "")
            calls.end_monitor(record.call_sid, monitor)
            raise TransferRefused(f"could not call the supervisor at {monitor['endpoint']}") \
                from None
