"""Contact lists, as the campaigns see them: plain frozen dataclasses (``store.contact_lists``
reads and writes them; nothing here knows DynamoDB)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# How far a list has come: no chunk yet; chunks arriving; every chunk up to the last received.
NEW = "new"
IMPORTING = "importing"
COMPLETE = "complete"


@dataclass(frozen=True)
class ContactList:
    """A list of people to contact. ``default_region`` (ISO, ``US``) reads national numbers;
    ``allowed_regions`` (empty: any) are the countries accepted; ``fallback_tz`` is the zone of
    a number whose own zones are unknown."""

    list_id: str
    name: str
    default_region: str
    created_at: datetime
    fallback_tz: str = "UTC"
    allowed_regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListRow:
    """One contact of a list: ``phone`` in E.164, the optional columns, and every other column
    as a free ``attributes`` entry (for templates). ``chunk`` and ``line`` say where it came
    from (line 1 is the chunk's header)."""

    phone: str
    chunk: int
    line: int
    name: str | None = None
    language: str | None = None
    timezone: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RejectedRow:
    """A row not imported, with the ``reason`` (a code such as ``invalid``, ``premium_rate``,
    ``missing_phone``, ``too_many_columns``, ``duplicate``) and the fields as they came."""

    chunk: int
    line: int
    reason: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChunkReport:
    """What one chunk brought: rows ``received`` = ``accepted`` + ``rejected`` +
    ``duplicates``; ``blocked``: accepted rows the compliance gate refuses for good, by reason
    (``do_not_call``, ``opted_out``); ``digest``: the body's SHA-256, so a re-sent chunk is
    recognised; ``last``: the client said no chunk follows."""

    chunk: int
    header: tuple[str, ...]
    digest: str
    received: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    blocked: dict[str, int] = field(default_factory=dict)
    blocked_rows: int = 0
    last: bool = False
