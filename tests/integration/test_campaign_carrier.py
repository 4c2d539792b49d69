"""Campaigns end to end through the carrier emulator: the run_campaigns job places real REST
calls to the emulator, which rings scripted numbers (people answering the survey, machines,
busy lines, no answer, one STOP reply) and posts Twilio's signed webhooks back into the app.

DynamoDB Local holds the state; time is a settable clock that the job's waits move on.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.campaigns.campaign import AGENTLESS, SMS_KIND, Campaign, transition
from chalicelib.campaigns.model import ContactList, ListRow
from chalicelib.store import campaigns as store
from chalicelib.store import contact_lists
from chalicelib.wiring import Root, install

CALLER_ID = "+14155550100"  # the demo hotline: a STOP text to it reaches the app
NOON_SF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # inside the numbers' calling window


@pytest.fixture
def world(carrier, clock):
    clock.now = NOON_SF

    def sleep(seconds):
        clock.now += timedelta(seconds=seconds)

    parts = Root(clock=clock, sleep=sleep)
    previous = install(parts)
    yield carrier, clock, parts
    install(previous)


def campaign_for(phones: list[str], kind: str = AGENTLESS, **fields) -> Campaign:
    list_id = "lst_" + uuid.uuid4().hex[:10]
    contact_lists.create_list(ContactList(list_id, "e2e", "US", NOON_SF,
                                          "America/Los_Angeles"))
    for line, phone in enumerate(phones, start=2):
        contact_lists.add_row(list_id, ListRow(phone=phone, chunk=0, line=line, name="Ada"))
    campaign = Campaign(campaign_id="cmp_" + uuid.uuid4().hex[:12], name="Survey",
                        kind=kind, purpose="informational", list_id=list_id,
                        caller_id=CALLER_ID, created_at=NOON_SF,
                        fallback_tz="America/Los_Angeles", **fields)
    assert store.create(campaign)
    running = store.save(transition(campaign, "start", NOON_SF), campaign.version)
    assert running is not None
    return running


def run(parts, carrier, seconds: float = 30) -> None:
    parts.campaigns.tick(seconds=seconds)
    carrier.run_pending()  # the emulator rings each placed call and posts its webhooks


def test_a_survey_campaign_to_fifty_scripted_numbers(world):
    carrier, clock, parts = world
    base = uuid.uuid4().int % 800 + 100
    phones = [f"+1415{base:03d}{n:04d}" for n in range(50)]
    scripts = {}
    for n, phone in enumerate(phones):
        kind = n % 5
        scripts[phone] = (["human", "4", "1", "2"] if kind in (0, 1)  # answer the survey
                          else ["machine"] if kind == 2
                          else ["busy"] if kind == 3 else ["no-answer"])
    stop_phone = phones[0]
    scripts[stop_phone] = ["human", "5", "2", "2", "sms:STOP"]
    for phone, steps in scripts.items():
        carrier.set_answer_script(phone, steps)
    campaign = campaign_for(phones, flow_id="campaign_survey")
    get = parts.settings
    saved, get.outbound_cps = get.outbound_cps, 10
    try:
        for _ in range(3):
            run(parts, carrier, seconds=10)
    finally:
        get.outbound_cps = saved
    contacts = {c.phone: c for c in store.contacts(campaign.campaign_id)}
    assert len(contacts) == 50
    dialled = Counter(call.to for call in carrier.transcripts("outbound-api"))
    assert set(dialled) == set(phones) and max(dialled.values()) == 1
    people = [p for n, p in enumerate(phones) if n % 5 in (0, 1)]
    for phone in people:
        assert contacts[phone].disposition == "answered", contacts[phone]
    answered = contacts[people[1]]
    assert answered.answers.get("satisfaction") in (4, "4")
    assert answered.answers.get("recommend") == "yes"
    assert contacts[stop_phone].answers.get("satisfaction") in (5, "5")
    for n, phone in enumerate(phones):
        if n % 5 == 2:
            assert contacts[phone].status == "waiting" and contacts[phone].outcome == "machine"
        if n % 5 == 3:
            assert contacts[phone].outcome == "busy" and contacts[phone].attempts == 1
        if n % 5 == 4:
            assert contacts[phone].outcome == "no_answer"
    figures = store.figures_since(campaign.campaign_id, NOON_SF - timedelta(hours=1))
    assert figures["dials"] == 50 and figures["live_answers"] == len(people)
    assert figures["machine_answers"] == 10
    # the STOP reply reached the app: no campaign or callback calls or texts that number again
    assert parts.compliance.blocked(stop_phone, "voice")
    assert parts.compliance.blocked(stop_phone, "sms")
    again = campaign_for([stop_phone, phones[1]], flow_id="campaign_survey")
    texts = campaign_for([stop_phone, phones[5]], kind=SMS_KIND, template="outage_notice")
    run(parts, carrier, seconds=6)
    sent = [m for m in carrier.messages if m["to"] == phones[5]]
    assert len(sent) == 1 and sent[0]["from"] == CALLER_ID
    assert store.get_contact(texts.campaign_id, phones[5]).disposition in ("sent", "delivered")
    assert [c.to for c in carrier.transcripts("outbound-api")].count(stop_phone) == 1
    assert store.get_contact(again.campaign_id, stop_phone).disposition == "opted_out"
    assert store.get_contact(texts.campaign_id, stop_phone).disposition == "opted_out"
    assert not [m for m in carrier.messages if m["to"] == stop_phone]
