"""Reading a contact list's CSV (pure): rows checked with the callbacks' number rules, reasons
for the rest, nothing stops a chunk; and a file cut into chunks on record boundaries."""

from __future__ import annotations

import csv
import io

import pytest

from chalicelib.campaigns.list_rows import (
    CsvRefused,
    parse_chunk,
    split_chunks,
)
from chalicelib.campaigns.model import ListRow


def reasons(parsed) -> dict[int, str]:
    return {row.line: row.reason for row in parsed.rejected}


def test_good_rows_become_contacts_with_their_attributes():
    parsed = parse_chunk(3, "\ufeffPhone , Name,Language,TimeZone,Plan\n"
                            "(415) 555-2671,Ann,en-US,America/Los_Angeles,gold\n"
                            "+44 20 7946 0000,,,,\n", "US")
    assert parsed.header == ("phone", "name", "language", "timezone", "plan")
    assert parsed.received == 2 and parsed.rejected == []
    assert parsed.rows == [
        ListRow(phone="+14155552671", chunk=3, line=2, name="Ann", language="en-US",
                timezone="America/Los_Angeles", attributes={"plan": "gold"}),
        ListRow(phone="+442079460000", chunk=3, line=3)]


def test_bad_rows_are_rejected_with_their_reason_and_the_rest_goes_on():
    body = ("phone,name,timezone\n"
            "911,Emergency,\n"              # 2
            "+1 900 555 0123,Premium,\n"    # 3
            ",No phone,\n"                  # 4
            "4155552671,Ann,\n"             # 5
            "415 555 2671,Ann again,\n"     # 6 duplicate of 5
            "4155552672,Too,many,fields\n"  # 7
            "4155552673,Bob,Mars/Base\n"    # 8
            "not a number,Carl,\n"          # 9
            "\n"                            # blank: skipped
            '"4155552674","multi\nline",\n'  # 11-12: one record
            "4155552675 ext 9,Dan,\n"       # 13
            "4155552676,Eve,,,\n")          # 14: empty trailing fields pass
    parsed = parse_chunk(0, body, "US")
    assert reasons(parsed) == {2: "short_code", 3: "premium_rate", 4: "missing_phone",
                               6: "duplicate", 7: "too_many_columns", 8: "invalid_timezone",
                               9: "invalid", 13: "extension"}
    assert [row.line for row in parsed.rows] == [5, 11, 14]
    assert parsed.received == 11
    assert parsed.rows[1].name == "multi\nline"
    too_many = next(row for row in parsed.rejected if row.line == 7)
    assert too_many.fields == ("4155552672", "Too", "many", "fields")


def test_a_field_csv_cannot_read_rejects_only_its_row():
    body = "phone,note\n" + "4155552671," + "x" * 200_000 + "\n4155552672,ok\n"
    parsed = parse_chunk(0, body, "US")
    assert reasons(parsed) == {2: "malformed"}
    assert [row.phone for row in parsed.rows] == ["+14155552672"]


def test_a_list_region_reads_national_numbers_and_allowed_regions_refuse_others():
    parsed = parse_chunk(0, "phone\n020 7946 0000\n+14155552671\n", "GB", ["GB"])
    assert [row.phone for row in parsed.rows] == ["+442079460000"]
    assert reasons(parsed) == {3: "country_not_allowed"}


@pytest.mark.parametrize("body, field", [
    ("", "body"), ("\n\n", "body"), (b"\xff\xfe", "body"),
    ("name,language\nAnn,en\n", "phone"), ("phone,,name\n", "header"),
    ("phone,Phone\n", "header"),
])
def test_a_chunk_that_is_not_a_list_is_refused_naming_the_field(body, field):
    with pytest.raises(CsvRefused) as refused:
        parse_chunk(0, body, "US")
    assert refused.value.field == field


def test_a_file_is_cut_on_record_boundaries_with_the_header_in_every_chunk():
    rows = [f'+1415555{i:04d},"note {i}\nsecond line"\r\n' for i in range(500)]
    data = ("phone,note\r\n" + "".join(rows)).encode()
    chunks = list(split_chunks(data, limit=1000))
    assert len(chunks) > 10 and all(len(chunk) <= 1000 for chunk in chunks)
    assert all(chunk.startswith(b"phone,note\r\n") for chunk in chunks)
    read = [row for chunk in chunks
            for row in list(csv.reader(io.StringIO(chunk.decode(), newline="")))[1:]]
    assert read == [[f"+1415555{i:04d}", f"note {i}\nsecond line"] for i in range(500)]


def test_a_last_line_without_a_break_and_a_record_too_large_for_a_chunk():
    assert list(split_chunks(b"phone\n+14155550001")) == [b"phone\n+14155550001\n"]
    assert list(split_chunks(b"phone\n")) == []
    with pytest.raises(ValueError):
        list(split_chunks(b"phone\n" + b"1" * 100 + b"\n", limit=50))


def test_a_chunk_holds_at_most_max_rows_records():
    data = ("phone\n" + "".join(f"+1415555{i:04d}\n" for i in range(25))).encode()
    chunks = list(split_chunks(data, max_rows=10))
    assert [chunk.count(b"\n") - 1 for chunk in chunks] == [10, 10, 5]


def test_a_chunk_of_more_rows_than_one_request_can_import_is_refused_before_any_work():
    from chalicelib.campaigns.list_rows import MAX_CHUNK_ROWS, ChunkTooLarge, parse_chunk

    body = "phone\n" + "+14155550123\n" * (MAX_CHUNK_ROWS + 1)
    with pytest.raises(ChunkTooLarge):
        parse_chunk(0, body, "US")
    assert len(parse_chunk(0, "phone\n" + "+14155550123\n" * MAX_CHUNK_ROWS, "US").rejected) \
        == MAX_CHUNK_ROWS - 1  # the rest are duplicates of the first
