"""A reminder policy's agent step end to end: the daily job makes a progressive campaign for
the step's queue, the queue's agents join its open line, the campaign job dials the overdue
accounts (the BillCheck re-reads each right before its dial: paid meanwhile, no call), the
customer who answers is bridged into a ready agent's room and the agent's seat view shows the
account (the screen pop).

DynamoDB Local holds the state; Twilio's REST edge is faked (``FakeTwilio`` records the agents'
legs and the customers' calls); Twilio's webhooks are posted signed; time is a settable clock.
"""

from __future__ import annotations

import json
import random
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.reminders.batch_input import batch_id
from chalicelib.reminders.model import BillingAccount, Payment
from chalicelib.reminders.policy import parse_policy
from chalicelib.reminders.schedule import run_policies
from chalicelib.routing.model import Agent, Endpoint
from chalicelib.store import billing, routing
from chalicelib.store import campaigns as store
from chalicelib.wiring import Root, install
from tests.integration.conftest import signed_post
from tests.support import PUBLIC_BASE_URL, FakeTwilio

HOTLINE = "+14155550100"
JSON = {"Content-Type": "application/json"}
POLICY = parse_policy({"policy": "agents", "name": "Acme Power", "purpose": "collections",
                       "steps": [{"day": 10, "channel": "agent", "queue": "support"}]})


@pytest.fixture
def world(client, clock):
    # 15:00 in New York on a day of its own: the accounts due 10 days before are this test's
    day = date(2024, 1, 1) + timedelta(days=random.randrange(600))
    clock.now = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=20)

    def sleep(seconds):
        clock.now += timedelta(seconds=seconds)

    twilio = FakeTwilio()
    parts = Root(clock=clock, connector=twilio, sleep=sleep)
    previous = install(parts)
    yield client, clock, twilio, parts
    install(previous)


def account(due: date, amount: int, now: datetime) -> BillingAccount:
    stored, _ = billing.upsert_account(BillingAccount(
        account_id="ACC-" + uuid.uuid4().hex[:10], holder="Ada Lovelace",
        phones=("+1212" + str(random.randint(2, 9)) + f"{random.randrange(10**6):06d}",),
        timezone="America/New_York", currency="USD", amount_due=amount, due_date=due),
        "v1", now=now)
    return stored


def support_agent(now: datetime) -> str:
    agent_id = "ag-" + uuid.uuid4().hex[:8]
    routing.save_agent_profile(Agent(agent_id, "Ada " + agent_id[-4:],
                                     Endpoint("client", agent_id), queues={"support": 1}), now)
    return agent_id


def join(client, twilio, campaign_id: str, agent_id: str) -> None:
    response = client.http.post(f"/campaigns/{campaign_id}/seats", headers=JSON,
                                body=json.dumps({"agent_id": agent_id}))
    assert response.status_code == 201, response.body
    leg = twilio.placed[-1]
    answered = signed_post(client, leg["url"].removeprefix(PUBLIC_BASE_URL),
                           {"CallSid": leg["sid"], "CallStatus": "in-progress"})
    assert answered.status_code == 200


def test_the_agent_step_dials_the_overdue_account_and_bridges_it_to_a_support_agent(world):
    client, clock, twilio, parts = world
    due = clock.now.date() - timedelta(days=10)
    owing, payer = account(due, 4217, clock.now), account(due, 5000, clock.now)

    assert run_policies(clock.now, HOTLINE, {"agents": POLICY}) == {"agents:10": 2}
    campaign_id = batch_id({"request_id": f"agents.10.{clock.now.date()}"})
    campaign = store.get(campaign_id)
    assert (campaign.kind, campaign.queue_id) == ("progressive", "support")

    # an agent of another queue may not join; two support agents do
    other = "ag-" + uuid.uuid4().hex[:8]
    routing.save_agent_profile(Agent(other, "Bob", Endpoint("client", other),
                                     queues={"sales": 1}), clock.now)
    refused = client.http.post(f"/campaigns/{campaign_id}/seats", headers=JSON,
                               body=json.dumps({"agent_id": other}))
    assert refused.status_code == 409
    first = support_agent(clock.now)
    join(client, twilio, campaign_id, first)
    clock.now += timedelta(seconds=5)
    join(client, twilio, campaign_id, support_agent(clock.now))
    agent_legs = len(twilio.placed)

    # the payer pays before the job's round: their account is re-read, nobody calls them
    billing.record_payment(Payment("pay-" + uuid.uuid4().hex[:10], payer.account_id, 5000,
                                   "USD", "billing", clock.now))
    parts.campaigns.tick(seconds=0)

    calls = twilio.placed[agent_legs:]
    assert [c["to"] for c in calls] == [owing.phones[0]]
    paid = store.get_contact(campaign_id, payer.phones[0])
    assert (paid.status, paid.disposition, paid.attempts) == ("done", "paid", 0)

    # the customer answers: bridged into the agent ready longest, who sees the account
    [call] = calls
    answer = signed_post(client, call["url"].removeprefix(PUBLIC_BASE_URL), {
        "CallSid": call["sid"], "From": HOTLINE, "To": owing.phones[0],
        "Direction": "outbound-api", "CallStatus": "in-progress", "AnsweredBy": "human"})
    assert answer.status_code == 200, answer.body
    room = ET.fromstring(answer.body).find("Dial/Conference")
    assert room is not None and room.text == f"seat-{campaign_id}-{first}"
    seat = json.loads(client.http.get(f"/campaigns/{campaign_id}/seats/{first}").body)
    assert seat["state"] == "talking"
    assert seat["contact"]["attributes"] == {
        "account_id": owing.account_id, "holder": "Ada Lovelace", "amount_due": "4217",
        "currency": "USD", "due_date": due.isoformat()}
