"""The facts table's stream records, as Lambda hands them over, into plain fact images."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from chalicelib.reports.stream import handle, images
from chalicelib.wiring import Root, facts_stream_arn


def record(event: str, fact_id: str, **more) -> dict:
    image = {"fact_id": {"S": fact_id}, "kind": {"S": "answered"}, **more}
    return {"eventID": f"e-{fact_id}", "eventName": event, "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"fact_id": {"S": fact_id}}, "NewImage": image,
                         "SequenceNumber": "1", "SizeBytes": 10,
                         "StreamViewType": "NEW_IMAGE"}}


def test_inserts_become_plain_images_in_order():
    records = [
        record("INSERT", "f1", values={"M": {"answered": {"N": "1"}, "wait_seconds": {"N": "12"}}},
               scopes={"M": {"queue": {"S": "support"}}}),
        record("INSERT", "f2", ratio={"N": "0.25"}, tags={"SS": ["a", "b"]},
               parts={"L": [{"N": "3"}, {"BOOL": True}, {"NULL": True}]},
               sizes={"NS": ["1", "2.5"]}, blob={"B": "AAE="}),
    ]
    assert images(records) == [
        {"fact_id": "f1", "kind": "answered",
         "values": {"answered": 1, "wait_seconds": 12}, "scopes": {"queue": "support"}},
        {"fact_id": "f2", "kind": "answered", "ratio": Decimal("0.25"), "tags": {"a", "b"},
         "parts": [3, True, None], "sizes": {1, Decimal("2.5")}, "blob": "AAE="},
    ]
    whole = images(records)[0]["values"]["wait_seconds"]
    assert type(whole) is int


def test_modify_and_remove_carry_nothing_to_count():
    records = [record("MODIFY", "f1"), record("INSERT", "f2"), record("REMOVE", "f3")]
    records[2]["dynamodb"].pop("NewImage")  # a REMOVE under NEW_IMAGE has no new image
    assert [image["fact_id"] for image in images(records)] == ["f2"]
    assert images([]) == []


def fact_id(image: dict) -> str:
    return image["fact_id"]


def test_handle_reads_each_fact_and_applies_the_batch_at_once():
    batches = []
    counts = handle([record("INSERT", "f1"), record("MODIFY", "f0"), record("INSERT", "f2")],
                    fact_id, batches.append)
    assert batches == [["f1", "f2"]]
    assert counts == {"applied": 2, "failed": 0}
    assert handle([record("MODIFY", "f0")], fact_id, batches.append) == {"applied": 0,
                                                                          "failed": 0}
    assert len(batches) == 1  # nothing to apply: no call


def test_a_malformed_fact_is_logged_counted_and_the_rest_go_on(caplog):
    batches = []

    def read(image):
        if image["fact_id"] == "bad":
            raise ValueError("values: 'x' must be a whole number")
        return image["fact_id"]

    with caplog.at_level(logging.WARNING, logger="chalicelib.reports.stream"):
        counts = handle([record("INSERT", "f1"), record("INSERT", "bad"),
                         record("INSERT", "f2")], read, batches.append)
    assert counts == {"applied": 2, "failed": 1}
    assert batches == [["f1", "f2"]]
    assert "bad" in caplog.text and "whole number" in caplog.text


def test_a_record_that_is_no_image_is_counted_as_failed():
    batches = []
    counts = handle([record("INSERT", "f1", odd={"X": "?"}), record("INSERT", "f2")],
                    fact_id, batches.append)
    assert counts == {"applied": 1, "failed": 1}
    assert batches == [["f2"]]


def test_any_other_error_propagates_for_the_batch_to_be_retried():
    def apply_all(found):
        raise ConnectionError("storage down")

    with pytest.raises(ConnectionError):
        handle([record("INSERT", "f1"), record("INSERT", "f2")], fact_id, apply_all)


def test_the_root_hands_the_batchs_facts_to_apply_facts():
    class Counting(Root):
        def __init__(self):
            super().__init__()
            self.batches: list[list] = []

        def apply_facts(self, found):
            self.batches.append(found)
            return len(found)

    parts = Counting()
    image = {"fact_id": {"S": "f1"}, "kind": {"S": "queue_offered"},
             "at": {"S": "2026-11-30T15:00:00+00:00"}, "zone": {"S": "UTC"},
             "scopes": {"M": {"queue": {"S": "support"}}},
             "figures": {"M": {"offered": {"N": "1"}}}}
    counts = parts.apply_fact_records([{"eventName": "INSERT", "dynamodb": {"NewImage": image}}])
    assert counts == {"applied": 1, "failed": 0}
    [[fact]] = parts.batches
    assert (fact.fact_id, fact.values) == ("f1", {"offered": 1})


def test_the_stream_handler_is_registered_only_with_a_stream_to_read():
    arn = "arn:aws:dynamodb:us-east-1:1:table/switchboard-dev-facts/stream/2026-11-30T00:00:00"
    assert facts_stream_arn({"FACTS_STREAM_ARN": arn}) == arn
    assert facts_stream_arn({}) is None
    assert facts_stream_arn({"FACTS_STREAM_ARN": " "}) is None
    # in Lambda the deploy shell's variable is gone, yet app.apply_facts must exist
    assert facts_stream_arn({"AWS_LAMBDA_FUNCTION_NAME": "switchboard-dev-apply_facts"})
