"""Reports in pages (``reports.cursors``): a report over many queues, agents, hotlines or
repeat callers split by a small ``limit`` into pages of whole members, following ``next`` (or a
CSV's ``Link`` header), concatenates to exactly the report in one page; a cursor made for
another report or other parameters is refused; ``manage.py reports export`` writes one file.
DynamoDB Local, the reports API through Chalice's test client."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

import manage
from chalicelib.ivr.caller_facts import callers_id, shard, value_name
from chalicelib.reports import repeat_callers
from chalicelib.reports.cursors import Page
from chalicelib.reports.exports import XLSX_TYPE
from chalicelib.routing.model import Agent, Endpoint, QueueConfig
from chalicelib.store import rollups
from chalicelib.store import routing as routing_store

NY = "America/New_York"
FIRST = date(2026, 10, 1)
LAST = FIRST + timedelta(days=2)  # 3 days: 3 rows a member by day
QUEUES = [f"pq{n}" for n in range(7)]
HOTLINE = "+14155550100"  # the demo's


def get(client, path: str):
    response = client.http.get(path)
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    return response.status_code, response.headers, body


def seed_queues() -> None:
    now = datetime(2026, 9, 1, tzinfo=UTC)
    for n, queue_id in enumerate(QUEUES):
        routing_store.save_queue(QueueConfig(queue_id, queue_id, timezone=NY), now)
        for offset in range(3):
            values = {"offered": n + offset + 1, "answered": n + 1, "answered_in_sl": n,
                      "wait_seconds": 10 * n}
            rollups.replace_day(rollups.day_key("queue", queue_id, FIRST + timedelta(offset)),
                                {"day": values, "10:00": values})


def every_page(client, path: str) -> list[dict]:
    pages = []
    while path:
        status, _, body = get(client, path)
        assert status == 200, body
        pages.append(json.loads(body))
        path = pages[-1]["next"]
    return pages


@pytest.mark.parametrize("interval", ["day", "half-hour"])
def test_pages_of_whole_queues_concatenate_to_the_report_in_one_page(client, interval):
    seed_queues()
    query = f"from={FIRST}&to={LAST}&interval={interval}"
    status, _, body = get(client, f"/reports/queues?{query}")
    assert status == 200, body
    whole = json.loads(body)
    assert whole["next"] is None  # every queue fits the default limit
    per_queue = len(whole["rows"]) // len(whole["totals"])  # 3 days, or their half-hours
    queues = len(whole["totals"])
    assert queues >= len(QUEUES)

    # a limit of two queues' rows: pages of two whole queues, in id order
    pages = every_page(client, f"/reports/queues?{query}&limit={2 * per_queue + 1}")
    assert len(pages) == math.ceil(queues / 2)
    assert all(len(page["rows"]) <= 2 * per_queue + 1 for page in pages)
    assert [r for page in pages for r in page["rows"]] == whole["rows"]
    assert [t for page in pages for t in page["totals"]] == whole["totals"]
    assert [t["queue_id"] for t in whole["totals"]] == sorted(t["queue_id"]
                                                              for t in whole["totals"])
    assert pages[-1]["next"] is None and all(page["next"] for page in pages[:-1])
    # a limit under one queue's rows: one whole queue a page all the same
    single = every_page(client, f"/reports/queues?{query}&limit=1")
    assert [len(page["totals"]) for page in single] == [1] * queues
    assert [r for page in single for r in page["rows"]] == whole["rows"]


def test_agents_page_by_agent_and_each_page_ranks_its_own(client):
    now = datetime(2026, 9, 1, tzinfo=UTC)
    for n in range(5):
        routing_store.save_agent_profile(Agent(f"pa{n}", f"Paged {n}", Endpoint("client", f"pa{n}"),
                                                     timezone=NY), now)
        rollups.replace_day(rollups.day_key("agent", f"pa{n}", FIRST),
                            {"day": {"handled": n, "on_call_seconds": 60 * n}})
    query = f"from={FIRST}&to={FIRST}"
    whole = json.loads(get(client, f"/reports/agents?{query}")[2])
    pages = every_page(client, f"/reports/agents?{query}&limit=2")
    assert [r for page in pages for r in page["rows"]] == whole["rows"]
    assert [t for page in pages for t in page["totals"]] == whole["totals"]
    for page in pages:  # the ranking of the page's agents
        assert sorted(r["agent_id"] for r in page["ranking"]) == \
            sorted(t["agent_id"] for t in page["totals"])


def test_a_cursor_is_refused_with_another_report_or_other_parameters(client):
    seed_queues()
    query = f"from={FIRST}&to={LAST}"
    status, _, body = get(client, f"/reports/queues?{query}&limit=3")
    cursor = re.search(r"cursor=([^&]+)", json.loads(body)["next"]).group(1)
    assert get(client, f"/reports/queues?{query}&limit=9&format=csv&cursor={cursor}")[0] == 200
    for path in (f"/reports/agents?{query}&cursor={cursor}",  # another kind
                 f"/reports/queues?from={FIRST}&to={FIRST}&cursor={cursor}",  # another range
                 f"/reports/queues?{query}&queue=pq1&cursor={cursor}",  # another queue
                 f"/reports/queues?{query}&cursor=not-a-cursor",
                 f"/reports/queues?{query}&cursor=eyJrIjoxfQ",  # {"k":1}: base64 JSON, not ours
                 f"/reports/opt-outs?{query}&cursor={cursor}"):  # a kind that is one page
        status, _, body = get(client, path)
        assert (status, json.loads(body)["field"]) == (400, "cursor"), (path, body)
    for limit in ("0", "10001", "x"):
        status, _, body = get(client, f"/reports/queues?{query}&limit={limit}")
        assert (status, json.loads(body)["field"]) == (400, "limit")
    assert json.loads(get(client, f"/reports/opt-outs?{query}")[2])["next"] is None
    # without dates, the next page names the first page's range (the default: 30 days)
    following = json.loads(get(client, "/reports/queues?limit=40")[2])["next"]
    assert following.startswith("/reports/queues?limit=40&from=2026-10-24&to=2026-11-23&")
    assert get(client, following)[0] == 200


def test_a_csv_page_links_to_the_next_and_the_pages_make_the_whole_file(client):
    seed_queues()
    query = f"from={FIRST}&to={LAST}&format=csv"
    status, headers, whole = get(client, f"/reports/queues?{query}")
    assert status == 200 and "Link" not in headers
    path, tables = f"/reports/queues?{query}&limit=6", []
    while path:
        status, headers, body = get(client, path)
        assert status == 200, body
        tables.append(list(csv.reader(io.StringIO(body))))
        link = headers.get("Link") or headers.get("link")
        path = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1) if link else None
    assert len(tables) > 2 and all(len(t) <= 7 for t in tables)  # a header and 2 queues
    assert all(t[0] == tables[0][0] for t in tables)
    for fmt in ("text", "xlsx"):  # every file says its next page the same way
        response = client.http.get(f"/reports/queues?from={FIRST}&to={LAST}&format={fmt}"
                                   "&limit=6", headers={"Accept": XLSX_TYPE})
        assert response.status_code == 200, response.body
        link = response.headers["Link"]
        assert re.fullmatch(rf'</reports/queues\?.*format={fmt}&limit=6&cursor=[\w-]+>; '
                            r'rel="next"', link), link
    assert [tables[0][0], *(r for t in tables for r in t[1:])] == \
        list(csv.reader(io.StringIO(whole)))


def test_manage_export_follows_every_page_into_one_file(client, monkeypatch, tmp_path, capsys):
    seed_queues()

    def through_client(method, path, body=None, content_type=None, *, base=None, retries=3,
                       raw=False, headers_out=None):
        response = client.http.get(path)
        assert response.status_code == 200, response.body
        if headers_out is not None:
            headers_out.update(response.headers)
        return response.body if raw else json.loads(response.body)

    monkeypatch.setattr(manage, "call_api", through_client)
    args = ["reports", "export", "queues", "--from", str(FIRST), "--to", str(LAST)]
    whole = json.loads(get(client, f"/reports/queues?from={FIRST}&to={LAST}")[2])
    assert manage.main([*args, "--param", "limit=4"]) == 0
    out = capsys.readouterr().out  # the app's request log lines first, then the report
    exported = json.loads(out[out.index("{\n"):])
    assert (exported["rows"], exported["totals"], exported["next"]) == \
        (whole["rows"], whole["totals"], None)

    out = tmp_path / "queues.csv"
    assert manage.main([*args, "--param", "limit=4", "--csv", "-o", str(out)]) == 0
    assert f"{len(whole['rows'])} row(s) in {len(whole['totals'])} page(s)" in \
        capsys.readouterr().err
    assert out.read_bytes().decode() == get(client, f"/reports/queues?from={FIRST}&to={LAST}"
                                          "&format=csv")[2]


def test_repeat_callers_page_in_the_report_order_with_the_hotline_totals_on_each(client):
    numbers = {f"+1415555{n:04d}": 2 + n % 4 for n in range(9)}  # 2..5 calls each
    by_shard: dict[int, dict[str, int]] = defaultdict(dict)
    for number, calls in numbers.items():
        by_shard[shard(number)][value_name(number)] = calls
    for k, values in by_shard.items():
        rollups.replace_day(rollups.day_key("callers", callers_id(HOTLINE, k), FIRST),
                            {"day": values})
    options = {"times": "2"}
    whole = repeat_callers.report(FIRST, FIRST, "day", HOTLINE, options=options)
    assert len(whole["rows"]) == 9 and whole["next"] is None
    rows, start, pages = [], None, 0
    while True:
        page = repeat_callers.report(FIRST, FIRST, "day", HOTLINE, options=options,
                                     page=Page(start=start, limit=4, path="/p?x=1"))
        pages += 1
        rows += page["rows"]
        assert page["totals"] == whole["totals"] and len(page["rows"]) <= 4
        if page["next"] is None:
            break
        start = repeat_callers.row_key(whole["rows"][len(rows)])
        assert page["next"].startswith("/p?x=1&cursor=")
    assert (pages, rows) == (3, whole["rows"])
