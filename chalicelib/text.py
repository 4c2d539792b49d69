"""Text as people and carriers really send it, made comparable in one place per kind of input.

Phones and carriers do not send what a keyword table expects: a Chinese keyboard types
full-width letters ("ＯＮ", "Ｂｒｅａｋ！"), phones add a capital and a full stop ("Stop."), iOS
turns ' into ’, speech recognition writes "Billing." or "7992 7398 713" or "七九九二". Every
parser that compares what someone sent with a list of words (SMS keywords, agents' SMS state
commands, spoken menu choices) uses ``fold``; what is kept as said uses ``tidy``; a number said
aloud goes through ``spoken_digits``.

- ``tidy(text)``: Unicode NFKC (full-width letters and digits become ASCII, the ideographic space
  a space), every run of whitespace one space, surrounding punctuation dropped (ASCII ``.!?,;:``,
  CJK ``。！？，、``, quotes, brackets: any Unicode punctuation), case kept.
- ``fold(text)``: ``tidy``, case-folded, typographic apostrophes as ``'``: the form words are
  compared in. Punctuation *inside* the text stays ("opt-out", "don't", "cancel call").
- ``spoken_digits(text)``: "seven nine nine two", "7992-7398-713", "double seven", "oh" for zero,
  "七九九二", "幺" for one, "两" for two → the digits, or None when anything in it is not a digit.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})


def _is_edge(char: str) -> bool:
    """Whitespace or punctuation (Unicode category P*: 。 ！ ？ ， 、 . ! ? , ; : " ' ( ) ...)."""
    return char.isspace() or unicodedata.category(char).startswith("P")


def tidy(text: str | None) -> str:
    """``text`` as said: NFKC-folded, whitespace collapsed, surrounding punctuation dropped."""
    text = " ".join(unicodedata.normalize("NFKC", text or "").split())
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


def fold(text: str | None) -> str:
    """``text`` as compared with commands and keywords: ``tidy``, case-folded, one apostrophe."""
    return tidy(text).translate(_APOSTROPHES).casefold()


# ---- digits said aloud -----------------------------------------------------------------------

# How people say single digits. "oh"/"o" for zero is how English speakers read account and phone
# numbers; "nought" is British. 幺 (yāo) is how Mandarin speakers say 1 in numbers (一 sounds
# like 七 over the phone), 两 the colloquial 2, 〇 the ideographic zero.
DIGIT_WORDS: dict[str, str] = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "兩": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}
REPEATS: dict[str, int] = {"double": 2, "triple": 3, "treble": 3}  # "double seven" is 77

_CJK_DIGIT = re.compile("([" + "".join(w for w in DIGIT_WORDS if not w.isascii()) + "])")
_SEPARATOR = re.compile(r"[^\w\s]")  # grouping: "7992-7398-713", "7992.7398.713", "7,992"


def spoken_digits(text: str | None) -> str | None:
    """The digits in a number as speech recognition wrote it, or None if it is not only digits.

    Groups and their separators do not matter ("7992 7398 713", "7992-7398-713"); digit words
    and numerals may mix ("seven 9 nine"); "double"/"triple" repeat the next digit ("double 7"
    is 77; before a group, its first digit: "double 79" is 779). Anything else ("seventy",
    "my number is ...", "I don't know") gives None: the caller is asked again rather than a
    guess being stored.
    """
    words = _CJK_DIGIT.sub(r" \1 ", _SEPARATOR.sub(" ", fold(text))).split()
    digits: list[str] = []
    repeat = 1
    for word in words:
        if word in REPEATS:
            if repeat != 1:
                return None
            repeat = REPEATS[word]
            continue
        if re.fullmatch(r"[0-9]+", word):
            group = word
        elif word in DIGIT_WORDS:
            group = DIGIT_WORDS[word]
        else:
            return None
        digits.append(group[0] * repeat + group[1:])
        repeat = 1
    if repeat != 1 or not digits:
        return None
    return "".join(digits)
