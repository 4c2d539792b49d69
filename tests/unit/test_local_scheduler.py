"""The local scheduler runs @app.schedule jobs on EventBridge's timetable, in UTC."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from chalice import Chalice, Cron, Rate

from infra.local.scheduler import LocalScheduler, parse_rate, to_croniter


def ts(*args) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


# 2026-03-06 is a Friday.
START = ts(2026, 3, 6, 12, 0, 30)


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_app(calls: list):
    app = Chalice(app_name="schedtest")

    @app.schedule(Rate(5, unit=Rate.MINUTES))
    def every_five(event):
        calls.append(("every_five", event))

    @app.schedule("cron(0/15 * * * ? *)")
    def quarter_hours(event):
        calls.append(("quarter_hours", event))

    @app.schedule(Cron(0, 9, "?", "*", "6", "*"))  # AWS 6 = Friday
    def friday_nine(event):
        calls.append(("friday_nine", event))

    @app.schedule("rate(1 minute)", name="boom")
    def explodes(event):
        raise RuntimeError("job failed on purpose")

    return app


def run(scheduler: LocalScheduler, now: float) -> list[str]:
    threads = scheduler.run_pending(now)
    for thread in threads:
        thread.join(5)
    return sorted(t.name.removeprefix("sched-") for t in threads)


def test_discovers_every_scheduled_function():
    scheduler = LocalScheduler(make_app([]), clock=FakeClock(START))
    assert {job.name for job in scheduler.jobs} == {
        "every_five", "quarter_hours", "friday_nine", "boom"
    }


def test_rate_job_runs_one_interval_after_start_then_every_interval():
    calls: list = []
    scheduler = LocalScheduler(make_app(calls), clock=FakeClock(START))
    assert scheduler.due_jobs(START) == []
    assert "every_five" not in run(scheduler, START + 299)
    assert "every_five" in run(scheduler, START + 300)
    assert "every_five" not in run(scheduler, START + 301)
    assert "every_five" in run(scheduler, START + 600)


def test_cron_step_fires_on_the_quarter_hour_in_utc():
    calls: list = []
    scheduler = LocalScheduler(make_app(calls), clock=FakeClock(START))
    assert "quarter_hours" not in run(scheduler, ts(2026, 3, 6, 12, 14, 59))
    assert "quarter_hours" in run(scheduler, ts(2026, 3, 6, 12, 15, 0))
    assert "quarter_hours" not in run(scheduler, ts(2026, 3, 6, 12, 29, 0))
    assert "quarter_hours" in run(scheduler, ts(2026, 3, 6, 12, 30, 2))


def test_aws_day_of_week_six_is_friday():
    calls: list = []
    scheduler = LocalScheduler(make_app(calls), clock=FakeClock(START))
    job = next(j for j in scheduler.jobs if j.name == "friday_nine")
    assert job.next_at == ts(2026, 3, 13, 9, 0)  # next Friday: today's 09:00 has passed
    assert "friday_nine" not in run(scheduler, ts(2026, 3, 12, 9, 0))  # Thursday
    assert "friday_nine" in run(scheduler, ts(2026, 3, 13, 9, 0))


def test_job_receives_a_cloudwatch_scheduled_event():
    calls: list = []
    scheduler = LocalScheduler(make_app(calls), clock=FakeClock(START))
    run(scheduler, START + 300)
    name, event = next(c for c in calls if c[0] == "every_five")
    assert event.detail_type == "Scheduled Event"
    assert event.source == "aws.events"
    assert event.time == "2026-03-06T12:05:30Z"
    assert event.resources[0].endswith(":rule/schedtest-local-every_five")
    assert event.context.function_name == "schedtest-local-every_five"
    assert event.context.get_remaining_time_in_millis() > 0


def test_a_failing_job_is_logged_and_the_others_still_run(caplog):
    calls: list = []
    scheduler = LocalScheduler(make_app(calls), clock=FakeClock(START))
    with caplog.at_level(logging.ERROR, logger="infra.local.scheduler"):
        ran = run(scheduler, START + 300)
    assert ran == ["boom", "every_five"]
    assert [c[0] for c in calls] == ["every_five"]
    assert "boom failed" in caplog.text
    assert "boom" in run(scheduler, START + 360)  # and it keeps its schedule


def test_custom_invoke_replaces_the_call():
    seen = []
    scheduler = LocalScheduler(
        make_app([]), clock=FakeClock(START), invoke=lambda job, event, ctx: seen.append(job.name)
    )
    run(scheduler, START + 300)
    assert sorted(seen) == ["boom", "every_five"]


@pytest.mark.parametrize(
    ("aws", "expected"),
    [
        ("cron(0/5 * * * ? *)", "0/5 * * * * 0 *"),
        ("cron(0 12 ? * 2-6 2026)", "0 12 * * 1-5 0 2026"),  # MON-FRI
        ("cron(15 10 ? * 1,7 *)", "15 10 * * 0,6 0 *"),  # SUN, SAT
        ("cron(0 12 ? * MON-FRI *)", "0 12 * * MON-FRI 0 *"),
        ("cron(0 8 ? JAN,JUL 6#3 *)", "0 8 * JAN,JUL 5#3 0 *"),  # third Friday
        ("cron(0 8 ? * 6L *)", "0 8 * * L5 0 *"),  # last Friday
        ("cron(0 8 1 * ? *)", "0 8 1 * * 0 *"),
    ],
)
def test_translates_aws_cron(aws, expected):
    assert to_croniter(aws) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "cron(0 12 * * ?)",  # five fields
        "cron(99 * * * ? *)",
        "cron(0 12 * * * *)",  # AWS wants '?' in day-of-month or day-of-week
        "cron(0 12 ? * ? *)",
        "every day",
    ],
)
def test_rejects_invalid_expressions(bad):
    with pytest.raises(ValueError):
        to_croniter(bad)


def test_year_field_limits_runs():
    app = Chalice(app_name="years")

    @app.schedule("cron(0 0 1 1 ? 2025)")
    def past(event):
        pass

    scheduler = LocalScheduler(app, clock=FakeClock(START))
    assert scheduler.jobs[0].next_at == float("inf")
    assert scheduler.due_jobs(ts(2030, 1, 1)) == []


def test_parse_rate():
    assert parse_rate("rate(1 minute)") == 60
    assert parse_rate("rate(2 hours)") == 7200
    assert parse_rate("rate(1 day)") == 86400
    assert parse_rate("cron(0 * * * ? *)") is None
