"""Agents change state by texting the hotline from their registered phone."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta

from chalicelib.routing.model import Agent, Endpoint
from chalicelib.store import routing
from chalicelib.store.models import AgentItem
from tests.integration.conftest import OPEN_HOURS, signed_post

HOTLINE = "+14155550100"


def text(client, sender: str, body: str, message_sid: str | None = None) -> str | None:
    response = signed_post(client, "/twilio/sms", {
        "MessageSid": message_sid or "SM" + uuid.uuid4().hex, "From": sender, "To": HOTLINE,
        "Body": body})
    assert response.status_code == 200
    message = ET.fromstring(response.body).find("Message")
    return None if message is None else message.text


def test_an_agent_texts_on_break_and_off(client, clock):
    def text_later(*args):  # a moment passes between texts: the history orders by time
        clock.now += timedelta(seconds=5)
        return text(client, *args)

    mobile = "+1415555" + str(uuid.uuid4().int)[:4]
    agent = Agent("ag-" + uuid.uuid4().hex[:6], "Texting Agent", Endpoint("phone", mobile),
                  queues={"sms-q": 1}, mobile=mobile, languages=["zh-CN"])
    routing.save_agent_profile(agent, OPEN_HOURS)

    assert text_later(mobile, " on ") == "您的状态已更新为：上线。"
    assert AgentItem.get(agent.agent_id, consistent_read=True).state == "available"
    assert text_later(mobile, "休息") == "您的状态已更新为：休息。"
    item = AgentItem.get(agent.agent_id, consistent_read=True)
    assert (item.state, item.state_reason) == ("away", "sms: 休息")
    assert "上线" in text_later(mobile, "hello?")  # the help text
    assert text_later(mobile, "OFF") is not None
    assert AgentItem.get(agent.agent_id, consistent_read=True).state == "offline"
    reasons = [e.reason for e in routing.agent_history(agent.agent_id)]
    assert reasons[:3] == ["sms: off", "sms: 休息", "sms: on"]


def test_texts_from_strangers_get_no_reply_and_unsigned_ones_are_refused(client):
    assert text(client, "+14155550999", "ON") is None
    unsigned = client.http.post("/twilio/sms", body="MessageSid=SM1&From=%2B1&Body=ON",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 403
    assert signed_post(client, "/twilio/sms", {"From": "+1", "Body": "x"}).status_code == 400


def test_a_retried_command_after_a_later_one_changes_nothing(client, clock):
    mobile = "+1415555" + str(uuid.uuid4().int)[:4]
    agent = Agent("ag-" + uuid.uuid4().hex[:6], "Retried Agent", Endpoint("phone", mobile),
                  queues={"sms-q": 1}, mobile=mobile, languages=["en-US"])
    routing.save_agent_profile(agent, OPEN_HOURS)
    on_sid = "SM" + uuid.uuid4().hex
    # Given ON, then OFF, each applied
    text(client, mobile, "ON", on_sid)
    clock.now += timedelta(seconds=5)  # the history orders by time
    text(client, mobile, "OFF")
    assert AgentItem.get(agent.agent_id, consistent_read=True).state == "offline"
    # When Twilio retries the first ON (same MessageSid) after the OFF
    reply = text(client, mobile, "ON", on_sid)
    # Then the agent stays offline, and the reply says so
    assert AgentItem.get(agent.agent_id, consistent_read=True).state == "offline"
    assert "offline" in reply
    assert [e.reason for e in routing.agent_history(agent.agent_id)][:2] == ["sms: off", "sms: on"]
