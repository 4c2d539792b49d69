"""``make bench``: figures for the IVR's speed goals, printed, never asserted.

The machine is shared and noisy, so each figure that has a target is measured as a ratio against
a baseline taken in the same run, interleaved with it:

* the Lambda package's size (``make bench`` builds it first; target ≤ 15 MB zipped);
* cold import of ``app`` in a fresh interpreter (target ≤ 300 ms), next to a bare interpreter;
* a new container's cold start (``cold_start.py``), from the work tree and from the package: the
  first and second call answers against ``import app`` plus a first constant-TwiML webhook
  (target ≤ 3×), and botocore clients per container (target 1);
* server time per IVR webhook through Chalice's in-process test client against DynamoDB Local,
  p50 and p99, as a ratio to a handler answering constant TwiML through the same stack
  (signature check included) — target ≤ 3×;
* DynamoDB requests per IVR step — target ≤ 2;
* routing (``routing.py``), callbacks (``callbacks.py``: dispatched per tick with 10,000 pending,
  DynamoDB requests per dialled callback, Scans, duplicate dials in a race), the queue simulation
  against Erlang C (``queue_sim.py``), the calling-hours search (``contact_time.py``) and the
  predictive pacer and CPS throttle on a simulated clock against Erlang B (``dialer_sim.py``),
  and one ``pacer.pace`` call's time for 50 and 200 agents; campaigns, reminders and reports
  (``campaigns.py``, ``reminders.py``, ``reports.py``: one day at issue 12's density of
  500,000 calls a month with every fact a call leaves: the stream consumer's cost per call, the
  day rebuilt and the month extrapolated, the agents report for 200 agents and the queues
  report over a month of 20 queues); the supervisor's wallboard (``console.py``: ``GET /board``
  at 20 queues and 200 agents, time and DynamoDB requests per board, and what polling it costs
  per open board-hour next to an API Gateway WebSocket design); scale (``scale.py``, issue 14:
  DynamoDB requests, units and time per join, hold, position, dispatch and sweep as agents,
  lines and queues grow, cancelled transactions under contention, AWS cost per queued call).

DynamoDB Local answers in 5–8 ms per request, so a step that must read and conditionally write the
call record cannot come near 3× a handler that touches nothing. The script therefore also prints
the step against constant TwiML served after one GetItem, and Switchboard's own time per step with
the DynamoDB waits taken out.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.local_env import BASE, TOKEN, use_local_dynamodb  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "150"))
IMPORT_RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "12"))
COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
# `make bench` builds it first (`make package`); run alone, the script uses whatever is there.
PACKAGE_ZIP = Path(os.environ.get("BENCH_PACKAGE_ZIP", ROOT / "build/package-dev/deployment.zip"))
ACTION = re.compile(r'action="' + re.escape(BASE) + r'([^"]+)"')


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def cold_import() -> None:
    code = "import time; t=time.perf_counter(); import {m}; print(time.perf_counter()-t)"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    # "app, chalicelib.ivr.service" is what the first call also loads (storage, engine)
    samples: dict[str, list[float]] = {"app": [], "chalice": [], "app, chalicelib.ivr.service": []}
    for _ in range(IMPORT_RUNS):
        for module in samples:  # interleaved, so both see the same machine load
            out = subprocess.run([sys.executable, "-c", code.format(m=module)], cwd=ROOT,
                                 env=env, capture_output=True, text=True, check=True)
            samples[module].append(float(out.stdout.strip()) * 1000)
    app_ms, chalice_ms, first_ms = (statistics.median(v) for v in samples.values())
    print(f"cold import of app:        median {app_ms:6.1f} ms  (target <= 300 ms;"
          f" `import chalice` alone {chalice_ms:.1f} ms; {IMPORT_RUNS} runs)")
    print(f"  plus what the first call loads (storage, engine): {first_ms:6.1f} ms in all")


class DynamoCounter:
    """Counts DynamoDB API calls by wrapping PynamoDB's single dispatch point."""

    def __init__(self):
        from pynamodb.connection.base import Connection

        self.count = 0
        self.seconds = 0.0
        self.by_operation: dict[str, int] = {}
        original = Connection.dispatch

        def counting(conn, operation_name, operation_kwargs):
            self.count += 1
            self.by_operation[operation_name] = self.by_operation.get(operation_name, 0) + 1
            started = time.perf_counter()
            try:
                return original(conn, operation_name, operation_kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        Connection.dispatch = counting


def package_figures() -> None:
    from infra.lambda_package import describe

    if not PACKAGE_ZIP.is_file():
        print(f"Lambda package: {PACKAGE_ZIP} not built (`make package`); no figures for it")
        return
    print("\n".join(describe(PACKAGE_ZIP)))


def cold_start_figures() -> None:
    """A new container's first webhooks, in fresh interpreters, from the work tree and from the
    Lambda package (``cold_start.py``); needs the DynamoDB Local and demo data set up here."""
    import tempfile
    import zipfile

    from infra.local.demo import DEMO_HOTLINE
    from tests.bench import cold_start

    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        sources: dict[str, Path | None] = {"the work tree (virtualenv, bytecode cached)": None}
        if PACKAGE_ZIP.is_file():
            with zipfile.ZipFile(PACKAGE_ZIP) as archive:
                archive.extractall(tmp)
            sources[f"the Lambda package ({PACKAGE_ZIP.name}, as Lambda runs it)"] = Path(tmp)
        cold_start.main(BASE, TOKEN, DEMO_HOTLINE, COLD_RUNS, sources)


def webhook_figures() -> None:
    from infra.local.dynamodb import DynamoDBLocal

    ddb = DynamoDBLocal()
    ddb.start()
    try:
        use_local_dynamodb(ddb.endpoint)
        counter = _webhooks()
        cold_start_figures()
        from tests.bench import routing as routing_bench

        routing_bench.throughput(counter)
        routing_bench.stress()
        from tests.bench import callbacks as callbacks_bench

        callbacks_bench.dispatch_per_tick(counter)
        callbacks_bench.race()
        from tests.bench import campaigns as campaigns_bench

        campaigns_bench.tick_with_100k(counter)
        campaigns_bench.race()
        from tests.bench import reminders as reminders_bench

        reminders_bench.planning(counter)
        reminders_bench.send_and_race(counter)
        from tests.bench import reports as reports_bench

        day = reports_bench.consumer_and_rebuild(counter)
        reports_bench.agent_queries(counter, day)
        reports_bench.report_queries(counter)
        from tests.bench import console as console_bench

        console_bench.board_figures(counter)
        from tests.bench import scale as scale_bench

        scale_bench.figures()  # in tables of its own; routing decisions/s printed above
    finally:
        ddb.stop()


def _webhooks() -> None:
    from chalice.test import Client
    from twilio.request_validator import RequestValidator

    from chalicelib.store.tables import create_tables
    from infra.local.demo import DEMO_HOTLINE, load_demo

    create_tables()
    load_demo()
    import app as app_module
    from tests.bench.baseline import (
        CONSTANT_PATH,
        STATEFUL_PATH,
        add_constant_route,
        add_stateful_route,
    )

    add_constant_route(app_module.app)
    add_stateful_route(app_module.app, DEMO_HOTLINE)

    counter = DynamoCounter()
    validator = RequestValidator(TOKEN)
    ivr_ms: list[float] = []
    base_ms: list[float] = []
    read_ms: list[float] = []
    requests_per_step: list[int] = []
    own_ms: list[float] = []  # step time minus time spent waiting on DynamoDB Local

    with Client(app_module.app) as client:

        def post(path: str, params: dict) -> tuple[float, str]:
            params = {"AccountSid": "AC" + "0" * 32, **params}
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": validator.compute_signature(BASE + path, params)}
            body = urlencode(params)
            started = time.perf_counter()
            response = client.http.post(path, headers=headers, body=body)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.body
            return elapsed, response.body.decode()

        # warm up: caches, connections, template compilation
        for _ in range(5):
            post(CONSTANT_PATH, {"CallSid": "CA" + uuid.uuid4().hex})
        # A caller walks: language menu -> main menu "9" (repeat) twice -> "3" (voicemail)
        digits = ["1", "9", "9", "3"]
        for _ in range(CALLS):
            call = {"CallSid": "CA" + uuid.uuid4().hex, "From": "+14155550177",
                    "To": DEMO_HOTLINE, "CallStatus": "in-progress", "Direction": "inbound"}
            _, body = post("/twilio/voice", call)
            for key in digits:
                path = ACTION.search(body).group(1)
                before, db_before = counter.count, counter.seconds
                elapsed, body = post(path, {**call, "Digits": key})
                requests_per_step.append(counter.count - before)
                own_ms.append(elapsed - (counter.seconds - db_before) * 1000)
                ivr_ms.append(elapsed)
                base_elapsed, _ = post(CONSTANT_PATH, call)
                base_ms.append(base_elapsed)
                read_elapsed, _ = post(STATEFUL_PATH, call)
                read_ms.append(read_elapsed)

    p50, p99 = pct(ivr_ms, 0.50), pct(ivr_ms, 0.99)
    b50, b99 = pct(base_ms, 0.50), pct(base_ms, 0.99)
    print(f"IVR step webhook:          p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
          f"({len(ivr_ms)} steps)")
    print(f"constant TwiML, same stack: p50 {b50:6.2f} ms   p99 {b99:6.2f} ms")
    print(f"ratio IVR / constant:      p50 {p50 / b50:5.2f}x   p99 {p99 / b99:5.2f}x"
          "   (target <= 3x)")
    r50, r99 = pct(read_ms, 0.50), pct(read_ms, 0.99)
    print(f"constant TwiML after one GetItem: p50 {r50:6.2f} ms   p99 {r99:6.2f} ms;"
          f"  IVR / that: p50 {p50 / r50:4.2f}x  p99 {p99 / r99:4.2f}x")
    o50, o99 = pct(own_ms, 0.50), pct(own_ms, 0.99)
    print(f"  of which Switchboard's own time (DynamoDB waits removed): p50 {o50:5.2f} ms"
          f" = {o50 / b50:4.2f}x constant;  p99 {o99:5.2f} ms = {o99 / b99:4.2f}x")
    print(f"  DynamoDB Local round trips per step: p50 {p50 - o50:5.2f} ms")
    mean = statistics.mean(requests_per_step)
    print(f"DynamoDB requests per IVR step: mean {mean:.2f}, max {max(requests_per_step)}"
          "   (target <= 2)")
    return counter


def dialer_figures(hours: float = 8, seeds: int = 3) -> None:
    """The predictive pacer, the CPS throttle and the compliance gate on a simulated clock
    (``dialer_sim.py``), against the open-loop Erlang B oracle at the same abandonment; then the
    throttle alone, configured against achieved calls per second."""
    from chalicelib.campaigns.pacing import erlang_b_utilisation
    from tests.bench.dialer_sim import simulate, simulate_cps

    print(f"\nPredictive pacer (pacer.pace + throttle.RateLimiter + rules.decide), {hours:g} h"
          f" x {seeds} seeds per row:")
    print("answer rate 0.3 (of the rest 30 % machines, AMD 99 % accurate), talk 120 s"
          " exponential, wrap-up 0-10 s, 10 CPS; the pacer counts the talking agents, with the"
          " last hour's mean handle time and answer delay;")
    print("abandoned = live drops + AMD false positives, over live answers; oracle = Erlang B"
          " utilisation at the same abandonment.\n")
    print(f"{'N':>3} {'abandoned':>9} {'worst h':>7} {'utilisation':>11} {'oracle':>6}"
          f" {'Δ pts':>6} {'oracle@3%':>9} {'dial level':>10} {'predictive':>10} {'secs':>5}")
    for agents in (5, 10, 20, 50):
        started = time.perf_counter()
        runs = [simulate(agents, answer_rate=0.3, talk_seconds=120, hours=hours,
                         seed=agents * 100 + i) for i in range(seeds)]
        took = time.perf_counter() - started
        live = sum(r["live_answers"] for r in runs)
        abandoned = sum(r["abandoned"] for r in runs) / live
        worst = max(r["abandon_rate_max_hour"] for r in runs)
        busy = statistics.fmean(r["utilisation"] for r in runs)
        oracle = erlang_b_utilisation(agents, abandoned)
        level = statistics.fmean(r["dial_level"] for r in runs)
        predictive = statistics.fmean(r["predictive_share"] for r in runs)
        print(f"{agents:>3} {100 * abandoned:>8.2f}% {100 * worst:>6.2f}% {100 * busy:>10.1f}%"
              f" {100 * oracle:>5.1f}% {100 * (busy - oracle):>+6.1f}"
              f" {100 * erlang_b_utilisation(agents, 0.03):>8.1f}% {level:>10.2f}"
              f" {100 * predictive:>9.0f}% {took:>5.1f}")
    print("(worst h: the worst rolling hour of any seed; dial level: numbers ringing per ready"
          " agent, over rounds with one ready, above the cap of 3 when talking agents about to"
          " free up count; predictive: share of calls placed by the predictive rule, the rest"
          " progressive)")
    pace_timing()

    print("\nDial pacing: RateLimiter on one shared counter, dispatchers with an endless backlog,"
          " 10 simulated minutes\n")
    print(f"{'CPS':>5} {'measured':>9} {'ratio':>6} {'max in a second':>15}")
    for cps in (1, 5, 10):
        r = simulate_cps(cps, minutes=10)
        print(f"{cps:>5g} {r['achieved']:>9.3f} {r['ratio']:>6.3f} {r['max_in_a_second']:>15}")


def pace_timing(rounds: int = 2000) -> None:
    """One ``pacer.pace`` call's time for a busy campaign of 50 and of 200 agents (a tenth of
    them ready, the rest talking, as many numbers ringing as agents ready, a 30 % answer rate),
    with and without the talking agents' figures."""
    from chalicelib.campaigns.pacer import Figures, pace

    print("\npacer.pace per call (a tenth of the agents ready, the rest talking; H 130 s, R 15 s,"
          " p 0.3):")
    for agents in (50, 200):
        ready = agents // 10
        known = Figures(ready_agents=ready, ringing=ready, dials=10_000, live_answers=3_000,
                        abandoned=50, machine_answers=2_000, talking=agents - ready,
                        handle_seconds=130.0, answer_delay_seconds=15.0)
        unknown = Figures(ready_agents=ready, ringing=ready, dials=10_000, live_answers=3_000,
                          abandoned=50, machine_answers=2_000)
        timings = []
        for figures in (known, unknown):
            started = time.perf_counter()
            for _ in range(rounds):
                calls = pace(figures).calls
            timings.append((1e6 * (time.perf_counter() - started) / rounds, calls))
        (with_talking, calls), (ready_only, old_calls) = timings
        print(f"  N = {agents:>3}: {with_talking:>5.0f} µs ({calls} calls); counting only the"
              f" ready agents {ready_only:>5.0f} µs ({old_calls} calls)")


if __name__ == "__main__":
    print("Switchboard benchmark (figures only; nothing here passes or fails)")
    package_figures()
    cold_import()
    webhook_figures()
    from tests.bench import queue_sim

    queue_sim.main(calls=int(os.environ.get("BENCH_SIM_CALLS", "20000")))
    from tests.bench import contact_time

    contact_time.main()
    dialer_figures(hours=float(os.environ.get("BENCH_DIALER_HOURS", "8")))
