"""Every system prompt (``chalicelib/templates``) renders as clean text in every language, whichever
of its optional parts are on: no sentences run together ("press 1.To leave"), which is what
``trim_blocks`` does to a newline right after a block tag."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from jinja2 import meta

from chalicelib.prompts import TEMPLATES_DIR, VOICES, _environment, render_prompt

# A typical value for every variable a system prompt reads; the optional ones are switched off
# (falsy) in turn below.
TYPICAL = {
    "state": "available", "attempts": 3, "hotline": "+14155550100", "company": "Switchboard",
    "customer_name": "Ada Lovelace", "caller_name": "Ada Lovelace", "hotline_name": "Acme",
    "hours": "Mon-Fri 9:00-17:00", "queue": "Support", "queue_position": 2, "attempt": 2,
    "from_agent": "Alice", "vip": True, "waited_minutes": 3, "callback": True, "voicemail": True,
    "count": 2, "customer": "Ada Lovelace (+14155550111)", "body": "Where is my refund?",
    "media": 2, "cancel_word": "CANCEL CALL", "cancel_word_zh": "取消回电",
    "status_url": "https://api.example.test/callbacks/cb_abc",
    "at": datetime(2026, 11, 24, 16, 30, tzinfo=UTC).astimezone(ZoneInfo("America/New_York")),
    "minutes": 5, "reason": "voicemail", "campaign": "Acme Insurance",
    "callback_number": "+14155550100",
    "holder": "Ada Lovelace", "amount_due": 4217, "currency": "USD",
    "due_date": datetime(2026, 11, 30).date(), "overdue": True, "contact_name": "Sam Lee",
    "amount": "42.17", "confirmation": "ch_3NfA9x", "card_last4": "1111",
}
OPTIONAL = ("customer_name", "caller_name", "hotline_name", "hours", "queue_position", "vip",
            "callback", "voicemail", "media", "at", "minutes", "campaign", "callback_number",
            "holder", "overdue", "contact_name", "card_last4")
REASONS = ("voicemail", "after_hours", "abandoned")

RUN_TOGETHER = re.compile(r"[a-z0-9][.!?;:][A-Z]")  # "press 1.To leave"
SPACE_BEFORE = re.compile(r"\s[.,;!?。，！？]")       # "Ada ." after an empty slot


def system_prompts() -> list[tuple[str, str]]:
    return sorted((path.parent.name, path.stem) for path in TEMPLATES_DIR.glob("*/*.j2"))


def contexts(language: str, name: str):
    """Every combination of the optional parts the template reads, with typical values."""
    env = _environment()
    source = env.loader.get_source(env, f"{language}/{name}.j2")[0]
    used = meta.find_undeclared_variables(env.parse(source))
    switches = [key for key in OPTIONAL if key in used]
    reasons = REASONS if "reason" in used else (None,)
    for off in itertools.product((False, True), repeat=len(switches)):
        for reason in reasons:
            context = {key: TYPICAL[key] for key in used if key in TYPICAL}
            context.update({key: None for key, gone in zip(switches, off, strict=True) if gone})
            if reason:
                context["reason"] = reason
            yield context


def test_every_language_has_every_system_prompt():
    names = {language: {n for lang, n in system_prompts() if lang == language}
             for language in VOICES}
    assert names["zh-CN"] == names["en-US"]


@pytest.mark.parametrize(("language", "name"), system_prompts())
def test_system_prompt_renders_without_run_together_sentences(language, name):
    for context in contexts(language, name):
        text, _, _ = render_prompt(name, language, **context)
        assert not RUN_TOGETHER.search(text), (text, context)
        assert not SPACE_BEFORE.search(text), (text, context)


def test_the_hold_offer_says_both_choices_as_two_sentences():
    text, _, _ = render_prompt("queue_offer", "en-US", callback=True, voicemail=True)
    assert text == ("To keep your place and have us call you back, press 1. "
                    "To leave a voicemail, press 2.")
    text, _, _ = render_prompt("queue_offer", "zh-CN", callback=True, voicemail=True)
    assert text == "如需保留排队位置并由我们回电，请按1。如需留言，请按2。"
