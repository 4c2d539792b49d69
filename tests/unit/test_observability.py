"""Logs and metrics (``chalicelib.observability``): JSON lines carry a correlation id and never a
whole phone number; EMF metrics are flushed once per webhook and per job. No storage: a small
Chalice app of its own, and fakes where the voice routes would reach DynamoDB."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib import observability
from chalicelib.logs import ref, scrub, scrub_value
from chalicelib.settings import ConfigError, load_settings
from tests.logcapture import json_output

CALL_SID = "CA" + "0123456789abcdef" * 2
CALLER = "+14155550111"
MASKED = "+1••••••0111"
CALLBACK_ID = "cb_Zx8Q2mN4pL6rT0vB1cD3eF5g"
FORM = "application/x-www-form-urlencoded"

log = logging.getLogger("tests.observability")
log.setLevel(logging.INFO)


@pytest.fixture
def out(capsys, caplog):
    with json_output(capsys, caplog) as output:
        yield output


@pytest.fixture
def client(tmp_path):
    app = Chalice(app_name="observability-test", configure_logs=False)
    app.register_middleware(observability.observe_request, "http")

    @app.route("/twilio/voice", methods=["POST"], content_types=[FORM])
    def incoming_call():
        log.info("call from %s", CALLER, extra={"caller": CALLER, "digits": 3})
        try:
            raise ValueError(f"cannot dial {CALLER}")
        except ValueError:
            log.exception("callback %s not placed", CALLBACK_ID)
        return "<Response/>"

    @app.route("/queues", methods=["GET"])
    def queues():
        log.info("board read")
        return {}

    with Client(app, project_dir=str(tmp_path)) as test_client:
        yield test_client


def post_call(client, **params):
    body = "&".join(f"{k}={v}" for k, v in params.items())
    return client.http.post("/twilio/voice", headers={"Content-Type": FORM}, body=body)


# ---- masking ---------------------------------------------------------------------------------
def test_scrub_masks_numbers_in_any_shape_and_leaves_ids_dates_and_decimals():
    assert scrub(f"call from {CALLER} failed") == f"call from {MASKED} failed"
    assert scrub("From=%2B14155550111&To=%2B18005551212") == "From=%2B1••••••0111&To=%2B1••••••1212"
    assert "555 0111" not in scrub("dial (415) 555 0111 now")
    assert scrub("numbers 14155550111 14155550122").endswith("0122")
    assert "4155550111" not in scrub("numbers 14155550111 14155550122")
    kept = f"{CALL_SID} at 2026-11-23 15:00:00 took 0.1234567 s, 12 calls, queue q2"
    assert scrub(kept) == kept
    assert scrub(f"request {CALLBACK_ID}") == f"request {ref(CALLBACK_ID)}"
    once = scrub(f"{CALLER} {CALLBACK_ID}")
    assert scrub(once) == once, "a record may be scrubbed twice"
    assert scrub_value({"to": [CALLER], "n": 3, "ok": True}) == {"to": [MASKED], "n": 3,
                                                                  "ok": True}
    assert scrub_value(ValueError(f"bad number {CALLER}")) == f"bad number {MASKED}"


# ---- logs ------------------------------------------------------------------------------------
def test_json_lines_of_a_webhook_carry_its_callsid_and_no_whole_number(client, out):
    response = post_call(client, CallSid=CALL_SID, From="%2B14155550111")
    assert response.status_code == 200
    out.read()
    assert "4155550111" not in out.text, "a number passed as an argument is masked everywhere"
    assert CALLBACK_ID not in out.text
    call, failure, summary = out.logs
    assert {line["correlation_id"] for line in out.logs} == {CALL_SID}
    assert call["message"] == f"call from {MASKED}" and call["caller"] == MASKED
    assert call["digits"] == 3 and call["level"] == "INFO"
    assert call["logger"] == "tests.observability" and call["service"] == "switchboard"
    assert failure["message"] == f"callback {ref(CALLBACK_ID)} not placed"
    assert failure["exception_name"] == "ValueError" and MASKED in failure["exception"]
    assert summary["message"].startswith("POST /twilio/voice 200 in ")


def test_an_api_call_is_correlated_by_api_gateways_request_id(out):
    event = SimpleNamespace(path="/queues", method="GET", raw_body=b"",
                            context={"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"})

    def view(event):
        log.info("board read")
        return SimpleNamespace(status_code=200)

    observability.observe_request(event, view)
    out.read()
    assert [line["correlation_id"] for line in out.logs] == [event.context["requestId"]] * 2
    assert not out.emf, "only Twilio webhooks are timed"
    assert observability.correlation_id() is None, "reset after the request"


def test_a_forged_callsid_is_not_trusted_as_correlation_id(client, out):
    post_call(client, CallSid="%2B14155550111", From="x")
    out.read()
    assert "4155550111" not in out.text
    assert all(line["correlation_id"].startswith("local-") for line in out.logs)


def test_text_logs_are_readable_masked_and_print_no_emf(capsys):
    previous = (observability._state.log_format, observability._state.stage)
    observability.setup_logging(log_format="text", stage="test")
    try:
        capsys.readouterr()
        observability.metric("CallsOffered")
        log.info("call from %s", CALLER)
        observability.flush_metrics()
        text = capsys.readouterr().out
    finally:
        observability.setup_logging(log_format=previous[0], stage=previous[1])
    assert f"INFO    tests.observability [-] call from {MASKED}" in text
    assert "_aws" not in text and CALLER not in text


def test_log_format_is_json_in_lambda_and_text_elsewhere():
    assert load_settings({"AWS_LAMBDA_FUNCTION_NAME": "switchboard-dev"}).log_format == "json"
    assert load_settings({}).log_format == "text"
    assert load_settings({"LOG_FORMAT": "JSON"}).log_format == "json"
    assert load_settings({"AWS_LAMBDA_FUNCTION_NAME": "f", "LOG_FORMAT": "text"}).log_format \
        == "text"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings({"LOG_FORMAT": "yaml"})


# ---- metrics ---------------------------------------------------------------------------------
def test_a_webhook_sends_its_latency_once_by_stage(client, out):
    post_call(client, CallSid=CALL_SID, From="x")
    client.http.get("/queues")
    out.read()
    [blob] = out.metric("WebhookLatency")
    directive = blob["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Switchboard" and directive["Dimensions"] == [["stage"]]
    assert directive["Metrics"] == [{"Name": "WebhookLatency", "Unit": "Milliseconds"}]
    assert blob["stage"] == "test" and blob["route"] == "/twilio/voice"
    assert blob["correlation_id"] == CALL_SID
    assert blob["WebhookLatency"][0] > 0


def test_domain_counts_ride_in_the_invocations_one_emf_object(client, out):
    observability.metric("CallsOffered")
    observability.metric("CallsOffered")
    observability.metric("CallsAbandoned")
    post_call(client, CallSid=CALL_SID, From="x")
    out.read()
    [blob] = out.emf
    assert blob["CallsOffered"] == [1.0, 1.0] and blob["CallsAbandoned"] == [1.0]
    observability.flush_metrics()
    assert not out.read().emf, "flushed means sent once"


def test_a_voice_webhook_that_fails_serves_the_fallback_and_counts_it(monkeypatch, out):
    from chalicelib.ivr import routes
    from chalicelib.telephony.webhook_request import VoiceRequest
    from chalicelib.wiring import Root, install

    class BrokenService:
        def answer(self, req):
            raise RuntimeError("storage down")

        def fallback(self, req):
            return "<Response><Say>Sorry</Say></Response>"

    previous = install(Root(voice=BrokenService()))
    monkeypatch.setattr(routes, "_voice_request", lambda: VoiceRequest.from_params(
        {"CallSid": CALL_SID, "From": CALLER, "To": "+18005551212"}))
    try:
        response = routes._answer_safely(lambda service, req: service.answer(req))
    finally:
        install(previous)
    observability.flush_metrics()
    out.read()
    assert "Sorry" in response.body
    [blob] = out.metric("FallbacksServed")
    assert blob["FallbacksServed"] == [1.0] and blob["stage"] == "test"
    assert CALLER not in out.text


def test_an_agent_connection_that_cannot_requeue_serves_the_fallback_and_counts_it(
    monkeypatch, out
):
    from chalicelib.routing import voice_routes
    from chalicelib.wiring import Root, install

    def storage_down(call_sid):
        raise RuntimeError("storage down")

    previous = install(Root(
        routing=SimpleNamespace(requeue_call_twiml=storage_down),
        voice=SimpleNamespace(fallback=lambda req: "<Response><Record/></Response>")))
    try:
        twiml = voice_routes._back_in_line_or_fallback(CALL_SID, {"CallSid": CALL_SID})
    finally:
        install(previous)
    observability.flush_metrics()
    assert twiml == "<Response><Record/></Response>"
    assert out.read().metric("FallbacksServed")[0]["FallbacksServed"] == [1.0]


def test_a_job_sends_its_duration_by_stage_and_job_and_its_counts_by_stage(out):
    @observability.job
    def sweep_queues(event):
        log.info("sweeping for %s", CALLER)
        observability.metric("CallsAbandoned")
        return {"offered": 0}

    assert sweep_queues.__name__ == "sweep_queues", "Chalice names the Lambda after it"
    assert sweep_queues(None) == {"offered": 0}
    out.read()
    assert {line["correlation_id"] for line in out.logs} == {"sweep_queues"}
    assert "4155550111" not in out.text
    [counts] = out.metric("CallsAbandoned")
    assert counts["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["stage"]]
    [duration] = out.metric("JobDuration")
    directive = duration["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["stage", "job"]]
    assert directive["Metrics"] == [{"Name": "JobDuration", "Unit": "Milliseconds"}]
    assert (duration["stage"], duration["job"]) == ("test", "sweep_queues")
    assert duration["JobDuration"][0] >= 0


def test_a_failed_job_raises_logs_masked_and_sends_no_duration(out):
    @observability.job
    def dispatch_callbacks(event):
        observability.metric("CallsOffered")
        raise RuntimeError(f"could not dial {CALLER}")

    with pytest.raises(RuntimeError):
        dispatch_callbacks(None)
    out.read()
    [failure] = out.logs
    assert failure["level"] == "ERROR" and failure["correlation_id"] == "dispatch_callbacks"
    assert MASKED in failure["exception"] and "4155550111" not in out.text
    assert out.metric("CallsOffered") and not out.metric("JobDuration")


def test_a_metric_that_cannot_be_recorded_does_not_break_the_call(out):
    observability.metric("Bad", value="many")  # not a number: Powertools refuses it
    observability.flush_metrics()
    out.read()
    assert not out.emf
    assert out.logs[0]["message"] == "metric Bad not recorded"
