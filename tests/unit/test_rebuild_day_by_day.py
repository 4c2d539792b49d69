"""The rebuild reads one UTC day at a time and writes each local day once no later UTC day can
hold a fact of it, with the same sums as adding every fact up at once (``facts.add_up``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.facts import DAY, Fact, add_up
from chalicelib.reports import rebuild as rebuild_module

FIRST, LAST = date(2026, 10, 30), date(2026, 11, 3)  # over the night New York falls back


def made() -> list[Fact]:
    """Facts every 5 hours from before the range to after it, in three zones (a local day
    starts up to 14 hours either side of UTC's), one of them stored twice."""
    start = datetime(2026, 10, 28, 0, 0, tzinfo=UTC)
    out = []
    for n in range(40):
        zone = ("Pacific/Kiritimati", "America/New_York", "Pacific/Pago_Pago")[n % 3]
        out.append(Fact(f"f{n}", "x", start + timedelta(hours=5 * n), zone,
                        {"queue": f"q{n % 2}"}, {"offered": 1, "wait_seconds": n}))
    return out + out[:1]


@pytest.fixture
def stored(monkeypatch):
    every = made()
    events: list[tuple[str, object]] = []

    def facts_of_days(first: date, last: date):
        assert first == last  # one UTC day at a time
        events.append(("read", first))
        return [f for f in every if f.at.astimezone(UTC).date() == first]

    written: dict[str, dict] = {}

    def replace_day(key: str, slots_values) -> None:
        assert key not in written  # each partition once
        events.append(("write", date.fromisoformat(key.rsplit("#", 1)[1])))
        written[key] = {slot: dict(values) for slot, values in slots_values.items()}

    monkeypatch.setattr(rebuild_module.facts, "facts_of_days", facts_of_days)
    monkeypatch.setattr(rebuild_module.rollups, "replace_day", replace_day)
    return every, events, written


def test_the_same_sums_as_adding_every_fact_up_at_once(stored):
    every, _, written = stored
    done = rebuild_module.rebuild(FIRST, LAST)
    expected: dict[str, dict] = {}
    for (key, slot), values in add_up(every).items():
        if FIRST <= date.fromisoformat(key.rsplit("#", 1)[1]) <= LAST:
            expected.setdefault(key, {})[slot] = values
    assert written == expected
    assert done == {"facts": len([f for f in every if FIRST - timedelta(days=1) <= f.at.date()
                                  <= LAST + timedelta(days=1)]),
                    "partitions": len(expected)}
    assert {slots[DAY]["offered"] for slots in written.values()} >= {1, 2}

def test_a_local_day_is_written_before_the_day_after_next_is_read(stored):
    _, events, _ = stored
    rebuild_module.rebuild(FIRST, LAST)
    reads = [when for what, when in events if what == "read"]
    assert reads == [FIRST - timedelta(days=1) + timedelta(days=n) for n in range(7)]
    for local in {when for what, when in events if what == "write"}:
        last_write = max(i for i, (what, when) in enumerate(events)
                         if what == "write" and when == local)
        later_read = [i for i, (what, when) in enumerate(events)
                      if what == "read" and when > local + timedelta(days=1)]
        assert not later_read or last_write < later_read[0]
