"""Run a Chalice app's ``@app.schedule`` jobs locally, since ``chalice local`` does not.

Jobs are read from ``app.event_sources`` (one ``ScheduledEventConfig`` per job) and called
through ``app.handler_map[name]``: the ``EventSourceHandler`` Chalice would call in Lambda, so the
job receives the same ``CloudWatchEvent`` object (and middleware) as in AWS.

Schedules follow EventBridge, in UTC:

* ``rate(5 minutes)``: first run one interval after start, then every interval.
* ``cron(min hour day-of-month month day-of-week year)``: matched by ``croniter`` after
  translation: ``?`` becomes ``*``, AWS day-of-week 1-7 (SUN-SAT) becomes 0-6, ``6L`` (last
  Friday) becomes ``L5``; the year moves to croniter's 7th field behind a ``0`` seconds field.

Each run gets its own thread; a run longer than ``timeout`` is reported (Lambda would have killed
it), and a job still running when it is due again is skipped rather than stacked up.

    python -m infra.local.scheduler --app-dir .
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalice.app import ScheduledEventConfig, ScheduleExpression
from croniter import CroniterBadDateError, croniter

log = logging.getLogger("infra.local.scheduler")

ACCOUNT = "123456789012"  # the placeholder account id AWS uses in its own examples
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.I)
_CRON = re.compile(r"^cron\((.+)\)$", re.I)
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def parse_rate(expression: str) -> float | None:
    """Seconds between runs for ``rate(...)``; None if it is not a rate expression."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    value, unit = int(match.group(1)), match.group(2).lower().rstrip("s")
    if value < 1:
        raise ValueError(f"rate must be positive: {expression}")
    return value * _UNIT_SECONDS[unit]


def _aws_dow_item(item: str) -> str:
    """Translate one day-of-week list item from AWS (1-7 = SUN-SAT) to cron (0-6)."""
    if item in ("*", "?"):
        return "*"
    if re.fullmatch(r"\d+L", item, re.I):  # AWS "6L" = last Friday; croniter spells it "L5"
        return f"L{int(item[:-1]) - 1}"
    base, _, step = item.partition("/")
    base, hash_, nth = base.partition("#")
    days = "-".join(str(int(p) - 1) if p.isdigit() else p for p in base.split("-"))
    return days + hash_ + nth + (f"/{step}" if step else "")


def to_croniter(expression: str) -> str:
    """Translate ``cron(m h dom mon dow year)`` to croniter's 7-field (seconds, year) form."""
    match = _CRON.match(expression.strip())
    fields = match.group(1).split() if match else []
    if len(fields) != 6:
        raise ValueError(f"AWS cron needs 6 fields (min hour dom month dow year): {expression}")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):  # EventBridge rejects such a rule at deploy: fail early
        raise ValueError(f"exactly one of day-of-month and day-of-week must be '?': {expression}")
    dom = "*" if dom == "?" else dom
    dow = ",".join(_aws_dow_item(item) for item in dow.split(","))
    year = "*" if year == "?" else year
    cron = f"{minute} {hour} {dom} {month} {dow} 0 {year}"
    if not croniter.is_valid(cron):
        raise ValueError(f"unsupported cron expression: {expression}")
    return cron


@dataclass
class Job:
    """One scheduled function and when it is next due (epoch seconds)."""

    name: str
    expression: str
    handler: Callable[[dict, Any], Any]
    interval: float | None = None  # rate jobs
    cron: str | None = None  # cron jobs, croniter syntax
    next_at: float = 0.0
    thread: threading.Thread | None = field(default=None, repr=False)

    def schedule_after(self, now: float) -> None:
        """Set ``next_at`` to the first run strictly after ``now``."""
        if self.interval is not None:
            if not self.next_at:
                self.next_at = now + self.interval
            while self.next_at <= now:  # missed runs are skipped, as after a pause
                self.next_at += self.interval
            return
        start = datetime.fromtimestamp(now, tz=UTC)
        try:
            self.next_at = croniter(self.cron, start).get_next(float)
        except CroniterBadDateError:  # no match left, e.g. past the last year listed
            self.next_at = float("inf")


def discover_jobs(app) -> list[Job]:
    """Every ``@app.schedule`` of ``app`` (blueprints included) as a :class:`Job`."""
    jobs = []
    for source in app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        expression = source.schedule_expression
        if isinstance(expression, ScheduleExpression):
            expression = expression.to_string()
        job = Job(source.name, expression, app.handler_map[source.name])
        job.interval = parse_rate(expression)
        if job.interval is None:
            job.cron = to_croniter(expression)
        jobs.append(job)
    return jobs


def scheduled_event(job: Job, now: float, app_name: str = "app", region: str = "us-east-1"):
    """The event EventBridge sends a scheduled Lambda."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/{app_name}-local-{job.name}"],
        "detail": {},
    }


def lambda_context(app_name: str, job: Job, timeout: float):
    from chalice.local import LambdaContext  # the fake context chalice local itself uses

    return LambdaContext(f"{app_name}-local-{job.name}", 512, max_runtime_ms=int(timeout * 1000))


class LocalScheduler:
    """Calls an app's scheduled jobs when due. ``invoke(job, event, context)`` is replaceable."""

    def __init__(self, app, clock: Callable[[], float] = time.time, invoke=None, timeout=20.0):
        self.app = app
        self.clock = clock
        self.invoke = invoke or (lambda job, event, context: job.handler(event, context))
        self.timeout = timeout
        self.jobs = discover_jobs(app)
        start = clock()
        for job in self.jobs:
            job.schedule_after(start)

    def due_jobs(self, now: float) -> list[Job]:
        return [job for job in self.jobs if job.next_at <= now]

    def run_pending(self, now: float) -> list[threading.Thread]:
        """Start every due job in its own thread; return the threads started."""
        started = []
        for job in self.due_jobs(now):
            job.schedule_after(now)
            if job.thread is not None and job.thread.is_alive():
                log.warning("%s is still running; skipping this run", job.name)
                continue
            job.thread = threading.Thread(
                target=self._run, args=(job, now), name=f"sched-{job.name}", daemon=True
            )
            job.thread.start()
            started.append(job.thread)
        return started

    def _run(self, job: Job, now: float) -> None:
        name = getattr(self.app, "app_name", "app")
        watchdog = threading.Timer(
            self.timeout, log.warning, ("%s still running after %.0fs", job.name, self.timeout)
        )
        watchdog.daemon = True
        watchdog.start()
        began = time.monotonic()
        try:
            event = scheduled_event(job, now, name)
            self.invoke(job, event, lambda_context(name, job, self.timeout))
            log.info("%s done in %.2fs", job.name, time.monotonic() - began)
        except Exception:  # one failing job must never stop the others
            log.exception("%s failed", job.name)
        finally:
            watchdog.cancel()

    def run_forever(self, stop_event: threading.Event) -> None:
        for job in self.jobs:
            log.info("%s: %s (next %s)", job.name, job.expression, _utc(job.next_at))
        while not stop_event.is_set():
            self.run_pending(self.clock())
            stop_event.wait(1.0)


def _utc(epoch: float) -> str:
    if epoch == float("inf"):
        return "never"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def load_app(app_dir: str):
    """Import ``app`` from ``app_dir/app.py`` the way chalice does (app dir on sys.path)."""
    path = str(Path(app_dir).resolve())
    sys.path.insert(0, path)
    return importlib.import_module("app").app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a Chalice app's scheduled jobs locally")
    parser.add_argument("--app-dir", default=".")
    parser.add_argument("--timeout", type=float, default=20.0, help="warn after this many s")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    scheduler = LocalScheduler(load_app(args.app_dir), timeout=args.timeout)
    if not scheduler.jobs:
        log.info("no @app.schedule jobs found; idling")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # explicit: may start out ignored
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        scheduler.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
