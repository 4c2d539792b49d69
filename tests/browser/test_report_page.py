"""The queues report page in headless Chromium, in English and Chinese: the page fetches the
report's JSON, Chart.js (served by the app itself) draws a line, a bar and a pie chart from it,
and the tables show the same figures; ticked live, they move as calls land. Facts are recorded
and rolled up as the stream would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.facts import Fact
from chalicelib.routing import queue_facts
from chalicelib.routing.model import QueueConfig
from chalicelib.store import facts, rollups, routing
from tests.browser.conftest import OPEN_HOURS

QUEUE = QueueConfig("rpt-page", "Report page", timezone="America/New_York")  # SL: 20 s
FIRST, LAST = "2026-11-18", "2026-11-20"
HOTLINE = "+14155550100"
# (local day in New York, what happened, seconds waited): 6 offered, 5 answered (4 within
# 20 s), 1 abandoned; nothing on the 20th.
CALLS = [("2026-11-18", "answered", 10), ("2026-11-18", "answered", 12),
         ("2026-11-18", "answered", 60), ("2026-11-18", "abandoned", 5),
         ("2026-11-19", "answered", 5), ("2026-11-19", "answered", 8)]
# callbacks the queue's callers asked for on the 18th: 3 asked, 2 completed, 1 failed
CALLBACKS = [("requested", 3), ("completed", 2), ("failed", 1)]
BLANK = "() => { const c = document.createElement('canvas'); c.width = %d; c.height = %d; " \
        "return c.toDataURL(); }"


@pytest.fixture(autouse=True)
def history(app_server):
    routing.save_queue(QUEUE, OPEN_HOURS)
    for n, (day, outcome, waited) in enumerate(CALLS):
        at = datetime.fromisoformat(f"{day}T15:00:00").replace(tzinfo=UTC)  # 10:00 New York
        key = f"CAtest{n:04d}"
        made = [queue_facts.offered(QUEUE, key, at, HOTLINE)]
        if outcome == "answered":
            made.append(queue_facts.answered(QUEUE, key, at, HOTLINE, "ag-rpt", waited))
        else:
            made.append(queue_facts.abandoned(QUEUE, key, at, HOTLINE, waited))
        for fact in made:  # what the stream consumer does with each recorded fact
            facts.record(fact)
            rollups.apply_fact(fact)
    asked = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
    for what, times in CALLBACKS:  # as callbacks.model.request_fact makes them
        for n in range(times):
            fact = Fact(f"callback:cb_page{n}:{what}", f"callback_{what}", asked,
                        QUEUE.timezone, {"queue": QUEUE.queue_id}, {f"callbacks_{what}": 1})
            facts.record(fact.check())
            rollups.apply_fact(fact)


def open_report(page, app_server, lang: str):
    page.goto(f"{app_server}/reports/queues/page?from={FIRST}&to={LAST}&queue={QUEUE.queue_id}"
              f"&lang={lang}")
    page.wait_for_selector("body[data-state=ready]")


def chart_data(page, canvas_id: str) -> dict:
    return page.evaluate("""id => { const chart = Chart.getChart(document.getElementById(id));
        return {type: chart.config.type, labels: chart.data.labels,
                datasets: chart.data.datasets.map(d => ({label: d.label, data: d.data}))}; }""",
                         canvas_id)


def assert_drawn(page, canvas_id: str):
    """The canvas holds pixels: its image differs from a blank canvas of the same size."""
    canvas = page.locator(f"#{canvas_id}")
    width, height = page.evaluate("id => { const c = document.getElementById(id); "
                                  "return [c.width, c.height]; }", canvas_id)
    assert width > 100 and height > 100
    drawn = canvas.evaluate("c => c.toDataURL()")
    assert drawn != page.evaluate(BLANK % (width, height))
    painted = canvas.evaluate("""c => { const d = c.getContext('2d')
        .getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert painted > 500, f"{canvas_id}: {painted} painted pixels"


def table(page, table_id: str) -> list[dict[str, str]]:
    return page.evaluate("""id => Array.from(document.querySelectorAll(`#${id} tbody tr`))
        .map(tr => Object.fromEntries(Array.from(tr.cells)
            .map(td => [td.dataset.column, td.textContent])))""", table_id)


def screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000, "a screenshot of three charts is not that small"
    return path


def test_the_queues_page_draws_the_report_in_english(page, app_server, tmp_path):
    # Given a queue's calls over three days; When its report page opens in English
    open_report(page, app_server, "en")
    # Then the three charts are drawn, from the report's figures
    for canvas in ("volume-chart", "levels-chart", "outcome-chart", "callbacks-chart"):
        assert_drawn(page, canvas)
    volume = chart_data(page, "volume-chart")
    assert volume["type"] == "line" and volume["labels"] == [FIRST, "2026-11-19", LAST]
    assert [(d["label"], d["data"]) for d in volume["datasets"]] == [
        ("Offered", [4, 2, 0]), ("Answered", [3, 2, 0]), ("Abandoned", [1, 0, 0])]
    levels = chart_data(page, "levels-chart")
    assert levels["type"] == "bar" and levels["labels"] == [QUEUE.queue_id]
    assert [(d["label"], d["data"]) for d in levels["datasets"]] == [
        ("Service level", [80]), ("Abandon rate", [16.7])]
    outcome = chart_data(page, "outcome-chart")
    assert (outcome["type"], outcome["labels"], outcome["datasets"][0]["data"]) == \
        ("pie", ["Answered", "Abandoned"], [5, 1])
    callbacks = chart_data(page, "callbacks-chart")
    assert callbacks["type"] == "bar" and callbacks["labels"] == [QUEUE.queue_id]
    assert [(d["label"], d["data"]) for d in callbacks["datasets"]] == [
        ("Callbacks requested", [3]), ("Callbacks completed", [2]), ("Callbacks failed", [1])]
    # And the tables show the same numbers, formatted for en-US
    [total] = table(page, "totals")
    assert total == {"queue_id": QUEUE.queue_id, "offered": "6", "answered": "5",
                     "abandoned": "1", "service_level": "80%", "asa_seconds": "19",
                     "abandon_rate": "16.7%", "average_abandon_wait_seconds": "5",
                     "abandoned_in_sl": "1", "callbacks_requested": "3",
                     "callbacks_completed": "2", "callbacks_failed": "1",
                     "callbacks_cancelled": "0", "average_callback_wait_seconds": "0",
                     "dispositions": "0"}
    rows = table(page, "rows")
    assert [(r["when"], r["offered"], r["answered"], r["abandoned"]) for r in rows] == [
        (FIRST, "4", "3", "1"), ("2026-11-19", "2", "2", "0"), (LAST, "0", "0", "0")]
    assert rows[-1]["service_level"] == "—"
    assert [r["callbacks_requested"] for r in rows] == ["3", "0", "0"]
    assert page.locator("h1").inner_text() == "Queues report"
    assert not page.locator("#charts-unavailable").count()
    screenshot(page, tmp_path, "queues-en")


def test_the_queues_page_speaks_chinese(page, app_server, tmp_path):
    open_report(page, app_server, "zh")
    for canvas in ("volume-chart", "levels-chart", "outcome-chart", "callbacks-chart"):
        assert_drawn(page, canvas)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert [d["label"] for d in chart_data(page, "callbacks-chart")["datasets"]] == [
        "回拨请求", "回拨完成", "回拨失败"]
    assert page.locator("h1").inner_text() == "队列报表"
    volume = chart_data(page, "volume-chart")
    assert [(d["label"], d["data"]) for d in volume["datasets"]] == [
        ("来电", [4, 2, 0]), ("已接通", [3, 2, 0]), ("放弃", [1, 0, 0])]
    levels = chart_data(page, "levels-chart")
    assert [d["label"] for d in levels["datasets"]] == ["服务水平", "放弃率"]
    outcome = chart_data(page, "outcome-chart")
    assert (outcome["labels"], outcome["datasets"][0]["data"]) == (["已接通", "放弃"], [5, 1])
    headers = page.locator("#totals thead th").all_inner_texts()
    assert {"队列", "已接通", "放弃", "服务水平", "放弃率"} <= set(headers)
    [total] = table(page, "totals")
    assert (total["answered"], total["service_level"], total["abandon_rate"]) == \
        ("5", "80%", "16.7%")
    # the link back to English keeps the query
    link = page.locator("#language")
    assert link.inner_text() == "English" and f"queue={QUEUE.queue_id}" in \
        link.get_attribute("href") and "lang=en" in link.get_attribute("href")
    screenshot(page, tmp_path, "queues-zh")


def test_the_form_asks_again_with_the_typed_key(page, app_server):
    # Given the page open on the three days
    open_report(page, app_server, "en")
    sent: list[dict] = []
    page.on("request", lambda request: sent.append(
        {"url": request.url, "key": request.headers.get("x-api-key")})
        if "/reports/queues?" in request.url else None)
    # When the user narrows it to one day by half-hour, with an API key
    page.fill("input[name=from]", FIRST)
    page.fill("input[name=to]", FIRST)
    page.select_option("select[name=interval]", "half-hour")
    page.fill("input[name=api_key]", "k-123")
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-state=ready]")
    # Then the report is asked again with the key, same origin, and redrawn by half-hour
    assert sent and sent[-1]["key"] == "k-123" and sent[-1]["url"].startswith(app_server)
    volume = chart_data(page, "volume-chart")
    assert len(volume["labels"]) == 48 and volume["labels"][20] == f"{FIRST} 10:00"
    assert volume["datasets"][0]["data"][20] == 4 and sum(volume["datasets"][0]["data"]) == 4
    assert page.locator("#rows-title").inner_text() == "By half-hour and queue"
    # And the key stays in this tab's session storage only
    assert page.evaluate("sessionStorage.getItem('switchboard.reports.apiKey')") == "k-123"
    assert page.evaluate("localStorage.length") == 0


def test_without_the_bundled_library_the_tables_still_show(page, app_server, monkeypatch):
    from chalicelib.reports import pages

    # Given an app whose package lacks Chart.js (make bundle not run)
    monkeypatch.setattr(pages, "CHART_JS", Path("/nonexistent/chart.umd.js"))
    # When the page opens
    open_report(page, app_server, "en")
    # Then it says the charts are unavailable, draws none, and the tables have the figures
    assert "Charts are unavailable" in page.locator("#charts-unavailable").inner_text()
    assert page.evaluate("typeof Chart") == "undefined"
    [total] = table(page, "totals")
    assert (total["offered"], total["answered"], total["abandoned"]) == ("6", "5", "1")


def test_ticked_live_the_charts_move_as_calls_land(page, app_server):
    # Given the page open, its clock Playwright's, with live refresh ticked
    page.clock.install()
    open_report(page, app_server, "en")
    page.check("input[name=live]")
    # When another call is answered on the 20th and 30 seconds pass
    at = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    for fact in (queue_facts.offered(QUEUE, "CAlive0001", at, HOTLINE),
                 queue_facts.answered(QUEUE, "CAlive0001", at, HOTLINE, "ag-rpt", 3)):
        facts.record(fact)
        rollups.apply_fact(fact)
    page.clock.run_for(31_000)
    # Then the charts and the tables show it without a reload
    page.wait_for_function("Chart.getChart(document.getElementById('outcome-chart'))"
                           ".data.datasets[0].data[0] === 6")
    page.wait_for_selector("body[data-state=ready]")
    volume = chart_data(page, "volume-chart")
    assert volume["datasets"][1]["data"] == [3, 2, 1]
    [total] = table(page, "totals")
    assert (total["offered"], total["answered"]) == ("7", "6")
