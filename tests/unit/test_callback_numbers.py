"""Which numbers a web visitor may ask us to call back (chalicelib.callbacks.numbers)."""

from __future__ import annotations

import pytest

from chalicelib.callbacks.numbers import NumberRefused, normalise_number, number_region

EVERYWHERE = ("US", "CA", "GB", "CN", "DE")


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("(415) 555-2671", "US", "+14155552671"),          # US national format, fixed or mobile
    ("+1 212 555 0123", "US", "+12125550123"),
    ("1-800-555-0199", "US", "+18005550199"),          # toll-free: fine to call
    ("+1 604 555 0123", "US", "+16045550123"),          # Canada in the same plan
    ("020 7946 0000", "GB", "+442079460000"),          # London fixed line
    ("07400 123456", "GB", "+447400123456"),           # UK mobile
    ("+86 138 1234 5678", "US", "+8613812345678"),     # China mobile, written internationally
    ("010 1234 5678", "CN", "+861012345678"),          # Beijing fixed line, national
    ("+49 30 123456", "GB", "+4930123456"),            # Berlin fixed line
    ("0151 12345678", "DE", "+4915112345678"),         # German mobile, national
])
def test_callable_numbers_become_e164(raw, region, expected):
    assert normalise_number(raw, region, EVERYWHERE) == expected


@pytest.mark.parametrize(("raw", "region", "code"), [
    ("+1 900 555 0199", "US", "premium_rate"),          # US 900
    ("09065 123456", "GB", "premium_rate"),            # UK 09xx
    ("+49 900 1234567", "DE", "premium_rate"),          # DE 0900
    ("0871 234 5678", "GB", "premium_rate"),           # UK 0871 is charged to the caller
    ("+49 180 1234567", "DE", "shared_cost"),           # DE 0180
    ("911", "US", "short_code"),
    ("112", "DE", "short_code"),
    ("999", "GB", "short_code"),
    ("12345", "US", "short_code"),                     # an SMS short code
    ("070 1234 5678", "GB", "not_dialable"),           # UK personal number (forwards anywhere)
    ("0300 123 4567", "GB", "not_dialable"),           # UK UAN
    ("not a number", "US", "invalid"),
    ("", "US", "invalid"),
    ("+1 415 555", "US", "invalid"),                    # too short
    ("+" + "1" * 60, "US", "invalid"),                 # absurdly long input
])
def test_refused_numbers_say_why(raw, region, code):
    with pytest.raises(NumberRefused) as refused:
        normalise_number(raw, region, EVERYWHERE)
    assert refused.value.code == code
    assert refused.value.message


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("00 44 20 7946 0000", "US", "+442079460000"),     # 00: the prefix most of the world uses
    ("0044 20 7946 0000", "CA", "+442079460000"),
    ("00 86 138 1234 5678", "US", "+8613812345678"),
    ("011 44 20 7946 0000", "US", "+442079460000"),    # 011: North America's own prefix
    ("011 86 138 1234 5678", "CA", "+8613812345678"),
    ("00 44 20 7946 0000", "GB", "+442079460000"),     # the UK's own prefix is 00
    ("00 1 212 555 0123", "DE", "+12125550123"),
    ("0113 496 0000", "GB", "+441134960000"),          # Leeds: 011 is national in the UK
    ("＋１ ４１５ ５５５ ２６７１", "US", "+14155552671"),  # typed on a full-width keyboard
    ("415–555–2671", "US", "+14155552671"),            # en dashes
    ("415.555.2671", "US", "+14155552671"),
    ("+44 (0) 20 7946 0000", "US", "+442079460000"),   # the UK's bracketed trunk zero
])
def test_international_prefixes_as_people_type_them(raw, region, expected):
    assert normalise_number(raw, region, EVERYWHERE) == expected


def test_011_is_not_international_where_the_region_does_not_use_it():
    with pytest.raises(NumberRefused) as refused:
        normalise_number("011 44 20 7946 0000", "GB", EVERYWHERE)
    assert refused.value.code == "invalid"


@pytest.mark.parametrize(("raw", "code"), [
    ("415 555 2671 x123", "extension"),
    ("415 555 2671 ext. 5", "extension"),
    ("(415) 555-2671 #2", "extension"),
    ("+1 415 555 2671, 2672", "extension"),
    ("415 555 2671;ext=12", "extension"),
    ("415-555-2671 call after 5", "extra_text"),
    ("415 555 2671 abc", "extra_text"),
    ("1-800-FLOWERS", "extra_text"),                  # vanity letters: not what was typed
    ("my number is 415 555 2671", "extra_text"),
    ("+1 415 555 2671 x", "extra_text"),
    ("tel:+1-415-555-2671", "extra_text"),
])
def test_a_number_readable_only_by_leaving_out_part_of_the_input_is_refused(raw, code):
    with pytest.raises(NumberRefused) as refused:
        normalise_number(raw, "US", EVERYWHERE)
    assert refused.value.code == code
    assert refused.value.message


def test_countries_outside_the_hotlines_list_are_refused():
    with pytest.raises(NumberRefused) as refused:
        normalise_number("+8613812345678", "US", ["US", "CA"])
    assert refused.value.code == "country_not_allowed"
    assert "CA, US" in refused.value.message
    # lower-case codes in the hotline's list work the same; an empty list allows any country
    assert normalise_number("+8613812345678", "US", ["cn"]) == "+8613812345678"
    assert normalise_number("+4930123456", "US", []) == "+4930123456"


def test_premium_rate_is_refused_as_such_even_abroad():
    with pytest.raises(NumberRefused) as refused:
        normalise_number("+44 9065 123456", "US", ["US"])
    assert refused.value.code == "premium_rate"


def test_the_default_region_reads_national_numbers_only():
    # a UK mobile typed nationally means nothing to a US hotline; in + form it is fine anywhere
    assert normalise_number("07400 123456", "GB", EVERYWHERE) == "+447400123456"
    with pytest.raises(NumberRefused):
        normalise_number("07400 123456", "US", EVERYWHERE)
    assert normalise_number("+44 7400 123456", "US", EVERYWHERE) == "+447400123456"


@pytest.mark.parametrize(("number", "region"), [
    ("+14155552671", "US"), ("+16045550123", "CA"), ("+442079460000", "GB"),
    ("+8613812345678", "CN"), ("+4930123456", "DE"), ("+800 1234 5678", None),
    ("garbage", None),
])
def test_number_region(number, region):
    assert number_region(number) == region
