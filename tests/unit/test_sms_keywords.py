"""What a customer's text asks for: Twilio's reserved keywords, our Chinese ones, the callback
phrase, and everything that must stay an ordinary message."""

from __future__ import annotations

import pytest

from chalicelib.messaging.keywords import (
    CANCEL_CALLBACK_WORD,
    CANCEL_CALLBACK_WORD_ZH,
    Intent,
    classify,
    language_of,
    normalise,
)


@pytest.mark.parametrize("body", [
    "STOP", "stop", "Stop", " STOP ", "\tstop\n", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END",
    "QUIT", "REVOKE", "OPTOUT", "Stop.", "STOP!", "ＳＴＯＰ", "ｓｔｏｐ", "\u3000STOP\u3000",
])
def test_twilio_opt_out_keywords(body):
    keyword = classify(body)
    assert keyword.intent is Intent.OPT_OUT
    assert keyword.carrier_handled and keyword.language == "en-US"


@pytest.mark.parametrize("body", [
    "退订", " 退订 ", "退订。", "退订！", "取消订阅", "TD", "td", "ＴＤ",
])
def test_chinese_opt_out_keywords_are_ours(body):
    keyword = classify(body)
    assert keyword.intent is Intent.OPT_OUT
    assert not keyword.carrier_handled and keyword.language == "zh-CN"


@pytest.mark.parametrize("body,intent,carrier", [
    ("START", Intent.OPT_IN, True), ("yes", Intent.OPT_IN, True), ("Unstop", Intent.OPT_IN, True),
    ("订阅", Intent.OPT_IN, False), ("开始", Intent.OPT_IN, False),
    ("HELP", Intent.HELP, True), ("info", Intent.HELP, True), ("帮助", Intent.HELP, False),
])
def test_opt_in_and_help(body, intent, carrier):
    keyword = classify(body)
    assert (keyword.intent, keyword.carrier_handled) == (intent, carrier)


@pytest.mark.parametrize("body", [
    CANCEL_CALLBACK_WORD, "cancel call", "Cancel  Call.", "CANCEL CALLBACK",
    "ＣＡＮＣＥＬ　ＣＡＬＬ", CANCEL_CALLBACK_WORD_ZH, "取消回拨", "取消",
])
def test_cancel_callback_phrases_are_not_opt_outs(body):
    keyword = classify(body)
    assert keyword.intent is Intent.CANCEL_CALLBACK
    assert not keyword.carrier_handled


def test_bare_cancel_opts_out_as_at_twilio():
    assert classify("CANCEL").intent is Intent.OPT_OUT
    assert classify(CANCEL_CALLBACK_WORD).intent is Intent.CANCEL_CALLBACK


@pytest.mark.parametrize("body", [
    "STOP PLEASE", "please stop", "please cancel", "stop calling me", "STOPP", "S T O P",
    "", None, "   ", "Yes please", "help me", "what are your hours?", "我想退订吗", "?stop",
])
def test_anything_not_the_whole_message_is_other(body):
    assert classify(body).intent is Intent.OTHER


def test_other_messages_keep_their_text_and_a_language_hint():
    assert classify("  My  bill is wrong ").word == "my bill is wrong"
    assert classify("我的账单有问题").language == "zh-CN"
    assert classify("my bill").language is None
    assert language_of("退订") == "zh-CN" and language_of("") is None


def test_normalise_folds_width_case_and_spacing():
    assert normalise("ＨＥＬＰ！") == "help"
    assert normalise("  Cancel\u3000 CALL ") == "cancel call"
    assert normalise(None) == ""
