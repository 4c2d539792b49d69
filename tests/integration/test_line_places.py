"""Places in line and the line's length from ticket bands (``routing.tickets``,
``store/line.py``) on DynamoDB Local: at every step of a busy line the computed place is the
true one (entries with a smaller key, plus one) and the length the true count."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.callbacks import requests
from chalicelib.routing.model import QueueConfig, WaitingCaller
from chalicelib.store import routing
from chalicelib.store.models import QueueEntry

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
QUEUE = "line-places"
VIP = 10


@pytest.fixture(autouse=True)
def queue(app_module):
    routing.save_queue(QueueConfig(QUEUE, "Line places", vip_priority=VIP), NOW)


def caller(n: int, priority: int = 0, joined: datetime | None = None) -> WaitingCaller:
    return WaitingCaller(f"CAline{n:05d}", QUEUE, f"+1646556{n:04d}",
                         joined or NOW + timedelta(seconds=n), priority=priority)


def the_line():
    return routing.queue_entries(QUEUE, limit=1000)


def misplaced() -> list[tuple[str, int, int]]:
    """``(key, computed, true)`` for every entry whose computed place is not its true one;
    and the length must be the true count."""
    line = the_line()
    assert routing.line_length(QUEUE) == len(line)
    wrong = []
    for true, entry in enumerate(line, start=1):
        computed = routing.position_in_line(QUEUE, entry.entry_key)
        if computed != true:
            wrong.append((entry.entry_key, computed, true))
    return wrong


def test_places_stay_true_through_a_busy_day_of_two_bands():
    rng = random.Random(14)
    # Given 200 callers, every fifth a VIP
    for n in range(200):
        routing.add_to_line(caller(n, VIP if n % 5 == 0 else 0))
    assert misplaced() == []
    assert [e.ticket for e in the_line()[:3]] == [1, 2, 3]  # the VIP band's first tickets

    # A retried join keeps its place, and its unused ticket does not lengthen the line
    assert routing.add_to_line(caller(7)) == (routing.entry_key(caller(7)), False)
    assert misplaced() == []

    # Served from the head (the dispatcher healing its bands now and then) ...
    for served in range(50):
        head = the_line()[0]
        routing.leave_queue(QUEUE, head.entry_key)
        if served % 10 == 9:
            routing.compact_line(QUEUE, the_line()[:100])
    assert misplaced() == []
    # ... and callers abandoning from the middle (each recorded once, however many try)
    for _ in range(25):
        victim = rng.choice(the_line()[1:])
        assert routing.remove_entry(QUEUE, victim.entry_key, ("waiting",))
        assert not routing.remove_entry(QUEUE, victim.entry_key, ("waiting",))
    assert misplaced() == []

    # A caller on hold presses 1: a queue callback takes their place (and their ticket)
    line = the_line()
    pressed = next(e for e in line[len(line) // 2:] if e.priority == 0)
    assert routing.mark_entry(QUEUE, pressed.entry_key, "callback")
    callback_id, created = requests.request_callback(
        hotline="+14155550100", queue_id=QUEUE, phone=pressed.caller, name=None,
        language=None, kind="queue", now=NOW + timedelta(hours=1),
        joined_at=pressed.joined_at, ticket=pressed.ticket)
    assert created
    routing.leave_queue(QUEUE, pressed.entry_key, ticket_handed_over=True)
    kept = [e for e in the_line() if e.call_sid == callback_id]
    assert [e.ticket for e in kept] == [pressed.ticket]
    assert misplaced() == []
    # ... and cancelled, its place (taken out in the request's own transaction) is gone too
    assert requests.cancel_request(callback_id, NOW + timedelta(hours=2)) == "cancelled"
    assert not [e for e in the_line() if e.call_sid == callback_id]
    assert misplaced() == []

    # Entries expire by TTL with no departure recorded: the places behind them run ahead ...
    for entry in [e for e in the_line() if e.priority == 0][:3]:
        QueueEntry(QUEUE, entry.entry_key).delete()
    assert routing.line_length(QUEUE) == len(the_line()) + 3
    # ... until the dispatcher, reading the head, moves the band's floor
    assert routing.compact_line(QUEUE, the_line()[:100]) >= 1
    assert misplaced() == []

    # The line empties from the head, and every place stays true on the way
    while the_line():
        routing.leave_queue(QUEUE, the_line()[0].entry_key)
        if len(the_line()) % 20 == 0:
            assert misplaced() == []
    assert routing.line_length(QUEUE) == 0


def test_concurrent_joins_and_departures_lose_no_ticket():
    threads, per_thread = 8, 12
    barrier = threading.Barrier(threads)
    errors: list[Exception] = []

    def busy(t: int) -> None:
        barrier.wait()
        try:
            mine = []
            for i in range(per_thread):
                n = 1000 + t * 100 + i
                key, _ = routing.add_to_line(caller(n, VIP if i % 4 == 0 else 0,
                                                    joined=datetime.now(UTC)))
                mine.append(key)
                if i % 3 == 2:  # some leave again at once, while others still join
                    routing.leave_queue(QUEUE, mine.pop(0))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    workers = [threading.Thread(target=busy, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []

    line = the_line()
    assert len(line) == threads * (per_thread - per_thread // 3)
    assert routing.line_length(QUEUE) == len(line)
    # Every ticket handed out and every departure counted: each place is exactly what the
    # tickets in line say (the bands lost no update) ...
    for entry in line:
        by_tickets = 1 + sum(e.priority > entry.priority or (
            e.priority == entry.priority and e.ticket < entry.ticket) for e in line)
        assert routing.position_in_line(QUEUE, entry.entry_key) == by_tickets
    # ... which is the true place but where joins raced (a ticket taken after a later join's:
    # the tickets then cross the join times); the place is off by the tickets crossing its own
    for key, computed, true in misplaced():
        entry = next(e for e in line if e.entry_key == key)
        band = [e for e in line if e.priority == entry.priority]
        crossing = sum((e.ticket < entry.ticket) != (e.entry_key < key) for e in band)
        assert 0 < abs(computed - true) <= crossing
