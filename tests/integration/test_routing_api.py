"""The routing admin API through Chalice's test client, on DynamoDB Local.

The routing service is replaced by a fake that owns the clock and records every dispatch the API
asks for, so these tests see exactly when an agent's change of state reaches routing.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from chalice.test import Client

from chalicelib.routing.model import AgentState, WaitingCaller
from chalicelib.store import routing as store
from chalicelib.store.models import CallRecord
from chalicelib.wiring import Root, install

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
AGENT_PHONE = "+14155550150"
AGENT_MOBILE = "+14155550151"
CALLER = "+14155550111"


class FakeRouting:
    """Stands in for RoutingService: a settable clock and a record of dispatch requests."""

    def __init__(self, now: datetime):
        self.now = now
        self.became_available: list[str] = []
        self.fail = False

    def clock(self) -> datetime:
        return self.now

    def agent_became_available(self, agent_id: str) -> int:
        self.became_available.append(agent_id)
        if self.fail:
            raise RuntimeError("dispatch is down")
        return 0


@pytest.fixture
def routing():
    fake = FakeRouting(NOW)
    previous = install(Root(clock=fake.clock, routing=fake))
    yield fake
    install(previous)


@pytest.fixture
def api(app_module, routing):
    with Client(app_module.app) as client:
        yield client


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def call(api, method: str, path: str, body=None):
    """One JSON request; returns (status, parsed body)."""
    kwargs = {"headers": {"Content-Type": "application/json"}}
    if body is not None:
        kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
    response = getattr(api.http, method)(path, **kwargs)
    return response.status_code, json.loads(response.body or b"null")


def new_queue(api, **fields) -> str:
    queue_id = uid("q")
    status, body = call(api, "post", "/queues", {"queue_id": queue_id, "name": "Support", **fields})
    assert status == 201, body
    return queue_id


def new_agent(api, queue_id: str | None = None, **fields) -> str:
    agent_id = uid("ag")
    body = {"agent_id": agent_id, "name": "Grace Hopper",
            "endpoint": {"kind": "phone", "address": AGENT_PHONE}, **fields}
    if queue_id:
        body.setdefault("queues", {queue_id: 1})
    status, answer = call(api, "post", "/agents", body)
    assert status == 201, answer
    return agent_id


def set_state(api, agent_id: str, state: str, reason: str | None = None):
    body = {"state": state} if reason is None else {"state": state, "reason": reason}
    return call(api, "post", f"/agents/{agent_id}/state", body)


# ---- agents and queues ----------------------------------------------------------------------


def test_an_agent_is_created_read_listed_and_updated_without_touching_its_state(api):
    # Given a queue
    queue_id = new_queue(api)
    agent_id = uid("ag")
    # When an agent is created in it
    status, created = call(api, "post", "/agents", {
        "agent_id": agent_id, "name": "Grace Hopper",
        "endpoint": {"kind": "phone", "address": AGENT_PHONE},
        "skills": {"billing": 7}, "queues": {queue_id: 1}, "languages": ["en-US"],
        "regions": ["US"], "mobile": AGENT_MOBILE,
    })
    # Then it starts offline, with defaults for what was not given
    assert status == 201
    assert created["state"] == "offline" and created["state_since"] == NOW.isoformat()
    assert created["skills"] == {"billing": 7} and created["wrap_up_seconds"] == 30
    assert call(api, "get", f"/agents/{agent_id}") == (200, created)
    status, listing = call(api, "get", "/agents")
    assert status == 200 and created in listing["agents"]
    assert [a["agent_id"] for a in listing["agents"]] == sorted(
        a["agent_id"] for a in listing["agents"])
    assert [a.agent_id for a in store.queue_agents(queue_id)] == [agent_id]

    # When the profile is replaced (GET -> edit -> PUT, live fields included)
    set_state(api, agent_id, "available")
    _, current = call(api, "get", f"/agents/{agent_id}")
    edited = {**current, "name": "Rear Admiral Hopper", "skills": {"sales": 3}, "queues": {},
              "state": "offline", "calls_today": 99}
    status, updated = call(api, "put", f"/agents/{agent_id}", edited)
    # Then the profile changed and the live state did not
    assert status == 200
    assert updated["name"] == "Rear Admiral Hopper" and updated["skills"] == {"sales": 3}
    assert updated["queues"] == {}
    assert updated["state"] == "available" and updated["calls_today"] == 0


def test_taking_an_agent_out_of_a_queue_ends_the_membership(api):
    queue_id = new_queue(api)
    agent_id = new_agent(api, queue_id)
    assert call(api, "put", f"/agents/{agent_id}", {**AGENT, "queues": {}})[0] == 200
    assert store.queue_agents(queue_id) == []


def test_a_queue_is_created_with_defaults_read_listed_and_replaced(api):
    queue_id = uid("q")
    status, created = call(api, "post", "/queues", {
        "queue_id": queue_id, "name": "Billing", "strategy": "skills-based",
        "required_skills": {"billing": 5}, "tiers": [{"after_seconds": 60, "tier": 2}],
        "overflow": {"kind": "transfer", "to": "+14155550100"},
    })
    assert status == 201
    assert created["strategy"] == "skills-based"
    assert created["tiers"] == [{"after_seconds": 60, "tier": 2}]
    assert created["max_wait_seconds"] == 600 and created["whisper"] is True
    assert call(api, "get", f"/queues/{queue_id}") == (200, created)
    status, listing = call(api, "get", "/queues")
    assert status == 200 and created in listing["queues"]

    status, updated = call(api, "put", f"/queues/{queue_id}",
                           {"name": "Billing (EU)", "strategy": "round-robin", "max_size": 5})
    assert status == 200
    assert updated["strategy"] == "round-robin" and updated["max_size"] == 5
    assert updated["tiers"] == [] and updated["required_skills"] == {}  # PUT replaces
    assert call(api, "get", f"/queues/{queue_id}")[1] == updated


def test_editing_a_queue_keeps_its_routing_state(api):
    queue_id = new_queue(api, strategy="round-robin")
    store.set_round_robin_pointer(queue_id, "ag-last")
    assert call(api, "put", f"/queues/{queue_id}", {"name": "Renamed"})[0] == 200
    assert store.round_robin_pointer(queue_id) == "ag-last"


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/agents/{agent}", None),
    ("put", "/agents/{agent}", {"name": "X", "endpoint": {"address": AGENT_PHONE}}),
    ("post", "/agents/{agent}/state", {"state": "available"}),
    ("get", "/agents/{agent}/history", None),
    ("get", "/agents/{agent}/context", None),
])
def test_an_unknown_agent_is_404(api, routing, method, path, body):
    agent_id = uid("nobody")
    status, answer = call(api, method, path.format(agent=agent_id), body)
    assert (status, answer) == (404, {"error": f"no agent '{agent_id}'"})
    assert routing.became_available == []


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/queues/{queue}", None),
    ("put", "/queues/{queue}", {"name": "X"}),
    ("get", "/queues/{queue}/board", None),
])
def test_an_unknown_queue_is_404(api, method, path, body):
    queue_id = uid("nowhere")
    assert call(api, method, path.format(queue=queue_id), body) == (
        404, {"error": f"no queue '{queue_id}'"})


# ---- validation -----------------------------------------------------------------------------

AGENT = {"name": "Ada", "endpoint": {"kind": "phone", "address": AGENT_PHONE}}


@pytest.mark.parametrize(("body", "field"), [
    ("{not json", "body"),
    ("[1, 2]", "body"),
    ({"name": "Ada", "endpoint": AGENT["endpoint"]}, "agent_id"),
    ({**AGENT, "agent_id": "has space"}, "agent_id"),
    ({"endpoint": AGENT["endpoint"]}, "name"),
    ({"name": "Ada"}, "endpoint"),
    ({**AGENT, "skils": {"billing": 3}}, "skils"),
    ({**AGENT, "skills": {"billing": 0}}, "skills.billing"),
    ({**AGENT, "skills": {"billing": 11}}, "skills.billing"),
    ({**AGENT, "skills": {"billing": "5"}}, "skills.billing"),
    ({**AGENT, "skills": {"billing": 5.5}}, "skills.billing"),
    ({**AGENT, "skills": {"billing": True}}, "skills.billing"),
    ({**AGENT, "queues": {"support": 0}}, "queues.support"),
    ({**AGENT, "queues": {"support": "1"}}, "queues.support"),
    ({**AGENT, "queues": {"no-such-queue": 1}}, "queues.no-such-queue"),
    ({**AGENT, "endpoint": {"kind": "phone", "address": "+1415555"}}, "endpoint.address"),
    ({**AGENT, "endpoint": {"kind": "phone", "address": "4155550150"}}, "endpoint.address"),
    ({**AGENT, "endpoint": {"kind": "phone", "address": "+1 415 555 0150"}}, "endpoint.address"),
    ({**AGENT, "endpoint": {"kind": "sip", "address": "alice"}}, "endpoint.address"),
    ({**AGENT, "endpoint": {"kind": "pigeon", "address": "x"}}, "endpoint.kind"),
    ({**AGENT, "mobile": "555-0151"}, "mobile"),
    ({**AGENT, "languages": ["English"]}, "languages[0]"),
    ({**AGENT, "wrap_up_seconds": -1}, "wrap_up_seconds"),
])
def test_an_invalid_agent_is_400_naming_the_field(api, body, field):
    if isinstance(body, dict) and field != "agent_id":
        body = {"agent_id": uid("ag"), **body}
    status, answer = call(api, "post", "/agents", body)
    assert status == 400, answer
    assert answer["field"] == field and answer["error"].startswith(f"{field}: ")


QUEUE = {"name": "Support"}


@pytest.mark.parametrize(("body", "field"), [
    ({**QUEUE, "strategy": "loudest-first"}, "strategy"),
    ({**QUEUE, "tiers": [{"after_seconds": 30, "tier": 0}]}, "tiers[0].tier"),
    ({**QUEUE, "tiers": [{"after_seconds": 30, "tier": -2}]}, "tiers[0].tier"),
    ({**QUEUE, "tiers": [{"after_seconds": 30, "tier": "2"}]}, "tiers[0].tier"),
    ({**QUEUE, "tiers": [{"after_seconds": -5, "tier": 2}]}, "tiers[0].after_seconds"),
    ({**QUEUE, "tiers": {"tier": 2}}, "tiers"),
    ({**QUEUE, "required_skills": {"billing": 12}}, "required_skills.billing"),
    ({**QUEUE, "max_size": 0}, "max_size"),
    ({**QUEUE, "whisper": "yes"}, "whisper"),
    ({**QUEUE, "join_empty": "sometimes"}, "join_empty"),
    ({**QUEUE, "overflow": {"kind": "transfer", "to": "+1415"}}, "overflow.to"),
    ({**QUEUE, "overflow": {"kind": "teleport"}}, "overflow.kind"),
    ({"strategy": "round-robin"}, "name"),
])
def test_an_invalid_queue_is_400_naming_the_field(api, body, field):
    status, answer = call(api, "post", "/queues", {"queue_id": uid("q"), **body})
    assert status == 400, answer
    assert answer["field"] == field and answer["error"].startswith(f"{field}: ")


@pytest.mark.parametrize(("body", "field"), [
    ({"state": "dancing"}, "state"),
    ({}, "state"),
    ({"state": "on-call"}, "state"),  # follows the call; not set by hand
    ({"state": "available", "reason": 42}, "reason"),
    ({"state": "available", "mood": "great"}, "mood"),
])
def test_an_invalid_state_change_is_400(api, routing, body, field):
    agent_id = new_agent(api)
    status, answer = call(api, "post", f"/agents/{agent_id}/state", body)
    assert (status, answer["field"]) == (400, field)
    assert routing.became_available == []


def test_a_mismatched_id_and_a_bad_history_limit_are_400(api):
    agent_id = new_agent(api)
    status, answer = call(api, "put", f"/agents/{agent_id}", {**AGENT, "agent_id": "someone"})
    assert (status, answer["field"]) == (400, "agent_id")
    status, answer = call(api, "get", f"/agents/{agent_id}/history?limit=lots")
    assert (status, answer["field"]) == (400, "limit")


# ---- conflicts and state changes ------------------------------------------------------------


def test_duplicates_and_impossible_state_changes_are_409(api, routing):
    queue_id = new_queue(api)
    agent_id = new_agent(api, queue_id)
    status, answer = call(api, "post", "/queues", {"queue_id": queue_id, "name": "Again"})
    assert (status, answer) == (409, {"error": f"queue '{queue_id}' already exists"})
    status, answer = call(api, "post", "/agents", {**AGENT, "agent_id": agent_id})
    assert (status, answer) == (409, {"error": f"agent '{agent_id}' already exists"})
    # offline -> away is not a move the state machine knows
    status, answer = set_state(api, agent_id, "away")
    assert status == 409 and "cannot go from offline" in answer["error"]
    # asking again for the state the agent is in is a no-op, not an error (retries are safe)
    status, answer = set_state(api, agent_id, "offline")
    assert status == 200 and answer["state"] == "offline"
    history = call(api, "get", f"/agents/{agent_id}/history")[1]["events"]
    assert all(event["state"] != "offline" or event["previous"] != "offline" for event in history)
    assert call(api, "get", f"/agents/{agent_id}")[1]["state"] == "offline"
    assert routing.became_available == []


def test_a_mobile_registered_to_another_agent_is_409(api):
    new_agent(api, mobile=AGENT_MOBILE.replace("51", "52"))
    status, answer = call(api, "post", "/agents", {
        **AGENT, "agent_id": uid("ag"), "mobile": AGENT_MOBILE.replace("51", "52")})
    assert status == 409 and "already registered" in answer["error"]


def test_a_state_change_is_recorded_with_its_reason_and_only_available_dispatches(api, routing):
    agent_id = new_agent(api, new_queue(api))
    # When the agent logs in, goes to lunch, then logs out, a minute apart
    status, answer = set_state(api, agent_id, "available", "shift start")
    assert status == 200 and answer["state"] == "available"
    assert answer["idle_since"] == NOW.isoformat()
    assert routing.became_available == [agent_id]
    routing.now = NOW + timedelta(minutes=1)
    assert set_state(api, agent_id, "away", "lunch")[0] == 200
    routing.now = NOW + timedelta(minutes=2)
    assert set_state(api, agent_id, "offline")[0] == 200
    # Then only the move to available reached routing, and history tells the story newest first
    assert routing.became_available == [agent_id]
    status, history = call(api, "get", f"/agents/{agent_id}/history")
    assert status == 200
    assert [(e["state"], e["previous"], e["reason"]) for e in history["events"]] == [
        ("offline", "away", None),
        ("away", "available", "lunch"),
        ("available", "offline", "shift start"),
    ]
    assert history["events"][0]["at"] == (NOW + timedelta(minutes=2)).isoformat()
    assert len(call(api, "get", f"/agents/{agent_id}/history?limit=1")[1]["events"]) == 1


def test_a_failing_dispatch_does_not_undo_the_state_change(api, routing):
    agent_id = new_agent(api)
    routing.fail = True
    status, answer = set_state(api, agent_id, "available")
    assert status == 200 and answer["state"] == "available"
    assert store.get_agent(agent_id).state is AgentState.AVAILABLE


def test_a_reserved_agent_cannot_be_moved_by_hand(api, routing):
    queue_id = new_queue(api)
    agent_id = new_agent(api, queue_id)
    set_state(api, agent_id, "available")
    caller = waiting(queue_id, NOW)
    key = store.join_queue(caller)
    CallRecord(caller.call_sid, caller=CALLER, started_at=NOW).save()
    assert store.reserve(store.get_entry(queue_id, key), [store.get_agent(agent_id)], NOW, 45)
    status, answer = set_state(api, agent_id, "away")
    assert status == 409 and "being connected" in answer["error"]
    # while its phone rings, the agent's screen already shows who is calling
    status, context = call(api, "get", f"/agents/{agent_id}/context")
    assert (status, context["agent_state"], context["call_sid"]) == (200, "reserved",
                                                                      caller.call_sid)
    assert call(api, "get", f"/queues/{queue_id}/board")[1]["callers_being_connected"] == 1


# ---- the wallboard --------------------------------------------------------------------------


def waiting(queue_id: str, joined_at: datetime, caller: str = CALLER) -> WaitingCaller:
    return WaitingCaller(call_sid="CA" + uuid.uuid4().hex, queue_id=queue_id, caller=caller,
                         joined_at=joined_at)


def test_the_board_counts_callers_and_agents_by_state(api, routing):
    # Given a queue with one agent available, one away, one offline
    queue_id = new_queue(api, name="Billing")
    ready, lunching, gone = (new_agent(api, queue_id) for _ in range(3))
    set_state(api, ready, "available")
    set_state(api, lunching, "available")
    routing.now = NOW + timedelta(seconds=30)
    set_state(api, lunching, "away", "lunch")
    # and three callers: two waiting (2 min and 30 s), one whose place is a callback request
    store.join_queue(waiting(queue_id, NOW))
    store.join_queue(waiting(queue_id, NOW + timedelta(seconds=90)))
    store.join_queue(waiting(queue_id, NOW - timedelta(minutes=10)), kind="callback")
    routing.now = NOW + timedelta(minutes=2)
    # When the board is read
    status, board = call(api, "get", f"/queues/{queue_id}/board")
    # Then it shows the line, the oldest wait (callbacks aside) and each agent's state and time
    assert status == 200
    assert board["name"] == "Billing"
    assert (board["callers_waiting"], board["callbacks_waiting"]) == (2, 1)
    assert board["callers_being_connected"] == 0
    assert board["oldest_wait_seconds"] == 120
    assert board["agents_by_state"] == {"offline": 1, "available": 1, "reserved": 0,
                                        "on-call": 0, "wrap-up": 0, "away": 1}
    agents = {a["agent_id"]: a for a in board["agents"]}
    assert agents[ready]["seconds_in_state"] == 120
    assert (agents[lunching]["state"], agents[lunching]["seconds_in_state"]) == ("away", 90)
    assert agents[lunching]["state_reason"] == "lunch"
    assert agents[gone]["state"] == "offline"
    # nothing answered or abandoned yet today: no rates, rather than a misleading 0 %
    assert board["service_level_today"] is None and board["abandon_rate_today"] is None
    # And the all-queues board carries the same figures for this queue
    status, everything = call(api, "get", "/board")
    assert status == 200
    assert board in everything["queues"]


def test_the_board_raises_the_queues_alerts(api, routing):
    # Given a queue that alerts after 60 s in line and 60 s away, and an agent away for lunch
    queue_id = new_queue(api, alerts={"oldest_wait_seconds": 60,
                                      "seconds_in_state": {"away": 60}})
    agent_id = new_agent(api, queue_id)
    set_state(api, agent_id, "available")
    set_state(api, agent_id, "away", "lunch")
    store.join_queue(waiting(queue_id, NOW))
    # When the board is read 90 s later
    routing.now = NOW + timedelta(seconds=90)
    board = call(api, "get", f"/queues/{queue_id}/board")[1]
    # Then both thresholds show, the longest wait first
    assert board["alerts"] == [
        {"alert": "oldest_wait_seconds", "value": 90, "threshold": 60},
        {"alert": "seconds_in_state", "value": 90, "threshold": 60, "agent_id": agent_id,
         "state": "away"}]
    # and the queue keeps its thresholds (the rest are the defaults)
    assert call(api, "get", f"/queues/{queue_id}")[1]["alerts"] == {
        "oldest_wait_seconds": 60, "seconds_in_state": {"away": 60}}


@pytest.mark.parametrize(("alerts", "field"), [
    ([], "alerts"),
    ({"loud": 1}, "alerts.loud"),
    ({"oldest_wait_seconds": -1}, "alerts.oldest_wait_seconds"),
    ({"service_level_below": 1.5}, "alerts.service_level_below"),
    ({"abandon_rate_above": True}, "alerts.abandon_rate_above"),
    ({"seconds_in_state": {"napping": 5}}, "alerts.seconds_in_state.napping"),
    ({"seconds_in_state": {"away": 0}}, "alerts.seconds_in_state.away"),
])
def test_bad_alert_thresholds_are_refused(api, alerts, field):
    status, body = call(api, "post", "/queues", {"queue_id": uid("q"), "name": "Support",
                                                 "alerts": alerts})
    assert (status, body.get("field")) == (400, field)


def test_an_empty_queue_has_no_oldest_wait(api):
    queue_id = new_queue(api)
    board = call(api, "get", f"/queues/{queue_id}/board")[1]
    assert board["callers_waiting"] == 0 and board["oldest_wait_seconds"] is None
    assert board["agents"] == []


# ---- the screen pop -------------------------------------------------------------------------


def on_call(agent_id: str, call_sid: str) -> None:
    """Put a stored agent on a call, as routing does when the agent answers."""
    agent = store.get_agent(agent_id)
    was = agent.state
    agent.state, agent.state_since = AgentState.ON_CALL, NOW
    store.change_agent_state(agent, was, NOW, current_call=call_sid)


def test_the_screen_pop_shows_the_caller_their_ivr_path_and_their_wait(api, routing):
    # Given a caller who went through the IVR and waited 75 s in line for the agent now serving
    queue_id = new_queue(api)
    agent_id = new_agent(api, queue_id)
    caller = waiting(queue_id, NOW + timedelta(seconds=45))
    key = store.join_queue(caller)
    customer = {"name": "Ada Lovelace", "vip": True, "account_id": "79927398713"}
    CallRecord(caller.call_sid, caller=CALLER, hotline="+14155550100", language="en-US",
               customer=customer, path=["welcome", "billing", "account", "agents"],
               inputs={"account": "79927398713", "pin": "***"}, started_at=NOW,
               queue_id=queue_id, queue_entry_key=key).save()
    on_call(agent_id, caller.call_sid)
    routing.now = NOW + timedelta(minutes=2)
    # When the agent's screen asks for the call's context
    status, context = call(api, "get", f"/agents/{agent_id}/context")
    # Then it has everything the agent needs before saying hello
    assert status == 200
    assert context["call_sid"] == caller.call_sid and context["agent_state"] == "on-call"
    assert context["caller"] == CALLER and context["customer"] == customer
    assert context["ivr_path"] == ["welcome", "billing", "account", "agents"]
    assert context["inputs"] == {"account": "79927398713", "pin": "***"}
    assert context["joined_queue_at"] == (NOW + timedelta(seconds=45)).isoformat()
    assert context["waited_seconds"] == 75
    assert context["previous_contacts"] == []

    # And once the line entry is gone, the wait counts from the start of the call
    store.leave_queue(queue_id, key)
    assert call(api, "get", f"/agents/{agent_id}/context")[1]["waited_seconds"] == 120


def test_the_screen_pop_shows_the_account_as_it_is_now(api, routing):
    """A reminder caller who pressed 0 (or a known customer): the agent sees the balance,
    status and last payments read at the moment, not what the reminder said."""
    from chalicelib.reminders.model import Payment
    from chalicelib.store import billing

    queue_id = new_queue(api)
    agent_id = new_agent(api, queue_id)
    caller = waiting(queue_id, NOW)
    CallRecord(caller.call_sid, caller=CALLER, hotline="+14155550100", language="en-US",
               customer={"name": "Ada Lovelace", "account_id": "79927398713",
                         "amount_due": "4217"}, started_at=NOW, queue_id=queue_id).save()
    on_call(agent_id, caller.call_sid)
    billing.record_payment(Payment(payment_id="bill-77", account_id="79927398713",
                                   amount=1000, currency="USD", source="billing", at=NOW))
    account = call(api, "get", f"/agents/{agent_id}/context")[1]["account"]
    assert (account["account_id"], account["amount_due"], account["currency"]) == (
        "79927398713", "32.17", "USD")
    assert [p["payment_id"] for p in account["payments"]] == ["bill-77"]
    # a caller whose record names no account: no account on the screen
    CallRecord(caller.call_sid, caller=CALLER, started_at=NOW, queue_id=queue_id,
               customer={"name": "Someone"}).save()
    assert call(api, "get", f"/agents/{agent_id}/context")[1]["account"] is None


def test_the_screen_pop_is_404_without_a_current_call(api):
    agent_id = new_agent(api)
    assert call(api, "get", f"/agents/{agent_id}/context") == (
        404, {"error": f"no current call for agent '{agent_id}'"})


# ---- security -------------------------------------------------------------------------------


def test_every_routing_route_is_an_admin_route(app_module):
    from chalicelib.console.access import needs_principal

    routes = {path: methods for path, methods in app_module.app.routes.items()
              if path.startswith(("/agents", "/queues", "/board"))}
    assert len(routes) == 17  # hold, disposition, voice token, monitor, the day, the seats
    for path, methods in routes.items():
        for method in methods:
            assert needs_principal(method, path), (method, path)


def test_no_route_logs_a_phone_number(api, routing, caplog):
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="chalicelib")
    queue_id = new_queue(api, overflow={"kind": "transfer", "to": "+14155550100"})
    agent_id = new_agent(api, queue_id, mobile="+14155550153")
    call(api, "post", "/agents", {**AGENT, "agent_id": uid("ag"), "mobile": "+1415555"})
    set_state(api, agent_id, "available", f"calling back {CALLER}")
    routing.fail = True
    set_state(api, agent_id, "away")
    set_state(api, agent_id, "available")
    caller = waiting(queue_id, NOW)
    store.join_queue(caller)
    CallRecord(caller.call_sid, caller=CALLER, started_at=NOW).save()
    on_call(agent_id, caller.call_sid)
    for path in ("/board", f"/agents/{agent_id}/context", f"/agents/{agent_id}/history",
                 f"/agents/{agent_id}", "/agents"):
        assert call(api, "get", path)[0] == 200
    assert "calling back" in caplog.text and "dispatch" in caplog.text  # we did log
    for number in ("4155550111", "4155550150", "4155550153", "4155550100", "1415555"):
        assert number not in caplog.text


# ---- the softphone's token ------------------------------------------------------------------


def test_a_softphone_agent_gets_a_voice_token_a_phone_agent_does_not(api, routing):
    import jwt

    from tests.support import TEST_API_KEY_SECRET, TEST_API_KEY_SID

    desk = new_agent(api, endpoint={"kind": "client", "address": "ag_desk_7"})
    status, body = call(api, "post", f"/agents/{desk}/voice-token")
    assert status == 200, body
    assert (body["identity"], body["ttl_seconds"], body["outgoing"]) == ("ag_desk_7", 3600,
                                                                         False)
    assert body["edge"] == "twilio" and "emulator_url" not in body
    assert body["expires_at"] == (NOW + timedelta(hours=1)).isoformat()
    claims = jwt.decode(body["token"], TEST_API_KEY_SECRET, algorithms=["HS256"],
                        options={"verify_exp": False, "verify_nbf": False})
    assert claims["iss"] == TEST_API_KEY_SID and claims["grants"]["identity"] == "ag_desk_7"
    phone = new_agent(api)
    status, refused = call(api, "post", f"/agents/{phone}/voice-token")
    assert status == 409 and "softphone" in refused["error"]
    assert call(api, "post", "/agents/nobody/voice-token")[0] == 404


def laptop_environment() -> dict:
    """The suite's own environment: the test client may have added a deployed stage's
    variables (``SSM_PREFIX``, ``SWITCHBOARD_STAGE`` of .chalice/config.json's stage)."""
    local = {name: value for name, value in os.environ.items() if name != "SSM_PREFIX"}
    local["SWITCHBOARD_STAGE"] = "test"
    return local


def test_a_stage_without_an_api_key_says_so(api, routing, monkeypatch):
    from chalicelib.settings import load_settings
    from chalicelib.wiring import Root, install

    monkeypatch.delenv("TWILIO_API_KEY_SECRET")
    # a stage's own environment (the test client may add a deployed stage's SSM_PREFIX)
    local = laptop_environment()
    previous = install(Root(clock=routing.clock, routing=routing,
                            settings=load_settings(local)))
    try:
        desk = new_agent(api, endpoint={"kind": "client", "address": "ag_desk_8"})
        status, refused = call(api, "post", f"/agents/{desk}/voice-token")
    finally:
        install(previous)
    assert status == 409 and "TWILIO_API_KEY_SECRET" in refused["error"]


def test_on_a_laptop_the_token_names_the_emulator_the_browser_registers_with(api, routing,
                                                                              monkeypatch):
    from chalicelib.settings import load_settings
    from chalicelib.wiring import Root, install

    local = laptop_environment()
    local["TWILIO_API_BASE"] = "http://127.0.0.1:8100/"
    previous = install(Root(clock=routing.clock, routing=routing,
                            settings=load_settings(local)))
    try:
        desk = new_agent(api, endpoint={"kind": "client", "address": "ag_desk_9"})
        status, body = call(api, "post", f"/agents/{desk}/voice-token")
    finally:
        install(previous)
    assert status == 200, body
    assert (body["edge"], body["emulator_url"]) == ("emulator", "http://127.0.0.1:8100")
