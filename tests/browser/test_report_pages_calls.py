"""The IVR, repeat-callers and missed-calls report pages in headless Chromium, in English and
Chinese: each fetches its report's JSON and Chart.js (served by the app) draws it; the tables
show the same figures. Facts are recorded and rolled up as the stream would, on the demo's
published ``main`` flow and its hotline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.callbacks.missed_facts import follow_up_fact, missed_fact
from chalicelib.callbacks.model import MissedCall
from chalicelib.facts import Fact
from chalicelib.ivr.call_facts import left, reached
from chalicelib.ivr.caller_facts import caller_fact
from chalicelib.ivr.model import flow_zone
from chalicelib.reports.ivr import call_order
from chalicelib.store import facts, flows, rollups
from tests.browser.test_report_page import assert_drawn, chart_data, screenshot, table

DAY1, DAY2, DAY3 = "2026-11-18", "2026-11-19", "2026-11-20"
HOTLINE = "+14155550100"  # the demo's hotline; its entry flow is main (New York)
ZONE = "America/New_York"
# main's calls: (day, nodes run, handed to a person?); each left the IVR at its last node
PATHS = [(DAY1, ["known_language", "choose_language", "vip_check", "main_menu"], False),
         (DAY1, ["known_language", "choose_language", "vip_check", "main_menu"], False),
         (DAY1, ["known_language", "vip_check", "vip_greeting"], True),
         (DAY2, ["known_language", "choose_language"], False)]
REACHED = {"known_language": 4, "choose_language": 3, "vip_check": 3, "vip_greeting": 1,
           "main_menu": 2}
LEFT = {"choose_language": 1, "vip_greeting": 1, "main_menu": 2}
# repeat callers: number -> the days it called (one call each)
CALLERS = {"+14155550161": [DAY1, DAY1, DAY2, DAY2], "+14155550162": [DAY1, DAY2, DAY3],
           "+14155550163": [DAY2]}


def at(day: str, hour: int = 15, minute: int = 0) -> datetime:
    """``hour`` UTC on ``day``: 10:00 in New York, the same local day across the US."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def land(*made: Fact) -> None:
    for fact in made:  # what the stream consumer does with each recorded fact
        facts.record(fact)
        rollups.apply_fact(fact)


def open_page(page, app_server, path: str):
    page.goto(f"{app_server}{path}")
    page.wait_for_selector("body[data-state=ready]")


@pytest.fixture
def ivr_calls(app_server):
    main = flows.get_live("main", 0)
    for n, (day, path, handed_over) in enumerate(PATHS):
        values = {"calls": 1, "contained": 0 if handed_over else 1, left(path[-1]): 1}
        values.update({reached(node): 1 for node in path})
        land(Fact(f"call:CAivrpage{n}:ivr:main", "ivr_call", at(day), flow_zone(main),
                  {"flow": "main", "hotline": HOTLINE}, values).check())


@pytest.fixture
def repeat_calls(app_server):
    for number, days in CALLERS.items():
        for n, day in enumerate(days):
            land(caller_fact(f"CArep{number[-3:]}{n}", HOTLINE, number, at(day, 15 + n), ZONE,
                             served=True))


@pytest.fixture
def missed_calls(app_server):
    first = MissedCall(HOTLINE, "+14155550171", "open", miss_count=1, first_at=at(DAY1))
    second = MissedCall(HOTLINE, "+14155550172", "open", miss_count=1,
                        first_at=at(DAY1, 16))
    again = MissedCall(HOTLINE, "+14155550172", "open", miss_count=2, first_at=at(DAY1, 16))
    land(missed_fact(first, "abandoned", "CAmiss1", "support", at(DAY1), ZONE),
         follow_up_fact(first, at(DAY1, 15, 10), ZONE),  # 600 s later
         missed_fact(second, "after_hours", "CAmiss2", None, at(DAY1, 16), ZONE),
         follow_up_fact(second, at(DAY1, 16, 20), ZONE),  # 1200 s later
         missed_fact(again, "voicemail", "CAmiss3", None, at(DAY2), ZONE))


def test_the_ivr_page_draws_the_funnel_and_containment(page, app_server, ivr_calls, tmp_path):
    # Given four calls through main; When its IVR page opens on three days
    open_page(page, app_server, f"/reports/ivr/page?from={DAY1}&to={DAY3}&flow=main&lang=en")
    # Then the funnel, containment and calls charts are drawn from the report
    for canvas in ("funnel-chart", "contained-chart", "calls-chart"):
        assert_drawn(page, canvas)
    funnel = chart_data(page, "funnel-chart")  # the nodes reached, in the order met
    order = [node for node in call_order(flows.get_live("main", 0)) if node in REACHED]
    assert funnel["type"] == "bar" and funnel["labels"] == order and len(order) == 5
    assert [(d["label"], d["data"]) for d in funnel["datasets"]] == [
        ("Reached", [REACHED[node] for node in order]),
        ("Left here", [LEFT.get(node, 0) for node in order])]
    contained = chart_data(page, "contained-chart")
    assert (contained["type"], contained["labels"], contained["datasets"][0]["data"]) == \
        ("pie", ["Contained", "Handed to a person"], [3, 1])
    calls = chart_data(page, "calls-chart")
    assert calls["type"] == "line" and calls["labels"] == [DAY1, DAY2, DAY3]
    assert [(d["label"], d["data"]) for d in calls["datasets"]] == [
        ("Calls", [3, 1, 0]), ("Contained", [2, 1, 0])]
    # And the tables say the same, formatted for en-US
    [total] = table(page, "totals")
    assert total == {"flow_id": "main", "calls": "4", "contained": "3", "containment": "75%"}
    steps = {r["node"]: r for r in table(page, "funnel")}
    assert (steps["choose_language"]["reached"], steps["choose_language"]["left_here"],
            steps["choose_language"]["reached_share"]) == ("3", "1", "75%")
    assert [r["calls"] for r in table(page, "rows")] == ["3", "1", "0"]
    assert page.locator("h1").inner_text() == "IVR report"
    screenshot(page, tmp_path, "ivr-en")


def test_the_ivr_page_speaks_chinese(page, app_server, ivr_calls, tmp_path):
    open_page(page, app_server, f"/reports/ivr/page?from={DAY1}&to={DAY3}&flow=main&lang=zh")
    for canvas in ("funnel-chart", "contained-chart", "calls-chart"):
        assert_drawn(page, canvas)
    assert page.locator("h1").inner_text() == "IVR 报表"
    funnel = chart_data(page, "funnel-chart")
    assert [d["label"] for d in funnel["datasets"]] == ["到达", "在此离开"]
    assert sum(funnel["datasets"][0]["data"]) == sum(REACHED.values())
    contained = chart_data(page, "contained-chart")
    assert (contained["labels"], contained["datasets"][0]["data"]) == (["IVR 独立处理", "转人工"],
                                                                       [3, 1])
    assert page.locator("#totals thead th").all_inner_texts() == ["流程", "来电", "IVR 独立处理",
                                                                  "自助率"]
    screenshot(page, tmp_path, "ivr-zh")


def test_the_repeat_callers_page_ranks_numbers_and_shows_fcr(page, app_server, repeat_calls,
                                                             tmp_path):
    # Given three numbers calling the hotline, two of them three times or more within a week
    open_page(page, app_server, f"/reports/repeat-callers/page?hotline={HOTLINE}"
                                f"&from={DAY1}&to={DAY3}&lang=en")
    # Then the top numbers are drawn, most calls first, and first-contact resolution is 1 in 3
    for canvas in ("repeat-chart", "fcr-chart"):
        assert_drawn(page, canvas)
    top = chart_data(page, "repeat-chart")
    assert top["type"] == "bar" and top["labels"] == ["+14155550161", "+14155550162"]
    assert [(d["label"], d["data"]) for d in top["datasets"]] == [
        ("Calls in the range", [4, 3]), ("Most calls within D days", [4, 3])]
    fcr = chart_data(page, "fcr-chart")
    assert (fcr["type"], fcr["labels"], fcr["datasets"][0]["data"]) == (
        "doughnut", ["Resolved at the first contact", "Called again"], [33.3, 66.7])
    assert page.locator("#fcr").inner_text() == "33.3%"
    summary = dict(zip(page.locator("#summary dd").evaluate_all(
        "dds => dds.map(d => d.dataset.name)"), page.locator("#summary dd").all_inner_texts(),
        strict=True))
    assert summary == {"callers": "3", "calls": "8", "repeat_callers": "2",
                       "served_callers": "3", "times": "3", "days": "7"}
    rows = table(page, "rows")
    assert [(r["number"], r["calls"], r["first_day"], r["last_day"], r["last_outcome"])
            for r in rows] == [("+14155550161", "4", DAY1, DAY2, "—"),
                               ("+14155550162", "3", DAY1, DAY3, "—")]
    # And the hotline typed with its "+" is asked for as it is, encoded
    assert page.locator("input[name=hotline]").input_value() == HOTLINE
    screenshot(page, tmp_path, "repeat-callers-en")


def test_the_repeat_callers_page_in_chinese_and_without_a_hotline(page, app_server,
                                                                  repeat_calls, tmp_path):
    open_page(page, app_server, f"/reports/repeat-callers/page?hotline={HOTLINE}"
                                f"&from={DAY1}&to={DAY3}&times=4&lang=zh")
    assert page.locator("h1").inner_text() == "重复来电"
    top = chart_data(page, "repeat-chart")  # N = 4: one number left
    assert top["labels"] == ["+14155550161"] and top["datasets"][0]["label"] == "范围内来电"
    assert chart_data(page, "fcr-chart")["labels"] == ["首次即解决", "再次来电"]
    assert page.locator("#fcr").inner_text() == "33.3%"
    screenshot(page, tmp_path, "repeat-callers-zh")
    page.goto(f"{app_server}/reports/repeat-callers/page?lang=zh")
    page.wait_for_selector("body[data-state=idle]")
    assert page.locator("#status").inner_text().startswith("请输入热线号码")


def test_the_missed_page_draws_misses_follow_ups_and_reasons(page, app_server, missed_calls,
                                                             tmp_path):
    # Given three misses of two callers, the first two followed up in 600 s and 1200 s
    open_page(page, app_server, f"/reports/missed/page?from={DAY1}&to={DAY3}"
                                f"&hotline={HOTLINE}&lang=en")
    for canvas in ("missed-day-chart", "follow-up-chart", "reasons-chart"):
        assert_drawn(page, canvas)
    by_day = chart_data(page, "missed-day-chart")
    assert by_day["type"] == "line" and by_day["labels"] == [DAY1, DAY2, DAY3]
    assert [(d["label"], d["data"]) for d in by_day["datasets"]] == [
        ("Missed", [2, 1, 0]), ("Followed up", [2, 0, 0])]
    follow_up = chart_data(page, "follow-up-chart")
    assert (follow_up["type"], follow_up["labels"], follow_up["datasets"][0]["data"]) == \
        ("bar", [HOTLINE], [900])
    reasons = chart_data(page, "reasons-chart")
    assert (reasons["type"], reasons["labels"], reasons["datasets"][0]["data"]) == (
        "pie", ["Hung up waiting", "After hours", "Voicemail", "Callback failed"], [1, 1, 1, 0])
    [total] = table(page, "totals")
    assert (total["missed"], total["followed_up"], total["average_follow_up_seconds"]) == \
        ("3", "2", "900")
    rows = table(page, "rows")
    assert [(r["day"], r["missed"], r["average_follow_up_seconds"]) for r in rows] == [
        (DAY1, "2", "900"), (DAY2, "1", "—"), (DAY3, "0", "—")]
    assert page.locator("h1").inner_text() == "Missed calls report"
    screenshot(page, tmp_path, "missed-en")


def test_the_default_range_fills_the_form_and_nothing_fails(page, app_server, missed_calls):
    # Given the page opened without dates, watching every answer
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    open_page(page, app_server, f"/reports/missed/page?hotline={HOTLINE}&lang=zh")
    # Then From and To show the range the report answered (the last 30 days to the clock's
    # today), and no request failed (no favicon.ico asked for)
    today = datetime(2026, 11, 23).date()
    first, last = page.locator("input[name=from]").input_value(), \
        page.locator("input[name=to]").input_value()
    assert last == today.isoformat() and first == (today - timedelta(days=30)).isoformat(), \
        (first, last)
    assert f"{first} – {last}" in page.locator("#range").inner_text()
    assert page.locator("h1").inner_text() == "未接来电报表"
    assert chart_data(page, "missed-day-chart")["datasets"][0]["label"] == "未接"
    assert failed == []
