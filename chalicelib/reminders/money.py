"""Amounts and dates as the customer reads and hears them, in their language and locale.

Money is an ``int`` of the currency's minor units (cents for USD, fen for CNY, yen for JPY):
never a float. The number of minor units per major unit (the exponent) and every written form
come from Babel's CLDR data (``babel/global.dat``, ``currency_fractions``; ISO 4217 agrees for
every currency we bill in). Only the locales :func:`locale_of` answers are shipped in the Lambda
package (``infra/lambda_package.py``, ``KEEP_BABEL_LOCALES``): add one there when adding one
here.

Written (texts): CLDR's currency format, ``$42.17``, ``¥42.17``, ``US$42.17`` (zh-CN), and its
dates, ``Nov 30, 2026``, ``2026年11月30日``.

Spoken (``<Say>``): what Amazon Polly reads as a person would say it. Digits stay digits: Polly
reads numbers well in both voices, and the text stays checkable. English names the units,
"42 dollars and 17 cents" (a bare "$42.17" is read right too, but "CN¥" or "US$" are not).
Chinese says yuan in 元/角/分 as people do, "42元1角7分" (四十二元一角七分; a zero jiao
before fen is said 零: "42元零7分"); any other currency is the decimal amount followed by its
CLDR name, "42.17美元", which Polly reads 四十二点一七美元. No thousands separators in
Chinese (Zhiyu would read the comma); English keeps them ("1,234,567 dollars").

Jinja filters (``FILTERS``, registered in every template environment): ``money``,
``spoken_money``, ``long_date``, ``currency_name``::

    {{ amount_due | money(currency, language) }}        $42.17
    {{ amount_due | spoken_money(currency, language) }} 42 dollars and 17 cents
    {{ due_date | long_date(language) }}                November 30, 2026 (a date or ISO text)
    {{ currency | currency_name(language) }}            US dollars
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from babel.dates import format_date as _babel_date
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_name,
    get_currency_precision,
    is_currency,
)

DEFAULT_LOCALE = "en_US"
# Language tag (as accounts and prompts carry it) -> Babel locale; then by primary language.
LOCALES = {"en-US": "en_US", "en-GB": "en_GB", "zh-CN": "zh_Hans_CN"}
PRIMARY = {"en": "en_US", "zh": "zh_Hans_CN"}
# A billing amount above this many minor units is a data error (10 trillion dollars), and stays
# well inside DynamoDB's 38 digits and Decimal's default 28.
MAX_MINOR = 10**15 - 1
_PLAIN_AMOUNT = re.compile(r"\+?[0-9]{1,16}(?:\.[0-9]{1,16})?")  # ASCII only: "٣" is a \d too

# English unit names (one, many) for the major and minor unit; any other currency is spoken as
# its decimal amount and CLDR's plural name ("42.17 euros" would be "42 euros and 17 cents").
_ENGLISH_UNITS = {
    "USD": ("dollar", "dollars", "cent", "cents"),
    "CAD": ("dollar", "dollars", "cent", "cents"),
    "AUD": ("dollar", "dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
}


def locale_of(language: str | None) -> str:
    """Babel locale for a language tag: ``"en-US"`` -> ``"en_US"``, ``"zh-CN"`` ->
    ``"zh_Hans_CN"``, ``"zh"`` -> ``"zh_Hans_CN"``; anything else (``None``, ``"fr-FR"``) ->
    ``"en_US"``. Case and ``_`` for ``-`` are forgiven."""
    tag = (language or "").replace("_", "-").strip()
    parts = tag.split("-")
    tag = "-".join([parts[0].lower(), *(p.upper() for p in parts[1:])])
    return LOCALES.get(tag) or PRIMARY.get(parts[0].lower(), DEFAULT_LOCALE)


def minor_units(currency: str) -> int:
    """Decimal places of ``currency`` (ISO 4217 code): USD 2, CNY 2, JPY 0, KWD 3.
    ValueError for a code Babel does not know."""
    return get_currency_precision(_currency(currency))


def to_minor(amount: str | Decimal | int, currency: str) -> int:
    """An amount in major units as minor units: ``"42.17"`` USD -> 4217, ``"500"`` JPY -> 500,
    ``"42.170"`` -> 4217 (trailing zeros are no precision). Text is plain digits with an
    optional fraction (no sign, grouping, exponent or spaces inside). ValueError for more
    (non-zero) decimals than the currency has (never rounded), negatives, NaN, infinity, an
    amount above ``MAX_MINOR``, a float or a bool (money is never a float)."""
    exponent = minor_units(currency)
    if isinstance(amount, bool) or not isinstance(amount, str | Decimal | int):
        raise ValueError(f"amount: {amount!r} is not text, a Decimal or an int")
    if isinstance(amount, str):
        if not _PLAIN_AMOUNT.fullmatch(amount.strip()):
            raise ValueError(f"amount: {amount!r} is not an amount like 42.17")
        value = Decimal(amount.strip())
    else:
        value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"amount: {amount!r} is not a number")
    if value < 0:
        raise ValueError(f"amount: {amount!r} is negative")
    with localcontext() as context:
        context.prec = 60  # exact for any amount the regex admits
        scaled = value.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"amount: {amount!r} has more than {exponent} decimals for "
                             f"{currency}")
        minor = int(scaled)
    if minor > MAX_MINOR:
        raise ValueError(f"amount: {amount!r} is too large")
    return minor


def format_amount(minor: int, currency: str, language: str | None) -> str:
    """The amount written for a text: en-US ``$42.17``, ``CN¥42.17``; zh-CN ``¥42.17``,
    ``US$42.17``; JPY ``¥500``. ValueError for an unknown currency or a non-int amount."""
    return format_currency(_major(minor, currency), currency.upper(), locale=locale_of(language))


def spoken_amount(minor: int, currency: str, language: str | None) -> str:
    """The amount for ``<Say>`` (see the module docstring): en-US ``42 dollars and 17 cents``,
    ``1 dollar``, ``17 cents``, ``500 Japanese yen``; zh-CN ``42元1角7分``, ``42元零7分``,
    ``42.17美元``, ``42.1美元``, ``1美元``, ``500日元``. Zero is said: ``0 dollars``, ``0元``."""
    locale = locale_of(language)
    major = _major(minor, currency)
    code = currency.upper()
    exponent = minor_units(code)
    whole, fraction = divmod(minor, 10**exponent)
    if locale.startswith("zh"):
        if code == "CNY":
            return _spoken_yuan(whole, fraction)
        digits = f"{major:f}".rstrip("0").rstrip(".") if fraction else str(whole)
        return f"{digits}{get_currency_name(code, locale=locale)}"
    if code in _ENGLISH_UNITS and exponent == 2:
        one, many, one_minor, many_minor = _ENGLISH_UNITS[code]
        said = [f"{format_decimal(whole, locale=locale)} {one if whole == 1 else many}"]
        if fraction:
            said.append(f"{fraction} {one_minor if fraction == 1 else many_minor}")
        return " and ".join(said) if whole else said[-1]
    name = get_currency_name(code, count=major, locale=locale)
    number = format_decimal(major, locale=locale, decimal_quantization=False)
    return f"{number} {name}"


def format_date(day: date, language: str | None, spoken: bool = False) -> str:
    """A calendar date: written en-US ``Nov 30, 2026``, spoken ``November 30, 2026``; zh-CN
    ``2026年11月30日`` both ways."""
    return _babel_date(day, "long" if spoken else "medium", locale=locale_of(language))


def _currency(code: str) -> str:
    if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z]{3}", code) \
            or not is_currency(code.upper()):
        raise ValueError(f"currency: {code!r} is not an ISO 4217 currency code")
    return code.upper()


def _major(minor: int, currency: str) -> Decimal:
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise ValueError(f"amount: {minor!r} is not an int of minor units")
    return Decimal(minor).scaleb(-minor_units(currency))


def _spoken_yuan(yuan: int, fen_total: int) -> str:
    jiao, fen = divmod(fen_total, 10)
    said = f"{yuan}元" if yuan or not fen_total else ""
    if jiao:
        said += f"{jiao}角"
    if fen:
        said += f"{'零' if said and not jiao else ''}{fen}分"
    return said


# Jinja filters. Templates pass what a look-up or an account holds: an int of minor units, a
# date or its ISO text.
def _whole(minor: Any) -> Any:
    """A template's amount as an int when it is one: a flow variable read back from storage
    may be a Decimal, a look-up may give digits. Anything else is left for the formatter to
    refuse."""
    if isinstance(minor, Decimal) and minor == minor.to_integral_value():
        return int(minor)
    if isinstance(minor, str) and re.fullmatch(r"-?[0-9]{1,15}", minor):
        return int(minor)
    return minor


def _money_filter(minor: int, currency: str, language: str | None = None) -> str:
    return format_amount(_whole(minor), currency, language)


def _spoken_money_filter(minor: int, currency: str, language: str | None = None) -> str:
    return spoken_amount(_whole(minor), currency, language)


def _long_date_filter(day: date | str, language: str | None = None) -> str:
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return format_date(day, language, spoken=True)


def _currency_name_filter(currency: str, language: str | None = None) -> str:
    """The currency's plural name ("US dollars", "人民币"): "whole US dollars"."""
    return get_currency_name(_currency(currency), count=2, locale=locale_of(language))


FILTERS: dict[str, Any] = {
    "money": _money_filter,
    "currency_name": _currency_name_filter,
    "spoken_money": _spoken_money_filter,
    "long_date": _long_date_filter,
}
