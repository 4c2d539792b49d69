"""What a customer's text asks for: opt out, opt back in, help, cancel a callback, or none of those.

Every message is compared in ``chalicelib.text.fold`` form: case, spacing, full-width letters
typed on Chinese keyboards ("ＳＴＯＰ") and surrounding punctuation ("Stop.", "退订。", "¿stop?")
do not matter. Two readings, in order:

1. **The whole message is a keyword** from the tables below ("STOP", "opt-out", "退订").
2. **An opt-out (or help, or cancel-callback) said politely**: "stop please", "please remove
   me", "请退订", "退订谢谢" are read without the courtesy words. Never for opt-in: consent to be
   contacted must be given plainly, so "yes please" stays an ordinary message.

``OPT_OUT`` is the one list of ways to say "stop contacting me"; its groups and their sources:

* Twilio's default opt-out keywords on long codes (Twilio support: "Twilio support for opt-out
  keywords (SMS STOP filtering)"; Messaging docs: "Advanced Opt-Out"): STOP, STOPALL,
  UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT. Twilio blocks the number and answers these
  itself (and still passes the message on), hence ``carrier_handled``.
* The FCC's consent-revocation words (FCC 24-24, Report and Order of 15 Feb 2024; 47 CFR
  64.1200(a)(10), in force 11 April 2025): a reply of "stop", "quit", "end", "revoke", "opt out",
  "cancel" or "unsubscribe" must be honoured. "opt out" (a space) and "opt-out" (a hyphen) are
  not among Twilio's keywords, so Twilio neither blocks nor answers them: we do.
* Other carriers' required lists (AWS End User Messaging SMS, "Required opt-out keywords", US
  and Canada): REMOVE, ARRET (French Canada), STOP ALL (Telnyx).
* Natural-language revocations: the same FCC order says revocation by any reasonable means
  counts, judged by the totality of the circumstances, so plain requests such as "stop texting
  me", "remove me from your list", "don't text me", "leave me alone", "no more texts" opt out.
* Chinese: 退订 and TD, the reply the MIIT rules on commercial texts (通信短信息服务管理规定,
  2015) made customary ("回复TD退订"), 取消订阅, and plain requests (不要再发了, 别再发了,
  停止发送, 拒收, 不要再打扰我, ...).

Opt-in and help are Twilio's defaults (START, YES, UNSTOP; HELP, INFO) plus their Chinese
equivalents. Bare CANCEL is an opt-out keyword at Twilio (and for the FCC), so it is one here
too (and an opted-out number gets no calls either, so it ends open callbacks as well).
Cancelling *only* a callback takes a phrase nobody reserves: ``CANCEL_CALLBACK_WORD``
("CANCEL CALL"), which the callback confirmation text tells people to send; "取消" alone, which
no list reserves, means the callback too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.text import fold, tidy


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

# The one list of ways to say "stop contacting me" -> the language they are in (sources: the
# module docstring). Twilio's own keywords are in it; every other entry is ours to answer.
OPT_OUT: dict[str, str | None] = {
    # Twilio's defaults
    **dict.fromkeys((w for w, i in TWILIO_KEYWORDS.items() if i is Intent.OPT_OUT), "en-US"),
    # FCC 24-24 (47 CFR 64.1200(a)(10)): the words of its list that Twilio does not match
    **dict.fromkeys(("opt out", "opt-out"), "en-US"),
    # other carriers' required lists (AWS End User Messaging SMS, Telnyx)
    **dict.fromkeys(("remove", "stop all"), "en-US"),
    **dict.fromkeys(("arret", "arrêt"), None),
    # natural-language revocations (FCC 24-24: any reasonable means, by the circumstances)
    **dict.fromkeys((
        "stop texting", "stop texting me", "stop messaging", "stop messaging me",
        "stop sending", "stop sending me texts", "stop sending me messages", "stop sending texts",
        "stop sending messages", "stop texts", "stop messages", "stop the texts",
        "stop the messages", "stop all texts", "stop all messages", "stop calling",
        "stop calling me", "stop contacting me", "stop it", "stop now",
        "remove me", "remove me from your list", "remove me from the list",
        "remove me from this list", "remove my number", "take me off",
        "take me off your list", "take me off the list",
        "unsubscribe me", "opt me out", "i want to opt out", "leave me alone",
        "no more texts", "no more messages", "no more calls",
        "don't text me", "do not text me", "don't text", "do not text", "don't message me",
        "do not message me", "don't contact me", "do not contact me", "don't call me",
        "do not call me", "do not call",
    ), "en-US"),
    # Chinese: the customary keywords, then plain requests
    **dict.fromkeys((
        "退订", "td", "退订短信", "取消订阅", "取消短信", "拒收", "拒绝接收", "停止发送", "停发",
        "不要再发了", "别再发了", "不要再发", "别再发", "不要发了", "别发了",
        "不要再给我发短信", "别再给我发短信", "不要给我发短信",
        "不要再打扰我", "别再打扰我", "不要打扰我", "别打扰我",
        "不要再联系我", "别再联系我", "不要联系我",
    ), "zh-CN"),
}

# Ours besides the opt-outs, which Twilio passes through untouched: Chinese opt-in and help, and
# the callback phrases.
OWN_KEYWORDS: dict[str, tuple[Intent, str | None]] = {
    **{word: (Intent.OPT_OUT, language) for word, language in OPT_OUT.items()
       if word not in TWILIO_KEYWORDS},
    **dict.fromkeys(("订阅", "开始", "重新订阅"), (Intent.OPT_IN, "zh-CN")),
    **dict.fromkeys(("帮助",), (Intent.HELP, "zh-CN")),
    **dict.fromkeys(("cancel call", "cancel callback", "cancel my call", "cancel call back"),
                    (Intent.CANCEL_CALLBACK, "en-US")),
    # "取消" alone is not reserved by anyone: a reply to a callback confirmation means the callback
    **dict.fromkeys(("取消回电", "取消回拨", "取消回呼", "取消"),
                    (Intent.CANCEL_CALLBACK, "zh-CN")),
}

# word without apostrophes ("dont text me" is "don't text me") -> (intent, language, Twilio's)
_KEYWORDS: dict[str, tuple[Intent, str | None, bool]] = {
    **{word.replace("'", ""): (intent, language, False)
       for word, (intent, language) in OWN_KEYWORDS.items()},
    **{word: (intent, "en-US", True) for word, intent in TWILIO_KEYWORDS.items()},
}
# Courtesy around a request ("stop please", "please remove me", "请退订", "退订，谢谢").
_COURTESY_HEAD = re.compile(r"^(?:(?:please|pls|plz|kindly)(?![\w'])|请)\W*")
_COURTESY_TAIL = re.compile(
    r"(?:\W*(?<![\w'])(?:please|pls|plz|thanks|thank you|thx)|\W*谢谢[你您]?)$")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Keyword:
    intent: Intent
    word: str  # the normalised message ("stop", "退订"; the whole text for OTHER)
    language: str | None  # the language the word is in (None: cannot tell)
    carrier_handled: bool  # Twilio itself acts on it and answers it (long codes)


def normalise(body: str | None) -> str:
    """The message as compared with keywords (``chalicelib.text.fold``): NFKC-folded, spaces
    collapsed, surrounding punctuation dropped, case-folded."""
    return fold(body)


def language_of(text: str | None) -> str | None:
    """``zh-CN`` when the text contains Chinese characters, else None (no guess)."""
    return "zh-CN" if text and _HAN.search(text) else None


def _without_courtesy(word: str) -> str:
    """A normalised message without the pleases and thanks around it ("stop please" -> "stop")."""
    while True:
        plain = tidy(_COURTESY_TAIL.sub("", _COURTESY_HEAD.sub("", word)))
        if plain == word:
            return word
        word = plain


def classify(body: str | None) -> Keyword:
    word = normalise(body)
    found = _KEYWORDS.get(word.replace("'", ""))
    if found is not None:
        intent, language, carrier_handled = found
        return Keyword(intent, word, language, carrier_handled)
    plain = _without_courtesy(word)
    polite = _KEYWORDS.get(plain.replace("'", "")) if plain and plain != word else None
    if polite is not None and polite[0] is not Intent.OPT_IN:
        # Twilio matches the bare keyword only: it did not act on "stop please", so we answer
        return Keyword(polite[0], plain, polite[1], carrier_handled=False)
    return Keyword(Intent.OTHER, word, language_of(word), carrier_handled=False)
