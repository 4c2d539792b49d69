"""Logs and metrics of the real app: a queued call counts offered and answered, a failing
webhook counts a fallback, the sweeper its duration; every line carries its correlation id and
no whole phone number (JSON logs and EMF, as in Lambda)."""

from __future__ import annotations

import pytest

from chalicelib import observability
from chalicelib.routing import agent_states
from chalicelib.routing.model import AgentState
from chalicelib.store import routing
from tests.integration.conftest import OPEN_HOURS, signed_post
from tests.logcapture import json_output

HOTLINE = "+14155550100"
CALLER = "+14155550176"
CALL_SID = "CA" + "5a1e" * 8


@pytest.fixture
def out(capsys, caplog):
    with json_output(capsys, caplog) as output:
        yield output


def test_the_app_logs_through_the_root_and_times_requests_before_the_signature_check(app_module):
    app = app_module.app
    http = [func for func, kind in app.middleware_handlers if kind == "http"]
    assert http[0] is observability.observe_request, "outermost: it times and correlates all"
    assert app.log.propagate and not app.log.handlers, "Chalice's own log lines are masked too"
    jobs = {source.name: source.handler_string for source in app.event_sources}
    assert jobs == {name: f"app.{name}"
                    for name in ("reconcile_calls", "sweep_queues", "dispatch_callbacks",
                                 "run_campaigns", "run_reminders")}


def test_an_answered_queued_call_counts_offered_and_answered(carrier, out):
    # Given Alice available in the demo's support queue
    alice = routing.get_agent("ag-alice")
    routing.change_agent_state(agent_states.transition(alice, AgentState.AVAILABLE, OPEN_HOURS,
                                                       "log in"), AgentState.OFFLINE, OPEN_HOURS)
    # When a caller asks for an agent and Alice picks up
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "2"])
    assert not t.errors and t.of_type("dial")[-1]["bridged"], t.events
    out.read()
    # Then one call was offered and answered, each webhook was timed, all in stage "test"
    assert out.total("CallsOffered") == 1 and out.total("CallsAnswered") == 1
    assert out.total("CallsAbandoned") == 0
    latencies = out.metric("WebhookLatency")
    assert len(latencies) >= 4 and {blob["stage"] for blob in out.emf} == {"test"}
    # and the call's lines carry its CallSid; its number shows only masked
    assert any(line.get("correlation_id") == t.call_sid for line in out.logs)
    assert "+1••••••0176" in out.text and CALLER[1:] not in out.text


def test_a_webhook_that_fails_answers_the_fallback_and_counts_it(client, out, monkeypatch):
    from chalicelib.ivr.service import VoiceService

    def broken(self, req):
        raise RuntimeError(f"storage down while answering {req.caller}")

    monkeypatch.setattr(VoiceService, "answer", broken)
    response = signed_post(client, "/twilio/voice", {"CallSid": CALL_SID, "From": CALLER,
                                                     "To": HOTLINE})
    assert response.status_code == 200 and b"<Record" in response.body
    out.read()
    [blob] = out.emf
    assert blob["FallbacksServed"] == [1.0] and len(blob["WebhookLatency"]) == 1
    assert blob["correlation_id"] == CALL_SID and blob["route"] == "/twilio/voice"
    failure = next(line for line in out.logs if line["level"] == "ERROR")
    assert failure["correlation_id"] == CALL_SID and "+1••••••0176" in failure["exception"]
    assert CALLER[1:] not in out.text


def test_an_api_call_is_logged_with_a_request_id_and_not_timed_as_a_webhook(client, out):
    assert client.http.get("/").status_code == 200
    out.read()
    [line] = out.logs
    assert line["message"].startswith("GET / 200 in ") and line["correlation_id"]
    assert not out.emf


def test_the_sweeper_sends_its_duration(client, out):
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                            detail={}, resources=[])
    client.lambda_.invoke("sweep_queues", event)
    out.read()
    [blob] = out.metric("JobDuration")
    assert blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["stage", "job"]]
    assert (blob["stage"], blob["job"]) == ("test", "sweep_queues")
    assert {line["correlation_id"] for line in out.logs} == {"sweep_queues"}
