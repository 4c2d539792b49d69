"""Reports from facts: the queue's facts land once, the rollups add them up once however often
the stream delivers them, a rebuild gives exactly the same rollups, and the report reads them
by local day and half-hour (DST nights included). DynamoDB Local, the carrier emulator."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.facts import Fact
from chalicelib.reports.rebuild import rebuild
from chalicelib.routing import agent_states
from chalicelib.routing.model import AgentState, QueueConfig
from chalicelib.store import facts, rollups, routing
from tests.integration.conftest import OPEN_HOURS
from tests.integration.test_queue_calls import HOTLINE, TO_QUEUE, support_queue  # noqa: F401

NY = "America/New_York"


def stream_everything(first: date, last: date) -> int:
    """What the stream consumer does, for every stored fact of those UTC days."""
    return sum(rollups.apply_fact(fact) for fact in facts.facts_of_days(first, last))


def get(client, path: str):
    response = client.http.get(path)
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    return response.status_code, response.headers, body


def test_calls_in_a_queue_become_one_report_however_often_the_stream_delivers(
        carrier, client, support_queue):  # noqa: F811
    day = OPEN_HOURS.date()
    for caller in ("+14155550181", "+14155550182"):
        t = carrier.place_inbound_call(HOTLINE, caller, TO_QUEUE)
        assert not t.errors and t.of_type("dial")[-1]["bridged"], t.errors
    for agent in support_queue:  # both on a break: the third caller waits, then hangs up
        routing.change_agent_state(
            agent_states.transition(routing.get_agent(agent.agent_id), AgentState.AWAY,
                                    OPEN_HOURS, "break"), AgentState.WRAP_UP, OPEN_HOURS)
    t = carrier.place_inbound_call(HOTLINE, "+14155550183", [*TO_QUEUE, "hangup"])
    assert not t.errors, t.errors

    # the stream delivers every fact, then again (a Lambda retry): the second time adds nothing.
    # 6 queue facts, each call's IVR funnel fact (3 calls, flow main), the callback the
    # missed call (the abandon) asked for, and each agent's time in available, reserved,
    # on-call and wrap-up (8)
    kinds = Counter(f.kind for f in facts.facts_of_days(day - timedelta(days=1),
                                                          day + timedelta(days=1)))
    assert (kinds["queue_offered"], kinds["queue_answered"], kinds["queue_abandoned"],
            kinds["ivr_call"], kinds["callback_requested"], kinds["agent_time"]) == \
        (3, 2, 1, 3, 1, 8)
    stored = sum(kinds.values())
    assert stream_everything(day - timedelta(days=1), day + timedelta(days=1)) == stored
    assert stream_everything(day - timedelta(days=1), day + timedelta(days=1)) == 0
    status, _, body = get(client, f"/reports/queues?from={day}&to={day}&queue=support")
    assert status == 200, body
    report = json.loads(body)
    [row] = report["rows"]
    assert (row["offered"], row["answered"], row["abandoned"]) == (3, 2, 1)
    assert row["abandon_rate"] == round(1 / 3, 4) and row["service_level"] == 1.0
    assert report["totals"][0]["offered"] == 3
    # the hotline and each agent have their own rollups from the same facts
    hotline = rollups.read_day(rollups.day_key("hotline", HOTLINE, day))["day"]
    assert (hotline["offered"], hotline["answered"], hotline["abandoned"]) == (3, 2, 1)
    for agent in support_queue:
        served = rollups.read_day(rollups.day_key("agent", agent.agent_id, day))["day"]
        assert served["answered"] == 1

    # a rebuild of the day from the stored facts gives exactly the rollups the stream built
    before = {key: rollups.read_day(key) for key in (
        rollups.day_key("queue", "support", day), rollups.day_key("hotline", HOTLINE, day))}
    assert rebuild(day, day)["facts"] == stored
    assert {key: rollups.read_day(key) for key in before} == before

    status, headers, body = get(client, f"/reports/queues?from={day}&to={day}&queue=support"
                                        "&interval=half-hour&format=csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 48 and sum(int(r["offered"]) for r in rows) == 3


def dst_fact(n: int, at: datetime, **values: int) -> Fact:
    return Fact(f"test:dst:{n}:{at.isoformat()}", "queue_answered", at, NY,
                {"queue": "dst_queue"}, values or {"offered": 1, "answered": 1})


def test_a_fall_back_night_keeps_each_half_hour_apart(client):
    routing.save_queue(QueueConfig("dst_queue", "DST", timezone=NY), OPEN_HOURS)
    night = date(2026, 11, 1)
    first, second = (datetime(2026, 11, 1, 5, 40, tzinfo=UTC),  # 01:40 EDT
                     datetime(2026, 11, 1, 6, 40, tzinfo=UTC))  # 01:40 EST, an hour later
    for n, at in enumerate((first, second, second + timedelta(minutes=5))):
        assert facts.record(dst_fact(n, at))
    assert not facts.record(dst_fact(0, first))  # the same fact again is not a second one
    stream_everything(night - timedelta(days=1), night + timedelta(days=1))
    status, _, body = get(client, "/reports/queues?from=2026-11-01&to=2026-11-01"
                                  "&queue=dst_queue&interval=half-hour")
    assert status == 200, body
    rows = {r["half_hour"]: r for r in json.loads(body)["rows"]}
    assert len(rows) == 50
    assert (rows["01:30"]["offered"], rows["01:30+"]["offered"]) == (1, 2)
    assert rebuild(night, night)["partitions"] == 1
    again = json.loads(get(client, "/reports/queues?from=2026-11-01&to=2026-11-01"
                                   "&queue=dst_queue&interval=half-hour")[2])
    assert {r["half_hour"]: r for r in again["rows"]} == rows


def test_facts_written_in_bulk_are_the_day_a_rebuild_reads():
    # the benchmark's loader: more than one batch, the same fact twice stays one fact
    day = date(2026, 11, 30)
    made = [dst_fact(200 + n, datetime(2026, 11, 30, 15, n % 60, tzinfo=UTC)) for n in range(30)]
    assert facts.write_many(made) == 30
    assert facts.write_many(made[:2]) == 2
    stored = {f.fact_id: f for f in facts.facts_of_days(day, day)}
    assert set(stored) == {f.fact_id for f in made}
    assert stored[made[0].fact_id] == made[0]
    assert rebuild(day, day)["facts"] == 30
    assert rollups.read_day(rollups.day_key("queue", "dst_queue", day))["day"]["offered"] == 30


def test_eight_consumers_applying_one_fact_add_it_once():
    fact = dst_fact(99, datetime(2026, 11, 30, 15, 0, tzinfo=UTC), answered=1, wait_seconds=7)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def apply():
        barrier.wait()
        results.append(rollups.apply_fact(fact))

    threads = [threading.Thread(target=apply) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    day = rollups.read_day(rollups.day_key("queue", "dst_queue", date(2026, 11, 30)))
    assert day["day"] == {"answered": 1, "wait_seconds": 7} and day["10:00"] == day["day"]


@pytest.mark.parametrize(("query", "status", "field"), [
    ("interval=hour", 400, "interval"), ("from=2026-11-30&to=2026-11-01", 400, "from"),
    ("from=2026-01-01&to=2026-11-30&interval=half-hour", 400, "from"),
    ("from=2026-13-01", 400, "from"), ("format=pdf", 400, "format"),
    ("queue=nope", 404, None),
])
def test_bad_report_requests_are_refused_naming_the_parameter(client, query, status, field):
    code, _, body = get(client, f"/reports/queues?{query}")
    assert code == status, body
    if field:
        assert json.loads(body)["field"] == field


def test_a_range_without_facts_is_a_report_of_zeros(client):
    code, _, body = get(client, "/reports/queues?from=2020-02-01&to=2020-02-03&queue=support")
    assert code == 200
    rows = json.loads(body)["rows"]
    assert [r["day"] for r in rows] == ["2020-02-01", "2020-02-02", "2020-02-03"]
    assert all(r["offered"] == 0 and r["service_level"] is None for r in rows)


def sheet_rows(workbook: bytes, sheet: int = 1) -> list[list[str]]:
    """A sheet's cells as text, row by row: the workbook's own XML (no reader library)."""
    import re
    import zipfile
    from xml.etree import ElementTree

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(workbook)) as book:
        strings = [t.text or "" for t in ElementTree.fromstring(
            book.read("xl/sharedStrings.xml")).iterfind(".//m:t", ns)]
        root = ElementTree.fromstring(book.read(f"xl/worksheets/sheet{sheet}.xml"))
    rows = []
    for row in root.iterfind(".//m:row", ns):
        cells = {}
        for cell in row.iterfind("m:c", ns):
            column = re.match(r"[A-Z]+", cell.get("r")).group()
            value = cell.findtext("m:v", default="", namespaces=ns)
            cells[column] = strings[int(value)] if cell.get("t") == "s" else value
        rows.append([cells.get(chr(65 + n), "") for n in range(max(len(cells), 1))])
    return rows


def test_the_report_downloads_as_a_workbook_with_the_same_numbers(client):
    routing.save_queue(QueueConfig("dst_queue", "DST", timezone=NY), OPEN_HOURS)
    at = datetime(2026, 11, 30, 15, 10, tzinfo=UTC)
    for n in range(4):
        facts.record(dst_fact(n, at, offered=1, answered=int(n < 3), answered_in_sl=int(n < 2)))
    stream_everything(at.date() - timedelta(days=1), at.date() + timedelta(days=1))
    from chalicelib.reports.exports import XLSX_TYPE

    response = client.http.get("/reports/queues?from=2026-11-30&to=2026-11-30&queue=dst_queue"
                               "&format=xlsx", headers={"Accept": XLSX_TYPE})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == XLSX_TYPE
    assert 'filename="queues-2026-11-30-2026-11-30.xlsx"' in \
        response.headers["Content-Disposition"]
    header, row = sheet_rows(response.body)
    assert header[:5] == ["queue_id", "day", "offered", "answered", "abandoned"]
    assert row[:5] == ["dst_queue", "2026-11-30", "4", "3", "0"]
    assert float(row[header.index("service_level")]) == round(2 / 3, 4)
    assert sheet_rows(response.body, 2)[1][:3] == ["dst_queue", "4", "3"]


def test_the_facts_stream_carries_each_fact_to_the_rollups_once(client, dynamodb_endpoint):
    """The laptop's consumer: DynamoDB Local's stream of the facts table, polled like Lambda
    reads it, into ``Root.apply_fact_records``; polling again adds nothing twice."""
    import uuid

    from chalicelib.store.models import FactItem
    from chalicelib.wiring import root
    from infra.local.streams import StreamPoller

    queue = f"stream_{uuid.uuid4().hex[:8]}"  # the stream still holds earlier tests' facts
    at = datetime(2026, 11, 30, 16, 5, tzinfo=UTC)

    def fact(n: int) -> Fact:
        return Fact(f"test:stream:{queue}:{n}", "queue_answered", at, NY, {"queue": queue},
                    {"offered": 1, "answered": 1})

    poller = StreamPoller(dynamodb_endpoint, FactItem.Meta.table_name,
                          root().apply_fact_records)
    for n in range(3):
        assert facts.record(fact(n))
    key = rollups.day_key("queue", queue, date(2026, 11, 30))
    for _ in range(100):  # the stream may hold earlier tests' records first, 100 a poll
        poller.poll_once()
        if rollups.read_day(key).get("day", {}).get("offered") == 3:
            break
        time.sleep(0.05)
    day = rollups.read_day(key)
    assert day["day"] == {"offered": 3, "answered": 3} and day["11:00"] == day["day"]
    # a batch handed over again (Lambda retries a batch) counts nothing twice
    replayed = root().apply_fact_records([{"eventName": "INSERT", "dynamodb": {"NewImage": {
        "fact_id": {"S": fact(0).fact_id}, "kind": {"S": "queue_answered"},
        "at": {"S": at.isoformat()}, "zone": {"S": NY},
        "scopes": {"S": json.dumps({"queue": queue})},
        "figures": {"S": '{"offered": 1, "answered": 1}'}}}}])
    assert replayed == {"applied": 1, "failed": 0}
    assert rollups.read_day(key)["day"] == {"offered": 3, "answered": 3}


def test_staffing_next_week_from_the_queues_own_history(client):
    """Four past Mondays with 100 calls at 10:00 (AHT 180 s): next Monday 10:00 needs 14 agents
    for 80 % in 20 s (the classic Erlang C example), 20 rostered at 30 % shrinkage."""
    routing.save_queue(QueueConfig("dst_queue", "DST", timezone=NY), OPEN_HOURS)
    plan_from = date(2026, 12, 7)  # a Monday
    for weeks_back in range(1, 5):
        day = plan_from - timedelta(days=7 * weeks_back)
        rollups.replace_day(rollups.day_key("queue", "dst_queue", day),
                            {"day": {"offered": 100}, "10:00": {"offered": 100}})
    code, _, body = get(client, "/reports/staffing?queue=dst_queue&from=2026-12-07&aht=180")
    assert code == 200, body
    report = json.loads(body)
    assert (report["from"], report["to"], report["interval"]) == (
        "2026-12-07", "2026-12-13", "half-hour")
    assert report["assumptions"]["model"] == "Erlang C" and len(report["rows"]) == 7 * 48
    ten = next(r for r in report["rows"] if (r["day"], r["half_hour"]) == ("2026-12-07", "10:00"))
    assert (ten["forecast_offered"], ten["agents"], ten["scheduled_agents"]) == (100, 14, 20)
    assert ten["service_level"] >= 0.8
    quiet = next(r for r in report["rows"] if r["half_hour"] == "03:00")
    assert quiet["agents"] == 0
    assert report["totals"][0]["peak_agents"] == 14
    # callers who hang up (Erlang A) need fewer agents for the same target, never more
    erlang_a = json.loads(get(client, "/reports/staffing?queue=dst_queue&from=2026-12-07"
                                      "&aht=180&patience=120")[2])
    ten_a = next(r for r in erlang_a["rows"]
                 if (r["day"], r["half_hour"]) == ("2026-12-07", "10:00"))
    assert erlang_a["assumptions"]["model"] == "Erlang A" and ten_a["agents"] <= 14
    assert ten_a["abandon_share"] is not None
    # the queue is required; options out of range are refused by name
    for query, field in (("", "queue"), ("queue=dst_queue&target_sl=2", "target_sl"),
                         ("queue=dst_queue&interval=day", "interval")):
        code, _, body = get(client, f"/reports/staffing?{query}")
        assert (code, json.loads(body)["field"]) == (400, field)
    code, _, _ = get(client, "/reports/staffing?queue=nope")
    assert code == 404


def test_callbacks_asked_for_and_closed_are_in_the_queues_report(client):
    """A request and its close land as facts in the same transactions as the changes: two
    asked, one completed 15 min later, one cancelled; a close retried counts nothing twice."""
    from chalicelib.callbacks import requests as callback_requests
    from chalicelib.store import callbacks as callback_store

    routing.save_queue(QueueConfig("cb_queue", "Callbacks", timezone=NY), OPEN_HOURS)
    asked = [callback_requests.request_callback(
        hotline=HOTLINE, queue_id="cb_queue", phone=phone, name="Ada", language="en-US",
        kind="web", now=OPEN_HOURS) for phone in ("+16465550901", "+16465550902")]
    done, dropped = (callback_store.get_request(callback_id) for callback_id, _ in asked)
    later = OPEN_HOURS + timedelta(minutes=15)
    assert callback_store.transition(done, done.version, "completed", later, attempts=1)
    assert not callback_store.transition(done, done.version, "completed", later, attempts=1)
    assert callback_store.cancel(dropped.callback_id, later)
    day = OPEN_HOURS.date()
    stream_everything(day - timedelta(days=1), day + timedelta(days=1))
    [row] = json.loads(get(client, f"/reports/queues?from={day}&to={day}&queue=cb_queue")[2])[
        "rows"]
    assert (row["callbacks_requested"], row["callbacks_completed"], row["callbacks_cancelled"],
            row["average_callback_wait_seconds"]) == (2, 1, 1, 900.0)


@pytest.mark.parametrize(("path", "status"), [
    ("/reports/repeat-callers?hotline=%2B14155550100&times=2&days=3", 200),
    ("/reports/repeat-callers?hotline=14155550100", 200),
    ("/reports/repeat-callers?hotline=+14155550100", 200),  # "+" typed as is: a space
    ("/reports/repeat-callers", 400), ("/reports/repeat-callers?hotline=%2B19995550100", 404),
    ("/reports/repeat-callers?hotline=%2B14155550100&times=1", 400),
    ("/reports/missed", 200), ("/reports/missed?hotline=%2B14155550100&format=csv", 200),
    ("/reports/campaigns", 200), ("/reports/opt-outs?channel=sms", 200),
    ("/reports/opt-outs?channel=fax", 404), ("/reports/agents", 200), ("/reports/ivr", 200),
    ("/reports/nope", 404),
])
def test_every_kind_answers_through_the_one_route(client, path, status):
    code, _, body = get(client, path)
    assert code == status, body


def test_a_report_as_plain_text(client):
    code, headers, body = get(client, "/reports/queues?from=2026-11-30&to=2026-11-30"
                                      "&queue=support&format=text")
    assert code == 200 and headers["Content-Type"].startswith("text/plain")
    assert 'filename="queues-2026-11-30-2026-11-30.txt"' in headers["Content-Disposition"]
    lines = body.splitlines()
    assert lines[0] == "queues, 2026-11-30 to 2026-11-30, by day"
    assert lines[1].split()[:3] == ["queue_id", "day", "offered"]
    assert lines[3].split()[:3] == ["support", "2026-11-30", "0"]
    assert "totals" in lines
