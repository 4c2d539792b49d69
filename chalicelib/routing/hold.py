"""Hold: the agent puts the caller on music, then resumes; the time held is reported.

Twilio bridges a caller and an agent with ``<Dial>``, which cannot park one side. So a hold
moves the agent's leg into a conference room of its own (``step_aside``): the caller's
``<Dial>`` ends and its action (``RoutingService.dialed_twiml``) plays the hold music; a caller
already talking in a room (after a transfer or an earlier hold) is redirected to the music,
since leaving their room ends it. ``resume`` brings the caller into the agent's room. Each hold
(and each warm transfer started in a room) uses a fresh room, so the caller never hears what
the agent says meanwhile.

The call record's ``consult_state`` is ``hold`` while it lasts (``consult``: the room, the
agent, the start); holds and warm transfers exclude each other through that one conditional
write, so double clicks and a transfer racing a hold act once. However it ends (resumed, the
caller hanging up, the agent's leg dropping), one ``agent_hold`` fact records the time
(``routing.agent_facts.hold_time``); the wait during a warm transfer's consultation is recorded
the same way by ``routing/consult.py``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from chalicelib.calls.model import Call
from chalicelib.routing import agent_facts
from chalicelib.routing.model import TransferRefused
from chalicelib.store import calls, facts, routing
from chalicelib.telephony.twiml_routing import (
    conference_room,
    render_conference,
    render_on_hold,
)

log = logging.getLogger(__name__)

HOLD = "hold"  # the call record's consult_state while the caller is held
# holds and transfers wait while a supervisor is on the call (routing/monitor.py)
MONITORED = "a supervisor is monitoring this call; they must stop first"


def room_for(record: Call) -> str:
    """The room an agent steps into: the call's own room, or a fresh one if the call already
    talks in that room (the caller is there and must not hear the agent)."""
    base = conference_room(record.call_sid)
    return f"{base}-{uuid.uuid4().hex[:8]}" if record.conference else base


def step_aside(service, record: Call, agent_id: str, room: str) -> None:
    """Move ``agent_id``'s leg into ``room`` and the caller onto hold music. Raises what the
    Twilio connector raises when the agent's leg cannot be moved."""
    service.connector.redirect_twiml(record.agent_leg_sid, render_conference(
        room, end_on_exit=False, action=service.urls.conference_left(record.call_sid, agent_id)))
    if record.conference:  # no <Dial> to end: the caller leaves their room for the music
        service.connector.redirect_twiml(record.call_sid,
                                         render_on_hold(service.settings.hold_music_url))


def record_hold(agent_id: str | None, call_sid: str, since: str | None, now: datetime) -> None:
    """Count the caller's time on hold (from ``since``, ISO) for ``agent_id``; never raises
    (the call goes on whatever the reports' bookkeeping does)."""
    if not agent_id or not since:
        return
    try:
        agent = routing.get_agent(agent_id)
        facts.record(agent_facts.hold_time(agent_id, agent.timezone if agent else None,
                                           call_sid, datetime.fromisoformat(since), now))
    except Exception:  # noqa: BLE001 - a lost report figure must not drop the caller
        log.exception("call %s: hold time not recorded", call_sid)


def redirect_quietly(connector, call_sid: str, twiml: str) -> None:
    """Give the call ``twiml`` now; a call that ended meanwhile is only logged."""
    try:
        connector.redirect_twiml(call_sid, twiml)
    except Exception:  # noqa: BLE001 - the call may have ended meanwhile
        log.warning("could not redirect call %s", call_sid, exc_info=True)


def hang_up_quietly(connector, call_sid: str | None) -> None:
    """End the leg ``call_sid`` (None: nothing to end); one already over is only logged."""
    if not call_sid:
        return
    try:
        connector.hangup(call_sid)
    except Exception:  # noqa: BLE001 - already ended
        log.info("leg %s already ended", call_sid)


class CallHold:
    """Hold and resume for one routing service (its clock, Twilio connector, settings)."""

    def __init__(self, service):
        self.service = service

    def hold(self, agent_id: str) -> dict:
        """Put the agent's caller on hold: ``{"call_sid", "hold": "on", "since"}``. Holding a
        held call answers the same. ``TransferRefused`` when the agent is on no call, a warm
        transfer runs, a supervisor monitors the call, or the agent's leg is unknown or
        gone."""
        now = self.service.clock()
        record = self.service.current_call_of(agent_id)
        if record.consult_state == HOLD:
            return self._answer(record, "on")
        if record.monitor:
            raise TransferRefused(MONITORED)
        if record.consult_state:
            raise TransferRefused("a warm transfer is in progress; complete or cancel it first")
        if not record.agent_leg_sid:
            raise TransferRefused("this call's agent leg is unknown; it cannot be held")
        held = {"conference": room_for(record), "from_agent": agent_id, "to": HOLD,
                "started_at": now.isoformat()}
        if not calls.start_consult(record.call_sid, held, state=HOLD):
            raise TransferRefused("the call is already on hold or in a transfer")
        try:
            step_aside(self.service, record, agent_id, held["conference"])
        except Exception:  # noqa: BLE001 - the agent's leg is gone: nothing was held
            log.exception("hold of %s: agent leg unreachable", record.call_sid)
            calls.end_hold(record.call_sid, record.conference)
            raise TransferRefused("the agent's leg could not be moved; "
                                  "the call was not put on hold") from None
        log.info("call %s: %s put the caller on hold", record.call_sid, agent_id)
        return {"call_sid": record.call_sid, "hold": "on", "since": held["started_at"]}

    def resume(self, agent_id: str) -> dict:
        """Bring the held caller back: ``{"call_sid", "hold": "off", "held_seconds"}``.
        ``TransferRefused`` when the agent's call is not on hold."""
        now = self.service.clock()
        record = self.service.current_call_of(agent_id)
        held = record.consult or {}
        if record.consult_state != HOLD or held.get("from_agent") != agent_id:
            raise TransferRefused("the call is not on hold")
        if not self._end(record, now):
            raise TransferRefused("the hold has just ended")
        redirect_quietly(self.service.connector, record.call_sid,
                         render_conference(held["conference"], end_on_exit=True, action=None))
        since = datetime.fromisoformat(held["started_at"])
        return {"call_sid": record.call_sid, "hold": "off",
                "held_seconds": max(round((now - since).total_seconds()), 0)}

    # ---- the call ending while held ---------------------------------------------------------
    def caller_gone(self, record: Call) -> None:
        """The held caller hung up: the hold ends and the agent's leg (alone in the room) too;
        the routing service then wraps the agent up."""
        if record.consult_state == HOLD and self._end(record, self.service.clock()):
            hang_up_quietly(self.service.connector, record.agent_leg_sid)

    def agent_left(self, record: Call) -> None:
        """The holding agent's leg left the room (they hung up): the caller goes back to the
        front of the line and the agent wraps up."""
        now = self.service.clock()
        held = record.consult or {}
        if self._end(record, now, in_room=False):  # back in line
            redirect_quietly(self.service.connector, record.call_sid,
                             self.service.requeue_twiml(record))
            self.service.agents.finish_call(held["from_agent"], record.call_sid, now)

    def _end(self, record: Call, now: datetime, *, in_room: bool = True) -> bool:
        """End the hold once and count it; the call then lives in the agent's room
        (``in_room``) or in none."""
        held = record.consult or {}
        room = held.get("conference") or conference_room(record.call_sid)
        if not calls.end_hold(record.call_sid, room if in_room else None):
            return False  # ended by someone else first (a retry, a race with the hang-up)
        record_hold(held.get("from_agent"), record.call_sid, held.get("started_at"), now)
        log.info("call %s: hold over", record.call_sid)
        return True

    def _answer(self, record: Call, state: str) -> dict:
        return {"call_sid": record.call_sid, "hold": state,
                "since": (record.consult or {}).get("started_at")}
