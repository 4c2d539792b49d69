"""Scale figures for ``make bench`` (issue 14): what one join, hold, position, dispatch and sweep
costs as agents, lines and queues grow, against DynamoDB Local.

* per operation: DynamoDB requests, read and write units (DynamoDB Local's ``ConsumedCapacity``,
  which PynamoDB asks for on every request; DynamoDB Local counts a transaction's items once,
  AWS bills them twice, so they are doubled here) and the median time, for a join (admission check
  plus ``join``) and a hold at 10 / 100 / 1,000 agents in the queue, all busy on calls or one
  of them free; ``position_in_line`` of the last caller of lines of 100 / 10,000 / 20,000;
  one ``dispatch`` (one caller, one free agent) at 10 / 100 / 1,000 agents; ``sweep`` over
  10 / 100 / 1,000 idle queues (own tables: today's sweep walks every queue);
* contention: ``routing.stress`` (8 threads joining, dispatching and freeing agents on one
  queue), its TransactWriteItems committed and cancelled;
* AWS cost per 1,000 five-minute queued calls at 10 and at 1,000 agents, from the units and
  times above, at public prices printed as assumptions.

Only public functions whose signatures the scale work keeps are used, so the same script
measures before and after. Figures only, nothing asserted. Run alone (starts its own DynamoDB
Local): ``.venv/bin/python tests/bench/scale.py``; ``tests/bench/run.py`` runs it with the rest.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
AGENTS = (10, 100, 1_000)
LINES = (100, 10_000, 20_000)
QUEUES = (10, 100, 1_000)
if os.environ.get("BENCH_SCALE_SMALL"):  # a quick run of the script itself
    AGENTS, LINES, QUEUES = (10, 20, 30), (100, 200, 300), (10, 20, 30)
REPEAT = 5  # samples per timed operation (the median is printed)
THREADS = 16  # for filling tables (not timed)
CALL_SECONDS = 300  # the queued call of the cost table: five minutes in line
# Twilio fetches the waitUrl again when the hold document ends: a music track, or the 20 s
# Pause without music (ivr/engine.hold); a ~30 s track is assumed.
HOLD_EVERY = 30
HANDLER_MS = 10  # the webhook's own work besides DynamoDB (signature check, TwiML), assumed
LAMBDA_GB = 0.5  # .chalice/config.json lambda_memory_size 512
PRICE = {  # us-east-1, on-demand, no free tier: assumptions, check the pricing pages
    "read_unit": 0.125 / 1e6,  # DynamoDB read request unit (after the 2024-11 price cut)
    "write_unit": 0.625 / 1e6,  # DynamoDB write request unit
    "lambda_gb_second": 0.0000166667,  # x86
    "lambda_request": 0.20 / 1e6,
    "rest_api_request": 3.50 / 1e6,  # API Gateway REST API, first 333 million a month
}
READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


class Meter:
    """Counts requests, consumed read/write units and cancelled transactions at PynamoDB's one
    dispatch point (it asks ``ReturnConsumedCapacity=TOTAL`` of every data request)."""

    def __init__(self):
        from pynamodb.connection.base import Connection

        self.lock = threading.Lock()
        self.count = 0  # what routing.throughput reads, as run.py's DynamoCounter
        self.reads = self.writes = 0.0
        self.committed = self.cancelled = self.failed_conditions = 0
        original = Connection.dispatch

        def metered(conn, operation_name, operation_kwargs):
            try:
                answer = original(conn, operation_name, operation_kwargs)
            except Exception as exc:
                code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")
                with self.lock:
                    self.count += 1
                    self.cancelled += code == "TransactionCanceledException"
                    self.failed_conditions += code == "ConditionalCheckFailedException"
                raise
            capacity = answer.get("ConsumedCapacity") or []
            units = sum(c.get("CapacityUnits", 0.0) for c in
                        (capacity if isinstance(capacity, list) else [capacity]))
            if operation_name.startswith("Transact"):
                units *= 2  # AWS bills transactional units twice; DynamoDB Local reports once
            with self.lock:
                self.count += 1
                self.committed += operation_name == "TransactWriteItems"
                if operation_name in READS:
                    self.reads += units
                else:
                    self.writes += units
            return answer

        Connection.dispatch = metered

    def snapshot(self) -> tuple[int, float, float]:
        return self.count, self.reads, self.writes


class Results:
    """Rows of ``label: requests, read units, write units, median ms`` (means per sample)."""

    def __init__(self, meter: Meter):
        self.meter = meter
        self.rows: dict[str, tuple[float, float, float, float]] = {}

    def measure(self, label: str, fn, setup=None, repeat: int = REPEAT):
        """Run ``setup()`` (not measured) then ``fn()`` ``repeat`` times; keep the means of the
        requests and units and the median time. Returns the last ``fn()``'s answer."""
        samples, counts, times = [], [], []
        answer = None
        for _ in range(repeat):
            if setup:
                setup()
            before = self.meter.snapshot()
            started = time.perf_counter()
            answer = fn()
            times.append((time.perf_counter() - started) * 1000)
            after = self.meter.snapshot()
            counts.append(tuple(a - b for a, b in zip(after, before, strict=True)))
            samples.append(answer)
        requests, reads, writes = (statistics.fmean(c[i] for c in counts) for i in range(3))
        self.rows[label] = (requests, reads, writes, statistics.median(times))
        print(f"  {label:<38} {requests:>8.1f} {reads:>10.1f} {writes:>8.1f}"
              f" {statistics.median(times):>9.1f}", flush=True)
        return answer


def _tables(prefix: str) -> None:
    """Point the models at a fresh set of tables (``prefix``) and create them."""
    from chalicelib.settings import reset_settings
    from chalicelib.store.models import bind_models
    from chalicelib.store.tables import create_tables

    os.environ["TABLE_PREFIX"] = prefix
    reset_settings()
    bind_models()
    create_tables(ttl=False)


def _parallel(fn, items) -> list:
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(fn, items))


def _staff(queue_id: str, count: int, state) -> list[str]:
    """``count`` agents serving ``queue_id``, logged in and in ``state``; their ids."""
    from chalicelib.routing.model import Agent, Endpoint
    from chalicelib.store import routing

    def one(i: int) -> str:
        agent = Agent(f"sc-{queue_id}-{i:04d}", f"Agent {i}", Endpoint("phone", "+14155550150"),
                      queues={queue_id: 1})
        routing.save_agent_profile(agent, NOW)
        _set_state(agent.agent_id, state)
        return agent.agent_id

    return _parallel(one, range(count))


def _set_state(agent_id: str, state) -> None:
    from chalicelib.store import routing

    agent = routing.get_agent(agent_id)
    expected = agent.state
    agent.state, agent.state_since, agent.state_reason = state, NOW, "bench"
    agent.idle_since = NOW
    routing.change_agent_state(agent, expected, NOW)


def _new_call():
    """A call record in the IVR's agent-queue step, as the IVR leaves it before the join."""
    from chalicelib.store import calls

    sid = "CA" + uuid.uuid4().hex
    step = calls.StepOutcome("main", 1, "en-US", "agent_queue", [], {}, {}, {}, "<Response/>",
                             None)
    caller = f"+1415{uuid.uuid4().int % 10**7:07d}"
    return calls.start_call(calls.NewCall(sid, "+14155550100", caller, "inbound", None, {}),
                            step, now=NOW, retention_days=1)


def _empty_line(queue_id: str) -> None:
    from chalicelib.store import routing

    for entry in routing.queue_entries(queue_id, limit=1000):
        routing.leave_queue(queue_id, entry.entry_key)


def per_agents(results: Results, service) -> None:
    """Join, hold and dispatch at 10 / 100 / 1,000 agents serving the queue."""
    from chalicelib.routing.model import AgentState, QueueConfig
    from chalicelib.store import calls, routing

    for size in AGENTS:
        queue_id = f"a{size}"
        routing.save_queue(QueueConfig(queue_id, queue_id), NOW)
        agents = _staff(queue_id, size, AgentState.ON_CALL)
        # since issue 14 a queue's agent counts are taken from its agents once, on the first
        # read (an upgrade's cost, not a join's); before it there is nothing to warm
        getattr(routing, "queue_presence", lambda _queue_id: None)(queue_id)
        pending = []

        def join(queue_id=queue_id, pending=pending):
            record = pending.pop()
            reason = service.overflow_reason(queue_id)
            joined = service.join(record, queue_id, "en-US", None)
            return reason, joined, record.call_sid

        def ready(pending=pending):
            pending.append(_new_call())

        answer = results.measure(f"join, {size} agents all busy", join, ready)
        if answer[:2] != (None, True):  # the figures would not be a join's
            print(f"  (!) admission said {answer[0]!r}, join {answer[1]}: not joined as meant")
        in_line = calls.get_call(answer[2])
        results.measure(f"hold, {size} agents all busy", lambda r=in_line: service.hold(r))
        # a tenth of them in wrap-up (not over yet): a hold may look for wrap-ups that are over
        wrapping = agents[: max(1, size // 10)]
        _parallel(lambda agent_id: _set_state(agent_id, AgentState.WRAP_UP), wrapping)
        results.measure(f"hold, {size} agents busy, 1/10 in wrap-up",
                        lambda r=in_line: service.hold(r))
        _parallel(lambda agent_id: _set_state(agent_id, AgentState.ON_CALL), wrapping)

        # one agent free: before each sample the same agent is free again (whatever the
        # previous sample made of it) and the line holds only the caller measured
        def free_one(queue_id=queue_id, first=agents[0]):
            _empty_line(queue_id)
            _set_state(first, AgentState.AVAILABLE)

        def one_free(pending=pending):
            free_one()
            pending.append(_new_call())

        results.measure(f"join, {size} agents, 1 free", join, one_free)
        holders: list = []

        def hold_free(holders=holders, queue_id=queue_id):
            free_one()
            record = _new_call()
            service.join(record, queue_id, "en-US", None)
            holders.append(calls.get_call(record.call_sid))

        results.measure(f"hold, {size} agents, 1 free", lambda h=holders: service.hold(h[-1]),
                        hold_free)

        def dispatch_setup(queue_id=queue_id):
            free_one()
            service.join(_new_call(), queue_id, "en-US", None)

        made = results.measure(f"dispatch, {size} agents, 1 free",
                               lambda q=queue_id: service.dispatch(q), dispatch_setup)
        if made != 1:  # e.g. a dispatch lease left held (the clock here stands still)
            print(f"  (!) dispatch made {made} reservations, not the 1 meant")
        _empty_line(queue_id)


def per_line(results: Results) -> None:
    """``position_in_line`` of the last of 100 / 10,000 / 20,000 callers (filled through
    ``join_queue``, as the line is built in production)."""
    from chalicelib.routing.model import QueueConfig, WaitingCaller
    from chalicelib.store import routing

    filled = {}
    for size in LINES:
        queue_id = f"line{min(size, 10_000)}"  # the 20,000 line is the 10,000 one, grown
        if queue_id not in filled:
            routing.save_queue(QueueConfig(queue_id, queue_id), NOW)
            filled[queue_id] = 0
        start = filled[queue_id]

        def one(i: int, queue_id=queue_id) -> str:
            return routing.join_queue(WaitingCaller(
                "CA" + uuid.uuid4().hex, queue_id, f"+1{4155000000 + i}",
                NOW + timedelta(milliseconds=i)))

        started = time.perf_counter()
        keys = _parallel(one, range(start, size))
        print(f"  (line of {size:,} filled through join_queue in "
              f"{time.perf_counter() - started:.1f} s)", flush=True)
        filled[queue_id] = size
        last = keys[-1]
        position = results.measure(f"position, line of {size:,}",
                                   lambda q=queue_id, k=last: routing.position_in_line(q, k))
        print(f"  (position printed: {position})")


def per_queues(results: Results, root_for) -> None:
    """``sweep()`` over 10 / 100 / 1,000 idle queues (2 agents each, free; nobody waiting) in
    tables of their own: today's sweep walks every queue."""
    from chalicelib.routing.model import AgentState, QueueConfig
    from chalicelib.store import routing

    _tables(f"sweep{uuid.uuid4().hex[:6]}-")
    service = root_for().routing
    made = 0
    for size in QUEUES:
        def one(q: int) -> None:
            queue_id = f"idle{q:04d}"
            routing.save_queue(QueueConfig(queue_id, queue_id), NOW)
            _staff(queue_id, 2, AgentState.AVAILABLE)

        with ThreadPoolExecutor(max_workers=4) as pool:  # each queue staffs in THREADS more
            list(pool.map(one, range(made, size)))
        made = size
        results.measure(f"sweep, {size:,} idle queues", service.sweep,
                        repeat=3 if size < 1_000 else 1)


def contention(meter: Meter) -> None:
    from tests.bench import routing as routing_bench

    before = (meter.committed, meter.cancelled)
    routing_bench.stress(threads=8, seconds=8.0)
    committed, cancelled = (a - b for a, b in zip((meter.committed, meter.cancelled), before,
                                                  strict=True))
    total = max(1, committed + cancelled)
    print(f"contention: TransactWriteItems committed {committed}, cancelled {cancelled}"
          f" = {100 * cancelled / total:.1f} % cancelled (every transaction: reservations and"
          f" agent state changes)")


def cost(results: Results) -> None:
    """AWS cost per 1,000 five-minute queued calls: one join, a hold every HOLD_EVERY s and
    the dispatch that reserves the agent (its units; it runs inside a webhook counted)."""
    holds = CALL_SECONDS // HOLD_EVERY
    print(f"\nAWS cost per 1,000 queued calls of {CALL_SECONDS // 60} min (assumptions: a hold"
          f" request every {HOLD_EVERY} s = {holds} holds, 1 join, 1 dispatch; Lambda"
          f" {LAMBDA_GB * 1024:.0f} MB billed for the measured time + {HANDLER_MS} ms per"
          f" webhook; us-east-1 on-demand: ${PRICE['read_unit'] * 1e6:.3f}/M read units,"
          f" ${PRICE['write_unit'] * 1e6:.3f}/M write units, ${PRICE['lambda_gb_second']}/GB-s,"
          f" ${PRICE['lambda_request'] * 1e6:.2f}/M Lambda requests,"
          f" ${PRICE['rest_api_request'] * 1e6:.2f}/M REST API requests):")
    print(f"  {'agents':>7} {'read units':>11} {'write units':>11} {'DynamoDB $':>10}"
          f" {'Lambda $':>9} {'API GW $':>9} {'total $':>8}")
    for size in (AGENTS[0], AGENTS[-1]):
        join = results.rows[f"join, {size} agents all busy"]
        hold = results.rows[f"hold, {size} agents all busy"]
        dispatch = results.rows[f"dispatch, {size} agents, 1 free"]
        parts = [(join, 1), (hold, holds), (dispatch, 1)]
        reads = 1000 * sum(row[1] * n for row, n in parts)
        writes = 1000 * sum(row[2] * n for row, n in parts)
        webhooks = 1000 * (1 + holds)
        seconds = 1000 * sum(row[3] * n for row, n in parts) / 1000 + webhooks * HANDLER_MS / 1000
        dynamo = reads * PRICE["read_unit"] + writes * PRICE["write_unit"]
        lam = seconds * LAMBDA_GB * PRICE["lambda_gb_second"] + webhooks * PRICE["lambda_request"]
        api = webhooks * PRICE["rest_api_request"]
        print(f"  {size:>7,} {reads:>11,.0f} {writes:>11,.0f} {dynamo:>10.3f} {lam:>9.3f}"
              f" {api:>9.3f} {dynamo + lam + api:>8.3f}")
    print("  (target: <= $0.10 per 1,000 calls, the same at 10 and at 1,000 agents)")


def figures(throughput: bool = False) -> None:
    """The scale table; ``throughput``: also run ``routing.throughput`` (run.py prints it)."""
    from chalicelib.store import connection
    from chalicelib.wiring import Root
    from tests.bench.routing import RecordingConnector

    previous = os.environ.get("TABLE_PREFIX"), connection.READ_TIMEOUT_SECONDS
    # DynamoDB Local takes seconds for a 1 MB page of a long line (AWS: tens of ms); the
    # webhooks' 2 s read timeout would only measure that
    connection.READ_TIMEOUT_SECONDS = 30
    meter = Meter()
    results = Results(meter)

    def root_for():
        return Root(clock=lambda: NOW, connector=RecordingConnector())

    print("\nScale (issue 14): DynamoDB Local; units = ConsumedCapacity as DynamoDB Local"
          " reports it, transactions doubled as AWS bills them; failed conditional writes and"
          " cancelled transactions are billed by AWS but report no units here")
    print(f"  {'operation':<38} {'requests':>8} {'read units':>10} {'write u.':>8}"
          f" {'median ms':>9}")
    try:
        per_queues(results, root_for)
        _tables(f"scale{uuid.uuid4().hex[:6]}-")
        per_agents(results, root_for().routing)
        per_line(results)
        contention(meter)
        cost(results)
        if throughput:
            from tests.bench import routing as routing_bench

            print("\nfor comparison, today's routing bench:")
            routing_bench.throughput(meter)
    finally:
        from chalicelib.settings import reset_settings
        from chalicelib.store.models import bind_models

        prefix, connection.READ_TIMEOUT_SECONDS = previous
        if prefix is None:
            os.environ.pop("TABLE_PREFIX", None)
        else:
            os.environ["TABLE_PREFIX"] = prefix
        reset_settings()
        bind_models()


def main() -> None:
    from infra.local.dynamodb import DynamoDBLocal
    from tests.bench.local_env import use_local_dynamodb

    ddb = DynamoDBLocal()
    ddb.start()
    try:
        use_local_dynamodb(ddb.endpoint, table_prefix=os.environ.get("TABLE_PREFIX"))
        started = time.perf_counter()
        figures(throughput=True)
        print(f"\n(scale figures took {time.perf_counter() - started:.0f} s)")
    finally:
        ddb.stop()


if __name__ == "__main__":
    main()
