"""A supervisor monitors a live call end to end: the real app, DynamoDB Local, and the carrier
emulator's live bridges, rooms and conference participants.

The caller talks to the agent over a ``<Dial>`` bridge (``dial:completed:live``) until the first
monitor moves both into a room, where the caller stays (the second ``dial:completed:live``) until
someone hangs up. Every wait is on an event or a condition, with a generous timeout.
"""

from __future__ import annotations

from chalicelib.store.models import CallRecord
from tests.integration.test_carrier import wait_until
from tests.integration.test_queue_calls import TO_QUEUE, support_queue  # noqa: F401
from tests.integration.test_warm_transfer_carrier import (  # noqa: F401
    WAIT,
    agent_state,
    talking_to_first_agent,
    warm,
)

SUPERVISOR = "+14155550199"
SCRIPT = [*TO_QUEUE, "dial:completed:live", "dial:completed:live"]


def monitored(carrier, admin_post, call, agent, mode: str = "listen"):
    """Start monitoring ``agent``; returns (answer, the supervisor's leg) once it is in the
    room with the caller and the agent."""
    status, body = admin_post(f"/agents/{agent.agent_id}/monitor",
                              {"mode": mode, "endpoint": SUPERVISOR})
    assert status == 200, body
    room = f"switchboard-{call.sid}"
    assert body["room"] == room and body["mode"] == mode
    present = carrier.rooms.wait_for(room, lambda members: {m.to for m in members} >= {
        agent.endpoint.address, SUPERVISOR} and call.sid in {m.sid for m in members}, WAIT)
    [leg] = [m for m in present if m.to == SUPERVISOR]
    assert leg.sid == body["supervisor_leg"]
    return body, leg


def flags(carrier, leg) -> tuple[bool, bool, str | None]:
    found = carrier.participants.flags[leg.sid]
    return found["muted"], found["coaching"], found["call_sid_to_coach"]


def test_a_supervisor_listens_whispers_barges_and_leaves(warm, support_queue):  # noqa: F811
    carrier, admin_post = warm
    call, events, agent, _ = talking_to_first_agent(carrier, support_queue, "+14155550191",
                                                    SCRIPT)
    body, leg = monitored(carrier, admin_post, call, agent)
    agent_leg = CallRecord.get(call.sid, consistent_read=True).agent_leg_sid
    assert flags(carrier, leg) == (True, False, None), "listening: muted"
    # the caller went from the bridge straight into the room: no hold music
    assert not [e for e in call.transcript.events if e["type"] == "play"], call.transcript.events
    assert admin_post(f"/agents/{agent.agent_id}/monitor",
                      {"mode": "listen", "endpoint": SUPERVISOR}) == (200, body)

    status, whisper = admin_post(f"/agents/{agent.agent_id}/monitor",
                                 {"mode": "whisper", "endpoint": SUPERVISOR})
    assert status == 200 and whisper["mode"] == "whisper", whisper
    assert flags(carrier, leg) == (False, True, agent_leg), "whispering: coaching the agent"
    status, barge = admin_post(f"/agents/{agent.agent_id}/monitor",
                               {"mode": "barge", "endpoint": SUPERVISOR})
    assert status == 200 and barge["supervisor_leg"] == leg.sid, barge
    assert flags(carrier, leg) == (False, False, None), "barging: heard by both"

    # one monitor per call; holds and transfers wait until the supervisor leaves
    status, other = admin_post(f"/agents/{agent.agent_id}/monitor",
                               {"mode": "listen", "endpoint": "client:sup-2"})
    assert status == 409 and SUPERVISOR in other["error"], other
    for path, request in (("hold", {}), ("transfer", {"to": "queue", "target": "support"})):
        status, refused = admin_post(f"/agents/{agent.agent_id}/{path}", request)
        assert status == 409 and "supervisor" in refused["error"], (path, refused)

    status, left = admin_post(f"/agents/{agent.agent_id}/monitor", {}, method="DELETE")
    assert status == 200 and left == {"call_sid": call.sid, "monitor": None}
    assert leg.done.wait(WAIT), "the supervisor's leg ended"
    assert not leg.transcript.errors, leg.transcript.errors
    assert CallRecord.get(call.sid, consistent_read=True).monitor is None
    assert not call.done.is_set() and agent_state(agent.agent_id) == "on-call"

    carrier.end_call(call.sid)  # the caller hangs up; the agent wraps up
    assert call.done.wait(WAIT) and carrier.wait_idle(WAIT)
    assert agent_state(agent.agent_id) == "wrap-up"
    status, late = admin_post(f"/agents/{agent.agent_id}/monitor",
                              {"mode": "listen", "endpoint": SUPERVISOR})
    assert status == 409 and "the call has ended" in late["error"], late
    for t in carrier.transcripts():
        assert not t.errors, (t.call_sid, t.errors)


def test_the_supervisor_leaves_with_the_caller(warm, support_queue):  # noqa: F811
    carrier, admin_post = warm
    call, _, agent, _ = talking_to_first_agent(carrier, support_queue, "+14155550192", SCRIPT)
    _, leg = monitored(carrier, admin_post, call, agent, mode="whisper")

    carrier.end_call(call.sid)  # the caller hangs up: the room ends, the supervisor too
    assert leg.done.wait(WAIT) and call.done.wait(WAIT)
    assert carrier.wait_idle(WAIT)
    assert CallRecord.get(call.sid, consistent_read=True).monitor is None
    assert agent_state(agent.agent_id) == "wrap-up"
    status, late = admin_post(f"/agents/{agent.agent_id}/monitor",
                              {"mode": "barge", "endpoint": SUPERVISOR})
    assert status == 409 and "the call has ended" in late["error"], late
    for t in carrier.transcripts():
        assert not t.errors, (t.call_sid, t.errors)


def test_the_supervisor_leaves_with_the_agent(warm, support_queue):  # noqa: F811
    carrier, admin_post = warm
    call, _, agent, _ = talking_to_first_agent(carrier, support_queue, "+14155550193", SCRIPT)
    _, leg = monitored(carrier, admin_post, call, agent)
    agent_leg = CallRecord.get(call.sid, consistent_read=True).agent_leg_sid

    carrier.end_call(agent_leg)  # the agent hangs up: the caller is let go, the room ends
    assert leg.done.wait(WAIT) and call.done.wait(WAIT)
    assert carrier.wait_idle(WAIT)
    assert CallRecord.get(call.sid, consistent_read=True).monitor is None
    assert agent_state(agent.agent_id) == "wrap-up"
    for t in carrier.transcripts():
        assert not t.errors, (t.call_sid, t.errors)


def test_a_supervisor_on_a_softphone_hangs_up_and_the_agent_can_hold_again(
    warm, support_queue  # noqa: F811
):
    carrier, admin_post = warm
    call, _, agent, _ = talking_to_first_agent(carrier, support_queue, "+14155550194", SCRIPT)
    carrier.clients.register("sup-desk")
    status, body = admin_post(f"/agents/{agent.agent_id}/monitor",
                              {"mode": "barge", "endpoint": "client:sup-desk"})
    assert status == 200, body
    carrier.clients.wait_for("sup-desk", lambda s: s["incoming"], timeout=WAIT)
    carrier.clients.answer("sup-desk")
    room = body["room"]
    carrier.rooms.wait_for(room, lambda members: body["supervisor_leg"] in {
        m.sid for m in members}, WAIT)
    assert flags(carrier, carrier.calls[body["supervisor_leg"]]) == (False, False, None)

    carrier.clients.hangup("sup-desk")  # the supervisor hangs up: the status callback says so
    assert carrier.calls[body["supervisor_leg"]].done.wait(WAIT)
    wait_until(lambda: CallRecord.get(call.sid, consistent_read=True).monitor is None)
    # the legs moved into the room by the monitor may still be on their way in: wait for them
    talking = {call.sid, CallRecord.get(call.sid, consistent_read=True).agent_leg_sid}
    carrier.rooms.wait_for(room, lambda members: {m.sid for m in members} == talking, WAIT)
    assert {m.sid for m in carrier.rooms.present(room)} == talking, \
        "the caller and the agent talk on"
    status, held = admin_post(f"/agents/{agent.agent_id}/hold", {})
    assert status == 200 and held["hold"] == "on", held
    carrier.end_call(call.sid)
    assert call.done.wait(WAIT)
