"""Feed a table's DynamoDB stream to a handler on this machine, as Lambda does in AWS.

``make run`` runs it for the facts table (``[streams]``), with the app's own
``root().apply_fact_records`` as the handler: the rollups move on a laptop as they do in AWS.
DynamoDB Local has Streams (PITFALLS.md); this is the event source mapping it lacks.

What Lambda does, and so does :class:`StreamPoller`:

* The handler gets a batch of one shard's records as Lambda's dicts (``eventName``,
  ``eventSource``, ``awsRegion``, ``dynamodb.NewImage``, ``dynamodb.SequenceNumber``…).
* A shard is read from ``TRIM_HORIZON`` the first time it is seen, then from where it stopped.
* At least once: a handler that raises gets the same records again at the next poll, and the
  shard moves on only when it accepts them (the handler must be idempotent).
* Order per key: a shard's children are read only after it is closed and read to its end.

A table that does not exist yet (or streams nothing) is waited for, every ``wait`` seconds:
``make run`` may start before the table is made. A table made again gets a new stream, followed
from its start.

DynamoDB Local quirk (seen here): its sequence numbers count the writes to every table, so when
anything else is written between a table's making and its first record (``make run`` loads the
demo data), an iterator taken while the shard had no record yet, and every
``NextShardIterator`` that follows it, fails with ``TrimmedDataAccessException`` once that
first record lands; a fresh ``TRIM_HORIZON`` iterator reads it. So for a shard the handler has
accepted nothing from, that error is the expected first-record case: the shard is read again
from its start, quietly (nothing accepted, so nothing is skipped or given twice). Anywhere else
it is a real fault (records trimmed before we read them, a stream made again): logged as a
warning, and the stream is followed again from its start.

    python -m infra.local.streams --table switchboard-local-facts
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

log = logging.getLogger("infra.local.streams")

BATCH_SIZE = 100  # as app.py's apply_facts asks of Lambda
_GONE = ("ResourceNotFoundException", "TrimmedDataAccessException")


class StreamPoller:
    """Polls ``table_name``'s latest stream at ``endpoint`` and hands each shard's new records
    to ``handler(records)``. ``poll_once`` is one round; ``run_forever`` repeats it."""

    def __init__(self, endpoint: str, table_name: str,
                 handler: Callable[[list[dict]], object], *, interval: float = 0.5,
                 wait: float = 3.0, region: str | None = None):
        region = region or os.environ.get("AWS_REGION") or "us-east-1"
        self.table_name = table_name
        self.handler = handler
        self.interval = interval
        self.wait = wait
        self.region = region
        self.waiting = False  # True while the table or its stream is missing
        self.failing = False  # True while the handler refuses a batch: retried every ``wait``
        self._tables = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
        self._streams = boto3.client("dynamodbstreams", endpoint_url=endpoint,
                                     region_name=region)
        self._reset(None)

    def _reset(self, stream_arn: str | None) -> None:
        self._stream_arn = stream_arn
        self._iterators: dict[str, str] = {}  # shard -> where its next read starts
        self._last: dict[str, str] = {}  # shard -> sequence number of the last record accepted
        self._pending: dict[str, tuple[list[dict], str | None]] = {}  # refused: records, next
        self._drained: set[str] = set()  # closed shards read to their end

    def poll_once(self) -> int:
        """One round over the stream's shards; returns how many records the handler accepted.
        0 while the table or its stream is missing (``waiting`` is then True)."""
        try:
            stream_arn = self._latest_stream()
            if stream_arn is None:
                return 0
            return sum(self._poll_shard(shard) for shard in self._readable_shards())
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _GONE:
                raise
            log.warning("%s: stream gone (%s); starting over", self.table_name, exc)
            self._reset(None)
            return 0

    def run_forever(self, stop: threading.Event) -> None:
        """Poll every ``interval`` seconds (``wait`` while the table is missing) until
        ``stop`` is set; every ``wait`` seconds while the table is missing, the handler fails or
        a poll fails (DynamoDB Local restarting: logged, then retried)."""
        while not stop.is_set():
            pause = self.interval
            try:
                self.poll_once()
            except Exception:  # keep polling: the next round retries what failed
                log.exception("%s: poll failed", self.table_name)
                pause = self.wait
            stop.wait(self.wait if self.waiting or self.failing else pause)

    def _latest_stream(self) -> str | None:
        try:
            table = self._tables.describe_table(TableName=self.table_name)["Table"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            table = {}
        arn = table.get("LatestStreamArn") if table.get("StreamSpecification", {}).get(
            "StreamEnabled") else None
        if arn is None:
            if not self.waiting:
                log.info("%s: no such table with a stream yet; waiting", self.table_name)
            self.waiting = True
            self._reset(None)
            return None
        if self.waiting or arn != self._stream_arn:
            log.info("%s: following %s", self.table_name, arn)
        self.waiting = False
        if arn != self._stream_arn:
            self._reset(arn)
        return arn

    def _readable_shards(self) -> list[dict]:
        """The stream's shards that can be read now: not yet read to their end, and with no
        parent still being read."""
        shards: list[dict] = []
        start: dict[str, Any] = {}
        while True:
            page = self._streams.describe_stream(StreamArn=self._stream_arn, **start)
            description = page["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                break
            start = {"ExclusiveStartShardId": last}
        present = {shard["ShardId"] for shard in shards}
        return [shard for shard in shards
                if shard["ShardId"] not in self._drained
                and (shard.get("ParentShardId") not in present
                     or shard["ParentShardId"] in self._drained)]

    def _poll_shard(self, shard: dict) -> int:
        shard_id = shard["ShardId"]
        if shard_id in self._pending:
            records, following = self._pending.pop(shard_id)
        else:
            answer = self._read(shard_id)
            records, following = answer.get("Records", []), answer.get("NextShardIterator")
        if records:
            try:
                self.handler(records)
            except Exception:
                log.exception("%s: handler failed on %d records of %s; they come again",
                              self.table_name, len(records), shard_id)
                self._pending[shard_id] = (records, following)
                self.failing = True
                return 0
            self.failing = False
            self._last[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
        if following is None:  # closed and read to its end: its children come next
            self._drained.add(shard_id)
            self._iterators.pop(shard_id, None)
        else:
            self._iterators[shard_id] = following
        return len(records)

    def _read(self, shard_id: str) -> dict:
        iterator = self._iterators.get(shard_id) or self._iterator(shard_id)
        try:
            answer = self._streams.get_records(ShardIterator=iterator, Limit=BATCH_SIZE)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            # an iterator of a shard that had no record yet: see the module's docstring
            first_record = code == "TrimmedDataAccessException" and shard_id not in self._last
            if code != "ExpiredIteratorException" and not first_record:
                raise
            log.debug("%s: %s of %s; reading on from a new iterator", self.table_name, code,
                      shard_id)
            answer = self._streams.get_records(ShardIterator=self._iterator(shard_id),
                                               Limit=BATCH_SIZE)
        for record in answer.get("Records", []):
            record.setdefault("eventSourceARN", self._stream_arn)  # Lambda's records carry it
            record.setdefault("awsRegion", self.region)
            stamp = record["dynamodb"].get("ApproximateCreationDateTime")
            if isinstance(stamp, datetime):  # boto3 parsed it; Lambda gives epoch seconds
                record["dynamodb"]["ApproximateCreationDateTime"] = int(stamp.timestamp())
        return answer

    def _iterator(self, shard_id: str) -> str:
        """From the start of the shard, or just after the last record accepted."""
        last = self._last.get(shard_id)
        where = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                 if last else {"ShardIteratorType": "TRIM_HORIZON"})
        return self._streams.get_shard_iterator(StreamArn=self._stream_arn, ShardId=shard_id,
                                                **where)["ShardIterator"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Feed a table's stream to the app, like Lambda")
    parser.add_argument("--table", required=True, help="full table name, e.g. "
                                                       "switchboard-local-facts")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # the app's settings and models, as the scheduler gets them (the environment make run set)
    from chalicelib.settings import get_settings
    from chalicelib.wiring import root

    endpoint = get_settings().dynamodb_endpoint
    if not endpoint:
        parser.error("DYNAMODB_ENDPOINT is not set: this runs against DynamoDB Local only")
    poller = StreamPoller(endpoint, args.table, _apply(root), interval=args.interval)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # explicit: may start out ignored
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    poller.run_forever(stop)
    return 0


def _apply(root: Callable[[], Any]) -> Callable[[list[dict]], object]:
    def apply(records: list[dict]) -> object:
        counts = root().apply_fact_records(records)
        log.info("%d records: %s", len(records), counts)
        return counts

    return apply


if __name__ == "__main__":
    sys.exit(main())
