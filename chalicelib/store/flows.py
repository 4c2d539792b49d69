"""Published flow versions in DynamoDB.

A version is written once and never changed, so a call pins ``(flow_id, version)`` at its start
and keeps it, and every Lambda may cache a version forever. Which version new calls get is the
pointer item (version 0, ``live_version``); it is cached for ``FLOW_CACHE_SECONDS`` so a new
version reaches new calls within that time, without a deploy. Publishing writes the version and
moves the pointer in one transaction, conditional on the pointer not having moved meanwhile, so
two publishers can never both claim version N.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.ivr.model import Flow, PublishedVersion
from chalicelib.store.models import FlowVersion, transaction_connection

POINTER = 0


class FlowNotPublished(LookupError):
    pass


class PublishConflict(RuntimeError):
    """Someone else published this flow at the same moment; try again."""


_versions: dict[tuple[str, int], Flow] = {}
_live: dict[str, tuple[float, int]] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _versions.clear()
        _live.clear()


def get_version(flow_id: str, version: int) -> Flow:
    key = (flow_id, version)
    flow = _versions.get(key)
    if flow is None:
        try:
            item = FlowVersion.get(flow_id, version)
        except DoesNotExist as exc:
            raise FlowNotPublished(f"flow {flow_id!r} has no version {version}") from exc
        flow = Flow.from_document(json.loads(item.document))
        with _lock:
            _versions[key] = flow
    return flow


def live_version(flow_id: str, max_age: float) -> int:
    cached = _live.get(flow_id)
    if cached and time.monotonic() - cached[0] < max_age:
        return cached[1]
    try:
        pointer = FlowVersion.get(flow_id, POINTER)
    except DoesNotExist as exc:
        raise FlowNotPublished(f"flow {flow_id!r} is not published") from exc
    with _lock:
        _live[flow_id] = (time.monotonic(), int(pointer.live_version))
    return int(pointer.live_version)


def get_live(flow_id: str, max_age: float) -> Flow:
    return get_version(flow_id, live_version(flow_id, max_age))


def publish(flow: Flow, published_by: str = "cli") -> tuple[int, bool]:
    """Publish ``flow`` (already linted) as a new version; return (version, created).

    Publishing the same content as the live version creates nothing.
    """
    try:
        pointer = FlowVersion.get(flow.id, POINTER, consistent_read=True)
        current = int(pointer.live_version)
    except DoesNotExist:
        pointer, current = None, 0
    if current:
        live = FlowVersion.get(flow.id, current, consistent_read=True)
        if live.checksum == flow.checksum:
            return current, False
    version = current + 1
    document = flow.to_document()
    document["version"] = version
    item = FlowVersion(
        flow.id,
        version,
        document=json.dumps(document, ensure_ascii=False, sort_keys=True),
        checksum=flow.checksum,
        published_at=datetime.now(UTC),
        published_by=published_by,
    )
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(item, condition=FlowVersion.version.does_not_exist())
            if pointer is None:
                tx.save(
                    FlowVersion(flow.id, POINTER, live_version=version),
                    condition=FlowVersion.flow_id.does_not_exist(),
                )
            else:
                tx.update(
                    FlowVersion(flow.id, POINTER),
                    actions=[FlowVersion.live_version.set(version)],
                    condition=FlowVersion.live_version == current,
                )
    except TransactWriteError as exc:
        raise PublishConflict(f"flow {flow.id!r} was published concurrently") from exc
    with _lock:
        _live.pop(flow.id, None)
    return version, True


def list_versions(flow_id: str) -> list[PublishedVersion]:
    """Every published version of ``flow_id``, oldest first."""
    return [PublishedVersion(flow_id=v.flow_id, version=int(v.version), checksum=v.checksum or "",
                             published_at=v.published_at, published_by=v.published_by)
            for v in FlowVersion.query(flow_id) if v.version != POINTER]


def published_flows() -> list[tuple[str, int]]:
    """Every published flow as ``(flow_id, live version)``, by id: the pointer items of a small
    configuration table, read whole (a Scan of a few items, like the queues' list)."""
    pointers = FlowVersion.scan(FlowVersion.version == POINTER)
    return sorted((p.flow_id, int(p.live_version)) for p in pointers if p.live_version)
