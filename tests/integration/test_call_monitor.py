"""Supervisor monitoring (``routing/monitor.py``): the bridge moved into a room, the supervisor
called in as a participant, modes changed, one monitor per call, holds and transfers refused
meanwhile, and the supervisor's leg ending with the call. DynamoDB Local for state; Twilio's REST
edge faked (``FakeTwilio`` records the redirects, participants and hang-ups we would send)."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET

from chalicelib.routing.model import TransferRefused
from chalicelib.store import calls
from chalicelib.store.models import AgentItem, CallRecord
from chalicelib.wiring import root
from tests.integration.test_transfers import (  # noqa: F401 - the fixture
    AGENT_LEG,
    hook,
    post,
    setup,
    state,
)

SUPERVISOR = "+14155550199"


def monitor(client, agent_id, mode="listen", endpoint=SUPERVISOR):
    return post(client, f"/agents/{agent_id}/monitor", {"mode": mode, "endpoint": endpoint})


def stop(client, agent_id):
    response = client.http.delete(f"/agents/{agent_id}/monitor")
    return response.status_code, json.loads(response.body)


def only_participant(edge) -> tuple[str, dict]:
    [(leg, flags)] = edge.participants.items()
    return leg, flags


def test_the_bridge_moves_into_a_room_and_the_supervisor_listens_muted(setup):  # noqa: F811
    client, edge, agents, sid, tag = setup
    first = agents["first"].agent_id
    status, body = monitor(client, first)
    assert status == 200, body
    room = f"switchboard-{sid}"
    leg, flags = only_participant(edge)
    assert body == {"call_sid": sid, "agent_id": first, "mode": "listen",
                    "endpoint": SUPERVISOR, "room": room, "since": body["since"],
                    "supervisor_leg": leg}
    # the agent's leg steps into the room without ending it; the caller's Dial action then
    # sends the caller straight into the same room (ending it on leaving), no music
    agent_room = ET.fromstring(edge.twiml[AGENT_LEG]).find("Dial/Conference")
    assert agent_room.text == room and agent_room.get("endConferenceOnExit") == "false"
    caller = hook(client, f"/twilio/voice/agent/dialed/care{tag}/{sid}", CallSid=sid,
                  DialCallStatus="completed", DialCallDuration="40")
    assert caller.find("Play") is None
    caller_room = caller.find("Dial/Conference")
    assert caller_room.text == room and caller_room.get("endConferenceOnExit") == "true"
    assert state(first).state == "on-call"
    assert (flags["room"], flags["to"], flags["from"]) == (room, SUPERVISOR, "+14155550100")
    assert (flags["muted"], flags["coach"]) == (True, None)
    assert flags["status_callback"].split("#")[0].endswith(f"/monitor/{sid}/status")
    record = CallRecord.get(sid, consistent_read=True)
    assert record.conference == room and record.monitor["leg"] == leg


def test_modes_change_the_participant_and_the_same_mode_answers_the_same(setup):  # noqa: F811
    client, edge, agents, _, _ = setup
    first = agents["first"].agent_id
    status, listening = monitor(client, first)
    assert monitor(client, first) == (200, listening)
    leg, flags = only_participant(edge)
    assert monitor(client, first, "whisper")[1]["mode"] == "whisper"
    assert (flags["muted"], flags["coach"]) == (False, AGENT_LEG)
    assert monitor(client, first, "barge")[1]["supervisor_leg"] == leg
    assert (flags["muted"], flags["coach"]) == (False, None)
    assert len(edge.participants) == 1 and len(edge.twiml) == 1, "moved once, called once"


def test_one_monitor_per_call(setup):  # noqa: F811
    client, edge, agents, _, _ = setup
    first = agents["first"].agent_id
    results: list = []

    def start(endpoint):
        try:
            results.append(root().routing.monitors.monitor(first, "listen", endpoint))
        except TransferRefused as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=start, args=(endpoint,))
               for endpoint in ("client:sup-a", "client:sup-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    [won] = [r for r in results if isinstance(r, dict)]
    [lost] = [r for r in results if isinstance(r, str)]
    assert won["endpoint"] in lost and "already monitoring" in lost
    assert len(edge.participants) == 1
    status, body = monitor(client, first, endpoint="client:sup-c")
    assert status == 409 and won["endpoint"] in body["error"]


def test_holds_and_transfers_wait_for_the_supervisor_to_leave(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    first, second = agents["first"].agent_id, agents["second"].agent_id
    assert monitor(client, first)[0] == 200
    for path, body in (("hold", {}), ("transfer", {"to": "number", "target": "+14155550198"}),
                       ("transfer", {"to": "agent", "target": second, "mode": "warm"})):
        status, refused = post(client, f"/agents/{first}/{path}", body)
        assert status == 409 and "supervisor" in refused["error"], (path, refused)
    assert state(second).state == "available" and not edge.placed

    leg, _ = only_participant(edge)
    assert stop(client, first) == (200, {"call_sid": sid, "monitor": None})
    assert edge.hung_up == [leg]
    assert stop(client, first) == (200, {"call_sid": sid, "monitor": None}), "idempotent"
    assert post(client, f"/agents/{first}/hold", {})[0] == 200
    status, body = monitor(client, first)
    assert status == 409 and "hold" in body["error"], body


def test_the_supervisor_hanging_up_ends_the_monitor(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    first = agents["first"].agent_id
    assert monitor(client, first)[0] == 200
    leg, _ = only_participant(edge)
    hook(client, f"/twilio/voice/agent/monitor/{sid}/status", CallSid="CA" + "f" * 32,
         CallStatus="completed")  # another leg: ignored
    assert CallRecord.get(sid, consistent_read=True).monitor is not None
    hook(client, f"/twilio/voice/agent/monitor/{sid}/status", CallSid=leg,
         CallStatus="completed")
    assert CallRecord.get(sid, consistent_read=True).monitor is None
    status, again = monitor(client, first, "barge")
    assert status == 200 and again["supervisor_leg"] != leg, "a new leg into the same room"
    assert len(edge.twiml) == 1, "the call already talks in the room: nothing to move"


def test_the_supervisors_leg_ends_with_the_call(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    first = agents["first"].agent_id
    assert monitor(client, first, "whisper")[0] == 200
    leg, _ = only_participant(edge)
    root().routing.caller_gone(calls.get_call(sid))  # the caller's final status
    assert leg in edge.hung_up
    assert CallRecord.get(sid, consistent_read=True).monitor is None
    status, body = monitor(client, first)
    assert status == 409 and "the call has ended" in body["error"], body


def test_refusals_when_there_is_no_live_call_to_monitor(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    first, second = agents["first"].agent_id, agents["second"].agent_id
    status, body = monitor(client, second)
    assert status == 409 and body["error"] == f"agent {second} is not on a call"
    assert monitor(client, first, "shout")[0] == 400
    assert monitor(client, first, endpoint="14155550199")[0] == 400
    assert monitor(client, first, endpoint="client:no spaces")[0] == 400
    assert monitor(client, "ag-nobody")[0] == 404
    assert stop(client, second)[0] == 409
    # the call is over but its status callback has not freed the agent yet
    CallRecord(sid).update(actions=[CallRecord.status.set("completed"),
                                    CallRecord.status_rank.set(5)])
    status, body = monitor(client, first)
    assert status == 409 and body["error"] == "the call has ended"
    assert not edge.participants and not edge.twiml


def test_an_agent_leg_that_is_gone_ends_the_call_instead(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    first = agents["first"].agent_id
    edge.gone.add(AGENT_LEG)  # the agent hung up as the supervisor clicked
    status, body = monitor(client, first)
    assert status == 409 and body["error"] == "the call has ended"
    record = CallRecord.get(sid, consistent_read=True)
    assert (record.monitor, record.conference) == (None, None)
    assert ET.fromstring(edge.twiml[sid]).find("Say") is not None, "the caller is let go"
    assert AgentItem.get(first, consistent_read=True).state == "wrap-up"
    assert not edge.participants


def test_a_supervisor_who_cannot_be_called_leaves_the_call_unmonitored(setup):  # noqa: F811
    client, edge, agents, sid, _ = setup
    first = agents["first"].agent_id
    edge.fail_with = RuntimeError("Twilio said no")
    status, body = monitor(client, first)
    assert status == 409 and SUPERVISOR in body["error"]
    record = CallRecord.get(sid, consistent_read=True)
    assert record.monitor is None and record.conference == f"switchboard-{sid}", \
        "the call goes on in the room"
    edge.fail_with = None
    assert post(client, f"/agents/{first}/hold", {})[0] == 200
