"""The campaigns report: a campaign's hourly counters grouped into its local days, its contacts
by disposition, a reminder batch's payments within 7 days of its start, and which campaigns a
range lists. DynamoDB Local (the campaigns, billing tables)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.campaigns.campaign import AGENTLESS, COMPLETED, DRAFT, RUNNING, SMS_KIND, Campaign
from chalicelib.campaigns.contact import DELIVERED, DONE, CampaignContact
from chalicelib.reports import campaigns as report_module
from chalicelib.reports import routes
from chalicelib.store import campaigns as store
from tests.integration.test_reminder_batches import HOTLINE, account, pay

SUNDAY, MONDAY = date(2026, 11, 22), date(2026, 11, 23)
LA = "America/Los_Angeles"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def campaign(*, created: datetime, status: str = RUNNING, kind: str = AGENTLESS,
             batch: bool = False, **more) -> Campaign:
    cid = "cmp_" + uuid.uuid4().hex[:12]
    made = Campaign(campaign_id=cid, name="Flu shots " + cid[-4:], kind=kind,
                    purpose="informational", list_id=("batch:" + cid) if batch else "cl_x",
                    caller_id=HOTLINE, created_at=created, status=status, **more)
    assert store.create(made)
    return made


def test_hours_land_on_the_campaigns_local_days_and_the_figures_add_up(client):
    calls = campaign(created=utc(2026, 11, 20, 9), fallback_tz=LA)
    store.count(calls.campaign_id, utc(2026, 11, 23, 7, 10), dials=2, live_answers=1)  # Sun 23:10
    store.count(calls.campaign_id, utc(2026, 11, 23, 15, 5), dials=3, live_answers=2,
                abandoned=1, talk_seconds=90, talks=1)
    store.count(calls.campaign_id, utc(2026, 11, 23, 15, 40), machine_answers=1)
    store.count(calls.campaign_id, utc(2026, 11, 24, 9), dials=7)  # Tue 01:00: outside
    store.add_totals(calls.campaign_id, {"status_done": 3, "disposition_answered": 2,
                                         "disposition_no_answer": 1})

    made = report_module.report(SUNDAY, MONDAY, "day", calls.campaign_id)

    assert made["rows"] == [
        {"campaign_id": calls.campaign_id, "day": "2026-11-22", "dials": 2, "live_answers": 1,
         "abandoned": 0, "abandon_rate": 0.0, "machine_answers": 0, "texts": 0,
         "average_talk_seconds": None},
        {"campaign_id": calls.campaign_id, "day": "2026-11-23", "dials": 3, "live_answers": 2,
         "abandoned": 1, "abandon_rate": 0.5, "machine_answers": 1, "texts": 0,
         "average_talk_seconds": 90.0}]
    [totals] = made["totals"]
    assert totals["dials"] == 5 and totals["abandon_rate"] == round(1 / 3, 4)
    assert totals["contacts_by_disposition"] == {"answered": 2, "no_answer": 1}
    assert totals["contacts_done"] == 3 and totals["reminder_batch"] is False
    assert totals["paid_accounts"] is None


def test_a_reminder_batch_counts_what_was_paid_within_7_days(client):
    batch = campaign(created=utc(2026, 11, 22, 12), status=COMPLETED, kind=SMS_KIND,
                     batch=True, started_at=utc(2026, 11, 22, 12),
                     ended_at=utc(2026, 11, 22, 13))
    paid, late = account(None, amount=1500), account(None, amount=900)
    for holder in (paid, late):
        store.add_contact(CampaignContact(
            campaign_id=batch.campaign_id, phone=holder.phones[0], status=DONE,
            disposition=DELIVERED, attributes={"account_id": holder.account_id}))
    pay(paid.account_id, 1500, utc(2026, 11, 24, 10))
    pay(late.account_id, 900, utc(2026, 12, 5, 10))  # 13 days after: not counted
    store.count(batch.campaign_id, utc(2026, 11, 22, 12, 1), texts=2)

    [totals] = report_module.report(SUNDAY, MONDAY, "day", batch.campaign_id)["totals"]
    assert totals["reminder_batch"] is True and totals["texts"] == 2
    assert totals["paid_accounts"] == 1
    assert totals["amount_collected"] == {"USD": {"minor": 1500, "amount": "15.00"}}
    assert totals["amounts_collected"] == "USD 15.00"


def test_a_range_lists_the_campaigns_that_could_have_run_in_it(client, monkeypatch):
    recent = campaign(created=utc(2026, 11, 21))
    long_live = campaign(created=utc(2026, 5, 1))  # made long ago, still calling
    ended_before = campaign(created=utc(2026, 11, 1), status=COMPLETED,
                            ended_at=utc(2026, 11, 10))
    draft = campaign(created=utc(2026, 11, 22), status=DRAFT)
    batch = campaign(created=utc(2026, 11, 22), status=COMPLETED, kind=SMS_KIND, batch=True,
                     ended_at=utc(2026, 11, 22, 13))

    made = report_module.report(SUNDAY, MONDAY, "day", None)
    listed = {t["campaign_id"] for t in made["totals"]}
    assert {recent.campaign_id, long_live.campaign_id, batch.campaign_id} <= listed
    assert not {ended_before.campaign_id, draft.campaign_id} & listed
    assert len(made["rows"]) == 2 * len(listed)  # every day a row

    monkeypatch.setattr(report_module, "MAX_TALLIED_BATCHES", 0)
    capped = report_module.report(SUNDAY, MONDAY, "day", None)
    [row] = [t for t in capped["totals"] if t["campaign_id"] == batch.campaign_id]
    assert row["paid_accounts"] is None and "reminder batches" in capped["notes"][-1]


def test_refusals(client):
    with pytest.raises(NotFound):
        report_module.report(SUNDAY, MONDAY, "day", "cmp_nosuchcampaign")
    with pytest.raises(InvalidRequest):
        report_module.report(SUNDAY, MONDAY, "half-hour", None)


def test_through_the_reports_api(client, monkeypatch):
    monkeypatch.setitem(routes.KINDS, "campaigns", report_module)  # the lead registers it
    calls = campaign(created=utc(2026, 11, 20))
    store.count(calls.campaign_id, utc(2026, 11, 23, 15), dials=4, live_answers=4)
    response = client.http.get(f"/reports/campaigns?from={MONDAY}&to={MONDAY}"
                               f"&campaign={calls.campaign_id}")
    assert response.status_code == 200
    assert json.loads(response.body)["rows"][0]["dials"] == 4
    assert client.http.get("/reports/campaigns?campaign=not-an-id").status_code == 404
    response = client.http.get(f"/reports/campaigns?from={MONDAY}&to={MONDAY}"
                               f"&campaign={calls.campaign_id}&format=csv")
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert body.splitlines()[1].startswith(f"{calls.campaign_id},2026-11-23,4,4,0,0.0,")
