"""The agents and staffing report pages in headless Chromium, in English and Chinese: each
fetches its report's JSON and Chart.js (served by the app) draws it; the tables show the same
figures. Agent-time facts are recorded and rolled up as the stream would; the staffing history
is four past weeks of a queue's half-hour rollups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.routing import agent_facts, wrap_up
from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig
from chalicelib.store import facts, rollups, routing
from tests.browser.conftest import OPEN_HOURS
from tests.browser.test_report_page import assert_drawn, chart_data, screenshot, table

DAY1, DAY2 = "2026-11-18", "2026-11-19"
# (agent, state, seconds) left one after another on DAY1 from 14:00 UTC: ag-pg-a handles two
# calls (on a call 600 s, 90 s of it holding the caller; wrap-up 120 s), ag-pg-b one (talk
# 200 s, wrap-up 40 s).
TIMELINE = {
    "ag-pg-a": [(AgentState.AVAILABLE, 600), (AgentState.ON_CALL, 300), (AgentState.WRAP_UP, 60),
                (AgentState.ON_CALL, 300), (AgentState.WRAP_UP, 60), (AgentState.AWAY, 300)],
    "ag-pg-b": [(AgentState.AVAILABLE, 760), (AgentState.ON_CALL, 200),
                (AgentState.WRAP_UP, 40)],
}
STAFFED = QueueConfig("pg_staff", "Staffing page", timezone="America/New_York")
PLAN_FROM = date(2026, 12, 7)  # a Monday


@pytest.fixture
def agent_time(app_server):
    for agent_id, states in TIMELINE.items():
        routing.save_agent_profile(Agent(agent_id, agent_id, Endpoint("client", agent_id),
                                         timezone="UTC"), OPEN_HOURS)
        since = datetime.fromisoformat(f"{DAY1}T14:00:00").replace(tzinfo=UTC)
        for state, seconds in states:
            left = since + timedelta(seconds=seconds)
            fact = agent_facts.time_in_state(agent_id, "UTC", state, since, left)
            assert fact is not None
            facts.record(fact)
            rollups.apply_fact(fact)  # what the stream consumer does with each recorded fact
            since = left
    # ag-pg-a held its first caller for 90 s of that call's 300 s
    start = datetime.fromisoformat(f"{DAY1}T14:11:00").replace(tzinfo=UTC)
    held = agent_facts.hold_time("ag-pg-a", "UTC", "CA" + "7" * 32, start,
                                 start + timedelta(seconds=90))
    facts.record(held)
    rollups.apply_fact(held)
    # and coded it resolved at wrap-up
    coded = wrap_up.disposition_facts("CA" + "7" * 32, routing.get_agent("ag-pg-a"), None,
                                      "resolved", start + timedelta(seconds=400))[0]
    facts.record(coded)
    rollups.apply_fact(coded)


@pytest.fixture
def queue_history(app_server):
    """Four past Mondays with 100 calls at 10:00 New York (AHT: the default 180 s)."""
    routing.save_queue(STAFFED, OPEN_HOURS)
    for weeks_back in range(1, 5):
        day = PLAN_FROM - timedelta(days=7 * weeks_back)
        rollups.replace_day(rollups.day_key("queue", STAFFED.queue_id, day),
                            {"day": {"offered": 100}, "10:00": {"offered": 100}})


def _open(page, app_server, path: str):
    page.goto(f"{app_server}{path}")
    page.wait_for_selector("body[data-state=ready]")


def test_the_agents_page_draws_handled_time_and_occupancy(page, app_server, agent_time, tmp_path):
    # Given two agents' time on the 18th; When the agents page opens on two days
    _open(page, app_server, f"/reports/agents/page?from={DAY1}&to={DAY2}&interval=day&lang=en")
    # Then the three charts are drawn from the report
    for canvas in ("handled-chart", "time-chart", "occupancy-chart"):
        assert_drawn(page, canvas)
    handled = chart_data(page, "handled-chart")
    assert handled["type"] == "bar" and handled["labels"][:2] == ["ag-pg-a", "ag-pg-b"]
    assert handled["datasets"][0]["label"] == "Handled"
    assert handled["datasets"][0]["data"][:2] == [2, 1]
    time = chart_data(page, "time-chart")
    mine = [time["labels"].index("ag-pg-a"), time["labels"].index("ag-pg-b")]
    assert [(d["label"], [d["data"][i] for i in mine]) for d in time["datasets"]] == [
        ("Talk time (s)", [510, 200]), ("Hold (s)", [90, 0]), ("Wrap-up (s)", [120, 40]),
        ("Available (s)", [600, 760]), ("Break (s)", [300, 0])]
    occupancy = chart_data(page, "occupancy-chart")
    # pooled: (510 + 90 + 120 + 200 + 40) / (960 + 600 + 760) on the 18th; nobody on the 19th
    assert occupancy["type"] == "line" and occupancy["labels"] == [DAY1, DAY2]
    assert occupancy["datasets"][0]["data"] == [41.4, None]
    ranking = table(page, "ranking")
    assert [(r["rank"], r["agent_id"], r["handled"], r["aht_seconds"]) for r in ranking[:2]] == [
        ("1", "ag-pg-a", "2", "360"), ("2", "ag-pg-b", "1", "240")]
    totals = {r["agent_id"]: r for r in table(page, "totals")}
    assert (totals["ag-pg-a"]["occupancy"], totals["ag-pg-a"]["break_seconds"]) == \
        ("54.6%", "300")  # 720 / 1320
    assert (totals["ag-pg-a"]["dispositions"], totals["ag-pg-a"]["disposition_resolved"],
            totals["ag-pg-b"]["disposition_resolved"]) == ("1", "1", "0")
    assert "Coded: resolved" in page.locator("#totals thead").inner_text()
    assert page.locator("h1").inner_text() == "Agents report"
    screenshot(page, tmp_path, "agents-en")


def test_the_agents_page_speaks_chinese(page, app_server, agent_time, tmp_path):
    _open(page, app_server, f"/reports/agents/page?from={DAY1}&to={DAY2}&lang=zh")
    for canvas in ("handled-chart", "time-chart", "occupancy-chart"):
        assert_drawn(page, canvas)
    assert page.locator("h1").inner_text() == "坐席报表"
    time = chart_data(page, "time-chart")
    assert [d["label"] for d in time["datasets"]] == ["通话时长（秒）", "保持（秒）",
                                                      "话后处理（秒）", "空闲（秒）", "休息（秒）"]
    assert chart_data(page, "handled-chart")["datasets"][0]["label"] == "已处理"
    headers = page.locator("#ranking thead th").all_inner_texts()
    assert headers == ["排名", "坐席", "已处理", "平均处理时长（秒）"]
    screenshot(page, tmp_path, "agents-zh")


def test_the_staffing_page_plans_the_week(page, app_server, queue_history, tmp_path):
    # Given four past Mondays with 100 calls at 10:00; When the plan for the next week opens
    _open(page, app_server, f"/reports/staffing/page?queue={STAFFED.queue_id}"
                            f"&from={PLAN_FROM}&lang=en")
    # Then the forecast and the agents are drawn per half-hour of the week
    for canvas in ("forecast-chart", "staff-chart"):
        assert_drawn(page, canvas)
    forecast = chart_data(page, "forecast-chart")
    assert len(forecast["labels"]) == 7 * 48 and forecast["labels"][20] == "2026-12-07 10:00"
    assert forecast["datasets"][0]["label"] == "Forecast calls"
    calls = forecast["datasets"][0]["data"]
    assert calls[20] == 100 and sum(calls) == 100
    staff = chart_data(page, "staff-chart")
    assert [(d["label"], d["data"][20]) for d in staff["datasets"]] == [
        ("Agents needed", 14), ("Agents scheduled", 20)]  # Erlang C, 80 % in 20 s, 30 % shrinkage
    assumptions = dict(zip(page.locator("#assumptions dd").evaluate_all(
        "dds => dds.map(d => d.dataset.name)"), page.locator("#assumptions dd").all_inner_texts(),
        strict=True))
    assert (assumptions["model"], assumptions["target_sl"], assumptions["answer_within"],
            assumptions["shrinkage"], assumptions["aht_seconds"], assumptions["weeks"]) == \
        ("Erlang C", "80%", "20", "30%", "180", "4")
    peaks = table(page, "peaks")
    assert len(peaks) == 7
    assert (peaks[0]["day"], peaks[0]["forecast_offered"], peaks[0]["peak_half_hour"],
            peaks[0]["peak_agents"], peaks[0]["peak_scheduled_agents"]) == \
        ("2026-12-07", "100", "10:00", "14", "20")
    assert (peaks[1]["forecast_offered"], peaks[1]["peak_half_hour"]) == ("0", "—")
    screenshot(page, tmp_path, "staffing-en")
    # When the planner says callers hang up after 2 minutes
    page.fill("input[name=patience]", "120")
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('#assumptions dd[data-name=model]')"
                           ".textContent === 'Erlang A'")
    page.wait_for_selector("body[data-state=ready]")
    # Then the plan is Erlang A, never needing more agents
    assert chart_data(page, "staff-chart")["datasets"][0]["data"][20] <= 14


def test_the_staffing_page_speaks_chinese_and_asks_for_a_queue(page, app_server, queue_history,
                                                                tmp_path):
    _open(page, app_server, f"/reports/staffing/page?queue={STAFFED.queue_id}"
                            f"&from={PLAN_FROM}&lang=zh")
    assert page.locator("h1").inner_text() == "排班预测"
    staff = chart_data(page, "staff-chart")
    assert [d["label"] for d in staff["datasets"]] == ["所需坐席", "排班坐席"]
    assert "服务水平目标" in page.locator("#assumptions").inner_text()
    assert chart_data(page, "forecast-chart")["datasets"][0]["label"] == "预测来电"
    screenshot(page, tmp_path, "staffing-zh")
    # without a queue nothing is asked: the page says what it needs
    page.goto(f"{app_server}/reports/staffing/page?lang=zh")
    page.wait_for_selector("body[data-state=idle]")
    assert page.locator("#status").inner_text() == "请输入要排班的队列。"
