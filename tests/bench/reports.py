"""Report figures for ``make bench`` (issue 12), against DynamoDB Local.

Issue 12's scale: a month of 500,000 calls for 20 queues and 200 agents. One day at that density
(``CALLS_PER_DAY``, about 16,700 calls) is built with the real emitters, every fact a queued
call leaves: the IVR funnel fact (``ivr.call_facts``), the caller fact (``ivr.caller_facts``),
the queue's offered and answered-or-abandoned facts (``routing.queue_facts``) and, for an
answered call, its agent's available, on-call and wrap-up time (``routing.agent_facts``). Then:

* the stream consumer's cost per call: the facts of ``SAMPLE_CALLS`` calls recorded one by one
  (``store.facts.record``) and applied to the rollups, half a transaction per fact
  (``store.rollups.apply_fact``, the baseline) and half in stream batches of 100
  (``store.rollups.apply_facts``, what the Lambda does): DynamoDB requests and time per call,
  and the ratio;
* rebuilding the day (``reports.rebuild``) from all its facts (read by index, never a Scan):
  time per call and the month extrapolated (30 such days); the rollups it leaves are checked
  against the calls made;
* the agents report for the 200 agents: a month by day (the rebuilt day and 29 days seeded
  into the rollups) and the rebuilt day by half-hour: requests and time per report;
* the queues report over a month seeded into the rollups for 20 queues (``report_queries``):
  a month by day and a day by half-hour, requests and time per report, Scans;
* a year by day for 200 agents through the API, in pages (``reports.cursors``): pages,
  DynamoDB requests, time, the largest page's size.

The rest of the day's facts are loaded in batches from a few threads
(``store.facts.write_many``): loading is setup, not a figure.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from chalicelib.calls.model import Call
from chalicelib.facts import DAY, Fact, half_hours_of
from chalicelib.ivr import call_facts, caller_facts
from chalicelib.ivr.loader import load_flow_file
from chalicelib.reports import agents as agents_report
from chalicelib.reports import queues as queues_report
from chalicelib.reports.rebuild import rebuild
from chalicelib.routing import agent_facts, queue_facts
from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig
from chalicelib.store import facts, rollups
from chalicelib.store import routing as routing_store

ROOT = Path(__file__).resolve().parents[2]
ZONE = "America/New_York"
HOTLINE = "+14155550100"
QUEUES = 20
AGENTS = 200
DAYS = 30
CALLS_PER_MONTH = 500_000
CALLS_PER_DAY = CALLS_PER_MONTH // DAYS
STREAM_BATCH = 100  # the facts stream's batch size (app.py, ``apply_facts``)
SAMPLE_CALLS = 1_000
OPEN_HOURS = (7, 21)  # local: the calls of the day arrive between these hours
ABANDON_EVERY = 10  # one call in ten hangs up in the queue
PATH = ["known_language", "choose_language", "vip_check", "main_menu", "agent_hours",
        "agent_queue"]
THREADS = 16  # DynamoDB Local takes batches from several clients faster than from one


def _delta(counter, before: tuple[int, dict]) -> tuple[int, dict]:
    count, ops = before
    return counter.count - count, {op: n - ops.get(op, 0) for op, n in
                                   counter.by_operation.items() if n - ops.get(op, 0)}


def _mark(counter) -> tuple[int, dict]:
    return counter.count, dict(counter.by_operation)


@dataclass
class SyntheticDay:
    day: date
    queues: list[QueueConfig]
    agents: list[str]
    calls: list[list[Fact]]  # each call's facts

    @property
    def facts(self) -> list[Fact]:
        return [fact for call in self.calls for fact in call]


def synthetic_day(day: date, run: str) -> SyntheticDay:
    """``CALLS_PER_DAY`` queued calls on local ``day``, spread over ``OPEN_HOURS``, each
    with every fact the app leaves for it (see the module's docstring)."""
    rng = random.Random(day.toordinal())
    flow = load_flow_file(ROOT / "flows/main.yaml", ROOT / "flows/templates")
    queues = [QueueConfig(f"bq{run}{n:02d}", f"Bench {n}", timezone=ZONE) for n in range(QUEUES)]
    agents = [f"ba{run}{n:03d}" for n in range(AGENTS)]
    opens = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(ZONE)).replace(
        hour=OPEN_HOURS[0]).astimezone(UTC)
    spread = (OPEN_HOURS[1] - OPEN_HOURS[0]) * 3600
    free_at = dict.fromkeys(agents, opens)  # when each agent last became available
    callers = [f"+1415{n:07d}" for n in rng.sample(range(10_000_000), CALLS_PER_DAY * 3 // 4)]
    calls: list[list[Fact]] = []
    answered_calls = 0
    for n in range(CALLS_PER_DAY):
        at = opens + timedelta(seconds=n * spread // CALLS_PER_DAY)
        sid = f"CA{run}{n:08d}"
        queue = queues[n % QUEUES]
        key = f"{at.isoformat()}#{sid}"
        waited = rng.randrange(0, 90)
        made = [queue_facts.offered(queue, key, at, HOTLINE)]
        agent_id = None
        if n % ABANDON_EVERY:
            agent_id = agents[answered_calls % AGENTS]
            answered_calls += 1
            answer_at = at + timedelta(seconds=waited)
            talked = answer_at + timedelta(seconds=rng.randrange(120, 360))
            wrapped = talked + timedelta(seconds=rng.randrange(20, 60))
            made.append(queue_facts.answered(queue, key, answer_at, HOTLINE, agent_id, waited))
            for state, since, left in ((AgentState.AVAILABLE, free_at[agent_id], answer_at),
                                       (AgentState.ON_CALL, answer_at, talked),
                                       (AgentState.WRAP_UP, talked, wrapped)):
                fact = agent_facts.time_in_state(agent_id, ZONE, state, since, left)
                if fact is not None:
                    made.append(fact)
            free_at[agent_id] = wrapped
        else:
            made.append(queue_facts.abandoned(queue, key, at + timedelta(seconds=waited),
                                              HOTLINE, waited))
        number, dialled = rng.choice(callers), at - timedelta(seconds=40)
        call = Call(sid, hotline=HOTLINE, caller=number, direction="inbound", flow_id=flow.id,
                    path=list(PATH), started_at=dialled, queue_id=queue.queue_id,
                    agent_id=agent_id, outcome="queue")
        made += call_facts.ivr_facts(call, [(flow, list(PATH))])
        made.append(caller_facts.caller_fact(sid, HOTLINE, number, dialled, ZONE,
                                             served=caller_facts.served(call)))
        calls.append(made)
    return SyntheticDay(day, queues, agents, calls)


def _in_threads(work: Callable[[Sequence], object], items: Sequence, chunk: int) -> None:
    parts = [items[n:n + chunk] for n in range(0, len(items), chunk)]
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, parts))


def consumer_and_rebuild(counter) -> SyntheticDay:
    """The consumer's cost per call, then the day rebuilt; returns the day for
    ``agent_queries``."""
    run = uuid.uuid4().hex[:6]
    day = date(2025, 3, 1) + timedelta(days=random.randrange(200))
    started = time.perf_counter()
    built = synthetic_day(day, run)
    every = built.facts
    print(f"reports: one day at the month's density: {CALLS_PER_DAY:,} calls, {QUEUES} queues, "
          f"{AGENTS} agents, {len(every):,} facts ({len(every) / CALLS_PER_DAY:.1f} a call: "
          f"IVR, caller, queue, agent time), built in {time.perf_counter() - started:.1f} s")

    sample = [fact for call in built.calls[:SAMPLE_CALLS] for fact in call]
    before = _mark(counter)
    started = time.perf_counter()
    for fact in sample:
        facts.record(fact)
    recorded = time.perf_counter() - started
    requests, ops = _delta(counter, before)
    print(f"reports: recording the facts of {SAMPLE_CALLS:,} calls: "
          f"{requests / SAMPLE_CALLS:.1f} DynamoDB requests per call ({ops}), "
          f"{recorded / SAMPLE_CALLS * 1000:.1f} ms per call")
    # the same consumer two ways on two halves of the sample: a transaction per fact (the
    # baseline), and a stream batch of 100 records at a time (what the Lambda is handed)
    half = SAMPLE_CALLS // 2
    ways = {"a transaction per fact": [fact for call in built.calls[:half] for fact in call],
            f"batches of {STREAM_BATCH} facts": [fact for call in built.calls[half:SAMPLE_CALLS]
                                                 for fact in call]}
    spent: dict[str, float] = {}
    for way, part in ways.items():
        before = _mark(counter)
        started = time.perf_counter()
        if way.startswith("batches"):
            for n in range(0, len(part), STREAM_BATCH):
                rollups.apply_facts(part[n:n + STREAM_BATCH])
        else:
            for fact in part:
                rollups.apply_fact(fact)
        applied = spent[way] = time.perf_counter() - started
        requests, ops = _delta(counter, before)
        print(f"reports: the stream consumer, {way}: {requests / half:.2f} requests per call "
              f"({ops}), {applied / half * 1000:.1f} ms per call; a month's "
              f"{CALLS_PER_MONTH:,} calls ~{applied / half * CALLS_PER_MONTH / 60:.0f} min of "
              f"consumer time")
    baseline, batched = spent.values()
    print(f"reports: the stream consumer in batches takes {batched / baseline:.2f}x the time "
          f"of a transaction per fact")

    rest = every[len(sample):]
    started = time.perf_counter()
    _in_threads(facts.write_many, rest, 2_500)
    print(f"reports: (setup) the other {len(rest):,} facts loaded in batches in "
          f"{time.perf_counter() - started:.1f} s")

    before = _mark(counter)
    started = time.perf_counter()
    done = rebuild(day, day)
    took = time.perf_counter() - started
    requests, ops = _delta(counter, before)
    print(f"reports: rebuilding the day from its {done['facts']:,} facts "
          f"({done['partitions']:,} partitions): {took:.1f} s, {requests:,} requests ({ops}), "
          f"Scan {ops.get('Scan', 0)}; {took / CALLS_PER_DAY * 1000:.2f} ms per call, so a "
          f"month of {CALLS_PER_MONTH:,} calls rebuilds in ~{took * DAYS / 60:.0f} min")
    _check(built)
    return built


def _check(built: SyntheticDay) -> None:
    """The rebuilt rollups hold the day's calls: offered per queue, handled per agent."""
    found = rollups.read_days(rollups.day_key("queue", q.queue_id, built.day)
                              for q in built.queues)
    offered = sum(values.get("offered", 0) for values in found.values())
    agents = rollups.read_days(rollups.day_key("agent", a, built.day) for a in built.agents)
    handled = sum(values.get("handled", 0) for values in agents.values())
    answered = CALLS_PER_DAY - len(range(0, CALLS_PER_DAY, ABANDON_EVERY))
    verdict = "as made" if (offered, handled) == (CALLS_PER_DAY, answered) else "WRONG"
    print(f"reports: the rebuilt rollups: {offered:,} offered, {handled:,} handled by agents "
          f"({verdict}: {CALLS_PER_DAY:,} and {answered:,} made)")


def agent_queries(counter, built: SyntheticDay) -> None:
    """The agents report for the day's 200 agents: a month by day (the rebuilt day first, 29
    more seeded as day slots) and the rebuilt day by half-hour."""
    now = datetime.now(UTC)
    for agent_id in built.agents:
        routing_store.save_agent_profile(
            Agent(agent_id, agent_id, Endpoint("client", agent_id), timezone=ZONE), now)
    per_day = CALLS_PER_DAY * 9 // 10 // AGENTS
    values = {"handled": per_day, "on_call_seconds": per_day * 240,
              "wrap_up_seconds": per_day * 40, "available_seconds": per_day * 200,
              "logged_in_seconds": per_day * 480}

    def seed(keys: Sequence[str]) -> None:
        for key in keys:
            rollups.replace_day(key, {DAY: values})

    later = [rollups.day_key("agent", a, built.day + timedelta(days=n))
             for a in built.agents for n in range(1, DAYS)]
    started = time.perf_counter()
    _in_threads(seed, later, 200)
    print(f"reports: (setup) {len(later):,} agent-days seeded in "
          f"{time.perf_counter() - started:.1f} s")
    routing_store.agents()  # the directory's one-time Scan (a table from before it) is setup
    last = built.day + timedelta(days=DAYS - 1)
    for label, args in ((f"a month by day, {AGENTS} agents", (built.day, last, "day")),
                        (f"a day by half-hour, {AGENTS} agents", (built.day, built.day,
                                                                   "half-hour"))):
        before = _mark(counter)
        started = time.perf_counter()
        made = agents_report.agent_report(*args)
        took = time.perf_counter() - started
        requests, ops = _delta(counter, before)
        mine = [r for r in made["rows"] if r["agent_id"] in set(built.agents)]
        print(f"reports: agents, {label}: {len(mine):,} rows of the bench's agents "
              f"({len(made['totals'])} agents in the table) in {took * 1000:.0f} ms, "
              f"{requests} DynamoDB requests ({ops}), Scan {ops.get('Scan', 0)}   (Scan must "
              f"be 0: the agents come from the directory)")


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
    routing_store.queues()  # the directory's one-time Scan (a table from before it) is setup
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
          f"page), {requests} DynamoDB requests ({ops}), Scan {ops.get('Scan', 0)} (must be "
          f"0: the agents come from the directory), largest page {biggest / 1e6:.1f} MB, "
          f"{size / 1e6:.1f} MB in all (one body would be past Lambda's 6 MB)")
