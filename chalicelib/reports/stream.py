"""The facts table's stream, read the same way in Lambda and on a laptop.

The facts table streams ``NEW_IMAGE``: each ``INSERT`` is one fact, written once and never
changed, so ``MODIFY`` and ``REMOVE`` records (a TTL expiry, a repair by hand) carry nothing to
count and are skipped. A record is the dict Lambda hands an ``on_dynamodb_record`` handler (and
``infra/local/streams.py`` builds from DynamoDB Local the same way)::

    {"eventName": "INSERT", "dynamodb": {"NewImage": {"fact_id": {"S": "..."}, ...}}, ...}

**Errors and retries.** ``handle`` gives each image to ``apply``. A fact ``apply`` rejects with
``ValueError`` is malformed and will never count: it is logged and counted as failed, and the
batch goes on (retrying it would block the shard for good). Any other exception (storage down,
throttled) propagates, so Lambda retries the whole batch, or the local poller hands it over
again; ``apply`` is idempotent per fact, so the facts of a retried batch that counted the first
time count nothing the second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

log = logging.getLogger(__name__)

_typed = TypeDeserializer()


def images(records: Iterable[dict]) -> list[dict]:
    """The new images of the ``INSERT`` records, in order, as plain dicts: strings, whole
    numbers as ``int`` (others stay ``Decimal``), maps, lists, sets, ``Binary``."""
    return [
        {name: _plain(_typed.deserialize(value))
         for name, value in record["dynamodb"]["NewImage"].items()}
        for record in records
        if record.get("eventName") == "INSERT"
    ]


def handle(records: Iterable[dict], apply: Callable[[dict], object]) -> dict[str, int]:
    """``apply(image)`` for each new fact in ``records``; returns ``{"applied": n, "failed":
    m}``. ValueError from ``apply`` counts as failed (logged); anything else propagates, for
    the batch to be retried (see the module's docstring)."""
    applied = failed = 0
    for image in images(records):
        try:
            apply(image)
        except ValueError as exc:
            failed += 1
            log.warning("fact %s not counted: %s", image.get("fact_id", "?"), exc)
        else:
            applied += 1
    return {"applied": applied, "failed": failed}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, set):
        return {_plain(item) for item in value}
    return value
