"""Softphones on the carrier emulator: a registered client identity really rings, and the desk
answers, rejects, lets it ring out or hangs up, through the Python API or the control API.

A tiny fake webhook app (``test_carrier.FakeApp``) dials ``<Client>ag-desk</Client>``; callers
run in their own threads and every wait is on an event or a condition, with a generous bound.
"""

from __future__ import annotations

import threading

import pytest
import requests

from chalicelib.routing.model import Agent, AgentState, Endpoint
from chalicelib.store import routing
from chalicelib.store.models import CallRecord
from infra.local.carrier import Carrier, SoftphoneConflict, make_server
from tests.integration.conftest import OPEN_HOURS
from tests.integration.test_carrier import ACCOUNT, APP, CALLER, HOTLINE, TOKEN, FakeApp, R
from tests.integration.test_queue_calls import TO_QUEUE, support_queue  # noqa: F401
from tests.integration.test_warm_transfer_carrier import Events, agent_state, warm  # noqa: F401

WAIT = 20.0  # real seconds; only reached when something is broken
DESK = "ag-desk"
LEG = "client:" + DESK
DIAL = (f'<Dial action="/api/dialed" timeout="{{timeout}}" callerId="{HOTLINE}">'
        f'<Client url="/api/whisper">{DESK}</Client></Dial>')


class Desk:
    """The agent desk's side, through the Python API or over HTTP: ``(status, body)``."""

    def __init__(self, carrier: Carrier, base: str | None) -> None:
        self.carrier, self.base = carrier, base

    def __call__(self, action: str, identity: str = DESK) -> tuple[int, dict]:
        if self.base is not None:
            method, path = {"register": ("POST", ""), "unregister": ("DELETE", ""),
                            "state": ("GET", "")}.get(action, ("POST", "/" + action))
            response = requests.request(method, f"{self.base}/_emulator/clients/{identity}"
                                        + path, timeout=WAIT)
            return response.status_code, response.json()
        phones = self.carrier.clients
        try:
            return 200, getattr(phones, action)(identity)
        except SoftphoneConflict:
            return 409, phones.state(identity)


@pytest.fixture
def app() -> FakeApp:
    app = FakeApp()
    app.route("/twilio/voice", R(DIAL.format(timeout=20)))
    app.route("/whisper", R("<Say>A caller from the hotline</Say>"))
    app.route("/dialed", lambda p: R(f"<Say>{p['DialCallStatus']}</Say>"))
    return app


@pytest.fixture
def carrier(app: FakeApp):
    carrier = Carrier(app_url=APP, account_sid=ACCOUNT, auth_token=TOKEN, transport=app)
    server = make_server(carrier, "127.0.0.1", 0).start()
    yield carrier
    carrier.reset()
    carrier.wait_idle(WAIT)
    server.stop()


@pytest.fixture(params=["python", "http"])
def desk(request, carrier: Carrier) -> Desk:
    return Desk(carrier, carrier.emulator_url if request.param == "http" else None)


def calls_of(state: dict) -> dict:
    """A state without its bookkeeping (``version``, ``devices``): who is online, what rings."""
    return {key: state[key] for key in ("identity", "online", "incoming", "active")}


def ring(carrier: Carrier, desk: Desk, script=None):
    """Register the desk and place a call that rings it; returns (call, events, invite)."""
    status, state = desk("register")
    assert status == 200 and calls_of(state) == {"identity": DESK, "online": True,
                                                 "incoming": None, "active": None}
    events = Events()
    call = carrier.start_inbound_call(HOTLINE, CALLER, script, on_event=events)
    state = carrier.clients.wait_for(DESK, lambda s: s["incoming"], WAIT)
    invite = state["incoming"]
    # the leg rings from the Dial's callerId
    assert (invite["parent_call_sid"], invite["from"], invite["to"]) == (call.sid, HOTLINE, LEG)
    assert desk("state") == (200, state)
    events.wait_for(lambda e: e["type"] == "client" and e["action"] == "ringing", "ringing")
    return call, events, invite


def client_actions(call) -> list[str]:
    return [e["action"] for e in call.transcript.of_type("client")]


def test_answer_talk_live_then_the_softphone_hangs_up(app, carrier, desk) -> None:
    call, events, invite = ring(carrier, desk)
    leg = carrier.calls[invite["call_sid"]]
    assert leg.direction == "outbound-dial" and leg.parent_sid == call.sid
    assert not app.posts("/whisper"), "nothing plays before the desk answers"

    status, state = desk("answer")
    assert status == 200 and state["incoming"] is None
    assert state["active"]["call_sid"] == leg.sid
    events.wait_for(lambda e: e["type"] == "bridge" and e.get("live"), "the live bridge")
    [whisper] = app.posts("/whisper")  # the Client's url ran on the softphone's leg first
    assert whisper["CallSid"] == leg.sid and whisper["To"] == LEG
    assert not call.done.is_set() and not app.posts("/dialed"), "they talk until a hang-up"

    status, state = desk("hangup")
    assert status == 200
    assert call.done.wait(WAIT), call.transcript.events
    [dialed] = app.posts("/dialed")
    assert dialed["DialCallStatus"] == "completed" and dialed["DialCallSid"] == leg.sid
    assert dialed["DialCallDuration"].isdigit()
    assert call.transcript.of_type("dial")[0]["duration"] == int(dialed["DialCallDuration"])
    assert call.transcript.said == ["completed"] and not call.transcript.errors
    assert leg.done.is_set() and leg.transcript.ended_by == "client"
    status, state = desk("state")
    assert (status, calls_of(state)) == (200, {"identity": DESK, "online": True,
                                               "incoming": None, "active": None})
    assert client_actions(call) == ["ringing", "answer", "hangup", "ended"]
    assert desk("hangup")[0] == 409, "nothing left to hang up"


@pytest.mark.parametrize("how", ["reject", "hangup", "unregister"])
def test_a_declined_call_ends_the_dial_busy(app, carrier, desk, how) -> None:
    call, _, invite = ring(carrier, desk)
    assert desk(how)[0] == 200
    assert call.done.wait(WAIT), call.transcript.events
    assert [p["DialCallStatus"] for p in app.posts("/dialed")] == ["busy"]
    assert carrier.calls[invite["call_sid"]].transcript.status == "busy"
    assert not app.posts("/whisper")
    state = carrier.clients.state(DESK)
    assert state["incoming"] is None and state["online"] is (how != "unregister")
    assert client_actions(call)[-1] == "reject"


def test_nobody_answers_until_the_dial_timeout(app) -> None:
    carrier = Carrier(app_url=APP, account_sid=ACCOUNT, auth_token=TOKEN, transport=app,
                      client_pace=40.0)  # the 20 s ring takes half a real second
    carrier.clients.register(DESK)
    events = Events()
    call = carrier.start_inbound_call(HOTLINE, CALLER, on_event=events)
    assert call.done.wait(WAIT), call.transcript.events
    assert [p["DialCallStatus"] for p in app.posts("/dialed")] == ["no-answer"]
    assert call.transcript.of_type("dial")[0]["t"] >= 20, "the whole timeout rang"
    assert client_actions(call) == ["ringing", "no-answer"]
    assert carrier.clients.state(DESK)["incoming"] is None
    with pytest.raises(SoftphoneConflict):
        carrier.clients.answer(DESK)
    assert carrier.wait_idle(WAIT)


def test_two_answers_race_and_exactly_one_wins(app, carrier, desk) -> None:
    call, events, _ = ring(carrier, desk)
    start, results = threading.Barrier(2), []

    def tab() -> None:
        start.wait(WAIT)
        results.append(desk("answer")[0])

    tabs = [threading.Thread(target=tab) for _ in range(2)]
    for t in tabs:
        t.start()
    for t in tabs:
        t.join(WAIT)
    assert sorted(results) == [200, 409]
    events.wait_for(lambda e: e["type"] == "bridge" and e.get("live"), "the live bridge")
    assert client_actions(call).count("answer") == 1
    assert desk("answer")[0] == 409, "answering with nothing ringing"
    assert desk("hangup")[0] == 200
    assert call.done.wait(WAIT)
    assert [p["DialCallStatus"] for p in app.posts("/dialed")] == ["completed"]


def test_the_caller_hangs_up_while_it_rings(app, carrier, desk) -> None:
    call, _, invite = ring(carrier, desk)
    carrier.end_call(call.sid)
    state = carrier.clients.wait_for(DESK, lambda s: s["incoming"] is None, WAIT)
    assert state["active"] is None and state["online"]
    assert call.done.wait(WAIT)
    assert carrier.calls[invite["call_sid"]].transcript.status == "canceled"
    assert [p["DialCallStatus"] for p in app.posts("/dialed")] == ["canceled"]
    assert client_actions(call) == ["ringing", "canceled"]
    assert desk("answer")[0] == 409


def test_the_caller_hangs_up_during_the_talk(app, carrier, desk) -> None:
    call, events, invite = ring(carrier, desk)
    assert desk("answer")[0] == 200
    events.wait_for(lambda e: e["type"] == "bridge" and e.get("live"), "the live bridge")
    carrier.end_call(call.sid)
    assert call.done.wait(WAIT)
    assert carrier.clients.wait_for(DESK, lambda s: s["active"] is None, WAIT)
    assert carrier.calls[invite["call_sid"]].transcript.ended_by == "bridge-ended"
    assert [p["DialCallStatus"] for p in app.posts("/dialed")] == ["completed"]


def test_a_softphone_on_a_call_declines_another(app, carrier, desk) -> None:
    first, events, _ = ring(carrier, desk)
    assert desk("answer")[0] == 200
    events.wait_for(lambda e: e["type"] == "bridge" and e.get("live"), "the live bridge")
    second = carrier.start_inbound_call(HOTLINE, "+14155550112")
    assert second.done.wait(WAIT), second.transcript.events
    assert second.transcript.said == ["busy"]
    assert [e["action"] for e in second.transcript.of_type("client")] == ["busy"]
    assert desk("hangup")[0] == 200
    assert first.done.wait(WAIT) and first.transcript.said == ["completed"]


def test_the_first_of_two_softphones_to_answer_takes_the_call(app, carrier) -> None:
    app.route("/twilio/voice", R('<Dial action="/api/dialed" timeout="20">'
                                 "<Client>ag-one</Client><Client>ag-two</Client></Dial>"))
    for identity in ("ag-one", "ag-two"):
        carrier.clients.register(identity)
    call = carrier.start_inbound_call(HOTLINE, CALLER)
    carrier.clients.wait_for("ag-two", lambda s: s["incoming"], WAIT)
    carrier.clients.answer("ag-two")
    state = carrier.clients.state("ag-one")
    assert state["incoming"] is None and state["active"] is None, "withdrawn from the other"
    with pytest.raises(SoftphoneConflict):
        carrier.clients.answer("ag-one")
    carrier.clients.wait_for_event(lambda e: e["action"] == "answer", WAIT)
    carrier.clients.hangup("ag-two")
    assert call.done.wait(WAIT)
    dial = call.transcript.of_type("dial")[0]
    assert dial["answered"] == "client:ag-two" and dial["outcome"] == "completed"
    losers = [c for c in carrier.calls.values() if c.to == "client:ag-one"]
    assert [c.transcript.status for c in losers] == ["canceled"]


def test_unregistered_identities_and_dial_steps_keep_the_scripted_behaviour(app,
                                                                           carrier) -> None:
    t = carrier.place_inbound_call(HOTLINE, CALLER)  # never registered: answers at once
    assert [p["DialCallStatus"] for p in app.posts("/dialed")] == ["completed"]
    assert app.posts("/dialed")[0]["DialCallDuration"] == "30" and not t.of_type("client")

    carrier.clients.register(DESK)
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["dial:busy"])  # the caller's script rules
    assert t.said == ["busy"] and not t.of_type("client")
    carrier.clients.unregister(DESK)
    carrier.set_answer_script(LEG, ["no-answer"])
    t = carrier.place_inbound_call(HOTLINE, CALLER)
    assert t.said == ["no-answer"] and not t.of_type("client")
    assert carrier.clients.state(DESK)["online"] is False


def test_rest_calls_to_a_softphone_ring_it_too(app, carrier, desk) -> None:
    """``Calls.json`` to ``client:ag-desk`` (a consult leg, an open line): the desk decides."""
    assert desk("register")[0] == 200
    seat = R("<Dial><Conference>seat-desk</Conference></Dial>")
    rejected = carrier.create_outbound_call(LEG, HOTLINE, twiml=seat)
    state = carrier.clients.wait_for(DESK, lambda s: s["incoming"], WAIT)
    assert state["incoming"]["call_sid"] == rejected.sid
    assert state["incoming"]["parent_call_sid"] is None
    assert desk("reject")[0] == 200
    assert rejected.done.wait(WAIT) and rejected.transcript.status == "busy"

    answered = carrier.create_outbound_call(LEG, HOTLINE, twiml=seat)
    carrier.clients.wait_for(DESK, lambda s: s["incoming"], WAIT)
    assert desk("answer")[0] == 200
    carrier.rooms.wait_for("seat-desk", lambda members: answered in members, WAIT)
    assert desk("state")[1]["active"]["call_sid"] == answered.sid
    assert desk("hangup")[0] == 200
    assert answered.done.wait(WAIT)
    assert (answered.transcript.status, answered.transcript.ended_by) == ("completed", "client")
    assert client_actions(answered) == ["ringing", "answer", "hangup", "ended"]
    assert carrier.clients.state(DESK)["active"] is None


def test_control_api_routes_and_refusals(carrier) -> None:
    base = f"{carrier.emulator_url}/_emulator/clients"
    assert requests.post(f"{base}/ag%20desk", timeout=WAIT).json()["identity"] == "ag desk"
    assert [calls_of(s) for s in requests.get(base, timeout=WAIT).json()] == [
        {"identity": "ag desk", "online": True, "incoming": None, "active": None}]
    for action in ("answer", "reject", "hangup"):
        response = requests.post(f"{base}/ag%20desk/{action}", timeout=WAIT)
        assert response.status_code == 409 and response.json()["online"] is True, action
    assert requests.post(f"{base}/ag%20desk/calls", timeout=WAIT).status_code == 501
    assert requests.post(f"{base}/ag%20desk/dance", timeout=WAIT).status_code == 404
    assert requests.delete(f"{base}/ag%20desk", timeout=WAIT).json()["online"] is False
    with pytest.raises(NotImplementedError):
        carrier.clients.place_call(DESK, HOTLINE)


# --------------------------------------------------------------------------- with the real app


@pytest.fixture
def desk_agent(support_queue):  # noqa: F811
    """The support queue served by one agent at a browser desk (``client:ag-desk``); the
    other agent of the fixture is logged out."""
    at_desk, away = support_queue
    agent = Agent(at_desk.agent_id, at_desk.name, Endpoint("client", DESK),
                  queues={"support": 1}, wrap_up_seconds=600)
    routing.save_agent_profile(agent, OPEN_HOURS)
    current = routing.get_agent(away.agent_id)
    current.state = AgentState.OFFLINE
    routing.change_agent_state(current, AgentState.AVAILABLE, OPEN_HOURS)
    return agent


def test_a_queued_caller_rings_the_agent_desk_softphone(warm, desk_agent) -> None:  # noqa: F811
    """The app dials ``<Client>ag-desk</Client>``: the softphone sees the invite, answers (the
    whisper plays to it, the caller is connected), the agent is on a call; the softphone hangs
    up and the agent wraps up."""
    carrier, _ = warm
    carrier.clients.register(DESK)
    events = Events()
    call = carrier.start_inbound_call(HOTLINE, "+14155550191", TO_QUEUE,
                                      on_event=events, hold_pace=0.5)
    state = carrier.clients.wait_for(DESK, lambda s: s["incoming"], WAIT)
    assert state["incoming"]["parent_call_sid"] == call.sid
    assert state["incoming"]["to"] == LEG

    assert carrier.clients.answer(DESK)["active"]["call_sid"] == state["incoming"]["call_sid"]
    events.wait_for(lambda e: e["type"] == "bridge" and e.get("live"), "the desk bridged")
    answered = [e for e in events.events if e["type"] == "client" and e["action"] == "answer"]
    assert answered and answered[0]["identity"] == DESK
    leg = carrier.calls[state["incoming"]["call_sid"]]
    whisper = [e for e in leg.transcript.events if e["type"] == "say"]
    assert any("Support" in e["text"] for e in whisper), leg.transcript.events
    assert agent_state(desk_agent.agent_id) == "on-call"
    record = CallRecord.get(call.sid, consistent_read=True)
    assert record.agent_id == desk_agent.agent_id and record.agent_leg_sid == leg.sid

    carrier.clients.hangup(DESK)
    assert call.done.wait(WAIT), call.transcript.events
    assert carrier.wait_idle(WAIT)
    assert agent_state(desk_agent.agent_id) == "wrap-up"
    assert CallRecord.get(call.sid, consistent_read=True).outcome == "agent"
    assert leg.transcript.ended_by == "client"
    for t in carrier.transcripts():
        assert not t.errors and not t.application_error, (t.call_sid, t.errors)
    assert carrier.clients.state(DESK)["active"] is None

