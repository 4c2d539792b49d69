"""A queue's hot counters in the ``queue_stats`` table, written without reading and spread over
several items so no single item takes more than a few hundred writes per second.

- Day counters (offered, answered, answered within the service level, abandoned, summed wait):
  every call ADDs to one of ``DAY_SHARDS`` items ``day="<ISO day>#<k>"``, ``k`` a stable hash of
  the caller's line entry key. ``queue_day`` sums the shards, and the single item ``day="<ISO
  day>"`` written before the counters were sharded.
- Handle-time samples for estimated waits: ``HANDLE_SHARDS`` items ``day="handle#<k>"``, each
  with ``HANDLE_SLOTS`` slot attributes. A sample overwrites the slot a stable hash of its key
  picks (one UpdateItem, no read; a replay of the same sample lands on the same slot), so the
  slots hold a random sample of recent talk times rather than the strictly latest ones.

At 500 answered calls/s into one queue the day counters take ~1,000 ADDs/s in all (offered and
answered), ~125/s per shard; the handle-time samples ~100 writes/s per shard.

Both are read with one Query on the queue's partition (``begins_with`` on the sort key), not a
BatchGetItem of every shard key: a Query is charged for the summed size of what it returns
(0.5 read unit per 4 KB, eventually consistent) where a BatchGetItem is charged at least 0.5
per key, so reading all shards costs what reading one did.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from chalicelib.routing.model import QueueConfig, QueueDayFigures, business_day
from chalicelib.store.models import QueueDay, QueueItem

STATS_RETENTION_DAYS = 400
DAY_SHARDS = 8
HANDLE_SHARDS = 5
HANDLE_SLOTS = 10  # per shard: HANDLE_SHARDS × HANDLE_SLOTS samples are kept (50)
COUNTERS = ("offered", "answered", "answered_in_sl", "abandoned", "wait_seconds")


def _hash(key: str) -> int:
    """Stable across processes and Python versions (``hash()`` of a str is salted)."""
    return zlib.crc32(key.encode())


def day_shard(shard_key: str) -> int:
    """The day-counter shard (0 .. DAY_SHARDS-1) a call's counts go to."""
    return _hash(shard_key) % DAY_SHARDS


def handle_slot(sample_key: str) -> tuple[int, int]:
    """The (shard, slot) a handle-time sample is written to."""
    value = _hash(sample_key)
    return value % HANDLE_SHARDS, (value // HANDLE_SHARDS) % HANDLE_SLOTS


def count_in_queue_day(queue: QueueConfig, now: datetime, *, shard_key: str,
                       **increments: int) -> None:
    """Atomically add to the queue's counters for its local day, e.g. ``answered=1,
    wait_seconds=35``: one UpdateItem (ADD) on the shard ``shard_key`` (the call's line entry
    key, or its call sid) hashes to. Counter names are ``QueueDayFigures``' numbers."""
    actions = [getattr(QueueDay, name).add(value) for name, value in increments.items() if value]
    actions.append(QueueDay.expires.set(now + timedelta(days=STATS_RETENTION_DAYS)))
    day = business_day(now, queue.zone)
    QueueDay(queue.queue_id, f"{day}#{day_shard(shard_key)}").update(actions=actions)


def queue_day(queue_id: str, day: str) -> QueueDayFigures | None:
    """The queue's counters for ``day`` (ISO date in the queue's zone), or None before its
    first call that day: the shards and the pre-sharding item summed (one Query, eventually
    consistent)."""
    items = [item for item in QueueDay.query(queue_id, QueueDay.day.startswith(day))
             if item.day == day or item.day.startswith(f"{day}#")]
    if not items:
        return None
    totals = {name: sum(int(getattr(item, name) or 0) for item in items) for name in COUNTERS}
    return QueueDayFigures(queue_id=queue_id, day=day, **totals)


def _slot_attribute(slot: int):
    return getattr(QueueDay, f"handle_{slot}")


def add_handle_time(queue_id: str, seconds: float, *, sample_key: str) -> None:
    """Remember a talk time (seconds) for estimated waits: one UpdateItem (SET of a top-level
    slot attribute, which works on a missing item), no read. ``sample_key`` names the sample
    (e.g. ``"<call sid>:<agent leg>"``): a replay overwrites its own slot with the same value."""
    shard, slot = handle_slot(sample_key)
    QueueDay(queue_id, f"handle#{shard}").update(actions=[_slot_attribute(slot).set(seconds)])


def handle_samples(queue_id: str) -> list[float]:
    """The queue's sampled talk times in seconds, in no order (one Query of its HANDLE_SHARDS
    items); [] before the first."""
    items = QueueDay.query(queue_id, QueueDay.day.startswith("handle#"))
    return [value for item in items for slot in range(HANDLE_SLOTS)
            if (value := getattr(item, f"handle_{slot}")) is not None]


def recent_handle_times(queue_id: str) -> list[float]:
    """The queue's recent talk times in seconds, in no order: the samples, or, before the
    first sample, the list kept on the queue item before samples were sharded (one more
    GetItem); [] when neither exists."""
    samples = handle_samples(queue_id)
    if samples:
        return samples
    try:
        return list(QueueItem.get(queue_id).handle_times or [])
    except DoesNotExist:
        return []
