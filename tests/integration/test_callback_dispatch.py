"""Calling customers back: queue callbacks keep their place, agent-first and customer-first
dialing, retries with backoff inside calling hours, and never two dials for one request.

DynamoDB Local holds the state; Twilio's REST edge is faked (the calls we would place are
recorded), Twilio's webhooks are posted signed by the test, texts go to the carrier emulator.
"""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.callbacks.requests import request_callback
from chalicelib.routing import agent_states
from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig, WaitingCaller
from chalicelib.settings import get_settings
from chalicelib.store import callbacks, calls, optouts, routing
from chalicelib.store import missed as store_missed
from chalicelib.store.models import AgentItem, CallRecord
from chalicelib.wiring import Root, install, root
from tests.integration.conftest import signed_post
from tests.support import PUBLIC_BASE_URL, Clock, FakeTwilio

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # noon in San Francisco, 15:00 in New York
HOTLINE = "+14155550100"


@pytest.fixture
def world(client, carrier):
    """A fresh queue with two available agents, a settable clock and a fake Twilio edge."""
    clock = Clock(NOW)
    edge = FakeTwilio()
    parts = Root(clock=clock, connector=edge)
    previous = install(parts)
    service = parts.routing
    queue_id = "cbq" + uuid.uuid4().hex[:6]
    routing.save_queue(QueueConfig(queue_id, "Callbacks", join_empty="wait"), NOW)
    agents = []
    for n in range(2):
        agent = Agent(f"ag-cb{n}-{queue_id}", f"Agent {n}", Endpoint("phone", f"+1415555017{n}"),
                      queues={queue_id: 1}, wrap_up_seconds=300)
        routing.save_agent_profile(agent, NOW)
        agent.state, agent.state_since = AgentState.AVAILABLE, NOW
        agent.idle_since = NOW - timedelta(minutes=10 - n)  # agent 0 idle longest
        routing.change_agent_state(agent, AgentState.OFFLINE, NOW)
        agents.append(agent)
    yield client, carrier, clock, edge, service, queue_id, agents
    install(previous)


def new_phone() -> str:
    return f"+1415555{uuid.uuid4().int % 10000:04d}"


def ask(queue_id, phone=None, joined_at=None, kind="queue", at=NOW):
    callback_id, created = request_callback(hotline=HOTLINE, queue_id=queue_id,
                                            phone=phone or new_phone(), name="Ada",
                                            language="en-US", kind=kind, now=at,
                                            joined_at=joined_at)
    assert created
    return callback_id


def hook(client, url, **params):
    response = signed_post(client, url.removeprefix(PUBLIC_BASE_URL), params)
    assert response.status_code == 200, response.body
    return ET.fromstring(response.body)


def agent_state(agent) -> str:
    return AgentItem.get(agent.agent_id, consistent_read=True).state


def set_away(agent):
    item = routing.get_agent(agent.agent_id)
    routing.change_agent_state(agent_states.transition(item, AgentState.AWAY, NOW, "break"),
                               AgentState.AVAILABLE, NOW)


# ---- agent-first -----------------------------------------------------------------------------
def test_a_queue_callback_is_called_before_later_joiners_and_bridged_agent_first(world):
    client, carrier, clock, edge, service, queue_id, agents = world
    set_away(agents[1])  # one agent free
    phone = new_phone()
    # Given a caller who pressed 1 after joining at 19:55 and a caller on hold since 19:58
    callback_id = ask(queue_id, phone, joined_at=NOW - timedelta(minutes=5))
    routing.join_queue(WaitingCaller("CA" + uuid.uuid4().hex, queue_id, new_phone(),
                                     NOW - timedelta(minutes=2)))
    # When a routing round runs
    assert service.dispatch(queue_id) == 1
    # Then the callback (earlier join) got the agent: we call the agent first
    [placed] = edge.placed
    assert placed["to"] == agents[0].endpoint.address and placed["from"] == HOTLINE
    assert placed["url"].endswith(f"/twilio/voice/callback/{callback_id}/agent")
    assert agent_state(agents[0]) == "reserved" and not edge.urls and not edge.twiml
    assert callbacks.get_request(callback_id).status == "dialing"
    # The agent answers: a whisper, then the customer is dialled from the hotline number
    leg = placed["sid"]
    twiml = hook(client, placed["url"], CallSid=leg, CallStatus="in-progress")
    assert "Callback for the Callbacks queue: Ada" in twiml.find("Say").text
    dial = twiml.find("Dial")
    assert (dial.get("callerId"), dial.find("Number").text) == (HOTLINE, phone)
    assert agent_state(agents[0]) == "on-call"
    assert [e.kind for e in routing.queue_entries(queue_id)] == ["call"]
    # the agent's screen pop shows the customer
    record = CallRecord.get(leg, consistent_read=True)
    assert (record.caller, record.callback_id, record.agent_id) == (
        phone, callback_id, agents[0].agent_id)
    # a retried answer webhook does not dial twice
    assert hook(client, placed["url"], CallSid=leg).find("Dial") is None
    # The customer answers and they talk; then the agent's leg ends: wrap-up
    hook(client, dial.get("action"), CallSid=leg, DialCallStatus="completed",
         DialCallDuration="120")
    request = callbacks.get_request(callback_id)
    assert request.status == "completed" and request.history[-1]["detail"] == "talked 120 s"
    hook(client, placed["status_callback"], CallSid=leg, CallStatus="completed",
         CallDuration="130", SequenceNumber="3")
    assert agent_state(agents[0]) == "wrap-up"
    assert len(edge.placed) == 1


def test_an_unanswered_callback_is_retried_with_backoff_then_apologised_for(world):
    client, carrier, clock, edge, service, queue_id, agents = world
    set_away(agents[1])
    phone = new_phone()
    joined = NOW - timedelta(minutes=5)
    callback_id = ask(queue_id, phone, joined_at=joined)
    for attempt in (1, 2, 3):
        # a routing round offers it; the agent answers; the customer does not
        service.dispatch(queue_id)
        placed = [p for p in edge.placed if f"/{callback_id}/" in p["url"]][-1]
        assert placed["url"].endswith(f"/{callback_id}/agent"), attempt
        twiml = hook(client, placed["url"], CallSid=placed["sid"])
        said = hook(client, twiml.find("Dial").get("action"), CallSid=placed["sid"],
                    DialCallStatus="no-answer")
        assert "did not answer" in said.find("Say").text
        hook(client, placed["status_callback"], CallSid=placed["sid"], CallStatus="completed",
             SequenceNumber="3")
        routing.change_agent_state(agent_states.transition(  # wrap-up is over
            routing.get_agent(agents[0].agent_id), AgentState.AVAILABLE, clock.now),
            AgentState.WRAP_UP, clock.now)
        request = callbacks.get_request(callback_id)
        if attempt < 3:
            # out of the line, due again after a backoff, with its original place kept
            assert request.status == "scheduled" and request.attempts == attempt
            assert request.due_at >= clock.now + timedelta(seconds=60 * attempt)
            assert routing.queue_entries(queue_id) == []
            assert service.dispatch(queue_id) == 0  # not before its time
            clock.now = request.due_at
            service.callbacks.tick()
            assert callbacks.get_request(callback_id).status in ("queued", "dialing")
            [entry] = routing.queue_entries(queue_id)
            assert entry.joined_at == joined
    # after the third miss: failed, one apology text, a missed-call record
    request = callbacks.get_request(callback_id)
    assert (request.status, request.attempts) == ("failed", 3)
    texts = [m for m in carrier.messages if m["to"] == phone]
    assert len(texts) == 1 and "3 tries" in texts[0]["body"]
    missed = store_missed.get_open(HOTLINE, phone)
    assert missed is not None and "callback_failed" in str(missed)


def test_an_agent_who_lets_a_callback_ring_logs_a_miss_and_the_request_keeps_its_place(world):
    client, carrier, clock, edge, service, queue_id, agents = world
    set_away(agents[1])
    callback_id = ask(queue_id, joined_at=NOW - timedelta(minutes=5))
    service.dispatch(queue_id)
    placed = edge.placed[0]
    for _ in range(2):  # a duplicated status callback counts once
        hook(client, placed["status_callback"], CallSid=placed["sid"], CallStatus="no-answer")
    item = AgentItem.get(agents[0].agent_id, consistent_read=True)
    assert (item.state, item.missed_in_row) == ("available", 1)
    request = callbacks.get_request(callback_id)
    assert (request.status, request.attempts) == ("queued", 0)
    assert calls.get_call(placed["sid"]) is None  # an unanswered leg leaves no call record
    assert [e.status for e in routing.queue_entries(queue_id)] == ["waiting"]


# ---- calling hours -----------------------------------------------------------------------------
def test_no_callback_is_placed_outside_the_customers_08_to_21(world):
    client, carrier, clock, edge, service, queue_id, agents = world
    # 20:00 UTC is 04:00 next day in Shanghai: the request waits until 08:00 there
    callback_id = ask(queue_id, "+8613800138000", joined_at=NOW - timedelta(minutes=5))
    assert service.dispatch(queue_id) == 0 and not edge.placed
    request = callbacks.get_request(callback_id)
    assert request.status == "scheduled"
    assert request.due_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    # the job at 23:59 UTC leaves it alone; at 00:00 it joins the line and is offered
    clock.now = datetime(2026, 11, 23, 23, 59, tzinfo=UTC)
    service.callbacks.tick()
    assert callbacks.get_request(callback_id).status == "scheduled"
    clock.now = request.due_at
    service.callbacks.tick()
    assert callbacks.get_request(callback_id).status == "dialing"
    assert [p for p in edge.placed if p["url"].endswith(f"/{callback_id}/agent")]


def test_an_opted_out_number_is_never_called(world):
    client, carrier, clock, edge, service, queue_id, agents = world
    phone = new_phone()
    callback_id = ask(queue_id, phone)
    optouts.opt_out(phone, "stop", NOW)
    service.dispatch(queue_id)
    assert not edge.placed
    assert callbacks.get_request(callback_id).status == "cancelled"
    assert {agent_state(a) for a in agents} == {"available"}


# ---- customer-first ----------------------------------------------------------------------------
@pytest.fixture
def customer_first(world):
    client, carrier, clock, edge, service, queue_id, agents = world
    routing.save_queue(QueueConfig(queue_id, "Callbacks", join_empty="wait",
                                   callback_strategy="customer-first"), NOW)
    return world


def test_customer_first_puts_a_person_at_the_front_of_the_line(customer_first):
    client, carrier, clock, edge, service, queue_id, agents = customer_first
    set_away(agents[1])
    phone = new_phone()
    routing.join_queue(WaitingCaller("CA" + uuid.uuid4().hex, queue_id, new_phone(),
                                     NOW - timedelta(minutes=1)))
    callback_id = ask(queue_id, phone, joined_at=NOW - timedelta(minutes=5))
    # the round dials the customer (with answering-machine detection), not an agent
    service.dispatch(queue_id)
    [placed] = edge.placed
    assert (placed["to"], placed["amd"]) == (phone, "Enable")
    assert agent_state(agents[0]) == "available"
    # a person answers: greeting, then hold in the queue at the front of the line
    sid = placed["sid"]
    twiml = hook(client, placed["url"], CallSid=sid, AnsweredBy="human")
    assert "returning your call" in twiml.find("Say").text
    assert twiml.find("Enqueue").get("waitUrl").endswith(f"/callback/{callback_id}/hold")
    line = routing.queue_entries(queue_id)
    assert line[0].call_sid == sid and line[0].kind == "call"
    assert callbacks.get_request(callback_id).status == "connected"
    # the hold music tells them they are first; the round reserves the agent for them
    hold = hook(client, twiml.find("Enqueue").get("waitUrl"), CallSid=sid, QueueTime="5")
    assert "number 1 in line" in hold.find("Say").text
    assert edge.urls[sid].endswith(f"/twilio/voice/agent/connect/{queue_id}/{sid}")
    # the agent answers (whisper): the request is completed
    hook(client, f"{PUBLIC_BASE_URL}/twilio/voice/agent/whisper/{queue_id}/{sid}/"
         f"{agents[0].agent_id}", CallSid="CA" + uuid.uuid4().hex)
    assert callbacks.get_request(callback_id).status == "completed"
    assert agent_state(agents[0]) == "on-call"


def test_customer_first_leaves_a_machine_a_message_and_retries_later(customer_first):
    client, carrier, clock, edge, service, queue_id, agents = customer_first
    callback_id = ask(queue_id)
    service.dispatch(queue_id)
    placed = edge.placed[0]
    twiml = hook(client, placed["url"], CallSid=placed["sid"], AnsweredBy="machine_end_beep")
    assert "returning your call" in twiml.find("Say").text and twiml.find("Hangup") is not None
    request = callbacks.get_request(callback_id)
    assert (request.status, request.attempts) == ("scheduled", 1)
    assert "answering machine" in request.last_error
    assert routing.queue_entries(queue_id) == []


def test_twilio_errors_retry_on_5xx_and_end_the_request_on_4xx(customer_first):
    from twilio.base.exceptions import TwilioRestException

    client, carrier, clock, edge, service, queue_id, agents = customer_first
    busy_id = ask(queue_id)
    edge.fail_with = TwilioRestException(503, "/Calls.json", "Service unavailable")
    service.dispatch(queue_id)
    request = callbacks.get_request(busy_id)
    assert (request.status, request.attempts) == ("scheduled", 1)
    assert "503" in request.last_error
    bad_id = ask(queue_id)
    edge.fail_with = TwilioRestException(400, "/Calls.json", "Invalid 'To'", code=21211)
    service.dispatch(queue_id)
    request = callbacks.get_request(bad_id)
    assert request.status == "failed" and "21211" in request.last_error


# ---- the race ------------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["agent-first", "customer-first"])
def test_racing_dispatchers_never_dial_one_request_twice(world, strategy):
    client, carrier, clock, edge, service, queue_id, agents = world
    routing.save_queue(QueueConfig(queue_id, "Callbacks", join_empty="wait",
                                   callback_strategy=strategy), NOW)
    ids = [ask(queue_id, joined_at=NOW - timedelta(seconds=n)) for n in range(4)]
    barrier = threading.Barrier(6)

    def run():
        barrier.wait()
        for _ in range(3):
            service.dispatch(queue_id)
            service.callbacks.tick()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    dialled = Counter(p["url"].rsplit("/", 2)[-2] for p in edge.placed)
    assert dialled and max(dialled.values()) == 1, dialled
    assert len(dialled) == 2  # two free agents: two callbacks at a time
    assert set(dialled) <= set(ids)


def test_the_sweeper_repairs_a_callback_offer_whose_webhooks_were_lost(world):
    client, carrier, clock, edge, service, queue_id, agents = world
    set_away(agents[1])
    callback_id = ask(queue_id, joined_at=NOW - timedelta(minutes=5))
    service.dispatch(queue_id)
    assert callbacks.get_request(callback_id).status == "dialing"
    # no webhook ever comes back for the agent's call; the reservation runs out
    clock.now = NOW + timedelta(minutes=2)
    assert routing.get_agent(agents[0].agent_id).state is AgentState.RESERVED
    service.sweep()
    request = callbacks.get_request(callback_id)
    assert request.status in ("queued", "dialing")  # back in line, maybe offered again at once
    item = AgentItem.get(agents[0].agent_id, consistent_read=True)
    assert item.missed_in_row == 1
    assert [e.call_sid for e in routing.queue_entries(queue_id)] == [callback_id]
    # offered again (the agent is free once more)
    assert sum(p["url"].endswith(f"/{callback_id}/agent") for p in edge.placed) == 2


# ---- end to end through the carrier emulator --------------------------------------------
def test_a_web_request_is_called_back_through_the_carrier(client, carrier):
    """The real REST client and the emulator: the job queues the request, the agent's phone
    rings, the whisper plays, the customer is dialled and answers, the request completes."""
    clock = Clock(NOW)
    parts = Root(clock=clock)  # Twilio REST -> the emulator
    previous = install(parts)
    service = parts.routing
    try:
        queue_id = "cbe" + uuid.uuid4().hex[:6]
        routing.save_queue(QueueConfig(queue_id, "Web", join_empty="wait"), NOW)
        agent = Agent(f"ag-e2e-{queue_id}", "Grace", Endpoint("phone", "+14155550179"),
                      queues={queue_id: 1})
        routing.save_agent_profile(agent, NOW)
        phone = new_phone()
        callback_id = ask(queue_id, phone, kind="web", at=NOW - timedelta(minutes=1))
        # the agent logs in: the immediate trigger dials the callback at once
        agent.state = AgentState.AVAILABLE
        routing.change_agent_state(agent, AgentState.OFFLINE, NOW)
        assert service.agent_became_available(agent.agent_id) == 1
        carrier.wait_idle()
        [agent_leg] = [t for t in carrier.transcripts("outbound-api")
                       if t.to == "+14155550179"]
        assert not agent_leg.errors, agent_leg.errors
        assert any("Callback for the Web queue: Ada" in s for s in agent_leg.said)
        [dial] = agent_leg.of_type("dial")
        assert dial["targets"] == [phone] and dial["outcome"] == "completed"
        request = callbacks.get_request(callback_id)
        assert request.status == "completed", request.history
        assert agent_state(agent) == "wrap-up"
    finally:
        install(previous)


def test_the_sweeper_counts_a_customer_call_that_never_reported_back_as_a_failed_attempt(
    customer_first
):
    client, carrier, clock, edge, service, queue_id, agents = customer_first
    callback_id = ask(queue_id)
    service.dispatch(queue_id)
    assert callbacks.get_request(callback_id).status == "dialing"
    clock.now = NOW + timedelta(minutes=5)
    service.sweep()
    assert callbacks.get_request(callback_id).status == "dialing"  # still ringing, maybe
    clock.now = NOW + timedelta(minutes=11)
    service.sweep()
    request = callbacks.get_request(callback_id)
    assert (request.status, request.attempts) == ("scheduled", 1)
    assert request.last_error == "no outcome from the carrier"
    assert routing.queue_entries(queue_id) == []


def test_logs_never_hold_a_callback_id_or_a_full_number(world, caplog):
    import logging

    client, carrier, clock, edge, service, queue_id, agents = world
    set_away(agents[1])
    phone = new_phone()
    caplog.set_level(logging.INFO)  # what the app logs in Lambda (app.py)
    callback_id = ask(queue_id, phone, joined_at=NOW - timedelta(minutes=5))
    service.dispatch(queue_id)
    [placed] = edge.placed
    hook(client, placed["url"], CallSid=placed["sid"], CallStatus="in-progress")
    clock.now = NOW + timedelta(minutes=1)
    callbacks.transition(callback_id, int(callbacks.get_request(callback_id).version), "failed",
                         clock.now, detail="test")
    from chalicelib.messaging.outbound import send_sms

    send_sms(key=f"missed:{phone}", to=phone, sender=HOTLINE, body="hi", template="t",
             call_sid=None, settings=get_settings(), gate=root().compliance, now=clock.now)
    assert caplog.records
    assert callback_id not in caplog.text  # the only key to its status page
    assert phone not in caplog.text and phone[1:] not in caplog.text
