"""Every "today" is the business's local day in the queue's time zone, not UTC's: the queue's
day counters, the board's figures and the agents' calls today."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.routing.model import AgentState, QueueConfig
from chalicelib.store import routing
from tests.integration.conftest import signed_post
from tests.support import PUBLIC_BASE_URL

HOTLINE = "+14155550100"
# 23:30 on Monday 23 November in New York; already Tuesday 04:30 in UTC
LATE_EVENING = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)


@pytest.fixture
def support(edge, carrier):
    edge.clock.now = LATE_EVENING
    routing.save_queue(QueueConfig("support", "Support", timezone="America/New_York"),
                       LATE_EVENING)
    return edge.client, edge.twilio, edge.clock


def hook(client, path, sid, **params):
    response = signed_post(client, path.removeprefix(PUBLIC_BASE_URL),
                           {"CallSid": sid, "From": "+12125550147", "To": HOTLINE, **params})
    assert response.status_code == 200, response.body
    return ET.fromstring(response.body)


def board(client) -> dict:
    return json.loads(client.http.get("/queues/support/board").body)


def test_a_late_evening_call_counts_in_the_queues_own_day_and_the_agents(support):
    client, edge, clock = support
    agent = routing.get_agent("ag-alice")
    assert agent.timezone == "America/New_York"
    agent.state, agent.state_since = AgentState.AVAILABLE, LATE_EVENING
    routing.change_agent_state(agent, AgentState.OFFLINE, LATE_EVENING)
    # A caller reaches the queue at 23:30 New York time and is answered by Alice
    sid = "CA" + uuid.uuid4().hex
    hook(client, "/twilio/voice", sid)
    hook(client, "/twilio/voice/step/1/choose_language", sid, Digits="1")
    hook(client, "/twilio/voice/step/2/main_menu", sid, Digits="2")
    hook(client, "/twilio/voice/hold/agent_queue", sid, QueueTime="0")
    dial = hook(client, edge.urls[sid], sid).find("Dial")
    leg = "CA" + uuid.uuid4().hex
    hook(client, dial.find("Number").get("url"), leg)
    clock.now = LATE_EVENING + timedelta(minutes=5)
    hook(client, dial.get("action"), sid, DialCallStatus="completed", DialCallDuration="300",
         DialCallSid=leg)
    # Then the board counts it on Monday, the queue's day, though UTC says Tuesday
    today = board(client)
    assert (today["day"], today["timezone"]) == ("2026-11-23", "America/New_York")
    assert (today["offered_today"], today["answered_today"]) == (1, 1)
    assert routing.queue_day("support", "2026-11-23") is not None
    assert routing.queue_day("support", "2026-11-24") is None
    agent_view = json.loads(client.http.get("/agents/ag-alice").body)
    assert agent_view["calls_today"] == 1 and agent_view["timezone"] == "America/New_York"
    # After New York's midnight the board and the agent start a new day
    clock.now = LATE_EVENING + timedelta(hours=1)
    tomorrow = board(client)
    assert tomorrow["day"] == "2026-11-24" and tomorrow["offered_today"] == 0
    assert json.loads(client.http.get("/agents/ag-alice").body)["calls_today"] == 0


def test_a_queue_without_a_zone_of_its_own_uses_its_hours_zone_then_utc():
    hours = {"timezone": "Asia/Shanghai", "weekly": {"mon-sun": ["00:00-24:00"]}}
    assert QueueConfig("q", "Q", hours=hours).zone == "Asia/Shanghai"
    assert QueueConfig("q", "Q", hours=hours, timezone="Europe/London").zone == "Europe/London"
    assert QueueConfig("q", "Q").zone == "UTC"


def test_an_agent_takes_the_zone_of_their_first_queue_unless_they_name_one(client):
    routing.save_queue(QueueConfig("night", "Night", timezone="Asia/Shanghai"), LATE_EVENING)
    body = {"agent_id": "ag-zone", "name": "Zed", "queues": {"night": 1, "support": 2},
            "endpoint": {"kind": "phone", "address": "+14155550163"}}
    response = client.http.post("/agents", body=json.dumps(body),
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["timezone"] == "Asia/Shanghai"
    body["timezone"] = "Mars/Olympus"
    response = client.http.put("/agents/ag-zone", body=json.dumps(body),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and b"timezone" in response.body
