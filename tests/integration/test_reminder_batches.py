"""Reminder batches end to end: a segment of billing accounts previewed, sent as a campaign,
texted by the campaign job through the carrier emulator (the BillCheck re-reads each account
right before its text), and the batch's results (who paid since). DynamoDB Local holds the
state; time is a settable clock the job's waits move on."""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.reminders.model import BillingAccount, Payment
from chalicelib.store import billing
from chalicelib.store import campaigns as store
from chalicelib.wiring import Root, install

HOTLINE = "+14155550100"
NOON_SF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # 15:00 in New York: texts may go
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def world(carrier, clock):
    clock.now = NOON_SF

    def sleep(seconds):
        clock.now += timedelta(seconds=seconds)

    parts = Root(clock=clock, sleep=sleep)
    previous = install(parts)
    yield carrier, clock, parts
    install(previous)


def number() -> str:
    return "+1212" + str(random.randint(2, 9)) + f"{random.randrange(10**6):06d}"


def a_day() -> date:
    """A due date of its own (tests share one DynamoDB Local): the segments select by it."""
    return date(2024, 1, 1) + timedelta(days=random.randrange(600))


def account(due: date | None, *, amount: int = 4217, currency: str = "USD",
            language: str = "en-US", phones: tuple[str, ...] | None = None,
            holder: str = "Ada Lovelace") -> BillingAccount:
    stored, _ = billing.upsert_account(BillingAccount(
        account_id="ACC-" + uuid.uuid4().hex[:10], holder=holder,
        phones=phones if phones is not None else (number(),), language=language,
        timezone="America/New_York", currency=currency, amount_due=amount, due_date=due),
        "v1", now=NOON_SF)
    return stored


def post(client, path: str, body: dict):
    response = client.http.post(path, headers=JSON, body=json.dumps(body))
    return response.status_code, json.loads(response.body)


def batch_body(day: date, **change) -> dict:
    return {"segment": {"status": "overdue", "due_from": day.isoformat(),
                        "due_to": day.isoformat()},
            "channel": "sms", "template": "reminder_overdue", "caller_id": HOTLINE, **change}


def pay(account_id: str, amount: int, at: datetime, currency: str = "USD") -> None:
    billing.record_payment(Payment("pay-" + uuid.uuid4().hex[:10], account_id, amount,
                                   currency, "billing", at))


def test_a_preview_counts_refuses_with_reasons_and_writes_nothing(world, client):
    day = a_day()
    ready = [account(day), account(day, language="zh-CN", currency="CNY", amount=12800)]
    promised = account(day)
    billing.set_promise(promised.account_id, date(2026, 12, 1), promised.version)
    account(day, phones=(ready[0].phones[0],))  # the same number as another account
    before = len(store.all_campaigns())

    status, body = post(client, "/reminder-batches?preview=true", batch_body(day))

    assert status == 200, body
    assert body["accounts"] == 2
    assert body["refused"] == {"promised": 1, "duplicate_phone": 1}
    by_id = {s["account_id"]: s for s in body["samples"]}
    # one of the two accounts with ready[0]'s number is reached (one contact per number)
    same_number = [by_id[a] for a in by_id if a != ready[1].account_id]
    assert [s["amount"] for s in same_number] == ["$42.17"]
    assert by_id[ready[1].account_id]["amount"] == "¥128.00"
    assert by_id[ready[1].account_id]["due_date"] == day.isoformat()
    assert len(store.all_campaigns()) == before  # nothing written
    status, body = post(client, "/reminder-batches", batch_body(day, preview=True))
    assert (status, body["accounts"]) == (200, 2)


def test_a_batch_texts_each_account_its_amount_and_a_payment_stops_it(world, client):
    carrier, clock, parts = world
    day = a_day()
    ada = account(day)
    wang = account(day, language="zh-CN", currency="CNY", amount=12800, holder="王芳")
    payer = account(day, amount=5000)
    account(day + timedelta(days=1))  # outside the segment

    status, body = post(client, "/reminder-batches", batch_body(day))

    assert status == 201, body
    batch_id = body["batch_id"]
    assert body["accounts"] == 3 and body["refused"] == {}
    campaign = body["campaign"]
    assert (campaign["purpose"], campaign["status"], campaign["list_id"]) == (
        "collections", "running", f"batch:{batch_id}")
    contacts = {c.attributes["account_id"]: c for c in store.contacts(batch_id)}
    assert set(contacts) == {ada.account_id, wang.account_id, payer.account_id}
    assert contacts[wang.account_id].attributes == {
        "account_id": wang.account_id, "holder": "王芳", "amount_due": "12800",
        "currency": "CNY", "due_date": day.isoformat()}
    assert contacts[wang.account_id].phone == wang.phones[0]

    clock.now += timedelta(minutes=5)
    pay(payer.account_id, 5000, clock.now)  # paid after the batch, before its text
    pay(ada.account_id, 1000, clock.now)  # a part: the text says what is left
    parts.campaigns.tick(seconds=10)

    texts = {m["to"]: m["body"] for m in carrier.messages}
    assert "$32.17" in texts[ada.phones[0]] and "Reply STOP" in texts[ada.phones[0]]
    assert "¥128.00" in texts[wang.phones[0]] and "回复TD退订" in texts[wang.phones[0]]
    assert payer.phones[0] not in texts
    paid = store.get_contact(batch_id, payer.phones[0])
    assert (paid.status, paid.disposition) == ("done", "paid")

    response = client.http.get(f"/reminder-batches/{batch_id}")
    assert response.status_code == 200, response.body
    results = json.loads(response.body)["results"]
    assert results["sent"] == 2
    assert results["paid"]["accounts"] == 2
    assert results["paid"]["amounts"] == {"USD": {"minor": 6000, "amount": "60.00"}}

    response = client.http.get(f"/reminder-batches/{batch_id}/results")
    assert response.status_code == 200
    rows = {r["account_id"]: r for r in csv.DictReader(io.StringIO(response.body.decode()))}
    assert (rows[payer.account_id]["paid"], rows[payer.account_id]["amount_paid"],
            rows[payer.account_id]["disposition"]) == ("yes", "50.00", "paid")
    assert (rows[wang.account_id]["paid"], rows[wang.account_id]["disposition"]) == (
        "no", "sent")


def test_one_reminder_and_its_refusals(world, client):
    carrier, clock, parts = world
    due = account(date(2026, 11, 30))  # due soon: informational
    status, body = post(client, "/reminders", {
        "account_id": due.account_id, "channel": "sms", "template": "reminder_due",
        "caller_id": HOTLINE})
    assert status == 201, body
    assert body["accounts"] == 1 and body["campaign"]["purpose"] == "informational"
    parts.campaigns.tick(seconds=10)
    [text] = [m for m in carrier.messages if m["to"] == due.phones[0]]
    assert "$42.17" in text["body"] and "November 30, 2026" in text["body"]

    paid = account(a_day())
    pay(paid.account_id, paid.amount_due, NOON_SF)
    status, body = post(client, "/reminders", {
        "account_id": paid.account_id, "channel": "sms", "template": "reminder_due",
        "caller_id": HOTLINE})
    assert status == 409 and body["error"].startswith("paid")
    dateless = account(None)
    status, body = post(client, "/reminders", {
        "account_id": dateless.account_id, "channel": "sms", "template": "reminder_due",
        "caller_id": HOTLINE})
    assert status == 409 and body["error"].startswith("no_due_date")
    status, body = post(client, "/reminders", {
        "account_id": "nobody-" + uuid.uuid4().hex[:6], "channel": "sms",
        "template": "reminder_due", "caller_id": HOTLINE})
    assert status == 404


@pytest.mark.parametrize(("change", "field"), [
    ({"segment": {"status": "late"}}, "segment.status"),
    ({"segment": None}, "segment"),
    ({"segment": {"status": "overdue", "overdue_more_than_days": -1}},
     "segment.overdue_more_than_days"),
    ({"segment": {"status": "open", "due_from": "tomorrow"}}, "segment.due_from"),
    ({"channel": "fax"}, "channel"),
    ({"template": "no_such_template"}, "template"),
    ({"caller_id": "12"}, "caller_id"),
    ({"purpose": "marketing"}, "purpose"),
    ({"preview": "yes"}, "preview"),
    ({"channel": "voice", "template": None, "name": "Acme", "flow": "no_such_flow"}, "flow"),
    ({"channel": "voice", "template": None}, "name"),
    ({"colour": "red"}, "colour"),
    # agent batches: a queue that exists, a name, no flow or template
    ({"channel": "agent", "template": None, "name": "Acme"}, "queue"),
    ({"channel": "agent", "template": None, "name": "Acme", "queue": "no_such_queue"},
     "queue"),
    ({"channel": "agent", "template": None, "name": "Acme", "queue": "bad queue!"}, "queue"),
    ({"channel": "agent", "template": None, "queue": "support"}, "name"),
    ({"channel": "agent", "name": "Acme", "queue": "support"}, "template"),
    ({"channel": "agent", "template": None, "name": "Acme", "queue": "support",
      "flow": "reminder_call"}, "flow"),
    ({"channel": "voice", "template": None, "name": "Acme", "queue": "support"}, "queue"),
    ({"queue": "support"}, "queue"),
])
def test_bad_bodies_are_refused_naming_the_field(client, change, field):
    body = {**batch_body(date(2025, 1, 1)), **change}
    body = {k: v for k, v in body.items() if v is not None or k == "segment"}
    status, answer = post(client, "/reminder-batches", body)
    assert (status, answer.get("field")) == (400, field), answer


def test_an_unknown_batch_is_404(client):
    assert client.http.get("/reminder-batches/cmp_nobody12345").status_code == 404
    assert client.http.get("/reminder-batches/nope/results").status_code == 404


def test_a_voice_batch_leaves_the_limited_content_voicemail(world, client):
    day = a_day()
    ada = account(day)
    status, body = post(client, "/reminder-batches", batch_body(
        day, channel="voice", flow="campaign_survey", name="Acme Utilities"))
    assert status == 400 and body["field"] == "template"  # a voice batch has a flow
    status, body = post(client, "/reminder-batches", {
        "segment": {"status": "overdue", "due_from": day.isoformat(),
                    "due_to": day.isoformat()},
        "channel": "voice", "flow": "campaign_survey", "name": "Acme Utilities",
        "caller_id": HOTLINE})
    assert status == 201, body
    campaign = body["campaign"]
    assert (campaign["kind"], campaign["flow_id"], campaign["machine"],
            campaign["machine_template"], campaign["subject_attribute"]) == (
        "agentless", "campaign_survey", "message", "reminder_voicemail", "account_id")

    from chalicelib.campaigns.calls import CampaignCalls
    from chalicelib.prompts import render_prompt

    stored_campaign = store.get(body["batch_id"])
    [contact] = store.contacts(body["batch_id"])
    text, _, _ = render_prompt(campaign["machine_template"], contact.language,
                               **CampaignCalls._template_context(stored_campaign, contact))
    assert "call us back" in text and "4 1 5 5 5 5 0 1 0 0" in text
    assert "42.17" not in text and ada.holder not in text  # Regulation F: limited content


def test_the_same_request_id_again_is_the_same_batch_and_texts_nobody_twice(world, client):
    carrier, clock, parts = world
    day = a_day()
    ada = account(day)
    body = batch_body(day, request_id="billing-run-" + uuid.uuid4().hex[:8])
    status, first = post(client, "/reminder-batches", body)
    assert status == 201, first
    parts.campaigns.tick(seconds=10)
    assert len([m for m in carrier.messages if m["to"] == ada.phones[0]]) == 1

    status, again = post(client, "/reminder-batches", body)  # a retry of the same request

    assert status == 200 and again["repeated"] is True
    assert again["batch_id"] == first["batch_id"]
    parts.campaigns.tick(seconds=10)
    assert len([m for m in carrier.messages if m["to"] == ada.phones[0]]) == 1
    contact = store.get_contact(first["batch_id"], ada.phones[0])
    assert (contact.status, contact.attempts) == ("done", 1)


def test_the_daily_job_turns_each_policy_step_into_one_batch(world, client):
    """run_reminders: the accounts due in 3 days get the policy's first text, once however
    often the job runs that day; an account due on another day is not reached."""
    from chalicelib.reminders.policy import parse_policy
    from chalicelib.reminders.schedule import run_policies

    carrier, clock, parts = world
    day = a_day()
    clock.now = datetime.combine(day - timedelta(days=3), NOON_SF.timetz())
    reached = account(day)
    account(day + timedelta(days=1))
    policy = parse_policy({"policy": "test", "name": "Acme Power", "purpose": "informational",
                           "steps": [{"day": -3, "channel": "sms", "template": "reminder_due"},
                                     {"day": 10, "channel": "agent", "queue": "support"}]})
    first = run_policies(clock.now, HOTLINE, {"test": policy})
    again = run_policies(clock.now, HOTLINE, {"test": policy})
    assert first["test:-3"] == 1 and again["test:-3"] == 1
    assert first["test:10"] == 0  # an agent step too: nobody was due 10 days ago
    parts.campaigns.tick(seconds=6)
    texts = [m for m in carrier.messages if m["to"] == reached.phones[0]]
    assert len(texts) == 1 and "$42.17" in texts[0]["body"]
    assert run_policies(clock.now, None, {"test": policy}) == {
        "skipped": "no caller id: set REMINDER_CALLER_ID"}


def test_a_request_past_its_limit_is_refused_before_anything_is_written(world):
    from chalicelib.api_errors import TooLarge
    from chalicelib.reminders import batch_input, batches

    day = a_day()
    for _ in range(4):
        account(day)
    body = batch_body(day, request_id=f"too-big-{uuid.uuid4().hex[:8]}")
    with pytest.raises(TooLarge):
        batches.preview_or_send(body, NOON_SF, limit=3)
    batch_id = batch_input.batch_id(body)
    assert store.get(batch_id) is None and list(store.contacts(batch_id)) == []


def test_the_job_writes_a_batch_larger_than_a_request_may_page_by_page(world, monkeypatch):
    """The job's batches may pass ``MAX_ACCOUNTS`` (a request's): contacts are written as the
    segment is read, and a run that died before the campaign existed, run again, counts each
    contact once."""
    from chalicelib.reminders import batch_input, batches

    monkeypatch.setattr(batches, "MAX_ACCOUNTS", 2)
    monkeypatch.setattr(batches, "PAGE", 2)
    day = a_day()
    ids = {account(day).account_id for _ in range(5)}
    body = batch_body(day, request_id=f"big-{uuid.uuid4().hex[:8]}")
    batch_id = batch_input.batch_id(body)
    real_create = store.create
    monkeypatch.setattr(store, "create", lambda campaign: (_ for _ in ()).throw(
        TimeoutError("the run died")))
    with pytest.raises(TimeoutError):
        batches.preview_or_send(body, NOON_SF, limit=10)
    assert store.get(batch_id) is None and len(list(store.contacts(batch_id))) == 5
    monkeypatch.setattr(store, "create", real_create)
    answer = batches.preview_or_send(body, NOON_SF, limit=10)
    assert answer["batch_id"] == batch_id and answer["accounts"] == 5
    assert {c.attributes["account_id"] for c in store.contacts(batch_id)} == ids
    assert store.totals(batch_id) == {"status_waiting": 5}
    assert store.get(batch_id).loaded == 5


def test_an_agent_step_hands_the_overdue_account_to_the_queue(world, client):
    """run_reminders: the account 10 days overdue becomes a progressive campaign for the
    step's queue (its agents join its seats), leaving the limited-content voicemail."""
    from chalicelib.reminders.batch_input import batch_id
    from chalicelib.reminders.policy import parse_policy
    from chalicelib.reminders.schedule import run_policies

    carrier, clock, parts = world
    day = a_day()
    clock.now = datetime.combine(day + timedelta(days=10), NOON_SF.timetz())
    overdue = account(day, amount=9900)
    policy = parse_policy({"policy": "agents", "name": "Acme Power", "purpose": "collections",
                           "steps": [{"day": 10, "channel": "agent", "queue": "support"}]})

    made = run_policies(clock.now, HOTLINE, {"agents": policy})

    assert made == {"agents:10": 1}
    campaign = store.get(batch_id({"request_id": f"agents.10.{clock.now.date()}"}))
    assert campaign is not None
    assert (campaign.kind, campaign.queue_id, campaign.status, campaign.purpose) == (
        "progressive", "support", "running", "collections")
    assert (campaign.machine, campaign.machine_template, campaign.name) == (
        "message", "reminder_voicemail", "Acme Power")
    [contact] = store.contacts(campaign.campaign_id)
    assert (contact.phone, contact.attributes["account_id"], contact.attributes["amount_due"]
            ) == (overdue.phones[0], overdue.account_id, "9900")
    # a policy naming a queue nobody has: that step is refused, the job goes on
    gone = parse_policy({"policy": "gone", "name": "Acme Power", "purpose": "collections",
                         "steps": [{"day": 10, "channel": "agent", "queue": "no_such_queue"}]})
    assert run_policies(clock.now, HOTLINE, {"gone": gone})["gone:10"].startswith("refused")


def test_one_account_to_an_agent_queue(world, client):
    ada = account(a_day())
    status, body = post(client, "/reminders", {
        "account_id": ada.account_id, "channel": "agent", "queue": "support",
        "name": "Acme Power", "caller_id": HOTLINE})
    assert status == 201, body
    assert (body["campaign"]["kind"], body["campaign"]["queue_id"]) == ("progressive",
                                                                        "support")
    status, body = post(client, "/reminders", {
        "account_id": ada.account_id, "channel": "agent", "queue": "no_such_queue",
        "name": "Acme Power", "caller_id": HOTLINE})
    assert (status, body.get("field")) == (400, "queue"), body


def test_a_policys_results_add_up_its_batches_step_by_step(world, client, monkeypatch):
    """GET /reminder-policies/{id}/results: the batches the job made for the policy in the
    range, per step and in all: texts sent, accounts that paid since and what they paid."""
    from chalicelib.reminders import results
    from chalicelib.reminders.policy import parse_policy
    from chalicelib.reminders.schedule import run_policies

    carrier, clock, parts = world
    day = a_day()
    policy = parse_policy({"policy": "acme", "name": "Acme Power", "purpose": "informational",
                           "steps": [{"day": -3, "channel": "sms", "template": "reminder_due"},
                                     {"day": 0, "channel": "sms", "template": "reminder_due"}]})
    monkeypatch.setattr(results, "load_policies", lambda: {"acme": policy})
    early, late = account(day), account(day - timedelta(days=3))
    # three days before ``day``: ``early`` gets the first text and ``late`` the second
    clock.now = datetime.combine(day - timedelta(days=3), NOON_SF.timetz())
    made = run_policies(clock.now, HOTLINE, {"acme": policy})
    assert (made["acme:-3"], made["acme:0"]) == (1, 1)
    # a batch made by hand the same day is not the policy's
    other_day = day - timedelta(days=5)
    account(other_day)
    assert post(client, "/reminder-batches", batch_body(other_day))[0] == 201
    parts.campaigns.tick(seconds=30)  # three batches share the texts per second
    assert {m["to"] for m in carrier.messages} >= {early.phones[0], late.phones[0]}
    clock.now += timedelta(days=1)
    pay(late.account_id, 4217, clock.now)

    made_on = clock.now.date() - timedelta(days=1)
    query = f"from={made_on.isoformat()}&to={made_on.isoformat()}"
    response = client.http.get(f"/reminder-policies/acme/results?{query}")
    assert response.status_code == 200, response.body
    report = json.loads(response.body)
    assert (report["policy"], report["name"], len(report["batches"])) == ("acme", "Acme Power", 2)
    steps = {step["day"]: step for step in report["steps"]}
    assert (steps[-3]["accounts"], steps[-3]["sent"], steps[-3]["paid_accounts"]) == (1, 1, 0)
    assert (steps[0]["accounts"], steps[0]["sent"], steps[0]["paid_accounts"]) == (1, 1, 1)
    assert report["totals"]["amounts"] == {"USD": {"minor": 4217, "amount": "42.17"}}
    assert report["totals"]["sent"] == 2 and report["totals"]["paid_accounts"] == 1

    response = client.http.get(f"/reminder-policies/acme/results?{query}&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert sorted((r["step_day"], r["sent"], r["amounts_collected"]) for r in rows) == [
        ("-3", "1", ""), ("0", "1", "USD 42.17")]
    # another range: nothing; unknown policy: 404; a bad range: 400 naming it
    response = client.http.get("/reminder-policies/acme/results?from=2020-01-01&to=2020-01-02")
    assert json.loads(response.body)["batches"] == []
    assert client.http.get("/reminder-policies/nope/results").status_code == 404
    bad = client.http.get("/reminder-policies/acme/results?from=2026-02-30")
    assert (bad.status_code, json.loads(bad.body)["field"]) == (400, "from")
    listed = json.loads(client.http.get("/reminder-policies").body)["policies"]
    assert listed[0]["steps"][0] == {"day": -3, "channel": "sms", "template": "reminder_due"}
