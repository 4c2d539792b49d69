"""Report figures for ``make bench`` (issue 12), against DynamoDB Local:

* the stream consumer's cost per queued call: the facts a call leaves (offered, then answered
  or abandoned) written and applied to the rollups, DynamoDB requests and write items per call;
* rebuilding a day: its facts read by index (no Scan) and its rollups rewritten, time per
  thousand facts;
* report queries over a month of rollups for 20 queues: a month by day (all queues) and a day
  by half-hour (all queues): DynamoDB requests and time per report, Scans (must be 0);
* a year by day for 200 agents through the API, in pages (``reports.cursors``): pages,
  DynamoDB requests, time, the largest page's size.

The month for the queries is seeded straight into the rollups (what a month of 500,000 calls
leaves there: a partition per queue and day with its day and 48 half-hour slots), so the report
figures do not depend on how long seeding 1.5 million facts would take on the laptop.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from chalicelib.facts import half_hours_of
from chalicelib.reports import queues as queues_report
from chalicelib.reports.rebuild import rebuild
from chalicelib.routing import queue_facts
from chalicelib.routing.model import QueueConfig
from chalicelib.store import facts, rollups
from chalicelib.store import routing as routing_store

ZONE = "America/New_York"
QUEUES = 20
AGENTS = 200
DAYS = 30
CALLS_PER_MONTH = 500_000
SAMPLE_CALLS = 2_000


def _delta(counter, before: tuple[int, dict]) -> tuple[int, dict]:
    count, ops = before
    return counter.count - count, {op: n - ops.get(op, 0) for op, n in
                                   counter.by_operation.items() if n - ops.get(op, 0)}


def consumer_and_rebuild(counter) -> None:
    run = uuid.uuid4().hex[:6]
    day = date(2025, 3, 1) + timedelta(days=random.randrange(200))
    queues = [QueueConfig(f"bq{run}{n:02d}", f"Bench {n}", timezone=ZONE)
              for n in range(QUEUES)]
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=13)
    made = []
    for n in range(SAMPLE_CALLS):
        queue = queues[n % QUEUES]
        at = start + timedelta(seconds=n * 15)
        key = f"{at.isoformat()}#CA{run}{n:06d}"
        made.append(queue_facts.offered(queue, key, at, "+14155550100"))
        waited = random.randrange(0, 120)
        made.append(queue_facts.answered(queue, key, at + timedelta(seconds=waited),
                                         "+14155550100", f"agent{n % 200}", waited)
                    if n % 10 else queue_facts.abandoned(queue, key, at, "+14155550100",
                                                         waited))
    before = (counter.count, dict(counter.by_operation))
    started = time.perf_counter()
    for fact in made:
        facts.record(fact)
    recorded = time.perf_counter() - started
    requests, ops = _delta(counter, before)
    print(f"reports: recording the facts of {SAMPLE_CALLS:,} queued calls: "
          f"{requests / SAMPLE_CALLS:.1f} DynamoDB requests per call ({ops}), "
          f"{recorded / SAMPLE_CALLS * 1000:.1f} ms per call")
    before = (counter.count, dict(counter.by_operation))
    started = time.perf_counter()
    for fact in made:
        rollups.apply_fact(fact)
    applied = time.perf_counter() - started
    requests, ops = _delta(counter, before)
    items = sum(1 + 2 * len(fact.scopes) for fact in made)
    print(f"reports: the stream consumer: {requests / SAMPLE_CALLS:.1f} requests per call "
          f"({ops}), {items / SAMPLE_CALLS:.1f} items written per call in its transactions "
          f"(a mark, then a day and a half-hour per scope), {applied / SAMPLE_CALLS * 1000:.1f} "
          f"ms per call")
    before = (counter.count, dict(counter.by_operation))
    started = time.perf_counter()
    done = rebuild(day, day)
    took = time.perf_counter() - started
    requests, ops = _delta(counter, before)
    print(f"reports: rebuilding the day from its {done['facts']:,} facts "
          f"({done['partitions']} partitions): {took:.1f} s, {requests} requests ({ops}), "
          f"Scan {ops.get('Scan', 0)}; at this pace a month of {CALLS_PER_MONTH:,} calls "
          f"(~{CALLS_PER_MONTH * 2:,} facts) rebuilds in ~"
          f"{took / max(done['facts'], 1) * CALLS_PER_MONTH * 2 / 60:.0f} min")


def report_queries(counter) -> None:
    run = uuid.uuid4().hex[:6]
    first = date(2024, 1, 1) + timedelta(days=random.randrange(300))
    now = datetime.now(UTC)
    queue_ids = [f"rq{run}{n:02d}" for n in range(QUEUES)]
    for queue_id in queue_ids:
        routing_store.save_queue(QueueConfig(queue_id, queue_id, timezone=ZONE), now)
    per_half_hour = CALLS_PER_MONTH / QUEUES / DAYS / 48
    for queue_id in queue_ids:
        for offset in range(DAYS):
            day = first + timedelta(days=offset)
            slots = {half: {"offered": int(per_half_hour), "answered": int(per_half_hour * .9),
                            "answered_in_sl": int(per_half_hour * .7),
                            "wait_seconds": int(per_half_hour * 20),
                            "abandoned": int(per_half_hour * .1)}
                     for half in half_hours_of(day, ZONE)}
            slots["day"] = {name: sum(v[name] for v in slots.values())
                            for name in next(iter(slots.values()))}
            rollups.replace_day(rollups.day_key("queue", queue_id, day), slots)
    for label, args in (("a month by day, 20 queues", (first, first + timedelta(DAYS - 1),
                                                        "day")),
                        ("a day by half-hour, 20 queues", (first, first, "half-hour"))):
        before = (counter.count, dict(counter.by_operation))
        started = time.perf_counter()
        made = queues_report.queue_report(*args)
        took = time.perf_counter() - started
        requests, ops = _delta(counter, before)
        mine = [r for r in made["rows"] if r["queue_id"] in queue_ids]
        print(f"reports: {label}: {len(mine):,} rows in {took * 1000:.0f} ms, {requests} "
              f"DynamoDB requests ({ops}), Scan {ops.get('Scan', 0)}   (Scan must be 0)")
    paged_year_of_agents(counter)


def paged_year_of_agents(counter) -> None:
    """A year by day for 200 agents (~73,000 rows, past Lambda's 6 MB answer in one body)
    through ``GET /reports/agents``, page after page (``next``): pages, requests, time."""
    import json

    from chalice.test import Client

    import app as app_module
    from chalicelib.routing.model import Agent, Endpoint
    from chalicelib.store.connection import shared_connection
    from chalicelib.store.models import RollupItem

    run = uuid.uuid4().hex[:6]
    first = date(2023, 1, 1) + timedelta(days=random.randrange(300))
    last = first + timedelta(days=365)
    now = datetime.now(UTC)
    agent_ids = [f"ya{run}{n:03d}" for n in range(AGENTS)]
    for agent_id in agent_ids:
        routing_store.save_agent_profile(Agent(agent_id, agent_id, Endpoint("client", agent_id),
                                               timezone=ZONE), now)
    table: str = RollupItem.Meta.table_name  # type: ignore[attr-defined]
    puts = [{"PutRequest": {"Item": {
        "key": {"S": rollups.day_key("agent", agent_id, first + timedelta(days=offset))},
        "slot": {"S": "day"}, "handled": {"N": str(20 + offset % 7)},
        "on_call_seconds": {"N": "5400"}, "wrap_up_seconds": {"N": "900"},
        "available_seconds": {"N": "18000"}, "logged_in_seconds": {"N": "28800"}}}}
        for agent_id in agent_ids for offset in range(366)]
    for n in range(0, len(puts), 25):  # seeded as a rebuild would leave them, 25 a request
        pending = puts[n:n + 25]
        while pending:
            answer = shared_connection().dispatch("BatchWriteItem",
                                                  {"RequestItems": {table: pending}})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
    before = (counter.count, dict(counter.by_operation))
    pages = rows = biggest = size = 0
    path: str | None = f"/reports/agents?from={first}&to={last}&interval=day"
    started = time.perf_counter()
    with Client(app_module.app) as client:
        while path:
            response = client.http.get(path)
            assert response.status_code == 200, response.body
            page = json.loads(response.body)
            pages, rows = pages + 1, rows + len(page["rows"])
            biggest, size = max(biggest, len(response.body)), size + len(response.body)
            path = page["next"]
    took = time.perf_counter() - started
    requests, ops = _delta(counter, before)
    agents = rows // 366
    print(f"reports: a year by day for {agents} agents ({AGENTS} seeded), paged: {pages} pages "
          f"of at most 10,000 rows, {rows:,} rows in {took:.1f} s ({took / pages:.2f} s a "
          f"page), {requests} DynamoDB requests ({ops}; the Scans: the agents table, "
          f"listed once a page), largest "
          f"page {biggest / 1e6:.1f} MB, {size / 1e6:.1f} MB in all (one body would be past "
          f"Lambda's 6 MB)")
