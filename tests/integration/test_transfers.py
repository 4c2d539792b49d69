"""Cold transfers keep the caller's context: DynamoDB Local for state, Twilio faked at its edge."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET

import pytest

from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig
from chalicelib.routing.routes import set_routing_service
from chalicelib.routing.service import RoutingService
from chalicelib.settings import get_settings
from chalicelib.store import calls, routing
from chalicelib.store.models import AgentItem, CallRecord
from tests.integration.conftest import OPEN_HOURS


class TwilioEdge:
    """Records what would be sent to Twilio's Calls API."""

    def __init__(self):
        self.urls: dict[str, str] = {}
        self.twiml: dict[str, str] = {}

    def redirect(self, call_sid: str, url: str) -> None:
        self.urls[call_sid] = url

    def redirect_twiml(self, call_sid: str, twiml: str) -> None:
        self.twiml[call_sid] = twiml


@pytest.fixture
def setup(client):
    edge = TwilioEdge()
    set_routing_service(RoutingService(get_settings(), clock=lambda: OPEN_HOURS, connector=edge))
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
    calls.set_agent(sid, agents["first"].agent_id)
    AgentItem(agents["first"].agent_id).update(actions=[AgentItem.current_call.set(sid)])
    yield client, edge, agents, sid, tag
    set_routing_service(None)


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

