"""Ticket arithmetic of the line's priority bands (``routing.tickets``): places and lengths
from ``issued``/``floor``/``gone`` match a line simulated entry by entry."""

import random

from chalicelib.routing.tickets import (
    Band,
    band_day,
    band_priority,
    compacted,
    contiguous_floor,
    line_length,
    needs_compaction,
    position,
)


def test_band_keys_sort_like_the_line_and_read_back():
    assert band_day(10) < band_day(0)  # higher priority first
    assert band_day(0) == "line#999" and band_day(999) == "line#000"
    assert band_priority(band_day(42)) == 42
    assert band_day(-3) == band_day(0) and band_day(5000) == band_day(999)


def test_a_band_counts_what_was_issued_less_what_left():
    band = Band(priority=0, issued=10, floor=3, gone=frozenset({5, 7, 2}))  # 2: stale
    assert band.in_line() == 10 - 3 - 2
    assert band.ahead_of(8) == 7 - 3 - 2  # 4 and 6 are ahead of 8
    assert band.ahead_of(4) == 0
    assert band.ahead_of(2) == 0  # a ticket under the floor never counts negative


def test_position_adds_every_higher_band_and_ignores_lower_ones():
    vip = Band(priority=10, issued=5, floor=1, gone=frozenset({3}))  # 3 VIPs waiting
    normal = Band(priority=0, issued=20, floor=10, gone=frozenset({12}))
    assert position([vip, normal], 0, 14) == 1 + 3 + 2  # 11 and 13 ahead in its band
    assert position([vip, normal], 10, 4) == 1 + 1  # ticket 2 ahead; normals don't count
    assert position([normal], 10, 1) == 1  # its band not yet stored
    assert line_length([vip, normal]) == 3 + 9


def test_the_floor_moves_over_recorded_departures_only_when_contiguous():
    band = Band(priority=0, issued=9, floor=2, gone=frozenset({3, 4, 6}))
    assert contiguous_floor(band) == 4
    assert compacted(band) == (4, frozenset({3, 4}))
    assert compacted(Band(priority=0, issued=9, floor=2, gone=frozenset({6}))) is None


def test_the_head_ticket_heals_departures_never_recorded():
    band = Band(priority=0, issued=9, floor=2, gone=frozenset({6}))  # 3, 4, 5 expired unseen
    assert compacted(band, head_ticket=7) == (6, frozenset({6}))
    assert compacted(band, head_ticket=3) is None  # the head is the next ticket: nothing moves
    # a departure recorded after the floor passed it is only dropped
    assert compacted(Band(priority=0, issued=9, floor=5, gone=frozenset({4, 7}))) == \
        (5, frozenset({4}))
    assert not needs_compaction(band)
    assert needs_compaction(Band(priority=0, issued=200, gone=frozenset(range(100, 170))))


def test_places_match_a_simulated_line_through_joins_departures_and_compaction():
    rng = random.Random(14)
    bands = {0: Band(priority=0), 5: Band(priority=5)}
    line: list[tuple[int, int]] = []  # (priority, ticket), in line order
    for _ in range(600):
        if line and rng.random() < 0.45:
            who = line.pop(0 if rng.random() < 0.5 else rng.randrange(len(line)))
            band = bands[who[0]]
            bands[who[0]] = Band(who[0], band.issued, band.floor, band.gone | {who[1]})
        else:
            priority = rng.choice((0, 0, 0, 5))
            band = bands[priority]
            bands[priority] = Band(priority, band.issued + 1, band.floor, band.gone)
            line.append((priority, band.issued + 1))
            line.sort(key=lambda e: (-e[0], e[1]))
        if rng.random() < 0.2:  # compaction from the head, as the dispatcher would
            for priority, band in list(bands.items()):
                heads = [t for p, t in line if p == priority]
                change = compacted(band, min(heads) if heads else None)
                if change is not None:
                    bands[priority] = Band(priority, band.issued, change[0],
                                           band.gone - change[1])
        for place, (priority, ticket) in enumerate(line, start=1):
            assert position(list(bands.values()), priority, ticket) == place
        assert line_length(list(bands.values())) == len(line)
