"""Agents hear whispers and prompts in a language they speak, whatever the caller chose."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import pytest

from chalicelib.routing.model import Agent, AgentState, Endpoint, language_for
from chalicelib.store import routing
from tests.integration.conftest import OPEN_HOURS, signed_post
from tests.support import PUBLIC_BASE_URL

HOTLINE = "+14155550100"


def hook(client, path, sid, **params):
    response = signed_post(client, path.removeprefix(PUBLIC_BASE_URL),
                           {"CallSid": sid, "From": "+12125550148", "To": HOTLINE, **params})
    assert response.status_code == 200, response.body
    return ET.fromstring(response.body)


@pytest.mark.parametrize("agent_id, whisper_language, words", [
    ("ag-alice", "en-US", "Call from the Support queue"),  # speaks English only
    ("ag-bo", "cmn-CN", "来电"),  # speaks Chinese (and English): the caller's language
])
def test_a_chinese_callers_whisper_is_in_a_language_the_agent_speaks(edge, agent_id,
                                                                        whisper_language, words):
    client, twilio = edge.client, edge.twilio
    agent = routing.get_agent(agent_id)
    agent.state, agent.state_since = AgentState.AVAILABLE, OPEN_HOURS
    routing.change_agent_state(agent, AgentState.OFFLINE, OPEN_HOURS)
    sid = "CA" + uuid.uuid4().hex
    hook(client, "/twilio/voice", sid)
    hook(client, "/twilio/voice/step/1/choose_language", sid, Digits="2")  # 中文
    hook(client, "/twilio/voice/step/2/main_menu", sid, Digits="2")
    hook(client, "/twilio/voice/hold/agent_queue", sid, QueueTime="0")
    dial = hook(client, twilio.urls[sid], sid).find("Dial")
    say = hook(client, dial.find("Number").get("url"), "CA" + uuid.uuid4().hex).find("Say")
    assert say.get("language") == whisper_language and words in say.text


def test_the_language_for_an_agent():
    agent = Agent("a", "A", Endpoint("phone", "+14155550100"), languages=["zh-CN", "en-US"])
    assert language_for(agent, "en-US") == "en-US"
    assert language_for(agent, "en-GB") == "en-US"  # same language, another region
    assert language_for(agent, "fr-FR") == "zh-CN"  # the agent's first
    assert language_for(Agent("b", "B", agent.endpoint), "fr-FR") == "fr-FR"  # none listed
