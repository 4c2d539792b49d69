"""The flow engine driven through the demo flows, webhook by webhook, on a fixed clock.

Each test plays Twilio: ``start`` for the incoming call, then ``resume`` with the parameters
Twilio would post to the waiting node's action URL (or ``hold`` for a queue's waitUrl).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.ivr import engine, templates
from chalicelib.ivr.loader import load_flows
from chalicelib.ivr.model import Flow
from chalicelib.telephony import verbs as v

ROOT = Path(__file__).resolve().parents[2]
CALLER, HOTLINE, MUSIC = "+14155550122", "+14155550100", "https://example.test/hold.mp3"
ACCOUNT = "79927398713"  # passes Luhn
OPEN = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # Monday 11:00 in New York


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    flows, errors = load_flows(ROOT / "flows")
    assert errors == []
    return {flow_id: replace(flow, version=7) for flow_id, flow in flows.items()}


class FakePorts:
    """Look-ups from a dict; other flows from the loaded demo."""

    def __init__(self, flows: dict[str, Flow]):
        self.flows = flows
        self.accounts = {
            ACCOUNT: {
                "name": "Ada Lovelace",
                "balance_due": "42.17",
                "currency": "USD",
                "due_date": "2026-07-01",
                "pin_hash": hashlib.sha256(f"{ACCOUNT}:4321".encode()).hexdigest(),
            }
        }
        self.lookups: list[tuple[str, str]] = []
        self.opted_out: set[str] = set()

    def lookup(self, source: str, key: str) -> dict | None:
        self.lookups.append((source, key))
        return self.accounts.get(key) if source == "accounts" else None

    def live_flow(self, flow_id: str) -> Flow:
        return self.flows[flow_id]

    def may_text(self, number: str) -> bool:
        return number.startswith("+") and number not in self.opted_out


class Call:
    """One caller on the demo hotline; ``result`` is the engine's last answer."""

    def __init__(self, flows, *, now=OPEN, customer=None, flow_id="main", caller=CALLER):
        self.flow = flows[flow_id]
        self.ports = FakePorts(flows)
        self.ctx = engine.CallContext(
            call_sid="CA123",
            caller=caller,
            hotline=HOTLINE,
            now=now,
            customer=customer,
            caller_country="US",
            hold_music_url=MUSIC,
        )
        self.state = engine.CallState(flow_id=flow_id, flow_version=7, language="en-US")
        self.result = self._track(engine.start(self.flow, self.ctx, self.state, self.ports))

    def _track(self, result: v.StepResult) -> v.StepResult:
        self.result, self.flow = result, result.flow
        return result

    def send(self, **event) -> v.StepResult:
        node = self.result.waiting_on
        return self._track(engine.resume(self.flow, node, event, self.ctx, self.state, self.ports))

    def press(self, digits: str) -> v.StepResult:
        return self.send(Digits=digits)

    def speak(self, words: str) -> v.StepResult:
        return self.send(Digits="", SpeechResult=words, Confidence="0.91")

    def silence(self) -> v.StepResult:
        return self.send(Digits="")  # actionOnEmptyResult: Twilio posts even with no input

    def hold(self, **event) -> list:
        return engine.hold(self.flow, self.result.waiting_on, event, self.ctx, self.state)


def spoken(result: v.StepResult) -> list[str]:
    """Every text said in the step, including prompts inside a Gather."""
    said = []
    for verb in result.verbs:
        for prompt in verb.prompts if isinstance(verb, v.Gather) else (verb,):
            if isinstance(prompt, v.Say):
                said.append(prompt.text)
    return said


def last_verb(result: v.StepResult):
    return result.verbs[-1]


def to_main_menu(flows, language_key="1", **kwargs) -> Call:
    call = Call(flows, **kwargs)
    call.press(language_key)
    return call


# ---- language and VIP ------------------------------------------------------------------


def test_call_starts_with_the_language_menu_in_both_voices(flows):
    result = Call(flows).result
    gather = last_verb(result)
    assert isinstance(gather, v.Gather) and gather.node == "choose_language"
    assert gather.input == "dtmf" and gather.num_digits == 1
    assert gather.prompts == (
        v.Say("For English, press 1.", "Polly.Joanna", "en-US"),
        v.Say("中文服务请按2。", "Polly.Zhiyu", "cmn-CN"),
    )
    assert result.waiting_on == "choose_language" and result.outcome is None


def test_english_caller_hears_the_main_menu(flows):
    call = Call(flows)
    result = call.press("1")
    assert result.visited == ["vip_check", "main_menu"]
    gather = last_verb(result)
    assert gather.node == "main_menu" and gather.input == "dtmf speech"
    assert gather.language == "en-US" and "billing" in gather.hints
    assert spoken(result)[0].startswith("For billing, press 1")
    assert call.state.language == "en-US"


def test_pressing_2_switches_the_call_to_mandarin(flows):
    call = Call(flows)
    result = call.press("2")
    assert call.state.language == "zh-CN"
    gather = last_verb(result)
    assert gather.prompts[0].voice == "Polly.Zhiyu" and gather.prompts[0].language == "cmn-CN"
    assert gather.prompts[0].text.startswith("账单查询请按1")
    assert gather.language == "cmn-Hans-CN"  # speech recognition in Mandarin
    assert "账单" in gather.hints and "billing" not in gather.hints


def test_no_choice_keeps_the_default_language(flows):
    call = Call(flows)
    call.silence()
    result = call.silence()  # retries: 1
    assert call.state.language == "en-US" and result.waiting_on == "main_menu"


def test_vip_is_greeted_by_name_and_queued_at_once(flows):
    call = Call(flows, customer={"name": "Ada Lovelace", "vip": True})
    result = call.press("1")
    assert result.visited == ["vip_check", "vip_greeting", "agent_queue"]
    assert spoken(result)[0].startswith("Welcome back, Ada Lovelace.")
    assert last_verb(result) == v.Enqueue(node="agent_queue", queue="support")


def test_vip_greeting_in_mandarin(flows):
    call = Call(flows, customer={"name": "李华", "vip": True})
    result = call.press("2")
    assert spoken(result)[0].startswith("李华，欢迎回来！")


def test_known_customer_without_vip_flag_gets_the_menu(flows):
    call = Call(flows, customer={"name": "Grace Hopper"})
    assert call.press("1").waiting_on == "main_menu"


# ---- menus: retries, timeouts, speech --------------------------------------------------


def test_invalid_choice_reprompts_then_goes_to_on_invalid(flows):
    call = to_main_menu(flows)
    first = call.press("7")
    assert spoken(first)[0] == "Sorry, I didn't get that."
    assert first.waiting_on == "main_menu" and call.state.attempts == {"main_menu": 1}
    call.press("7")
    result = call.press("7")  # retries (2) used up
    assert result.visited == ["agent_hours", "agent_queue"]
    assert call.state.attempts == {}


def test_silence_reprompts_then_goes_to_on_timeout(flows):
    call = to_main_menu(flows)
    call.silence()
    call.silence()
    result = call.silence()
    assert result.visited == ["goodbye"]
    assert spoken(result) == ["Thank you for calling. Goodbye."]
    assert last_verb(result) == v.Hangup() and result.outcome == "hangup"


def test_a_valid_choice_resets_the_retries(flows):
    call = to_main_menu(flows)
    call.press("7")
    result = call.press("9")  # repeat the menu
    assert result.visited == ["main_menu"] and call.state.attempts == {}
    assert not spoken(result)[0].startswith("Sorry")


def test_speech_picks_the_option_by_word(flows):
    call = to_main_menu(flows)
    result = call.speak("I'd like to talk to an agent, please.")
    assert result.visited[0] == "agent_hours"


def test_mandarin_speech_matches_inside_a_sentence(flows):
    call = to_main_menu(flows, language_key="2")
    result = call.speak("我想查一下账单。")
    assert result.visited == ["to_billing", "account_number"]


def test_speech_matches_whole_words_only(flows):
    call = to_main_menu(flows)
    result = call.speak("I don't know")  # contains neither a menu word nor a key
    assert result.waiting_on == "main_menu" and call.state.attempts == {"main_menu": 1}


@pytest.mark.parametrize("words", [
    "Ｂｉｌｌｉｎｇ。", "ＢＡＬＡＮＣＥ！", "１", "1.", "１。", "“Billing”", "  billing  ",
])
def test_speech_is_compared_as_folded_text(flows, words):
    call = to_main_menu(flows)
    result = call.speak(words)
    assert result.visited[:2] == ["to_billing", "account_number"]


def test_mandarin_speech_with_full_width_digits_and_punctuation(flows):
    call = to_main_menu(flows, language_key="2")
    assert call.speak("２。").visited[0] == "agent_hours"


# ---- billing: goto, collect, lookup, sms -----------------------------------------------


def test_goto_switches_to_the_live_billing_flow(flows):
    call = to_main_menu(flows)
    result = call.press("1")
    assert result.flow is flows["billing"]
    assert (call.state.flow_id, call.state.flow_version) == ("billing", 7)
    assert result.waiting_on == "account_number"
    gather = last_verb(result)
    assert gather.num_digits == 11 and gather.finish_on_key == "#"


def in_billing(flows, language_key="1") -> Call:
    call = to_main_menu(flows, language_key)
    call.press("1")
    return call


def test_account_number_failing_luhn_is_asked_again_then_given_up(flows):
    call = in_billing(flows)
    result = call.press("79927398710")
    assert spoken(result)[0] == "That account number doesn't look right."
    assert result.waiting_on == "account_number"
    call.press("1234")  # too short
    result = call.press("79927398710")
    assert result.visited == ["cannot_verify"] and result.outcome == "hangup"
    assert "account_number" not in call.state.vars


def test_valid_account_and_pin_read_the_balance(flows):
    call = in_billing(flows)
    assert call.press(ACCOUNT).waiting_on == "pin"
    result = call.press("4321")
    assert call.state.vars["account_number"] == ACCOUNT and call.state.vars["pin"] == "4321"
    assert call.ports.lookups == [("accounts", ACCOUNT)]
    assert spoken(result)[0] == ("Ada Lovelace, your balance due is $42.17, due on July 1, 2026.")
    assert result.waiting_on == "offer_sms"
    assert call.flow.sensitive_vars == {"pin", "pin_hash"}


def test_a_wrong_pin_is_refused_without_reading_the_balance(flows):
    call = in_billing(flows)
    call.press(ACCOUNT)
    result = call.press("4322")
    assert not any("42.17" in text for text in spoken(result))
    assert result.outcome == "hangup"


def test_balance_in_mandarin(flows):
    call = in_billing(flows, language_key="2")
    call.press(ACCOUNT)
    result = call.press("4321")
    assert spoken(result)[0] == (
        "Ada Lovelace，您的应付金额为42.17美元，付款截止日期为2026年7月1日。"
    )


# ---- a number said aloud ----------------------------------------------------------------


@pytest.fixture(scope="module")
def spoken_flows(flows) -> dict[str, Flow]:
    """The demo with the account number and the PIN said rather than keyed."""
    billing = flows["billing"]
    nodes = {**billing.nodes}
    for node_id in ("account_number", "pin"):
        nodes[node_id] = replace(nodes[node_id], input="speech")
    return {**flows, "billing": replace(billing, nodes=nodes)}


@pytest.mark.parametrize("said", [
    "7992 7398 713",
    "7992-7398-713",
    "7992.7398.713",
    "7992 7398 713.",
    "79927398713",
    "seven nine nine two seven three nine eight seven one three",
    "Seven nine nine two, seven three nine eight, seven one three.",
    "seven double nine two seven three nine eight seven one three",
    "7 double 9 2 7398 713",
    "七九九二七三九八七一三",
    "七九九二 七三九八 七一三。",
    "７９９２　７３９８　７１３",
])
def test_an_account_number_said_in_groups_or_words_is_stored_as_digits(spoken_flows, said):
    call = in_billing(spoken_flows)
    assert last_verb(call.result).input == "speech"
    result = call.speak(said)
    assert result.waiting_on == "pin", spoken(result)
    assert call.state.vars["account_number"] == ACCOUNT
    result = call.speak("four three two one")  # the PIN's pattern is digits only
    assert call.state.vars["pin"] == "4321"
    assert spoken(result)[0].startswith("Ada Lovelace, your balance due is $42.17")


@pytest.mark.parametrize("said", [
    "one two three four five six seven eight nine oh three",
    "one two three four five six seven eight nine zero three",
    "幺两三四五六七八九零三",
    "一二三四五六七八九〇三",
    "123 456 789 03",
])
def test_oh_and_chinese_digits_are_digits(spoken_flows, said):
    call = in_billing(spoken_flows)
    call.speak(said)
    assert call.state.vars["account_number"] == "12345678903"


@pytest.mark.parametrize("said", [
    "seventy nine ninety two", "I don't know", "7992 7398 71", "my account", "double",
    "7992 7398 713 and 4",
])
def test_speech_that_is_not_the_number_is_asked_again(spoken_flows, said):
    call = in_billing(spoken_flows)
    result = call.speak(said)
    assert result.waiting_on == "account_number" and "account_number" not in call.state.vars
    assert spoken(result)[0] == "That account number doesn't look right."


def test_free_speech_is_kept_as_said_without_surrounding_punctuation():
    flow = Flow.from_document({
        "flow": "why",
        "languages": ["en-US"],
        "voices": {"en-US": {"voice": "Polly.Joanna", "language": "en-US"}},
        "start": "reason",
        "nodes": {
            "reason": {"kind": "collect", "prompt": "ask", "into": "reason", "input": "speech",
                       "next": "bye", "on_fail": "bye"},
            "bye": {"kind": "hangup"},
        },
        "templates": {"en-US": {"ask": "Why are you calling?"}},
    })
    assert not flow.nodes["reason"].wants_digits
    state = engine.CallState(flow_id="why", flow_version=1, language="en-US")
    ctx = engine.CallContext(call_sid="CA1", caller=CALLER, hotline=HOTLINE, now=OPEN)
    engine.start(flow, ctx, state, FakePorts({}))
    event = {"SpeechResult": "  My bill is  wrong. ", "Confidence": "0.8"}
    engine.resume(flow, "reason", event, ctx, state, FakePorts({}))
    assert state.vars["reason"] == "My bill is wrong"


@pytest.mark.parametrize(("fields", "expected"), [
    ({"digits": True}, True),
    ({"luhn": True}, True),
    ({"pattern": "[0-9]{4}"}, True),
    ({"pattern": r"\d{6,8}"}, True),
    ({"pattern": "[A-Z]{2}[0-9]{6}"}, False),
    ({}, False),
])
def test_a_collect_wants_digits_when_it_says_so_or_its_checks_are_numeric(flows, fields, expected):
    node = replace(flows["billing"].nodes["pin"], **{"pattern": None, **fields})
    assert node.wants_digits is expected


def test_sensitive_values_do_not_cross_a_goto():
    voices = {"en-US": {"voice": "Polly.Joanna", "language": "en-US"}}
    first = Flow.from_document({
        "flow": "first", "languages": ["en-US"], "voices": voices, "start": "pin",
        "nodes": {
            "pin": {"kind": "collect", "prompt": "ask", "into": "pin", "sensitive": True,
                    "next": "onwards", "on_fail": "onwards"},
            "onwards": {"kind": "goto", "flow": "second"},
        },
        "templates": {"en-US": {"ask": "Your PIN?"}},
    })
    second = Flow.from_document({
        "flow": "second", "languages": ["en-US"], "voices": voices, "start": "bye",
        "nodes": {"bye": {"kind": "hangup"}},
    })
    ports = FakePorts({"second": second})
    state = engine.CallState(flow_id="first", flow_version=1, language="en-US")
    ctx = engine.CallContext(call_sid="CA1", caller=CALLER, hotline=HOTLINE, now=OPEN)
    engine.start(first, ctx, state, ports)
    result = engine.resume(first, "pin", {"Digits": "1234"}, ctx, state, ports)
    assert result.flow is second and result.outcome == "hangup"
    assert "pin" not in state.vars  # the second flow's list would not redact it


# ---- look-ups never speak empty slots ---------------------------------------------------


@pytest.mark.parametrize("blank", [None, "", "   ", "missing"])
def test_a_record_without_a_field_the_prompt_needs_takes_on_missing(flows, blank):
    call = in_billing(flows)
    account = call.ports.accounts[ACCOUNT]
    if blank == "missing":
        del account["due_date"]
    else:
        account["due_date"] = blank
    call.press(ACCOUNT)
    result = call.press("4321")
    assert result.visited == ["find_account", "account_not_found", "account_number"]
    assert not any("due on" in text for text in spoken(result))
    assert "balance_due" not in call.state.vars


@pytest.mark.parametrize("blank", [None, ""])
def test_an_optional_field_may_be_empty(flows, blank):
    call = in_billing(flows)
    call.ports.accounts[ACCOUNT]["name"] = blank
    call.press(ACCOUNT)
    result = call.press("4321")
    assert spoken(result)[0] == "Your balance due is $42.17, due on July 1, 2026."
    assert "account_name" not in call.state.vars


def test_unknown_account_is_asked_again(flows):
    call = in_billing(flows)
    call.press("12345678903")  # Luhn-valid, not on file
    result = call.press("4321")
    assert result.visited == ["find_account", "account_not_found", "account_number"]
    assert spoken(result)[0] == "We couldn't find that account. Let's try again."


def test_balance_by_text_is_an_sms_effect_keyed_by_call_and_node(flows):
    call = in_billing(flows)
    call.press(ACCOUNT)
    call.press("4321")
    result = call.speak("Yes, text me.")
    assert result.effects == [
        v.SendSms(
            to=CALLER,
            body="Your balance due is $42.17, due on July 1, 2026. Thank you!",
            template="balance_sms",
            key="CA123:send_balance",
        )
    ]
    assert result.outcome == "hangup" and last_verb(result) == v.Hangup()


@pytest.mark.parametrize("caller", [CALLER, "anonymous", "client:alice", ""])
def test_a_caller_who_cannot_be_texted_is_told_so_and_nothing_is_sent(flows, caller):
    call = Call(flows, caller=caller)
    call.ports.opted_out.add(CALLER)  # opted out; the others have no number to text
    call.press("1")
    call.press("1")
    call.press(ACCOUNT)
    call.press("4321")
    result = call.press("1")
    assert result.effects == []
    assert result.visited == ["send_balance", "sms_refused"]
    assert spoken(result) == ["Sorry, we can't send a text message to the number you're calling "
                              "from, so none was sent. Thank you for calling. Goodbye."]
    assert result.outcome == "hangup"


def test_sms_refused_in_mandarin(flows):
    call = in_billing(flows, language_key="2")
    call.ports.opted_out.add(CALLER)
    call.press(ACCOUNT)
    call.press("4321")
    assert spoken(call.press("1"))[0].startswith("抱歉，我们无法向您来电的号码发送短信")


def test_without_on_refused_the_text_is_left_to_the_sender(flows):
    billing = flows["billing"]
    send = replace(billing.nodes["send_balance"], on_refused=None)
    plain = {**flows, "billing": replace(billing, nodes={**billing.nodes, "send_balance": send})}
    call = in_billing(plain)
    call.ports.opted_out.add(CALLER)
    call.press(ACCOUNT)
    call.press("4321")
    result = call.press("1")
    assert [effect.template for effect in result.effects] == ["balance_sms"]


def test_declining_the_text_sends_nothing(flows):
    call = in_billing(flows)
    call.press(ACCOUNT)
    call.press("4321")
    result = call.press("2")
    assert result.effects == [] and result.visited == ["goodbye"]


# ---- business hours --------------------------------------------------------------------


@pytest.fixture(scope="module")
def office_flows(flows) -> dict[str, Flow]:
    """The demo with office hours (Mon-Fri 09:00-18:00 New York) instead of its 24/7 agents."""
    main = flows["main"]
    hours = replace(main.nodes["agent_hours"], weekly={"mon-fri": ["09:00-18:00"]})
    return {**flows, "main": replace(main, nodes={**main.nodes, "agent_hours": hours})}



@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # DST began 2026-03-08: 13:30 UTC is 09:30 EDT (open), though it would be 08:30 EST
        (datetime(2026, 3, 9, 13, 30, tzinfo=UTC), "agent_queue"),
        # the Friday before, still EST: 13:30 UTC is 08:30 (closed), 14:30 UTC is 09:30 (open)
        (datetime(2026, 3, 6, 13, 30, tzinfo=UTC), "after_hours"),
        (datetime(2026, 3, 6, 14, 30, tzinfo=UTC), "agent_queue"),
        # closing time 18:00 EDT is 22:00 UTC
        (datetime(2026, 3, 9, 21, 59, tzinfo=UTC), "agent_queue"),
        (datetime(2026, 3, 9, 22, 0, tzinfo=UTC), "after_hours"),
        # DST ended 2026-11-01: 13:30 UTC is 08:30 EST again
        (datetime(2026, 11, 2, 13, 30, tzinfo=UTC), "after_hours"),
        (datetime(2026, 3, 7, 15, 0, tzinfo=UTC), "after_hours"),  # Saturday
        (datetime(2026, 12, 25, 15, 0, tzinfo=UTC), "after_hours"),  # Christmas, a Friday
        (datetime(2027, 1, 1, 15, 0, tzinfo=UTC), "after_hours"),  # New Year's Day
        (datetime(2026, 12, 24, 15, 0, tzinfo=UTC), "agent_queue"),
    ],
)
def test_agent_hours_in_new_york(office_flows, now, expected):
    call = to_main_menu(office_flows, now=now)
    result = call.press("2")
    assert result.visited[:2] == ["agent_hours", expected]


def test_after_hours_message_then_voicemail(office_flows):
    call = to_main_menu(office_flows, now=datetime(2026, 3, 7, 15, 0, tzinfo=UTC))
    result = call.press("2")
    assert spoken(result)[0].startswith("Our office is closed right now.")
    assert result.waiting_on == "leave_voicemail"


# ---- voicemail -------------------------------------------------------------------------


def test_voicemail_is_saved_then_thanks_and_hangup(flows):
    call = to_main_menu(flows, language_key="2")
    result = call.press("3")
    assert spoken(result) == ["请在提示音后留下您的姓名、电话号码和简短留言，结束后请按井号键。"]
    assert last_verb(result) == v.Record(node="leave_voicemail", max_length=120, transcribe=True)
    result = call.send(
        RecordingSid="RE123",
        RecordingUrl="https://api.twilio.test/RE123",
        RecordingDuration="14",
        Digits="#",
    )
    assert result.effects == [
        v.SaveVoicemail(
            recording_sid="RE123",
            recording_url="https://api.twilio.test/RE123",
            duration=14,
            node="leave_voicemail",
            language="zh-CN",
        )
    ]
    assert spoken(result) == ["谢谢您的留言，我们会尽快与您联系。再见。"]
    assert last_verb(result) == v.Hangup() and result.outcome == "voicemail"


def test_empty_recording_saves_nothing(flows):
    call = to_main_menu(flows)
    call.press("3")
    result = call.send(RecordingSid="RE124", RecordingUrl="https://x", RecordingDuration="0")
    assert result.effects == [] and result.verbs == [v.Hangup()]
    assert result.outcome == "hangup"


# ---- queue -----------------------------------------------------------------------------


def test_queue_hold_music_then_leave_after_max_wait_then_overflow(flows):
    call = to_main_menu(flows)
    result = call.press("2")
    assert last_verb(result) == v.Enqueue(node="agent_queue", queue="support")
    assert call.hold(QueueTime="30", QueuePosition="2", CurrentQueueSize="4") == [
        v.Say(
            "Thank you for holding. You are number 2 in line. An agent will be with you shortly.",
            "Polly.Joanna",
            "en-US",
        ),
        v.Play(MUSIC),
    ]
    assert call.hold(QueueTime="120", QueuePosition="2") == [v.Leave()]
    result = call.send(QueueResult="leave", QueueTime="121")
    assert result.visited == ["queue_overflow", "leave_voicemail"]
    assert spoken(result)[0] == "Sorry, all of our agents are still busy."


def test_hold_prompt_in_mandarin(flows):
    call = to_main_menu(flows, language_key="2")
    call.press("2")
    said = call.hold(QueueTime="5", QueuePosition="1")[0]
    assert said.text == "感谢您的耐心等待。您目前排在第1位。客服人员将尽快为您服务。"


@pytest.mark.parametrize(("event", "reason", "said"), [
    # routing's reasons, passed by ivr.service when it overflows the caller at once
    ({"OverflowReason": "join-empty"}, "no_agents",
     "Sorry, no agents are available to take your call right now."),
    ({"OverflowReason": "closed"}, "closed", "Sorry, our agents are not taking calls right now."),
    ({"OverflowReason": "full"}, "full",
     "Sorry, all of our agents are busy and too many callers are waiting."),
    ({"OverflowReason": "max-wait"}, "max_wait", "Sorry, all of our agents are still busy."),
    # Twilio's own results
    ({"QueueResult": "leave", "QueueTime": "121"}, "max_wait",
     "Sorry, all of our agents are still busy."),
    ({"QueueResult": "queue-full"}, "full",
     "Sorry, all of our agents are busy and too many callers are waiting."),
    ({"QueueResult": "system-error"}, "unavailable",
     "Sorry, we can't connect you to an agent right now."),
    ({"DialCallStatus": "no-answer"}, "unavailable",  # the queue's own transfer failed
     "Sorry, we can't connect you to an agent right now."),
])
def test_the_overflow_prompt_says_why_no_agent_took_the_call(flows, event, reason, said):
    call = to_main_menu(flows)
    call.press("2")
    if "OverflowReason" in event:
        event = {"QueueResult": "queue-full", **event}
    result = call.send(**event)
    assert call.state.vars["overflow_reason"] == reason
    assert result.visited == ["queue_overflow", "leave_voicemail"]
    assert spoken(result)[0] == said


def test_each_overflow_reason_has_its_own_words_in_every_language(flows):
    main = flows["main"]
    for language in main.languages:
        said = {reason: templates.render(main, language, "queue_overflow",
                                         {"overflow_reason": reason})
                for reason in engine.OVERFLOW_REASONS}
        # a caller who pressed 2 for voicemail hears no apology: the voicemail prompt follows
        assert said.pop("chose_voicemail") == ""
        assert all(said.values()) and len(set(said.values())) == len(said), said


def test_the_overflow_prompt_in_mandarin(flows):
    call = to_main_menu(flows, language_key="2")
    call.press("2")
    result = call.send(QueueResult="queue-full", OverflowReason="closed")
    assert spoken(result)[0] == "抱歉，客服人员现在不接听来电。"


@pytest.mark.parametrize("queue_result", ["bridged", "hangup"])
def test_queue_ends_the_flow_once_bridged(flows, queue_result):
    call = to_main_menu(flows)
    call.press("2")
    result = call.send(QueueResult=queue_result, QueueTime="40")
    assert result.outcome == "queue" and result.verbs == [v.Hangup()]


# ---- transfer --------------------------------------------------------------------------


def test_operator_transfer_failure_goes_to_on_fail(flows):
    call = to_main_menu(flows)
    result = call.press("0")
    assert spoken(result) == ["Please hold while I connect you to the operator."]
    assert last_verb(result) == v.Dial(node="operator", number="+14155550199", timeout=25)
    result = call.send(DialCallStatus="busy")
    assert result.visited == ["operator_unavailable", "leave_voicemail"]
    assert result.outcome is None


def test_operator_transfer_answered_ends_the_flow(flows):
    call = to_main_menu(flows)
    call.press("0")
    result = call.send(DialCallStatus="completed", DialCallDuration="63")
    assert result.outcome == "transfer" and result.verbs == [v.Hangup()]


# ---- guards ----------------------------------------------------------------------------


def spinning_flow() -> Flow:
    return Flow.from_document(
        {
            "flow": "spin",
            "languages": ["en-US"],
            "voices": {"en-US": {"voice": "Polly.Joanna", "language": "en-US"}},
            "start": "again",
            "nodes": {
                "again": {"kind": "branch", "cases": [], "else": "once_more"},
                "once_more": {"kind": "branch", "cases": [], "else": "again"},
            },
        }
    )


def test_step_guard_stops_a_flow_that_never_waits():
    state = engine.CallState(flow_id="spin", flow_version=1, language="en-US")
    ctx = engine.CallContext(call_sid="CA1", caller=CALLER, hotline=HOTLINE, now=OPEN)
    with pytest.raises(engine.EngineError, match="ran 100 nodes without waiting"):
        engine.start(spinning_flow(), ctx, state, FakePorts({}))


def test_resume_refuses_nodes_that_do_not_wait_or_do_not_exist(flows):
    call = Call(flows)
    for node in ("vip_check", "no_such_node"):
        with pytest.raises(engine.EngineError):
            engine.resume(flows["main"], node, {}, call.ctx, call.state, call.ports)
    with pytest.raises(engine.EngineError):
        engine.hold(flows["main"], "main_menu", {}, call.ctx, call.state)
