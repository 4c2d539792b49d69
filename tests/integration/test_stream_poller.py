"""The laptop's stream consumer against DynamoDB Local's Streams, and app.py's stream handler."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from chalice.app import DynamoDBRecord

from chalicelib.reports.stream import images
from infra.local.streams import StreamPoller

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def table(dynamodb_endpoint):
    """A table of its own with a NEW_IMAGE stream (the facts table's shape), dropped after."""
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    name = f"{os.environ['TABLE_PREFIX']}stream-probe-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "fact_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "fact_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    yield client, name
    client.delete_table(TableName=name)


def put(client, table_name: str, *fact_ids: str) -> None:
    for number, fact_id in enumerate(fact_ids):
        client.put_item(TableName=table_name,
                        Item={"fact_id": {"S": fact_id}, "answered": {"N": str(number + 1)}})


def test_new_records_are_handed_over_once_in_order(table, dynamodb_endpoint):
    client, name = table
    batches: list[list[dict]] = []
    poller = StreamPoller(dynamodb_endpoint, name, batches.append)
    put(client, name, "f1", "f2", "f3")

    assert poller.poll_once() == 3
    assert [image["fact_id"] for batch in batches for image in images(batch)] == ["f1", "f2", "f3"]
    first = batches[0][0]
    assert first["eventName"] == "INSERT"
    assert first["dynamodb"]["NewImage"] == {"fact_id": {"S": "f1"}, "answered": {"N": "1"}}
    assert f":table/{name}/stream/" in first["eventSourceARN"]
    # the very dict Lambda would give: Chalice's own record class reads it
    assert DynamoDBRecord(first, None).table_name == name

    assert poller.poll_once() == 0  # nothing new
    put(client, name, "f4")
    assert poller.poll_once() == 1
    assert [image["fact_id"] for image in images(batches[-1])] == ["f4"]


def test_a_stream_followed_before_its_first_record_takes_it_quietly(table, dynamodb_endpoint,
                                                                      caplog):
    # make run's case: the facts table is made, the demo data is written to other tables, the
    # poller polls the empty shard, and the first fact lands later (DynamoDB Local then refuses
    # the empty shard's iterator: its sequence numbers count the other tables' writes too)
    client, name = table
    other = f"{name}-other"
    client.create_table(
        TableName=other,
        AttributeDefinitions=[{"AttributeName": "fact_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "fact_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    batches: list[list[dict]] = []
    poller = StreamPoller(dynamodb_endpoint, name, batches.append)
    caplog.set_level(logging.INFO, logger="infra.local.streams")
    try:
        put(client, other, "demo1", "demo2", "demo3")
        assert poller.poll_once() == 0
        assert poller.poll_once() == 0
        put(client, name, "f1", "f2")
    finally:
        client.delete_table(TableName=other)

    assert poller.poll_once() == 2  # at once, not after starting over
    assert [image["fact_id"] for batch in batches for image in images(batch)] == ["f1", "f2"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    put(client, name, "f3")
    assert poller.poll_once() == 1
    assert [image["fact_id"] for image in images(batches[-1])] == ["f3"]


def test_a_refused_batch_comes_again_until_accepted(table, dynamodb_endpoint):
    client, name = table
    given: list[list[str]] = []
    refusals = [RuntimeError("storage down")]

    def handler(records):
        given.append([image["fact_id"] for image in images(records)])
        if refusals:
            raise refusals.pop()

    poller = StreamPoller(dynamodb_endpoint, name, handler)
    put(client, name, "f1", "f2", "f3")
    assert poller.poll_once() == 0
    assert poller.failing
    put(client, name, "f4")  # arrives while the refused batch waits: it comes after
    assert poller.poll_once() == 3
    assert not poller.failing
    assert poller.poll_once() == 1
    assert given == [["f1", "f2", "f3"], ["f1", "f2", "f3"], ["f4"]]


def test_a_table_not_made_yet_is_waited_for(dynamodb_endpoint):
    name = f"{os.environ['TABLE_PREFIX']}stream-missing-{uuid.uuid4().hex[:8]}"
    poller = StreamPoller(dynamodb_endpoint, name, lambda records: None)
    assert poller.poll_once() == 0
    assert poller.waiting
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "fact_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "fact_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    try:
        put(client, name, "f1")
        assert poller.poll_once() == 1
        assert not poller.waiting
    finally:
        client.delete_table(TableName=name)


def _event_sources(**env: str) -> list[dict]:
    script = ("import json, app; print(json.dumps([{'name': s.name, 'arn': s.stream_arn, "
              "'batch': s.batch_size, 'start': s.starting_position} for s in app.app.event_sources "
              "if hasattr(s, 'stream_arn')]))")
    clean = {key: value for key, value in os.environ.items()
             if key not in ("FACTS_STREAM_ARN", "AWS_LAMBDA_FUNCTION_NAME")}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**clean, **env},
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_app_registers_apply_facts_only_with_a_stream_arn():
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/switchboard-dev-facts/stream/2026-11-30"
    assert _event_sources(FACTS_STREAM_ARN=arn) == [
        {"name": "apply_facts", "arn": arn, "batch": 100, "start": "TRIM_HORIZON"}]
    assert _event_sources() == []
