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


def test_handle_applies_each_fact_and_counts():
    seen = []
    counts = handle([record("INSERT", "f1"), record("MODIFY", "f0"), record("INSERT", "f2")],
                    lambda image: seen.append(image["fact_id"]))
    assert seen == ["f1", "f2"]
    assert counts == {"applied": 2, "failed": 0}


def test_a_malformed_fact_is_logged_counted_and_the_rest_go_on(caplog):
    seen = []

    def apply(image):
        if image["fact_id"] == "bad":
            raise ValueError("values: 'x' must be a whole number")
        seen.append(image["fact_id"])

    with caplog.at_level(logging.WARNING, logger="chalicelib.reports.stream"):
        counts = handle([record("INSERT", "f1"), record("INSERT", "bad"),
                         record("INSERT", "f2")], apply)
    assert counts == {"applied": 2, "failed": 1}
    assert seen == ["f1", "f2"]
    assert "bad" in caplog.text and "whole number" in caplog.text


def test_a_record_that_is_no_image_is_counted_as_failed():
    seen = []
    counts = handle([record("INSERT", "f1", odd={"X": "?"}), record("INSERT", "f2")],
                    lambda image: seen.append(image["fact_id"]))
    assert counts == {"applied": 1, "failed": 1}
    assert seen == ["f2"]


def test_any_other_error_propagates_for_the_batch_to_be_retried():
    seen = []

    def apply(image):
        seen.append(image["fact_id"])
        raise ConnectionError("storage down")

    with pytest.raises(ConnectionError):
        handle([record("INSERT", "f1"), record("INSERT", "f2")], apply)
    assert seen == ["f1"]


def test_the_root_hands_each_image_to_apply_fact_image():
    class Counting(Root):
        def __init__(self):
            super().__init__()
            self.images: list[dict] = []

        def apply_fact_image(self, image):
            self.images.append(image)

    parts = Counting()
    assert parts.apply_fact_records([record("INSERT", "f1")]) == {"applied": 1, "failed": 0}
    assert parts.images == [{"fact_id": "f1", "kind": "answered"}]


def test_the_stream_handler_is_registered_only_with_a_stream_to_read():
    arn = "arn:aws:dynamodb:us-east-1:1:table/switchboard-dev-facts/stream/2026-11-30T00:00:00"
    assert facts_stream_arn({"FACTS_STREAM_ARN": arn}) == arn
    assert facts_stream_arn({}) is None
    assert facts_stream_arn({"FACTS_STREAM_ARN": " "}) is None
    # in Lambda the deploy shell's variable is gone, yet app.apply_facts must exist
    assert facts_stream_arn({"AWS_LAMBDA_FUNCTION_NAME": "switchboard-dev-apply_facts"})
