"""When a callback may happen (chalicelib.callbacks.slots) and the request's id and due shard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.callbacks import model, slots

# Weekdays 09:00-17:00 in New York, Saturday mornings; closed on Thanksgiving and Christmas.
HOURS = {"timezone": "America/New_York", "weekly": {"mon-fri": ["09:00-17:00"],
                                                    "sat": ["10:00-12:00"]},
         "holidays": ["2026-11-26", "2026-12-25"]}
MONDAY_10_NY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Mon 23 Nov 2026, 10:00 EST


def test_asap_and_empty_mean_no_preferred_time():
    for value in (None, "", "asap", "ASAP", " now "):
        assert slots.parse_preferred(value, HOURS) is None


def test_iso_times_with_and_without_offset():
    assert slots.parse_preferred("2026-11-24T15:30:00Z", HOURS) == \
        datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    assert slots.parse_preferred("2026-11-24T10:30:00-05:00", HOURS) == \
        datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    # no offset: the queue's own wall clock
    assert slots.parse_preferred("2026-11-24T10:30", HOURS) == \
        datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    with pytest.raises(slots.SlotRefused) as refused:
        slots.parse_preferred("tomorrow at ten", HOURS)
    assert refused.value.code == "malformed"


def test_a_slot_inside_the_hours_is_kept():
    tuesday_11 = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert slots.check_preferred(tuesday_11, HOURS, MONDAY_10_NY, 14) == tuesday_11


@pytest.mark.parametrize(("preferred", "code"), [
    (datetime(2026, 11, 24, 3, 0, tzinfo=UTC), "closed"),      # Mon 22:00 in New York
    (datetime(2026, 11, 29, 16, 0, tzinfo=UTC), "closed"),     # a Sunday
    (datetime(2026, 11, 26, 16, 0, tzinfo=UTC), "closed"),     # Thanksgiving, a Thursday
    (datetime(2026, 12, 9, 16, 0, tzinfo=UTC), "too_far"),     # 16 days ahead
    (MONDAY_10_NY - timedelta(hours=1), "past"),
])
def test_refused_slots(preferred, code):
    with pytest.raises(slots.SlotRefused) as refused:
        slots.check_preferred(preferred, HOURS, MONDAY_10_NY, 14)
    assert refused.value.code == code


def test_a_time_within_minutes_of_now_means_asap():
    soon = MONDAY_10_NY + timedelta(minutes=2)
    assert slots.check_preferred(soon, HOURS, MONDAY_10_NY, 14) is None
    assert slots.check_preferred(MONDAY_10_NY - timedelta(minutes=2), HOURS, MONDAY_10_NY,
                                 14) is None


def test_a_queue_without_hours_is_always_open():
    late = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
    assert slots.check_preferred(late, {}, MONDAY_10_NY, 14) == late


def test_callback_ids_are_unguessable_and_recognisable():
    ids = {model.new_callback_id() for _ in range(200)}
    assert len(ids) == 200
    for callback_id in ids:
        assert callback_id.startswith("cb_") and len(callback_id) == 27
        assert model.looks_like_callback_id(callback_id)
    assert not model.looks_like_callback_id("widget.js")
    assert not model.looks_like_callback_id("cb_../../etc")


def test_due_shards_are_stable_and_spread():
    ids = [model.new_callback_id() for _ in range(400)]
    shards = [model.due_shard(callback_id) for callback_id in ids]
    assert shards == [model.due_shard(callback_id) for callback_id in ids]
    assert set(shards) == set(model.all_due_shards())
    assert len(model.all_due_shards()) == model.DUE_SHARDS == 8
