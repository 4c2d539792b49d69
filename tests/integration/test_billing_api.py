"""Accounts and payments through the API on DynamoDB Local: created and updated idempotently by
the billing system's change id, imported from CSV with bad rows reported, payments applied once
(posted twice, or racing), partial payments, reversals, the 4xx answers, and the IVR's billing
flow still reading the balance from the same table."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from chalicelib.reminders.model import BillingAccount, Payment
from chalicelib.store import billing, directory

JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv"}
EXAMPLES = Path(__file__).resolve().parents[2] / "infra" / "local" / "examples"
DEMO_ACCOUNT = "79927398713"


def account_body(**change) -> dict:
    return {"account_id": "ACC-1", "holder": "Grace Hopper", "phones": ["+14155550122"],
            "language": "en-US", "timezone": "America/New_York", "currency": "USD",
            "amount_due": "120.50", "due_date": "2026-11-10", "source_version": "v1",
            **change}


def post(client, path: str, body: dict):
    return client.http.post(path, headers=JSON, body=json.dumps(body))


def get_account(client, account_id: str) -> dict:
    response = client.http.get(f"/accounts/{account_id}")
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def pay(client, payment_id: str, amount: str, account_id: str = "ACC-1", **extra):
    return post(client, "/payments", {"payment_id": payment_id, "account_id": account_id,
                                      "amount": amount, "currency": "USD", **extra})


def test_an_account_is_created_once_and_updated_only_by_a_newer_change(client):
    first = post(client, "/accounts", account_body(source_seq=5))
    assert first.status_code == 201, first.body
    created = json.loads(first.body)
    assert created["outcome"] == "created"
    account = created["account"]
    assert (account["amount_due"], account["amount_due_minor"]) == ("120.50", 12050)
    assert account["status"] == "overdue"  # due 10 Nov, the clock says 23 Nov
    assert account["reminder_blocker"] is None

    again = post(client, "/accounts", account_body(amount_due="1.00", source_seq=5))
    assert again.status_code == 200
    assert json.loads(again.body)["outcome"] == "unchanged"  # the same change id
    older = post(client, "/accounts", account_body(amount_due="1.00", source_version="v0",
                                                   source_seq=4))
    assert json.loads(older.body)["outcome"] == "unchanged"  # a late retry of an old change
    assert get_account(client, "ACC-1")["amount_due"] == "120.50"

    newer = post(client, "/accounts", account_body(amount_due="80.00", source_version="v2",
                                                   source_seq=6, due_date="2026-12-20"))
    assert newer.status_code == 200
    assert json.loads(newer.body)["outcome"] == "updated"
    report = get_account(client, "ACC-1")
    assert (report["amount_due"], report["status"], report["version"]) == ("80.00", "current", 2)
    assert report["payments"] == []


def test_held_statuses_are_kept_and_derived_ones_recomputed(client):
    post(client, "/accounts", account_body(status="disputed"))
    assert get_account(client, "ACC-1")["reminder_blocker"] == "disputed"
    post(client, "/accounts", account_body(status="paid", source_version="v2"))
    report = get_account(client, "ACC-1")  # "paid" with 120.50 due is not paid
    assert (report["status"], report["reminder_blocker"]) == ("overdue", None)
    post(client, "/accounts", account_body(due_date="", source_version="v3"))
    assert get_account(client, "ACC-1")["reminder_blocker"] == "no_due_date"


@pytest.mark.parametrize(("change", "field"), [
    ({"amount_due": 120.5}, "amount_due"),  # a JSON number: no float for money
    ({"amount_due": "12.345"}, "amount_due"),
    ({"currency": "XYZ"}, "currency"),
    ({"phones": ["+1 415 55"]}, "phones"),
    ({"phones": []}, "phones"),
    ({"due_date": "2026-02-30"}, "due_date"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"status": "happy"}, "status"),
    ({"account_id": "no spaces"}, "account_id"),
    ({"source_version": None}, "source_version"),
    ({"source_seq": -1}, "source_seq"),
    ({"holder": ""}, "holder"),
])
def test_bad_accounts_are_refused_naming_the_field(client, change, field):
    response = post(client, "/accounts", account_body(**change))
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["field"] == field


def test_an_import_reports_each_row_and_is_harmless_sent_again(client):
    csv_text = "\n".join([
        "account_id,holder,phones,language,timezone,currency,amount_due,due_date,status",
        "ACC-1,Ada,+14155550111,en-US,,USD,10.00,2026-11-01,",
        "ACC-2,王伟,+8613800138000;+8613912345678,zh-CN,Asia/Shanghai,CNY,88.80,2026-12-01,",
        "ACC-3,Bad Phone,12345,en-US,,USD,10.00,2026-11-01,",
        "ACC-4,Bad Money,+14155550112,en-US,,USD,ten,2026-11-01,",
        "ACC-5,Bad Currency,+14155550113,en-US,,ZZZ,1.00,2026-11-01,",
        "ACC-6,Too Many,+14155550114,en-US,,USD,1.00,2026-11-01,,extra",
        ",No Id,+14155550115,en-US,,USD,1.00,2026-11-01,",
    ]) + "\n"
    response = client.http.post("/accounts/import?chunk=0&last=true", headers=CSV,
                                body=csv_text)
    assert response.status_code == 200, response.body
    result = json.loads(response.body)
    assert (result["received"], result["created"], result["rejected"]) == (7, 2, 5)
    rejected = {row["line"]: row["field"] for row in result["rows"]
                if row["outcome"] == "rejected"}
    assert rejected == {4: "phones", 5: "amount_due", 6: "currency", 7: "row",
                        8: "account_id"}
    chinese = get_account(client, "ACC-2")
    assert chinese["phones"] == ["+8613800138000", "+8613912345678"]
    assert (chinese["currency"], chinese["amount_due"], chinese["language"]) == (
        "CNY", "88.80", "zh-CN")

    again = json.loads(client.http.post("/accounts/import?chunk=0&last=true", headers=CSV,
                                        body=csv_text).body)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_import_refuses_a_chunk_it_cannot_read(client):
    def send(body, query="?chunk=0"):
        return client.http.post("/accounts/import" + query, headers=CSV, body=body)

    assert send(b"\xff\xfe").status_code == 400
    assert json.loads(send("holder,phone\nAda,+14155550111\n").body)["field"] == "header"
    assert json.loads(send("account_id\n", "").body)["field"] == "chunk"
    assert send("account_id\n" + "x\n" * 2001).status_code == 413


def test_the_demo_accounts_load_and_their_segments_are_read_by_index(client):
    body = (EXAMPLES / "accounts.csv").read_bytes()
    result = json.loads(client.http.post("/accounts/import?chunk=0&last=true", headers=CSV,
                                         body=body).body)
    assert (result["received"], result["created"], result["rejected"]) == (200, 200, 0)
    today = date(2026, 11, 30)
    overdue = list(billing.segment("overdue", None, date(2026, 11, 29), today=today))
    assert len(overdue) == 100  # half the file; none paid, disputed or in a plan
    assert all(a.due_date < today and a.amount_due > 0 for a in overdue)
    assert len({a.currency for a in overdue}) == 2
    # "more than 10 days overdue" and "due this week": one Query per shard each
    older = list(billing.segment("overdue", None, date(2026, 11, 19), today=today))
    assert 0 < len(older) < 100
    assert all(a.due_date <= date(2026, 11, 19) for a in older)
    week = list(billing.segment("open", date(2026, 11, 30), date(2026, 12, 6), today=today))
    assert week and all(date(2026, 11, 30) <= a.due_date <= date(2026, 12, 6) for a in week)
    paid = [a for a in map(billing.get_account, [f"ACC-{10001 + i}" for i in range(3, 200, 10)])]
    assert all(a is not None and a.status == "paid" for a in paid)


def test_a_payment_posted_twice_is_applied_once_and_a_partial_one_lowers_the_amount(client):
    post(client, "/accounts", account_body())
    first = pay(client, "pay-1", "20.50")
    assert first.status_code == 201, first.body
    body = json.loads(first.body)
    assert body["applied"] is True
    assert (body["account"]["amount_due"], body["account"]["status"]) == ("100.00", "overdue")

    again = pay(client, "pay-1", "20.50")
    assert again.status_code == 200
    assert json.loads(again.body)["applied"] is False
    assert get_account(client, "ACC-1")["amount_due"] == "100.00"

    other_body = pay(client, "pay-1", "99.00")
    assert other_body.status_code == 409

    rest = json.loads(pay(client, "pay-2", "100.00").body)
    assert (rest["account"]["status"], rest["account"]["reminder_blocker"]) == ("paid", "paid")
    report = get_account(client, "ACC-1")
    assert [(p["payment_id"], p["amount"]) for p in report["payments"]] == [
        ("pay-1", "20.50"), ("pay-2", "100.00")]


def test_a_reversed_payment_makes_the_account_due_again(client):
    post(client, "/accounts", account_body())
    pay(client, "pay-1", "120.50")
    assert get_account(client, "ACC-1")["status"] == "paid"
    reversal = client.http.post("/payments/pay-1/reverse")
    assert reversal.status_code == 200, reversal.body
    body = json.loads(reversal.body)
    assert body["reversed"] is True
    assert body["payment"]["status"] == "reversed"
    report = get_account(client, "ACC-1")
    assert (report["amount_due"], report["status"], report["reminder_blocker"]) == (
        "120.50", "overdue", None)
    twice = json.loads(client.http.post("/payments/pay-1/reverse").body)
    assert twice["reversed"] is False
    assert get_account(client, "ACC-1")["amount_due"] == "120.50"


def test_payment_errors(client):
    post(client, "/accounts", account_body())
    assert pay(client, "pay-1", "1.00", account_id="NOPE").status_code == 404
    wrong = post(client, "/payments", {"payment_id": "p", "account_id": "ACC-1",
                                       "amount": "1.00", "currency": "CNY"})
    assert (wrong.status_code, json.loads(wrong.body)["field"]) == (400, "currency")
    assert pay(client, "p", "0").status_code == 400
    assert pay(client, "p", 1.0).status_code == 400  # type: ignore[arg-type]
    assert pay(client, "p", "1.00", source="pay").status_code == 400
    assert client.http.post("/payments/nope/reverse").status_code == 404
    assert client.http.get("/accounts/NOPE").status_code == 404
    assert client.http.get("/accounts/" + "a" * 500).status_code == 404


def _race(*actions) -> list:
    results: list = [None] * len(actions)
    barrier = threading.Barrier(len(actions))

    def run(index, action):
        barrier.wait()
        results[index] = action()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_payments_racing_one_account_each_apply_exactly_once(client):
    at = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    billing.upsert_account(BillingAccount("ACC-9", "Ada", ("+14155550111",), amount_due=10_000,
                                          due_date=date(2026, 11, 1)), "v1", now=at)

    def payment(payment_id: str, amount: int) -> Payment:
        return Payment(payment_id, "ACC-9", amount, "USD", "billing", at)

    # the same payment delivered twice at once: applied once
    same = _race(*[lambda: billing.record_payment(payment("dup", 1_000))] * 4)
    assert sorted(applied for _, applied in same) == [False, False, False, True]
    # different payments racing: every one applies
    different = _race(*[lambda i=i: billing.record_payment(payment(f"p{i}", 500))
                        for i in range(4)])
    assert all(applied for _, applied in different)
    account = billing.get_account("ACC-9")
    assert account is not None and account.amount_due == 10_000 - 1_000 - 4 * 500
    assert len(billing.payments_for("ACC-9")) == 5


def test_the_ivr_billing_flow_still_reads_the_balance_from_the_accounts_table(client):
    before = directory.lookup("accounts", DEMO_ACCOUNT)
    assert before is not None
    assert (before["balance_due"], before["due_date"], before["currency"]) == (
        "42.17", "2026-12-15", "USD")
    assert before["pin_hash"] and before["name"] == "Ada Lovelace"
    response = post(client, "/payments", {"payment_id": "ivr-1", "account_id": DEMO_ACCOUNT,
                                          "amount": "10.00", "currency": "USD"})
    assert response.status_code == 201, response.body
    after = directory.lookup("accounts", DEMO_ACCOUNT)
    assert after is not None and after["balance_due"] == "32.17"
    assert after["pin_hash"] == before["pin_hash"]  # the billing write keeps the IVR's PIN


def test_a_promise_to_pay_pauses_reminders_and_is_conditional_on_the_version(client):
    from chalicelib.reminders.model import VersionConflict

    post(client, "/accounts", account_body())
    account = billing.get_account("ACC-1")
    assert account is not None
    promised = billing.set_promise("ACC-1", date(2026, 11, 30), account.version)
    assert promised.promised_until == date(2026, 11, 30)
    assert get_account(client, "ACC-1")["reminder_blocker"] == "promised"
    with pytest.raises(VersionConflict):  # read before the promise: stale
        billing.set_promise("ACC-1", None, account.version)
    # a new bill from the billing system keeps our promise
    post(client, "/accounts", account_body(source_version="v2", amount_due="130.00"))
    report = get_account(client, "ACC-1")
    assert (report["promised_until"], report["amount_due"]) == ("2026-11-30", "130.00")
