"""Hold and resume: the caller on music while the agent steps aside, the time held counted
once, and holds and warm transfers excluding each other. DynamoDB Local for state; Twilio's
REST edge faked (``FakeTwilio`` records what we would send); Twilio's webhooks posted signed."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from datetime import timedelta

from chalicelib.routing.model import TransferRefused
from chalicelib.store import facts
from chalicelib.store.models import CallRecord
from chalicelib.wiring import Root, install, root
from tests.integration.conftest import OPEN_HOURS
from tests.integration.test_transfers import (  # noqa: F401 - the fixture
    AGENT_LEG,
    answer_consult,
    hook,
    post,
    setup,
    start_warm,
    state,
)


class Clock:
    def __init__(self):
        self.now = OPEN_HOURS

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def moving_clock(setup) -> Clock:  # noqa: F811
    """The routing service on a clock the test moves (the fixture's stands still)."""
    clock = Clock()
    install(Root(clock=clock, connector=setup[1]))  # the fixture puts the previous one back
    return clock


def delete(client, path):
    response = client.http.delete(path)
    return response.status_code, json.loads(response.body)


def hold_fact(sid: str, since):
    return facts.get(f"hold:{sid}:{since.isoformat()}")


def test_hold_moves_the_agent_aside_and_resume_brings_the_caller_back(setup):  # noqa: F811
    client, edge, agents, sid, tag = setup
    clock, first = moving_clock(setup), agents["first"].agent_id
    status, body = post(client, f"/agents/{first}/hold", {})
    assert (status, body) == (200, {"call_sid": sid, "hold": "on",
                                    "since": OPEN_HOURS.isoformat()})
    # the agent's leg waits in the call's room (not ending it); the caller's <Dial> ended
    room = ET.fromstring(edge.twiml[AGENT_LEG]).find("Dial/Conference")
    assert room.text == f"switchboard-{sid}" and room.get("endConferenceOnExit") == "false"
    music = hook(client, f"/twilio/voice/agent/dialed/care{tag}/{sid}", CallSid=sid,
                 DialCallStatus="completed", DialCallDuration="40")
    assert music.find("Play").get("loop") == "0"
    assert state(first).state == "on-call"  # holding is still working the call
    # a second click answers the same; transfers wait until the hold is over
    assert post(client, f"/agents/{first}/hold", {})[1]["hold"] == "on"
    assert post(client, f"/agents/{first}/transfer", {"to": "number",
                                                      "target": "+14155550199"})[0] == 409
    assert post(client, f"/agents/{first}/transfer", {
        "to": "agent", "target": agents["second"].agent_id, "mode": "warm"})[0] == 409
    assert not edge.placed and sid not in edge.twiml
    clock.advance(42.4)
    status, body = delete(client, f"/agents/{first}/hold")
    assert (status, body["hold"], body["held_seconds"]) == (200, "off", 42)
    caller_room = ET.fromstring(edge.twiml[sid]).find("Dial/Conference")
    assert caller_room.text == room.text and caller_room.get("endConferenceOnExit") == "true"
    record = CallRecord.get(sid, consistent_read=True)
    assert (record.consult_state, record.conference) == (None, room.text)
    fact = hold_fact(sid, OPEN_HOURS)
    assert fact is not None and fact.scopes == {"agent": first}
    assert fact.values == {"hold_seconds": 42, "holds": 1}
    assert delete(client, f"/agents/{first}/hold")[0] == 409  # nothing held any more


def test_a_second_hold_uses_a_fresh_room_and_moves_the_caller_to_the_music(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    clock, first = moving_clock(setup), agents["first"].agent_id
    post(client, f"/agents/{first}/hold", {})
    clock.advance(10)
    delete(client, f"/agents/{first}/hold")
    clock.advance(60)
    assert post(client, f"/agents/{first}/hold", {})[0] == 200
    # the caller talks in the call's room now: the agent must not stay there with them
    fresh = ET.fromstring(edge.twiml[AGENT_LEG]).find("Dial/Conference").text
    assert fresh.startswith(f"switchboard-{sid}-") and fresh != f"switchboard-{sid}"
    assert ET.fromstring(edge.twiml[sid]).find("Play").get("loop") == "0"
    clock.advance(5)
    delete(client, f"/agents/{first}/hold")
    assert ET.fromstring(edge.twiml[sid]).find("Dial/Conference").text == fresh
    assert hold_fact(sid, OPEN_HOURS).values["hold_seconds"] == 10
    assert hold_fact(sid, OPEN_HOURS + timedelta(seconds=70)).values["hold_seconds"] == 5


def test_the_held_caller_hanging_up_ends_the_hold_and_the_agent_leg(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    clock, first = moving_clock(setup), agents["first"].agent_id
    post(client, f"/agents/{first}/hold", {})
    clock.advance(30)
    for sequence in ("9", "9"):  # Twilio may deliver the final status twice
        hook(client, "/twilio/voice/status", CallSid=sid, CallStatus="completed",
             CallDuration="95", From="+14155550177", To="+14155550100",
             SequenceNumber=sequence)
    assert edge.hung_up == [AGENT_LEG]
    assert state(first).state == "wrap-up"
    assert CallRecord.get(sid, consistent_read=True).consult_state is None
    assert hold_fact(sid, OPEN_HOURS).values == {"hold_seconds": 30, "holds": 1}


def test_the_holding_agent_hanging_up_puts_the_caller_back_in_line(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    clock, first = moving_clock(setup), agents["first"].agent_id
    post(client, f"/agents/{first}/hold", {})
    clock.advance(12)
    for _ in range(2):  # a retried action changes nothing more
        hook(client, f"/twilio/voice/agent/consult/{sid}/left/{first}", CallSid=AGENT_LEG)
    assert ET.fromstring(edge.twiml[sid]).find("Enqueue") is not None
    assert state(first).state == "wrap-up"
    assert hold_fact(sid, OPEN_HOURS).values["hold_seconds"] == 12


def test_a_hold_on_a_gone_agent_leg_is_refused_and_leaves_nothing(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    edge.gone.add(AGENT_LEG)
    first = agents["first"].agent_id
    assert post(client, f"/agents/{first}/hold", {})[0] == 409
    assert CallRecord.get(sid, consistent_read=True).consult_state is None
    assert post(client, f"/agents/{agents['second'].agent_id}/hold", {})[0] == 409  # no call
    assert post(client, "/agents/nobody/hold", {})[0] == 404


def test_the_wait_during_a_warm_consultation_is_hold_time(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    clock, first = moving_clock(setup), agents["first"].agent_id
    start_warm(setup)
    answer_consult(setup)
    clock.advance(25)
    assert post(client, f"/agents/{first}/transfer/cancel", {})[0] == 200
    assert hold_fact(sid, OPEN_HOURS).values == {"hold_seconds": 25, "holds": 1}
    # a warm transfer started after that, with the call already in a room, uses a fresh room
    # and takes the caller out of the first one onto the music
    clock.advance(5)
    start_warm(setup, to="number", target="+14155550199")
    room = ET.fromstring(edge.twiml[AGENT_LEG]).find("Dial/Conference").text
    assert room.startswith(f"switchboard-{sid}-")
    assert ET.fromstring(edge.twiml[sid]).find("Play").get("loop") == "0"


def test_a_hold_racing_a_warm_transfer_lets_exactly_one_through(setup):  # noqa: F811
    _, edge, agents, sid, _ = setup
    first, second = agents["first"].agent_id, agents["second"].agent_id
    service = root().routing
    gate = threading.Barrier(2)
    results: list[str] = []

    def attempt(name, action):
        gate.wait()
        try:
            action()
            results.append(name)
        except TransferRefused:
            results.append("refused")

    threads = [threading.Thread(target=attempt, args=("hold", lambda: service.holds.hold(first))),
               threading.Thread(target=attempt, args=(
                   "warm", lambda: service.warm.start(first, "agent", second)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) in (["hold", "refused"], ["refused", "warm"])
    record = CallRecord.get(sid, consistent_read=True)
    assert record.consult_state == ("hold" if "hold" in results else "dialing")
    if "hold" in results:  # the refused consultation gave the second agent back
        assert state(second).state == "available" and not edge.placed
