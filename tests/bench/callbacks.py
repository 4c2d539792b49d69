"""Callback figures for ``make bench`` (run from ``tests/bench/run.py`` against DynamoDB Local).

* one dispatcher tick with 10,000 pending requests across 10 queues (and 2,000 more due
  tomorrow, which must not be read): requests moved into the lines, callbacks dialled, time,
  DynamoDB requests per dispatched callback, and Scan operations (must be 0: the due index is
  queried by due time);
* a race: threads run the every-minute job and routing rounds at once over the same requests;
  duplicate dials must print 0.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from chalicelib.callbacks.model import SCHEDULED, due_shard, new_callback_id
from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig
from chalicelib.store import routing
from chalicelib.store.models import CallbackRequest
from chalicelib.wiring import Root

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # noon in California: inside calling hours


class DialRecorder:
    """Twilio's Calls API, recorded: which callback each placed call was for."""

    def __init__(self):
        self.placed: list[str] = []
        self.lock = threading.Lock()

    def place_call(self, *, to, from_, url, status_callback, machine_detection=None) -> str:
        with self.lock:
            self.placed.append(url.rsplit("/", 2)[-2])
        return "CA" + uuid.uuid4().hex

    def redirect(self, call_sid, url):
        pass


def _seed(queue_ids: list[str], per_queue: int, due: datetime) -> list[str]:
    """Scheduled requests written in batches (the bench measures dispatching, not creating)."""
    ids = []
    with CallbackRequest.batch_write() as batch:
        for queue_id in queue_ids:
            for n in range(per_queue):
                callback_id = new_callback_id()
                ids.append(callback_id)
                batch.save(CallbackRequest(
                    callback_id, kind="web", hotline="+14155550100", queue_id=queue_id,
                    phone=f"+1415{5550000 + n % 9000:07d}", status=SCHEDULED,
                    requested_at=due - timedelta(minutes=5), version=1,
                    due_shard=due_shard(callback_id), due_at=due - timedelta(seconds=n % 300),
                    history=[]))
    return ids


def _agents(queue_id: str, count: int) -> None:
    for i in range(count):
        agent = Agent(f"cb-{queue_id}-{i:03d}", f"Agent {i}", Endpoint("phone", "+14155550150"),
                      queues={queue_id: 1})
        routing.save_agent_profile(agent, NOW)
        agent.state, agent.state_since, agent.idle_since = AgentState.AVAILABLE, NOW, NOW
        routing.change_agent_state(agent, AgentState.OFFLINE, NOW)


def dispatch_per_tick(counter) -> None:
    run = uuid.uuid4().hex[:6]
    queues = [f"cbq{run}{q}" for q in range(10)]
    for queue_id in queues:
        routing.save_queue(QueueConfig(queue_id, queue_id, join_empty="wait"), NOW)
        _agents(queue_id, 20)
    started = time.perf_counter()
    _seed(queues, 1000, NOW)
    _seed(queues, 200, NOW + timedelta(days=1))  # not due: must not be read
    seeded = time.perf_counter() - started
    print(f"callbacks: seeded 12,000 requests (10,000 due) in {seeded:.1f} s")
    recorder = DialRecorder()
    service = Root(clock=lambda: NOW, connector=recorder).routing
    before, ops = counter.count, dict(counter.by_operation)
    started = time.perf_counter()
    result = service.callbacks.tick()
    elapsed = time.perf_counter() - started
    requests = counter.count - before
    scans = counter.by_operation.get("Scan", 0) - ops.get("Scan", 0)
    queries = counter.by_operation.get("Query", 0) - ops.get("Query", 0)
    dialled = len(recorder.placed)
    print(f"callbacks: one tick with 10,000 due: {result['queued']} moved into lines, "
          f"{dialled} dialled (200 free agents) in {elapsed:.1f} s")
    print(f"callbacks: DynamoDB requests in the tick: {requests} "
          f"({requests / max(1, dialled):.1f} per dialled callback, "
          f"{requests / max(1, result['queued']):.1f} per request handled); "
          f"Query {queries}, Scan {scans}   (Scan must be 0)")


def race(threads: int = 8) -> None:
    run = uuid.uuid4().hex[:6]
    queue_id = f"cbrace{run}"
    routing.save_queue(QueueConfig(queue_id, queue_id, join_empty="wait"), NOW)
    _agents(queue_id, 40)
    ids = _seed([queue_id], 200, NOW - timedelta(hours=1))  # due before what earlier runs left
    recorder = DialRecorder()
    service = Root(clock=lambda: NOW, connector=recorder).routing
    barrier = threading.Barrier(threads)

    def work():
        barrier.wait()
        for _ in range(4):
            service.callbacks.tick(limit=100)
            service.dispatch(queue_id)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    dials = Counter(recorder.placed)
    duplicates = sum(n - 1 for n in dials.values() if n > 1)
    strays = len(set(dials) - set(ids))
    print(f"callbacks race: {threads} threads running the job and routing rounds over 200 "
          f"requests and 40 agents for {time.perf_counter() - started:.1f} s: "
          f"{len(dials)} requests dialled, duplicate dials {duplicates + strays}   (must be 0)")
