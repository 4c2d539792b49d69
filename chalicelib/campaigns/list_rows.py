"""A contact list's CSV, read and checked row by row; and a file cut into chunks to send.

The format: UTF-8 text (a BOM is ignored), the standard ``csv`` dialect (comma, ``"`` quotes),
and **a header line at the top of every chunk**, so each chunk stands on its own: it can be
sent again, or in parallel, without the server remembering another one. Columns (names are
trimmed and lower-cased): ``phone`` (required), ``name``, ``language`` (a tag like ``en-US``),
``timezone`` (an IANA zone; else the number's own zones, at dial time); any other column is a
free attribute for templates.

``read_chunk`` refuses a chunk that is not UTF-8 text or whose header has no ``phone`` column
(``CsvRefused`` naming the field); after that, no row stops a chunk: a row that is malformed,
has more fields than the header, no phone, or a number the callbacks would refuse
(``callbacks/numbers.py``: invalid, premium rate, short code, ...) is rejected with its reason.
Rows of the same number in one chunk keep the first; across chunks, storage decides.

``split_chunks`` cuts a whole file into chunks of at most ``limit`` bytes on record
boundaries (a quoted field may hold a line break), repeating the header in each.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.callbacks.numbers import NumberRefused, normalise_number
from chalicelib.campaigns.model import ListRow, RejectedRow

MAX_CHUNK_BYTES = 5 * 1024 * 1024  # Lambda's synchronous payload is 6 MB; the API takes 5
MAX_FIELD_CHARS = 1000  # any one value; a row of the list is a contact, not a document
MAX_COLUMNS = 100
# Each row costs a few DynamoDB writes and a gate check: 2,000 rows fit well inside API Gateway's
# 29 s for one request (DynamoDB Local: ~7 s per 1,000); a larger chunk is refused before work.
MAX_CHUNK_ROWS = 2000
PHONE, NAME, LANGUAGE, TIMEZONE = "phone", "name", "language", "timezone"
KNOWN_COLUMNS = (PHONE, NAME, LANGUAGE, TIMEZONE)
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}")

# Why a row is rejected, besides the number codes of ``callbacks/numbers.py``.
MISSING_PHONE = "missing_phone"
TOO_MANY_COLUMNS = "too_many_columns"
MALFORMED = "malformed"
FIELD_TOO_LONG = "field_too_long"
INVALID_TIMEZONE = "invalid_timezone"
INVALID_LANGUAGE = "invalid_language"
DUPLICATE = "duplicate"


class ChunkTooLarge(ValueError):
    """More than ``MAX_CHUNK_ROWS`` rows in one chunk: send smaller chunks."""


class CsvRefused(ValueError):
    """The chunk as a whole cannot be read: ``field`` names what (``body``, ``phone``,
    ``header``)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class ParsedChunk:
    """A chunk's header, its good rows (first of each number) and its rejected rows (in-chunk
    duplicates among them), in line order; ``received``: data rows read (blank lines skip)."""

    header: tuple[str, ...]
    rows: list[ListRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    received: int = 0
    fields: dict[int, tuple[str, ...]] = field(default_factory=dict)  # a good row's, by line


def decode(body: bytes | str | None) -> str:
    """The body as text, or ``CsvRefused`` (``body``) when it is empty or not UTF-8."""
    if isinstance(body, str):
        text = body
    else:
        try:
            text = (body or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise CsvRefused("body", "is not UTF-8 text (CSV)") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise CsvRefused("body", "is required: CSV with a header line")
    return text


def read_header(fields: list[str]) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in fields)
    if PHONE not in names:
        raise CsvRefused(PHONE, "the header line has no 'phone' column")
    if len(names) > MAX_COLUMNS:
        raise CsvRefused("header", f"has more than {MAX_COLUMNS} columns")
    if "" in names or len(set(names)) != len(names):
        raise CsvRefused("header", "every column needs a name of its own")
    if any(len(name) > 64 for name in names):
        raise CsvRefused("header", "column names are at most 64 characters")
    return names


def _records(text: str) -> Iterator[tuple[int, list[str] | None]]:
    """(first line, fields) for each record; fields None for one ``csv`` cannot read."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield line, None
        else:
            yield line, fields
        line = reader.line_num + 1


def parse_chunk(chunk: int, body: bytes | str | None, default_region: str,
                allowed_regions: Collection[str] = ()) -> ParsedChunk:
    """Read and check every row of one chunk (``CsvRefused`` only for the chunk as a whole)."""
    records = _records(decode(body))
    header: tuple[str, ...] | None = None
    for _line, fields in records:
        if fields is None:
            raise CsvRefused("body", "the header line is not CSV")
        if fields:
            header = read_header(fields)
            break
    if header is None:
        raise CsvRefused("body", "is required: CSV with a header line")
    parsed = ParsedChunk(header)
    seen: set[str] = set()
    count = 0
    for line, fields in records:
        if fields == []:
            continue  # a blank line
        count += 1
        if count > MAX_CHUNK_ROWS:
            raise ChunkTooLarge(f"has more than {MAX_CHUNK_ROWS} rows: send smaller chunks")
        outcome = check_row(chunk, line, header, fields, default_region, allowed_regions)
        if isinstance(outcome, RejectedRow):
            parsed.rejected.append(outcome)
        elif outcome.phone in seen:
            parsed.rejected.append(RejectedRow(chunk, line, DUPLICATE, tuple(fields or ())))
        else:
            seen.add(outcome.phone)
            parsed.rows.append(outcome)
            parsed.fields[line] = tuple(fields or ())
    return ParsedChunk(header, parsed.rows, parsed.rejected, count, parsed.fields)


def check_row(chunk: int, line: int, header: tuple[str, ...], fields: list[str] | None,
              default_region: str, allowed_regions: Collection[str] = ()
              ) -> ListRow | RejectedRow:
    """One data row as a contact, or why not."""
    if fields is None:
        return RejectedRow(chunk, line, MALFORMED)
    kept = tuple(value[:MAX_FIELD_CHARS] for value in fields)

    def refuse(reason: str) -> RejectedRow:
        return RejectedRow(chunk, line, reason, kept)

    if any(value.strip() for value in fields[len(header):]):
        return refuse(TOO_MANY_COLUMNS)  # empty trailing fields ("a,b,") are let pass
    if any(len(value) > MAX_FIELD_CHARS for value in fields):
        return refuse(FIELD_TOO_LONG)
    values = {name: value.strip() for name, value in zip(header, fields, strict=False)}
    if not values.get(PHONE):
        return refuse(MISSING_PHONE)
    try:
        phone = normalise_number(values[PHONE], default_region, allowed_regions)
    except NumberRefused as refused:
        return refuse(refused.code)
    language = values.get(LANGUAGE) or None
    if language is not None and not LANGUAGE_TAG.fullmatch(language):
        return refuse(INVALID_LANGUAGE)
    zone = values.get(TIMEZONE) or None
    if zone is not None and not valid_zone(zone):
        return refuse(INVALID_TIMEZONE)
    attributes = {name: value for name, value in values.items()
                  if name not in KNOWN_COLUMNS and value}
    return ListRow(phone=phone, chunk=chunk, line=line, name=values.get(NAME) or None,
                   language=language, timezone=zone, attributes=attributes)


def valid_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", name) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def split_chunks(data: bytes, limit: int = MAX_CHUNK_BYTES,
                 max_rows: int | None = None) -> Iterator[bytes]:
    """A whole CSV file (UTF-8) as chunks of at most ``limit`` bytes (and ``max_rows``
    records), each beginning with the file's header line and cut between records. ValueError
    when one record (with the header) cannot fit in ``limit``."""
    text = data.decode("utf-8").removeprefix("\ufeff")
    lines = io.StringIO(text, newline="").readlines()  # the lines csv reads, ends kept
    reader = csv.reader(iter(lines))
    consumed = 0  # physical lines read so far

    def take() -> bytes | None:
        nonlocal consumed
        try:
            next(reader)
        except StopIteration:
            return None
        except csv.Error:
            pass  # sent as it is: the server reports the row
        record = "".join(lines[consumed:reader.line_num])
        consumed = reader.line_num
        if record and not record.endswith(("\n", "\r")):
            record += "\n"
        return record.encode("utf-8")

    header = take()
    if header is None:
        return
    if len(header) > limit:
        raise ValueError("the header line alone is larger than a chunk")
    parts: list[bytes] = []
    size = len(header)
    while (record := take()) is not None:
        if len(header) + len(record) > limit:
            raise ValueError(f"a record near line {consumed} is larger than a chunk")
        if size + len(record) > limit or (max_rows is not None and len(parts) >= max_rows):
            yield header + b"".join(parts)
            parts, size = [], len(header)
        parts.append(record)
        size += len(record)
    if parts:
        yield header + b"".join(parts)
