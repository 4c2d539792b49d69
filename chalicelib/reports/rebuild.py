"""Rebuilding rollups from the stored facts: ``manage.py reports rebuild --from --to``.

The stream keeps the rollups up fact by fact; a rebuild sums the same facts again
(``chalicelib.facts.add_up``) and writes what it finds, so a rebuilt day equals what the stream
built (each fact once, in the same slots). Local days run up to 14 hours either side of UTC, so
the facts of the UTC days one before ``first`` to one after ``last`` are read (one Query per day
and shard, ``store.facts``), and only the partitions whose local day is in the range are
written. A scope-day with rollups but no stored facts (facts past their retention) is left as
it is.
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
    read = list(facts.facts_of_days(first - timedelta(days=1), last + timedelta(days=1)))
    by_partition: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for (key, slot), values in add_up(read).items():
        day = date.fromisoformat(key.rsplit("#", 1)[1])
        if first <= day <= last:
            by_partition[key][slot] = values
    for key, slots_values in by_partition.items():
        rollups.replace_day(key, slots_values)
    return {"facts": len(read), "partitions": len(by_partition)}
