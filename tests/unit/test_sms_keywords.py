"""What a customer's text asks for: Twilio's reserved keywords, the FCC's revocation words, plain
requests to stop in English and Chinese, the callback phrase, and everything that must stay an
ordinary message."""

from __future__ import annotations

import pytest

from chalicelib.messaging.keywords import (
    CANCEL_CALLBACK_WORD,
    CANCEL_CALLBACK_WORD_ZH,
    OPT_OUT,
    TWILIO_KEYWORDS,
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
    "STOPP", "S T O P", "", None, "   ", "?", "Yes please", "start please", "help me",
    "what are your hours?", "我想退订吗", "I can't stop laughing", "stop by the shop tomorrow",
    "I want to cancel my order", "取消订单", "no more questions", "please call me",
    "pleased", "thanks", "opt in", "请",
])
def test_ordinary_messages_are_other(body):
    assert classify(body).intent is Intent.OTHER


@pytest.mark.parametrize("body", [
    "stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe",  # 47 CFR 64.1200(a)(10)
    "Opt Out", "OPT-OUT", "opt-out.", "Opt out!", "ｏｐｔ　ｏｕｔ",
])
def test_the_fccs_revocation_words_opt_out(body):
    keyword = classify(body)
    assert keyword.intent is Intent.OPT_OUT and keyword.language == "en-US"


def test_opt_out_with_a_space_or_hyphen_is_ours_to_confirm():
    # Twilio's list has OPTOUT only: it neither blocks nor answers "opt out" / "opt-out"
    assert classify("OPTOUT").carrier_handled
    assert not classify("opt out").carrier_handled
    assert not classify("Opt-Out").carrier_handled


@pytest.mark.parametrize("body", [
    "stop texting me", "Stop texting me!", "please stop", "Stop please", "STOP PLEASE",
    "stop, thanks", "Please stop texting me.", "stop calling me", "stop sending me texts",
    "remove me", "Remove me from your list", "remove me from this list.", "take me off your list",
    "don't text me", "Don’t text me", "dont text me", "do not contact me", "don't call me",
    "unsubscribe me", "Unsubscribe me please", "opt me out", "leave me alone", "no more texts",
    "please cancel", "cancel please", "remove", "stop all", "ARRET",
])
def test_plain_requests_to_stop_opt_out_and_we_confirm_them(body):
    keyword = classify(body)
    assert keyword.intent is Intent.OPT_OUT
    assert not keyword.carrier_handled  # Twilio only acts on the bare keyword


@pytest.mark.parametrize("body", [
    "退订短信", "不要再发了", "别再发了！", "停止发送", "拒收", "不要再打扰我", "别打扰我。",
    "不要再联系我", "请退订", "退订，谢谢", "请不要再发了", "ｔｄ", "取消订阅。",
])
def test_chinese_requests_to_stop_opt_out(body):
    keyword = classify(body)
    assert keyword.intent is Intent.OPT_OUT
    assert keyword.language == "zh-CN" and not keyword.carrier_handled


@pytest.mark.parametrize("body", ["?stop", "«STOP»", "STOP!!!", "(stop)", "Stop…", "¿Stop?"])
def test_punctuation_around_a_keyword_does_not_hide_it(body):
    keyword = classify(body)
    assert (keyword.intent, keyword.word) == (Intent.OPT_OUT, "stop")


def test_every_opt_out_word_opts_out_and_only_twilios_are_carrier_handled():
    for word, language in OPT_OUT.items():
        keyword = classify(word.upper())
        assert keyword.intent is Intent.OPT_OUT, word
        assert keyword.carrier_handled is (word in TWILIO_KEYWORDS), word
        assert keyword.language == language, word


@pytest.mark.parametrize("body,intent", [
    ("Cancel call please", Intent.CANCEL_CALLBACK),
    ("please cancel my call", Intent.CANCEL_CALLBACK),
    ("请取消回电", Intent.CANCEL_CALLBACK), ("help please", Intent.HELP),
])
def test_courtesy_does_not_hide_callback_or_help_requests(body, intent):
    assert classify(body).intent is intent


def test_other_messages_keep_their_text_and_a_language_hint():
    assert classify("  My  bill is wrong ").word == "my bill is wrong"
    assert classify("我的账单有问题").language == "zh-CN"
    assert classify("my bill").language is None
    assert language_of("退订") == "zh-CN" and language_of("") is None


def test_normalise_folds_width_case_and_spacing():
    assert normalise("ＨＥＬＰ！") == "help"
    assert normalise("  Cancel\u3000 CALL ") == "cancel call"
    assert normalise(None) == ""
    assert normalise("¿Stop?") == "stop" and normalise("退订。") == "退订"
    assert normalise("“Opt-out”") == "opt-out"  # inner punctuation stays
