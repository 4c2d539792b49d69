"""Rollups: the sums of facts per scope, local day and half-hour (``reports.facts.slots``).

``apply_fact(fact)`` adds one fact to every slot it counts in, in one transaction with a mark
``applied#<fact id>`` written only if absent: a fact the stream delivers twice (Lambda retries
a batch; the laptop's poller too) is added once, and a transaction that loses a race with its
twin adds nothing. ``apply_facts(facts)`` does the same for a stream batch with a transaction
per group of facts, their sums merged per rollup item. ``replace_day`` writes what a rebuild
computed (``reports.rebuild``). Numbers are top-level attributes named like the facts' values,
added with ``ADD`` (no read-then-write).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import VerboseClientError

from chalicelib.facts import DAY, Fact, slots
from chalicelib.store.connection import shared_connection
from chalicelib.store.models import RollupItem

MARK = "applied"
MARK_DAYS = 3  # longer than a stream keeps records (24 h) and Lambda retries them
MAX_ITEMS = 100  # what one TransactWriteItems may hold
_KEYS = ("key", "slot", "expires")


def _table() -> str:
    meta: Any = RollupItem.Meta  # its table_name is set by models.bind_models
    return meta.table_name


def _add(key: str, slot: str, values: Mapping[str, int]) -> dict:
    names = {f"#v{i}": name for i, name in enumerate(values)}
    numbers = {f":v{i}": {"N": str(value)} for i, value in enumerate(values.values())}
    return {"Update": {
        "TableName": _table(),
        "Key": {"key": {"S": key}, "slot": {"S": slot}},
        "UpdateExpression": "ADD " + ", ".join(f"#v{i} :v{i}" for i in range(len(values))),
        "ExpressionAttributeNames": names, "ExpressionAttributeValues": numbers}}


def _mark(fact: Fact, now: datetime | None) -> dict:
    expires = (now or fact.at) + timedelta(days=MARK_DAYS)
    return {"Put": {
        "TableName": _table(),
        "Item": {"key": {"S": f"{MARK}#{fact.fact_id}"}, "slot": {"S": MARK},
                 "expires": {"N": str(int(expires.timestamp()))}},
        "ConditionExpression": "attribute_not_exists(#k)",
        "ExpressionAttributeNames": {"#k": "key"}}}


def _slot_keys(fact: Fact) -> list[tuple[str, str]]:
    """The rollup items ``fact`` adds to; none for a fact without values (its mark only)."""
    return [(slot.key, slot.slot) for slot in slots(fact)] if fact.values else []


def _transact(items: list[dict], *, conflicts: bool = False) -> bool:
    """Write ``items`` at once: False when a mark was there (a condition failed), and with
    ``conflicts`` when another transaction held one of the items; the transaction's other
    failures raised."""
    try:
        shared_connection().dispatch("TransactWriteItems", {"TransactItems": items})
    except VerboseClientError as exc:
        codes = {r.code for r in exc.cancellation_reasons or [] if r is not None}
        if "ConditionalCheckFailed" in codes:
            return False  # a mark is there: applied before (or by the twin that won)
        if conflicts and "TransactionConflict" in codes:
            return False
        raise
    return True


def apply_fact(fact: Fact, now: datetime | None = None) -> bool:
    """Add ``fact`` to its rollups once: True when added now, False when it was already (or a
    twin won the race). A fact without values or scopes only leaves its mark."""
    values = dict(fact.values)  # zeros too: a rebuild writes them, and the two must agree
    return _transact([_mark(fact, now)] +
                     [_add(key, slot, values) for key, slot in _slot_keys(fact)])


def apply_facts(facts: Iterable[Fact], now: datetime | None = None) -> int:
    """Add a batch of facts (a stream batch) to their rollups, each once; returns how many
    were added now. Facts go in groups of up to ``MAX_ITEMS`` transaction items: each fact's
    mark, and one ADD per rollup item with the group's sums for it, so facts sharing a queue's
    day and half-hour cost one write between them. A group where some mark is already there
    (a redelivered batch) is applied again fact by fact (``apply_fact``), so the new facts in
    it still count and the old ones do not; so is one that conflicts with another consumer's
    transaction (a conflict there raises, for the batch to be retried)."""
    groups: list[list[Fact]] = [[]]
    items: set[tuple[str, str]] = set()
    for fact in {fact.fact_id: fact for fact in facts}.values():  # one mark per id
        wanted = set(_slot_keys(fact)) - items
        if groups[-1] and len(groups[-1]) + 1 + len(items) + len(wanted) > MAX_ITEMS:
            groups.append([])
            items, wanted = set(), set(_slot_keys(fact))
        groups[-1].append(fact)
        items |= wanted
    return sum(_apply_group(group, now) for group in groups if group)


def _apply_group(group: list[Fact], now: datetime | None) -> int:
    if len(group) == 1:
        return int(apply_fact(group[0], now))
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for fact in group:
        for item in _slot_keys(fact):
            into = sums.setdefault(item, {})
            for name, value in fact.values.items():
                into[name] = into.get(name, 0) + value
    # a group meeting a mark, or another consumer's transaction on a busy queue's items, goes
    # again fact by fact: smaller transactions, each counted once
    if _transact([_mark(fact, now) for fact in group] +
                 [_add(key, slot, values) for (key, slot), values in sums.items()],
                 conflicts=True):
        return len(group)
    return sum(apply_fact(fact, now) for fact in group)


def _numbers(item: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in item.items()
            if name not in _KEYS and "N" in value}


def read_day(key: str) -> dict[str, dict[str, int]]:
    """Every slot of one rollup partition (``queue#support#2026-11-30``): ``{slot: values}``,
    ``"day"`` and the half-hours; one Query (paged)."""
    found: dict[str, dict[str, int]] = {}
    start: dict | None = None
    while True:
        request: dict[str, Any] = {
            "TableName": _table(), "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": "key"},
            "ExpressionAttributeValues": {":k": {"S": key}}, "ConsistentRead": True}
        if start:
            request["ExclusiveStartKey"] = start
        page = shared_connection().dispatch("Query", request)
        for item in page.get("Items", []):
            found[item["slot"]["S"]] = _numbers(item)
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def read_days(keys: Iterable[str]) -> dict[str, dict[str, int]]:
    """The ``day`` slot of many partitions at once: ``{key: values}`` (absent: no facts);
    BatchGetItem, 100 keys a request, unprocessed keys asked again."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, dict[str, int]] = {}
    for n in range(0, len(wanted), 100):
        pending: list[dict] = [{"key": {"S": key}, "slot": {"S": DAY}}
                               for key in wanted[n:n + 100]]
        while pending:
            answer = shared_connection().dispatch("BatchGetItem", {"RequestItems": {
                _table(): {"Keys": pending, "ConsistentRead": True}}})
            for item in answer.get("Responses", {}).get(_table(), []):
                found[item["key"]["S"]] = _numbers(item)
            pending = answer.get("UnprocessedKeys", {}).get(_table(), {}).get("Keys", [])
    return found


def replace_day(key: str, slots_values: Mapping[str, Mapping[str, int]]) -> None:
    """Make partition ``key`` hold exactly ``slots_values`` (``{slot: values}``): what a
    rebuild computed from the stored facts. Slots not given are deleted."""
    stale = set(read_day(key)) - set(slots_values)
    requests: list[dict] = [{"DeleteRequest": {"Key": {"key": {"S": key}, "slot": {"S": slot}}}}
                            for slot in sorted(stale)]
    for slot, values in slots_values.items():
        item: dict[str, Any] = {"key": {"S": key}, "slot": {"S": slot}}
        item.update({name: {"N": str(value)} for name, value in values.items()})
        requests.append({"PutRequest": {"Item": item}})
    for n in range(0, len(requests), 25):
        pending = requests[n:n + 25]
        while pending:
            answer = shared_connection().dispatch("BatchWriteItem", {
                "RequestItems": {_table(): pending}})
            pending = answer.get("UnprocessedItems", {}).get(_table(), [])


def day_key(scope: str, scope_id: str, day: date) -> str:
    return f"{scope}#{scope_id}#{day.isoformat()}"
