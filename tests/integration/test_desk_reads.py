"""What the agent desk reads: the screen pop through wrap-up (with the queue's disposition codes
and the code given) and the agent's own seats on live campaigns. DynamoDB Local; Twilio faked."""

from __future__ import annotations

import json

from chalicelib.campaigns.campaign import PREVIEW, PROGRESSIVE
from chalicelib.campaigns.seat import PREVIEWING
from chalicelib.store import campaign_seats, routing
from chalicelib.wiring import root
from tests.integration.conftest import OPEN_HOURS
from tests.integration.test_campaign_seats import (  # noqa: F401 - the fixture
    desk,
    join,
    new_agent,
    new_campaign,
    new_contact,
)
from tests.integration.test_dispositions import in_queue
from tests.integration.test_transfers import post, setup  # noqa: F401 - the fixture


def context(client, agent_id: str) -> tuple[int, dict]:
    response = client.http.get(f"/agents/{agent_id}/context")
    return response.status_code, json.loads(response.body)


def test_the_screen_pop_stays_through_wrap_up_with_the_queues_codes(setup):  # noqa: F811
    # Given an agent on a call from a queue that names its own codes
    client, _, agents, sid, tag = setup
    first, queue_id = agents["first"].agent_id, f"care{tag}"
    in_queue(sid, queue_id)
    queue = routing.get_queue(queue_id)
    queue.dispositions = ["paid", "promise_to_pay"]
    routing.save_queue(queue, OPEN_HOURS)
    # While they talk, the pop offers the queue's codes; nothing given yet, no hold
    status, pop = context(client, first)
    assert status == 200 and pop["call_sid"] == sid
    assert (pop["dispositions"], pop["disposition"], pop["consult_state"]) == (
        ["paid", "promise_to_pay"], None, None)
    # When the caller hangs up, the agent wraps up: the pop still shows that call
    root().routing.agents.finish_call(first, sid, OPEN_HOURS)
    status, pop = context(client, first)
    assert status == 200 and (pop["call_sid"], pop["agent_state"]) == (sid, "wrap-up")
    assert pop["caller"] == "+14155550177"
    # and, once coded, the code given
    assert post(client, f"/agents/{first}/disposition", {"code": "paid"})[0] == 200
    assert context(client, first)[1]["disposition"]["code"] == "paid"
    # After the wrap-up the agent has no call on screen
    book = root().routing.agents
    assert book.end_wrap_up(routing.get_agent(first), OPEN_HOURS)
    assert context(client, first)[0] == 404


def test_a_call_in_no_queue_offers_the_default_codes(setup):  # noqa: F811
    client, _, agents, _, _ = setup
    status, pop = context(client, agents["first"].agent_id)
    assert status == 200 and pop["dispositions"][0] == "resolved"


def test_an_agent_reads_their_own_seats_with_the_offer(desk):  # noqa: F811
    # Given an agent on a preview campaign with a contact offered, and on a progressive one
    agent_id = new_agent()
    preview, progressive = new_campaign(PREVIEW), new_campaign(PROGRESSIVE)
    join(desk, preview, agent_id)
    join(desk, progressive, agent_id)
    contact = new_contact(preview, name="Grace")
    seat = campaign_seats.get_seat(preview.campaign_id, agent_id, OPEN_HOURS)
    assert campaign_seats.change_seat(seat, OPEN_HOURS, state=PREVIEWING, contact=contact.phone,
                                      until=OPEN_HOURS.replace(hour=23))
    # When the desk reads the agent's seats
    response = desk.client.http.get(f"/agents/{agent_id}/seats")
    # Then both show, the preview one with its contact (last four digits only)
    assert response.status_code == 200
    body = json.loads(response.body)
    seats = {s["campaign_id"]: s for s in body["seats"]}
    assert body["agent_id"] == agent_id and set(seats) == {preview.campaign_id,
                                                           progressive.campaign_id}
    offered = seats[preview.campaign_id]
    assert (offered["state"], offered["campaign_kind"], offered["campaign_name"]) == (
        "previewing", "preview", "Renewals")
    assert offered["contact"]["name"] == "Grace"
    assert offered["contact"]["phone_last4"] == contact.phone[-4:]
    assert contact.phone not in response.body.decode()
    assert seats[progressive.campaign_id]["state"] == "ready"
    # another agent has none
    other = desk.client.http.get(f"/agents/{new_agent()}/seats")
    assert json.loads(other.body)["seats"] == []
