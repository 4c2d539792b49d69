"""The campaigns and opt-outs report pages in headless Chromium, in English and Chinese, and the
shared fetch following a paginated answer's ``next`` pages. Campaign counters are written as the
engine writes them (``store.campaigns.count``); opt-out facts are recorded and rolled up as the
stream would."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from chalicelib.campaigns.campaign import AGENTLESS, RUNNING, Campaign
from chalicelib.consent import SMS, VOICE, opt_out_fact
from chalicelib.store import campaigns, facts, rollups
from tests.browser.test_report_page import assert_drawn, chart_data, screenshot, table

DAY1, DAY2 = "2026-11-18", "2026-11-19"
NY = "America/New_York"


def at(day: str, hour: int = 15, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def open_page(page, app_server, path: str):
    page.goto(f"{app_server}{path}")
    page.wait_for_selector("body[data-state=ready]")


def campaign(name: str) -> Campaign:
    made = Campaign(campaign_id="cmp_" + uuid.uuid4().hex[:12], name=name, kind=AGENTLESS,
                    purpose="informational", list_id="cl_x", caller_id="+14155550100",
                    created_at=at("2026-11-10"), status=RUNNING, fallback_tz=NY)
    assert campaigns.create(made)
    return made


@pytest.fixture
def dialled(app_server) -> tuple[Campaign, Campaign]:
    """Flu shots: 10 dials, 4 live, 1 abandoned on the 18th; 6, 2, 0 on the 19th. Renewals: 5
    dials, 1 live, abandoned, on the 18th."""
    flu, renewals = campaign("Flu shots"), campaign("Renewals")
    campaigns.count(flu.campaign_id, at(DAY1), dials=10, live_answers=4, abandoned=1,
                    talk_seconds=300, talks=3)
    campaigns.count(flu.campaign_id, at(DAY2), dials=6, live_answers=2)
    campaigns.count(renewals.campaign_id, at(DAY1, 16), dials=5, live_answers=1, abandoned=1)
    campaigns.add_totals(flu.campaign_id, {"status_done": 3, "disposition_answered": 2,
                                           "disposition_no_answer": 1})
    return flu, renewals


@pytest.fixture
def opted_out(app_server):
    """Three STOPs by text on the 18th, a START on the 19th, a carrier refusing a call then."""
    made = [opt_out_fact(f"+1415555018{n}", SMS, at(DAY1, 15, n), message_sid=f"SMstop{n}")
            for n in range(3)]
    made += [opt_out_fact("+14155550180", SMS, at(DAY2), opted_out=False, message_sid="SMstart"),
             opt_out_fact("+14155550189", VOICE, at(DAY2, 17))]
    for fact in made:  # what the stream consumer does with each recorded fact
        facts.record(fact)
        rollups.apply_fact(fact)


def test_the_campaigns_page_draws_dials_and_the_abandon_rate(page, app_server, dialled,
                                                            tmp_path):
    flu, renewals = dialled
    # When the campaigns page opens on the two days
    open_page(page, app_server, f"/reports/campaigns/page?from={DAY1}&to={DAY2}&lang=en")
    # Then each campaign's dials, live answers and abandoned calls are bars
    for canvas in ("campaign-chart", "abandon-chart"):
        assert_drawn(page, canvas)
    bars = chart_data(page, "campaign-chart")
    mine = [bars["labels"].index("Flu shots"), bars["labels"].index("Renewals")]
    assert bars["type"] == "bar"
    assert [(d["label"], [d["data"][i] for i in mine]) for d in bars["datasets"]] == [
        ("Dials", [16, 5]), ("Live answers", [6, 1]), ("Abandoned", [1, 1])]
    # And the abandon rate by day pools the campaigns: 2 of 5 live answers, then 0 of 2
    rate = chart_data(page, "abandon-chart")
    assert (rate["type"], rate["labels"], rate["datasets"][0]["data"]) == \
        ("line", [DAY1, DAY2], [40, 0])
    totals = {r["campaign_id"]: r for r in table(page, "totals")}
    assert (totals[flu.campaign_id]["name"], totals[flu.campaign_id]["dials"],
            totals[flu.campaign_id]["abandon_rate"],
            totals[flu.campaign_id]["average_talk_seconds"],
            totals[flu.campaign_id]["contacts_by_disposition"],
            totals[flu.campaign_id]["contacts_done"]) == \
        ("Flu shots", "16", "16.7%", "100", "answered 2, no_answer 1", "3")
    assert totals[renewals.campaign_id]["abandon_rate"] == "100%"
    rows = [r for r in table(page, "rows") if r["campaign_id"] == flu.campaign_id]
    assert [(r["day"], r["dials"], r["abandon_rate"]) for r in rows] == [
        (DAY1, "10", "25%"), (DAY2, "6", "0%")]
    assert page.locator("#notes li").count() >= 1
    assert page.locator("h1").inner_text() == "Campaigns report"
    screenshot(page, tmp_path, "campaigns-en")


def test_the_campaigns_page_speaks_chinese(page, app_server, dialled, tmp_path):
    flu, _ = dialled
    open_page(page, app_server, f"/reports/campaigns/page?from={DAY1}&to={DAY2}"
                                f"&campaign={flu.campaign_id}&lang=zh")
    assert page.locator("h1").inner_text() == "外呼活动报表"
    bars = chart_data(page, "campaign-chart")
    assert bars["labels"] == ["Flu shots"]
    assert [(d["label"], d["data"]) for d in bars["datasets"]] == [
        ("拨打", [16]), ("真人接听", [6]), ("放弃", [1])]
    assert chart_data(page, "abandon-chart")["datasets"][0] == {"label": "放弃率",
                                                                "data": [25, 0]}
    screenshot(page, tmp_path, "campaigns-zh")


def test_the_opt_outs_page_draws_channels_and_days(page, app_server, opted_out, tmp_path):
    open_page(page, app_server, f"/reports/opt-outs/page?from={DAY1}&to={DAY2}&lang=en")
    for canvas in ("channel-chart", "opt-out-day-chart"):
        assert_drawn(page, canvas)
    channels = chart_data(page, "channel-chart")
    assert (channels["type"], channels["labels"], channels["datasets"][0]["data"]) == \
        ("pie", ["Text (SMS)", "Voice"], [3, 1])
    by_day = chart_data(page, "opt-out-day-chart")
    assert by_day["type"] == "line" and by_day["labels"] == [DAY1, DAY2]
    assert [(d["label"], d["data"]) for d in by_day["datasets"]] == [
        ("Opt-outs", [3, 1]), ("Opt-ins", [0, 1])]
    assert table(page, "totals") == [
        {"channel": "Text (SMS)", "opt_outs": "3", "opt_ins": "1", "net": "2"},
        {"channel": "Voice", "opt_outs": "1", "opt_ins": "0", "net": "1"}]
    assert len(table(page, "rows")) == 4
    screenshot(page, tmp_path, "opt-outs-en")


def test_the_opt_outs_page_speaks_chinese(page, app_server, opted_out, tmp_path):
    open_page(page, app_server, f"/reports/opt-outs/page?from={DAY1}&to={DAY2}&channel=sms"
                                "&lang=zh")
    assert page.locator("h1").inner_text() == "退订报表"
    channels = chart_data(page, "channel-chart")
    assert (channels["labels"], channels["datasets"][0]["data"]) == (["短信"], [3])
    assert [d["label"] for d in chart_data(page, "opt-out-day-chart")["datasets"]] == \
        ["退订", "重新订阅"]
    assert page.locator("select[name=channel]").input_value() == "sms"
    screenshot(page, tmp_path, "opt-outs-zh")


def test_a_paginated_answer_is_followed_and_put_end_to_end(page, app_server):
    # Given an API answering in two pages, each with its own channel's rows and totals
    def part(channel: str, outs: list[int], next_page: str | None) -> dict:
        return {"kind": "opt-outs", "from": DAY1, "to": DAY2, "interval": "day",
                "rows": [{"channel": channel, "day": day, "opt_outs": n, "opt_ins": 0, "net": n}
                         for day, n in zip((DAY1, DAY2), outs, strict=True)],
                "totals": [{"channel": channel, "opt_outs": sum(outs), "opt_ins": 0,
                            "net": sum(outs)}], "next": next_page}

    asked: list[tuple[str, str | None]] = []

    def answer(route):
        url, key = route.request.url, route.request.headers.get("x-api-key")
        asked.append((url, key))
        body = part("voice", [0, 2], None) if "page=2" in url else \
            part("sms", [3, 1], "/reports/opt-outs?from=2026-11-18&to=2026-11-19&page=2")
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/reports/opt-outs?*", answer)
    page.goto(f"{app_server}/reports/opt-outs/page?from={DAY1}&to={DAY2}&lang=en")
    page.wait_for_selector("body[data-state=ready]")
    page.fill("input[name=api_key]", "k-42")
    page.click("button[type=submit]")
    page.wait_for_function("document.body.dataset.state === 'ready' && "
                           "document.querySelectorAll('#totals tbody tr').length === 2")
    # Then the second page is asked for, with the key, and both pages are drawn together
    assert [key for url, key in asked[-2:]] == ["k-42", "k-42"]
    assert asked[-1][0].startswith(app_server) and "page=2" in asked[-1][0]
    channels = chart_data(page, "channel-chart")
    assert (channels["labels"], channels["datasets"][0]["data"]) == (["Text (SMS)", "Voice"],
                                                                     [4, 2])
    by_day = chart_data(page, "opt-out-day-chart")
    assert by_day["datasets"][0]["data"] == [3, 3]
    assert [r["channel"] for r in table(page, "rows")] == ["Text (SMS)"] * 2 + ["Voice"] * 2


def test_a_next_page_met_again_stops_with_an_error(page, app_server):
    loop = {"kind": "opt-outs", "from": DAY1, "to": DAY1, "interval": "day", "rows": [],
            "totals": [], "next": "/reports/opt-outs?page=2"}
    page.route("**/reports/opt-outs?*", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(loop)))
    page.goto(f"{app_server}/reports/opt-outs/page?lang=en")
    page.wait_for_selector("body[data-state=failed]")
    assert "could not be loaded" in page.locator("#status").inner_text()

