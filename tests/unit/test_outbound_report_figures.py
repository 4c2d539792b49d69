"""The pure parts of the outbound reports: a campaign's UTC hours grouped into local days, its
shares and means, the opt-outs' figures, and an opt-out's fact (its id and scopes)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chalicelib.consent import SMS, VOICE, opt_out_fact
from chalicelib.reports.campaign_figures import by_local_day, campaign_figures
from chalicelib.reports.opt_outs import opt_out_figures


def hour(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_hours_fall_on_the_local_day_they_start_in():
    hours = {hour(2026, 11, 23, 7): {"dials": 2}, hour(2026, 11, 23, 8): {"dials": 3},
             hour(2026, 11, 24, 7, 0): {"dials": 5}}
    days = by_local_day(hours, "America/Los_Angeles")  # UTC−8: 07:00 UTC is 23:00 before
    assert days == {date(2026, 11, 22): {"dials": 2}, date(2026, 11, 23): {"dials": 8}}
    assert by_local_day(hours, "UTC") == {date(2026, 11, 23): {"dials": 5},
                                          date(2026, 11, 24): {"dials": 5}}


def test_a_half_hour_zone_puts_the_hour_across_midnight_on_its_first_day():
    days = by_local_day({hour(2026, 11, 23, 18): {"texts": 1}}, "Asia/Kolkata")  # 23:30 IST
    assert days == {date(2026, 11, 23): {"texts": 1}}


def test_a_dst_night_keeps_both_passes_of_the_repeated_hour_on_one_day():
    # New York, 2026-11-01: 01:00-02:00 happens twice (05:00 and 06:00 UTC)
    days = by_local_day({hour(2026, 11, 1, 5): {"dials": 1}, hour(2026, 11, 1, 6): {"dials": 1}},
                        "America/New_York")
    assert days == {date(2026, 11, 1): {"dials": 2}}


def test_an_unknown_zone_is_refused():
    with pytest.raises(ValueError):
        by_local_day({}, "Mars/Olympus")


def test_shares_and_means():
    assert campaign_figures({}) == {"dials": 0, "live_answers": 0, "abandoned": 0,
                                    "abandon_rate": None, "machine_answers": 0, "texts": 0,
                                    "average_talk_seconds": None}
    figures = campaign_figures({"dials": 9, "live_answers": 3, "abandoned": 1,
                                "talk_seconds": 100, "talks": 3})
    assert figures["abandon_rate"] == 0.3333 and figures["average_talk_seconds"] == 33.3
    assert opt_out_figures({"opt_outs": 2, "opt_ins": 5}) == {"opt_outs": 2, "opt_ins": 5,
                                                              "net": -3}


def test_an_opt_outs_fact_is_named_by_its_message_or_a_hash_never_the_number():
    at = hour(2026, 11, 23, 15)
    stop = opt_out_fact("+16285550101", SMS, at, message_sid="SM1", hotline="+14155550100")
    assert stop.check().fact_id == "opt_out:SM1" and stop.values == {"opt_outs": 1}
    assert stop.scopes == {"channel": "sms", "hotline": "+14155550100"} and stop.zone == "UTC"
    start = opt_out_fact("+16285550101", SMS, at, opted_out=False, message_sid="SM2")
    assert start.kind == "opt_in" and start.values == {"opt_ins": 1}
    carrier = opt_out_fact("+16285550101", VOICE, at)
    assert carrier.scopes == {"channel": "voice"} and "6285550101" not in carrier.fact_id
    assert carrier.fact_id == opt_out_fact("+16285550101", VOICE, at).fact_id
    assert carrier.fact_id != opt_out_fact("+16285550102", VOICE, at).fact_id
