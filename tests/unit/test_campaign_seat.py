"""The seat's pure rules (``campaigns/seat.py``) and the open line's TwiML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.campaigns import seat as rules
from chalicelib.campaigns.seat import (
    CONNECTING,
    DIALING,
    PREVIEWING,
    READY,
    TALKING,
    WRAP_UP,
    Seat,
)
from chalicelib.telephony.twiml_routing import render_into_room, render_open_line

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def seat(agent_id="ada", state=READY, **fields) -> Seat:
    return Seat("c1", agent_id, state, **fields)


def test_a_wrap_up_is_ready_once_its_time_has_passed_and_not_before():
    wrapping = seat(state=WRAP_UP, until=NOW + timedelta(seconds=10))
    assert rules.effective_state(wrapping, NOW) == WRAP_UP
    assert rules.effective_state(wrapping, NOW + timedelta(seconds=9)) == WRAP_UP
    assert rules.effective_state(wrapping, NOW + timedelta(seconds=10)) == READY
    assert rules.effective_state(seat(state=TALKING), NOW) == TALKING


def test_ready_seats_are_only_the_free_ones_longest_ready_first():
    seats = [
        seat("b", READY, since=NOW - timedelta(seconds=5)),
        seat("a", READY, since=NOW - timedelta(seconds=60)),
        seat("w", WRAP_UP, until=NOW - timedelta(seconds=30)),  # ready 30 s ago
        seat("x", WRAP_UP, until=NOW + timedelta(seconds=1)),  # still wrapping up
        seat("c", CONNECTING, since=NOW - timedelta(minutes=5)),
        seat("t", TALKING, since=NOW - timedelta(minutes=5)),
        seat("p", PREVIEWING, since=NOW - timedelta(minutes=5)),
        seat("d", DIALING, since=NOW - timedelta(minutes=5)),
    ]
    assert [s.agent_id for s in rules.ready_seats(seats, NOW)] == ["a", "w", "b"]
    assert rules.ready_seats([], NOW) == []


def test_offers_and_dials_lapse_at_their_until():
    offer = seat(state=PREVIEWING, until=NOW)
    assert rules.lapsed(offer, NOW) and not rules.lapsed(offer, NOW - timedelta(seconds=1))
    assert rules.lapsed(seat(state=DIALING, until=NOW - timedelta(seconds=1)), NOW)
    assert not rules.lapsed(seat(state=WRAP_UP, until=NOW - timedelta(hours=1)), NOW)
    assert rules.dial_until(NOW, 30) == NOW + timedelta(seconds=30) + rules.DIAL_MARGIN


def test_an_agent_sees_only_the_last_four_digits():
    assert rules.last_digits("+14155550123") == "0123"
    assert rules.last_digits(None) is None


@pytest.mark.parametrize("label", ["sale", "call_back", "x", "a" * 40, "no2"])
def test_dispositions_are_short_labels(label):
    assert rules.check_disposition(label) == label


@pytest.mark.parametrize("label", ["", "Sale", "1sale", "a" * 41, "sale!", "sale\n", None, 3])
def test_other_dispositions_are_refused(label):
    with pytest.raises(ValueError, match="short label"):
        rules.check_disposition(label)


def test_the_room_names_the_campaign_and_agent_and_nothing_personal():
    assert rules.room("cp1", "ada") == "seat-cp1-ada"


def test_the_agents_open_line_is_their_room_which_ends_when_they_leave():
    document = ET.fromstring(render_open_line("seat-c1-ada", hold_music_url="https://m/x.mp3"))
    conference = document.find("Dial/Conference")
    assert conference.text == "seat-c1-ada"
    assert conference.get("startConferenceOnEnter") == "true"
    assert conference.get("endConferenceOnExit") == "true"
    assert (conference.get("waitUrl"), conference.get("waitMethod")) == ("https://m/x.mp3",
                                                                         "GET")


def test_a_customer_joins_the_room_and_leaves_it_standing():
    conference = ET.fromstring(render_into_room("seat-c1-ada")).find("Dial/Conference")
    assert conference.text == "seat-c1-ada"
    assert conference.get("startConferenceOnEnter") == "true"
    assert conference.get("endConferenceOnExit") == "false"


def test_the_root_builds_one_seats_service_on_its_connector_and_clock():
    from chalicelib.wiring import Root

    edge = object()
    parts = Root(clock=lambda: NOW, connector=edge)
    assert parts.seats is parts.seats
    assert parts.seats.connector is edge and parts.seats.clock() == NOW
