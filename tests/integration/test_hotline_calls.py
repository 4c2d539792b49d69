"""Whole calls into the demo hotline: the carrier places signed calls, the real app answers from
DynamoDB Local, and we check what the caller heard and what was stored."""

from __future__ import annotations

import json
import uuid

import pytest

from chalicelib.store.models import CallRecord, Message, Voicemail
from tests.integration.conftest import CLOSED, signed_post

HOTLINE = "+14155550100"
VIP = "+14155550111"
CALLER = "+14155550177"  # not a known customer
ACCOUNT, PIN = "79927398713", "1234"


def heard(transcript) -> str:
    return " | ".join(transcript.said)


def record_of(transcript) -> CallRecord:
    return CallRecord.get(transcript.call_sid, consistent_read=True)


def assert_clean(transcript) -> None:
    assert not transcript.errors, transcript.errors
    assert not transcript.application_error


def test_english_billing_self_service_reads_the_balance_and_texts_it(carrier):
    # Given a caller who picks English, then billing, and identifies with account and PIN
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "1", ACCOUNT + "#", PIN, "1"])
    # Then they hear the balance, are told a text is on its way, and the text arrives
    assert_clean(t)
    assert "42.17" in heard(t)
    assert t.status == "completed"
    texts = [m for m in carrier.messages if m["to"] == CALLER]
    assert len(texts) == 1 and "42.17" in texts[0]["body"]
    assert texts[0]["from"] == HOTLINE
    # And the call record keeps the path and the inputs, with the PIN redacted
    record = record_of(t)
    assert record.flow_id == "billing"
    assert record.path[:4] == ["known_language", "choose_language", "vip_check", "main_menu"]
    assert "check_pin" in record.path and "send_balance" in record.path
    assert record.inputs["pin"] == "[redacted]"
    assert record.inputs["account_number"] == ACCOUNT
    assert "balance_due" not in record.inputs, "look-up results are not caller inputs"
    assert record.status == "completed" and record.duration == t.duration
    assert record.vars is None, "live variables are dropped when the call ends"
    message = Message.get(f"{t.call_sid}:send_balance")
    assert message.status != "failed" and message.message_sid.startswith("SM")


def test_a_wrong_pin_never_reads_the_balance(carrier):
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "1", ACCOUNT, "9999"])
    assert_clean(t)
    assert "42.17" not in heard(t)


def test_chinese_caller_leaves_a_voicemail_stored_with_its_transcription(carrier):
    # Given a caller who picks Chinese, then "3" for voicemail, and speaks for 8 seconds
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["2", "3", "record:8:请给我回电话"])
    assert_clean(t)
    # Then the prompts after the language menu are Chinese, in the Chinese voice
    says = t.of_type("say")
    after_menu = [e for e in says if e["text"] and "English" not in e["text"]]
    assert any("留言" in e["text"] for e in after_menu)
    assert all(e.get("voice") == "Polly.Zhiyu" for e in after_menu[1:])
    # And the voicemail is in DynamoDB with its transcription, language and caller
    record = record_of(t)
    voicemails = list(Voicemail.scan(Voicemail.call_sid == t.call_sid))
    assert len(voicemails) == 1
    voicemail = voicemails[0]
    assert voicemail.duration == 8 and voicemail.language == "zh-CN"
    assert voicemail.transcription == "请给我回电话"
    assert voicemail.hotline == HOTLINE and voicemail.caller == CALLER
    assert record.outcome == "voicemail" and record.language == "zh-CN"


def test_speech_reaches_the_same_branch_as_digits(carrier):
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "say:I want to leave a message",
                                                    "record:5"])
    assert_clean(t)
    assert record_of(t).outcome == "voicemail"


def test_menu_reprompts_then_takes_the_invalid_branch(carrier):
    # Given two wrong keys at the main menu (two attempts are allowed by default, 3 tries)
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "7", "8", "6", "hangup"])
    assert_clean(t)
    record = record_of(t)
    # Then the caller was re-prompted twice and finally routed to a person (open: the queue)
    assert heard(t).count("Sorry, I didn't get that") == 2
    assert "agent_hours" in record.path and "agent_queue" in record.path


def test_vip_goes_straight_to_the_queue_which_with_nobody_logged_in_overflows_at_once(carrier):
    # Given the VIP demo customer, and the demo agents all logged out
    t = carrier.place_inbound_call(HOTLINE, VIP, ["1", "record:6"])
    assert_clean(t)
    assert "Ada Lovelace" in heard(t)
    # Then the queue's join-empty rule sends them to voicemail without queueing them
    assert not t.of_type("enqueue")
    record = record_of(t)
    assert "agent_queue" in record.path and record.outcome == "voicemail"


def test_after_hours_callers_are_offered_voicemail(carrier, clock):
    clock.now = CLOSED
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "2", "record:4"])
    assert_clean(t)
    assert "agent_queue" not in record_of(t).path
    assert "after_hours" in record_of(t).path


def test_a_busy_operator_falls_back_to_voicemail(carrier):
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "0", "dial:busy", "record:3"])
    assert_clean(t)
    dials = t.of_type("dial")
    assert dials and "+14155550199" in json.dumps(dials[0])
    assert {"operator", "operator_unavailable", "leave_voicemail"} <= set(record_of(t).path)


def test_unknown_number_hears_a_polite_message_and_nothing_is_stored(carrier):
    t = carrier.place_inbound_call("+14155550000", CALLER, [])
    assert_clean(t)
    assert "not in service" in heard(t)
    assert t.of_type("hangup")


def test_unsigned_or_forged_webhooks_get_403_and_change_nothing(client):
    params = {"CallSid": "CA" + "f" * 32, "From": CALLER, "To": HOTLINE}
    unsigned = client.http.post("/twilio/voice", body="CallSid=" + params["CallSid"],
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    forged = signed_post(client, "/twilio/voice", params, token="not-our-token")
    assert unsigned.status_code == forged.status_code == 403
    with pytest.raises(CallRecord.DoesNotExist):
        CallRecord.get(params["CallSid"])


def test_a_webhook_for_another_twilio_account_gets_403_and_changes_nothing(client):
    # Signed with our token, but for a call of another account (a number moved between
    # accounts, a replay from one), or naming no account at all
    for account in ("AC" + "0" * 32, ""):
        params = {"CallSid": "CA" + uuid.uuid4().hex, "From": CALLER, "To": HOTLINE,
                  "AccountSid": account}
        assert signed_post(client, "/twilio/voice", params).status_code == 403
        with pytest.raises(CallRecord.DoesNotExist):
            CallRecord.get(params["CallSid"])
    assert signed_post(client, "/twilio/sms", {"MessageSid": "SM" + "1" * 32, "From": CALLER,
                                                "To": HOTLINE, "Body": "STOP",
                                                "AccountSid": "AC" + "9" * 32}).status_code == 403


def test_the_signature_covers_every_value_of_a_repeated_key_and_the_query_as_sent(client):
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    from tests.support import PUBLIC_BASE_URL, TEST_ACCOUNT, TEST_TOKEN

    class Pairs(dict):  # what Twilio signs: every value of a repeated key
        def getall(self, name):
            return [value for key, value in pairs if key == name]

    sid = "CA" + uuid.uuid4().hex
    pairs = [("AccountSid", TEST_ACCOUNT), ("CallSid", sid), ("CallStatus", "completed"),
             ("SequenceNumber", "1"), ("StatusCallbackEvent", "initiated"),
             ("StatusCallbackEvent", "completed")]
    for query in ("", "?note=a+b&note=c", "?note=a%20b&note=c"):
        path = "/twilio/voice/status" + query
        signature = RequestValidator(TEST_TOKEN).compute_signature(
            PUBLIC_BASE_URL + path, Pairs(pairs))
        response = client.http.post(path, body=urlencode(pairs), headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
        assert response.status_code == 200, (query, response.body)
    # one value dropped from the repeated key is another request: refused
    response = client.http.post("/twilio/voice/status", body=urlencode(pairs[:-1]), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_malformed_webhooks_get_400(client):
    assert signed_post(client, "/twilio/voice", {"From": CALLER, "To": HOTLINE}).status_code == 400
    assert signed_post(client, "/twilio/voice/step/x/main_menu",
                       {"CallSid": "CA" + "1" * 32}).status_code == 400
    for step in ("²", "9" * 5000):  # '²'.isdigit() is true; int() refuses 4,300+ digits
        assert signed_post(client, f"/twilio/voice/step/{step}/main_menu",
                           {"CallSid": "CA" + "1" * 32}).status_code == 400
    bad_status = {"CallSid": "CA" + "2" * 32, "CallStatus": "exploded"}
    assert signed_post(client, "/twilio/voice/status", bad_status).status_code == 400
    assert signed_post(client, "/twilio/voice/transcription", {"RecordingSid": ""}).status_code \
        == 400


def test_a_retried_step_replays_its_answer_and_sends_nothing_twice(client, carrier):
    # Given a call that reached the SMS offer
    first = []
    t = carrier.place_inbound_call(
        HOTLINE, CALLER, ["1", "1", ACCOUNT, PIN, "1"],
        on_event=lambda e: first.append(e) if e["type"] == "webhook" else None,
    )
    assert_clean(t)
    sms_step = [e for e in first if "offer_sms" in e.get("url", "")]
    assert sms_step, first
    # When Twilio retries the step that sent the text
    path = sms_step[-1]["url"].split("/api", 1)[1]
    params = {"CallSid": t.call_sid, "From": CALLER, "To": HOTLINE, "Digits": "1"}
    before = record_of(t)
    replay = signed_post(client, path, params)
    # Then it gets valid TwiML, the call does not advance, and no second text goes out
    assert replay.status_code == 200 and b"<Response>" in replay.body
    assert record_of(t).step == before.step
    assert len([m for m in carrier.messages if m["to"] == CALLER]) == 1


def test_storage_failure_mid_call_degrades_to_the_fallback_not_an_application_error(
    carrier, monkeypatch
):
    # Given DynamoDB fails on the first step after the greeting
    from chalicelib.store import calls

    def broken(*args, **kwargs):
        raise RuntimeError("DynamoDB is unreachable")

    monkeypatch.setattr(calls, "get_call", broken)
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "record:5"])
    # Then the caller hears an apology and can leave a message; Twilio saw valid TwiML
    assert_clean(t)
    assert "technical difficulties" in heard(t)
    assert t.of_type("record")


def test_dynamodb_unreachable_from_the_first_webhook(carrier):
    from chalicelib.settings import get_settings
    from chalicelib.store import directory
    from chalicelib.store.models import bind_models

    settings = get_settings()
    real = settings.dynamodb_endpoint
    directory.clear_cache()
    settings.dynamodb_endpoint = "http://127.0.0.1:9"  # nothing listens there
    bind_models(settings)
    try:
        t = carrier.place_inbound_call(HOTLINE, CALLER, ["record:4"])
    finally:
        settings.dynamodb_endpoint = real
        bind_models(settings)
    # The caller heard an apology and left a message (kept at Twilio, its sid logged); only
    # the bookkeeping callbacks, which no caller hears, reported the outage to Twilio.
    assert not t.application_error
    assert "technical difficulties" in heard(t) and t.of_type("record")
    assert {e["url"].rsplit("/", 1)[1] for e in t.errors} <= {"status", "transcription"}


def test_status_callbacks_finish_the_record_once(client, carrier):
    t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "hangup"])
    assert_clean(t)
    record = record_of(t)
    assert record.status == "completed" and record.ended_at is not None
    # a late "ringing" and a duplicate "completed" change nothing
    late = {"CallSid": t.call_sid, "CallStatus": "ringing", "SequenceNumber": "0"}
    dup = {"CallSid": t.call_sid, "CallStatus": "completed", "SequenceNumber": "99",
           "CallDuration": "999"}
    assert signed_post(client, "/twilio/voice/status", late).status_code == 200
    assert record_of(t).status == "completed"
    signed_post(client, "/twilio/voice/status", dup)
    assert record_of(t).duration == 999  # a newer sequence number does win


def test_a_new_flow_version_reaches_new_calls_while_calls_in_progress_keep_theirs(
    client, carrier, tmp_path
):
    from chalicelib.ivr.loader import load_flows
    from chalicelib.store import flows
    from tests.support import ROOT

    # Given a call waiting at the language menu on the live version
    first = signed_post(client, "/twilio/voice",
                        {"CallSid": "CA" + "a1" * 16, "From": CALLER, "To": HOTLINE})
    pinned = CallRecord.get("CA" + "a1" * 16).flow_version
    # When a new version with new wording is published
    src = ROOT / "flows"
    (tmp_path / "templates").mkdir()
    for item in src.iterdir():
        if item.suffix == ".yaml":
            (tmp_path / item.name).write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
    import shutil

    shutil.copytree(src / "templates", tmp_path / "templates", dirs_exist_ok=True)
    path = tmp_path / "templates" / "en-US" / "goodbye.j2"
    path.write_text("Goodbye from version two.", encoding="utf-8")
    loaded, errors = load_flows(tmp_path)
    assert not errors
    version, created = flows.publish(loaded["main"], published_by="test")
    assert created and version == pinned + 1
    flows.clear_cache()
    try:
        # Then the call in progress finishes on its pinned version...
        step = signed_post(client, "/twilio/voice/step/1/choose_language",
                           {"CallSid": "CA" + "a1" * 16, "From": CALLER, "To": HOTLINE,
                            "Digits": "1"})
        assert step.status_code == 200 and first.status_code == 200
        assert CallRecord.get("CA" + "a1" * 16).flow_version == pinned
        # ...and a new call gets the new version, with no deploy
        t = carrier.place_inbound_call(HOTLINE, CALLER, ["1", "wait", "wait", "wait"])
        assert_clean(t)
        assert record_of(t).flow_version == version
        assert "Goodbye from version two." in heard(t)
    finally:
        original, _ = load_flows(src)
        flows.publish(original["main"], published_by="test-restore")
        flows.clear_cache()


def test_a_known_customer_is_greeted_in_their_own_language_without_the_language_menu(carrier):
    # Grace (+14155550122) is a demo customer whose language is Chinese
    t = carrier.place_inbound_call(HOTLINE, "+14155550122", ["2", "record:4"])
    assert_clean(t)
    assert t.said[0].startswith("账单查询请按1"), t.said[:2]  # the main menu, in Mandarin
    assert "For English, press 1" not in " ".join(t.said)
    assert record_of(t).language == "zh-CN"
