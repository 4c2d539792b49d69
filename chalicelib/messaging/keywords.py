"""What a customer's text asks for: opt out, opt back in, help, cancel a callback, or none of those.

Matching mirrors Twilio's own keyword handling on long codes: the *whole* message is the keyword
("STOP" opts out, "STOP PLEASE" and "please cancel" do not), case does not matter and surrounding
whitespace is ignored. On top of that, full-width forms typed on Chinese keyboards are folded
(NFKC: "ＳＴＯＰ" is "STOP"), runs of spaces count as one, and a trailing full stop or exclamation
mark is dropped ("Stop." opts out; erring towards honouring an opt-out is the safe side).

Twilio's default keywords (Twilio support: "Twilio support for opt-out keywords (SMS STOP
filtering)"; Messaging docs: "Advanced Opt-Out"):

* opt-out: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT
* opt-in: START, YES, UNSTOP
* help: HELP, INFO

Twilio acts on those itself (blocks or unblocks the number, sends its standard reply) and still
passes the message to our webhook. The Chinese words below are ours: Twilio neither blocks nor
answers them unless a Messaging Service's Advanced Opt-Out is configured with them, which is why
``carrier_handled`` says which is which.

Bare CANCEL is an opt-out keyword at Twilio, so it is one here too (and an opted-out number gets
no calls either, so it ends open callbacks as well). Cancelling *only* a callback takes a phrase
Twilio does not reserve: ``CANCEL_CALLBACK_WORD`` ("CANCEL CALL"), which the callback
confirmation text tells people to send.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"
    HELP = "help"
    CANCEL_CALLBACK = "cancel-callback"
    OTHER = "other"


CANCEL_CALLBACK_WORD = "CANCEL CALL"  # what the callback confirmation text asks people to reply
CANCEL_CALLBACK_WORD_ZH = "取消回电"

# Twilio's defaults on long codes: it acts on these and replies to them itself.
TWILIO_KEYWORDS: dict[str, Intent] = {
    **dict.fromkeys(
        ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"),
        Intent.OPT_OUT),
    **dict.fromkeys(("start", "yes", "unstop"), Intent.OPT_IN),
    **dict.fromkeys(("help", "info"), Intent.HELP),
}

# Ours, which Twilio passes through untouched: Chinese equivalents, and the callback phrases.
OWN_KEYWORDS: dict[str, tuple[Intent, str]] = {
    **dict.fromkeys(("退订", "取消订阅", "退订短信", "td"), (Intent.OPT_OUT, "zh-CN")),
    **dict.fromkeys(("订阅", "开始", "重新订阅"), (Intent.OPT_IN, "zh-CN")),
    **dict.fromkeys(("帮助",), (Intent.HELP, "zh-CN")),
    **dict.fromkeys(("cancel call", "cancel callback", "cancel my call", "cancel call back"),
                    (Intent.CANCEL_CALLBACK, "en-US")),
    # "取消" alone is not reserved by anyone: a reply to a callback confirmation means the callback
    **dict.fromkeys(("取消回电", "取消回拨", "取消回呼", "取消"),
                    (Intent.CANCEL_CALLBACK, "zh-CN")),
}

_TRAILING = ".!。！"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Keyword:
    intent: Intent
    word: str  # the normalised message ("stop", "退订"; the whole text for OTHER)
    language: str | None  # the language the word is in (None: cannot tell)
    carrier_handled: bool  # Twilio itself acts on it and answers it (long codes)


def normalise(body: str | None) -> str:
    """The message as compared with keywords: NFKC-folded, trimmed, spaces collapsed, trailing
    full stops and exclamation marks dropped, case-folded."""
    text = unicodedata.normalize("NFKC", body or "")
    text = " ".join(text.split()).rstrip(_TRAILING).strip()
    return text.casefold()


def language_of(text: str | None) -> str | None:
    """``zh-CN`` when the text contains Chinese characters, else None (no guess)."""
    return "zh-CN" if text and _HAN.search(text) else None


def classify(body: str | None) -> Keyword:
    word = normalise(body)
    intent = TWILIO_KEYWORDS.get(word)
    if intent is not None:
        return Keyword(intent, word, "en-US", carrier_handled=True)
    own = OWN_KEYWORDS.get(word)
    if own is not None:
        return Keyword(own[0], word, own[1], carrier_handled=False)
    return Keyword(Intent.OTHER, word, language_of(word), carrier_handled=False)
