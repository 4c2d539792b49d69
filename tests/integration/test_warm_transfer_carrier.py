"""A warm transfer end to end: the real app, DynamoDB Local, and the carrier emulator with live
bridges and conference rooms (the REST client of the app talks to the emulator).

The caller's script keeps them talking to the first agent (``dial:completed:live``) until a REST
request moves a leg; the test drives the agents' API from its own thread meanwhile. Every wait is
on an event or a condition, with a generous timeout.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import urlencode

import pytest

from chalicelib.settings import get_settings
from chalicelib.store.models import AgentItem, CallRecord
from chalicelib.wiring import Root, install
from tests.integration.conftest import OPEN_HOURS
from tests.integration.test_queue_calls import HOTLINE, TO_QUEUE, support_queue  # noqa: F401
from tests.support import PUBLIC_BASE_URL, TEST_ACCOUNT, TEST_TOKEN, Clock

WAIT = 30.0  # real seconds; only reached when something is broken
# to the queue, talk to the agent until a REST request moves a leg, then 60 s in the room
CALLER_SCRIPT = [*TO_QUEUE, "dial:completed:live", "dial:completed:60"]


class Events:
    """A call's transcript events as they happen, to wait on from the test thread."""

    def __init__(self):
        self.events: list[dict] = []
        self._changed = threading.Condition()

    def __call__(self, event: dict) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(self, predicate, what: str) -> dict:
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((e for e in self.events if predicate(e)), None), WAIT)
        assert found, f"timed out waiting for {what}: {self.events}"
        return found


@pytest.fixture
def warm(client):
    """A background carrier (each call in its own thread: rooms need it) wired to the app, and
    a routing service whose REST requests go to it. Returns (carrier, admin_post)."""
    from chalicelib.telephony import rest
    from infra.local.carrier import Carrier, make_server

    lock = threading.Lock()  # one request at a time into the in-process app

    def transport(url: str, params: dict, headers: dict):
        assert url.startswith(PUBLIC_BASE_URL), url
        with lock:
            response = client.http.post(
                url[len(PUBLIC_BASE_URL):],
                headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
                body=urlencode(params))
        return (response.status_code, response.body.decode("utf-8"),
                response.headers.get("Content-Type", ""))

    def admin_post(path: str, body: dict, method: str = "POST") -> tuple[int, dict]:
        with lock:
            response = client.http.request(method, path, body=json.dumps(body).encode(),
                                           headers={"Content-Type": "application/json"})
        return response.status_code, json.loads(response.body)

    carrier = Carrier(app_url=PUBLIC_BASE_URL, account_sid=TEST_ACCOUNT, auth_token=TEST_TOKEN,
                      transport=transport, background=True)
    server = make_server(carrier, "127.0.0.1", 0).start()
    settings = get_settings()
    settings.twilio_api_base = carrier.emulator_url = server.url
    rest.reset_client()
    clock = Clock(OPEN_HOURS)
    previous = install(Root(clock=clock))  # Twilio REST -> the emulator
    try:
        yield carrier, admin_post
    finally:
        carrier.reset()  # any call still waiting ends
        carrier.wait_idle(WAIT)
        server.stop()
        settings.twilio_api_base = None
        rest.reset_client()
        install(previous)


def agent_state(agent_id: str) -> str:
    return AgentItem.get(agent_id, consistent_read=True).state


def talking_to_first_agent(carrier, agents, caller: str, script=CALLER_SCRIPT):
    """A caller reaches one agent through the demo queue; returns (call, events, A, B)."""
    events = Events()
    call = carrier.start_inbound_call(HOTLINE, caller, script, on_event=events,
                                      hold_pace=0.5)
    events.wait_for(lambda e: e["type"] == "bridge" and e.get("live"), "the agent bridge")
    record = CallRecord.get(call.sid, consistent_read=True)
    first = next(a for a in agents if a.agent_id == record.agent_id)
    second = next(a for a in agents if a is not first)
    assert agent_state(first.agent_id) == "on-call"
    assert agent_state(second.agent_id) == "available"
    return call, events, first, second


def consult(carrier, admin_post, call, first, second):
    """Warm transfer from ``first`` to ``second``; returns once ``second`` is in the room."""
    status, body = admin_post(f"/agents/{first.agent_id}/transfer",
                              {"to": "agent", "target": second.agent_id, "mode": "warm"})
    assert status == 200, body
    assert body["consult"] == "dialing"
    room = f"switchboard-{call.sid}"
    present = carrier.rooms.wait_for(
        room, lambda members: {m.to for m in members} >= {first.endpoint.address,
                                                          second.endpoint.address}, WAIT)
    assert CallRecord.get(call.sid, consistent_read=True).consult_state == "talking"
    [leg_b] = [m for m in present if m.to == second.endpoint.address]
    return room, leg_b


def heard_hold_music_before_the_room(transcript) -> bool:
    music = get_settings().hold_music_url
    kinds = [(e["type"], e.get("url"), e.get("loop")) for e in transcript.events]
    played = [i for i, k in enumerate(kinds) if k == ("play", music, 0)]
    joined = [i for i, e in enumerate(transcript.events)
              if e["type"] == "conference" and e["action"] == "join"]
    return bool(played and joined and played[0] < joined[0])


def test_a_warm_transfer_hands_the_caller_to_the_consulted_agent(warm, support_queue):  # noqa: F811
    carrier, admin_post = warm
    call, events, first, second = talking_to_first_agent(carrier, support_queue, "+14155550181")
    room, leg_b = consult(carrier, admin_post, call, first, second)
    # the caller is on hold music meanwhile; the consulted agent heard who is coming
    events.wait_for(lambda e: e["type"] == "play" and e.get("loop") == 0, "hold music")
    assert any("would like to transfer a caller to you" in s for s in leg_b.transcript.said)

    status, body = admin_post(f"/agents/{first.agent_id}/transfer/complete", {})
    assert status == 200, body
    joined = events.wait_for(lambda e: e["type"] == "conference" and e["action"] == "join",
                             "the caller entering the room")
    assert joined["room"] == room and leg_b.sid in joined["present"]
    assert agent_state(first.agent_id) == "wrap-up"
    record = CallRecord.get(call.sid, consistent_read=True)
    assert record.agent_id == second.agent_id
    assert [(t["mode"], t["outcome"], t["target"]) for t in record.transfers] == [
        ("warm", "completed", second.agent_id)]

    # the caller talks 60 s in the room, leaves and the room ends: B wraps up
    assert call.done.wait(WAIT), call.transcript.events
    assert carrier.wait_idle(WAIT)
    t = call.transcript
    assert not t.errors and not t.application_error, t.errors
    assert heard_hold_music_before_the_room(t), t.events
    assert leg_b.transcript.of_type("conference")[-1]["how"] == "conference-ended"
    [first_leg] = carrier.transcripts("outbound-dial")
    assert first_leg.to == first.endpoint.address and first_leg.status == "completed"
    assert [e["action"] for e in first_leg.of_type("conference")] == ["join", "leave"]
    assert agent_state(second.agent_id) == "wrap-up"
    for leg in carrier.transcripts():
        assert not leg.errors, (leg.call_sid, leg.errors)


def test_a_cancelled_warm_transfer_brings_the_caller_back_to_the_first_agent(
    warm, support_queue  # noqa: F811
):
    carrier, admin_post = warm
    call, events, first, second = talking_to_first_agent(carrier, support_queue, "+14155550182")
    room, leg_b = consult(carrier, admin_post, call, first, second)
    events.wait_for(lambda e: e["type"] == "play" and e.get("loop") == 0, "hold music")

    status, body = admin_post(f"/agents/{first.agent_id}/transfer/cancel", {})
    assert status == 200, body
    joined = events.wait_for(lambda e: e["type"] == "conference" and e["action"] == "join",
                             "the caller entering the room")
    assert joined["room"] == room
    assert first.endpoint.address in {carrier.calls[sid].to for sid in joined["present"]}
    assert leg_b.done.wait(WAIT) and leg_b.transcript.ended_by == "api", "B was let go"
    record = CallRecord.get(call.sid, consistent_read=True)
    assert record.agent_id == first.agent_id
    assert [(t["mode"], t["outcome"]) for t in record.transfers] == [("warm", "cancelled")]

    assert call.done.wait(WAIT), call.transcript.events
    assert carrier.wait_idle(WAIT)
    assert not call.transcript.errors, call.transcript.errors
    assert heard_hold_music_before_the_room(call.transcript)
    assert agent_state(first.agent_id) == "wrap-up"
    assert agent_state(second.agent_id) in ("wrap-up", "available")


def test_hold_and_resume_twice_on_live_legs(warm, support_queue):  # noqa: F811
    carrier, admin_post = warm
    # talk to the agent, wait in a room after the first resume, then 30 s after the second
    script = [*TO_QUEUE, "dial:completed:live", "dial:completed:live", "dial:completed:30"]
    call, events, first, _ = talking_to_first_agent(carrier, support_queue, "+14155550183",
                                                    script)
    music = get_settings().hold_music_url

    def joins():
        return [e for e in events.events if e["type"] == "conference" and e["action"] == "join"]

    for n in (1, 2):
        status, body = admin_post(f"/agents/{first.agent_id}/hold", {})
        assert (status, body["hold"]) == (200, "on"), body
        events.wait_for(lambda e, n=n: e["type"] == "play" and e.get("url") == music and
                        len([x for x in events.events if x.get("url") == music]) >= n,
                        f"hold music, hold {n}")
        room = CallRecord.get(call.sid, consistent_read=True).consult["conference"]
        # the caller never shares a room with the agent while held
        carrier.rooms.wait_for(room, lambda members: {m.to for m in members} ==
                               {first.endpoint.address}, WAIT)
        status, body = admin_post(f"/agents/{first.agent_id}/hold", {}, method="DELETE")
        assert (status, body["hold"]) == (200, "off"), body
        events.wait_for(lambda e, n=n: len(joins()) >= n, f"back with the agent, {n}")
        assert joins()[-1]["room"] == room
        assert first.endpoint.address in {carrier.calls[sid].to
                                          for sid in joins()[-1]["present"]}
    assert joins()[0]["room"] == f"switchboard-{call.sid}"
    assert joins()[1]["room"].startswith(f"switchboard-{call.sid}-")

    assert call.done.wait(WAIT), call.transcript.events
    assert carrier.wait_idle(WAIT)
    for leg in carrier.transcripts():
        assert not leg.errors and not leg.application_error, (leg.call_sid, leg.errors)
    assert agent_state(first.agent_id) == "wrap-up"
    record = CallRecord.get(call.sid, consistent_read=True)
    assert record.consult_state is None and not record.transfers
