"""``manage.py reminders``: reminder batches through the API (``call_api`` faked)."""

from __future__ import annotations

import json

import manage
from tests.unit.test_manage import FakeApi

BATCH = "cmp_AAAAAAAAAAAAAAAA"


def test_reminders_preview_sends_the_segment_as_a_preview(monkeypatch, capsys):
    api = FakeApi({("POST", "/reminder-batches"): {"preview": True, "accounts": 3,
                                                   "refused": {"promised": 1}}})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["reminders", "preview", "--segment", "overdue", "--days", "30",
                        "--channel", "sms", "--template", "reminder_overdue",
                        "--caller-id", "+14155550100"]) == 0
    [sent] = api.sent
    assert json.loads(sent["body"]) == {
        "segment": {"status": "overdue", "overdue_more_than_days": 30}, "channel": "sms",
        "template": "reminder_overdue", "caller_id": "+14155550100", "preview": True}
    assert '"accounts": 3' in capsys.readouterr().out


def test_reminders_send_is_sent_once(monkeypatch, capsys):
    api = FakeApi({("POST", "/reminder-batches"): {"batch_id": BATCH, "accounts": 3}})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["reminders", "send", "--segment", "open", "--due-from", "2026-11-01",
                        "--channel", "voice", "--name", "Acme", "--caller-id",
                        "+14155550100"]) == 0
    [sent] = api.sent
    assert sent["retries"] == 0
    body = json.loads(sent["body"])
    assert body["segment"] == {"status": "open", "due_from": "2026-11-01"}
    assert "preview" not in body and body["name"] == "Acme"


def test_reminders_send_to_an_agent_queue(monkeypatch, capsys):
    api = FakeApi({("POST", "/reminder-batches"): {"batch_id": BATCH, "accounts": 1}})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["reminders", "send", "--segment", "overdue", "--days", "9",
                        "--channel", "agent", "--queue", "support", "--name", "Acme",
                        "--caller-id", "+14155550100"]) == 0
    [sent] = api.sent
    body = json.loads(sent["body"])
    assert (body["channel"], body["queue"], body["name"]) == ("agent", "support", "Acme")
    assert "flow" not in body and "template" not in body


def test_reminders_batch_and_results(monkeypatch, tmp_path, capsys):
    csv = b"account_id,phone\r\nACC-1,+14155550123\r\n"
    api = FakeApi({("GET", f"/reminder-batches/{BATCH}?paid_within_days=3"): {
        "batch_id": BATCH, "results": {"paid": {"accounts": 1}}},
        ("GET", f"/reminder-batches/{BATCH}/results"): csv})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["reminders", "batch", BATCH, "--paid-within-days", "3"]) == 0
    assert '"accounts": 1' in capsys.readouterr().out
    out = tmp_path / "r.csv"
    assert manage.main(["reminders", "results", BATCH, "-o", str(out)]) == 0
    assert out.read_bytes() == csv and api.sent[-1]["raw"] is True
    assert "1 account(s)" in capsys.readouterr().err


def test_reminders_refused_by_the_api_says_why(monkeypatch, capsys):
    api = FakeApi({("POST", "/reminder-batches"): manage.ApiError(
        400, {"error": "segment.status: must be one of overdue, open, current"})})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["reminders", "send", "--segment", "overdue", "--channel", "sms",
                        "--caller-id", "+14155550100"]) == 1
    assert "segment.status" in capsys.readouterr().err


def test_reminders_remind_one_account(monkeypatch, capsys):
    api = FakeApi({("POST", "/reminders"): {"batch_id": BATCH, "accounts": 1}})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["reminders", "remind", "ACC-1", "--channel", "sms", "--template",
                        "reminder_due", "--caller-id", "+14155550100"]) == 0
    [sent] = api.sent
    assert sent["retries"] == 0 and json.loads(sent["body"]) == {
        "account_id": "ACC-1", "channel": "sms", "template": "reminder_due",
        "caller_id": "+14155550100"}


def test_reminders_policy_results_as_json_and_csv(monkeypatch, tmp_path, capsys):
    path = "/reminder-policies/standard/results"
    csv = b"batch_id,step_day\r\ncmp_1,-3\r\ncmp_2,0\r\n"
    api = FakeApi({("GET", f"{path}?from=2026-11-01&to=2026-11-30"): {"totals": {"sent": 2}},
                   ("GET", f"{path}?format=csv"): csv})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["reminders", "policy", "standard", "--from", "2026-11-01",
                        "--to", "2026-11-30"]) == 0
    assert '"sent": 2' in capsys.readouterr().out
    out = tmp_path / "p.csv"
    assert manage.main(["reminders", "policy", "standard", "--csv", "-o", str(out)]) == 0
    assert out.read_bytes() == csv and "2 batch(es)" in capsys.readouterr().err
