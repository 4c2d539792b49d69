"""A queue's hot counters against DynamoDB Local: day counters spread over shard items lose
nothing under concurrent writers and still sum with the item written before sharding; a
handle-time sample is one write with no read, and the samples feed the estimated wait."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from chalicelib.routing.estimates import estimated_wait
from chalicelib.routing.model import QueueConfig
from chalicelib.store import queue_stats, routing
from chalicelib.store.models import QueueDay, QueueItem

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 in New York, Monday 23 Nov
DAY = "2026-11-23"
QUEUE = QueueConfig("hot-counters", "Hot counters", timezone="America/New_York")


@pytest.fixture(autouse=True)
def _queue():
    routing.save_queue(QUEUE, NOW)


@contextmanager
def dispatched():
    """The DynamoDB operations sent meanwhile, by name (PynamoDB's single dispatch point)."""
    from pynamodb.connection.base import Connection

    seen: Counter[str] = Counter()
    original = Connection.dispatch

    def counting(conn, operation_name, operation_kwargs):
        seen[operation_name] += 1
        return original(conn, operation_name, operation_kwargs)

    Connection.dispatch = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Connection.dispatch = original  # type: ignore[method-assign]


# ---- day counters ---------------------------------------------------------------------------


def test_eight_threads_counting_at_once_lose_nothing():
    def calls(thread: int) -> None:
        for n in range(40):
            key = f"990#2026-11-23T15:00:00#CA{thread}x{n}"
            routing.count_in_queue_day(QUEUE, NOW, shard_key=key, offered=1)
            routing.count_in_queue_day(QUEUE, NOW, shard_key=key, answered=1,
                                       answered_in_sl=n % 2, wait_seconds=3)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(calls, range(8)))

    day = routing.queue_day(QUEUE.queue_id, DAY)
    assert (day.offered, day.answered, day.answered_in_sl, day.wait_seconds) == (320, 320, 160,
                                                                                  960)
    shards = {item.day for item in QueueDay.query(QUEUE.queue_id, QueueDay.day.startswith(DAY))}
    assert shards == {f"{DAY}#{k}" for k in range(queue_stats.DAY_SHARDS)}


def test_a_call_counts_on_one_shard_and_its_later_counts_on_the_same_one():
    key = "990#2026-11-23T15:00:00#CAsame"
    with dispatched() as seen:
        routing.count_in_queue_day(QUEUE, NOW, shard_key=key, offered=1)
    routing.count_in_queue_day(QUEUE, NOW, shard_key=key, abandoned=1)
    assert seen == {"UpdateItem": 1}
    items = list(QueueDay.query(QUEUE.queue_id, QueueDay.day.startswith(DAY)))
    assert [(i.day, i.offered, i.abandoned) for i in items] == [
        (f"{DAY}#{queue_stats.day_shard(key)}", 1, 1)]


def test_the_day_sums_its_shards_and_the_item_written_before_sharding():
    QueueDay(QUEUE.queue_id, DAY, offered=7, answered=5, answered_in_sl=4, abandoned=2,
             wait_seconds=100).save()  # today's figures from before the upgrade
    for n in range(3):
        routing.count_in_queue_day(QUEUE, NOW, shard_key=f"CA{n}", offered=1, answered=1,
                                   wait_seconds=10)
    QueueDay(QUEUE.queue_id, "2026-11-24#0", offered=50).save()  # tomorrow: not today's

    with dispatched() as seen:
        day = routing.queue_day(QUEUE.queue_id, DAY)

    assert seen == {"Query": 1}  # every shard and the old item, in one request
    assert (day.queue_id, day.day) == (QUEUE.queue_id, DAY)
    assert (day.offered, day.answered, day.answered_in_sl, day.abandoned, day.wait_seconds) == (
        10, 8, 4, 2, 130)
    assert routing.queue_day(QUEUE.queue_id, "2026-11-22") is None


def test_a_day_with_only_the_old_item_still_reads():
    QueueDay(QUEUE.queue_id, DAY, offered=3, abandoned=1).save()
    day = routing.queue_day(QUEUE.queue_id, DAY)
    assert (day.offered, day.abandoned, day.answered) == (3, 1, 0)


# ---- handle-time samples --------------------------------------------------------------------


def test_a_handle_time_sample_is_one_write_and_no_read():
    with dispatched() as seen:
        routing.add_handle_time(QUEUE.queue_id, 240, sample_key="CAfirst:CAleg")  # no item yet
        routing.add_handle_time(QUEUE.queue_id, 60, sample_key="CAsecond:CAleg")
    assert seen == {"UpdateItem": 2}
    assert sorted(routing.recent_handle_times(QUEUE.queue_id)) == [60, 240]


def test_a_replayed_sample_overwrites_its_own_slot():
    for _ in range(3):
        routing.add_handle_time(QUEUE.queue_id, 97, sample_key="CAreplay:CAleg")
    assert routing.recent_handle_times(QUEUE.queue_id) == [97]


def test_fifty_samples_are_kept_and_the_estimate_follows_the_recent_calls():
    keys = [f"CA{n:04d}:CAleg{n}" for n in range(300)]
    for key in keys[:150]:  # long calls, then an afternoon of short ones
        routing.add_handle_time(QUEUE.queue_id, 900, sample_key=key)
    for key in keys[150:]:
        routing.add_handle_time(QUEUE.queue_id, 120, sample_key=key)

    with dispatched() as seen:
        samples = routing.recent_handle_times(QUEUE.queue_id)

    assert seen == {"Query": 1}
    slots = queue_stats.HANDLE_SHARDS * queue_stats.HANDLE_SLOTS
    assert len(samples) == len({queue_stats.handle_slot(key) for key in keys}) == slots == 50
    assert samples.count(120) > 45  # the odd slot no short call hit keeps a long one
    assert estimated_wait(4, 2, samples) == 240  # the trimmed mean drops it: 120 s × 4 / 2


def test_the_list_on_the_queue_item_serves_until_the_first_sample():
    QueueItem(QUEUE.queue_id).update(actions=[QueueItem.handle_times.set([300, 200])])
    assert sorted(routing.recent_handle_times(QUEUE.queue_id)) == [200, 300]
    assert sorted(routing.get_queue_routing(QUEUE.queue_id).handle_times) == [200, 300]

    routing.add_handle_time(QUEUE.queue_id, 45, sample_key="CAnew:CAleg")

    assert routing.recent_handle_times(QUEUE.queue_id) == [45]
    assert routing.get_queue_routing(QUEUE.queue_id).handle_times == (45,)


def test_a_queue_without_samples_has_none():
    assert routing.recent_handle_times(QUEUE.queue_id) == []
    assert routing.recent_handle_times("no-such-queue") == []
    assert routing.get_queue_routing(QUEUE.queue_id).handle_times == ()
