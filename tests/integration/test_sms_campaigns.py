"""SMS campaigns end to end: a claimed contact texted through the compliance gate and the carrier
emulator (Twilio's REST API), on DynamoDB Local; then what comes back through the signed
webhooks: delivery statuses, replies (once per MessageSid), STOP."""

from __future__ import annotations

import random
import uuid
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.campaigns.campaign import RUNNING, Campaign
from chalicelib.campaigns.contact import DIAL_EXPIRY, DIALING, WAITING, CampaignContact
from chalicelib.consent import record_opt_out
from chalicelib.messaging.inbound import ticket_id_for
from chalicelib.store import campaign_texts, messages, optouts, tickets
from chalicelib.store import campaigns as store
from chalicelib.wiring import root
from tests.integration.conftest import OPEN_HOURS, signed_post
from tests.support import TEST_TOKEN

HOTLINE = "+14155550100"  # the demo's hotline: the campaigns' caller ID
# 21:00 in New York (212 numbers), Monday 23 Nov 2026: the calling window has closed.
EVENING = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 there


def number() -> str:
    """A fresh New York number (tests share one DynamoDB Local per worker)."""
    return "+1212" + str(random.randint(2, 9)) + f"{random.randrange(10**6):06d}"


def new_campaign(**changes) -> Campaign:
    fields = {"purpose": "informational", "template": "appointment_survey", **changes}
    campaign = Campaign(
        campaign_id="cmp" + uuid.uuid4().hex[:12], name="Reminders", kind="sms",
        list_id="lst1", caller_id=HOTLINE, created_at=OPEN_HOURS, status=RUNNING,
        fallback_tz="America/New_York", **fields)
    assert store.create(campaign)
    return campaign


def claimed(campaign: Campaign, phone: str | None = None, now: datetime = OPEN_HOURS,
            **fields) -> CampaignContact:
    """A contact of ``campaign`` as the runner hands it over: claimed (``dialing``)."""
    contact = CampaignContact(campaign.campaign_id, phone or number(), due_at=now,
                              updated_at=now, **fields)
    assert store.add_contact(contact)
    moved = store.change_contact(contact, now, status=DIALING, dial_by=now + DIAL_EXPIRY)
    assert moved is not None
    return moved


def stored(contact: CampaignContact) -> CampaignContact:
    found = store.get_contact(contact.campaign_id, contact.phone)
    assert found is not None
    return found


def texts_to(carrier, phone: str) -> list[dict]:
    return [m for m in carrier.messages if m["to"] == phone]


def text_back(client, sender: str, body: str, message_sid: str | None = None,
              to: str = HOTLINE) -> str | None:
    """The contact texts back; returns our reply's text (None: no reply)."""
    message_sid = message_sid or "SM" + uuid.uuid4().hex
    response = signed_post(client, "/twilio/sms", {
        "MessageSid": message_sid, "From": sender, "To": to, "Body": body})
    assert response.status_code == 200, response.body
    reply = ET.fromstring(response.body).find("Message")
    return None if reply is None else reply.text


def status_callback(client, message_sid: str, status: str, **extra):
    response = signed_post(client, "/twilio/sms/status", {
        "MessageSid": message_sid, "MessageStatus": status, **extra})
    assert response.status_code == 200, response.body


@pytest.fixture
def sender(client):
    """The composition root's ``TextSender``, on the test's clock (the ``client`` fixture)."""
    return root().texts


# ---- sending --------------------------------------------------------------------------------


def test_a_text_goes_once_and_the_contact_is_sent(client, carrier, sender):
    campaign = new_campaign()
    contact = claimed(campaign, name="Ada", attributes={"appointment": "Tue 1 Dec 10:00"})

    assert sender.send(campaign, contact) == "sent"

    [message] = texts_to(carrier, contact.phone)
    assert message["from"] == HOTLINE
    assert message["body"] == ("Hi Ada, a reminder of your appointment on Tue 1 Dec 10:00.\n"
                               "Reply 1 to confirm or 2 if you need another time.")
    after = stored(contact)
    assert (after.status, after.disposition, after.attempts, after.call_sid) == (
        "done", "sent", 1, message["sid"])
    assert [h["outcome"] for h in after.history] == ["sent"]
    assert store.figures_since(campaign.campaign_id, OPEN_HOURS)["texts"] == 1
    text = messages.get_message(replace(contact, attempts=1).attempt_key)
    assert (text.campaign_id, text.to, text.message_sid) == (
        campaign.campaign_id, contact.phone, message["sid"])

    # the runner retries the same claim (its tick died before it saw the result): no second text
    assert sender.send(campaign, contact) == "sent"
    assert len(texts_to(carrier, contact.phone)) == 1
    assert store.figures_since(campaign.campaign_id, OPEN_HOURS)["texts"] == 1


def test_outside_the_window_the_contact_waits_for_the_next_morning(client, clock, carrier,
                                                                   sender):
    campaign = new_campaign()
    clock.now = EVENING
    contact = claimed(campaign, now=EVENING)

    assert sender.send(campaign, contact) == "deferred"

    assert texts_to(carrier, contact.phone) == []
    waiting = stored(contact)
    assert (waiting.status, waiting.due_at, waiting.attempts) == (WAITING, NEXT_MORNING, 0)
    assert messages.get_message(replace(contact, attempts=1).attempt_key) is None

    # the next morning the runner claims it again and the same attempt goes out
    clock.now = NEXT_MORNING
    again = store.change_contact(waiting, NEXT_MORNING, status=DIALING,
                                 dial_by=NEXT_MORNING + DIAL_EXPIRY)
    assert sender.send(campaign, again) == "sent"
    assert len(texts_to(carrier, contact.phone)) == 1
    assert (stored(contact).disposition, stored(contact).attempts) == ("sent", 1)


def test_an_opted_out_number_is_never_texted(client, carrier, sender):
    campaign = new_campaign()
    contact = claimed(campaign)
    record_opt_out(contact.phone, "stop", OPEN_HOURS - timedelta(days=1))

    assert sender.send(campaign, contact) == "opted_out"

    assert texts_to(carrier, contact.phone) == []
    after = stored(contact)
    assert (after.status, after.disposition, after.attempts) == ("done", "opted_out", 0)


def test_a_marketing_text_without_consent_is_blocked(client, carrier, sender):
    campaign = new_campaign(purpose="marketing", template="plan_offer")
    contact = claimed(campaign)

    assert sender.send(campaign, contact) == "blocked"

    assert texts_to(carrier, contact.phone) == []
    after = stored(contact)
    assert (after.status, after.disposition, after.outcome) == ("done", "blocked", "no_consent")


def test_a_number_twilio_knows_opted_out_joins_our_list_everywhere(client, carrier, sender):
    campaign = new_campaign()
    contact = claimed(campaign)
    carrier.opt_out(contact.phone)  # replied STOP to Twilio before our list knew

    assert sender.send(campaign, contact) == "opted_out"

    assert optouts.is_opted_out(contact.phone)
    assert root().compliance.blocked(contact.phone, "voice") == ("opted_out",)
    after = stored(contact)
    assert (after.status, after.disposition, after.attempts) == ("done", "opted_out", 1)
    # another campaign's contact with that number is refused by the gate, not by Twilio
    another = new_campaign()
    other = claimed(another, contact.phone)
    assert sender.send(another, other) == "opted_out"
    assert stored(other).attempts == 0


def test_a_number_that_cannot_take_texts_ends_the_contact(client, carrier, sender):
    campaign = new_campaign()
    contact = claimed(campaign, "+14155")  # Twilio: 21211, not a valid phone number

    assert sender.send(campaign, contact) == "invalid"

    after = stored(contact)
    assert (after.status, after.disposition, after.attempts) == ("done", "invalid_number", 1)
    assert after.history[-1]["error_code"] == 21211


def test_an_expired_claim_is_not_sent(client, clock, carrier, sender):
    campaign = new_campaign()
    contact = claimed(campaign)
    clock.now = contact.dial_by + timedelta(seconds=1)

    assert sender.send(campaign, contact) == "expired"

    assert texts_to(carrier, contact.phone) == []
    after = stored(contact)
    assert (after.status, after.due_at, after.attempts) == (WAITING, clock.now, 0)


# ---- what comes back ------------------------------------------------------------------------


def test_delivery_statuses_reach_the_contact(client, carrier, sender):
    campaign = new_campaign()
    delivered, lost = claimed(campaign), claimed(campaign)
    assert sender.send(campaign, delivered) == sender.send(campaign, lost) == "sent"

    carrier.run_pending()  # the carrier posts sent, then delivered, for both
    assert stored(delivered).disposition == stored(lost).disposition == "delivered"
    # a late "undelivered" does not undo "delivered" (one message gets one final status)
    status_callback(client, stored(lost).call_sid, "undelivered", ErrorCode="30003")
    assert stored(lost).disposition == "delivered"

    other = claimed(campaign)
    assert sender.send(campaign, other) == "sent"
    sid = stored(other).call_sid
    status_callback(client, sid, "sent")
    assert stored(other).disposition == "sent"
    status_callback(client, sid, "undelivered", ErrorCode="30003")
    after = stored(other)
    assert (after.disposition, after.outcome) == ("undelivered", "undelivered")
    assert after.history[-1]["error_code"] == "30003"
    totals = store.totals(campaign.campaign_id)
    assert (totals["disposition_delivered"], totals["disposition_undelivered"]) == (2, 1)


def test_a_reply_is_recorded_once_and_read_as_a_choice(client, carrier, sender):
    campaign = new_campaign()
    contact = claimed(campaign, language="zh-CN")
    assert sender.send(campaign, contact) == "sent"

    first = "SM" + uuid.uuid4().hex
    assert text_back(client, contact.phone, "１", first) is None  # a full-width 1
    after = stored(contact)
    assert (after.status, after.disposition) == ("done", "replied")
    assert after.answers == {"reply": "１", "choice": "confirmed"}
    assert tickets.get_ticket(ticket_id_for(first, TEST_TOKEN)) is None  # nobody need read it

    # they change their mind; then Twilio retries the first webhook: the later answer stands
    text_back(client, contact.phone, "改期")
    text_back(client, contact.phone, "１", first)
    assert stored(contact).answers == {"reply": "改期", "choice": "reschedule"}
    # a delivery status arriving after the reply does not undo it
    status_callback(client, stored(contact).call_sid, "delivered")
    assert stored(contact).disposition == "replied"
    assert store.totals(campaign.campaign_id).get("disposition_replied") == 1


def test_a_free_text_reply_is_recorded_and_still_reaches_people(client, carrier, sender):
    campaign = new_campaign(template="outage_notice")
    contact = claimed(campaign)
    assert sender.send(campaign, contact) == "sent"

    sid = "SM" + uuid.uuid4().hex
    text_back(client, contact.phone, "Will the fridge be OK?", sid)

    assert stored(contact).answers == {"reply": "Will the fridge be OK?"}
    assert stored(contact).disposition == "replied"
    assert tickets.get_ticket(ticket_id_for(sid, TEST_TOKEN)) is not None


def test_only_a_recent_text_to_that_number_makes_a_reply(client, clock, carrier, sender):
    campaign = new_campaign()
    contact = claimed(campaign)
    assert sender.send(campaign, contact) == "sent"

    text_back(client, contact.phone, "1", to="+14155550199")  # to another of our numbers
    assert stored(contact).disposition == "sent"
    clock.now = OPEN_HOURS + campaign_texts.REPLY_WINDOW + timedelta(minutes=1)
    text_back(client, contact.phone, "1")  # a week later: an ordinary text
    assert stored(contact).disposition == "sent"


def test_stop_ends_the_campaign_contact_and_every_contact_after(client, carrier, sender):
    campaign = new_campaign()
    contact = claimed(campaign)
    assert sender.send(campaign, contact) == "sent"

    assert text_back(client, contact.phone, "STOP") is None  # Twilio confirms its own keyword

    after = stored(contact)
    assert (after.status, after.disposition) == ("done", "opted_out")
    assert optouts.is_opted_out(contact.phone)
    another = new_campaign()
    later = claimed(another, contact.phone)
    assert sender.send(another, later) == "opted_out"
    assert len(texts_to(carrier, contact.phone)) == 1


@pytest.fixture
def twilio_unreachable(client):
    """Twilio's REST API does not answer (nothing listens where it points)."""
    from chalicelib.settings import get_settings
    from chalicelib.telephony import rest

    settings = get_settings()
    previous, settings.twilio_api_base = settings.twilio_api_base, "http://127.0.0.1:9"
    rest.reset_client()
    yield
    settings.twilio_api_base = previous
    rest.reset_client()


def test_a_text_twilio_does_not_take_is_retried_under_the_failed_rule(client, clock, sender,
                                                                      twilio_unreachable):
    campaign = new_campaign()  # failed: again after an hour, 2 attempts in all
    contact = claimed(campaign)

    assert sender.send(campaign, contact) == "failed"
    waiting = stored(contact)
    assert (waiting.status, waiting.attempts, waiting.due_at) == (
        WAITING, 1, OPEN_HOURS + timedelta(hours=1))

    clock.now = waiting.due_at
    again = store.change_contact(waiting, clock.now, status=DIALING,
                                 dial_by=clock.now + DIAL_EXPIRY)
    assert sender.send(campaign, again) == "failed"  # the second attempt, under its own key
    after = stored(contact)
    assert (after.status, after.disposition, after.attempts) == ("done", "failed", 2)
    # each attempt went under its own key; neither can go again
    assert [messages.get_message(replace(contact, attempts=n).attempt_key).status
            for n in (1, 2)] == ["failed", "failed"]


def test_the_check_before_a_text_skips_or_refreshes_it(client, carrier, sender):
    """Right before each text the campaign's check may end the contact (paid meanwhile) or give
    fresh values for the template (a rescheduled appointment)."""
    from chalicelib.campaigns.checks import Verdict

    campaign = new_campaign()
    skipped = claimed(campaign, name="Ada", attributes={"appointment": "Tue 1 Dec 10:00"})
    fresh = claimed(campaign, name="Bo", attributes={"appointment": "Tue 1 Dec 10:00"})

    class Check:
        def before_contact(self, campaign, contact, now):
            if contact.phone == skipped.phone:
                return Verdict(skip="paid")
            return Verdict(attributes={"appointment": "Wed 2 Dec 09:30"})

    sender.check = Check()
    assert sender.send(campaign, skipped) == "skipped"
    assert texts_to(carrier, skipped.phone) == []
    assert stored(skipped).disposition == "paid"
    assert sender.send(campaign, fresh) == "sent"
    [message] = texts_to(carrier, fresh.phone)
    assert "Wed 2 Dec 09:30" in message["body"]


def test_campaigns_sharing_the_rate_all_get_their_turn(client, clock, carrier, monkeypatch):
    """Three one-contact campaigns and a four-contact one share two texts a round: ties are
    taken in turn and a campaign with nobody left steps aside, so every contact is texted
    within the tick (three of them once starved behind the first two by name)."""
    from chalicelib.settings import get_settings
    from chalicelib.wiring import Root, install

    monkeypatch.setattr(get_settings(), "outbound_texts_per_second", 1.0)
    clock.now = OPEN_HOURS

    def sleep(seconds):
        clock.now += timedelta(seconds=seconds)

    phones = []
    for size in (1, 1, 1, 4):
        campaign = new_campaign(load_done=True, loaded=size)
        store.add_totals(campaign.campaign_id, {"status_waiting": size})
        for _ in range(size):
            contact = CampaignContact(campaign.campaign_id, number(), due_at=clock.now,
                                      updated_at=clock.now)
            assert store.add_contact(contact)
            phones.append(contact.phone)
    previous = install(Root(clock=clock, sleep=sleep))
    try:
        root().campaigns.tick(seconds=20)
    finally:
        install(previous)
    assert {phone: len(texts_to(carrier, phone)) for phone in phones} == \
        {phone: 1 for phone in phones}
