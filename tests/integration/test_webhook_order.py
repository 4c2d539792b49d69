"""Twilio's webhooks in any order, any number of times, and a line that heals itself.

Twilio retries, duplicates and reorders: any webhook of a call may arrive before, after or more
than once relative to any other of the same call. Every side effect is claimed by a key derived
from Twilio's ids, every state change is conditional, nothing is counted without a claim.
DynamoDB Local holds the state; Twilio's REST edge is faked (tests.support.FakeTwilio).
"""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from chalicelib.callbacks.missed import view
from chalicelib.callbacks.requests import request_callback
from chalicelib.routing.model import AgentState, QueueConfig
from chalicelib.store import callbacks, calls, missed, routing
from chalicelib.store.models import AgentItem
from tests.integration.conftest import OPEN_HOURS, signed_post
from tests.support import PUBLIC_BASE_URL

HOTLINE = "+14155550100"
QUEUE = "support"
STEPS_TO_QUEUE = [("/twilio/voice/step/1/choose_language", "1"),
                  ("/twilio/voice/step/2/main_menu", "2")]


@pytest.fixture
def line(edge, carrier):
    """The demo's support queue, its agents logged out, a settable clock, a fake Twilio edge for
    calls (texts reach the carrier emulator)."""
    routing.save_queue(QueueConfig(QUEUE, "Support", join_empty="wait"), OPEN_HOURS)
    return edge.client, edge.twilio, edge.routing, edge.clock


def new_caller() -> str:
    return f"+1212555{uuid.uuid4().int % 10000:04d}"  # New York: 10:00 at OPEN_HOURS


def hook(client, path: str, call_sid: str, caller: str, **params):
    response = signed_post(client, path, {"CallSid": call_sid, "From": caller, "To": HOTLINE,
                                          **params})
    assert response.status_code == 200, response.body
    return ET.fromstring(response.body)


def to_queue(client, caller: str, steps=STEPS_TO_QUEUE) -> tuple[str, ET.Element]:
    """A call answered and taken through the menu up to (not including) its last step."""
    sid = "CA" + uuid.uuid4().hex
    hook(client, "/twilio/voice", sid, caller, CallStatus="ringing")
    twiml = None
    for path, digits in steps:
        twiml = hook(client, path, sid, caller, Digits=digits, CallStatus="in-progress")
    return sid, twiml


def final_status(client, sid: str, caller: str, sequence: int = 5):
    return hook(client, "/twilio/voice/status", sid, caller, CallStatus="completed",
                CallDuration="40", SequenceNumber=str(sequence))


def waiting_calls() -> list:
    """The line's calls (a missed call's automatic callback request waits there too)."""
    return [e for e in routing.queue_entries(QUEUE) if e.kind == "call"]


def day():
    return routing.queue_day(QUEUE, OPEN_HOURS.date().isoformat())


def available(agent_id: str):
    agent = routing.get_agent(agent_id)
    agent.state, agent.state_since = AgentState.AVAILABLE, OPEN_HOURS
    agent.idle_since = OPEN_HOURS - timedelta(minutes=10)
    routing.change_agent_state(agent, (AgentState.OFFLINE, AgentState.AWAY), OPEN_HOURS)


# ---- a final status before the step that enqueues -------------------------------------------


def test_a_call_whose_final_status_came_first_is_not_put_in_line(line):
    client, edge, service, clock = line
    caller = new_caller()
    sid, _ = to_queue(client, caller, STEPS_TO_QUEUE[:1])
    # Given the caller hung up at the menu, and Twilio's final status overtook the menu's action
    final_status(client, sid, caller)
    # When the menu's action (the step that would enqueue) arrives after it
    twiml = hook(client, "/twilio/voice/step/2/main_menu", sid, caller, Digits="2")
    # Then it answers a hang-up, no entry is left for a call that is over, and nothing counts
    assert twiml.find("Enqueue") is None and twiml.find("Hangup") is not None
    assert routing.queue_entries(QUEUE) == []
    assert day() is None or int(day().offered) == 0


def test_a_voicemail_whose_recording_action_comes_after_the_final_status_is_kept(line):
    from chalicelib.store.models import Voicemail

    client, edge, service, clock = line
    caller = new_caller()
    sid, _ = to_queue(client, caller, STEPS_TO_QUEUE[:1])
    hook(client, "/twilio/voice/step/2/main_menu", sid, caller, Digits="3")  # voicemail
    final_status(client, sid, caller)  # the caller hung up to end the message
    recording = "RE" + uuid.uuid4().hex
    twiml = hook(client, "/twilio/voice/step/3/leave_voicemail", sid, caller,
                 RecordingSid=recording, RecordingUrl="https://api.twilio.test/r",
                 RecordingDuration="7")
    assert twiml.find("Hangup") is not None
    assert Voicemail.get(recording).duration == 7
    assert view(missed.get_open(HOTLINE, caller))["reasons"] == ["voicemail"]


def test_a_join_racing_the_final_status_leaves_no_entry(line):
    client, edge, service, clock = line
    caller = new_caller()
    sid, _ = to_queue(client, caller, STEPS_TO_QUEUE[:1])
    record = calls.get_call(sid)  # what the step read before the final status landed
    final_status(client, sid, caller)
    assert service.join(record, QUEUE, "en-US", "US") is False
    assert routing.queue_entries(QUEUE) == []


# ---- one abandoned call, however the hang-up is reported ------------------------------------


def test_the_enqueue_action_and_the_final_status_count_one_abandon_in_either_order(line):
    client, edge, service, clock = line
    for action_first in (True, False):
        caller = new_caller()
        sid, twiml = to_queue(client, caller)
        assert twiml.find("Enqueue") is not None
        leave = ("/twilio/voice/step/3/agent_queue", {"QueueResult": "hangup",
                                                       "QueueTime": "30"})
        if action_first:
            hook(client, leave[0], sid, caller, **leave[1])
            final_status(client, sid, caller)
        else:
            final_status(client, sid, caller)
            hook(client, leave[0], sid, caller, **leave[1])
        # retried, both
        hook(client, leave[0], sid, caller, **leave[1])
        final_status(client, sid, caller)
        record = missed.get_open(HOTLINE, caller)
        assert record is not None and view(record)["count"] == 1
    assert int(day().abandoned) == 2 and int(day().offered) == 2
    assert waiting_calls() == []


def test_the_enqueue_action_and_the_final_status_at_the_same_moment_count_one_abandon(line):
    client, edge, service, clock = line
    for _ in range(3):
        caller = new_caller()
        sid, _ = to_queue(client, caller)
        barrier = threading.Barrier(2)

        def leave(sid=sid, caller=caller, barrier=barrier):
            barrier.wait()
            hook(client, "/twilio/voice/step/3/agent_queue", sid, caller,
                 QueueResult="hangup", QueueTime="12")

        def hang_up(sid=sid, caller=caller, barrier=barrier):
            barrier.wait()
            final_status(client, sid, caller)

        threads = [threading.Thread(target=leave), threading.Thread(target=hang_up)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert int(day().abandoned) == 3


# ---- a replayed agent-dialed webhook ----------------------------------------------------------


def test_a_replayed_dial_outcome_adds_one_talk_time_sample(line):
    client, edge, service, clock = line
    available("ag-alice")
    caller = new_caller()
    sid, _ = to_queue(client, caller)
    hook(client, "/twilio/voice/hold/agent_queue", sid, caller, QueueTime="0")
    connect = edge.urls[sid]
    dial = hook(client, connect.removeprefix(PUBLIC_BASE_URL), sid, caller).find("Dial")
    leg = "CA" + uuid.uuid4().hex
    whisper = dial.find("Number").get("url").removeprefix(PUBLIC_BASE_URL)
    hook(client, whisper, leg, caller)
    assert AgentItem.get("ag-alice", consistent_read=True).state == "on-call"
    before = routing.recent_handle_times(QUEUE)
    for _ in range(3):  # Twilio's retry, and two replays
        hook(client, dial.get("action").removeprefix(PUBLIC_BASE_URL), sid, caller,
             DialCallStatus="completed", DialCallDuration="97", DialCallSid=leg)
    assert sorted(routing.recent_handle_times(QUEUE)) == sorted([*before, 97])
    assert AgentItem.get("ag-alice", consistent_read=True).state == "wrap-up"


# ---- one person, one offer --------------------------------------------------------------------


def test_a_customer_who_calls_in_replaces_their_callback_request_keeping_the_better_place(line):
    client, edge, service, clock = line
    caller = new_caller()
    # Given a web callback request queued ten minutes ago, and a caller on hold since then
    asked_at = OPEN_HOURS - timedelta(minutes=10)
    callback_id, _ = request_callback(hotline=HOTLINE, queue_id=QUEUE, phone=caller,
                                      name="Ada", language="en-US", kind="web", now=asked_at)
    other, _ = to_queue(client, new_caller())
    kept = routing.get_entry(QUEUE, callbacks.get_request(callback_id).entry_key)
    # When the same customer calls in and reaches the same queue
    sid, twiml = to_queue(client, caller)
    assert twiml.find("Enqueue") is not None
    # Then the request is closed as called in, and the call holds the request's (earlier)
    # place: ahead of the caller who joined after the request
    request = callbacks.get_request(callback_id)
    assert request.status == "cancelled" and request.history[-1]["detail"] == "called in"
    line_now = routing.queue_entries(QUEUE)
    assert [e.call_sid for e in line_now] == [sid, other]
    assert line_now[0].joined_at == asked_at
    # with the request's ticket too, so places are read from the band without a count
    assert line_now[0].ticket == kept.ticket is not None
    assert [routing.position_in_line(QUEUE, e.entry_key) for e in line_now] == [1, 2]
    assert routing.line_length(QUEUE) == 2
    # and one free agent gets one offer for this person, not two
    available("ag-alice")
    available("ag-bo")
    assert service.dispatch(QUEUE) == 2
    assert set(edge.urls) == {sid, other} and not edge.placed


def test_a_callback_request_from_a_number_waiting_on_the_line_is_refused(line):
    client, edge, service, clock = line
    caller = new_caller()
    sid, _ = to_queue(client, caller)
    response = client.http.post("/callbacks", headers={"Content-Type": "application/json"},
                                body=f'{{"phone": "{caller}", "queue": "{QUEUE}", '
                                     f'"hotline": "{HOTLINE}"}}')
    assert response.status_code == 409, response.body
    assert b"already_in_line" in response.body
    assert [e.call_sid for e in routing.queue_entries(QUEUE)] == [sid]
    assert callbacks.lock_holder(QUEUE, caller) is None


# ---- a line that heals itself -----------------------------------------------------------------


def test_a_dead_entry_at_the_front_never_keeps_a_free_agent_from_the_live_caller_behind(line):
    client, edge, service, clock = line
    # Given a caller whose call ended without a status reaching us, at the front of the line
    dead_caller, live_caller = new_caller(), new_caller()
    dead, _ = to_queue(client, dead_caller)
    clock.now = OPEN_HOURS + timedelta(minutes=1)
    live, _ = to_queue(client, live_caller)
    edge.gone.add(dead)  # Twilio: 21220, the call is not in progress
    # When an agent becomes free and a routing round runs
    available("ag-alice")
    assert service.dispatch(QUEUE) == 1
    # Then the live caller is connected in that same round, the dead entry is gone and counted
    # as abandoned once, and the agent is reserved for the live caller
    assert set(edge.urls) == {live}
    assert [e.call_sid for e in waiting_calls()] == [live]
    item = AgentItem.get("ag-alice", consistent_read=True)
    assert (item.state, item.reserved_call) == ("reserved", live)
    assert int(day().abandoned) == 1
    # and a late final status for the dead call counts nothing more
    final_status(client, dead, dead_caller)
    assert int(day().abandoned) == 1


def test_a_lapsed_reservation_without_an_entry_frees_the_agent(line):
    client, edge, service, clock = line
    available("ag-alice")
    caller = new_caller()
    callback_id, _ = request_callback(hotline=HOTLINE, queue_id=QUEUE, phone=caller, name=None,
                                      language="en-US", kind="web", now=OPEN_HOURS)
    assert service.dispatch(QUEUE) == 1  # the agent is rung for the callback
    assert AgentItem.get("ag-alice", consistent_read=True).state == "reserved"
    # the customer calls in meanwhile: the request closes, its entry goes with it
    to_queue(client, caller)
    assert callbacks.get_request(callback_id).status == "cancelled"
    # the agent's webhooks never come; past the reservation the sweeper frees them
    clock.now = OPEN_HOURS + timedelta(minutes=2)
    service.sweep()
    state = AgentItem.get("ag-alice", consistent_read=True).state
    assert state in ("available", "reserved")  # free, maybe offered the caller at once
    assert edge.urls or state == "available"
