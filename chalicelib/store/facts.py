"""The facts table: each fact written once under its own id (``reports.facts.Fact``).

``record(fact)`` is a put-if-absent, so the same event recorded twice (a webhook retried, two
Lambdas racing) is one fact; the table's stream then carries it to the rollups once
(``store.rollups.apply_fact``, idempotent too). Facts are kept ``RETENTION_DAYS`` for reports
and rebuilds; ``by_day`` (UTC day and one of ``SHARDS`` shards) lets a rebuild read a day's
facts with a few Queries, never a Scan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.facts import Fact
from chalicelib.store.models import FactItem, save_if_absent

SHARDS = 8
RETENTION_DAYS = 800  # two years and a bit: this month against the same month last year


def _shard(fact_id: str) -> int:
    return hashlib.sha256(fact_id.encode()).digest()[0] % SHARDS


def day_shard(at: datetime, fact_id: str) -> str:
    return f"{at.astimezone(UTC).date().isoformat()}#{_shard(fact_id)}"


def save_in(tx: TransactWrite, fact: Fact, *, if_absent: bool = False) -> None:
    """Add ``fact`` to the caller's transaction, so the change it is about and the fact land
    together or neither. Unconditional unless ``if_absent`` (then a fact already there cancels
    the transaction): the caller's own condition lets its change happen once, and an identical
    rewrite changes nothing (the stream ignores it). ValueError for a fact that cannot be
    counted (``Fact.check``)."""
    tx.save(_item(fact), condition=FactItem.fact_id.does_not_exist() if if_absent else None)


def _item(fact: Fact) -> FactItem:
    fact.check()
    return FactItem(fact.fact_id, kind=fact.kind, at=fact.at.astimezone(UTC), zone=fact.zone,
                    scopes=dict(fact.scopes), figures=dict(fact.values),
                    day_shard=day_shard(fact.at, fact.fact_id),
                    expires=fact.at + timedelta(days=RETENTION_DAYS))


def record(fact: Fact) -> bool:
    """Write ``fact`` unless a fact with its id is there: True when written now. ValueError
    for a fact that cannot be counted (``Fact.check``)."""
    return save_if_absent(_item(fact), FactItem.fact_id.does_not_exist())


def write_many(many: Iterable[Fact]) -> int:
    """Write facts in batches (BatchWriteItem, 25 a request), unconditionally: for loading
    history in bulk (the benchmark's synthetic day). A fact already stored is rewritten as it
    was; a fact new to the table reaches the stream like one ``record`` wrote. Returns how many
    were written. ValueError for a fact that cannot be counted (``Fact.check``)."""
    written = 0
    with FactItem.batch_write() as batch:
        for fact in many:
            batch.save(_item(fact))
            written += 1
    return written


def from_image(image: Mapping[str, Any]) -> Fact:
    """The fact a stream's new image holds (plain values, as ``reports.stream.images`` gives
    them); ValueError when it is not one."""
    try:
        scopes = image["scopes"]
        figures = image["figures"]
        fact = Fact(
            fact_id=str(image["fact_id"]), kind=str(image["kind"]),
            at=datetime.fromisoformat(str(image["at"])).astimezone(UTC),
            zone=str(image["zone"]),
            scopes=json.loads(scopes) if isinstance(scopes, str) else dict(scopes),
            values=json.loads(figures) if isinstance(figures, str) else dict(figures))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a fact: {exc}") from None
    return fact.check()


def _fact(item: FactItem) -> Fact:
    return Fact(fact_id=item.fact_id, kind=item.kind, at=item.at, zone=item.zone,
                scopes=dict(item.scopes or {}), values=dict(item.figures or {}))


def facts_of_days(first: date, last: date) -> Iterator[Fact]:
    """Every fact that happened from ``first`` to ``last`` (UTC days, inclusive): one Query
    per day and shard."""
    day = first
    while day <= last:
        for shard in range(SHARDS):
            for item in FactItem.by_day.query(f"{day.isoformat()}#{shard}"):
                yield _fact(item)
        day += timedelta(days=1)


def get(fact_id: str) -> Fact | None:
    try:
        return _fact(FactItem.get(fact_id, consistent_read=True))
    except FactItem.DoesNotExist:
        return None
