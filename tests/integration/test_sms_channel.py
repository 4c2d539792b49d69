"""The customer SMS channel: STOP/START/HELP (and 退订, ...) keep one opt-out list that every text
checks, CANCEL CALL cancels callbacks, other texts reach the customer's last agent or become
tickets, and delivery statuses land on the messages we sent. Through the signed webhooks, on
DynamoDB Local, with the carrier emulator serving Twilio's REST API."""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from chalicelib.consent import may_contact
from chalicelib.messaging.inbound import ticket_id_for
from chalicelib.messaging.outbound import send_sms
from chalicelib.routing.model import Agent, Endpoint
from chalicelib.settings import get_settings
from chalicelib.store import messages, optouts, routing, tickets
from chalicelib.wiring import root
from tests.integration.conftest import OPEN_HOURS, signed_post
from tests.support import PUBLIC_BASE_URL, TEST_TOKEN

HOTLINE = "+14155550100"


def number() -> str:
    """A fresh, valid US number (tests share one DynamoDB Local per worker)."""
    return "+1628" + str(random.randint(2, 9)) + f"{random.randrange(10**6):06d}"


def sid() -> str:
    return "SM" + uuid.uuid4().hex


def text(client, sender: str, body: str, message_sid: str | None = None, **extra):
    """Text the hotline; returns (reply text or None, the MessageSid)."""
    message_sid = message_sid or sid()
    response = signed_post(client, "/twilio/sms", {
        "MessageSid": message_sid, "From": sender, "To": HOTLINE, "Body": body, **extra})
    assert response.status_code == 200, response.body
    message = ET.fromstring(response.body).find("Message")
    return (None if message is None else message.text), message_sid


class Cancellations:
    """Stands in for the callbacks package's ``cancel_open_for_number``."""

    def __init__(self):
        self.calls: list[tuple[str, object]] = []
        self.result = 0

    def __call__(self, number, now) -> int:
        self.calls.append((number, now))
        return self.result


@pytest.fixture(autouse=True)
def sms_clock(client, clock):
    """The SMS webhooks and the tickets API on the test's settable clock (the ``client``
    fixture installs it in the composition root)."""
    return clock


@pytest.fixture
def cancellations(client, clock):
    from chalicelib.wiring import Root, install

    fake = Cancellations()
    previous = install(Root(clock=clock, cancel_callbacks=fake))
    yield fake
    install(previous)


def send(to: str, key: str | None = None) -> str | None:
    return send_sms(key=key or "test:" + uuid.uuid4().hex, to=to, sender=HOTLINE,
                    body="Your callback is booked.", template="test", call_sid=None,
                    settings=get_settings(), gate=root().compliance, now=OPEN_HOURS)


def texts_to(carrier, to: str) -> list[dict]:
    return [m for m in carrier.messages if m["to"] == to]


# ---- opt-out, opt-in, help ------------------------------------------------------------------


def test_after_stop_no_text_goes_out(client, carrier, cancellations):
    customer = number()
    reply, _ = text(client, customer, "Stop")
    assert reply is None  # Twilio sends the confirmation for its own keywords
    assert optouts.is_opted_out(customer) and not may_contact(customer)
    assert cancellations.calls == [(customer, OPEN_HOURS)]

    key = "test:" + uuid.uuid4().hex
    assert send(customer, key) is None
    assert texts_to(carrier, customer) == []  # the carrier was never asked (it knows no STOP)
    stored = messages.get_message(key)
    assert (stored.status, stored.error_code) == ("opted_out", None)


def test_stop_through_the_carrier_reaches_our_list(client, carrier, cancellations):
    customer = number()
    status, _ = carrier.send_inbound_sms(HOTLINE, customer, "STOP")
    assert status == 200
    assert optouts.is_opted_out(customer)


def test_a_carrier_block_we_did_not_know_joins_our_list(client, carrier):
    customer = number()
    carrier.opt_out(customer)  # replied STOP to Twilio before our list existed
    key = "test:" + uuid.uuid4().hex
    assert send(customer, key) is None
    stored = messages.get_message(key)
    assert (stored.status, stored.error_code) == ("opted_out", "21610")
    assert optouts.is_opted_out(customer)


def test_chinese_opt_out_is_ours_to_confirm(client, carrier, cancellations):
    customer = number()
    reply, _ = text(client, customer, "退订")
    assert reply.startswith("您已退订")  # Twilio does not know 退订: the one confirmation is ours
    assert optouts.is_opted_out(customer)
    assert [c[0] for c in cancellations.calls] == [customer]
    assert optouts._opt_out_item(customer).keyword == "退订"

    assert text(client, customer, "HELP")[0] is None  # nothing else goes back
    reply, message_sid = text(client, customer, "我还能收到回电吗")
    assert reply is None
    assert tickets.get_ticket(ticket_id_for(message_sid, TEST_TOKEN)) is not None  # still heard

    assert send(customer) is None
    assert texts_to(carrier, customer) == []  # only our list stopped it: the carrier would send


def test_start_and_订阅_opt_back_in(client, clock, carrier, cancellations):
    customer = number()
    text(client, customer, "STOP")
    clock_later = OPEN_HOURS + timedelta(minutes=1)
    clock.now = clock_later
    reply, _ = text(client, customer, "start")
    assert reply is None  # Twilio confirms START itself
    assert not optouts.is_opted_out(customer)
    assert optouts._opt_out_item(customer).opted_in_at == clock_later
    assert send(customer) is not None
    assert len(texts_to(carrier, customer)) == 1

    other = number()
    text(client, other, "退订")
    clock.now = clock_later + timedelta(minutes=1)
    reply, _ = text(client, other, "订阅")
    assert reply.startswith("您已重新订阅")
    assert may_contact(other)


def test_help_names_the_callback_phrase(client, cancellations):
    customer = number()
    reply, _ = text(client, customer, "HELP")
    assert reply.startswith("Switchboard demo hotline: Reply CANCEL CALL")
    assert "STOP" in reply and "START" in reply
    reply, _ = text(client, customer, "帮助")
    assert "取消回电" in reply and "退订" in reply
    assert cancellations.calls == [] and not optouts.is_opted_out(customer)


def test_an_agents_stop_counts_but_other_words_get_the_command_help(client, cancellations):
    mobile = number()
    agent = Agent("ag-" + uuid.uuid4().hex[:6], "Texting Agent", Endpoint("phone", mobile),
                  mobile=mobile)
    routing.save_agent_profile(agent, OPEN_HOURS)
    assert "ON" in text(client, mobile, "HELP")[0]  # the agent's help, as before
    assert text(client, mobile, "STOP")[0] is None
    assert optouts.is_opted_out(mobile)


# ---- order: the later message wins ----------------------------------------------------------


def test_an_older_stop_landing_after_a_newer_start_changes_nothing(client, clock, cancellations):
    customer = number()
    clock.now = OPEN_HOURS + timedelta(seconds=60)
    text(client, customer, "START")
    clock.now = OPEN_HOURS + timedelta(seconds=30)  # a STOP sent earlier, handled later
    assert text(client, customer, "STOP")[0] is None
    assert not optouts.is_opted_out(customer)
    assert cancellations.calls == []  # a stale opt-out cancels nothing either

    clock.now = OPEN_HOURS + timedelta(seconds=90)
    text(client, customer, "STOP")
    assert optouts.is_opted_out(customer)


def test_a_retried_stop_does_not_undo_the_start_that_followed(client, clock, cancellations):
    customer = number()
    _, stop_sid = text(client, customer, "STOP")
    clock.now = OPEN_HOURS + timedelta(seconds=10)
    text(client, customer, "START")
    clock.now = OPEN_HOURS + timedelta(seconds=20)
    text(client, customer, "STOP", message_sid=stop_sid)  # Twilio retries the first webhook
    assert not optouts.is_opted_out(customer)


def test_a_tie_goes_to_the_opt_out():
    customer = number()
    assert optouts.opt_out(customer, "stop", OPEN_HOURS, message_sid=sid())
    assert not optouts.opt_in(customer, "start", OPEN_HOURS, message_sid=sid())
    assert optouts.is_opted_out(customer)


def test_racing_stops_and_starts_end_as_the_latest_said(client):
    customer = number()
    changes = [(OPEN_HOURS + timedelta(seconds=s), "stop" if s % 2 else "start")
               for s in random.sample(range(1, 200), 24)]
    random.shuffle(changes)
    start = threading.Barrier(len(changes))
    errors: list[BaseException] = []

    def apply(at, word):
        start.wait()
        try:
            (optouts.opt_out if word == "stop" else optouts.opt_in)(
                customer, word, at, message_sid=sid())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=apply, args=c) for c in changes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    latest_at, latest_word = max(changes)
    item = optouts._opt_out_item(customer)
    assert (item.changed_at, item.keyword) == (latest_at, latest_word)
    assert optouts.is_opted_out(customer) is (latest_word == "stop")


# ---- cancelling callbacks -------------------------------------------------------------------


def test_cancel_call_cancels_callbacks_and_says_so(client, cancellations):
    customer = number()
    cancellations.result = 1
    reply, _ = text(client, customer, "cancel call")
    assert reply.startswith("Your callback request is cancelled")
    cancellations.result = 0
    assert text(client, customer, "CANCEL CALL")[0].startswith("You have no callback waiting")
    cancellations.result = 2
    assert text(client, customer, "取消回电")[0].startswith("您的 2 个回电预约已取消")
    assert [c[0] for c in cancellations.calls] == [customer] * 3
    assert not optouts.is_opted_out(customer)  # only the callback, not the texts


def test_bare_cancel_opts_out_and_ends_callbacks(client, cancellations):
    customer = number()
    cancellations.result = 1
    assert text(client, customer, "CANCEL")[0] is None
    assert optouts.is_opted_out(customer)
    assert cancellations.calls == [(customer, OPEN_HOURS)]


def test_a_cancel_text_reaches_the_callbacks_package():
    from chalicelib.callbacks.requests import cancel_open_for_number
    from chalicelib.wiring import Root

    assert Root().cancel_callbacks is cancel_open_for_number


# ---- other texts: the customer's agent, or a ticket -----------------------------------------


def agent_with_mobile(mobile: str | None, languages=("en-US",)) -> Agent:
    agent = Agent("ag-" + uuid.uuid4().hex[:6], "Forward Agent", Endpoint("phone", number()),
                  mobile=mobile, languages=list(languages))
    routing.save_agent_profile(agent, OPEN_HOURS)
    return agent


def served(customer: str, agent: Agent, days_ago: float) -> None:
    at = OPEN_HOURS - timedelta(days=days_ago)
    routing.remember_contact(customer, {"call_sid": "CA" + uuid.uuid4().hex,
                                        "at": at.isoformat(), "agent_id": agent.agent_id}, at)


def test_a_reply_goes_to_the_last_agent_once(client, carrier, cancellations):
    customer, mobile = number(), number()
    agent = agent_with_mobile(mobile)
    served(customer, agent, days_ago=2)

    reply, message_sid = text(client, customer, "Is my refund done?")
    assert reply is None  # the agent answers, not a robot
    text(client, customer, "Is my refund done?", message_sid)  # Twilio retries the webhook

    forwarded = texts_to(carrier, mobile)
    assert len(forwarded) == 1
    assert forwarded[0]["from"] == HOTLINE
    assert forwarded[0]["body"] == (
        f"Text from your customer {customer} to {HOTLINE}: Is my refund done?")
    assert tickets.get_ticket(ticket_id_for(message_sid, TEST_TOKEN)) is None


def test_without_a_reachable_agent_a_text_becomes_a_ticket(client, carrier, cancellations):
    no_mobile, long_ago = number(), number()
    served(no_mobile, agent_with_mobile(None), days_ago=1)
    old_agent_mobile = number()
    served(long_ago, agent_with_mobile(old_agent_mobile), days_ago=90)
    for customer in (no_mobile, long_ago):
        _, message_sid = text(client, customer, "hello?")
        ticket = tickets.get_ticket(ticket_id_for(message_sid, TEST_TOKEN))
        assert (ticket.sender, ticket.hotline, ticket.body) == (customer, HOTLINE, "hello?")
    assert texts_to(carrier, old_agent_mobile) == []


def test_a_forward_the_carrier_refuses_becomes_a_ticket(client, carrier, cancellations):
    customer, mobile = number(), number()
    served(customer, agent_with_mobile(mobile), days_ago=1)
    carrier.opt_out(mobile)
    _, message_sid = text(client, customer, "anyone there?")
    assert tickets.get_ticket(ticket_id_for(message_sid, TEST_TOKEN)) is not None


# ---- tickets and their API ------------------------------------------------------------------


def api(client, method: str, path: str):
    response = getattr(client.http, method)(path, headers={"Content-Type": "application/json"})
    return response.status_code, json.loads(response.body or b"null")


def test_a_duplicated_webhook_opens_one_ticket_and_the_api_lists_and_closes_it(
        client, clock, cancellations):
    customer = number()
    clock.now = OPEN_HOURS + timedelta(hours=1)
    _, first_sid = text(client, customer, "My bill is wrong",
                        NumMedia="1", MediaUrl0="https://example.test/m/1.jpg")
    clock.now = OPEN_HOURS + timedelta(hours=2)
    _, second_sid = text(client, customer, "我的账单有问题")
    clock.now = OPEN_HOURS + timedelta(hours=2, seconds=5)
    text(client, customer, "我的账单有问题", second_sid)  # the same webhook again
    ids = [ticket_id_for(s, TEST_TOKEN) for s in (first_sid, second_sid)]

    status, page = api(client, "get", "/tickets?status=open&limit=200")
    assert status == 200
    mine = [t for t in page["tickets"] if t["from"] == customer]
    assert [t["ticket_id"] for t in mine] == ids[::-1]  # newest first, the duplicate not there
    assert mine[0]["language"] == "zh-CN" and mine[0]["created_at"] == (
        OPEN_HOURS + timedelta(hours=2)).isoformat()
    assert mine[1]["media_urls"] == ["https://example.test/m/1.jpg"]

    status, one = api(client, "get", f"/tickets/{ids[0]}")
    assert (status, one["body"], one["status"], one["to"]) == (
        200, "My bill is wrong", "open", HOTLINE)

    clock.now = OPEN_HOURS + timedelta(hours=3)
    status, closed = api(client, "post", f"/tickets/{ids[0]}/close")
    assert (status, closed["status"], closed["closed_at"]) == (
        200, "closed", clock.now.isoformat())
    assert api(client, "post", f"/tickets/{ids[0]}/close")[1]["closed_at"] == closed["closed_at"]
    open_ids = {t["ticket_id"] for t in api(client, "get", "/tickets?limit=200")[1]["tickets"]}
    assert ids[0] not in open_ids and ids[1] in open_ids
    closed = api(client, "get", "/tickets?status=closed")[1]["tickets"]
    assert ids[0] in {t["ticket_id"] for t in closed}


def test_ticket_pages_and_errors(client, clock, cancellations):
    base = OPEN_HOURS + timedelta(days=400)  # newer than every other test's tickets
    for minute in range(3):
        clock.now = base + timedelta(minutes=minute)
        text(client, number(), f"page test {minute}")
    status, page = api(client, "get", "/tickets?limit=2")
    assert [t["body"] for t in page["tickets"]] == ["page test 2", "page test 1"]
    status, rest = api(client, "get", f"/tickets?limit=2&before={page['next_before']}")
    assert rest["tickets"][0]["body"] == "page test 0"

    status, body = api(client, "get", "/tickets/TK0000")
    assert (status, body) == (404, {"error": "no ticket 'TK0000'"})
    assert api(client, "post", "/tickets/TK0000/close")[0] == 404
    status, body = api(client, "get", "/tickets?status=pending")
    assert (status, body["field"]) == (400, "status")
    assert api(client, "get", "/tickets?limit=0")[1]["field"] == "limit"
    assert api(client, "get", "/tickets?before=yesterday")[1]["field"] == "before"


# ---- delivery status callbacks --------------------------------------------------------------


def status_callback(client, message_sid: str, status: str, **extra):
    return signed_post(client, "/twilio/sms/status", {
        "MessageSid": message_sid, "SmsSid": message_sid, "MessageStatus": status,
        **extra})


def test_statuses_arrive_in_order(client, carrier):
    customer = number()
    key = "test:" + uuid.uuid4().hex
    message_sid = send(customer, key)
    sent = texts_to(carrier, customer)[0]
    # Twilio retries it when we cannot take it (connection overrides in the fragment)
    assert sent["status_callback"] == PUBLIC_BASE_URL + "/twilio/sms/status#rc=5&rp=5xx,ct,rt"
    assert messages.get_message(key).status == "queued"
    carrier.run_pending()  # the carrier posts sent, then delivered
    assert [(c["status"], c["http_status"]) for c in sent["callbacks"]] == [
        ("sent", 200), ("delivered", 200)]
    stored = messages.get_message(key)
    assert (stored.message_sid, stored.status) == (message_sid, "delivered")


def test_a_late_status_never_undoes_a_later_one(client, carrier):
    key = "test:" + uuid.uuid4().hex
    message_sid = send(number(), key)
    assert status_callback(client, message_sid, "delivered").status_code == 200
    for late in ("sent", "sending", "queued"):
        assert status_callback(client, message_sid, late).status_code == 200
    assert messages.get_message(key).status == "delivered"

    key = "test:" + uuid.uuid4().hex
    message_sid = send(number(), key)
    status_callback(client, message_sid, "sending")
    status_callback(client, message_sid, "undelivered", ErrorCode="30003")
    status_callback(client, message_sid, "sent")
    stored = messages.get_message(key)
    assert (stored.status, stored.error_code) == ("undelivered", "30003")


def test_a_status_that_overtakes_the_message_record_is_asked_for_again(client, caplog):
    # Given a text being sent: claimed, but its sid not recorded yet when Twilio's first status
    # callback arrives
    key, message_sid = "test:" + uuid.uuid4().hex, sid()
    messages.claim(key, to=number(), template="t", call_sid=None, now=OPEN_HOURS,
                   retention_days=1)
    with caplog.at_level(logging.INFO, logger="chalicelib.messaging.delivery"):
        early = status_callback(client, message_sid, "sent")
    # Then it is not dropped: 503 asks Twilio to retry it
    assert early.status_code == 503
    assert f"sms {message_sid} status sent not recorded: unknown-message" in caplog.text
    # and the retry, once the sid is recorded, is applied
    messages.mark_sent(key, message_sid, "queued", "+14155550100")
    assert status_callback(client, message_sid, "sent").status_code == 200
    assert messages.get_message(key).status == "sent"


def test_status_callbacks_must_be_signed_and_well_formed(client):
    unsigned = client.http.post(
        "/twilio/sms/status", body=f"MessageSid={sid()}&MessageStatus=delivered",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 403
    wrong = signed_post(client, "/twilio/sms/status",
                        {"MessageSid": sid(), "MessageStatus": "sent"}, token="not-the-token")
    assert wrong.status_code == 403
    assert signed_post(client, "/twilio/sms/status", {"MessageStatus": "sent"}).status_code == 400
    assert signed_post(client, "/twilio/sms/status", {"MessageSid": sid()}).status_code == 400
    garbled = client.http.post("/twilio/sms/status", body=b"\xff\xfe",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert garbled.status_code == 400


# ---- the laptop's tables, made before the index existed -------------------------------------


def test_an_existing_messages_table_gets_the_new_index(dynamodb_endpoint):
    """A laptop's table made before the index existed is rebuilt with it, its items kept (DynamoDB
    Local can leave an index added by UpdateTable in CREATING for good)."""
    from datetime import UTC, datetime

    from pynamodb.connection import Connection

    from chalicelib.store.models import Message
    from chalicelib.store.tables import _add_missing_indexes

    client = Connection(region="us-east-1", host=dynamodb_endpoint).client
    name = "legacy-messages-" + uuid.uuid4().hex[:8]
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "message_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "message_key", "KeyType": "HASH"}])
    real_name = Message.Meta.table_name
    Message.Meta.table_name, Message._connection = name, None
    try:
        Message("old", to="+14155550100", status="sent", created_at=datetime.now(UTC)).save()
        _add_missing_indexes(Message)
        _add_missing_indexes(Message)  # a second run finds it there
        # the item survived, and writes that feed the index work at once
        Message("old").update(actions=[Message.message_sid.set("SM" + "1" * 32)])
        assert [m.message_key for m in Message.by_message_sid.query("SM" + "1" * 32)] == ["old"]
    finally:
        Message.Meta.table_name, Message._connection = real_name, None
    indexes = client.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
    assert [(i["IndexName"], i["KeySchema"]) for i in indexes] == [
        ("by_message_sid", [{"AttributeName": "message_sid", "KeyType": "HASH"}])]
    client.delete_table(TableName=name)
