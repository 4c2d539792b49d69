"""Our internal do-not-call lists, imported like a contact list's chunk: the same CSV reader and
the same ``phone`` rules (``list_rows.py``), so a number refused in one is refused in the other.
The entries go to the compliance gate's store (``store.compliance``): every campaign and path
refuses them at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from chalicelib.api_errors import InvalidRequest, TooLarge
from chalicelib.campaigns.list_rows import MAX_CHUNK_BYTES, ChunkTooLarge, CsvRefused, parse_chunk
from chalicelib.compliance.api import DNC_CHANNELS
from chalicelib.compliance.rules import ALL_CHANNELS
from chalicelib.store import compliance as store


def import_do_not_call(body: bytes | str | None, query: Mapping[str, str] | None,
                       now: datetime) -> dict:
    """Our internal do-not-call list from a CSV, read like a contact list's chunk (the same
    ``phone`` rules, at most 2,000 rows and 5 MB a request): columns ``phone`` and optional
    ``channel`` (voice, sms, all: the default) and ``reason``. ``?region=US`` reads national
    numbers; ``?source=`` names where the list came from. Every good row is on the list at once
    (sending the file again changes nothing); a bad row is reported, never stops the rest:
    ``{"added", "received", "rejected": [{"line", "reason"}]}``."""
    query = query or {}
    region = (query.get("region") or "US").upper()
    if not (len(region) == 2 and region.isalpha()):
        raise InvalidRequest("region", "must be an ISO country code like US")
    source = query.get("source") or "import"
    if len(source) > 100:
        raise InvalidRequest("source", "must be at most 100 characters")
    data = body.encode("utf-8") if isinstance(body, str) else body or b""
    if len(data) > MAX_CHUNK_BYTES:
        raise TooLarge("body", f"is larger than {MAX_CHUNK_BYTES} bytes: send smaller files")
    try:
        parsed = parse_chunk(0, data, region)
    except CsvRefused as refused:
        raise InvalidRequest(refused.field, str(refused).split(": ", 1)[1]) from None
    except ChunkTooLarge as exc:
        raise TooLarge("body", str(exc)) from None
    rejected = [(row.line, row.reason) for row in parsed.rejected]
    added = 0
    for row in parsed.rows:
        channel = (row.attributes.get("channel") or ALL_CHANNELS).strip().lower()
        reason = row.attributes.get("reason") or None
        if channel not in DNC_CHANNELS:
            rejected.append((row.line, "invalid_channel"))
            continue
        store.add_do_not_call(row.phone, channel, source, now, reason)
        added += 1
    return {"added": added, "received": parsed.received,
            "rejected": [{"line": line, "reason": reason} for line, reason in sorted(rejected)]}
