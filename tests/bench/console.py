"""Wallboard figures for ``make bench`` (issue 13): what a polled board costs.

The board page (``chalicelib/console/page/board.js``) reads ``GET /board`` every ``POLL_SECONDS``
while it is visible. Here, against DynamoDB Local through Chalice's in-process test client,
signed in as a supervisor (Bearer token, as the page does):

* 20 queues and 200 agents (10 each, in mixed states) with 3 callers and a callback waiting per
  queue: time per board request (median, p95) and DynamoDB requests per board request (by
  operation), for a supervisor of all 20 queues and for a supervisor of one;
* the polling arithmetic per open board: requests per hour, Lambda GB-seconds per board-hour at
  512 MB (the stage's memory size), and the dollars at AWS's public price units (printed as
  assumptions: us-east-1, on-demand, no free tier);
* the same freshness by an API Gateway WebSocket design: connection minutes and messages per
  board-hour, and what producing the pushed boards costs.

Figures only: nothing here asserts on time. Run alone (starts its own DynamoDB Local):
``.venv/bin/python tests/bench/console.py``; ``tests/bench/run.py`` runs it with the rest.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUEUES = 20
AGENTS_PER_QUEUE = 10
CALLERS_PER_QUEUE = 3
REQUESTS = 30  # board reads measured per case
POLL_SECONDS = 5  # board.js POLL_MS while the tab is visible
LAMBDA_GB = 0.5  # .chalice/config.json lambda_memory_size 512
# AWS public prices, us-east-1, as assumptions (check the pricing pages before quoting them):
PRICE = {
    "lambda_gb_second": 0.0000166667,  # x86
    "lambda_request": 0.20 / 1e6,
    "rest_api_request": 3.50 / 1e6,  # API Gateway REST API, first 333 million a month
    "ddb_read_unit": 0.125 / 1e6,  # DynamoDB on-demand read request unit
    "ws_connection_minute": 0.25 / 1e6,  # API Gateway WebSocket
    "ws_message": 1.00 / 1e6,  # per 32 KB message, first billion a month
}
WS_FRAME = 32 * 1024  # WebSocket messages are metered in 32 KB increments


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class ReadUnits:
    """Estimates the read request units of what PynamoDB reads: an item up to 4 KB is one
    unit strongly consistent, half a unit eventually consistent (item sizes here are small)."""

    def __init__(self):
        from pynamodb.connection.base import Connection

        self.units = 0.0
        original = Connection.dispatch

        def counting(conn, operation_name, operation_kwargs):
            answer = original(conn, operation_name, operation_kwargs)
            per_item = 1.0 if operation_kwargs.get("ConsistentRead") else 0.5
            if operation_name == "GetItem":
                self.units += per_item  # a miss costs the same
            elif operation_name == "Query":
                self.units += max(per_item, per_item * len(answer.get("Items", ())))
            elif operation_name == "BatchGetItem":
                found = sum(len(items) for items in answer.get("Responses", {}).values())
                consistent = any(request.get("ConsistentRead") for request in
                                 operation_kwargs.get("RequestItems", {}).values())
                self.units += found * (1.0 if consistent else 0.5)
            return answer

        Connection.dispatch = counting


def _populate(now: datetime) -> list[str]:
    from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig, WaitingCaller
    from chalicelib.store import routing

    run = uuid.uuid4().hex[:6]
    queues = [f"wb{run}{q:02d}" for q in range(QUEUES)]
    states = [AgentState.AVAILABLE, AgentState.AWAY, AgentState.OFFLINE]
    for q, queue_id in enumerate(queues):
        routing.save_queue(QueueConfig(queue_id, f"Queue {q}"), now)
        for i in range(AGENTS_PER_QUEUE):
            agent = Agent(f"wa-{queue_id}-{i:02d}", f"Agent {i}", Endpoint("phone", "+14155550150"),
                          queues={queue_id: 1})
            routing.save_agent_profile(agent, now)
            state = states[i % len(states)]
            if state is not AgentState.OFFLINE:
                stored = routing.get_agent(agent.agent_id)
                stored.state, stored.state_since, stored.idle_since, stored.state_reason = (
                    state, now, now, "bench")
                routing.change_agent_state(stored, AgentState.OFFLINE, now)
        for i in range(CALLERS_PER_QUEUE + 1):
            routing.join_queue(
                WaitingCaller("CA" + uuid.uuid4().hex, queue_id, f"+1415555{i:04d}",
                              now - timedelta(seconds=30 * i)),
                kind="call" if i < CALLERS_PER_QUEUE else "callback")
    return queues


def _supervisors(queues: list[str]) -> None:
    """Two console users on this run's settings: one supervising all the queues, one the first."""
    from chalicelib.console import routes as console_routes
    from chalicelib.console.sign_in import hash_password
    from chalicelib.settings import get_settings

    settings = get_settings()
    settings.console_signing_key = settings.console_signing_key or uuid.uuid4().hex * 2
    settings.console_users = {
        **settings.console_users,
        "bench-all": {"password": hash_password("bench"), "role": "supervisor",
                      "name": "Bench", "agent_id": None, "queues": queues},
        "bench-one": {"password": hash_password("bench"), "role": "supervisor",
                      "name": "Bench", "agent_id": None, "queues": queues[:1]},
    }
    console_routes._authority = None  # built again from these settings


def _token(client, username: str) -> str:
    response = client.http.post("/console/session", headers={"Content-Type": "application/json"},
                                body=json.dumps({"username": username, "password": "bench"}))
    assert response.status_code == 200, response.body
    return json.loads(response.body)["token"]


def _measure(client, counter, units: ReadUnits, token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):  # warm: imports, connections
        client.http.get("/board", headers=headers)
    times, requests, ops, read_units, waits = [], [], {}, [], []
    size = 0
    for _ in range(REQUESTS):
        count, by_op, before_units = counter.count, dict(counter.by_operation), units.units
        waited = counter.seconds
        started = time.perf_counter()
        response = client.http.get("/board", headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.body
        size = len(response.body)
        requests.append(counter.count - count)
        waits.append((counter.seconds - waited) * 1000)
        read_units.append(units.units - before_units)
        for op, n in counter.by_operation.items():
            if n - by_op.get(op, 0):
                ops[op] = ops.get(op, 0) + n - by_op.get(op, 0)
    board = json.loads(response.body)
    return {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "requests": statistics.mean(requests),
            "ops": {op: n / REQUESTS for op, n in sorted(ops.items())},
            "units": statistics.mean(read_units), "bytes": size,
            "waits": statistics.median(waits),
            "queues": len(board["queues"]),
            "agents": sum(len(queue["agents"]) for queue in board["queues"])}


def _arithmetic(figures: dict) -> None:
    per_hour = 3600 // POLL_SECONDS
    seconds = figures["p50"] / 1000  # the local median stands in for the Lambda's duration
    gb_seconds = per_hour * seconds * LAMBDA_GB
    polling = {
        "API Gateway REST requests": per_hour * PRICE["rest_api_request"],
        "Lambda requests": per_hour * PRICE["lambda_request"],
        "Lambda compute": gb_seconds * PRICE["lambda_gb_second"],
        "DynamoDB reads": per_hour * figures["units"] * PRICE["ddb_read_unit"],
    }
    print(f"  polling every {POLL_SECONDS} s while visible (60 s hidden): {per_hour} board requests"
          f" per open board-hour, {per_hour * figures['requests']:,.0f} DynamoDB requests"
          f" (~{per_hour * figures['units']:,.0f} read units)")
    print(f"  Lambda at 512 MB, taking the local median ({figures['p50']:.1f} ms) as its duration:"
          f" {gb_seconds:,.1f} GB-s per board-hour")
    total = sum(polling.values())
    print("  $ per open board-hour: " + ", ".join(f"{k} {v:.5f}" for k, v in polling.items())
          + f"; total {total:.5f} (x 8 h x 22 days: {total * 8 * 22:.2f} a month per"
          " supervisor)")
    frames = math.ceil(figures["bytes"] / WS_FRAME)
    ws = {"connection minutes (60)": 60 * PRICE["ws_connection_minute"],
          f"messages ({per_hour} x {frames} x 32 KB)": per_hour * frames * PRICE["ws_message"]}
    ws_total = sum(ws.values())
    producer = polling["Lambda requests"] + polling["Lambda compute"] + polling["DynamoDB reads"]
    print(f"  API Gateway WebSocket, the same board pushed every {POLL_SECONDS} s"
          f" ({figures['bytes']:,} bytes a board): 60 connection minutes and {per_hour}"
          f" messages per board-hour: " + ", ".join(f"{k} {v:.5f}" for k, v in ws.items())
          + f"; total {ws_total:.5f} $")
    print(f"    plus producing the pushed boards (a Lambda and its reads every {POLL_SECONDS} s,"
          f" shared by every board of those queues): {producer:.5f} $ per hour, and a"
          " scheduler that fires every 5 s (EventBridge's finest is 1 min) or a stream"
          " consumer pushing on change (fewer messages when calm, more when busy)")


def board_figures(counter) -> None:
    """The figures above; ``counter``: run.py's DynamoCounter (installed before this)."""
    from chalice.test import Client

    import app as app_module

    units = ReadUnits()
    now = datetime.now(UTC)
    queues = _populate(now)
    _supervisors(queues)
    print(f"\nWallboard: GET /board, {QUEUES} queues x {AGENTS_PER_QUEUE} agents,"
          f" {CALLERS_PER_QUEUE} callers and a callback waiting a queue, {REQUESTS} reads a case,"
          " through the test client on DynamoDB Local, signed in as a supervisor:")
    print("  assumptions (AWS public prices, us-east-1, on-demand, no free tier): "
          + ", ".join(f"{k} ${v:.10g}" for k, v in PRICE.items()))
    with Client(app_module.app, stage_name="local") as client:
        for username, label in (("bench-all", f"all {QUEUES} queues"), ("bench-one", "one queue")):
            figures = _measure(client, counter, units, _token(client, username))
            ops = ", ".join(f"{op} {n:.1f}" for op, n in figures["ops"].items())
            print(f"  supervisor of {label} ({figures['queues']} queues, {figures['agents']}"
                  f" agents on the board): p50 {figures['p50']:.1f} ms, p95"
                  f" {figures['p95']:.1f} ms per board request (waiting on DynamoDB Local"
                  f" {figures['waits']:.1f} ms of it, summed over the board's threads);"
                  " DynamoDB requests per board"
                  f" request {figures['requests']:.1f} ({ops}); ~{figures['units']:.1f} read"
                  f" units; {figures['bytes']:,} bytes")
            if username == "bench-all":
                _arithmetic(figures)


def main() -> None:
    """Alone: DynamoDB Local of its own, the tables, then the figures."""
    from infra.local.dynamodb import DynamoDBLocal
    from tests.bench.local_env import use_local_dynamodb

    ddb = DynamoDBLocal()
    ddb.start()
    try:
        use_local_dynamodb(ddb.endpoint)
        from chalicelib.store.tables import create_tables
        from tests.bench.run import DynamoCounter

        create_tables()
        board_figures(DynamoCounter())
    finally:
        ddb.stop()


if __name__ == "__main__":
    main()
