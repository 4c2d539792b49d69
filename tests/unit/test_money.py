"""Amounts and dates in the customer's language (chalicelib.reminders.money): minor units from
CLDR, amounts parsed without rounding, written for texts and spoken for Polly."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from jinja2 import Environment

from chalicelib.reminders.money import (
    FILTERS,
    MAX_MINOR,
    format_amount,
    format_date,
    locale_of,
    minor_units,
    spoken_amount,
    to_minor,
)


@pytest.mark.parametrize(("language", "locale"), [
    ("en-US", "en_US"), ("zh-CN", "zh_Hans_CN"), ("en-GB", "en_GB"), ("zh", "zh_Hans_CN"),
    ("en", "en_US"), ("zh_cn", "zh_Hans_CN"), ("EN-us", "en_US"), ("zh-TW", "zh_Hans_CN"),
    ("fr-FR", "en_US"), ("", "en_US"), (None, "en_US"),
])
def test_locale_of_maps_language_tags_to_the_locales_we_ship(language, locale):
    assert locale_of(language) == locale


@pytest.mark.parametrize(("currency", "exponent"),
                         [("USD", 2), ("CNY", 2), ("JPY", 0), ("EUR", 2), ("KWD", 3), ("usd", 2)])
def test_minor_units_come_from_the_currency(currency, exponent):
    assert minor_units(currency) == exponent


@pytest.mark.parametrize("currency", ["ZZZ", "US", "", "US D", None, "$"])
def test_an_unknown_currency_is_refused(currency):
    with pytest.raises(ValueError, match="currency"):
        minor_units(currency)
    with pytest.raises(ValueError, match="currency"):
        to_minor("1", currency)


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("42.17", "USD", 4217), ("42.1", "USD", 4210), ("42", "USD", 4200), (" 42.17 ", "USD", 4217),
    ("42.170", "USD", 4217),  # trailing zeros are not precision
    ("0", "USD", 0), ("0.01", "USD", 1), ("+5", "USD", 500),
    ("500", "JPY", 500), ("500.0", "JPY", 500), ("1.234", "KWD", 1234),
    (Decimal("42.17"), "USD", 4217), (Decimal("-0"), "USD", 0), (7, "USD", 700),
    ("9999999999999.99", "USD", MAX_MINOR),
    ("123456789.01", "CNY", 12345678901),
])
def test_to_minor_is_exact(amount, currency, minor):
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize(("amount", "currency", "why"), [
    ("42.175", "USD", "more than 2 decimals"),  # never rounded
    ("0.001", "USD", "more than 2 decimals"),
    ("500.5", "JPY", "more than 0 decimals"),
    (Decimal("1.005"), "USD", "more than 2 decimals"),
    ("-1", "USD", "not an amount"), (Decimal("-0.01"), "USD", "negative"), (-1, "USD", "negative"),
    ("NaN", "USD", "not an amount"), (Decimal("NaN"), "USD", "not a number"),
    (Decimal("Infinity"), "USD", "not a number"),
    ("1e3", "USD", "not an amount"), ("1,234.56", "USD", "not an amount"), ("", "USD", "not"),
    ("$5", "USD", "not an amount"), ("4 2", "USD", "not an amount"), (".5", "USD", "not an"),
    (42.17, "USD", "not text"), (True, "USD", "not text"), (None, "USD", "not text"),
    ("10000000000000.00", "USD", "too large"), (Decimal("1e40"), "USD", "too large"),
])
def test_to_minor_refuses_what_it_cannot_take_exactly(amount, currency, why):
    with pytest.raises(ValueError, match=why):
        to_minor(amount, currency)


@pytest.mark.parametrize(("minor", "currency", "language", "written"), [
    (4217, "USD", "en-US", "$42.17"), (4217, "USD", "zh-CN", "US$42.17"),
    (4217, "CNY", "zh-CN", "¥42.17"), (4217, "CNY", "en-US", "CN¥42.17"),
    (500, "JPY", "en-US", "¥500"), (500, "JPY", "zh-CN", "JP¥500"),
    (0, "USD", "en-US", "$0.00"), (1, "USD", "en-US", "$0.01"),
    (4217, "EUR", "en-US", "€42.17"), (4217, "USD", "en-GB", "US$42.17"),
    (MAX_MINOR, "USD", "en-US", "$9,999,999,999,999.99"),
    (123456789012, "CNY", "zh-CN", "¥1,234,567,890.12"),
    (4217, "USD", "fr-FR", "$42.17"),  # a language we do not speak: English
])
def test_format_amount_writes_the_locale_s_currency_format(minor, currency, language, written):
    assert format_amount(minor, currency, language) == written


@pytest.mark.parametrize(("minor", "currency", "language", "spoken"), [
    (4217, "USD", "en-US", "42 dollars and 17 cents"),
    (100, "USD", "en-US", "1 dollar"), (101, "USD", "en-US", "1 dollar and 1 cent"),
    (17, "USD", "en-US", "17 cents"), (0, "USD", "en-US", "0 dollars"),
    (123456789012, "USD", "en-US", "1,234,567,890 dollars and 12 cents"),
    (4217, "EUR", "en-US", "42 euros and 17 cents"),
    (250, "GBP", "en-GB", "2 pounds and 50 pence"),
    (500, "JPY", "en-US", "500 Japanese yen"), (4210, "CNY", "en-US", "42.1 Chinese yuan"),
    (4217, "CNY", "zh-CN", "42元1角7分"), (4207, "CNY", "zh-CN", "42元零7分"),
    (4210, "CNY", "zh-CN", "42元1角"), (4200, "CNY", "zh-CN", "42元"),
    (7, "CNY", "zh-CN", "7分"), (70, "CNY", "zh-CN", "7角"), (0, "CNY", "zh-CN", "0元"),
    (123456789012, "CNY", "zh-CN", "1234567890元1角2分"),  # no separators: Zhiyu reads them
    (4217, "USD", "zh-CN", "42.17美元"), (4210, "USD", "zh-CN", "42.1美元"),
    (100, "USD", "zh-CN", "1美元"), (500, "JPY", "zh-CN", "500日元"),
])
def test_spoken_amount_is_what_polly_reads_as_a_person_says_it(minor, currency, language,
                                                                spoken):
    assert spoken_amount(minor, currency, language) == spoken


@pytest.mark.parametrize("minor", [42.17, Decimal("4217"), "4217", None, True])
def test_amounts_to_format_are_ints_of_minor_units(minor):
    with pytest.raises(ValueError, match="minor units"):
        format_amount(minor, "USD", "en-US")
    with pytest.raises(ValueError, match="minor units"):
        spoken_amount(minor, "USD", "en-US")


@pytest.mark.parametrize(("language", "spoken", "text"), [
    ("en-US", False, "Nov 30, 2026"), ("en-US", True, "November 30, 2026"),
    ("zh-CN", False, "2026年11月30日"), ("zh-CN", True, "2026年11月30日"),
    ("en-GB", True, "30 November 2026"), ("de-DE", False, "Nov 30, 2026"),
])
def test_format_date(language, spoken, text):
    assert format_date(date(2026, 11, 30), language, spoken=spoken) == text


def test_the_filters_format_in_templates():
    env = Environment()
    env.filters.update(FILTERS)
    template = env.from_string(
        "{{ a | money(c, l) }} / {{ a | spoken_money(c, l) }} / {{ d | long_date(l) }}")
    assert template.render(a=4217, c="USD", l="en-US", d=date(2026, 11, 30)) == \
        "$42.17 / 42 dollars and 17 cents / November 30, 2026"
    # look-ups return ISO text; a datetime is a date
    assert template.render(a=4217, c="CNY", l="zh-CN", d="2026-11-30T00:00:00Z") == \
        "¥42.17 / 42元1角7分 / 2026年11月30日"
    assert template.render(a=500, c="JPY", l="en-US", d=datetime(2026, 11, 30, 9)) == \
        "¥500 / 500 Japanese yen / November 30, 2026"


def test_every_template_environment_has_the_filters():
    from chalicelib.campaigns import text_templates
    from chalicelib.ivr import templates as flow_templates
    from chalicelib.prompts import _environment

    for env in (_environment(), text_templates._environment(), flow_templates._shared):
        assert {"money", "spoken_money", "long_date"} <= set(env.filters)


def test_digits_of_other_scripts_are_not_amounts():
    import pytest as _pytest

    from chalicelib.reminders.money import to_minor as _to_minor

    for text in ("\u0663", "4\u0662.17", "\uff14\uff12"):  # Arabic-Indic, full-width
        with _pytest.raises(ValueError):
            _to_minor(text, "USD")


@pytest.mark.parametrize("minor", [4217, Decimal("4217"), "4217"])
def test_the_template_filters_take_a_whole_number_read_back_from_storage(minor):
    from chalicelib.reminders.money import FILTERS

    assert FILTERS["money"](minor, "USD", "en-US") == "$42.17"
    assert FILTERS["spoken_money"](minor, "USD", "en-US") == "42 dollars and 17 cents"


@pytest.mark.parametrize("minor", [42.17, Decimal("42.17"), "42.17", None])
def test_the_template_filters_refuse_what_is_not_a_whole_number(minor):
    from chalicelib.reminders.money import FILTERS

    with pytest.raises(ValueError, match="minor units"):
        FILTERS["money"](minor, "USD", "en-US")
