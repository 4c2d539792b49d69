"""A stream batch's facts go into the rollups in a few transactions, sums merged per rollup
item, each fact still counted once however often its batch comes back. DynamoDB Local."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from pynamodb.connection.base import Connection

from chalicelib.facts import Fact
from chalicelib.store import rollups

AT = datetime(2026, 11, 30, 15, 5, tzinfo=UTC)


@pytest.fixture
def operations(monkeypatch):
    made: list[tuple[str, int]] = []
    original = Connection.dispatch

    def counting(conn, operation_name, operation_kwargs):
        made.append((operation_name, len(operation_kwargs.get("TransactItems", ()))))
        return original(conn, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    return made


def facts_for(queue: str, count: int, *, agents: int = 1) -> list[Fact]:
    return [Fact(f"test:batch:{queue}:{n}", "queue_answered", AT + timedelta(seconds=n),
                 "UTC", {"queue": queue, "agent": f"{queue}-ag{n % agents}"},
                 {"answered": 1, "wait_seconds": n})
            for n in range(count)]


def day(scope: str, ident: str) -> dict:
    return rollups.read_day(rollups.day_key(scope, ident, date(2026, 11, 30)))


def test_a_batch_is_one_transaction_with_its_sums_merged(operations):
    queue = f"bq{uuid.uuid4().hex[:8]}"
    batch = facts_for(queue, 20, agents=2)
    assert rollups.apply_facts(batch) == 20
    # 20 marks and 6 rollup items (the queue's and 2 agents' day and half-hour) in one write
    assert operations == [("TransactWriteItems", 26)]
    assert day("queue", queue)["day"] == {"answered": 20, "wait_seconds": sum(range(20))}
    assert day("queue", queue)["15:00"] == day("queue", queue)["day"]
    assert day("agent", f"{queue}-ag1")["day"] == {"answered": 10,
                                                   "wait_seconds": sum(range(1, 20, 2))}


def test_a_batch_delivered_again_counts_only_what_is_new(operations):
    queue = f"bq{uuid.uuid4().hex[:8]}"
    batch = facts_for(queue, 6)
    assert rollups.apply_facts(batch[:4]) == 4
    # the stream hands the batch over again with two new facts: they count, the rest do not
    assert rollups.apply_facts(batch) == 2
    assert rollups.apply_facts(batch) == 0
    assert day("queue", queue)["day"] == {"answered": 6, "wait_seconds": sum(range(6))}
    # the same fact twice in one batch is one fact
    other = f"bq{uuid.uuid4().hex[:8]}"
    twice = facts_for(other, 1) * 2
    assert rollups.apply_facts(twice) == 1
    assert day("queue", other)["day"]["answered"] == 1


def test_a_large_batch_is_split_under_the_transaction_limit(operations):
    queue = f"bq{uuid.uuid4().hex[:8]}"
    batch = facts_for(queue, 150, agents=150)  # each fact: its own agent's 2 items
    assert rollups.apply_facts(batch) == 150
    writes = [size for name, size in operations if name == "TransactWriteItems"]
    # 32 facts a write: 32 marks, their agents' 64 items and the queue's 2 (98 of 100)
    assert writes == [98, 98, 98, 98, 68]
    assert sum(size for size in writes) == 150 + 2 * 150 + 2 * len(writes)
    assert day("queue", queue)["day"]["answered"] == 150
    assert rollups.apply_facts([]) == 0


def test_a_group_that_meets_another_consumers_transaction_goes_fact_by_fact(monkeypatch):
    from pynamodb.exceptions import CancellationReason, VerboseClientError

    queue = f"bq{uuid.uuid4().hex[:8]}"
    batch = facts_for(queue, 5)
    original = Connection.dispatch
    sizes: list[int] = []

    def busy_once(conn, operation_name, operation_kwargs):
        items = operation_kwargs.get("TransactItems", ())
        sizes.append(len(items))
        if len(sizes) == 1:  # the group's write meets another transaction on its items
            raise VerboseClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}},
                operation_name, cancellation_reasons=[CancellationReason("TransactionConflict")]
                + [None] * (len(items) - 1))
        return original(conn, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", busy_once)
    assert rollups.apply_facts(batch) == 5
    assert sizes == [9, 5, 5, 5, 5, 5]  # the group, then each fact: its mark and 4 items
    assert day("queue", queue)["day"] == {"answered": 5, "wait_seconds": sum(range(5))}
