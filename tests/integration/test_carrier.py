"""The local carrier emulator, tested against a tiny fake webhook app (not Switchboard).

The fake app checks every webhook's ``X-Twilio-Signature`` with Twilio's own validator, so a
passing test also proves the emulator signs exactly as Twilio does. Servers bind 127.0.0.1:0 and
every wait is bounded.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

from infra.local.carrier import CallTranscript, Carrier, Limits, make_server, queue_sid
from infra.local.carrier.server import dispatch
from infra.local.carrier.session import APP_ERROR_TEXT
from infra.local.carrier.signing import sign, webhook_headers

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "AC" + "c0ffee00" * 4
TOKEN = "carrier-test-token"
APP = "https://app.test/api"  # a stage prefix, as behind API Gateway
CALLER, HOTLINE, AGENT = "+14155550111", "+14155550100", "+14155550122"
WAIT = 10.0  # seconds: the bound on any background wait in these tests


def R(*verbs: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"


class FakeApp:
    """A webhook app as a transport: routes by path (without the stage prefix), checks the
    signature of every request and records it."""

    def __init__(self, token: str = TOKEN, prefix: str = "/api") -> None:
        self.validator = RequestValidator(token)
        self.prefix = prefix
        self.routes: dict[str, object] = {"/twilio/voice/status": R()}
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def route(self, path: str, answer) -> None:
        self.routes[path] = answer

    def __call__(self, url: str, params, headers) -> tuple[int, str, str]:
        assert self.validator.validate(url, params or {}, headers["X-Twilio-Signature"]), url
        path = urlsplit(url).path
        path = path[len(self.prefix):] if path.startswith(self.prefix) else path
        with self.lock:
            self.requests.append({"path": path, "url": url, "params": dict(params or {}),
                                  "headers": dict(headers)})
        answer = self.routes.get(path)
        if answer is None:
            return 404, "not found", "text/plain"
        if callable(answer):
            answer = answer(dict(params or {}))
        if isinstance(answer, tuple):
            return answer
        return 200, answer, "text/xml"

    def posts(self, path: str) -> list[dict]:
        with self.lock:
            return [r["params"] for r in self.requests if r["path"] == path]


@pytest.fixture
def app() -> FakeApp:
    return FakeApp()


@pytest.fixture
def carrier(app: FakeApp) -> Carrier:
    return Carrier(app_url=APP, account_sid=ACCOUNT, auth_token=TOKEN, transport=app)


@pytest.fixture
def rest(carrier: Carrier):
    server = make_server(carrier, "127.0.0.1", 0).start()
    yield server
    carrier.reset()
    server.stop()


def wait_until(predicate, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def call(carrier: Carrier, script=None, **options) -> CallTranscript:
    return carrier.place_inbound_call(HOTLINE, CALLER, script, **options)


# --------------------------------------------------------------------------- signing


def test_signature_known_answer() -> None:
    # Twilio's published vector (twilio-python/-php/-csharp suites): Caller/From +14158675309.
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert sign("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    headers = webhook_headers("12345", url, params, "token-1")
    assert RequestValidator("12345").validate(url, params, headers["X-Twilio-Signature"])
    assert headers["User-Agent"] == "TwilioProxy/1.1"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["I-Twilio-Idempotency-Token"] == "token-1"


def test_every_webhook_is_signed_form_post_with_voice_params(app, carrier) -> None:
    app.route("/twilio/voice", R("<Say>Hello</Say>"))
    t = call(carrier)
    assert t.errors == [] and t.status == "completed"
    first, status = app.requests[0], app.posts("/twilio/voice/status")[0]
    p = first["params"]
    assert re.fullmatch(r"CA[0-9a-f]{32}", p["CallSid"]) and p["CallSid"] == t.call_sid
    assert p["AccountSid"] == ACCOUNT and p["ApiVersion"] == "2010-04-01"
    assert (p["From"], p["To"], p["Caller"], p["Called"]) == (CALLER, HOTLINE, CALLER, HOTLINE)
    assert p["Direction"] == "inbound" and p["CallStatus"] == "ringing"
    assert p["FromCountry"] == "US" and p["FromCity"] == ""
    headers = first["headers"]
    assert headers["User-Agent"] == "TwilioProxy/1.1"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["I-Twilio-Idempotency-Token"]
    assert status["CallStatus"] == "completed" and status["SequenceNumber"] == "0"
    assert status["CallbackSource"] == "call-progress-events"
    assert status["CallDuration"] == "0"  # "Hello" takes 0.4 virtual seconds
    assert parsedate_to_datetime(status["Timestamp"]).tzinfo is not None


# --------------------------------------------------------------------------- verbs


def test_gather_digits_speech_and_finish_on_key(app, carrier) -> None:
    app.route("/twilio/voice", R('<Gather numDigits="1" action="menu">'
                                 '<Say voice="Polly.Joanna" language="en-US">Press 1</Say>'
                                 '</Gather><Say>No input</Say>'))
    app.route("/twilio/menu", R('<Gather input="speech" action="/api/speech" hints="billing">'
                                "<Say>What is it about?</Say></Gather>"))
    app.route("/speech", R('<Gather finishOnKey="#" action="/api/account">'
                           "<Say>Account number</Say></Gather>"))
    app.route("/account", R('<Gather action="/api/empty"><Say>Press pound</Say></Gather>'))
    app.route("/empty", lambda p: R(f"<Say>Got [{p['Digits']}]</Say><Hangup/>"))
    t = call(carrier, ["1", "say:my bill", "79927398713#", "#"])
    assert t.errors == []
    assert app.posts("/twilio/menu")[0]["Digits"] == "1"  # relative action resolved
    speech = app.posts("/speech")[0]
    assert speech["SpeechResult"] == "my bill" and speech["Confidence"] == "0.9"
    assert app.posts("/account")[0]["Digits"] == "79927398713"
    empty = app.posts("/empty")[0]
    assert empty["Digits"] == "" and empty["FinishedOnKey"] == "#"  # empty params are sent
    assert t.said == ["Press 1", "What is it about?", "Account number", "Press pound", "Got []"]
    assert t.of_type("say")[0]["voice"] == "Polly.Joanna"


def test_gather_timeout_falls_through_unless_action_on_empty_result(app, carrier) -> None:
    app.route("/twilio/voice", R('<Gather action="/api/x"><Say>Menu</Say></Gather>',
                                 "<Say>No input</Say>",
                                 '<Gather action="/api/y" actionOnEmptyResult="true"/>'))
    app.route("/y", R("<Say>Empty result posted</Say>"))
    t = call(carrier, ["wait", "wait"])
    assert t.said == ["Menu", "No input", "Empty result posted"]
    assert app.posts("/x") == [] and app.posts("/y")[0]["Digits"] == ""
    assert [g["outcome"] for g in t.of_type("gather")] == ["timeout", "timeout"]


def test_exhausted_script_hangs_up_at_input_point(app, carrier) -> None:
    app.route("/twilio/voice", R("<Gather><Say>Menu</Say></Gather><Say>unreached</Say>"))
    t = call(carrier, [])
    assert t.said == ["Menu"] and t.ended_by == "caller" and t.status == "completed"
    assert t.errors == []


def test_gather_without_action_posts_to_current_document(app, carrier) -> None:
    seen = []

    def voice(p):
        seen.append(p.get("Digits"))
        return R("<Gather/>") if len(seen) == 1 else R("<Hangup/>")

    app.route("/twilio/voice", voice)
    call(carrier, ["42#"])
    assert seen == [None, "42"]


def test_record_with_transcription_and_recording_status(app, carrier) -> None:
    app.route("/twilio/voice", R("<Say>Leave a message</Say>",
                                 '<Record action="/api/recorded" maxLength="60" '
                                 'transcribe="true" transcribeCallback="/api/transcribed" '
                                 'recordingStatusCallback="/api/recording"/>'))
    app.route("/recorded", R("<Say>Thanks</Say><Hangup/>"))
    app.route("/transcribed", R())
    app.route("/recording", R())
    t = call(carrier, ["record:8:please call me back"])
    assert t.errors == [] and t.said == ["Leave a message", "Thanks"]
    recorded = app.posts("/recorded")[0]
    assert re.fullmatch(r"RE[0-9a-f]{32}", recorded["RecordingSid"])
    assert recorded["RecordingDuration"] == "8" and recorded["RecordingUrl"].startswith("http")
    text = app.posts("/transcribed")[0]
    assert text["TranscriptionText"] == "please call me back"
    assert text["TranscriptionStatus"] == "completed"
    assert text["RecordingSid"] == recorded["RecordingSid"]
    assert app.posts("/recording")[0]["RecordingStatus"] == "completed"


def test_record_defaults_silence_and_caller_hangup(app, carrier) -> None:
    app.route("/twilio/voice", lambda p: R("<Hangup/>") if "RecordingSid" in p else R(
        '<Record transcribe="true"/>', "<Say>Nothing recorded</Say>",
        '<Record action="/api/late"/>'))
    app.route("/late", R("<Say>ignored</Say>"))
    t = call(carrier, ["wait", "record:5!"])
    assert t.said == ["Nothing recorded"]  # empty recording: next verb, no action request
    late = app.posts("/late")[0]
    assert late["Digits"] == "hangup" and late["RecordingDuration"] == "5"
    assert t.ended_by == "caller"
    assert not [r for r in app.requests if "Transcription" in str(r["params"])]
    # without transcribeCallback Twilio sends nothing; a recording goes to the same document
    t2 = call(carrier, ["record:3"])
    assert app.posts("/twilio/voice")[-1]["RecordingDuration"] == "3" and t2.errors == []


def test_virtual_clock_say_play_pause(app, carrier) -> None:
    app.route("/twilio/voice", R("<Say>one two three four five</Say>",
                                 '<Play loop="2">https://cdn.test/music.mp3</Play>',
                                 '<Pause length="3"/>', '<Say language="zh-CN">你好世界</Say>',
                                 '<Play digits="ww12"/>'))
    started = time.monotonic()
    t = call(carrier)
    assert time.monotonic() - started < 5  # 67 virtual seconds, no real sleeping
    assert t.duration == 2 + 60 + 3 + 1 + 2
    assert app.posts("/twilio/voice/status")[0]["CallDuration"] == str(t.duration)
    plays = t.of_type("play")
    assert plays[0]["url"] == "https://cdn.test/music.mp3" and plays[1]["digits"] == "ww12"


def test_redirect_sms_and_end_of_document(app, carrier) -> None:
    app.route("/twilio/voice", R('<Redirect method="POST">next</Redirect>'))
    app.route("/twilio/next", R('<Sms action="/api/sms-done">We got your call</Sms>'))
    app.route("/sms-done", lambda p: R(f"<Say>{p['SmsStatus']}</Say>"))
    t = call(carrier)
    assert t.said == ["sent"] and t.status == "completed" and t.ended_by == "end-of-document"
    assert carrier.messages[0]["to"] == CALLER and carrier.messages[0]["from"] == HOTLINE
    assert t.of_type("sms")[0]["body"] == "We got your call"


@pytest.mark.parametrize(("reason", "status"), [("busy", "busy"), ("rejected", "no-answer")])
def test_reject(app, carrier, reason, status) -> None:
    app.route("/twilio/voice", R(f'<Reject reason="{reason}"/>'))
    t = call(carrier)
    assert t.status == status and t.duration == 0
    assert app.posts("/twilio/voice/status")[0]["CallStatus"] == status


def test_dial_outcomes_whisper_and_answer_scripts(app, carrier) -> None:
    app.route("/twilio/voice", R('<Dial action="/api/dialed" callerId="+14155550100" '
                                 f'record="record-from-answer"><Number url="/api/whisper">'
                                 f"{AGENT}</Number></Dial>"))
    app.route("/whisper", R('<Gather numDigits="1" action="/api/accept">'
                            "<Say>Caller waiting, press 1</Say></Gather><Hangup/>"))
    app.route("/accept", lambda p: R() if p["Digits"] == "1" else R("<Hangup/>"))
    app.route("/dialed", lambda p: R(f"<Say>{p['DialCallStatus']}</Say>"))
    carrier.set_answer_script(AGENT, ["1"])
    t = call(carrier)
    dialed = app.posts("/dialed")[0]
    assert dialed["DialCallStatus"] == "completed" and dialed["DialCallDuration"] == "30"
    assert dialed["DialBridged"] == "true" and dialed["RecordingSid"].startswith("RE")
    whisper = app.posts("/whisper")[0]
    assert whisper["Direction"] == "outbound-dial" and whisper["ParentCallSid"] == t.call_sid
    assert whisper["CallSid"] == dialed["DialCallSid"] and whisper["To"] == AGENT
    assert t.of_type("dial")[0]["whisper"] and t.errors == []

    carrier.set_answer_script(AGENT, ["2"])  # the agent declines in the whisper
    assert call(carrier).said == ["no-answer"]
    carrier.set_answer_script(AGENT, ["busy"])
    assert call(carrier).said == ["busy"]
    assert call(carrier, ["dial:failed"]).said == ["failed"]  # the caller's script decides
    carrier.set_answer_script(AGENT, ["1"])
    t = call(carrier, ["dial:completed:45"])
    assert app.posts("/dialed")[-1]["DialCallDuration"] == "45"


def test_dial_without_action_continues_with_client_and_sip(app, carrier) -> None:
    app.route("/twilio/voice", R("<Dial><Client>agent7</Client><Sip>sip:a@pbx.test</Sip></Dial>",
                                 "<Say>After dial</Say>"))
    carrier.set_answer_script("client:agent7", ["no-answer"])
    t = call(carrier)
    dial = t.of_type("dial")[0]
    assert dial["targets"] == ["client:agent7", "sip:a@pbx.test"]
    assert dial["answered"] == "sip:a@pbx.test" and t.said == ["After dial"]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("answer", [
    R("<Say>ok</Say><Dance/>"),
    (200, "Hello, I am not TwiML", "text/plain"),
    (200, "<Response><Say>unclosed</Response>", "text/xml"),
    (404, "not found", "text/html"),
])
def test_application_errors_are_recorded(app, carrier, answer) -> None:
    app.route("/twilio/voice", answer)
    t = call(carrier, fallback_url=None)
    assert t.application_error and t.errors
    assert t.said == [APP_ERROR_TEXT] and t.status == "completed"


def test_retry_with_same_token_then_fallback(app, carrier) -> None:
    app.route("/twilio/voice", (500, "boom", "text/plain"))
    app.route("/twilio/voice/fallback", lambda p: R(f"<Say>Fallback {p['ErrorCode']}</Say>"))
    # connection overrides ask for two retries on a 5xx; the fragment is neither sent nor signed
    t = call(carrier, voice_url=f"{APP}/twilio/voice#rc=2&rp=5xx,ct")
    primary = [r for r in app.requests if r["path"] == "/twilio/voice"]
    assert len(primary) == 3
    tokens = {r["headers"]["I-Twilio-Idempotency-Token"] for r in primary}
    assert len(tokens) == 1
    fallback = app.posts("/twilio/voice/fallback")[0]
    assert fallback["ErrorUrl"] == f"{APP}/twilio/voice" and fallback["ErrorCode"] == "11200"
    assert t.said == ["Fallback 11200"] and not t.application_error
    assert [e["code"] for e in t.errors] == [11200]


def test_retry_that_succeeds_is_not_an_error(app, carrier) -> None:
    answers = iter([(503, "busy", "text/plain"), (200, R("<Say>Second time</Say>"), "text/xml")])
    app.route("/twilio/voice", lambda p: next(answers))
    t = call(carrier, voice_url=f"{APP}/twilio/voice#rc=1&rp=all")
    assert t.said == ["Second time"] and t.errors == []
    assert t.webhooks[0]["attempts"] == 2


def test_without_overrides_a_5xx_is_not_retried(app, carrier) -> None:
    # Twilio's default policy retries a failed connection once, not an answer it got (rp=ct)
    app.route("/twilio/voice", (503, "busy", "text/plain"))
    app.route("/twilio/voice/fallback", R("<Say>Fallback</Say>"))
    t = call(carrier)
    assert len([r for r in app.requests if r["path"] == "/twilio/voice"]) == 1
    assert t.said == ["Fallback"]


def test_safety_limit_on_webhooks(app) -> None:
    app.route("/twilio/voice", R("<Redirect>/api/twilio/voice</Redirect>"))
    carrier = Carrier(APP, ACCOUNT, TOKEN, app, limits=Limits(max_requests=20))
    t = carrier.place_inbound_call(HOTLINE, CALLER)
    assert t.ended_by == "limit" and t.errors[-1]["code"] == "limit"
    assert len(app.posts("/twilio/voice")) == 20


def test_safety_limit_on_virtual_time(app, carrier) -> None:
    app.route("/twilio/voice", R('<Play loop="0">https://cdn.test/hold.mp3</Play>'))
    t = call(carrier)  # endless music and nobody redirects: ends at 4 virtual hours
    assert t.ended_by == "limit" and 4 * 3600 <= t.duration <= 4 * 3600 + 30


def test_get_method_webhooks_carry_params_in_the_signed_query(app, carrier) -> None:
    app.route("/twilio/voice", R('<Redirect method="GET">/api/menu?lang=en</Redirect>'))
    app.route("/menu", R("<Say>Via GET</Say>"))
    t = call(carrier)
    menu = [r for r in app.requests if r["path"] == "/menu"][0]
    query = dict(parse_qsl(urlsplit(menu["url"]).query))
    assert query["lang"] == "en" and query["CallSid"] == t.call_sid and menu["params"] == {}
    assert "Content-Type" not in menu["headers"] and t.said == ["Via GET"]


# --------------------------------------------------------------------------- queues


def hold_app(app: FakeApp, leave_after: int | None = None) -> None:
    app.route("/twilio/voice", R('<Enqueue waitUrl="/api/wait" action="/api/queued">'
                                 "support</Enqueue>", "<Say>Next verb</Say>"))

    def wait(p):
        if leave_after is not None and int(p["QueueTime"]) >= leave_after:
            return R("<Leave/>")
        return R("<Say>Please hold</Say>", "<Play>https://cdn.test/hold.mp3</Play>")

    app.route("/wait", wait)
    app.route("/queued", lambda p: R(f"<Say>Queue result {p['QueueResult']}</Say>"))


def test_queue_hold_loop_until_leave(app, carrier) -> None:
    hold_app(app, leave_after=90)
    t = call(carrier)
    waits = app.posts("/wait")
    times = [int(w["QueueTime"]) for w in waits]
    assert len(waits) == 4 and times[0] == 0 and times[1] == 31  # "Please hold" + 30 s music
    first = waits[0]
    assert first["QueueSid"] == queue_sid("support") and first["QueuePosition"] == "1"
    assert first["CurrentQueueSize"] == "1" and first["MaxQueueSize"] == "1000"
    queued = app.posts("/queued")[0]
    assert queued["QueueResult"] == "leave" and int(queued["QueueTime"]) >= 90
    assert t.said[-1] == "Queue result leave" and t.errors == []
    assert t.of_type("leave")[0]["result"] == "leave"


def test_queue_caller_hangs_up(app, carrier) -> None:
    hold_app(app)
    t = call(carrier, ["hold:60"])
    assert app.posts("/queued")[0]["QueueResult"] == "hangup"
    assert t.ended_by == "caller" and t.duration >= 60
    t = call(carrier, ["hangup"])  # after one pass of the wait document
    assert len([w for w in app.posts("/wait") if w["CallSid"] == t.call_sid]) == 1


# --------------------------------------------------------------------------- REST emulator


def test_rest_basic_auth(rest) -> None:
    url = f"{rest.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    data = {"To": CALLER, "From": HOTLINE, "Body": "hi"}
    for auth in (None, (ACCOUNT, "wrong")):
        response = requests.post(url, data=data, auth=auth, timeout=WAIT)
        assert response.status_code == 401
        assert response.json()["code"] == 20003 and response.json()["message"] == "Authenticate"
        assert response.json()["status"] == 401 and "more_info" in response.json()


def test_rest_calls_create_runs_outbound_call_with_status_callbacks(app, carrier, rest) -> None:
    app.route("/outbound", R("<Say>This is a reminder</Say>"))
    app.route("/call-status", R())
    url = f"{rest.url}/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    data = [("To", AGENT), ("From", HOTLINE), ("Url", f"{APP}/outbound"),
            ("StatusCallback", f"{APP}/call-status"), ("MachineDetection", "Enable")]
    data += [("StatusCallbackEvent", e) for e in ("initiated", "ringing", "answered",
                                                  "completed")]
    response = requests.post(url, data=data, auth=(ACCOUNT, TOKEN), timeout=WAIT)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued" and body["direction"] == "outbound-api"
    assert body["to"] == AGENT and body["from"] == HOTLINE and body["sid"].startswith("CA")
    t = carrier.wait_for_call(body["sid"], WAIT)
    assert t.said == ["This is a reminder"] and t.errors == []
    statuses = app.posts("/call-status")
    assert [s["CallStatus"] for s in statuses] == ["initiated", "ringing", "in-progress",
                                                   "completed"]
    assert [s["SequenceNumber"] for s in statuses] == ["0", "1", "2", "3"]
    outbound = app.posts("/outbound")[0]
    assert outbound["Direction"] == "outbound-api" and outbound["AnsweredBy"] == "human"
    assert outbound["CallStatus"] == "in-progress"
    got = requests.get(f"{rest.url}/2010-04-01/Accounts/{ACCOUNT}/Calls/{body['sid']}.json",
                       auth=(ACCOUNT, TOKEN), timeout=WAIT).json()
    assert got["status"] == "completed" and got["duration"] == "5"  # 3 s AMD + 1.6 s Say

    carrier.set_answer_script(AGENT, ["busy"])
    response = requests.post(url, data=data, auth=(ACCOUNT, TOKEN), timeout=WAIT)
    t = carrier.wait_for_call(response.json()["sid"], WAIT)
    assert t.status == "busy" and app.posts("/call-status")[-1]["CallStatus"] == "busy"

    bad = requests.post(url, data={"To": "12", "From": HOTLINE, "Url": f"{APP}/outbound"},
                        auth=(ACCOUNT, TOKEN), timeout=WAIT)
    assert bad.status_code == 400 and bad.json()["code"] == 21211


def test_rest_calls_update_redirect_and_hangup(app, carrier, rest) -> None:
    app.route("/twilio/voice", R('<Play loop="0">https://cdn.test/hold.mp3</Play>'))
    app.route("/connect", R("<Say>Connecting you now</Say>"))
    base = f"{rest.url}/2010-04-01/Accounts/{ACCOUNT}/Calls"
    first = carrier.start_inbound_call(HOTLINE, CALLER, hold_pace=0.02)
    wait_until(lambda: first.transcript.of_type("play"))
    response = requests.post(f"{base}/{first.sid}.json", data={"Url": f"{APP}/connect"},
                             auth=(ACCOUNT, TOKEN), timeout=WAIT)
    assert response.status_code == 200 and response.json()["sid"] == first.sid
    assert first.done.wait(WAIT)
    assert first.transcript.said == ["Connecting you now"] and first.transcript.errors == []

    second = carrier.start_inbound_call(HOTLINE, CALLER, hold_pace=0.02)
    wait_until(lambda: second.transcript.of_type("play"))
    requests.post(f"{base}/{second.sid}.json", data={"Status": "completed"},
                  auth=(ACCOUNT, TOKEN), timeout=WAIT)
    assert second.done.wait(WAIT) and second.transcript.ended_by == "api"
    missing = requests.post(f"{base}/CA{'0' * 32}.json", data={"Status": "completed"},
                            auth=(ACCOUNT, TOKEN), timeout=WAIT)
    assert missing.status_code == 404 and missing.json()["code"] == 20404


def test_rest_messages_and_status_callbacks(app, carrier, rest) -> None:
    app.route("/sms-status", R())
    url = f"{rest.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    auth = (ACCOUNT, TOKEN)
    response = requests.post(url, data={"To": CALLER, "From": HOTLINE, "Body": "Your ticket",
                                        "StatusCallback": f"{APP}/sms-status"},
                             auth=auth, timeout=WAIT)
    assert response.status_code == 201
    message = response.json()
    assert message["sid"].startswith("SM") and message["status"] == "queued"
    assert carrier.wait_idle(WAIT)
    statuses = app.posts("/sms-status")
    assert [s["MessageStatus"] for s in statuses] == ["sent", "delivered"]
    assert statuses[0]["MessageSid"] == message["sid"] and statuses[0]["To"] == CALLER
    carrier.opt_out("+14155550133")
    refused = requests.post(url, data={"To": "+14155550133", "From": HOTLINE, "Body": "x"},
                            auth=auth, timeout=WAIT)
    assert refused.status_code == 400 and refused.json()["code"] == 21610
    listed = requests.get(url, auth=auth, timeout=WAIT).json()["messages"]
    assert [m["sid"] for m in listed] == [message["sid"]]


def test_rest_queue_member_dequeue(app, carrier, rest) -> None:
    hold_app(app)
    app.route("/agent-ready", R("<Say>An agent is ready</Say>"))
    member = carrier.start_inbound_call(HOTLINE, CALLER, hold_pace=0.02)
    wait_until(lambda: carrier.queues.members.get("support"))
    qsid = queue_sid("support")
    url = f"{rest.url}/2010-04-01/Accounts/{ACCOUNT}/Queues/{qsid}/Members/{member.sid}.json"
    response = requests.post(url, data={"Url": f"{APP}/agent-ready", "Method": "POST"},
                             auth=(ACCOUNT, TOKEN), timeout=WAIT)
    assert response.status_code == 200
    assert response.json()["call_sid"] == member.sid and response.json()["position"] == 1
    assert member.done.wait(WAIT)
    assert app.posts("/queued")[0]["QueueResult"] == "redirected"
    assert member.transcript.said[-1] == "An agent is ready"
    assert "Queue result redirected" not in member.transcript.said  # action answer ignored
    again = requests.post(url, data={"Url": f"{APP}/agent-ready"}, auth=(ACCOUNT, TOKEN),
                          timeout=WAIT)
    assert again.status_code == 404


def test_dial_queue_bridges_waiting_caller(app, carrier, rest) -> None:
    hold_app(app)
    app.route("/agent", R('<Dial action="/api/agent-done"><Queue url="/api/announce">'
                          "support</Queue></Dial>"))
    app.route("/announce", R("<Say>You are being connected</Say>"))
    app.route("/agent-done", lambda p: R(f"<Say>Agent {p['DialCallStatus']}</Say>"))
    member = carrier.start_inbound_call(HOTLINE, CALLER, hold_pace=0.02)
    wait_until(lambda: carrier.queues.members.get("support"))
    agent = carrier.create_outbound_call(AGENT, HOTLINE, url=f"{APP}/agent")
    assert carrier.wait_for_call(agent.sid, WAIT).said == ["Agent completed"]
    assert member.done.wait(WAIT)
    announce = app.posts("/announce")[0]
    assert announce["DequeingCallSid"] == agent.sid and announce["CallSid"] == member.sid
    queued = app.posts("/queued")[0]
    assert queued["QueueResult"] == "bridged"
    assert member.transcript.said[-2:] == ["You are being connected", "Queue result bridged"]


def test_official_twilio_client_against_emulator(app, carrier, rest) -> None:
    from twilio.base.exceptions import TwilioRestException
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    class ToEmulator(TwilioHttpClient):
        def request(self, method, url, *args, **kwargs):
            parts = urlsplit(url)
            base = urlsplit(rest.url)
            url = urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
            return super().request(method, url, *args, **kwargs)

    app.route("/outbound", R("<Say>Hello from the client</Say>"))
    app.route("/status", R())
    hold_app(app)
    app.route("/agent-ready", R("<Say>Agent here</Say>"))
    client = Client(ACCOUNT, TOKEN, http_client=ToEmulator(timeout=WAIT))
    created = client.calls.create(to=AGENT, from_=HOTLINE, url=f"{APP}/outbound",
                                  status_callback=f"{APP}/status",
                                  status_callback_event=["initiated", "answered", "completed"])
    assert created.sid.startswith("CA") and created.status == "queued"
    assert carrier.wait_for_call(created.sid, WAIT).said == ["Hello from the client"]
    assert [p["SequenceNumber"] for p in app.posts("/status")] == ["0", "1", "2"]
    fetched = client.calls(created.sid).fetch()
    assert fetched.status == "completed" and fetched.direction == "outbound-api"

    message = client.messages.create(to=CALLER, from_=HOTLINE, body="Ticket 42")
    assert message.sid.startswith("SM") and message.body == "Ticket 42"
    assert [m.sid for m in client.messages.list()] == [message.sid]

    member = carrier.start_inbound_call(HOTLINE, CALLER, hold_pace=0.02)
    wait_until(lambda: carrier.queues.members.get("support"))
    dequeued = client.queues(queue_sid("support")).members("Front").update(
        url=f"{APP}/agent-ready", method="POST")
    assert dequeued.call_sid == member.sid
    assert member.done.wait(WAIT) and member.transcript.said[-1] == "Agent here"

    hanging = carrier.start_inbound_call(HOTLINE, CALLER, hold_pace=0.02)
    wait_until(lambda: carrier.queues.members.get("support"))
    client.calls(hanging.sid).update(status="completed")
    assert hanging.done.wait(WAIT) and hanging.transcript.ended_by == "api"

    carrier.opt_out("+14155550133")
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to="+14155550133", from_=HOTLINE, body="x")
    assert refused.value.code == 21610
    bad = Client(ACCOUNT, "wrong-token", http_client=ToEmulator(timeout=WAIT))
    with pytest.raises(TwilioRestException) as denied:
        bad.messages.create(to=CALLER, from_=HOTLINE, body="x")
    assert denied.value.status == 401 and denied.value.code == 20003


def test_deferred_mode_runs_rest_work_on_demand(app) -> None:
    """background=False keeps in-process transports (Chalice's test client) on one thread."""
    app.route("/sms-status", R())
    carrier = Carrier(APP, ACCOUNT, TOKEN, app, background=False)
    auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    status, body, _ = dispatch(
        carrier, "POST", f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
        {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"},
        f"To=%2B14155550111&From=%2B14155550100&Body=hi&StatusCallback={APP}/sms-status".encode())
    assert status == 201 and body["status"] == "queued"
    assert app.posts("/sms-status") == []
    assert carrier.run_pending() == 1
    assert [p["MessageStatus"] for p in app.posts("/sms-status")] == ["sent", "delivered"]


def test_inbound_sms_and_stop_opt_out(app, carrier) -> None:
    app.route("/twilio/sms", (200, "<Response/>", "text/xml"))
    assert carrier.send_inbound_sms(HOTLINE, CALLER, "STOP")[0] == 200
    sms = app.posts("/twilio/sms")[0]
    assert sms["Body"] == "STOP" and sms["OptOutType"] == "STOP" and sms["From"] == CALLER
    with pytest.raises(Exception) as refused:
        carrier.send_message(CALLER, HOTLINE, "still there?")
    assert refused.value.code == 21610


# --------------------------------------------------------------------------- control API


def test_control_api(app, carrier, rest) -> None:
    app.route("/twilio/voice", R('<Gather numDigits="1"><Say>Menu</Say></Gather>'))
    base = f"{rest.url}/_emulator"
    assert requests.get(f"{base}/health", timeout=WAIT).json()["ok"] is True
    assert requests.post(f"{base}/answer-scripts", json={AGENT: ["machine", "1"]},
                         timeout=WAIT).ok
    assert carrier.answer_scripts[AGENT] == ["machine", "1"]
    t = requests.post(f"{base}/inbound", json={"to": HOTLINE, "from": CALLER,
                                               "script": ["hangup"]}, timeout=WAIT).json()
    assert t["said"] == ["Menu"] and t["status"] == "completed"
    calls = requests.get(f"{base}/calls", timeout=WAIT).json()
    assert [c["call_sid"] for c in calls] == [t["call_sid"]]
    assert requests.get(f"{base}/calls/{t['call_sid']}", timeout=WAIT).json()["said"] == ["Menu"]
    assert requests.get(f"{base}/messages", timeout=WAIT).json() == []
    assert requests.post(f"{base}/reset", timeout=WAIT).ok and carrier.calls == {}
    assert requests.get(f"{rest.url}/recordings/RE1.mp3", timeout=WAIT).headers[
        "Content-Type"] == "audio/mpeg"


def test_interactive_call_over_control_api(app, carrier, rest) -> None:
    app.route("/twilio/voice", R('<Gather numDigits="1" action="/api/menu">'
                                 "<Say>Menu</Say></Gather>"))
    app.route("/menu", lambda p: R(f"<Say>You chose {p['Digits']}</Say>"))
    base = f"{rest.url}/_emulator"
    sid = requests.post(f"{base}/inbound", json={"to": HOTLINE, "from": CALLER,
                                                 "interactive": True}, timeout=WAIT).json()[
        "call_sid"]
    wait_until(lambda: requests.get(f"{base}/calls/{sid}/poll", timeout=WAIT).json()["waiting"])
    requests.post(f"{base}/calls/{sid}/input", json={"line": "3"}, timeout=WAIT)
    assert carrier.calls[sid].done.wait(WAIT)
    assert carrier.calls[sid].transcript.said == ["Menu", "You chose 3"]


# --------------------------------------------------------------------------- CLI


class _AppHandler(BaseHTTPRequestHandler):
    fake: FakeApp

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        url = f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"
        status, text, ctype = self.fake(url, dict(parse_qsl(body, keep_blank_values=True)),
                                        dict(self.headers.items()))
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_app():
    fake = FakeApp(prefix="")
    handler = type("Handler", (_AppHandler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN,
           "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "infra.local.carrier", "call", "--local",
                           "--to", HOTLINE, "--from", CALLER, *args], input=stdin,
                          capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)


def test_default_requests_transport_and_cli(http_app) -> None:
    http_app.route("/twilio/voice", R('<Gather numDigits="1" action="/menu">'
                                      "<Say>Press 1</Say></Gather>"))
    http_app.route("/menu", lambda p: R(f"<Say>You pressed {p['Digits']}</Say>"))
    done = run_cli("--app-url", http_app.url, "--script", "1", "--json")
    assert done.returncode == 0, done.stderr
    transcript = json.loads(done.stdout)
    assert transcript["said"] == ["Press 1", "You pressed 1"]
    assert http_app.posts("/twilio/voice/status")[0]["CallStatus"] == "completed"
    assert CALLER not in done.stderr  # numbers are masked in log lines

    piped = run_cli("--app-url", http_app.url, stdin="2\n")  # interactive, stdin not a tty
    assert piped.returncode == 0, piped.stderr
    assert "🔊 [en-US] Press 1" in piped.stdout and "You pressed 2" in piped.stdout

    http_app.route("/twilio/voice", R("<Dance/>"))
    failed = run_cli("--app-url", http_app.url, "--script", "1", "--fallback-url", "none")
    assert failed.returncode == 2 and "application error" in failed.stdout


def test_twiml_without_a_charset_is_read_as_utf8_over_real_http():
    """Regression: requests decodes text/* without a charset as Latin-1; TwiML is UTF-8."""
    import http.server
    import threading as _threading

    body = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>谢谢您的来电</Say></Response>'

    class App(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            payload = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
    _threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        carrier = Carrier(app_url=url, status_url=None, fallback_url=None)
        transcript = carrier.place_inbound_call("+14155550100", "+14155550111", [])
    finally:
        server.shutdown()
        server.server_close()
    assert transcript.said == ["谢谢您的来电"]


def test_a_scripted_call_through_the_server_is_hung_up_by_ctrl_c(app, carrier, rest) -> None:
    # a call that never ends by itself: the caller waits alone in a conference room
    app.route("/twilio/voice", R("<Dial><Conference>alone</Conference></Dial>"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    cli = subprocess.Popen([sys.executable, "-m", "infra.local.carrier", "call",
                            "--emulator", rest.url, "--to", HOTLINE, "--from", CALLER,
                            "--script", ""], cwd=ROOT, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: any(c.transcript.of_type("conference")
                               for c in carrier.calls.values()))
        [live] = carrier.calls.values()
        assert not live.done.is_set()
        assert cli.stderr is not None
        said = cli.stderr.readline()  # the CLI now watches the call: Ctrl-C reaches it
        cli.send_signal(signal.SIGINT)
        out, err = cli.communicate(timeout=WAIT)
        err = said + err
    finally:
        if cli.poll() is None:
            cli.kill()
    assert live.done.wait(WAIT) and live.status == "completed"
    assert f"call {live.sid} placed; Ctrl-C hangs it up" in err
    assert live.sid in out or "completed" in out
