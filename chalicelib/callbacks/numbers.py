"""Which numbers we are willing to call back, as E.164.

A callback is a call *we* pay for, placed to a number a stranger typed into a web form. So the
number must be a real, complete number of a country the hotline serves, and of a kind a contact
center can reasonably dial: fixed line, mobile, VoIP or toll-free. Everything else is refused with
a code the API returns as is:

- ``invalid``: not a number in any numbering plan (or empty, or no digits at all);
- ``extension`` / ``extra_text``: more than a number was typed ("x123", "ext. 5", "#2", "call
  after 5", letters). ``phonenumbers`` reads such input by silently leaving part of it out (an
  extension we cannot dial, trailing words, vanity letters turned into digits); a request must
  never be stored for a number other than the one the person typed, so it is refused instead;
- ``short_code``: an emergency or service short code (911, 112, 999) or an SMS short code;
- ``premium_rate`` / ``shared_cost``: numbers that charge the caller, the classic callback-fraud
  target (UK 09xx, US 900, DE 0900, UK 0871);
- ``country_not_allowed``: outside the hotline's ``allowed_regions``;
- ``not_dialable``: valid but not a person's line: pagers, UAN, voicemail-only access numbers,
  UK 070 "personal numbers" (which forward anywhere, at a premium) and numbers of unknown type.

International numbers may be typed with ``+``, with ``00`` (the ITU-recommended international
prefix, used in most of the world, so a visitor from abroad types it even on a US form) or with
the default region's own international prefix (``011`` in the US and Canada, which
``phonenumbers`` knows per region). ``011`` is not read as international elsewhere: in the UK it
begins national numbers (Leeds, 0113).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

import phonenumbers
from phonenumbers import CountryCodeSource, PhoneNumberFormat, PhoneNumberType, shortnumberinfo

MAX_INPUT = 40  # characters: longer input is not a phone number, whatever it holds
# A number and nothing else: digits, a leading +, and the grouping people type (spaces,
# hyphens and dashes, dots, brackets, slashes). Checked after NFKC, so full-width digits count.
PLAIN_NUMBER = re.compile(r"\+?[0-9\s\-.()/\u2010-\u2015\u2212]+")

CALLABLE_TYPES = frozenset({
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.VOIP,
    PhoneNumberType.TOLL_FREE,
})


class NumberRefused(ValueError):
    """The number cannot be called back; ``code`` says why, ``message`` says it to a person."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def normalise_number(raw: str, default_region: str, allowed_regions: Collection[str]) -> str:
    """``raw`` as typed (national or international) → E.164, or ``NumberRefused``.

    ``default_region`` reads national numbers (``(415) 555-2671`` with ``US``); a number in
    ``+`` form keeps its own country. ``allowed_regions`` are ISO codes (``US``, ``GB``); an
    empty collection allows every country.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text or len(text) > MAX_INPUT:
        raise NumberRefused("invalid", "Enter a phone number.")
    if not PLAIN_NUMBER.fullmatch(text):
        raise _more_than_a_number(text, default_region)
    number = _parse(text, default_region)
    if not phonenumbers.is_valid_number(number):
        dialled_nationally = number.country_code_source == CountryCodeSource.FROM_DEFAULT_COUNTRY
        if dialled_nationally and shortnumberinfo.is_possible_short_number(number) and \
                len(str(number.national_number)) <= 6:
            raise NumberRefused("short_code", "Short codes and emergency numbers cannot be "
                                              "called back; enter a full phone number.")
        raise NumberRefused("invalid", "This phone number is not complete or not valid.")
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.PREMIUM_RATE:
        raise NumberRefused("premium_rate", "Premium-rate numbers cannot be called back.")
    if kind == PhoneNumberType.SHARED_COST:
        raise NumberRefused("shared_cost", "Shared-cost numbers cannot be called back.")
    region = phonenumbers.region_code_for_number(number)
    allowed = {code.upper() for code in allowed_regions}
    if allowed and region not in allowed:
        raise NumberRefused("country_not_allowed",
                            f"We can only call numbers in {', '.join(sorted(allowed))}.")
    if kind not in CALLABLE_TYPES:
        raise NumberRefused("not_dialable", "We cannot call this kind of number back; enter "
                                            "a landline or mobile number.")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _parse(text: str, default_region: str) -> phonenumbers.PhoneNumber:
    """``text`` (digits and grouping only) as a number. ``phonenumbers`` reads the region's own
    international prefix (``011`` for US); ``00`` also counts as ``+`` when the region reads it
    otherwise and that reading is no valid number (a visitor from abroad on a US form).
    """
    try:
        number = phonenumbers.parse(text, default_region, keep_raw_input=True)
    except phonenumbers.NumberParseException as exc:
        number, error = None, exc
    digits = re.sub(r"\D", "", text)
    if (number is None or not phonenumbers.is_valid_number(number)) and \
            digits.startswith("00") and not text.startswith("+"):
        try:
            return phonenumbers.parse("+" + digits[2:], None, keep_raw_input=True)
        except phonenumbers.NumberParseException:
            pass
    if number is None:
        raise NumberRefused("invalid", "This is not a phone number.") from error
    return number


def _more_than_a_number(text: str, default_region: str) -> NumberRefused:
    """Why input with more than digits and grouping is refused rather than read in part."""
    if not re.search(r"[0-9]", text):
        return NumberRefused("invalid", "This is not a phone number.")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and number.extension:
        return NumberRefused("extension", "We cannot dial extensions: enter a direct number, "
                                          "without the extension.")
    return NumberRefused("extra_text", "Enter only the phone number (digits, spaces and + - . "
                                       "( ) are fine); we would have had to leave out part of "
                                       "what you typed.")


def number_region(e164: str) -> str | None:
    """ISO region of an E.164 number (``+442079460000`` → ``GB``), None if it has none."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    return region if region and region != "001" else None


def callable_caller(caller: str | None, default_region: str = "US") -> str | None:
    """The caller as E.164 if it is a number we could call back, else None (anonymous,
    ``client:alice``, ``+266696687``, premium rate, short codes...)."""
    if not caller or not caller.startswith("+"):
        return None
    try:
        return normalise_number(caller, default_region, ())
    except NumberRefused:
        return None
