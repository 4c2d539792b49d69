"""Cold and warm transfers keep the caller's context: DynamoDB Local for state, Twilio faked at
its edge (the REST calls we would make are recorded; Twilio's webhooks are posted by the test)."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET

import pytest

from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig
from chalicelib.store import calls, routing
from chalicelib.store.models import AgentItem, CallRecord
from chalicelib.wiring import Root, install
from tests.integration.conftest import OPEN_HOURS, signed_post
from tests.support import PUBLIC_BASE_URL, FakeTwilio

AGENT_LEG = "CA" + "a" * 32  # the first agent's leg of the caller's <Dial>


@pytest.fixture
def setup(client):
    edge = FakeTwilio()
    previous = install(Root(clock=lambda: OPEN_HOURS, connector=edge))
    tag = uuid.uuid4().hex[:6]
    for queue_id in (f"sales{tag}", f"care{tag}"):
        routing.save_queue(QueueConfig(queue_id, queue_id.title()), OPEN_HOURS)
    agents = {}
    for name, queue_id, state in (("first", f"care{tag}", AgentState.ON_CALL),
                                  ("second", f"sales{tag}", AgentState.AVAILABLE)):
        agent = Agent(f"ag-{name}-{tag}", name, Endpoint("phone", "+14155550163"),
                      queues={queue_id: 1})
        routing.save_agent_profile(agent, OPEN_HOURS)
        agent.state, agent.state_since = state, OPEN_HOURS
        routing.change_agent_state(agent, AgentState.OFFLINE, OPEN_HOURS)
        agents[name] = agent
    # a caller who came through the IVR and is talking to the first agent
    sid = "CA" + uuid.uuid4().hex
    step = calls.StepOutcome("main", 1, "en-US", "agent_queue", ["main_menu", "agent_queue"],
                             {"account_number": "79927398713"}, {},
                             {"account_number": "79927398713"}, "<Response/>", None)
    calls.start_call(calls.NewCall(sid, "+14155550100", "+14155550177", "inbound",
                                   {"name": "Grace", "vip": False}, {}), step,
                     now=OPEN_HOURS, retention_days=1)
    calls.set_agent(sid, agents["first"].agent_id, AGENT_LEG)
    AgentItem(agents["first"].agent_id).update(actions=[AgentItem.current_call.set(sid)])
    yield client, edge, agents, sid, tag
    install(previous)


def post(client, path, body):
    response = client.http.post(path, body=json.dumps(body),
                                headers={"Content-Type": "application/json"})
    return response.status_code, json.loads(response.body)


def test_transfer_to_another_queue_keeps_the_context(setup):
    client, edge, agents, sid, tag = setup
    status, body = post(client, f"/agents/{agents['first'].agent_id}/transfer",
                        {"to": "queue", "target": f"sales{tag}"})
    assert status == 200, body
    # the caller is re-queued in Twilio under the new queue, at the flow's queue node
    enqueue = ET.fromstring(edge.twiml[sid]).find("Enqueue")
    assert enqueue.text == f"sales{tag}"
    assert enqueue.get("waitUrl").endswith("/twilio/voice/hold/agent_queue")
    # our line has them in the new queue, and the record kept path, inputs and customer
    record = CallRecord.get(sid, consistent_read=True)
    assert record.queue_id == f"sales{tag}"
    assert [e.call_sid for e in routing.queue_entries(f"sales{tag}")] == [sid]
    assert record.path == ["main_menu", "agent_queue"] and record.customer["name"] == "Grace"
    assert record.transfers[0]["from_agent"] == agents["first"].agent_id
    # and the transferring agent is in wrap-up
    assert AgentItem.get(agents["first"].agent_id, consistent_read=True).state == "wrap-up"


def test_transfer_to_an_agent_reserves_them_and_their_screen_pop_shows_the_call(setup):
    client, edge, agents, sid, tag = setup
    status, body = post(client, f"/agents/{agents['first'].agent_id}/transfer",
                        {"to": "agent", "target": agents["second"].agent_id})
    assert status == 200, body
    assert edge.urls[sid].endswith(f"/twilio/voice/agent/connect/sales{tag}/{sid}")
    second = AgentItem.get(agents["second"].agent_id, consistent_read=True)
    assert (second.state, second.reserved_call) == ("reserved", sid)
    response = client.http.get(f"/agents/{agents['second'].agent_id}/context")
    context = json.loads(response.body)
    assert context["call_sid"] == sid and context["inputs"]["account_number"] == "79927398713"
    assert context["transfers"][0]["to"] == "agent"


def test_transfer_to_a_number_dials_it(setup):
    client, edge, agents, sid, _ = setup
    status, _ = post(client, f"/agents/{agents['first'].agent_id}/transfer",
                     {"to": "number", "target": "+14155550199"})
    assert status == 200
    assert ET.fromstring(edge.twiml[sid]).find("Dial/Number").text == "+14155550199"


def test_refused_transfers_leave_the_call_alone(setup):
    client, edge, agents, sid, tag = setup
    first = agents["first"].agent_id
    assert post(client, f"/agents/{first}/transfer", {"to": "agent",
                                                      "target": first})[0] == 409
    assert post(client, f"/agents/{first}/transfer", {"to": "queue",
                                                      "target": "nowhere"})[0] == 409
    assert post(client, f"/agents/{first}/transfer", {"to": "number",
                                                      "target": "12"})[0] == 400
    assert post(client, f"/agents/{first}/transfer", {"to": "moon", "target": "x"})[0] == 400
    assert post(client, f"/agents/{agents['second'].agent_id}/transfer",
                {"to": "number", "target": "+14155550199"})[0] == 409  # not on a call
    assert post(client, "/agents/nobody/transfer", {"to": "number",
                                                    "target": "+14155550199"})[0] == 404
    assert not edge.twiml and not edge.urls
    assert AgentItem.get(first, consistent_read=True).state == "on-call"



# ---- warm transfers -------------------------------------------------------------------------
def hook(client, path, **params):
    """A Twilio webhook on ``path`` (signed), returning the parsed TwiML."""
    response = signed_post(client, path, params)
    assert response.status_code == 200, response.body
    return ET.fromstring(response.body)


def state(agent_id):
    return AgentItem.get(agent_id, consistent_read=True)


def start_warm(setup, to="agent", target=None):
    client, edge, agents, sid, tag = setup
    target = target or agents["second"].agent_id
    status, body = post(client, f"/agents/{agents['first'].agent_id}/transfer",
                        {"to": to, "target": target, "mode": "warm"})
    assert status == 200, body
    return body


def answer_consult(setup):
    client, edge, _, sid, _ = setup
    leg = edge.placed[-1]["sid"]
    path = edge.placed[-1]["url"].removeprefix(PUBLIC_BASE_URL)
    return leg, hook(client, path, CallSid=leg, CallStatus="in-progress")


def test_warm_transfer_consults_the_agent_then_hands_the_caller_over(setup):
    client, edge, agents, sid, tag = setup
    first, second = agents["first"].agent_id, agents["second"].agent_id
    body = start_warm(setup)
    assert (body["consult"], body["target_agent"]) == ("dialing", second)
    # the first agent's leg moves into the call's conference room; it does not end the room
    room = ET.fromstring(edge.twiml[AGENT_LEG]).find("Dial/Conference")
    assert room.text == f"switchboard-{sid}" and room.get("endConferenceOnExit") == "false"
    # the second agent is reserved and called into the room
    assert state(second).state == "reserved"
    assert edge.placed[0]["to"] == "+14155550163"
    assert edge.placed[0]["url"].endswith(f"/twilio/voice/agent/consult/{sid}/join")
    # the caller's <Dial> ended when the agent leg moved: they hear music, nobody wraps up
    held = hook(client, f"/twilio/voice/agent/dialed/care{tag}/{sid}", CallSid=sid,
                DialCallStatus="completed", DialCallDuration="40")
    assert held.find("Play").get("loop") == "0"
    assert state(first).state == "on-call"
    # the second agent answers: they hear who is coming, then join the room
    leg, joined = answer_consult(setup)
    assert "transfer a caller to you: Grace" in joined.find("Say").text
    assert joined.find("Dial/Conference").text == f"switchboard-{sid}"
    assert (state(second).state, state(second).current_call) == ("on-call", sid)
    # the screen pop of the consulted agent already shows the caller's IVR context
    context = json.loads(client.http.get(f"/agents/{second}/context").body)
    assert context["call_sid"] == sid and context["ivr_path"] == ["main_menu", "agent_queue"]
    # complete: the caller joins the room (and ends it on leaving), the first agent leaves
    status, done = post(client, f"/agents/{first}/transfer/complete", {})
    assert (status, done["consult"]) == (200, "completed")
    caller_room = ET.fromstring(edge.twiml[sid]).find("Dial/Conference")
    assert caller_room.get("endConferenceOnExit") == "true"
    assert edge.hung_up == [AGENT_LEG]
    assert state(first).state == "wrap-up"
    record = CallRecord.get(sid, consistent_read=True)
    assert (record.agent_id, record.agent_leg_sid, record.consult_state) == (second, leg, None)
    assert record.transfers[-1]["mode"] == "warm" and record.transfers[-1]["outcome"] == \
        "completed"
    # a second click changes nothing
    assert post(client, f"/agents/{first}/transfer/complete", {})[0] == 409
    # the first agent's leg leaving the room (we hung it up) does not end the call
    hook(client, f"/twilio/voice/agent/consult/{sid}/left/{first}", CallSid=AGENT_LEG)
    assert sid not in edge.hung_up and "Say" not in edge.twiml[sid]
    # when the second agent hangs up, the caller hears goodbye and the agent wraps up
    hook(client, f"/twilio/voice/agent/consult/{sid}/left/{second}", CallSid=leg)
    assert "Goodbye" in ET.fromstring(edge.twiml[sid]).find("Say").text
    assert state(second).state == "wrap-up"


def test_a_consult_that_is_not_answered_brings_the_caller_back_to_the_first_agent(setup):
    client, edge, agents, sid, tag = setup
    first, second = agents["first"].agent_id, agents["second"].agent_id
    start_warm(setup)
    leg = edge.placed[0]["sid"]
    for _ in range(2):  # Twilio may deliver the status callback twice
        hook(client, f"/twilio/voice/agent/consult/{sid}/status", CallSid=leg,
             CallStatus="no-answer")
    room = ET.fromstring(edge.twiml[sid]).find("Dial/Conference")
    assert room.text == f"switchboard-{sid}" and room.get("endConferenceOnExit") == "true"
    missed = state(second)
    assert (missed.state, missed.missed_in_row) == ("available", 1)
    assert state(first).state == "on-call"
    record = CallRecord.get(sid, consistent_read=True)
    assert record.agent_id == first and record.consult_state is None
    assert [t["outcome"] for t in record.transfers] == ["cancelled"]
    # a late answer from the cancelled leg does not bridge
    assert answer_consult(setup)[1].find("Hangup") is not None
    # the call goes on in the room: the first agent hanging up lets the caller go
    hook(client, f"/twilio/voice/agent/consult/{sid}/left/{first}", CallSid=AGENT_LEG)
    assert "Goodbye" in ET.fromstring(edge.twiml[sid]).find("Say").text
    assert state(first).state == "wrap-up"


def test_cancelling_after_the_consult_returns_the_caller_and_frees_the_other_agent(setup):
    client, edge, agents, sid, _ = setup
    first, second = agents["first"].agent_id, agents["second"].agent_id
    start_warm(setup)
    leg, _ = answer_consult(setup)
    status, body = post(client, f"/agents/{first}/transfer/cancel", {})
    assert (status, body["consult"]) == (200, "cancelled")
    assert edge.hung_up == [leg]
    assert state(second).state == "wrap-up"  # they talked, so they wrap up
    assert state(first).state == "on-call"
    assert ET.fromstring(edge.twiml[sid]).find("Dial/Conference") is not None
    # the hung-up leg's status callback arrives afterwards and changes nothing
    hook(client, f"/twilio/voice/agent/consult/{sid}/status", CallSid=leg,
         CallStatus="completed")
    assert CallRecord.get(sid, consistent_read=True).agent_id == first
    assert post(client, f"/agents/{first}/transfer/cancel", {})[0] == 409


def test_warm_transfer_to_a_queue_consults_its_longest_idle_free_agent(setup):
    client, edge, agents, sid, tag = setup
    body = start_warm(setup, to="queue", target=f"sales{tag}")
    assert body["target_agent"] == agents["second"].agent_id
    # nobody else is free in the first agent's own queue
    post(client, f"/agents/{agents['first'].agent_id}/transfer/cancel", {})
    status, refused = post(client, f"/agents/{agents['first'].agent_id}/transfer",
                           {"to": "queue", "target": f"care{tag}", "mode": "warm"})
    assert status == 409 and "free" in refused["error"]


def test_warm_transfer_to_an_outside_number(setup):
    client, edge, agents, sid, _ = setup
    first = agents["first"].agent_id
    start_warm(setup, to="number", target="+14155550199")
    assert edge.placed[0]["to"] == "+14155550199" and edge.placed[0]["from"] == "+14155550100"
    leg, joined = answer_consult(setup)
    assert joined.find("Dial").get("action").endswith(f"/consult/{sid}/left/outside")
    post(client, f"/agents/{first}/transfer/complete", {})
    record = CallRecord.get(sid, consistent_read=True)
    assert record.agent_id is None and record.agent_leg_sid == leg
    assert state(first).state == "wrap-up"
    hook(client, f"/twilio/voice/agent/consult/{sid}/left/outside", CallSid=leg)
    assert "Goodbye" in ET.fromstring(edge.twiml[sid]).find("Say").text


def test_the_caller_hanging_up_mid_consult_frees_everyone(setup):
    client, edge, agents, sid, _ = setup
    first, second = agents["first"].agent_id, agents["second"].agent_id
    start_warm(setup)
    leg = edge.placed[0]["sid"]
    hook(client, "/twilio/voice/status", CallSid=sid, CallStatus="completed",
         CallDuration="95", From="+14155550177", To="+14155550100", SequenceNumber="9")
    assert set(edge.hung_up) == {leg, AGENT_LEG}
    assert state(second).state == "available"
    assert state(first).state == "wrap-up"
    assert CallRecord.get(sid, consistent_read=True).consult_state is None


def test_refused_warm_transfers_leave_the_call_alone(setup):
    client, edge, agents, sid, _ = setup
    first = agents["first"].agent_id
    # no such agent, an agent who is not free, the agent themselves
    for target in ("nobody", first):
        assert post(client, f"/agents/{first}/transfer",
                    {"to": "agent", "target": target, "mode": "warm"})[0] == 409
    assert post(client, f"/agents/{first}/transfer",
                {"to": "agent", "target": first, "mode": "tepid"})[0] == 400
    assert post(client, f"/agents/{first}/transfer/complete", {})[0] == 409
    assert post(client, f"/agents/{first}/transfer/sideways", {})[0] == 404
    assert not edge.twiml and not edge.placed
    # one consultation at a time
    start_warm(setup)
    assert post(client, f"/agents/{first}/transfer",
                {"to": "number", "target": "+14155550199", "mode": "warm"})[0] == 409
    assert post(client, f"/agents/{first}/transfer",
                {"to": "number", "target": "+14155550199"})[0] == 409
    assert len(edge.placed) == 1


def test_an_agent_leg_that_already_ended_sends_the_caller_back_in_line(setup):
    client, edge, agents, sid, _ = setup
    first, second = agents["first"].agent_id, agents["second"].agent_id
    edge.gone.add(AGENT_LEG)
    status, body = post(client, f"/agents/{first}/transfer",
                        {"to": "agent", "target": second, "mode": "warm"})
    assert status == 409 and "back in line" in body["error"]
    assert ET.fromstring(edge.twiml[sid]).find("Enqueue") is not None
    assert state(second).state == "available" and not edge.placed
    assert CallRecord.get(sid, consistent_read=True).consult_state is None


def test_a_target_that_cannot_be_called_brings_the_caller_back_to_the_agent(setup):
    client, edge, agents, sid, _ = setup
    first, second = agents["first"].agent_id, agents["second"].agent_id
    edge.fail_with = RuntimeError("Twilio 400 (21211): invalid 'To'")
    status, body = post(client, f"/agents/{first}/transfer",
                        {"to": "agent", "target": second, "mode": "warm"})
    assert status == 409 and "could not call" in body["error"]
    # the caller rejoins the first agent in the room; the target is free again
    assert ET.fromstring(edge.twiml[sid]).find("Dial/Conference") is not None
    assert state(second).state == "available" and state(first).state == "on-call"
    record = CallRecord.get(sid, consistent_read=True)
    assert record.consult_state is None and record.transfers[-1]["outcome"] == "cancelled"
