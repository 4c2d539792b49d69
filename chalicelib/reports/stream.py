"""The facts table's stream, read the same way in Lambda and on a laptop.

The facts table streams ``NEW_IMAGE``: each ``INSERT`` is one fact, written once and never
changed, so ``MODIFY`` and ``REMOVE`` records (a TTL expiry, a repair by hand) carry nothing to
count and are skipped. A record is the dict Lambda hands an ``on_dynamodb_record`` handler (and
``infra/local/streams.py`` builds from DynamoDB Local the same way)::

    {"eventName": "INSERT", "dynamodb": {"NewImage": {"fact_id": {"S": "..."}, ...}}, ...}

**Errors and retries.** ``handle`` reads each image into a fact with ``read``, then gives the
batch's facts to ``apply_all``. A fact ``read`` rejects with ``ValueError`` is malformed and will
never count: it is logged and counted as failed, and the batch goes on (retrying it would block
the shard for good). Any other exception (storage down, throttled) propagates, so Lambda retries
the whole batch, or the local poller hands it over again; applying is idempotent per fact, so
the facts of a retried batch that counted the first time count nothing the second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

log = logging.getLogger(__name__)


def images(records: Iterable[dict]) -> list[dict]:
    """The new images of the ``INSERT`` records, in order, as plain dicts (``image``)."""
    return [image(record) for record in records if record.get("eventName") == "INSERT"]


def image(record: dict) -> dict:
    """One record's new image as a plain dict: strings, whole numbers as ``int`` (others stay
    ``Decimal``), ``bool``, ``None``, dicts, lists, sets, and binaries as given (base64 text in
    Lambda's JSON, ``bytes`` from boto3). ValueError for a type DynamoDB does not have."""
    return {name: _plain(value) for name, value in record["dynamodb"]["NewImage"].items()}


def handle(records: Iterable[dict], read: Callable[[dict], Any],
           apply_all: Callable[[list], object]) -> dict[str, int]:
    """``read(image)`` each new fact in ``records``, then ``apply_all`` the facts read, at
    once (one stream batch: a few transactions rather than one a fact, ``store.rollups``);
    returns ``{"applied": n, "failed": m}``. A record that is no image, or that ``read``
    rejects with ValueError, counts as failed (logged); anything else propagates, for the
    batch to be retried (see the module's docstring)."""
    read_ok: list = []
    failed = 0
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        try:
            read_ok.append(read(image(record)))
        except ValueError as exc:
            failed += 1
            keys = record["dynamodb"].get("Keys", {})
            log.warning("fact %s not counted: %s", keys or "?", exc)
    if read_ok:
        apply_all(read_ok)
    return {"applied": len(read_ok), "failed": failed}


def _plain(typed: dict) -> Any:
    """One attribute value as DynamoDB types it (``{"N": "12"}``) as plain Python. Written out
    here rather than boto3's ``TypeDeserializer``: the Lambda package must import without boto3
    (the runtime's is not bundled, README "The Lambda package")."""
    (kind, value), = typed.items()
    if kind in ("S", "B", "BOOL"):
        return value
    if kind == "N":
        return _number(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {name: _plain(item) for name, item in value.items()}
    if kind == "L":
        return [_plain(item) for item in value]
    if kind in ("SS", "BS"):
        return set(value)
    if kind == "NS":
        return {_number(item) for item in value}
    raise ValueError(f"not a DynamoDB attribute type: {kind!r}")


def _number(text: str) -> int | Decimal:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else number
