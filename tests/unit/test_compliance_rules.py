"""The compliance rules, decided without storage or a clock (``compliance/rules.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.compliance.rules import (
    ABANDONED_RECENTLY,
    ALL_CHANNELS,
    COLLECTIONS,
    DEBT_CALL_CAP,
    DO_NOT_CALL,
    FREQUENCY_CAP,
    INFORMATIONAL,
    MARKETING,
    NO_CALLER_ID,
    NO_CONSENT,
    OPTED_OUT,
    OUTSIDE_WINDOW,
    RESTRICTED_DATE,
    SMS,
    VOICE,
    Attempt,
    Cap,
    Contact,
    Policy,
    RecipientFacts,
    decide,
)

SF = "+14155550123"  # America/Los_Angeles: UTC-8 in November
HOTLINE = "+14155550100"
NOON_SF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
TEN_PM_SF = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
EIGHT_AM_SF = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def attempt(at=NOON_SF, channel=VOICE, purpose=INFORMATIONAL, **kwargs) -> Attempt:
    return Attempt(at=at, channel=channel, purpose=purpose,
                   caller_id=kwargs.pop("caller_id", HOTLINE), **kwargs)


def facts(**kwargs) -> RecipientFacts:
    return RecipientFacts(number=kwargs.pop("number", SF), **kwargs)


def test_a_call_at_noon_in_the_recipients_zone_is_allowed():
    assert decide(facts(), attempt()).allowed


def test_at_ten_at_night_the_call_waits_for_eight_next_morning_in_their_zone():
    decision = decide(facts(), attempt(at=TEN_PM_SF))
    assert not decision.allowed
    assert decision.reasons == (OUTSIDE_WINDOW,)
    assert decision.next_allowed_at == EIGHT_AM_SF
    assert decision.next_allowed_at.astimezone().utcoffset() is not None


def test_the_window_must_hold_in_every_zone_the_number_may_be_in():
    # +1 709 is Newfoundland (UTC-3:30); a number with no usable zone uses the fallback
    newfoundland = "+17095550123"
    at = datetime(2026, 11, 24, 0, 45, tzinfo=UTC)  # 21:15 in St John's, 19:45 in Halifax
    assert not decide(facts(number=newfoundland), attempt(at=at)).allowed
    unknown = decide(facts(number="anonymous"), attempt(at=TEN_PM_SF, fallback_tz="Asia/Shanghai"))
    assert unknown.allowed  # 14:00 in Shanghai


def test_texts_keep_the_same_window():
    decision = decide(facts(), attempt(at=TEN_PM_SF, channel=SMS))
    assert decision.reasons == (OUTSIDE_WINDOW,) and decision.next_allowed_at == EIGHT_AM_SF


def test_an_opt_out_or_a_do_not_call_entry_refuses_for_good():
    decision = decide(facts(opted_out=frozenset({ALL_CHANNELS})), attempt(at=TEN_PM_SF))
    assert decision.reasons == (OPTED_OUT, OUTSIDE_WINDOW)
    assert decision.next_allowed_at is None
    sms_only = facts(do_not_call=frozenset({SMS}))
    assert decide(sms_only, attempt(channel=SMS)).reasons == (DO_NOT_CALL,)
    assert decide(sms_only, attempt(channel=VOICE)).allowed


def test_marketing_needs_consent_on_that_channel():
    assert decide(facts(), attempt(purpose=MARKETING)).reasons == (NO_CONSENT,)
    consented = facts(consents=frozenset({(MARKETING, VOICE)}))
    assert decide(consented, attempt(purpose=MARKETING)).allowed
    assert decide(consented, attempt(purpose=MARKETING, channel=SMS)).reasons == (NO_CONSENT,)


def test_caller_id_is_always_set():
    decision = decide(facts(), attempt(caller_id=None))
    assert decision.reasons == (NO_CALLER_ID,) and decision.next_allowed_at is None


def calls_at(*hours_ago: float, outcome=None, **kwargs) -> tuple[Contact, ...]:
    return tuple(Contact(at=NOON_SF - timedelta(hours=h), channel=VOICE, outcome=outcome,
                         **kwargs) for h in hours_ago)


def test_four_calls_in_two_days_is_the_cap_and_the_oldest_sets_the_next_chance():
    three = facts(contacts=calls_at(1, 5, 30))
    assert decide(three, attempt()).allowed
    four = facts(contacts=calls_at(1, 5, 30, 40))  # a voicemail left counts as a call
    decision = decide(four, attempt())
    assert decision.reasons == (FREQUENCY_CAP,)
    assert decision.next_allowed_at == NOON_SF - timedelta(hours=40) + timedelta(days=2)


def test_six_calls_in_fourteen_days():
    spread = facts(contacts=calls_at(60, 100, 150, 200, 250, 300))
    decision = decide(spread, attempt())
    assert decision.reasons == (FREQUENCY_CAP,)
    # the oldest ages out at midnight in SF: the next chance is 08:00 there
    assert NOON_SF - timedelta(hours=300) + timedelta(days=14) == datetime(2026, 11, 25, 8, 0,
                                                                            tzinfo=UTC)
    assert decision.next_allowed_at == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def test_texts_are_not_counted_against_the_call_caps_by_default():
    texts = tuple(Contact(at=NOON_SF - timedelta(hours=h), channel=SMS) for h in range(1, 9))
    assert decide(facts(contacts=texts), attempt()).allowed
    capped = Policy(caps=(Cap(SMS, 2, 1),))
    assert decide(facts(contacts=texts), attempt(channel=SMS), capped).reasons == (FREQUENCY_CAP,)


def test_seven_collection_calls_about_one_debt_in_seven_days():
    about = calls_at(10, 20, 30, 40, 50, 60, 70, purpose=COLLECTIONS, subject="acct-1")
    policy = Policy(caps=())
    debt = attempt(purpose=COLLECTIONS, subject="acct-1")
    decision = decide(facts(contacts=about), debt, policy)
    assert decision.reasons == (DEBT_CALL_CAP,)
    assert decision.next_allowed_at == NOON_SF - timedelta(hours=70) + timedelta(days=7)
    other_debt = attempt(purpose=COLLECTIONS, subject="acct-2")
    assert decide(facts(contacts=about), other_debt, policy).allowed


def test_no_call_within_72_hours_of_an_abandoned_one_unless_an_agent_is_reserved():
    abandoned = facts(contacts=calls_at(10, outcome="abandoned"))
    decision = decide(abandoned, attempt())
    assert decision.reasons == (ABANDONED_RECENTLY,)
    # the hold ends at 02:00 in SF: the next chance is 08:00 that morning
    assert NOON_SF - timedelta(hours=10) + timedelta(hours=72) == datetime(2026, 11, 26, 10, 0,
                                                                            tzinfo=UTC)
    assert decision.next_allowed_at == datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    assert decide(abandoned, attempt(agent_reserved=True)).allowed
    assert decide(abandoned, attempt(channel=SMS)).allowed


def test_the_next_chance_satisfies_every_time_bound_rule_at_once():
    # capped until 22:00 today in SF, which is outside the window: 08:00 is the answer
    four = facts(contacts=calls_at(1, 2, 3, 38))
    decision = decide(four, attempt())
    assert NOON_SF - timedelta(hours=38) + timedelta(days=2) == TEN_PM_SF
    assert decision.next_allowed_at == EIGHT_AM_SF
    again = decide(four, attempt(at=decision.next_allowed_at))
    assert again.allowed


def test_restricted_dates_and_stricter_country_windows():
    policy = Policy(restricted_dates=frozenset({"2026-11-26"}),  # Thanksgiving
                    country_windows={"GB": {"mon-sat": ["09:00-20:00"]}})
    thanksgiving_noon = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
    decision = decide(facts(), attempt(at=thanksgiving_noon), policy)
    assert decision.reasons == (RESTRICTED_DATE,)
    assert decision.next_allowed_at == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    london = facts(number="+442079460000", country="GB")
    sunday_noon = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    decision = decide(london, attempt(at=sunday_noon), policy)
    assert decision.reasons == (OUTSIDE_WINDOW,)
    assert decision.next_allowed_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_unknown_channels_purposes_and_naive_times_are_errors():
    with pytest.raises(ValueError):
        decide(facts(), attempt(channel="fax"))
    with pytest.raises(ValueError):
        decide(facts(), attempt(purpose="sales"))
    with pytest.raises(ValueError):
        decide(facts(), attempt(at=datetime(2026, 11, 23, 12, 0)))


def test_what_the_recipient_asked_for_has_no_cap_and_a_text_answers_at_once():
    from chalicelib.compliance.rules import REQUESTED

    busy = facts(contacts=calls_at(1, 2, 3, 4, 5, 6, 7, outcome="abandoned"))
    assert decide(busy, attempt(purpose=REQUESTED)).allowed
    assert decide(facts(), attempt(at=TEN_PM_SF, channel=SMS, purpose=REQUESTED)).allowed
    night_call = decide(facts(), attempt(at=TEN_PM_SF, purpose=REQUESTED))
    assert night_call.reasons == (OUTSIDE_WINDOW,) and night_call.next_allowed_at == EIGHT_AM_SF
    stopped = facts(opted_out=frozenset({ALL_CHANNELS}))
    assert decide(stopped, attempt(channel=SMS, purpose=REQUESTED)).reasons == (OPTED_OUT,)
