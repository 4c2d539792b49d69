"""Places in line without counting the line: ticket arithmetic over priority bands.

Every entry in a queue's line holds a ticket of its priority band, handed out in join order
(``issued`` counts them). A band remembers which tickets have left: all up to ``floor``, and
those above it in ``gone``. The callers in a band are then ``issued - floor - |gone|``, and the
callers ahead of ticket t in its own band ``t - 1 - floor - |{g in gone: floor < g < t}|``, so a
place in line costs one read of a few small band items whatever the line's length.

Back-dated entries inherit the ticket of the place they take, so ticket order follows the line's
key order within a band; where the two disagree (two joins racing by a few milliseconds, or a
back-dated join into a band with a fresh ticket) a place is off by one until one of them leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BAND_PREFIX = "line#"
COMPACT_AT = 64  # a reader that sees more departed numbers than this moves the floor up


def band_day(priority: int) -> str:
    """The band item's range key in ``queue_stats``: ``line#<999-priority>``, so the bands sort
    like the line (highest priority first)."""
    return f"{BAND_PREFIX}{999 - max(0, min(999, priority)):03d}"


def band_priority(day: str) -> int:
    """The priority of a band item's range key (``band_day``'s inverse)."""
    return 999 - int(day[len(BAND_PREFIX):])


@dataclass(frozen=True)
class Band:
    """One priority band of a queue's line as stored: tickets handed out (``issued``), every
    ticket up to ``floor`` gone, and the departed tickets above it (``gone``)."""

    priority: int
    issued: int = 0
    floor: int = 0
    gone: frozenset[int] = field(default_factory=frozenset)

    def departed_above_floor(self, below: int | None = None) -> int:
        """How many departed tickets lie above the floor (and below ``below``, if given)."""
        top = self.issued + 1 if below is None else below
        return sum(1 for g in self.gone if self.floor < g < top)

    def in_line(self) -> int:
        """Entries of this band still in line."""
        return max(0, self.issued - self.floor - self.departed_above_floor())

    def ahead_of(self, ticket: int) -> int:
        """Entries of this band ahead of ``ticket`` (in line, with a smaller ticket)."""
        return max(0, ticket - 1 - self.floor - self.departed_above_floor(ticket))


def position(bands: list[Band], priority: int, ticket: int) -> int:
    """1 for the head of the line: the entries of every higher band, plus those of the entry's
    own band with a smaller ticket, plus one. ``bands`` may hold any bands (lower ones are
    ignored; missing ones are empty)."""
    own = max(0, min(999, priority))
    higher = sum(band.in_line() for band in bands if band.priority > own)
    mine = next((band for band in bands if band.priority == own), Band(own))
    return 1 + higher + mine.ahead_of(ticket)


def line_length(bands: list[Band]) -> int:
    """Entries in line over all ``bands``."""
    return sum(band.in_line() for band in bands)


def contiguous_floor(band: Band) -> int:
    """The highest floor the band's own numbers prove: up the run of departed tickets that
    starts just above the floor (every ticket up to it has left). Needs no look at the line."""
    floor = band.floor
    while floor + 1 in band.gone:
        floor += 1
    return floor


def compacted(band: Band, head_ticket: int | None = None) -> tuple[int, frozenset[int]] | None:
    """The band after compaction, ``(new floor, departed numbers to drop)``, or None when there
    is nothing to change. ``head_ticket``: the smallest ticket still in line in this band (from
    a read of the line's head), which also heals departures never recorded (a lost write, an
    entry expired by TTL); without it, only the run of recorded departures moves the floor.
    Numbers at or under the floor (a departure recorded after the floor passed it) are
    dropped too."""
    floor = contiguous_floor(band)
    if head_ticket is not None:
        floor = max(floor, head_ticket - 1)
    dropped = frozenset(g for g in band.gone if g <= floor)
    if floor == band.floor and not dropped:
        return None
    return floor, dropped


def needs_compaction(band: Band) -> bool:
    """Has the band's departed set grown past ``COMPACT_AT``?"""
    return len(band.gone) > COMPACT_AT
