"""The line's priority bands in ``queue_stats`` (``routing.tickets``): tickets handed out on
joining, departures recorded, and places read from a few band items instead of the line.

A band item is ``(queue_id, "line#<999-priority>")`` with ``issued``, ``floor`` and ``gone``
(``QueueDay``). Writes are atomic ADDs/DELETEs of numbers, so a departure recorded twice (two
requests racing to free one place) counts once; the floor only moves by a conditional update
(the floor read is still the floor), so concurrent departures are never lost.
"""

from __future__ import annotations

import logging

from pynamodb.expressions.update import Action

from chalicelib.routing import tickets
from chalicelib.routing.tickets import Band
from chalicelib.store.models import QueueDay, update_if

log = logging.getLogger(__name__)


def _band_item(queue_id: str, priority: int) -> QueueDay:
    return QueueDay(queue_id, tickets.band_day(priority))


def take_ticket(queue_id: str, priority: int) -> int:
    """The next ticket of the queue's ``priority`` band (1 for the first ever): one UpdateItem."""
    item = _band_item(queue_id, priority)
    item.update(actions=[QueueDay.issued.add(1)])  # ReturnValues ALL_NEW: ``issued`` is read back
    return int(item.issued)


def ticket_gone(queue_id: str, priority: int, ticket: float | None) -> None:
    """Record that ``ticket`` has left the line (its entry deleted, or the ticket never used)."""
    if ticket is not None:
        _band_item(queue_id, priority).update(actions=[QueueDay.gone.add({int(ticket)})])


def bands(queue_id: str, down_to_priority: int = 0) -> list[Band]:
    """The queue's bands of priority ``down_to_priority`` and above: one strongly consistent
    Query (``line#000`` .. the band's key)."""
    items = QueueDay.query(
        queue_id,
        QueueDay.day.between(tickets.band_day(999), tickets.band_day(down_to_priority)),
        consistent_read=True,
    )
    return [_band(item) for item in items]


def _band(item: QueueDay) -> Band:
    return Band(priority=tickets.band_priority(item.day), issued=int(item.issued or 0),
                floor=int(item.floor or 0), gone=frozenset(int(g) for g in item.gone or ()))


def position(queue_id: str, priority: int, ticket: int) -> int:
    """1 for the head of the line (``tickets.position``), from one Query of the bands; a band
    whose departed set has grown is compacted on the way (a conditional write, rarely)."""
    found = bands(queue_id, priority)
    _compact_grown(queue_id, found)
    return tickets.position(found, priority, ticket)


def length(queue_id: str) -> int:
    """Entries in the queue's line, every band (one Query)."""
    found = bands(queue_id)
    _compact_grown(queue_id, found)
    return tickets.line_length(found)


def _compact_grown(queue_id: str, found: list[Band]) -> None:
    for band in found:
        if tickets.needs_compaction(band):
            _compact(queue_id, band, None)


def compact_band(queue_id: str, priority: int, head_ticket: int | None) -> bool:
    """Move the band's floor up to ``head_ticket - 1`` (the smallest ticket still in line in
    that band, read from the line's head; None: only what its own numbers prove) and drop the
    departed numbers at or below it. Heals departures never recorded (a lost write, an entry
    expired by TTL). True if it wrote; False when nothing was to change or another writer
    moved the floor first (the next compaction sees the new floor)."""
    found = [band for band in bands(queue_id, priority) if band.priority == priority]
    return bool(found) and _compact(queue_id, found[0], head_ticket)


def _compact(queue_id: str, band: Band, head_ticket: int | None) -> bool:
    change = tickets.compacted(band, head_ticket)
    if change is None:
        return False
    floor, dropped = change
    actions: list[Action] = [QueueDay.floor.set(floor)]
    if dropped:
        actions.append(QueueDay.gone.delete(set(dropped)))
    # departures recorded meanwhile are ADDs of other numbers: the DELETE leaves them; the floor
    # itself must still be the one read, or two compactions could move it back
    condition = QueueDay.floor == band.floor if band.floor else QueueDay.floor.does_not_exist()
    return update_if(_band_item(queue_id, band.priority), actions, condition)
