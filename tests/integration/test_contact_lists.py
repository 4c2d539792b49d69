"""Contact lists through the API on DynamoDB Local: a 1,000-row import with bad rows, the report,
the rejected rows as CSV, chunks sent again, the compliance gate's first report, and the 400 /
413 / 409 answers."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from chalicelib.campaigns.list_rows import MAX_CHUNK_BYTES, split_chunks
from chalicelib.store import contact_lists as store

CSV = {"Content-Type": "text/csv"}
JSON = {"Content-Type": "application/json"}


def create(client, **body) -> dict:
    response = client.http.post("/contact-lists", headers=JSON,
                                body=json.dumps({"name": "November", **body}))
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def send(client, list_id: str, chunk: int, body: str | bytes, last: bool = False):
    query = f"?chunk={chunk}" + ("&last=true" if last else "")
    return client.http.post(f"/contact-lists/{list_id}/rows{query}", headers=CSV, body=body)


def report(client, list_id: str) -> dict:
    response = client.http.get(f"/contact-lists/{list_id}")
    assert response.status_code == 200
    return json.loads(response.body)


def rejected(client, list_id: str) -> list[dict]:
    response = client.http.get(f"/contact-lists/{list_id}/rejected")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.body.decode()
                                           if isinstance(response.body, bytes)
                                           else response.body)))


def thousand_rows() -> tuple[str, dict[int, str]]:
    """A 1,000-row list (header + 1,000 data rows) and the reason expected on each bad line."""
    lines = ["phone,name,language,timezone,plan"]
    bad: dict[int, str] = {}
    for i in range(1000):
        line = i + 2  # line 1 is the header
        phone = f"(415) 555-{1000 + i:04d}"
        row = [phone, f"Customer {i}", "en-US", "", "gold" if i % 2 else "silver"]
        if i % 100 == 1:
            row[0], bad[line] = ("911", "short_code") if i < 500 else ("+1 415 55", "invalid")
        elif i % 100 == 2:
            row[0], bad[line] = "", "missing_phone"
        elif i % 100 == 3:
            row[0], bad[line] = "+1 900 555 0123", "premium_rate"
        elif i % 100 == 4:
            row[0], bad[line] = f"+1 415 555 {1000 + i - 4:04d}", "duplicate"  # of row i-4
        elif i % 100 == 5:
            row.append("surplus"), bad.__setitem__(line, "too_many_columns")
        elif i % 100 == 6:
            row[3], bad[line] = "Mars/Olympus", "invalid_timezone"
        elif i % 100 == 7:
            row[0] = '"' + row[0] + '"'  # quoted: fine
        lines.append(",".join(row))
    return "\r\n".join(lines) + "\r\n", bad


def test_a_thousand_rows_with_bad_ones_give_the_counts_and_the_rejected_rows(client):
    contact_list = create(client, default_region="US")
    assert contact_list["status"] == "new" and contact_list["received"] == 0
    body, bad = thousand_rows()
    started = time.monotonic()
    response = send(client, contact_list["list_id"], 0, body, last=True)
    took = time.monotonic() - started
    assert response.status_code == 200, response.body
    answer = json.loads(response.body)
    duplicates = sum(1 for reason in bad.values() if reason == "duplicate")
    expected = {"received": 1000, "accepted": 1000 - len(bad),
                "rejected": len(bad) - duplicates, "duplicates": duplicates, "blocked": 0}
    assert {name: answer["chunk"][name] for name in expected} == expected
    listed = report(client, contact_list["list_id"])
    assert {name: listed[name] for name in expected} == expected
    assert listed["status"] == "complete" and listed["chunks"] == 1
    rows = rejected(client, contact_list["list_id"])
    assert {int(row["line"]): row["reason"] for row in rows} == bad
    assert list(rows[0])[:3] == ["reason", "chunk", "line"] and "plan" in rows[0]
    assert took < 20, f"a 1,000-row chunk took {took:.1f} s"
    stored = {row.phone: row for row in store.rows(contact_list["list_id"])}
    assert len(stored) == expected["accepted"]
    assert stored["+14155551000"].attributes == {"plan": "silver"}
    assert stored["+14155551000"].name == "Customer 0"


def test_a_chunk_sent_again_adds_nothing_and_other_content_under_its_number_is_refused(client):
    list_id = create(client)["list_id"]
    body = "phone,name\n+14155552001,Ann\n+14155552002,Bob\n+14155552001,Ann again\n"
    first = json.loads(send(client, list_id, 0, body).body)
    assert first["chunk"]["accepted"] == 2 and first["chunk"]["duplicates"] == 1
    again = send(client, list_id, 0, body)
    assert again.status_code == 200 and json.loads(again.body)["chunk"]["replayed"] is True
    assert json.loads(again.body)["list"]["accepted"] == 2
    assert send(client, list_id, 0, body + "+14155552003,Cy\n").status_code == 409
    # a number of another chunk is a duplicate there, however often that chunk comes
    second = "phone\n+14155552002\n+14155552004\n"
    for _ in range(2):
        assert send(client, list_id, 1, second, last=True).status_code == 200
    listed = report(client, list_id)
    assert (listed["received"], listed["accepted"], listed["duplicates"]) == (5, 3, 2)
    assert listed["status"] == "complete"
    assert len(rejected(client, list_id)) == 2


def test_a_chunk_that_failed_half_way_finishes_when_sent_again(client):
    """Rows stored before a failure count as the chunk's own when it comes again."""
    list_id = create(client)["list_id"]
    body = "phone\n+14155553001\n+14155553002\n"
    from chalicelib.campaigns.model import ListRow

    assert store.add_row(list_id, ListRow(phone="+14155553001", chunk=0, line=2))
    answer = json.loads(send(client, list_id, 0, body).body)
    assert (answer["chunk"]["accepted"], answer["chunk"]["duplicates"]) == (2, 0)


def test_the_status_waits_for_every_chunk_before_the_last(client):
    list_id = create(client)["list_id"]
    assert send(client, list_id, 1, "phone\n+14155554001\n", last=True).status_code == 200
    assert report(client, list_id)["status"] == "importing"
    assert send(client, list_id, 0, "phone\n+14155554002\n").status_code == 200
    assert report(client, list_id)["status"] == "complete"


def test_a_number_on_the_do_not_call_list_shows_in_the_gate_report(client):
    response = client.http.post("/dnc", headers=JSON,
                                body=json.dumps({"number": "+14155555001"}))
    assert response.status_code == 201
    list_id = create(client)["list_id"]
    answer = json.loads(send(client, list_id, 0, "phone\n4155555001\n4155555002\n").body)
    assert answer["chunk"]["accepted"] == 2  # counted, not rejected: the gate decides later
    assert answer["list"]["blocked"] == 1
    assert answer["list"]["blocked_reasons"] == {"do_not_call": 1}


@pytest.mark.parametrize("body, field", [
    ("", "body"),
    (b"\xff\xfephone\n1\n", "body"),
    ("name,language\nAnn,en\n", "phone"),
    ("phone,phone\n1,2\n", "header"),
])
def test_a_body_that_is_not_a_list_is_refused_naming_the_field(client, body, field):
    list_id = create(client)["list_id"]
    response = send(client, list_id, 0, body)
    assert response.status_code == 400
    assert json.loads(response.body)["field"] == field
    assert report(client, list_id)["chunks"] == 0


def test_the_chunk_number_is_required_and_bounded(client):
    list_id = create(client)["list_id"]
    for query in ("", "?chunk=", "?chunk=-1", "?chunk=10000", "?chunk=0&last=maybe"):
        response = client.http.post(f"/contact-lists/{list_id}/rows{query}", headers=CSV,
                                    body="phone\n+14155556001\n")
        assert response.status_code == 400, query


def test_a_body_over_five_megabytes_is_413(client):
    list_id = create(client)["list_id"]
    body = "phone,note\n" + ("+14155557001," + "x" * 80 + "\n") * (MAX_CHUNK_BYTES // 90 + 10)
    assert len(body) > MAX_CHUNK_BYTES
    response = send(client, list_id, 0, body)
    assert response.status_code == 413 and json.loads(response.body)["field"] == "body"
    chunks = list(split_chunks(body.encode()))
    assert len(chunks) == 2 and all(len(chunk) <= MAX_CHUNK_BYTES for chunk in chunks)


def test_unknown_lists_and_bad_list_bodies(client):
    assert client.http.get("/contact-lists/cl_AAAAAAAAAAAAAAAA").status_code == 404
    assert client.http.get("/contact-lists/nope/rejected").status_code == 404
    assert send(client, "cl_AAAAAAAAAAAAAAAA", 0, "phone\n1\n").status_code == 404
    for body, field in (({}, "name"), ({"name": "x", "default_region": "XX"}, "default_region"),
                        ({"name": "x", "fallback_timezone": "Nowhere"}, "fallback_timezone"),
                        ({"name": "x", "colour": "red"}, "colour")):
        response = client.http.post("/contact-lists", headers=JSON, body=json.dumps(body))
        assert response.status_code == 400 and json.loads(response.body)["field"] == field
