"""Contact lists: create one, import its CSV chunk by chunk, report, give back what was refused.

A chunk is idempotent by its number: the first time, its rows are read and checked
(``list_rows.py``), each good row stored once per number (``store.contact_lists.add_row``: a
number already in the list from another row is a duplicate), the rows kept checked against the
compliance gate for a first report (rows it refuses for good, a do-not-call entry or an
opt-out, are counted, not rejected: the gate decides again at every contact), and the chunk's
report is recorded last. The same chunk sent again is answered from that record; a chunk
that failed half-way can be sent again and finishes (its rows count as its own). The same
number with other content is a 409.

``InvalidRequest`` (400 naming the field), ``TooLarge`` (413), ``NotFound`` and ``Conflict``
are the API's errors (``api_errors.py``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import phonenumbers

from chalicelib.api_errors import Conflict, InvalidRequest, NotFound, TooLarge
from chalicelib.campaigns import list_rows
from chalicelib.campaigns.list_rows import (
    DUPLICATE,
    MAX_CHUNK_BYTES,
    ChunkTooLarge,
    CsvRefused,
)
from chalicelib.campaigns.model import (
    COMPLETE,
    IMPORTING,
    NEW,
    ChunkReport,
    ContactList,
    ListRow,
    RejectedRow,
)
from chalicelib.compliance.gate import ComplianceGate
from chalicelib.compliance.rules import (
    DO_NOT_CALL,
    INFORMATIONAL,
    NO_CONSENT,
    NO_WINDOW,
    OPTED_OUT,
    VOICE,
)
from chalicelib.store import contact_lists as store

MAX_CHUNK = 9999  # 10,000 chunks of 5 MB: far beyond any list
WORKERS = 8  # rows stored and checked at once: each is a few small DynamoDB requests
# The gate's refusals that waiting does not cure: the rows the first report counts as blocked.
FOR_GOOD = (OPTED_OUT, DO_NOT_CALL, NO_CONSENT, NO_WINDOW)
LIST_FIELDS = {"name", "default_region", "fallback_timezone", "allowed_regions"}


def new_list_id() -> str:
    return "cl_" + secrets.token_urlsafe(12)


def create_list(body: dict, now: datetime) -> dict:
    """``{"name", "default_region": "US", "fallback_timezone": "UTC", "allowed_regions": []}``
    → the new list."""
    unknown = set(body) - LIST_FIELDS
    if unknown:
        raise InvalidRequest(sorted(unknown)[0], "is not a field of a contact list")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InvalidRequest("name", "is required: text of at most 200 characters")
    region = _region(body.get("default_region", "US"), "default_region")
    zone = body.get("fallback_timezone", "UTC")
    if not isinstance(zone, str) or not list_rows.valid_zone(zone):
        raise InvalidRequest("fallback_timezone", "must be an IANA time zone like "
                                                  "America/New_York")
    allowed = body.get("allowed_regions", [])
    if not isinstance(allowed, list) or len(allowed) > 50:
        raise InvalidRequest("allowed_regions", "must be a list of ISO country codes")
    regions = tuple(_region(code, "allowed_regions") for code in allowed)
    contact_list = ContactList(list_id=new_list_id(), name=name.strip(), default_region=region,
                               created_at=now, fallback_tz=zone, allowed_regions=regions)
    store.create_list(contact_list)
    return report(contact_list.list_id)


def _region(code: object, field: str) -> str:
    if not isinstance(code, str) or code.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidRequest(field, "must be an ISO country code like US or GB")
    return code.upper()


def _list(list_id: str) -> ContactList:
    found = store.get_list(list_id)
    if found is None:
        raise NotFound("contact list", list_id)
    return found


def add_chunk(list_id: str, chunk: int, body: bytes | str | None, gate: ComplianceGate,
              *, last: bool = False) -> dict:
    """Import chunk number ``chunk`` (CSV with its header line) into the list; the chunk's
    counts and the list's."""
    data = body.encode("utf-8") if isinstance(body, str) else body or b""
    if len(data) > MAX_CHUNK_BYTES:
        raise TooLarge("body", f"is larger than {MAX_CHUNK_BYTES} bytes: send smaller chunks")
    contact_list = _list(list_id)
    digest = hashlib.sha256(data).hexdigest()
    known = store.get_chunk(list_id, chunk)
    if known is None:
        known = _import(contact_list, chunk, data, digest, gate, last)
        replayed = False
    else:
        replayed = True
    if known.digest != digest:
        raise Conflict(f"chunk {chunk} of this list was received with other content")
    return {"chunk": _chunk_counts(known) | {"replayed": replayed}, "list": report(list_id)}


def _import(contact_list: ContactList, chunk: int, data: bytes, digest: str,
            gate: ComplianceGate, last: bool) -> ChunkReport:
    try:
        parsed = list_rows.parse_chunk(chunk, data, contact_list.default_region,
                                       contact_list.allowed_regions)
    except CsvRefused as refused:
        raise InvalidRequest(refused.field, str(refused).split(": ", 1)[1]) from None
    except ChunkTooLarge as exc:
        raise TooLarge("body", str(exc)) from None
    rejected = list(parsed.rejected)
    blocked: Counter[str] = Counter()
    blocked_rows = accepted = 0

    def keep(row: ListRow) -> tuple[ListRow, tuple[str, ...] | None]:
        if not store.add_row(contact_list.list_id, row):
            return row, None
        decision = gate.check(row.phone, VOICE, INFORMATIONAL, caller_id="(set)",
                              fallback_tz=row.timezone or contact_list.fallback_tz)
        if decision.allowed or decision.next_allowed_at is not None:
            return row, ()
        return row, tuple(reason for reason in decision.reasons if reason in FOR_GOOD)

    with ThreadPoolExecutor(WORKERS) as pool:
        for row, lasting in pool.map(keep, parsed.rows):
            if lasting is None:
                rejected.append(RejectedRow(chunk, row.line, DUPLICATE,
                                            parsed.fields.get(row.line, ())))
                continue
            accepted += 1
            if lasting:
                blocked_rows += 1
                blocked.update(lasting)
    rejected.sort(key=lambda row: row.line)
    store.add_rejected(contact_list.list_id, rejected)
    duplicates = sum(1 for row in rejected if row.reason == DUPLICATE)
    result = ChunkReport(chunk=chunk, header=parsed.header, digest=digest,
                         received=parsed.received, accepted=accepted,
                         rejected=len(rejected) - duplicates, duplicates=duplicates,
                         blocked=dict(blocked), blocked_rows=blocked_rows, last=last)
    if not store.save_chunk(contact_list.list_id, result):  # a copy of this chunk raced us
        return store.get_chunk(contact_list.list_id, chunk) or result
    return result


def _chunk_counts(chunk: ChunkReport) -> dict:
    return {"number": chunk.chunk, "received": chunk.received, "accepted": chunk.accepted,
            "rejected": chunk.rejected, "duplicates": chunk.duplicates,
            "blocked": chunk.blocked_rows, "blocked_reasons": dict(chunk.blocked),
            "last": chunk.last}


def report(list_id: str) -> dict:
    """The list and its counts so far: rows received, accepted, rejected, duplicates; accepted
    rows the gate refuses for good (``blocked``, by reason); ``status``: ``new``,
    ``importing``, or ``complete`` once every chunk up to the one marked ``last`` is in."""
    contact_list = _list(list_id)
    chunks = store.chunks(list_id)
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for chunk in chunks:
        totals.update({"received": chunk.received, "accepted": chunk.accepted,
                       "rejected": chunk.rejected, "duplicates": chunk.duplicates,
                       "blocked": chunk.blocked_rows})
        reasons.update(chunk.blocked)
    numbers = {chunk.chunk for chunk in chunks}
    lasts = [chunk.chunk for chunk in chunks if chunk.last]
    if not chunks:
        status = NEW
    elif lasts and numbers >= set(range(min(lasts) + 1)):
        status = COMPLETE
    else:
        status = IMPORTING
    return {
        "list_id": list_id, "name": contact_list.name,
        "default_region": contact_list.default_region,
        "fallback_timezone": contact_list.fallback_tz,
        "allowed_regions": list(contact_list.allowed_regions),
        "created_at": contact_list.created_at.isoformat(), "status": status,
        "chunks": len(chunks),
        **{name: totals[name] for name in ("received", "accepted", "rejected", "duplicates",
                                           "blocked")},
        "blocked_reasons": dict(reasons),
    }


def rejected_csv(list_id: str) -> str:
    """The rows not imported, as CSV: ``reason``, ``chunk``, ``line``, then the row's fields
    under the list's header (a row with too many fields keeps them all)."""
    _list(list_id)
    chunks = store.chunks(list_id)
    header = list(chunks[0].header) if chunks else ["phone"]
    return "".join(_csv_lines(["reason", "chunk", "line", *header],
                              store.rejected_rows(list_id)))


def _csv_lines(header: list[str], rows: Iterator[RejectedRow]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.reason, row.chunk, row.line, *row.fields])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()
