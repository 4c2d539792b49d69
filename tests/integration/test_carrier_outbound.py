"""The carrier emulator for outbound campaigns: texts back from callees, AMD, many calls at once,
dial pacing, campaign answer scripts from a file, agents on an open line, surveys.

Against the tiny signature-checking fake app of ``test_carrier`` (not Switchboard); every wait is
bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from infra.local.carrier import Carrier, CarrierError, load_answer_scripts, make_server
from infra.local.carrier.amd import detect
from tests.integration.test_carrier import (
    ACCOUNT,
    APP,
    CALLER,
    HOTLINE,
    ROOT,
    TOKEN,
    WAIT,
    FakeApp,
    R,
)

AUTH = (ACCOUNT, TOKEN)
CUSTOMER, AGENT = "+14155550160", "+14155550122"
SMS_OK = (200, "<Response/>", "text/xml")


@pytest.fixture
def app() -> FakeApp:
    fake = FakeApp()
    fake.route("/twilio/sms", SMS_OK)
    fake.route("/status", R())
    fake.route("/amd", R())
    return fake


@pytest.fixture
def carrier(app: FakeApp) -> Carrier:
    return Carrier(app_url=APP, account_sid=ACCOUNT, auth_token=TOKEN, transport=app)


@pytest.fixture
def rest(carrier: Carrier):
    server = make_server(carrier, "127.0.0.1", 0).start()
    yield server
    carrier.reset()
    carrier.wait_idle(WAIT)
    server.stop()


def calls_url(rest) -> str:
    return f"{rest.url}/2010-04-01/Accounts/{ACCOUNT}/Calls.json"


def messages_url(rest) -> str:
    return f"{rest.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


def dial(rest, to: str, **form) -> requests.Response:
    data = {"To": to, "From": HOTLINE, "StatusCallback": f"{APP}/status", **form}
    if "Twiml" not in data:
        data.setdefault("Url", f"{APP}/outbound")
    return requests.post(calls_url(rest), data=data, auth=AUTH, timeout=WAIT)


def final_status(app: FakeApp, sid: str) -> dict:
    [final] = [p for p in app.posts("/status") if p["CallSid"] == sid]
    return final


# --------------------------------------------------------------------------- texts back


def test_callee_texts_stop_when_the_call_ends_and_can_still_be_called(app, carrier, rest):
    app.route("/outbound", R("<Say>Your payment is due</Say>"))
    carrier.set_answer_script(CUSTOMER, ["human", "sms:STOP"])
    sid = dial(rest, CUSTOMER).json()["sid"]
    t = carrier.wait_for_call(sid, WAIT)
    assert t.status == "completed" and t.errors == []
    [sms] = app.posts("/twilio/sms")
    assert (sms["From"], sms["To"], sms["Body"], sms["OptOutType"]) == (
        CUSTOMER, HOTLINE, "STOP", "STOP")
    paths = [r["path"] for r in app.requests]
    assert paths.index("/status") < paths.index("/twilio/sms")  # after the final status
    assert t.of_type("text")[0]["body"] == "STOP"
    assert carrier.inbound_texts[0]["call_sid"] == sid

    refused = requests.post(messages_url(rest), data={"To": CUSTOMER, "From": HOTLINE,
                                                       "Body": "Pay now"}, auth=AUTH,
                            timeout=WAIT)
    assert refused.status_code == 400 and refused.json()["code"] == 21610
    again = dial(rest, CUSTOMER)  # Twilio blocks texts to an opted-out number, not calls
    assert again.status_code == 201
    assert carrier.wait_for_call(again.json()["sid"], WAIT).status == "completed"


def test_inbound_caller_texts_the_number_it_called(app, carrier):
    app.route("/twilio/voice", R('<Gather numDigits="1"><Say>Menu</Say></Gather>'))
    carrier.place_inbound_call(HOTLINE, CALLER, ["hangup", "sms:HELP"])
    [sms] = app.posts("/twilio/sms")
    assert (sms["From"], sms["To"], sms["OptOutType"]) == (CALLER, HOTLINE, "HELP")


def test_text_only_recipient_replies_once_to_the_first_text(app, carrier, rest):
    carrier.set_answer_scripts({CUSTOMER: ["sms:2"], CALLER: "sms:STOP"})
    sent = [requests.post(messages_url(rest), data={"To": to, "From": HOTLINE, "Body": body},
                          auth=AUTH, timeout=WAIT).json()
            for to, body in ((CUSTOMER, "Reply 1 or 2"), (CUSTOMER, "Thanks"),
                             (CALLER, "Reminder"))]
    assert carrier.wait_idle(WAIT)
    replies = {(p["From"], p["Body"]) for p in app.posts("/twilio/sms")}
    assert replies == {(CUSTOMER, "2"), (CALLER, "STOP")}
    assert len(app.posts("/twilio/sms")) == 2
    by_sender = {t["from"]: t for t in carrier.inbound_texts}
    assert by_sender[CUSTOMER]["in_reply_to"] == sent[0]["sid"]
    assert by_sender[CUSTOMER]["to"] == HOTLINE and by_sender[CALLER]["opt_out_type"] == "STOP"
    assert requests.get(f"{rest.url}/_emulator/inbound-sms", timeout=WAIT).json()[0]["body"]
    with pytest.raises(CarrierError) as refused:
        carrier.send_message(CALLER, HOTLINE, "again?")
    assert refused.value.code == 21610


def test_twilio_keywords_opt_out_and_back_in(app, carrier):
    for word, kind in (("unsubscribe", "STOP"), ("Yes", "START"), (" quit ", "STOP"),
                       ("info", "HELP"), ("stop please", None)):
        carrier.send_inbound_sms(HOTLINE, CALLER, word)
        assert app.posts("/twilio/sms")[-1].get("OptOutType") == kind, word
    assert CALLER in carrier.opted_out  # "quit" opted out; "stop please" is no keyword


def test_text_replies_in_deferred_mode(app):
    carrier = Carrier(APP, ACCOUNT, TOKEN, app, background=False)
    carrier.set_answer_script(CUSTOMER, "sms:YES")
    carrier.send_message(CUSTOMER, HOTLINE, "Confirm?")
    assert app.posts("/twilio/sms") == []
    carrier.run_pending()
    assert [p["Body"] for p in app.posts("/twilio/sms")] == ["YES"]


# --------------------------------------------------------------------------- AMD


@pytest.mark.parametrize("callee, mode, answered_by", [
    ("human", "Enable", "human"), ("machine", "Enable", "machine_start"),
    ("machine", "DetectMessageEnd", "machine_end_beep"), ("fax", "Enable", "fax"),
    ("unknown", "DetectMessageEnd", "unknown"), ("human", "DetectMessageEnd", "human")])
def test_sync_amd_verdict_reaches_the_twiml_request_and_the_status(app, carrier, rest, callee,
                                                                   mode, answered_by):
    app.route("/outbound", R("<Say>Hello</Say>"))
    carrier.set_answer_script(CUSTOMER, [callee])
    timeout = "10" if answered_by == "unknown" else "30"  # a beep after 12 s needs > 12
    sid = dial(rest, CUSTOMER, MachineDetection=mode,
               MachineDetectionTimeout=timeout).json()["sid"]
    t = carrier.wait_for_call(sid, WAIT)
    assert app.posts("/outbound")[0]["AnsweredBy"] == answered_by
    assert final_status(app, sid)["AnsweredBy"] == answered_by
    assert t.answered_by == answered_by and t.of_type("answer")[0]["callee"] == callee
    if answered_by == "unknown":
        assert t.duration >= 10  # AMD gave up at MachineDetectionTimeout


def test_amd_verdicts_and_timeout():
    assert detect("machine", "DetectMessageEnd", timeout=5).answered_by == "unknown"
    assert detect("human", "Enable", false_positive=True).answered_by == "machine_start"
    assert detect("human", "DetectMessageEnd", false_positive=True).answered_by == \
        "machine_end_other"
    assert detect("human", "enable").millis == "3000"


def test_async_amd_callback_arrives_while_the_twiml_runs(app, carrier, rest):
    app.route("/outbound", R('<Say>Hello there</Say><Pause length="10"/><Say>Still here</Say>'))

    def on_amd(params):  # the app leaves a message on a machine
        if params["AnsweredBy"].startswith("machine"):
            carrier.redirect_call(params["CallSid"], twiml=R("<Say>Please call us back</Say>"))
        return R()

    app.route("/amd", on_amd)
    carrier.set_answer_script(CUSTOMER, ["machine"])
    sid = dial(rest, CUSTOMER, MachineDetection="Enable", AsyncAmd="true",
               AsyncAmdStatusCallback=f"{APP}/amd").json()["sid"]
    t = carrier.wait_for_call(sid, WAIT)
    assert "AnsweredBy" not in app.posts("/outbound")[0]  # async: TwiML fetched at once
    [verdict] = app.posts("/amd")
    assert verdict == {"AccountSid": ACCOUNT, "CallSid": sid, "AnsweredBy": "machine_start",
                       "MachineDetectionDuration": "3000"}
    kinds = [e["type"] if e["type"] != "webhook" else e["kind"] for e in t.events]
    assert kinds.index("amd") < kinds.index("pause") + 2  # posted during the Pause
    assert t.said == ["Hello there", "Please call us back"]
    assert final_status(app, sid)["AnsweredBy"] == "machine_start"

    app.route("/outbound", R("<Say>Hi</Say>"))  # ends before the verdict: unknown, then status
    app.route("/amd", R())
    carrier.set_answer_script(CUSTOMER, ["human"])
    sid = dial(rest, CUSTOMER, MachineDetection="Enable", AsyncAmd="true",
               AsyncAmdStatusCallback=f"{APP}/amd?x=1",
               AsyncAmdStatusCallbackMethod="GET").json()["sid"]
    t = carrier.wait_for_call(sid, WAIT)
    [hook] = [e for e in t.webhooks if e["kind"] == "amd"]
    assert hook["method"] == "GET" and hook["params"]["AnsweredBy"] == "unknown"
    assert final_status(app, sid)["AnsweredBy"] == "unknown"


def amd_run(app, rate: float, seed: int, mode: str = "Enable") -> list[str]:
    carrier = Carrier(APP, ACCOUNT, TOKEN, app, background=False,
                      amd_false_positive_rate=rate, seed=seed)
    carrier.set_answer_script(CUSTOMER, ["human"])
    calls = [carrier.create_outbound_call(CUSTOMER, HOTLINE, twiml=R("<Say>Hi</Say>"),
                                          machine_detection=mode) for _ in range(200)]
    carrier.run_pending()
    return [c.transcript.answered_by for c in calls]


def test_amd_false_positive_rate_is_seeded(app):
    verdicts = amd_run(app, 0.25, seed=7)
    mistaken = verdicts.count("machine_start")
    assert 30 <= mistaken <= 70 and set(verdicts) == {"human", "machine_start"}
    assert amd_run(app, 0.25, seed=7) == verdicts  # replayable
    assert set(amd_run(app, 0.0, seed=7)) == {"human"}
    assert "machine_end_other" in amd_run(app, 0.25, seed=7, mode="DetectMessageEnd")


# --------------------------------------------------------------------------- many calls, pacing


def test_fifty_concurrent_outbound_calls_each_report_their_outcome(app, carrier, rest):
    app.route("/outbound", R('<Pause length="4"/><Gather numDigits="1" action="/api/survey">'
                             "<Say>Press 1 if you liked it</Say></Gather>"))
    app.route("/survey", R("<Say>Thanks</Say>"))
    outcomes = [("human,1", "completed", "human"), ("machine", "completed", "machine_start"),
                ("busy", "busy", None), ("no-answer", "no-answer", None),
                ("failed", "failed", None), ("fax", "completed", "fax"),
                ("human", "completed", "human")]
    plan = []
    for i in range(50):
        number = f"+1415555{2000 + i:04d}"
        script, status, verdict = outcomes[i % len(outcomes)]
        amd = ["none", "sync", "async"][i % 3]
        carrier.set_answer_script(number, script)
        plan.append((number, status, verdict if amd != "none" else None, amd))

    def place(entry):
        number, _, _, amd = entry
        form = {"Timeout": "20"}
        if amd != "none":
            form["MachineDetection"] = "Enable"
        if amd == "async":
            form.update(AsyncAmd="true", AsyncAmdStatusCallback=f"{APP}/amd")
        response = dial(rest, number, **form)
        assert response.status_code == 201, response.text
        return response.json()["sid"]

    with ThreadPoolExecutor(max_workers=25) as pool:
        sids = list(pool.map(place, plan))
    assert carrier.wait_idle(WAIT * 3)
    assert len(set(sids)) == 50
    for sid, (_, status, verdict, _amd) in zip(sids, plan, strict=True):
        final = final_status(app, sid)
        assert final["CallStatus"] == status, (sid, status)
        assert final.get("AnsweredBy") == verdict, (sid, verdict)
        assert carrier.calls[sid].transcript.errors == []
    async_answered = [sid for sid, entry in zip(sids, plan, strict=True)
                      if entry[3] == "async" and entry[2]]
    assert {p["CallSid"] for p in app.posts("/amd")} == set(async_answered)
    stats = requests.get(f"{rest.url}/_emulator/stats", timeout=WAIT).json()
    assert stats["calls_created"] == 50 and sum(stats["calls_per_second"]) == 50
    assert stats["max_calls_in_any_second"] == max(stats["calls_per_second"])


def test_cps_limit_refuses_with_429_and_stats_show_the_pace(app, rest):
    carrier = rest.carrier
    carrier.cps_limit = 2
    moments = iter([1000.1, 1000.5, 1000.9, 1001.2, 1003.0])
    carrier.wall_clock = lambda: next(moments)
    codes = [dial(rest, CUSTOMER, Twiml=R()).status_code for _ in range(5)]
    assert codes == [201, 201, 429, 201, 201]
    stats = requests.get(f"{rest.url}/_emulator/stats", timeout=WAIT).json()
    assert stats == {"calls_created": 4, "max_calls_in_any_second": 2,
                     "calls_per_second": [2, 1, 0, 1], "first_second": 1000,
                     "calls_refused": 1}


def test_cps_refusal_is_twilios_20429(app, rest):
    from twilio.base.exceptions import TwilioRestException
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    class ToEmulator(TwilioHttpClient):
        def request(self, method, url, *args, **kwargs):
            return super().request(method, rest.url + url.split("twilio.com", 1)[1], *args,
                                   **kwargs)

    rest.carrier.cps_limit = 1
    rest.carrier.wall_clock = lambda: 5000.5
    client = Client(ACCOUNT, TOKEN, http_client=ToEmulator(timeout=WAIT))
    client.calls.create(to=CUSTOMER, from_=HOTLINE, twiml=R())
    with pytest.raises(TwilioRestException) as refused:
        client.calls.create(to=CUSTOMER, from_=HOTLINE, twiml=R())
    assert refused.value.status == 429 and refused.value.code == 20429


# --------------------------------------------------------------------------- campaign scripts


def test_answer_scripts_from_json_and_csv(tmp_path):
    as_json = tmp_path / "campaign.json"
    as_json.write_text(json.dumps({CUSTOMER: "human,1,2#", AGENT: ["busy"]}))
    assert load_answer_scripts(as_json) == {CUSTOMER: ["human", "1", "2#"], AGENT: ["busy"]}
    as_csv = tmp_path / "campaign.csv"
    as_csv.write_text("number,script\n# a comment\n"
                      f'{CUSTOMER},"machine,sms:STOP"\n{AGENT},human,1,2#\n\n{CALLER},\n')
    assert load_answer_scripts(as_csv) == {CUSTOMER: ["machine", "sms:STOP"],
                                           AGENT: ["human", "1", "2#"], CALLER: []}
    as_csv.write_text(f"{CUSTOMER},human,dial:maybe\n")
    with pytest.raises(ValueError, match=CUSTOMER.replace("+", r"\+")):
        load_answer_scripts(as_csv)


def test_answer_scripts_over_the_control_api_and_cli(carrier, rest, tmp_path):
    url = f"{rest.url}/_emulator/answer-scripts"
    body = requests.post(url, json={CUSTOMER: "human,1", AGENT: ["machine"]},
                         timeout=WAIT).json()
    assert body == {"ok": True, "set": 2, "total": 2}
    csv_body = f"number,script\n{CALLER},no-answer\n"
    answer = requests.post(url, data=csv_body, headers={"Content-Type": "text/csv"},
                           timeout=WAIT)
    assert answer.json()["set"] == 1 and carrier.answer_scripts[CALLER] == ["no-answer"]
    bad = requests.post(url, json={"+14155550199": "human", CALLER: "dial:maybe"},
                        timeout=WAIT)
    assert bad.status_code == 400 and "+14155550199" not in carrier.answer_scripts

    path = tmp_path / "more.csv"
    path.write_text("+14155550191,busy\n+14155550192,human,sms:STOP\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "infra.local.carrier", "scripts", str(path),
                           "--emulator", rest.url], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert "set 2 answer script(s)" in done.stdout
    assert carrier.answer_scripts["+14155550192"] == ["human", "sms:STOP"]


def test_serve_loads_answer_scripts_at_start(tmp_path):
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps({CUSTOMER: "busy", AGENT: "human,1"}))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TWILIO_ACCOUNT_SID": ACCOUNT,
           "TWILIO_AUTH_TOKEN": TOKEN}
    server = subprocess.Popen(
        [sys.executable, "-m", "infra.local.carrier", "serve", "--port", "0",
         "--answer-scripts", str(path), "--cps-limit", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
    try:
        lines = [server.stdout.readline() for _ in range(2)]
        assert lines[0].startswith("2 answer script(s)"), lines
        base = lines[1].split()[3]
        health = requests.get(f"{base}/_emulator/health", timeout=WAIT).json()
        assert health["answer_scripts"] == 2
    finally:
        server.terminate()
        server.wait(WAIT)


# --------------------------------------------------------------------------- agents, surveys


OPEN_LINE = R('<Dial><Conference startConferenceOnEnter="true" endConferenceOnExit="true" '
              'waitUrl="">seat-x</Conference></Dial>')


def test_agent_on_an_open_line_takes_customers_one_after_another(app, carrier, rest):
    app.route("/customer", R("<Dial><Conference>seat-x</Conference></Dial>"))
    carrier.set_answer_script(AGENT, "human")
    agent = carrier.create_outbound_call(AGENT, HOTLINE, twiml=OPEN_LINE,
                                         status_callback=f"{APP}/status")
    carrier.rooms.wait_for("seat-x", lambda members: agent in members, WAIT)
    customers = [f"+1415555030{i}" for i in range(3)]
    for number in customers:
        carrier.set_answer_script(number, "human,dial:completed:30")
        sid = dial(rest, number, Url=f"{APP}/customer").json()["sid"]
        t = carrier.wait_for_call(sid, WAIT)
        joined, left = t.of_type("conference")
        assert joined["present"] == [agent.sid] and left["duration"] == 30
        assert left["ended_for"] == [] and t.status == "completed" and t.duration >= 30
        assert not agent.done.is_set() and carrier.rooms.present("seat-x") == [agent]
    hangup = requests.post(f"{calls_url(rest)[:-5]}/{agent.sid}.json",
                           data={"Status": "completed"}, auth=AUTH, timeout=WAIT)
    assert hangup.status_code == 200 and agent.done.wait(WAIT)
    t = agent.transcript
    assert t.status == "completed" and t.ended_by == "api" and t.errors == []
    assert carrier.rooms.present("seat-x") == []
    assert final_status(app, agent.sid)["CallStatus"] == "completed"


def test_customer_answers_a_survey_from_the_answer_script(app, carrier, rest):
    app.route("/outbound", R('<Gather numDigits="1" action="/api/q2">'
                             "<Say>Rate us from 1 to 5</Say></Gather>"))
    app.route("/q2", R('<Gather action="/api/done"><Say>Your ZIP code, then pound</Say>'
                       "</Gather>"))
    app.route("/done", R("<Say>Thank you</Say>"))
    carrier.set_answer_script(CUSTOMER, "human,1,2#")
    sid = dial(rest, CUSTOMER, MachineDetection="Enable").json()["sid"]
    t = carrier.wait_for_call(sid, WAIT)
    assert app.posts("/q2")[0]["Digits"] == "1" and app.posts("/q2")[0]["AnsweredBy"] == "human"
    done = app.posts("/done")[0]
    assert (done["Digits"], done["FinishedOnKey"]) == ("2", "#")
    assert t.said[-1] == "Thank you" and t.errors == []
