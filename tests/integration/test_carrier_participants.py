"""The carrier emulator's Conference Participants resource, through Twilio's own Python client.

A caller and an agent sit in a conference room (their TwiML comes from the fake webhook app of
``test_carrier``); a supervisor is added over REST, its flags changed and read back; the room
ending takes the supervisor's leg with it. Every wait is bounded.
"""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from chalicelib.telephony.rest import _redirecting_http_client
from infra.local.carrier import Carrier, make_server
from tests.integration.test_carrier import (
    ACCOUNT,
    APP,
    CALLER,
    HOTLINE,
    TOKEN,
    WAIT,
    FakeApp,
    R,
    wait_until,
)

ROOM = "switchboard-room-1"
AGENT_NUMBER, SUPERVISOR = "+14155550122", "+14155550133"


@pytest.fixture
def app() -> FakeApp:
    app = FakeApp()
    app.route("/caller", R(f'<Dial><Conference endConferenceOnExit="true" beep="false">{ROOM}'
                           "</Conference></Dial>"))
    app.route("/agent", R(f'<Dial><Conference endConferenceOnExit="false">{ROOM}'
                          "</Conference></Dial>"))
    app.route("/supervisor/status", R())
    return app


@pytest.fixture
def room(app):
    """A background carrier with a caller and an agent in ``ROOM``; (carrier, twilio client,
    caller's call, agent's call)."""
    carrier = Carrier(app_url=APP, account_sid=ACCOUNT, auth_token=TOKEN, transport=app)
    server = make_server(carrier, "127.0.0.1", 0).start()
    twilio = Client(ACCOUNT, TOKEN, http_client=_redirecting_http_client(server.url))
    caller = carrier.start_inbound_call(HOTLINE, CALLER, voice_url=APP + "/caller")
    agent = carrier.start_inbound_call(HOTLINE, AGENT_NUMBER, voice_url=APP + "/agent")
    carrier.rooms.wait_for(ROOM, lambda members: len(members) == 2, WAIT)
    try:
        yield carrier, twilio, caller, agent
    finally:
        carrier.reset()
        carrier.wait_idle(WAIT)
        server.stop()


def in_room(carrier: Carrier, sid: str) -> None:
    carrier.rooms.wait_for(ROOM, lambda members: sid in {m.sid for m in members}, WAIT)


def test_a_muted_supervisor_joins_then_coaches_then_barges(room, app):
    carrier, twilio, caller, agent = room
    created = twilio.conferences(ROOM).participants.create(
        from_=HOTLINE, to=SUPERVISOR, muted=True, early_media=True, beep="false",
        end_conference_on_exit=False, label="supervisor",
        status_callback=APP + "/supervisor/status", status_callback_event=["completed"])
    assert created.muted is True and created.coaching is False
    assert created.conference_sid == carrier.rooms.sid_of(ROOM)
    assert created.conference_sid.startswith("CF") and created.status == "queued"
    in_room(carrier, created.call_sid)
    leg = carrier.calls[created.call_sid]
    assert leg.to == SUPERVISOR and leg.from_ == HOTLINE

    # the conference SID reads and updates it; coaching needs the coached call in the room
    conference = twilio.conferences(created.conference_sid)
    assert conference.participants(created.call_sid).fetch().status == "connected"
    coached = conference.participants(created.call_sid).update(
        muted=False, coaching=True, call_sid_to_coach=agent.sid)
    assert (coached.muted, coached.coaching, coached.call_sid_to_coach) == (
        False, True, agent.sid)
    with pytest.raises(TwilioRestException) as refused:
        conference.participants(created.call_sid).update(
            coaching=True, call_sid_to_coach="CA" + "0" * 32)
    assert refused.value.status == 400
    barged = conference.participants(created.call_sid).update(coaching=False)
    assert (barged.muted, barged.coaching, barged.call_sid_to_coach) == (False, False, None)
    listed = conference.participants.list()
    assert [p.call_sid for p in listed] == [created.call_sid]
    assert [c.friendly_name for c in twilio.conferences.list(
        friendly_name=ROOM, status="in-progress")] == [ROOM]
    assert [e["action"] for e in leg.transcript.of_type("participant")] == [
        "create", "update", "update"]

    # the caller leaves: the room ends and with it the supervisor's leg (status callback)
    carrier.end_call(caller.sid)
    assert leg.done.wait(WAIT) and agent.done.wait(WAIT)
    assert leg.transcript.of_type("conference")[-1]["how"] == "conference-ended"
    wait_until(lambda: any(p["CallSid"] == leg.sid and p["CallStatus"] == "completed"
                           for p in app.posts("/supervisor/status")))
    with pytest.raises(TwilioRestException) as gone:
        conference.participants(created.call_sid).fetch()
    assert gone.value.code == 20404
    for call in (caller, agent, leg):
        assert not call.transcript.errors, call.transcript.errors


def test_a_softphone_supervisor_rings_answers_and_is_removed(room):
    carrier, twilio, caller, agent = room
    carrier.clients.register("sup-desk")
    created = twilio.conferences(ROOM).participants.create(
        from_=HOTLINE, to="client:sup-desk", coaching=True, call_sid_to_coach=agent.sid)
    assert created.coaching is True and created.call_sid_to_coach == agent.sid
    carrier.clients.wait_for("sup-desk", lambda s: s["incoming"], timeout=WAIT)
    assert twilio.conferences(ROOM).participants(created.call_sid).fetch().status == "ringing"
    carrier.clients.answer("sup-desk")
    in_room(carrier, created.call_sid)

    twilio.conferences(ROOM).participants(created.call_sid).delete()
    assert carrier.calls[created.call_sid].done.wait(WAIT)
    assert {m.sid for m in carrier.rooms.present(ROOM)} == {caller.sid, agent.sid}, \
        "the room goes on without the supervisor"


def test_participants_of_a_room_that_is_not_running_are_not_found(room):
    carrier, twilio, _, _ = room
    for conference in ("CF" + "0" * 32, "no-such-room"):
        with pytest.raises(TwilioRestException) as missing:
            twilio.conferences(conference).participants("CA" + "1" * 32).fetch()
        assert missing.value.code == 20404
    with pytest.raises(TwilioRestException) as bad:
        twilio.conferences(ROOM).participants.create(from_=HOTLINE, to=SUPERVISOR,
                                                     coaching=True)
    assert bad.value.status == 400, "coaching needs CallSidToCoach"
