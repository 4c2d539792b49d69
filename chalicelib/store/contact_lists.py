"""Contact lists in DynamoDB: one partition per list (``ContactListEntry``), so a list, its
chunks, its contacts and its rejected rows are each one Query away, and no Scan is needed.

A contact is keyed by its number: ``add_row`` puts it only if the list does not hold the number
yet, or holds it from the same chunk and line (that chunk sent again, after a failure half-way),
so two chunks racing with one number store it once and a retried chunk counts its rows again
as its own. Rejected rows are keyed by chunk and line and written in batches (overwriting is
harmless: the same chunk gives the same rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.campaigns.model import ChunkReport, ContactList, ListRow, RejectedRow
from chalicelib.store.models import ContactListEntry, save_if_absent

LIST = "list"
COUNTS = ("received", "accepted", "rejected", "duplicates", "blocked_rows")


def _chunk_key(chunk: int) -> str:
    return f"chunk#{chunk:06d}"


def create_list(contact_list: ContactList) -> None:
    ContactListEntry(contact_list.list_id, LIST, at=contact_list.created_at,
                     name=contact_list.name, default_region=contact_list.default_region,
                     fallback_tz=contact_list.fallback_tz,
                     allowed_regions=list(contact_list.allowed_regions) or None,
                     ).save(condition=ContactListEntry.entry.does_not_exist())


def get_list(list_id: str) -> ContactList | None:
    try:
        item = ContactListEntry.get(list_id, LIST, consistent_read=True)
    except DoesNotExist:
        return None
    return ContactList(list_id=item.list_id, name=item.name or "",
                       default_region=item.default_region or "US", created_at=item.at,
                       fallback_tz=item.fallback_tz or "UTC",
                       allowed_regions=tuple(item.allowed_regions or ()))


def add_row(list_id: str, row: ListRow) -> bool:
    """Store ``row`` unless the list holds its number from another row; False: a duplicate."""
    item = ContactListEntry(list_id, f"row#{row.phone}", chunk=row.chunk, line=row.line,
                            name=row.name, language=row.language, timezone=row.timezone,
                            attributes=row.attributes or None)
    same_row = (ContactListEntry.chunk == row.chunk) & (ContactListEntry.line == row.line)
    try:
        item.save(condition=ContactListEntry.entry.does_not_exist() | same_row)
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def rows(list_id: str) -> Iterator[ListRow]:
    """Every contact of the list, by number."""
    for item in ContactListEntry.query(list_id, ContactListEntry.entry.startswith("row#")):
        yield ListRow(phone=item.entry.removeprefix("row#"), chunk=int(item.chunk or 0),
                      line=int(item.line or 0), name=item.name, language=item.language,
                      timezone=item.timezone, attributes=dict(item.attributes or {}))


def rows_page(list_id: str, after: str | None, limit: int) -> tuple[list[ListRow], bool]:
    """Up to ``limit`` contacts by number after ``after`` (E.164; None: from the first), and
    whether more follow. One Query."""
    condition = ContactListEntry.entry.startswith("row#") if after is None else \
        ContactListEntry.entry.between(f"row#{after}\x00", "row#\uffff")
    found = list(ContactListEntry.query(list_id, condition, limit=limit + 1))
    return [ListRow(phone=item.entry.removeprefix("row#"), chunk=int(item.chunk or 0),
                    line=int(item.line or 0), name=item.name, language=item.language,
                    timezone=item.timezone, attributes=dict(item.attributes or {}))
            for item in found[:limit]], len(found) > limit


def add_rejected(list_id: str, rejected: Iterable[RejectedRow]) -> None:
    """Keep the rows not imported (BatchWriteItem, 25 a request)."""
    with ContactListEntry.batch_write() as batch:
        for row in rejected:
            batch.save(ContactListEntry(
                list_id, f"rejected#{row.chunk:06d}#{row.line:09d}", chunk=row.chunk,
                line=row.line, reason=row.reason, fields=list(row.fields)))


def rejected_rows(list_id: str) -> Iterator[RejectedRow]:
    """The rows not imported, by chunk and line."""
    for item in ContactListEntry.query(list_id, ContactListEntry.entry.startswith("rejected#")):
        yield RejectedRow(chunk=int(item.chunk or 0), line=int(item.line or 0),
                          reason=item.reason or "", fields=tuple(item.fields or ()))


def save_chunk(list_id: str, report: ChunkReport) -> bool:
    """Record a chunk as received; False when it already was (a racing copy of it)."""
    counts = {name: getattr(report, name) for name in COUNTS} | {"blocked": report.blocked}
    item = ContactListEntry(list_id, _chunk_key(report.chunk), chunk=report.chunk,
                            fields=list(report.header), digest=report.digest, counts=counts,
                            last=report.last)
    return save_if_absent(item, ContactListEntry.entry.does_not_exist())


def get_chunk(list_id: str, chunk: int) -> ChunkReport | None:
    try:
        item = ContactListEntry.get(list_id, _chunk_key(chunk), consistent_read=True)
    except DoesNotExist:
        return None
    return _report(item)


def chunks(list_id: str) -> list[ChunkReport]:
    """Every chunk received, in chunk order."""
    found = ContactListEntry.query(list_id, ContactListEntry.entry.startswith("chunk#"),
                                   consistent_read=True)
    return [_report(item) for item in found]


def _report(item: ContactListEntry) -> ChunkReport:
    counts = dict(item.counts or {})
    return ChunkReport(chunk=int(item.chunk or 0), header=tuple(item.fields or ()),
                       digest=item.digest or "", last=bool(item.last),
                       blocked=dict(counts.get("blocked") or {}),
                       **{name: int(counts.get(name, 0)) for name in COUNTS})
