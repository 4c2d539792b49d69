"""Rebuilding rollups from the stored facts: ``manage.py reports rebuild --from --to``.

The stream keeps the rollups up fact by fact; a rebuild sums the same facts again
(``chalicelib.facts.add_up``) and writes what it finds, so a rebuilt day equals what the stream
built (each fact once, in the same slots). Local days run up to 14 hours either side of UTC, so
the facts of the UTC days one before ``first`` to one after ``last`` are read (one Query per day
and shard, ``store.facts``), and only the partitions whose local day is in the range are
written. A scope-day with rollups but no stored facts (facts past their retention) is left as
it is.

Memory stays that of a few days whatever the range: the facts are read one UTC day at a time
and only their sums are kept, and a local day's partitions are written (and dropped) as soon as
no later UTC day can hold a fact of it (after UTC day ``d``, local day ``d - 1`` is complete).
A month of issue 12's scale is about 3.4 million facts: too many to hold at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from chalicelib.facts import add_up
from chalicelib.store import facts, rollups

MAX_DAYS = 400


def rebuild(first: date, last: date) -> dict:
    """Rewrite the rollups of the local days ``first`` to ``last`` (inclusive):
    ``{"facts": n, "partitions": m}``. ValueError for a range backwards or over ``MAX_DAYS``."""
    if last < first:
        raise ValueError("the range ends before it starts")
    if (last - first).days >= MAX_DAYS:
        raise ValueError(f"a rebuild covers at most {MAX_DAYS} days")
    read = written = 0
    pending: dict[date, dict[str, dict[str, dict[str, int]]]] = defaultdict(dict)
    day = first - timedelta(days=1)
    while day <= last + timedelta(days=1):
        todays = list(facts.facts_of_days(day, day))
        read += len(todays)
        for (key, slot), values in add_up(todays).items():
            local = date.fromisoformat(key.rsplit("#", 1)[1])
            if first <= local <= last:
                summed = pending[local].setdefault(key, {}).setdefault(slot, {})
                for name, value in values.items():
                    summed[name] = summed.get(name, 0) + value
        for complete in [d for d in pending if d < day]:
            written += _write(pending.pop(complete))
        day += timedelta(days=1)
    for rest in pending.values():
        written += _write(rest)
    return {"facts": read, "partitions": written}


def _write(partitions: dict[str, dict[str, dict[str, int]]]) -> int:
    for key, slots_values in partitions.items():
        rollups.replace_day(key, slots_values)
    return len(partitions)
