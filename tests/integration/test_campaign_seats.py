"""Agents on an agent campaign's open lines, on DynamoDB Local: joining (the agent's leg),
the room's TwiML, bridging answered customers (once, under a race), wrap-up, preview offers
(accept, skip, lapse), the leg's end, and the admin API's 4xx answers.

Twilio's REST edge is faked (``FakeTwilio`` records the agents' legs and hang-ups); Twilio's
webhooks are posted signed; the dialler is a fake ``dial`` that marks the contact called, as
``VoiceDialer.place`` does.
"""

from __future__ import annotations

import json
import threading
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta

import pytest

from chalicelib.campaigns.campaign import (
    AGENTLESS,
    PREDICTIVE,
    PREVIEW,
    PROGRESSIVE,
    RUNNING,
    Campaign,
)
from chalicelib.campaigns.contact import CALLING, DIALING, DONE, SKIPPED, WAITING, CampaignContact
from chalicelib.compliance.rules import INFORMATIONAL
from chalicelib.routing.model import Agent, Endpoint
from chalicelib.store import campaigns as store
from chalicelib.store import routing
from chalicelib.wiring import Root, install
from tests.integration.conftest import OPEN_HOURS, signed_post
from tests.support import PUBLIC_BASE_URL, FakeTwilio

JSON = {"Content-Type": "application/json"}
CALLER_ID = "+14155550100"


@dataclass
class Desk:
    client: object
    twilio: FakeTwilio
    parts: Root
    clock: object

    @property
    def seats(self):
        return self.parts.seats


@pytest.fixture
def desk(client, clock):
    twilio = FakeTwilio()
    parts = Root(clock=clock, connector=twilio)
    previous = install(parts)
    yield Desk(client, twilio, parts, clock)
    install(previous)


def new_campaign(kind=PROGRESSIVE, **fields) -> Campaign:
    campaign = Campaign(campaign_id="cmp_" + uuid.uuid4().hex[:12], name="Renewals", kind=kind,
                        purpose=INFORMATIONAL, list_id="cl_" + "x" * 16, caller_id=CALLER_ID,
                        created_at=OPEN_HOURS, status=RUNNING, **fields)
    assert store.create(campaign)
    return campaign


def new_agent(queues=None, kind="client") -> str:
    agent_id = "ag-" + uuid.uuid4().hex[:8]
    address = agent_id if kind == "client" else f"+1415555{uuid.uuid4().int % 10000:04d}"
    routing.save_agent_profile(Agent(agent_id, "Ada " + agent_id[-4:], Endpoint(kind, address),
                                     queues=queues or {}), OPEN_HOURS)
    return agent_id


def new_contact(campaign: Campaign, status=DIALING, name="Grace") -> CampaignContact:
    contact = CampaignContact(campaign.campaign_id, f"+1415555{uuid.uuid4().int % 10000:04d}",
                              status=status, name=name, attributes={"plan": "gold"})
    assert store.add_contact(contact)
    return store.get_contact(campaign.campaign_id, contact.phone)


def post(desk, path, body=None, raw=None):
    return desk.client.http.post(path, headers=JSON,
                                 body=raw if raw is not None else json.dumps(body or {}))


def join(desk, campaign, agent_id) -> str:
    """The agent joins and their leg answers: the seat is ready; the leg's sid."""
    response = post(desk, f"/campaigns/{campaign.campaign_id}/seats", {"agent_id": agent_id})
    assert response.status_code == 201, response.body
    leg = desk.twilio.placed[-1]
    answered = signed_post(desk.client, leg["url"].removeprefix(PUBLIC_BASE_URL),
                           {"CallSid": leg["sid"], "CallStatus": "in-progress"})
    assert answered.status_code == 200
    return leg["sid"]


def seat_of(desk, campaign, agent_id) -> dict:
    response = desk.client.http.get(f"/campaigns/{campaign.campaign_id}/seats/{agent_id}")
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def room_of(twiml: str | None) -> str | None:
    return None if twiml is None else ET.fromstring(twiml).find("Dial/Conference").text


def call_sid() -> str:
    return "CA" + uuid.uuid4().hex


# ---- joining -------------------------------------------------------------------------------
def test_an_agent_joins_their_leg_is_called_and_answering_puts_them_in_their_room(desk):
    campaign, agent_id = new_campaign(queue_id="sales"), new_agent(queues={"sales": 1})
    # When the agent joins
    response = post(desk, f"/campaigns/{campaign.campaign_id}/seats", {"agent_id": agent_id})
    # Then their client is called from the campaign's number, its webhooks on this seat
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["state"] == "connecting"
    [leg] = desk.twilio.placed
    base = f"{PUBLIC_BASE_URL}/twilio/campaigns/{campaign.campaign_id}/seats/{agent_id}"
    assert (leg["to"], leg["from"], leg["url"]) == (f"client:{agent_id}", CALLER_ID,
                                                    f"{base}/join")
    assert leg["status_callback"].startswith(f"{base}/seat-status#")  # retried by Twilio
    assert desk.seats.ready_count(campaign.campaign_id, OPEN_HOURS) == 0
    # When the leg answers: the agent's own room, ended when they leave
    answer = signed_post(desk.client, leg["url"].removeprefix(PUBLIC_BASE_URL),
                         {"CallSid": leg["sid"], "CallStatus": "in-progress"})
    assert answer.status_code == 200
    conference = ET.fromstring(answer.body).find("Dial/Conference")
    assert conference.text == f"seat-{campaign.campaign_id}-{agent_id}"
    assert conference.get("startConferenceOnEnter") == "true"
    assert conference.get("endConferenceOnExit") == "true"
    assert seat_of(desk, campaign, agent_id)["state"] == "ready"
    assert desk.seats.ready_count(campaign.campaign_id, OPEN_HOURS) == 1
    # A retried webhook is the same room; another leg for this seat is hung up
    again = signed_post(desk.client, leg["url"].removeprefix(PUBLIC_BASE_URL),
                        {"CallSid": leg["sid"]})
    assert ET.fromstring(again.body).find("Dial/Conference").text == conference.text
    stray = signed_post(desk.client, leg["url"].removeprefix(PUBLIC_BASE_URL),
                        {"CallSid": call_sid()})
    assert ET.fromstring(stray.body).find("Hangup") is not None
    listed = json.loads(desk.client.http.get(f"/campaigns/{campaign.campaign_id}/seats").body)
    assert [s["agent_id"] for s in listed["seats"]] == [agent_id]


def test_a_phone_agent_is_called_at_their_number(desk):
    campaign, agent_id = new_campaign(PREDICTIVE), new_agent(kind="phone")
    join(desk, campaign, agent_id)
    assert desk.twilio.placed[0]["to"] == routing.get_agent(agent_id).endpoint.address


def test_the_agents_leg_ending_removes_the_seat_and_an_offer_goes_back(desk):
    campaign, agent_id = new_campaign(PREVIEW), new_agent()
    leg = join(desk, campaign, agent_id)
    contact = new_contact(campaign)
    assert desk.seats.preview_round(campaign, lambda n: [contact][:n], OPEN_HOURS) == 1
    status = f"/twilio/campaigns/{campaign.campaign_id}/seats/{agent_id}/seat-status"
    # an older leg's word changes nothing
    assert signed_post(desk.client, status, {"CallSid": call_sid(),
                                             "CallStatus": "completed"}).status_code == 200
    assert seat_of(desk, campaign, agent_id)["state"] == "previewing"
    # this leg's end: no seat, and the contact waits again, due now
    response = signed_post(desk.client, status, {"CallSid": leg, "CallStatus": "completed"})
    assert response.status_code == 200
    assert desk.client.http.get(
        f"/campaigns/{campaign.campaign_id}/seats/{agent_id}").status_code == 404
    back = store.get_contact(campaign.campaign_id, contact.phone)
    assert (back.status, back.due_at) == (WAITING, OPEN_HOURS)


def test_leaving_hangs_up_the_agents_line(desk):
    campaign, agent_id = new_campaign(), new_agent()
    leg = join(desk, campaign, agent_id)
    response = desk.client.http.delete(f"/campaigns/{campaign.campaign_id}/seats/{agent_id}")
    assert response.status_code == 200 and json.loads(response.body)["state"] == "left"
    assert desk.twilio.hung_up == [leg]
    assert desk.seats.ready_count(campaign.campaign_id, OPEN_HOURS) == 0
    # and the agent may join again
    join(desk, campaign, agent_id)
    assert desk.seats.ready_count(campaign.campaign_id, OPEN_HOURS) == 1


def test_twilio_refusing_the_agents_call_leaves_no_seat(desk):
    campaign, agent_id = new_campaign(), new_agent()
    desk.twilio.fail_with = RuntimeError("Twilio is down")
    response = post(desk, f"/campaigns/{campaign.campaign_id}/seats", {"agent_id": agent_id})
    assert response.status_code == 409 and "could not call" in json.loads(response.body)["error"]
    assert desk.seats.seats(campaign.campaign_id) == []


# ---- customers -------------------------------------------------------------------------------
def test_an_answered_customer_takes_the_longest_ready_seat_and_none_when_all_are_busy(desk):
    campaign = new_campaign()
    first, second = new_agent(), new_agent()
    join(desk, campaign, first)
    desk.clock.now = OPEN_HOURS + timedelta(seconds=5)
    join(desk, campaign, second)
    now = desk.clock.now
    one, two = new_contact(campaign, CALLING), new_contact(campaign, CALLING)
    sid = call_sid()
    twiml = desk.seats.bridge(campaign, one, sid, now)
    assert room_of(twiml) == f"seat-{campaign.campaign_id}-{first}"  # ready longest
    assert ET.fromstring(twiml).find("Dial/Conference").get("endConferenceOnExit") == "false"
    # Twilio retrying the answer webhook gets the same room, not a second seat
    assert desk.seats.bridge(campaign, one, sid, now) == twiml
    assert room_of(desk.seats.bridge(campaign, two, call_sid(), now)).endswith(second)
    assert desk.seats.ready_count(campaign.campaign_id, now) == 0
    assert desk.seats.occupancy(campaign.campaign_id, now) == (0, 2)  # both talking
    assert desk.seats.bridge(campaign, new_contact(campaign, CALLING), call_sid(), now) is None
    shown = seat_of(desk, campaign, first)
    assert shown["state"] == "talking"
    assert shown["contact"] == {"name": "Grace", "phone_last4": one.phone[-4:],
                                "attributes": {"plan": "gold"}}


def test_no_ready_agent_means_no_bridge(desk):
    campaign = new_campaign(PREDICTIVE)
    contact = new_contact(campaign, CALLING)
    assert desk.seats.bridge(campaign, contact, call_sid(), OPEN_HOURS) is None
    agent_id = new_agent()
    post(desk, f"/campaigns/{campaign.campaign_id}/seats", {"agent_id": agent_id})
    assert desk.seats.bridge(campaign, contact, call_sid(), OPEN_HOURS) is None  # connecting


@pytest.mark.parametrize("ready", [1, 3])
def test_answered_calls_racing_take_each_ready_seat_once(desk, ready):
    campaign = new_campaign(PREDICTIVE)
    for _ in range(ready):
        join(desk, campaign, new_agent())
    contacts = [new_contact(campaign, CALLING) for _ in range(8)]
    barrier, rooms, lock = threading.Barrier(len(contacts)), [], threading.Lock()

    def answer(contact):
        barrier.wait()
        twiml = desk.seats.bridge(campaign, contact, call_sid(), OPEN_HOURS)
        with lock:
            rooms.append(room_of(twiml))

    threads = [threading.Thread(target=answer, args=(c,)) for c in contacts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [room for room in rooms if room]
    assert len(taken) == len(set(taken)) == ready
    assert rooms.count(None) == len(contacts) - ready
    assert all(s["state"] == "talking" for s in desk.seats.seats(campaign.campaign_id))


def test_after_the_customer_leaves_the_seat_wraps_up_then_is_ready_again(desk):
    campaign, agent_id = new_campaign(wrap_up_seconds=20), new_agent()
    join(desk, campaign, agent_id)
    contact, sid = new_contact(campaign, CALLING), call_sid()
    desk.seats.bridge(campaign, contact, sid, OPEN_HOURS)
    left = OPEN_HOURS + timedelta(minutes=2)
    desk.seats.customer_left(campaign.campaign_id, sid, left)
    desk.seats.customer_left(campaign.campaign_id, sid, left + timedelta(seconds=5))  # retried
    desk.seats.customer_left(campaign.campaign_id, call_sid(), left)  # unknown: nothing
    assert desk.seats.ready_count(campaign.campaign_id, left + timedelta(seconds=19)) == 0
    desk.clock.now = left + timedelta(seconds=19)
    shown = seat_of(desk, campaign, agent_id)
    assert shown["state"] == "wrap_up" and shown["until"] == (left + timedelta(seconds=20)
                                                              ).isoformat()
    assert desk.seats.ready_count(campaign.campaign_id, left + timedelta(seconds=20)) == 1
    assert desk.seats.bridge(campaign, new_contact(campaign, CALLING), call_sid(),
                             left + timedelta(seconds=20)) is not None


def test_a_disposition_ends_the_wrap_up_and_is_kept_on_the_contact(desk):
    campaign, agent_id = new_campaign(wrap_up_seconds=300), new_agent()
    join(desk, campaign, agent_id)
    contact, sid = new_contact(campaign, CALLING), call_sid()
    desk.seats.bridge(campaign, contact, sid, OPEN_HOURS)
    path = f"/campaigns/{campaign.campaign_id}/seats/{agent_id}/disposition"
    assert post(desk, path, {"disposition": "sale"}).status_code == 409  # still talking
    # the call ends: the contact is settled, then the seat wraps up
    store.change_contact(contact, OPEN_HOURS, status=DONE, disposition="answered")
    desk.seats.customer_left(campaign.campaign_id, sid, OPEN_HOURS)
    assert post(desk, path, {"disposition": "Sale!"}).status_code == 400
    response = post(desk, path, {"disposition": "sale"})
    assert response.status_code == 200, response.body
    shown = json.loads(response.body)
    assert shown["state"] == "ready" and shown["disposition"]["disposition"] == "sale"
    assert desk.seats.ready_count(campaign.campaign_id, OPEN_HOURS) == 1
    settled = store.get_contact(campaign.campaign_id, contact.phone)
    assert settled.answers == {"agent_disposition": "sale"}
    assert (settled.status, settled.disposition) == (DONE, "answered")  # never overwritten
    assert post(desk, path, {"disposition": "sale"}).status_code == 409  # nothing to wrap up


# ---- preview ---------------------------------------------------------------------------------
class FakeDialer:
    """``VoiceDialer.place`` as far as seats see it: the contact is called (or not)."""

    def __init__(self, outcome="placed"):
        self.outcome, self.placed = outcome, []

    def place(self, campaign, contact, *, agent_id=None):
        self.placed.append((contact.phone, agent_id))
        if self.outcome == "placed":
            store.change_contact(contact, OPEN_HOURS, status=CALLING, call_sid=call_sid(),
                                 attempts=contact.attempts + 1, agent_id=agent_id,
                                 dial_by=None)
        else:
            store.change_contact(contact, OPEN_HOURS, status=WAITING, dial_by=None)
        return self.outcome


def preview_with(desk, agents=1, **fields):
    campaign = new_campaign(PREVIEW, **fields)
    ids = []
    for n in range(agents):
        desk.clock.now = OPEN_HOURS + timedelta(seconds=n)
        ids.append(new_agent())
        join(desk, campaign, ids[-1])
    desk.clock.now = OPEN_HOURS
    return campaign, ids


def test_each_ready_agent_is_offered_one_contact_and_sees_who_it_is(desk):
    campaign, (ada, bob) = preview_with(desk, agents=2)
    contacts = [new_contact(campaign, name=f"Person {n}") for n in range(3)]
    asked = []

    def claim(n):
        asked.append(n)
        return contacts[:n]

    assert desk.seats.preview_round(campaign, claim, OPEN_HOURS) == 2
    assert asked == [2]
    offered = seat_of(desk, campaign, ada)
    assert offered["state"] == "previewing"
    assert offered["contact"] == {"name": "Person 0", "phone_last4": contacts[0].phone[-4:],
                                  "attributes": {"plan": "gold"}}
    assert offered["until"] == (OPEN_HOURS + timedelta(seconds=60)).isoformat()
    assert seat_of(desk, campaign, bob)["contact"]["name"] == "Person 1"
    # nobody is ready any more: the next round claims nothing
    assert desk.seats.preview_round(campaign, claim, OPEN_HOURS) == 0 and asked == [2]


def test_accepting_dials_with_the_agent_reserved_and_the_answer_reaches_that_agent(desk):
    campaign, (ada, bob) = preview_with(desk, agents=2)
    contact = new_contact(campaign)
    desk.seats.preview_round(campaign, lambda n: [contact][:n], OPEN_HOURS)  # to ada
    desk.parts.dialer = dialer = FakeDialer()
    response = post(desk, f"/campaigns/{campaign.campaign_id}/seats/{ada}/accept")
    assert response.status_code == 200, response.body
    accepted = json.loads(response.body)
    assert (accepted["state"], accepted["outcome"]) == ("dialing", "placed")
    assert dialer.placed == [(contact.phone, ada)]
    # bob has been ready longest... the customer still reaches ada, who accepted
    desk.clock.now = OPEN_HOURS + timedelta(seconds=10)
    called = store.get_contact(campaign.campaign_id, contact.phone)
    twiml = desk.seats.bridge(campaign, called, called.call_sid, desk.clock.now)
    assert room_of(twiml) == f"seat-{campaign.campaign_id}-{ada}"
    assert seat_of(desk, campaign, ada)["state"] == "talking"
    assert seat_of(desk, campaign, bob)["state"] == "ready"


def test_an_accepted_call_that_ends_unanswered_frees_the_agent(desk):
    campaign, (ada,) = preview_with(desk)
    contact = new_contact(campaign)
    desk.seats.preview_round(campaign, lambda n: [contact][:n], OPEN_HOURS)
    desk.parts.dialer = FakeDialer()
    post(desk, f"/campaigns/{campaign.campaign_id}/seats/{ada}/accept")
    called = store.get_contact(campaign.campaign_id, contact.phone)
    desk.seats.customer_left(campaign.campaign_id, called.call_sid, OPEN_HOURS)
    assert seat_of(desk, campaign, ada)["state"] == "ready"


def test_an_accepted_call_with_no_word_frees_the_agent_after_the_ring_time(desk):
    campaign, (ada,) = preview_with(desk, ring_seconds=30)
    contact = new_contact(campaign)
    desk.seats.preview_round(campaign, lambda n: [contact][:n], OPEN_HOURS)
    desk.parts.dialer = FakeDialer()
    post(desk, f"/campaigns/{campaign.campaign_id}/seats/{ada}/accept")
    later = OPEN_HOURS + timedelta(seconds=74)
    assert desk.seats.preview_round(campaign, lambda n: [], later) == 0
    assert seat_of(desk, campaign, ada)["state"] == "dialing"
    desk.seats.preview_round(campaign, lambda n: [], later + timedelta(seconds=1))
    assert seat_of(desk, campaign, ada)["state"] == "ready"


def test_a_dial_the_gate_defers_frees_the_agent_at_once(desk):
    campaign, (ada,) = preview_with(desk)
    contact = new_contact(campaign)
    desk.seats.preview_round(campaign, lambda n: [contact][:n], OPEN_HOURS)
    desk.parts.dialer = FakeDialer("deferred")
    response = post(desk, f"/campaigns/{campaign.campaign_id}/seats/{ada}/accept")
    assert json.loads(response.body)["outcome"] == "deferred"
    assert seat_of(desk, campaign, ada)["state"] == "ready"


def test_skipping_ends_the_contact_as_skipped(desk):
    campaign, (ada,) = preview_with(desk)
    contact = new_contact(campaign)
    desk.seats.preview_round(campaign, lambda n: [contact][:n], OPEN_HOURS)
    response = post(desk, f"/campaigns/{campaign.campaign_id}/seats/{ada}/skip")
    assert response.status_code == 200 and json.loads(response.body)["state"] == "ready"
    skipped = store.get_contact(campaign.campaign_id, contact.phone)
    assert (skipped.status, skipped.disposition) == (DONE, SKIPPED)
    assert post(desk, f"/campaigns/{campaign.campaign_id}/seats/{ada}/skip").status_code == 409


def test_an_offer_not_answered_in_time_lapses_and_its_contact_waits_again(desk):
    campaign, (ada,) = preview_with(desk, preview_seconds=30)
    first, second = new_contact(campaign), new_contact(campaign)
    desk.seats.preview_round(campaign, lambda n: [first][:n], OPEN_HOURS)
    lapse = OPEN_HOURS + timedelta(seconds=30)
    desk.clock.now = lapse
    desk.parts.dialer = FakeDialer()
    assert post(desk, f"/campaigns/{campaign.campaign_id}/seats/{ada}/accept"
                ).status_code == 409  # too late
    # the next round takes it back and offers the next contact
    assert desk.seats.preview_round(campaign, lambda n: [second][:n], lapse) == 1
    back = store.get_contact(campaign.campaign_id, first.phone)
    assert (back.status, back.due_at) == (WAITING, lapse)
    assert seat_of(desk, campaign, ada)["contact"]["phone_last4"] == second.phone[-4:]


def test_a_claimed_contact_no_seat_can_take_goes_back(desk):
    campaign, (ada,) = preview_with(desk)
    spare = new_contact(campaign)
    assert desk.seats.preview_round(campaign, lambda n: [new_contact(campaign), spare],
                                    OPEN_HOURS) == 1
    assert store.get_contact(campaign.campaign_id, spare.phone).status == WAITING


# ---- the admin API's answers -------------------------------------------------------------------
def test_unknown_campaigns_agents_and_seats_are_404(desk):
    campaign, agent_id = new_campaign(), new_agent()
    seats = f"/campaigns/{campaign.campaign_id}/seats"
    assert post(desk, "/campaigns/nope/seats", {"agent_id": agent_id}).status_code == 404
    assert desk.client.http.get("/campaigns/" + "x" * 300 + "/seats").status_code == 404
    assert post(desk, seats, {"agent_id": "ghost"}).status_code == 404
    assert desk.client.http.get(f"{seats}/{agent_id}").status_code == 404
    assert desk.client.http.delete(f"{seats}/{agent_id}").status_code == 404
    for step in ("skip", "disposition"):
        assert post(desk, f"{seats}/{agent_id}/{step}",
                    {"disposition": "sale"} if step == "disposition" else None
                    ).status_code == 404


def test_a_campaign_without_agents_or_a_seat_in_the_wrong_state_is_409(desk):
    agentless = new_campaign(AGENTLESS, flow_id="survey")
    agent_id = new_agent()
    for response in (
        post(desk, f"/campaigns/{agentless.campaign_id}/seats", {"agent_id": agent_id}),
        desk.client.http.get(f"/campaigns/{agentless.campaign_id}/seats"),
    ):
        assert response.status_code == 409
        assert "no agents" in json.loads(response.body)["error"]
    campaign = new_campaign(PROGRESSIVE)
    join(desk, campaign, agent_id)
    seats = f"/campaigns/{campaign.campaign_id}/seats"
    assert post(desk, seats, {"agent_id": agent_id}).status_code == 409  # already on
    assert post(desk, f"{seats}/{agent_id}/accept").status_code == 409  # not a preview
    assert post(desk, f"{seats}/{agent_id}/skip").status_code == 409  # nothing offered
    other_queue = new_campaign(PROGRESSIVE, queue_id="sales")
    assert post(desk, f"/campaigns/{other_queue.campaign_id}/seats",
                {"agent_id": new_agent()}).status_code == 409


@pytest.mark.parametrize("raw", ['{}', '{"agent_id": 7}', '{"agent_id": "a b"}', "[]", "nope",
                                 '{"agent_id": "ada", "extra": 1}'])
def test_a_bad_join_body_is_400(desk, raw):
    campaign = new_campaign()
    response = post(desk, f"/campaigns/{campaign.campaign_id}/seats", raw=raw)
    assert response.status_code == 400, response.body


def test_the_seat_routes_are_in_the_openapi_document(desk):
    paths = json.loads(desk.client.http.get("/openapi.json").body)["paths"]
    base = "/campaigns/{campaign_id}/seats"
    assert set(paths[base]) == {"get", "post"}
    assert set(paths[base + "/{agent_id}"]) == {"get", "delete"}
    for step in ("accept", "skip", "disposition"):
        assert set(paths[f"{base}/{{agent_id}}/{step}"]) == {"post"}
    assert not any(path.startswith("/twilio") for path in paths)
