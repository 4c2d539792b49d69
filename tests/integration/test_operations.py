"""Operator paths: publishing refuses broken flows; the scheduled sweeper really runs locally."""

from __future__ import annotations

import uuid
from datetime import timedelta

from chalicelib.store import calls
from chalicelib.store.models import FlowVersion
from tests.integration.conftest import OPEN_HOURS
from tests.support import ROOT


def test_publishing_refuses_a_directory_with_a_broken_flow(capsys):
    import manage

    broken = ROOT / "tests" / "fixtures" / "flows"
    before = {(v.flow_id, v.version) for v in FlowVersion.scan()}
    assert manage.main(["flows", "publish", "--dir", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "dangling.yaml:" in err and "nothing was published" in err
    assert {(v.flow_id, v.version) for v in FlowVersion.scan()} == before


def test_lint_cli_passes_on_the_shipped_flows(capsys):
    import manage

    assert manage.main(["flows", "lint"]) == 0
    assert "billing, campaign_survey, main, pay_bill, reminder_call" in capsys.readouterr().out


def test_the_local_scheduler_runs_the_apps_reconciliation_against_dynamodb(carrier, clock):
    from infra.local.scheduler import LocalScheduler

    # Given a call whose final status callback was lost five hours ago
    sid = "CA" + uuid.uuid4().hex
    call = calls.NewCall(sid, "+14155550100", "+14155550177", "inbound", None, {})
    step = calls.StepOutcome(
        flow_id="main", flow_version=1, language="en-US", node="main_menu",
        visited=["main_menu"], vars={"pin": "1234"}, attempts={}, inputs={},
        twiml="<Response/>", outcome=None,
    )
    calls.start_call(call, step, now=OPEN_HOURS - timedelta(hours=5), retention_days=30)
    import app

    ticks = [0.0]
    scheduler = LocalScheduler(app.app, clock=lambda: ticks[0])
    assert {job.name for job in scheduler.jobs} == {"reconcile_calls", "sweep_queues",
                                                    "dispatch_callbacks", "run_campaigns",
                                                    "run_reminders"}
    scheduler.jobs = [job for job in scheduler.jobs if job.name == "reconcile_calls"]
    # When the job falls due (5 minutes later) and runs as EventBridge would call it: Twilio
    # (the emulator) knows no such call
    for thread in scheduler.run_pending(5 * 60.0):
        thread.join(30)
    # Then the stale call is closed and its live variables are gone
    record = calls.get_call(sid)
    assert record.outcome == "lost" and record.vars is None


def test_manage_jobs_lists_the_schedule_and_runs_a_job_now(client, capsys, monkeypatch):
    """``manage.py jobs run run_reminders``: the hourly job at once, on the same tables (a
    developer need not wait an hour to see the reminder policies at work)."""
    import json

    import manage
    from chalicelib.settings import get_settings

    monkeypatch.setattr(get_settings(), "reminder_caller_id", "+14155550100")

    assert manage.main(["jobs", "list"]) == 0
    listed = capsys.readouterr().out
    assert "run_reminders            rate(1 hour)" in listed and "run_campaigns" in listed
    assert manage.main(["jobs", "run", "run_reminders"]) == 0
    out = capsys.readouterr().out  # the job's own log lines come first (the app logs to stdout)
    made = json.loads(out[out.index("{\n"):])
    assert set(made) == {"standard:-3", "standard:0", "standard:3", "standard:7",
                         "standard:10"}
    assert manage.main(["jobs", "run", "no_such_job"]) == 1
    assert "no job 'no_such_job'" in capsys.readouterr().err
