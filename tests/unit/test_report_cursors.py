"""Report cursors (``reports.cursors``): a cursor names the next page's first member and the
query it was made for, and nothing else decodes; a page takes whole members within its limit."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.api_errors import InvalidRequest
from chalicelib.reports.cursors import (
    MAX_ROWS,
    WHOLE,
    Page,
    decode_cursor,
    digest_of,
    encode_cursor,
    request_page,
)

QUERY = {"from": "2026-01-01", "to": "2026-12-31", "queue": "sales"}


def test_a_cursor_decodes_to_its_key_with_the_query_it_was_made_for():
    digest = digest_of("agents", QUERY)
    cursor = encode_cursor("agent-042", digest)
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor  # URL-safe as is
    assert decode_cursor(cursor, digest) == "agent-042"
    assert decode_cursor(encode_cursor("+1415 é", digest), digest) == "+1415 é"
    assert decode_cursor(None, digest) is None and decode_cursor("", digest) is None


def test_the_digest_ignores_cursor_limit_and_format_but_nothing_else():
    digest = digest_of("agents", QUERY)
    assert digest_of("agents", {**QUERY, "cursor": "x", "limit": "5", "format": "csv"}) == digest
    assert digest_of("agents", dict(reversed(QUERY.items()))) == digest
    assert digest_of("queues", QUERY) != digest
    assert digest_of("agents", {**QUERY, "to": "2026-12-30"}) != digest
    assert digest_of("agents", {**QUERY, "interval": "day"}) != digest


@pytest.mark.parametrize("cursor", [
    "not a cursor", "%%%", "é", "a" * 2000, "eyJrIjoxfQ",  # {"k":1}
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    base64.urlsafe_b64encode(json.dumps(["k", "q"]).encode()).decode(),
    base64.urlsafe_b64encode(b"[" * 700).decode(),
])
def test_anything_but_a_cursor_is_refused_naming_cursor(cursor):
    with pytest.raises(InvalidRequest) as refused:
        decode_cursor(cursor, digest_of("agents", QUERY))
    assert refused.value.field == "cursor"


def test_a_cursor_of_another_query_is_refused():
    cursor = encode_cursor("agent-042", digest_of("agents", QUERY))
    with pytest.raises(InvalidRequest, match="another report") as refused:
        decode_cursor(cursor, digest_of("agents", {**QUERY, "queue": "support"}))
    assert refused.value.field == "cursor"


def test_a_page_holds_whole_members_within_its_limit_and_at_least_one():
    members = [("c", 3), ("a", 3), ("d", 5), ("b", 3)]
    take = {"key": lambda m: m[0], "rows": lambda m: m[1]}
    assert Page(limit=7).take(members, **take) == ([("a", 3), ("b", 3)], "c")
    assert Page(start="c", limit=7).take(members, **take) == ([("c", 3)], "d")
    assert Page(start="d", limit=4).take(members, **take) == ([("d", 5)], None)  # alone
    assert Page(start="bb", limit=100).take(members, **take) == ([("c", 3), ("d", 5)], None)
    assert WHOLE.take(members, **take) == (sorted(members), None)
    assert Page(limit=7).take([], **take) == ([], None)


def test_the_request_page_reads_limit_and_cursor_and_links_the_next():
    page = request_page("agents", {**QUERY, "limit": "50", "format": "csv"})
    assert (page.start, page.limit) == (None, 50)
    path = page.next_path("agent-042")
    assert path.startswith("/reports/agents?from=2026-01-01&to=2026-12-31&queue=sales&limit=50"
                           "&format=csv&cursor=")
    cursor = path.rsplit("cursor=", 1)[1]
    assert request_page("agents", {**QUERY, "cursor": cursor}).start == "agent-042"
    assert page.next_path(None) is None
    assert request_page("agents", {}).limit == MAX_ROWS
    for limit in ("0", str(MAX_ROWS + 1), "-1", "ten"):
        with pytest.raises(InvalidRequest) as refused:
            request_page("agents", {"limit": limit})
        assert refused.value.field == "limit"
