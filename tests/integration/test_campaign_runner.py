"""The run_campaigns job and campaign calls: contacts claimed from the due index and dialled
under the account's calls per second, the gate before every dial, answers and final statuses
applied once, retries by outcome, Twilio's refusals, pause within a round, and no contact
dialled twice by runs racing.

DynamoDB Local holds the state; Twilio's REST edge is faked (the calls we would place are
recorded); Twilio's webhooks are posted signed by the test; time is a settable clock that the
runner's waits move on.
"""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.campaigns import loader
from chalicelib.campaigns.campaign import (
    AGENTLESS,
    PREDICTIVE,
    PROGRESSIVE,
    RUNNING,
    Campaign,
    transition,
)
from chalicelib.campaigns.checks import Verdict
from chalicelib.campaigns.contact import (
    ABANDONED,
    ANSWERED,
    CALLING,
    DIALING,
    DONE,
    INVALID_NUMBER,
    OPTED_OUT,
    WAITING,
)
from chalicelib.campaigns.model import ContactList, ListRow
from chalicelib.settings import get_settings
from chalicelib.store import campaigns as store
from chalicelib.store import compliance as compliance_store
from chalicelib.store import contact_lists
from chalicelib.wiring import Root, install
from tests.integration.conftest import signed_post
from tests.support import PUBLIC_BASE_URL, Clock, FakeTwilio

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # noon in San Francisco, 15:00 in New York
CALLER_ID = "+14155550100"


class TwilioError(Exception):
    def __init__(self, code: int, status: int = 400):
        super().__init__(f"twilio {code}")
        self.code, self.status = code, status


class FakeSeats:
    """Agents on open lines: ``ready`` of them; ``bridge`` takes one."""

    def __init__(self, ready: int = 0):
        self.ready, self.bridged, self.left = ready, [], []
        self.lock = threading.Lock()

    def ready_count(self, campaign_id, now):
        return self.ready

    def occupancy(self, campaign_id, now):
        return self.ready, len(self.bridged) - len(self.left)

    def bridge(self, campaign, contact, call_sid, now):
        with self.lock:
            if self.ready <= 0:
                return None
            self.ready -= 1
            self.bridged.append(call_sid)
        return "<Response><Dial><Conference>seat</Conference></Dial></Response>"

    def customer_left(self, campaign_id, call_sid, now):
        self.left.append(call_sid)

    def preview_round(self, campaign, claim, now):
        return 0


@pytest.fixture
def world(client):
    clock = Clock(NOW)

    def sleep(seconds):
        clock.now += timedelta(seconds=seconds)

    edge = FakeTwilio()
    parts = Root(clock=clock, connector=edge, sleep=sleep)
    seats = FakeSeats()
    parts.__dict__["seats"] = seats
    previous = install(parts)
    settings = get_settings()
    saved = settings.outbound_cps
    yield client, clock, edge, parts, seats
    settings.outbound_cps = saved
    install(previous)


def numbers(count: int) -> list[str]:
    base = uuid.uuid4().int % 900 + 100
    return [f"+1415{base:03d}{n:04d}" for n in range(count)]


def make_campaign(phones, kind=AGENTLESS, **fields) -> Campaign:
    list_id = "lst_" + uuid.uuid4().hex[:10]
    contact_lists.create_list(ContactList(list_id, "test", "US", NOW, "America/Los_Angeles"))
    for line, phone in enumerate(phones, start=2):
        contact_lists.add_row(list_id, ListRow(phone=phone, chunk=0, line=line, name="Ada",
                                               attributes={"account": str(line)}))
    campaign = Campaign(campaign_id="cmp_" + uuid.uuid4().hex[:12], name="Outage notice",
                        kind=kind, purpose="informational", list_id=list_id,
                        caller_id=CALLER_ID, created_at=NOW, flow_id="main",
                        fallback_tz="America/Los_Angeles", **fields)
    assert store.create(campaign)
    running = store.save(transition(campaign, "start", NOW), campaign.version)
    assert running is not None and running.status == RUNNING
    return running


def hook(client, url, **params):
    response = signed_post(client, url.removeprefix(PUBLIC_BASE_URL),
                           {"From": CALLER_ID, "Direction": "outbound-api", **params})
    assert response.status_code == 200, response.body
    return response.body.decode()


def placed_to(edge, phone):
    return [call for call in edge.placed if call["to"] == phone]


def test_a_tick_loads_the_list_and_dials_under_the_calls_per_second(world):
    client, clock, edge, parts, _ = world
    phones = numbers(12)
    campaign = make_campaign(phones)
    result = parts.campaigns.tick(seconds=6)
    assert result["placed"] == len(edge.placed) > 0
    elapsed = (clock.now - NOW).total_seconds()
    assert len(edge.placed) <= elapsed + 1  # one call per second (the default CPS)
    assert len({call["to"] for call in edge.placed}) == len(edge.placed)
    call = edge.placed[0]
    assert call["from"] == CALLER_ID and call["amd"] == "Enable" and call["ring_seconds"] == 30
    contact = store.get_contact(campaign.campaign_id, call["to"])
    assert contact.status == CALLING and contact.attempts == 1 and contact.call_sid == call["sid"]
    assert store.get(campaign.campaign_id).loaded == 12
    assert store.ringing(campaign.campaign_id) == len(edge.placed)


def test_an_answered_agentless_call_runs_the_flow_and_counts_once(world):
    client, clock, edge, parts, _ = world
    phone = numbers(1)[0]
    campaign = make_campaign([phone])
    parts.campaigns.tick(seconds=1)
    call = placed_to(edge, phone)[0]
    twiml = hook(client, call["url"], CallSid=call["sid"], To=phone, CallStatus="in-progress",
                 AnsweredBy="human")
    assert "<Gather" in twiml or "<Say" in twiml
    for _ in range(2):  # Twilio retries the status callback
        hook(client, call["status_callback"].split("#")[0], CallSid=call["sid"], To=phone,
             CallStatus="completed", CallDuration="40", AnsweredBy="human")
    contact = store.get_contact(campaign.campaign_id, phone)
    assert contact.status == DONE and contact.disposition == ANSWERED
    figures = store.figures_since(campaign.campaign_id, NOW - timedelta(hours=1))
    assert figures["dials"] == 1 and figures["live_answers"] == 1
    assert store.ringing(campaign.campaign_id) == 0
    totals = store.totals(campaign.campaign_id)
    assert totals["disposition_answered"] == 1 and totals["status_done"] == 1


def test_busy_and_machine_are_retried_by_the_campaign_rule(world):
    client, clock, edge, parts, _ = world
    busy, machine = numbers(2)
    campaign = make_campaign([busy, machine])
    parts.campaigns.tick(seconds=3)
    first = placed_to(edge, busy)[0]
    hook(client, first["status_callback"].split("#")[0], CallSid=first["sid"], To=busy,
         CallStatus="busy")
    contact = store.get_contact(campaign.campaign_id, busy)
    assert contact.status == WAITING and contact.attempts == 1
    assert contact.due_at == clock.now + timedelta(seconds=1800)
    second = placed_to(edge, machine)[0]
    assert hook(client, second["url"], CallSid=second["sid"], To=machine,
                CallStatus="in-progress", AnsweredBy="machine_start").count("<Hangup") == 1
    hook(client, second["status_callback"].split("#")[0], CallSid=second["sid"], To=machine,
         CallStatus="completed", AnsweredBy="machine_start")
    contact = store.get_contact(campaign.campaign_id, machine)
    assert contact.status == WAITING and contact.outcome == "machine"
    # not due yet: nothing more is dialled
    parts.campaigns.tick(seconds=2)
    assert len(edge.placed) == 2
    clock.now += timedelta(hours=5)
    parts.campaigns.tick(seconds=3)
    assert len(placed_to(edge, busy)) == 2 and len(placed_to(edge, machine)) == 2


def test_agentless_calls_detect_machines_without_keeping_people_waiting(world):
    client, clock, edge, parts, _ = world
    phone = numbers(1)[0]
    campaign = make_campaign([phone])
    parts.campaigns.tick(seconds=1)
    call = placed_to(edge, phone)[0]
    assert call["amd_callback"].endswith("/1/amd")  # asynchronous: the flow starts at once
    assert "<Say" in hook(client, call["url"], CallSid=call["sid"], To=phone,
                          CallStatus="in-progress")
    for _ in range(2):  # the verdict, retried
        hook(client, call["amd_callback"].split("#")[0], CallSid=call["sid"], To=phone,
             AnsweredBy="machine_start", MachineDetectionDuration="2100")
    assert "<Hangup" in edge.twiml[call["sid"]]
    hook(client, call["status_callback"].split("#")[0], CallSid=call["sid"], To=phone,
         CallStatus="completed", AnsweredBy="machine_start")
    contact = store.get_contact(campaign.campaign_id, phone)
    assert contact.status == WAITING and contact.outcome == "machine"
    figures = store.figures_since(campaign.campaign_id, NOW - timedelta(hours=1))
    assert figures["machine_answers"] == 1 and figures["live_answers"] == 0


def test_a_machine_gets_the_templated_message_after_the_beep(world):
    client, clock, edge, parts, _ = world
    phone = numbers(1)[0]
    campaign = make_campaign([phone], machine="message", machine_template="abandon")
    parts.campaigns.tick(seconds=1)
    call = placed_to(edge, phone)[0]
    assert call["amd"] == "DetectMessageEnd" and call["amd_callback"] is None
    twiml = hook(client, call["url"], CallSid=call["sid"], To=phone, CallStatus="in-progress",
                 AnsweredBy="machine_end_beep")
    assert "Outage notice" in twiml and "<Hangup" in twiml
    hook(client, call["status_callback"].split("#")[0], CallSid=call["sid"], To=phone,
         CallStatus="completed", AnsweredBy="machine_end_beep")
    assert store.get_contact(campaign.campaign_id, phone).disposition == "message_left"


def test_a_paused_campaign_places_nothing_more(world):
    client, clock, edge, parts, _ = world
    campaign = make_campaign(numbers(20))
    parts.campaigns.tick(seconds=2)
    dialled = len(edge.placed)
    current = store.get(campaign.campaign_id)
    assert store.save(transition(current, "pause", clock.now), current.version)
    parts.campaigns.tick(seconds=10)
    assert len(edge.placed) == dialled
    current = store.get(campaign.campaign_id)
    store.save(transition(current, "resume", clock.now), current.version)
    parts.campaigns.tick(seconds=4)
    assert len(edge.placed) > dialled


def test_ticks_racing_never_dial_a_contact_twice(world):
    client, clock, edge, parts, _ = world
    get_settings().outbound_cps = 50
    campaign = make_campaign(numbers(60))
    parts.campaigns.tick(seconds=0)  # loads the list

    def run():
        Root(clock=clock, connector=edge, sleep=lambda s: None).campaigns.tick(seconds=0)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = Counter(call["to"] for call in edge.placed)
    assert counts and max(counts.values()) == 1
    calling = [c for c in store.contacts(campaign.campaign_id) if c.status == CALLING]
    assert len(calling) == len(edge.placed)


def test_a_dial_request_past_its_expiry_is_dropped_not_dialled_late(world):
    client, clock, edge, parts, _ = world
    phone = numbers(1)[0]
    campaign = make_campaign([phone])
    loader.load_page(campaign, clock.now)
    contact = store.get_contact(campaign.campaign_id, phone)
    claimed = store.change_contact(contact, clock.now, status=DIALING,
                                   dial_by=clock.now - timedelta(seconds=1))
    assert parts.dialer.place(store.get(campaign.campaign_id), claimed) == "expired"
    assert edge.placed == []
    assert store.get_contact(campaign.campaign_id, phone).status == WAITING


def test_the_gate_defers_a_contact_outside_its_calling_window(world):
    client, clock, edge, parts, _ = world
    clock.now = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 22:00 in San Francisco
    phone = numbers(1)[0]
    campaign = make_campaign([phone])
    parts.campaigns.tick(seconds=2)
    assert edge.placed == []
    contact = store.get_contact(campaign.campaign_id, phone)
    assert contact.status == WAITING and contact.attempts == 0
    assert contact.due_at == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 08:00 there


def test_do_not_call_and_twilio_refusals_end_the_contact(world):
    client, clock, edge, parts, _ = world
    dnc, invalid, throttled = numbers(3)
    compliance_store.add_do_not_call(dnc, "all", "test", NOW)
    edge.fail_for[invalid] = TwilioError(21211)
    edge.fail_for[throttled] = TwilioError(20429, 429)
    campaign = make_campaign([dnc, invalid, throttled])
    parts.campaigns.tick(seconds=4)
    assert store.get_contact(campaign.campaign_id, invalid).disposition == INVALID_NUMBER
    blocked = store.get_contact(campaign.campaign_id, dnc)
    assert blocked.status == DONE and blocked.disposition == "blocked"
    waiting = store.get_contact(campaign.campaign_id, throttled)
    assert waiting.status == WAITING and waiting.attempts == 0
    edge.fail_for[throttled] = TwilioError(21610)
    clock.now += timedelta(minutes=1)
    parts.campaigns.tick(seconds=2)
    assert store.get_contact(campaign.campaign_id, throttled).disposition == OPTED_OUT
    assert parts.compliance.blocked(throttled, "voice")


def test_a_person_with_no_free_agent_hears_the_abandon_message_and_counts(world):
    client, clock, edge, parts, seats = world
    phone = numbers(1)[0]
    campaign = make_campaign([phone], kind=PREDICTIVE)
    seats.ready = 1
    parts.campaigns.tick(seconds=1)
    call = placed_to(edge, phone)[0]
    seats.ready = 0
    twiml = hook(client, call["url"], CallSid=call["sid"], To=phone, CallStatus="in-progress",
                 AnsweredBy="human")
    assert "To reach us, call" in twiml and "STOP" in twiml and "<Hangup" in twiml
    hook(client, call["url"], CallSid=call["sid"], To=phone, CallStatus="in-progress",
         AnsweredBy="human")  # a retried answer webhook counts nothing more
    hook(client, call["status_callback"].split("#")[0], CallSid=call["sid"], To=phone,
         CallStatus="completed", AnsweredBy="human")
    contact = store.get_contact(campaign.campaign_id, phone)
    assert contact.disposition == ABANDONED
    figures = store.figures_since(campaign.campaign_id, NOW - timedelta(hours=1))
    assert figures["abandoned"] == 1 and figures["live_answers"] == 1
    # the gate holds the number for 72 h unless an agent is reserved
    decision = parts.compliance.check(phone, "voice", "informational", caller_id=CALLER_ID)
    assert not decision.allowed and "abandoned_recently" in decision.reasons


def test_an_answered_predictive_call_is_bridged_to_a_ready_agent(world):
    client, clock, edge, parts, seats = world
    phone = numbers(1)[0]
    campaign = make_campaign([phone], kind=PREDICTIVE)
    seats.ready = 1
    parts.campaigns.tick(seconds=1)
    call = placed_to(edge, phone)[0]
    twiml = hook(client, call["url"], CallSid=call["sid"], To=phone, CallStatus="in-progress",
                 AnsweredBy="human")
    assert "<Conference>" in twiml and seats.bridged == [call["sid"]]
    hook(client, call["status_callback"].split("#")[0], CallSid=call["sid"], To=phone,
         CallStatus="completed", CallDuration="95")
    assert seats.left == [call["sid"]]
    assert store.get_contact(campaign.campaign_id, phone).disposition == ANSWERED
    figures = store.figures_since(campaign.campaign_id, NOW - timedelta(hours=1))
    assert (figures["talk_seconds"], figures["talks"], figures["answers_timed"]) == (95, 1, 1)
    assert store.pace(campaign.campaign_id)["mode"] in ("progressive", "predictive")


def test_predictive_with_no_agent_dials_nobody(world):
    client, clock, edge, parts, seats = world
    make_campaign(numbers(5), kind=PREDICTIVE)
    parts.campaigns.tick(seconds=4)
    assert edge.placed == []


def test_unknown_campaign_call_hangs_up_and_bad_steps_are_refused(world):
    client, *_ = world
    body = hook(client, f"{PUBLIC_BASE_URL}/twilio/campaigns/cmp_nope/calls/14155550123/1/answer",
                CallSid="CA" + "0" * 32, To="+14155550123", CallStatus="in-progress")
    assert "<Hangup" in body
    response = signed_post(client, "/twilio/campaigns/cmp_nope/calls/14155550123/0/answer",
                           {"CallSid": "CA" + "0" * 32})
    assert response.status_code == 404
    ET.fromstring(body)


def test_a_campaign_past_its_end_completes(world):
    client, clock, edge, parts, _ = world
    campaign = make_campaign(numbers(3))
    current = store.get(campaign.campaign_id)
    store.save(replace(current, ends_at=clock.now - timedelta(minutes=1)), current.version)
    parts.campaigns.tick(seconds=2)
    assert store.get(campaign.campaign_id).status == "completed"
    assert edge.placed == []


def test_a_final_status_racing_the_dialers_own_write_is_applied(world, monkeypatch):
    """Twilio's status callback read the contact while the dialler was marking it called (a
    busy line ends at once): the outcome is read again and applied, never lost."""
    client, clock, edge, parts, _ = world
    phone = numbers(1)[0]
    campaign = make_campaign([phone])
    loader.load_page(campaign, clock.now)
    contact = store.get_contact(campaign.campaign_id, phone)
    claimed = store.change_contact(contact, clock.now, status=DIALING,
                                   dial_by=clock.now + timedelta(minutes=2))
    sid = "CA" + uuid.uuid4().hex
    original = store.change_contact
    raced = []

    def racing(current, now, **changes):
        if changes.get("status") != CALLING and not raced:  # the status webhook's write...
            raced.append(True)  # ...loses to the dialler, which wrote just before it
            assert original(claimed, now, status=CALLING, attempts=1, call_sid=sid)
        return original(current, now, **changes)

    monkeypatch.setattr(store, "change_contact", racing)
    base = f"{PUBLIC_BASE_URL}/twilio/campaigns/{campaign.campaign_id}/calls/{phone[1:]}/1"
    hook(client, base + "/status", CallSid=sid, To=phone, CallStatus="busy")
    settled = store.get_contact(campaign.campaign_id, phone)
    assert raced and settled.status == WAITING and settled.outcome == "busy"
    assert settled.attempts == 1


def test_a_claim_left_by_a_run_that_died_is_taken_over_without_a_second_dial(world):
    client, clock, edge, parts, _ = world
    untouched, dialled = numbers(2)
    campaign = make_campaign([untouched, dialled])
    loader.load_page(campaign, clock.now)
    claims_made = {}
    for phone in (untouched, dialled):
        contact = store.get_contact(campaign.campaign_id, phone)
        claims_made[phone] = store.change_contact(contact, clock.now, status=DIALING,
                                                  dial_by=clock.now + timedelta(minutes=2))
    # the run that claimed ``dialled`` took its dial key and placed the call, then died
    from chalicelib.campaigns.recovery import dial_key
    from chalicelib.store import claims

    assert claims.claim(dial_key(claims_made[dialled]), clock.now)
    clock.now += timedelta(minutes=2, seconds=30)
    parts.campaigns.tick(seconds=0)  # not yet stale: nothing happens to them
    assert store.get_contact(campaign.campaign_id, untouched).status == DIALING
    clock.now += timedelta(minutes=1)
    result = parts.campaigns.tick(seconds=2)
    assert result["stale_released"] == 1 and result["stale_adopted"] == 1
    adopted = store.get_contact(campaign.campaign_id, dialled)
    assert adopted.status == CALLING and adopted.attempts == 1 and adopted.call_sid is None
    assert placed_to(edge, dialled) == []  # never dialled a second time
    assert len(placed_to(edge, untouched)) == 1  # released, then dialled once
    # the dead run's slow sibling can no longer dial the claim the job took over
    assert parts.dialer.place(store.get(campaign.campaign_id), claims_made[untouched]) \
        == "expired"
    assert len(placed_to(edge, untouched)) == 1
    # the adopted call's status still settles it, by its attempt number
    base = f"{PUBLIC_BASE_URL}/twilio/campaigns/{campaign.campaign_id}/calls/{dialled[1:]}/1"
    hook(client, base + "/status", CallSid="CA" + uuid.uuid4().hex, To=dialled,
         CallStatus="no-answer")
    assert store.get_contact(campaign.campaign_id, dialled).outcome == "no_answer"


def test_a_call_whose_final_status_was_lost_is_asked_of_twilio(world):
    client, clock, edge, parts, _ = world
    live, ended, unknown = numbers(3)
    campaign = make_campaign([live, ended, unknown])
    parts.campaigns.tick(seconds=3)
    sids = {phone: placed_to(edge, phone)[0]["sid"] for phone in (live, ended, unknown)}
    edge.states[sids[live]] = ("in-progress", 0)
    edge.states[sids[ended]] = ("busy", 0)
    clock.now += timedelta(hours=4, minutes=1)
    result = parts.campaigns.tick(seconds=4)  # a round reads as many as it may dial: 2
    assert (result["call_still_live"], result["call_reconciled"], result["call_failed"]) \
        == (1, 1, 1)
    assert store.get_contact(campaign.campaign_id, live).status == CALLING
    assert store.get_contact(campaign.campaign_id, ended).outcome == "busy"
    failed = store.get_contact(campaign.campaign_id, unknown)
    assert failed.status == WAITING and failed.outcome == "failed"


def test_a_progressive_campaign_dials_one_number_per_free_agent(world):
    client, clock, edge, parts, seats = world
    get_settings().outbound_cps = 20
    campaign = make_campaign(numbers(10), kind=PROGRESSIVE)
    seats.ready = 3
    parts.campaigns.tick(seconds=0)
    assert len(edge.placed) == 3  # three agents free, nothing ringing yet
    parts.campaigns.tick(seconds=0)
    assert len(edge.placed) == 3  # the three still ring: no agent is free for a fourth
    assert store.pace(campaign.campaign_id)["mode"] == "progressive"


def test_a_contact_no_longer_wanted_is_ended_before_the_call(world):
    """The campaign's check runs right before each dial (a bill paid while the run goes on)."""
    client, clock, edge, parts, _ = world
    paid, owing = numbers(2)
    campaign = make_campaign([paid, owing])

    class PaidMeanwhile:
        def before_contact(self, campaign, contact, now):
            return Verdict(skip="paid" if contact.phone == paid else None)

    parts.dialer.check = PaidMeanwhile()
    result = parts.campaigns.tick(seconds=3)
    assert result["skipped"] == 1 and result["placed"] == 1
    assert placed_to(edge, paid) == [] and len(placed_to(edge, owing)) == 1
    ended = store.get_contact(campaign.campaign_id, paid)
    assert ended.status == DONE and ended.disposition == "paid" and ended.attempts == 0


def test_a_bill_paid_while_the_reminder_run_goes_on_gets_no_call(world):
    """Stop when paid: a reminder campaign's contacts carry their account; a payment recorded
    between the claim and the dial ends the contact as ``paid`` and nobody is called."""
    from datetime import date

    from chalicelib.reminders.model import BillingAccount, Payment
    from chalicelib.store import billing

    client, clock, edge, parts, _ = world
    paid_phone, owing_phone = numbers(2)
    ids = {}
    for phone in (paid_phone, owing_phone):
        ids[phone] = "ACC-" + uuid.uuid4().hex[:8]
        billing.upsert_account(BillingAccount(
            account_id=ids[phone], holder="Ada", phones=(phone,), amount_due=4217,
            due_date=date(2026, 11, 20), timezone="America/Los_Angeles"), "v1", now=NOW)
    list_id = "lst_" + uuid.uuid4().hex[:10]
    contact_lists.create_list(ContactList(list_id, "bills", "US", NOW, "America/Los_Angeles"))
    for line, phone in enumerate((paid_phone, owing_phone), start=2):
        contact_lists.add_row(list_id, ListRow(phone=phone, chunk=0, line=line,
                                               attributes={"account_id": ids[phone]}))
    campaign = Campaign(campaign_id="cmp_" + uuid.uuid4().hex[:12], name="Bills",
                        kind=AGENTLESS, purpose="collections", list_id=list_id,
                        caller_id=CALLER_ID, created_at=NOW, flow_id="main",
                        fallback_tz="America/Los_Angeles")
    store.create(campaign)
    store.save(transition(campaign, "start", NOW), campaign.version)
    loader.load_page(store.get(campaign.campaign_id), clock.now)
    billing.record_payment(Payment(payment_id="PAY-" + uuid.uuid4().hex[:8],
                                   account_id=ids[paid_phone], amount=4217, currency="USD",
                                   source="billing", at=clock.now))
    result = parts.campaigns.tick(seconds=3)
    assert result["skipped"] == 1 and result["placed"] == 1
    assert placed_to(edge, paid_phone) == [] and len(placed_to(edge, owing_phone)) == 1
    assert store.get_contact(campaign.campaign_id, paid_phone).disposition == "paid"
    # the account's reminder history shows the run and why it ended
    import json as _json

    history = _json.loads(client.http.get(f"/accounts/{ids[paid_phone]}").body)["reminders"]
    assert [(r["campaign_id"], r["disposition"]) for r in history] == [
        (campaign.campaign_id, "paid")]
