"""Signature checking, URL rebuilding, webhook parsing, TwiML rendering and number masking:
pure, no I/O."""

import xml.etree.ElementTree as ET

import pytest

from chalicelib.logs import mask_number, mask_text
from chalicelib.settings import ConfigError, load_settings
from chalicelib.telephony import verbs as v
from chalicelib.telephony.signature import app_path, is_valid, public_url, signed_urls
from chalicelib.telephony.twiml import VoiceUrls, render
from chalicelib.telephony.webhook_request import (
    DeliveryStatus,
    InboundSms,
    MalformedWebhook,
    VoiceRequest,
    parse_form,
    whole_number,
)


def test_signature_known_answer_from_twilio_python():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert is_valid("12345", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not is_valid("12345", url, {**params, "Digits": "1235"}, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not is_valid("12345", url, params, None)
    assert not is_valid("wrong", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_form_keeps_blank_fields_twilio_signs():
    assert parse_form(b"Digits=&CallSid=CA1") == {"Digits": "", "CallSid": "CA1"}
    assert parse_form(b"") == {}


def test_form_keeps_every_value_of_a_repeated_key_for_the_signature():
    form = parse_form(b"Event=initiated&CallSid=CA1&Event=completed")
    assert form["Event"] == "completed" and form.getall("Event") == ["initiated", "completed"]
    assert form.getall("CallSid") == ["CA1"] and form.getall("Missing") == []


def test_the_signed_url_is_the_raw_query_when_known_else_both_encodings():
    base, path = "https://x.example/api", "/twilio/voice/status"
    assert signed_urls(base, path, "a=b%20c&a=d", None) == [base + path + "?a=b%20c&a=d"]
    assert signed_urls(base, path, "", None) == [base + path]
    assert signed_urls(base, path, None, None) == [base + path]
    assert signed_urls(base, path, None, {"a": ["b c", "d"], "e": ["1"]}) == [
        base + path + "?a=b+c&a=d&e=1", base + path + "?a=b%20c&a=d&e=1"]


@pytest.mark.parametrize("body", [b"\xff\xfe", b"a=1&&&b", b"=novalue&x"])
def test_malformed_form_is_refused(body):
    with pytest.raises(MalformedWebhook):
        parse_form(body)


def test_public_url_is_rebuilt_from_the_route_not_the_stage():
    path = app_path("/twilio/voice/step/{step}/{node}", {"step": "3", "node": "main_menu"})
    assert path == "/twilio/voice/step/3/main_menu"
    assert public_url("https://x.example/api/", path) == (
        "https://x.example/api/twilio/voice/step/3/main_menu"
    )
    assert public_url("https://x.example", "/twilio/voice", {"a": "1"}) == (
        "https://x.example/twilio/voice?a=1"
    )


def test_prod_refuses_to_switch_signature_validation_off():
    assert not load_settings({"SWITCHBOARD_STAGE": "dev",
                              "TWILIO_VALIDATE_SIGNATURES": "false"}).validate_signatures
    assert load_settings({"SWITCHBOARD_STAGE": "prod",
                          "TWILIO_VALIDATE_SIGNATURES": "false"}).validate_signatures
    assert load_settings({}).validate_signatures


def test_settings_reject_a_vague_flag_and_name_missing_secrets(monkeypatch):
    with pytest.raises(ConfigError):
        load_settings({"TWILIO_VALIDATE_SIGNATURES": "maybe"})
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    settings = load_settings({"SWITCHBOARD_STAGE": "dev"})
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        settings.twilio_auth_token  # noqa: B018
    assert "auth" not in str(settings.describe()).lower()


def test_phone_numbers_are_masked():
    assert mask_number("+14155550111") == "+1••••••0111"
    assert mask_number(None) == "-"
    assert "0111" in mask_text("call from +1 415 555 0111 failed")
    assert "555 0111" not in mask_text("call from +1 415 555 0111 failed")


def test_render_points_every_waiting_verb_at_the_next_step():
    urls = VoiceUrls("https://x.example/api")
    body = render(
        [
            v.Say("Hello", "Polly.Joanna", "en-US"),
            v.Gather("menu", prompts=(v.Say("Press 1"),), num_digits=1, input="dtmf speech"),
        ],
        urls,
        step=4,
    )
    root = ET.fromstring(body)
    say, gather = list(root)
    assert (say.tag, say.text, say.get("voice")) == ("Say", "Hello", "Polly.Joanna")
    assert gather.get("action") == "https://x.example/api/twilio/voice/step/4/menu"
    assert gather.get("actionOnEmptyResult") == "true"
    assert gather.find("Say").text == "Press 1"


def test_render_enqueue_uses_the_hold_url_and_record_transcribes():
    urls = VoiceUrls("https://x.example")
    root = ET.fromstring(render([v.Enqueue("wait", "support"), v.Record("vm", 60)], urls, 2))
    enqueue, record = list(root)
    assert enqueue.text == "support"
    assert enqueue.get("waitUrl") == "https://x.example/twilio/voice/hold/wait"
    # a status-type callback: Twilio retries it when we cannot store it (connection overrides)
    assert record.get("transcribeCallback") == \
        "https://x.example/twilio/voice/transcription#rc=5&rp=5xx,ct,rt"
    assert record.get("maxLength") == "60"


def test_in_aws_secrets_come_from_ssm_once_and_the_environment_wins(monkeypatch):
    import boto3
    from botocore.stub import Stubber

    ssm = boto3.client("ssm", region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x")
    stub = Stubber(ssm)
    stub.add_response(
        "get_parameter",
        {"Parameter": {"Name": "/switchboard/prod/twilio/auth-token", "Value": "from-ssm"}},
        {"Name": "/switchboard/prod/twilio/auth-token", "WithDecryption": True},
    )
    stub.activate()
    monkeypatch.setattr(boto3, "client", lambda *a, **k: ssm)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://hotline.example.com/")
    settings = load_settings({"SWITCHBOARD_STAGE": "prod", "SSM_PREFIX": "/switchboard/prod"})
    assert settings.twilio_auth_token == "from-ssm"
    assert settings.twilio_auth_token == "from-ssm"  # cached: the stub allows one call only
    assert settings.public_base_url == "https://hotline.example.com"
    stub.assert_no_pending_responses()


def test_a_parameter_a_stage_lacks_is_a_config_error_naming_it(monkeypatch):
    import boto3
    import pytest
    from botocore.stub import Stubber

    from chalicelib.settings import ConfigError

    ssm = boto3.client("ssm", region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x")
    stub = Stubber(ssm)
    stub.add_client_error("get_parameter", service_error_code="ParameterNotFound")
    stub.activate()
    monkeypatch.setattr(boto3, "client", lambda *a, **k: ssm)
    monkeypatch.delenv("TWILIO_API_KEY_SECRET", raising=False)
    settings = load_settings({"SWITCHBOARD_STAGE": "prod", "SSM_PREFIX": "/switchboard/prod"})
    with pytest.raises(ConfigError, match="TWILIO_API_KEY_SECRET"):
        getattr(settings, "twilio_api_key_secret")  # noqa: B009 - the property reads SSM


# ---- typed webhook requests ------------------------------------------------------------------


def test_a_voice_request_needs_a_call_sid():
    req = VoiceRequest.parse(b"CallSid=CA1&From=%2B14155550123&To=%2B14155550100&QueueTime=42")
    assert (req.call_sid, req.caller, req.hotline, req.direction) == (
        "CA1", "+14155550123", "+14155550100", "inbound")
    assert req.whole_number("QueueTime") == 42 and req.whole_number("Missing", 0) == 0
    assert VoiceRequest.from_params({"CallSid": "CA2"}).params.getall("CallSid") == ["CA2"]
    for body in (b"From=%2B1", b"CallSid=SM1"):
        with pytest.raises(MalformedWebhook, match="CallSid"):
            VoiceRequest.parse(body)


@pytest.mark.parametrize(("value", "expected"), [
    ("12", 12), ("0", 0), ("²", None), ("-1", None), (" 3", None), ("9" * 10, None), ("", None)])
def test_counts_are_ascii_digits_only(value, expected):
    assert whole_number(value) == expected
    assert parse_form(f"n={value}".encode()).whole_number("n", -7) == \
        (-7 if expected is None else expected)


def test_an_inbound_text_and_its_media():
    sms = InboundSms.parse(b"MessageSid=MM1&From=%2B1&To=%2B2&Body=hi&NumMedia=2"
                           b"&MediaUrl0=https%3A%2F%2Fm%2F0&MediaUrl1=")
    assert (sms.message_sid, sms.sender, sms.hotline, sms.body) == ("MM1", "+1", "+2", "hi")
    assert sms.media_urls == ["https://m/0"] and sms.opt_out_type is None
    with pytest.raises(MalformedWebhook, match="MessageSid"):
        InboundSms.parse(b"From=%2B1&Body=x")


def test_a_delivery_status_is_read_in_lower_case():
    status = DeliveryStatus.parse(b"MessageSid=SM1&SmsStatus=Undelivered&ErrorCode=+30003+")
    assert status == DeliveryStatus("SM1", "undelivered", "30003")
    assert DeliveryStatus.parse(b"MessageSid=SM1&MessageStatus=sent").error_code is None
    for body, message in ((b"MessageStatus=sent", "MessageSid"), (b"MessageSid=SM1", "Status")):
        with pytest.raises(MalformedWebhook, match=message):
            DeliveryStatus.parse(body)
