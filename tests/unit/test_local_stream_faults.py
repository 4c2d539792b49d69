"""The local stream poller on a scripted stream: a shard's first-record refusal is taken
quietly, a trim after records were accepted is still a warning (the real fault)."""

from __future__ import annotations

import logging

import pytest
from botocore.exceptions import ClientError

from infra.local.streams import StreamPoller

ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/t-facts/stream/2026-11-30T11:00:00.000"
SHARD = "shardId-1"


def trimmed() -> ClientError:
    return ClientError({"Error": {"Code": "TrimmedDataAccessException",
                                  "Message": "read past the oldest stream record"}},
                       "GetRecords")


def record(sequence: str) -> dict:
    return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": sequence,
                                                "NewImage": {"fact_id": {"S": sequence}}}}


class FakeTables:
    def describe_table(self, TableName):
        return {"Table": {"LatestStreamArn": ARN,
                          "StreamSpecification": {"StreamEnabled": True}}}


class FakeStreams:
    """One open shard; ``answers`` says what each GetRecords gives (a list of records, or an
    exception to raise), in order; the iterators handed out are remembered."""

    def __init__(self, answers: list):
        self.answers = answers
        self.iterators: list[dict] = []

    def describe_stream(self, StreamArn, **start):
        return {"StreamDescription": {"Shards": [{"ShardId": SHARD}]}}

    def get_shard_iterator(self, StreamArn, ShardId, **where):
        self.iterators.append(where)
        return {"ShardIterator": f"fresh-{len(self.iterators)}"}

    def get_records(self, ShardIterator, Limit):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"Records": answer, "NextShardIterator": f"after-{ShardIterator}"}


def poller_on(answers: list) -> tuple[StreamPoller, FakeStreams, list[list[dict]]]:
    batches: list[list[dict]] = []
    poller = StreamPoller("http://127.0.0.1:9", "t-facts", batches.append)
    streams = FakeStreams(answers)
    poller._tables, poller._streams = FakeTables(), streams  # noqa: SLF001 - the AWS boundary
    return poller, streams, batches


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_first_record_refused_on_an_empty_shards_iterator_is_read_at_once(caplog):
    caplog.set_level(logging.DEBUG, logger="infra.local.streams")
    poller, streams, batches = poller_on([[], trimmed(), [record("7")]])
    assert poller.poll_once() == 0  # the empty shard
    assert poller.poll_once() == 1  # refused, then read from a new TRIM_HORIZON iterator
    assert [r["dynamodb"]["SequenceNumber"] for batch in batches for r in batch] == ["7"]
    assert streams.iterators == [{"ShardIteratorType": "TRIM_HORIZON"}] * 2
    assert warnings(caplog) == []


def test_a_trim_after_records_were_accepted_is_still_a_warning(caplog):
    poller, streams, batches = poller_on([[record("3")], trimmed()])
    assert poller.poll_once() == 1
    assert poller.poll_once() == 0  # records we never read are gone: start over, loudly
    assert len(warnings(caplog)) == 1 and "stream gone" in warnings(caplog)[0]
    assert streams.iterators == [{"ShardIteratorType": "TRIM_HORIZON"}]


def test_a_first_record_refused_twice_is_a_warning_too(caplog):
    poller, _, _ = poller_on([[], trimmed(), trimmed()])
    assert poller.poll_once() == 0
    assert poller.poll_once() == 0
    assert len(warnings(caplog)) == 1
