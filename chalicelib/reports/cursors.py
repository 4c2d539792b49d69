"""Pages of a long report (issue 12: a year by day for 200 agents is ~73,000 rows, tens of MB,
past the 6 MB a Lambda may answer).

A paged report orders its *members* (what a row belongs to: a queue, an agent, a flow, a
hotline, a campaign, a repeat caller) by a string key, and a page holds whole members, all
their rows and their totals, while the page's rows stay within ``limit``; a member with more
rows than ``limit`` is a page of its own (a report's members never pass ``MAX_ROWS``: 366 days
by day or 31 days of 50 half-hours). The next page starts at the next member's key, carried by
an opaque ``cursor``:

    url-safe base64 (unpadded) of {"k": "<the next page's first key>", "q": "<digest>"}

``digest``: the first 16 hex digits of the SHA-256 of the report's kind and its query without
``cursor``, ``limit`` and ``format`` (a client may change those between pages), so a cursor
sent with another report or other parameters is refused (``InvalidRequest`` naming
``cursor``). Members added or removed between two requests move no other member: a page never
repeats or skips a member that was there throughout.

``request_page(kind, query) -> Page`` reads ``cursor`` and ``limit`` (1..``MAX_ROWS``, default
``MAX_ROWS``; else ``InvalidRequest`` naming ``limit``); ``Page.take(members, key, rows)`` gives
the page's members and the next page's first key; ``Page.next_path(key)`` the ``next`` link:
``/reports/<kind>?<the same query>&cursor=...`` (relative to the API's base URL), None on the
last page. ``WHOLE`` (the default of every report function) is one page of every member.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from chalicelib.api_errors import InvalidRequest
from chalicelib.api_input import query_int

MAX_ROWS = 10_000  # ~1-3 MB of JSON: well inside Lambda's 6 MB answer
MAX_CURSOR = 1024  # characters; a key is an id or a phone number
UNHASHED = ("cursor", "limit", "format")
Member = TypeVar("Member")


def digest_of(kind: str, query: Mapping[str, str]) -> str:
    """16 hex digits naming the report ``kind`` and ``query`` but ``UNHASHED``."""
    kept = sorted((name, value) for name, value in query.items() if name not in UNHASHED)
    text = json.dumps([kind, kept], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def encode_cursor(key: str, digest: str) -> str:
    """The cursor of the page starting at member ``key`` of the query ``digest`` names."""
    data = json.dumps({"k": key, "q": digest}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_cursor(cursor: str | None, digest: str) -> str | None:
    """The first key of the page ``cursor`` names (None without one); ``InvalidRequest``
    naming ``cursor`` when it is not one of ours or was made for another query."""
    if cursor is None or cursor == "":
        return None
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        found = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, RecursionError):  # JSONDecodeError: a ValueError
        raise InvalidRequest("cursor", "is not a cursor this API gave") from None
    if not (isinstance(found, dict) and isinstance(found.get("k"), str)
            and isinstance(found.get("q"), str)):
        raise InvalidRequest("cursor", "is not a cursor this API gave")
    if found["q"] != digest:
        raise InvalidRequest("cursor", "belongs to another report or other parameters: "
                                       "send the query it came with")
    return found["k"]


@dataclass(frozen=True)
class Page:
    """One page of a report: members from ``start`` (None: the first) while the rows stay
    within ``limit`` (None: every member, one page); ``path`` is the request's path and query
    without ``cursor``, ``digest`` its ``digest_of``."""

    start: str | None = None
    limit: int | None = None
    path: str = ""
    digest: str = ""

    def take(self, members: Sequence[Member], key: Callable[[Member], str],
             rows: Callable[[Member], int]) -> tuple[list[Member], str | None]:
        """This page's members, ordered by ``key``, and the key the next page starts at (None
        on the last page). ``rows(member)``: how many rows the member has."""
        ordered = sorted((m for m in members if self.start is None or key(m) >= self.start),
                         key=key)
        if self.limit is None:
            return ordered, None
        taken: list[Member] = []
        count = 0
        for member in ordered:
            count += rows(member)
            if taken and count > self.limit:
                return taken, key(member)
            taken.append(member)
        return taken, None

    def next_path(self, key: str | None) -> str | None:
        """The ``next`` link of a page whose next page starts at ``key`` (None: no next)."""
        if key is None:
            return None
        joiner = "&" if "?" in self.path else "?"
        return f"{self.path}{joiner}cursor={encode_cursor(key, self.digest)}"


WHOLE = Page()


def request_page(kind: str, query: Mapping[str, str]) -> Page:
    """The page ``GET /reports/<kind>?<query>`` asks for (see the module's docstring)."""
    limit = query_int(query, "limit", default=MAX_ROWS, low=1, high=MAX_ROWS)
    digest = digest_of(kind, query)
    start = decode_cursor(query.get("cursor"), digest)
    rest = {name: value for name, value in query.items() if name != "cursor"}
    path = f"/reports/{kind}" + (f"?{urlencode(rest, errors='surrogatepass')}" if rest else "")
    return Page(start=start, limit=limit, path=path, digest=digest)
