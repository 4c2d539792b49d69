"""Callers reach agents through the demo queue: real app, DynamoDB Local, the carrier emulator."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.routing import agent_states
from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig
from chalicelib.store import callbacks, routing
from chalicelib.store.models import AgentItem, CallRecord
from tests.integration.conftest import OPEN_HOURS

HOTLINE = "+14155550100"
TO_QUEUE = ["1", "2"]  # English, then "speak to an agent" (open hours)


@pytest.fixture
def support_queue():
    """The demo's `support` queue with two agents on, each with a long wrap-up."""
    routing.save_queue(QueueConfig("support", "Support", max_size=10), OPEN_HOURS)
    agents = []
    for number in ("+14155550161", "+14155550162"):
        agent = Agent(f"ag-{uuid.uuid4().hex[:6]}", "Agent " + number[-2:],
                      Endpoint("phone", number), queues={"support": 1}, wrap_up_seconds=600)
        routing.save_agent_profile(agent, OPEN_HOURS)
        agent.state, agent.state_since = AgentState.AVAILABLE, OPEN_HOURS
        agent.idle_since = OPEN_HOURS - timedelta(minutes=30)  # idle since before "now"
        routing.change_agent_state(agent, AgentState.OFFLINE, OPEN_HOURS)
        agents.append(agent)
    # other tests' agents must not serve this queue
    for member in routing.queue_agents("support"):
        if member.agent_id not in {a.agent_id for a in agents}:
            routing.save_agent_profile(
                Agent(member.agent_id, member.name, member.endpoint, queues={}), OPEN_HOURS)
    for entry in routing.queue_entries("support"):
        routing.leave_queue("support", entry.entry_key)
    yield agents
    for agent in agents:
        routing.save_agent_profile(Agent(agent.agent_id, agent.name, agent.endpoint, queues={}),
                                   OPEN_HOURS)


def agent_state(agent_id: str) -> str:
    return AgentItem.get(agent_id, consistent_read=True).state


def test_callers_reach_different_agents_with_a_whisper_and_the_third_keeps_its_place(
    carrier, support_queue
):
    first = carrier.place_inbound_call(HOTLINE, "+14155550171", TO_QUEUE)
    second = carrier.place_inbound_call(HOTLINE, "+14155550172", TO_QUEUE)
    for t in (first, second):
        assert not t.errors and not t.application_error, t.errors
        dials = t.of_type("dial")
        assert dials and dials[-1]["bridged"], t.events
        whisper = " ".join(e.get("text", "") for e in dials[-1].get("whisper", []))
        assert "Support queue" in whisper
    served = {CallRecord.get(t.call_sid).agent_id for t in (first, second)}
    # the board counts today's answered calls and the screen pop knows the caller next time
    from chalicelib.routing import admin

    today = admin.queue_board("support", OPEN_HOURS)
    assert today["answered_today"] >= 2 and today["service_level_today"] is not None
    contact = routing.get_contact("+14155550171")
    assert contact.last_agent_id in served and contact.recent[0]["outcome"] == "answered"
    assert served == {a.agent_id for a in support_queue}, "two callers, two different agents"
    assert {agent_state(a.agent_id) for a in support_queue} == {"wrap-up"}
    assert {CallRecord.get(t.call_sid).outcome for t in (first, second)} == {"agent"}

    # Both agents are in wrap-up: the third caller waits, hears place and wait, presses 1
    third = carrier.place_inbound_call(HOTLINE, "+14155550173", [*TO_QUEUE, "1"])
    assert not third.errors, third.errors
    said = " ".join(third.said)
    assert "number 1 in line" in said
    assert "minute" in said, "an estimated wait is announced"
    assert "call you back" in said
    # a queue-callback request keeps the caller's place (their original join time); it is 07:00
    # in San Francisco, so it waits for 08:00 there before it takes that place in line again
    [request] = callbacks.requests_for_number("+14155550173")
    assert (request.kind, request.status) == ("queue", "scheduled")
    assert request.due_at == OPEN_HOURS + timedelta(hours=1)
    record = CallRecord.get(third.call_sid)
    assert record.started_at <= request.joined_at <= record.updated_at
    assert routing.queue_entries("support") == []  # the call's own entry left the line


def test_an_agent_who_does_not_answer_is_skipped_and_the_caller_keeps_the_front(
    carrier, support_queue
):
    silent, answering = support_queue
    carrier.set_answer_script(silent.endpoint.address, ["no-answer"])
    # make the silent agent the longest idle, so they are tried first
    item = AgentItem.get(silent.agent_id)
    item.update(actions=[AgentItem.idle_since.set(OPEN_HOURS.replace(hour=1))])
    t = carrier.place_inbound_call(HOTLINE, "+14155550174", TO_QUEUE)
    assert not t.application_error, t.errors
    record = CallRecord.get(t.call_sid)
    assert record.agent_id == answering.agent_id
    # the answering agent's own leg is remembered (a warm transfer moves it)
    assert record.agent_leg_sid.startswith("CA") and record.agent_leg_sid != t.call_sid
    missed = AgentItem.get(silent.agent_id, consistent_read=True)
    assert missed.state == "available" and missed.missed_in_row == 1


def test_with_nobody_logged_in_callers_overflow_at_once(carrier, support_queue):
    """Join-empty: no agent of the queue is logged in."""
    for agent in support_queue:
        current = routing.get_agent(agent.agent_id)
        current.state = AgentState.OFFLINE
        routing.change_agent_state(current, AgentState.AVAILABLE, OPEN_HOURS)
    t = carrier.place_inbound_call(HOTLINE, "+14155550175", [*TO_QUEUE, "record:4"])
    assert not t.errors, t.errors
    assert not t.of_type("enqueue"), "join-empty overflows before the caller is queued"
    assert CallRecord.get(t.call_sid).outcome == "voicemail"


def test_callers_hold_until_the_maximum_wait_then_overflow_to_voicemail(carrier, support_queue):
    # Given both agents logged in but away: the queue admits callers, nobody can answer
    for agent in support_queue:
        current = routing.get_agent(agent.agent_id)
        current.state, current.state_reason = AgentState.AWAY, "meeting"
        routing.change_agent_state(current, AgentState.AVAILABLE, OPEN_HOURS)
    # (each pass of the hold music is a one-key Gather: the caller presses nothing)
    t = carrier.place_inbound_call(HOTLINE, "+14155550176", [*TO_QUEUE] + ["wait"] * 8)
    assert not t.errors, t.errors
    # Then they hear hold music until the flow's max_wait (120 s), leave, and leave a message
    assert t.of_type("enqueue") and t.of_type("leave")
    assert t.duration >= 120
    record = CallRecord.get(t.call_sid)
    assert {"queue_overflow", "leave_voicemail"} <= set(record.path)
    assert routing.queue_entries("support") == [], "the caller left the line"


def test_a_caller_who_presses_2_on_hold_leaves_a_message_without_an_apology(carrier,
                                                                            support_queue):
    for agent in support_queue:
        current = routing.get_agent(agent.agent_id)
        current.state, current.state_reason = AgentState.AWAY, "meeting"
        routing.change_agent_state(current, AgentState.AVAILABLE, OPEN_HOURS)
    t = carrier.place_inbound_call(HOTLINE, "+14155550178", [*TO_QUEUE, "2", "record:4"])
    assert not t.errors, t.errors
    said = " ".join(t.said)
    assert "leave a voicemail, press 2" in said and "still busy" not in said
    assert CallRecord.get(t.call_sid).outcome == "voicemail"


def test_a_caller_who_hangs_up_while_an_agent_rings_frees_the_agent_at_once(client, support_queue):
    from chalicelib.store import calls
    from tests.integration.conftest import signed_post

    # Given a caller in line, reserved for an agent (the agent's phone is ringing)
    sid = "CA" + uuid.uuid4().hex
    step = calls.StepOutcome("main", 1, "en-US", "agent_queue", [], {}, {}, {}, "<Response/>",
                             None)
    calls.start_call(calls.NewCall(sid, HOTLINE, "+14155550177", "inbound", None, {}), step,
                     now=OPEN_HOURS, retention_days=1)
    from chalicelib.routing.model import WaitingCaller

    key = routing.join_queue(WaitingCaller(sid, "support", "+14155550177", OPEN_HOURS))
    calls.set_queue_entry(sid, "support", key)
    agent = support_queue[0]
    assert routing.reserve(routing.get_entry("support", key), [agent], OPEN_HOURS, 45)
    # When the caller hangs up
    response = signed_post(client, "/twilio/voice/status",
                           {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": "3"})
    # Then the agent is available again at once and the caller is out of the line
    assert response.status_code == 200
    assert agent_state(agent.agent_id) == "available"
    assert routing.get_entry("support", key) is None


def test_the_recording_status_is_stored_on_the_call(client):
    from chalicelib.store import calls
    from tests.integration.conftest import signed_post

    sid = "CA" + uuid.uuid4().hex
    calls.apply_status(sid, "in-progress", sequence=1, duration=None, now=OPEN_HOURS,
                       retention_days=1)
    response = signed_post(client, "/twilio/voice/recording", {
        "CallSid": sid, "RecordingSid": "RE" + "1" * 32, "RecordingStatus": "completed",
        "RecordingUrl": "https://api.twilio.com/rec", "RecordingDuration": "42",
        "RecordingChannels": "2"})
    assert response.status_code == 200
    assert CallRecord.get(sid).recording["status"] == "completed"
    assert CallRecord.get(sid).recording["channels"] == "2"


def test_a_repeat_caller_goes_back_to_the_agent_who_served_them(carrier, support_queue):
    # Given a sticky queue, and a caller served by the agent who is NOT longest idle
    first_agent, second_agent = support_queue
    routing.save_queue(QueueConfig("support", "Support", max_size=10, sticky_days=7,
                                   sticky_wait_seconds=60), OPEN_HOURS)
    routing.remember_contact("+14155550199", {"call_sid": "CA" + "9" * 32, "at": "x",
                                              "queue_id": "support",
                                              "agent_id": second_agent.agent_id,
                                              "outcome": "answered"}, OPEN_HOURS)
    item = AgentItem.get(first_agent.agent_id)
    item.update(actions=[AgentItem.idle_since.set(OPEN_HOURS.replace(hour=1))])
    # When they call again
    t = carrier.place_inbound_call(HOTLINE, "+14155550199", TO_QUEUE)
    # Then their last agent takes the call, not the longest-idle one
    assert not t.application_error, t.errors
    assert CallRecord.get(t.call_sid).agent_id == second_agent.agent_id
    routing.save_queue(QueueConfig("support", "Support", max_size=10), OPEN_HOURS)


def test_a_retried_whisper_whispers_again_instead_of_dropping_the_agent(client, carrier,
                                                                        support_queue):
    from tests.integration.conftest import signed_post

    t = carrier.place_inbound_call(HOTLINE, "+14155550178", TO_QUEUE)
    record = CallRecord.get(t.call_sid)
    agent_id = record.agent_id
    # Put the agent back on that call, as if the bridge were still up, and retry the whisper
    item = AgentItem.get(agent_id)
    item.update(actions=[AgentItem.state.set("on-call"), AgentItem.current_call.set(t.call_sid)])
    retry = signed_post(client, f"/twilio/voice/agent/whisper/support/{t.call_sid}/{agent_id}",
                        {"CallSid": "CA" + uuid.uuid4().hex, "From": HOTLINE,
                         "To": "+14155550161"})
    assert retry.status_code == 200
    assert b"<Say" in retry.body and b"<Hangup" not in retry.body
    assert agent_state(agent_id) == "on-call"


def _queue(**overrides) -> None:
    routing.save_queue(QueueConfig("support", "Support", **{"max_size": 10, **overrides}),
                       OPEN_HOURS)


def test_a_closed_queue_overflows_to_its_callback_action(carrier, support_queue):
    # Given queue hours that are over for the day, and callback as the queue's overflow
    _queue(hours={"timezone": "America/New_York", "weekly": {"mon-fri": ["06:00-09:00"]}},
           overflow={"kind": "callback"})
    try:
        t = carrier.place_inbound_call(HOTLINE, "+14155550191", TO_QUEUE)
    finally:
        _queue()
    assert not t.errors, t.errors
    assert not t.of_type("enqueue") and "call you back" in " ".join(t.said)
    # the request waits for the queue to open (06:00 in New York, Tuesday) outside the line
    assert routing.queue_entries("support") == []
    [request] = callbacks.requests_for_number("+14155550191")
    assert (request.kind, request.status) == ("queue", "scheduled")
    assert request.due_at == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def test_a_full_queue_overflows_into_another_queue(carrier, support_queue):
    routing.save_queue(QueueConfig("overflow-q", "Overflow", join_empty="wait"), OPEN_HOURS)
    _queue(max_size=1, overflow={"kind": "queue", "queue": "overflow-q"})
    from chalicelib.routing.model import WaitingCaller

    routing.join_queue(WaitingCaller("CA" + uuid.uuid4().hex, "support", "+1", OPEN_HOURS))
    try:
        t = carrier.place_inbound_call(HOTLINE, "+14155550192", [*TO_QUEUE, "hold:5"])
    finally:
        _queue()
    assert not t.application_error, t.errors
    assert t.of_type("enqueue")[0]["queue"] == "overflow-q"
    assert CallRecord.get(t.call_sid).queue_id == "overflow-q"


def test_the_queues_own_max_wait_leads_to_its_transfer_action(carrier, support_queue):
    for agent in support_queue:  # logged in, but nobody free
        current = routing.get_agent(agent.agent_id)
        current.state = AgentState.AWAY
        routing.change_agent_state(current, AgentState.AVAILABLE, OPEN_HOURS)
    _queue(max_wait_seconds=45, overflow={"kind": "transfer", "to": "+14155550199"})
    try:
        t = carrier.place_inbound_call(HOTLINE, "+14155550193", [*TO_QUEUE] + ["wait"] * 4)
    finally:
        _queue()
    assert not t.errors, t.errors
    assert t.of_type("leave") and 45 <= t.duration
    dials = t.of_type("dial")
    assert dials and "+14155550199" in dials[0]["targets"]
    assert CallRecord.get(t.call_sid).outcome == "transfer"


def test_a_queue_that_offers_no_callback_ignores_the_key(carrier, support_queue):
    for agent in support_queue:  # logged in, but nobody free
        current = routing.get_agent(agent.agent_id)
        current.state = AgentState.AWAY
        routing.change_agent_state(current, AgentState.AVAILABLE, OPEN_HOURS)
    _queue(offer_callback=False)
    try:
        t = carrier.place_inbound_call(HOTLINE, "+14155550194", [*TO_QUEUE, "1", "hangup"])
    finally:
        _queue()
    said = " ".join(t.said)
    assert "press 2" in said and "call you back" not in said
    assert routing.queue_entries("support") == []


def test_the_sweeper_expires_a_lost_reservation_and_ends_wrap_up(client, support_queue):
    from datetime import timedelta as minutes_later

    from chalicelib.routing.agents import RESERVATION_SECONDS
    from chalicelib.routing.model import WaitingCaller
    from chalicelib.wiring import Root

    ringing, wrapping = support_queue
    # Given a reservation whose webhooks were lost, and an agent in wrap-up
    caller = WaitingCaller("CA" + uuid.uuid4().hex, "support", "+14155550195", OPEN_HOURS)
    key = routing.join_queue(caller)
    assert routing.reserve(routing.get_entry("support", key), [ringing], OPEN_HOURS, 45)
    current = routing.get_agent(wrapping.agent_id)
    current.state, current.state_since = AgentState.WRAP_UP, OPEN_HOURS
    routing.change_agent_state(current, AgentState.AVAILABLE, OPEN_HOURS)

    class NoTwilio:
        def redirect(self, call_sid, url):
            raise ConnectionError("not in this test")

    later = OPEN_HOURS + minutes_later(seconds=max(RESERVATION_SECONDS, 600) + 1)
    service = Root(clock=lambda: later, connector=NoTwilio()).routing
    # When the sweeper runs
    report = service.sweep()
    # Then the ringing agent logged a miss, the caller is back in line, wrap-up is over
    assert report["reservations_expired"] >= 1 and report["wrap_up_ended"] >= 1
    missed = AgentItem.get(ringing.agent_id, consistent_read=True)
    assert missed.missed_in_row == 1
    entry = routing.get_entry("support", key)
    assert entry is not None and entry.joined_at == OPEN_HOURS, "the caller keeps the place"
    assert entry.status == "waiting", "a failed connect releases the new reservation too"


def test_an_agent_who_misses_too_many_offers_in_a_row_is_set_away(carrier, support_queue):
    silent, answering = support_queue
    _queue(max_misses=1)
    carrier.set_answer_script(silent.endpoint.address, ["no-answer"])
    AgentItem(silent.agent_id).update(
        actions=[AgentItem.idle_since.set(OPEN_HOURS.replace(hour=1))])
    try:
        t = carrier.place_inbound_call(HOTLINE, "+14155550196", TO_QUEUE)
    finally:
        _queue()
    assert not t.application_error, t.errors
    assert CallRecord.get(t.call_sid).agent_id == answering.agent_id
    away = AgentItem.get(silent.agent_id, consistent_read=True)
    assert (away.state, away.state_reason) == ("away", "missed 1 calls in a row")


def test_place_in_line_is_announced_every_announce_every_seconds_not_every_loop(
    carrier, support_queue
):
    # Given both agents on a break (logged in, so the caller may wait) and announcements
    # every 90 s, while one loop of hold music lasts 30 s
    routing.save_queue(QueueConfig("support", "Support", max_size=10,
                                   announce_every_seconds=90), OPEN_HOURS)
    for agent in support_queue:
        routing.change_agent_state(
            agent_states.transition(routing.get_agent(agent.agent_id), AgentState.AWAY,
                                    OPEN_HOURS, "break"), AgentState.AVAILABLE, OPEN_HOURS)
    # When a caller holds for about four minutes
    t = carrier.place_inbound_call(HOTLINE, "+14155550176", [*TO_QUEUE, "hold:240", *["wait"] * 12])
    assert not t.errors, t.errors
    waits = [w for w in t.webhooks if "/twilio/voice/hold/" in w.get("url", "")
             and "choice" not in w["url"]]
    announced = [s for s in t.said if "in line" in s]
    # Then the music looped many times but the place was spoken only every 90 s
    assert 2 <= len(announced) <= 3, (len(waits), announced)
    # and the press-1 offer still works between announcements (each wait is a Gather)
    music = [w["body"] for w in waits if "<Leave" not in w["body"]]  # Leave: the flow's max wait
    assert len(music) >= 4 and all("<Gather" in body for body in music), music


def test_a_caller_who_hangs_up_in_line_is_an_abandoned_and_missed_call(carrier, support_queue):
    # Given both agents on a break (logged in, so the caller waits)
    for agent in support_queue:
        routing.change_agent_state(
            agent_states.transition(routing.get_agent(agent.agent_id), AgentState.AWAY,
                                    OPEN_HOURS, "break"), AgentState.AVAILABLE, OPEN_HOURS)
    before = routing.queue_day("support", OPEN_HOURS.date().isoformat())
    abandoned_before = int(before.abandoned or 0) if before else 0
    # When a caller hangs up on the hold music (Twilio posts the Enqueue action first)
    t = carrier.place_inbound_call(HOTLINE, "+14155550178", [*TO_QUEUE, "hangup"])
    assert not t.errors, t.errors
    # Then the line is empty, the abandon is counted once, and the caller is a missed call
    # who gets the hotline's "we missed you" text
    assert routing.queue_entries("support") == []
    day = routing.queue_day("support", OPEN_HOURS.date().isoformat())
    assert int(day.abandoned) == abandoned_before + 1
    from chalicelib.callbacks.missed import view
    from chalicelib.store import missed

    record = view(missed.get_open(HOTLINE, "+14155550178"))
    assert record["reasons"] == ["abandoned"] and record["count"] == 1
    texts = [m for m in carrier.messages if m["to"] == "+14155550178"]
    assert len(texts) == 1
