"""What the JSON APIs accept at their edge, checked in one place, so that bad input is answered
with a 4xx and never reaches code (or DynamoDB) that would fail with a 500.

- ``json_object``: the one JSON-body parser of every API. The size first (413 for the admin APIs;
  the public callback form keeps its own 4 KB), then the nesting depth, counted before parsing
  (``json.loads`` recurses once per level: 4 KB of ``[`` is a RecursionError), standard JSON only
  (no ``NaN``, ``Infinity`` or numbers that overflow a float), and the top level is an object.
- ``path_id``: a path segment that no stored item can have (longer than DynamoDB's key limit,
  2048 bytes, which answers a ValidationException, or simply not of the id's form) is unknown:
  404, before any read. ``PATH_PATTERNS`` is also what ``/openapi.json`` documents.
- ``query_int`` and ``query_time``: query parameters, strictly: ASCII digits of bounded length
  (``'²'.isdigit()`` is true, and ``int()`` refuses more than 4300 digits), ISO 8601 times with
  an offset and inside ``datetime``'s range.

The errors are ``api_errors``' (400 ``InvalidRequest``, 413 ``TooLarge``, 404 ``NotFound``); the
public callback form turns them into its own ``{error, field, message}``. Plain Python.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from chalicelib.api_errors import InvalidRequest, NotFound, TooLarge

ADMIN_BODY_BYTES = 64 * 1024
# Our deepest body has 4 levels (a queue's hours.weekly spans); 16 leaves room and stays far
# below both Python's recursion limit and DynamoDB's 32 levels of nested attributes.
MAX_DEPTH = 16
MAX_QUERY_DIGITS = 9  # every numeric query parameter is far below 10**9

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"  # agents and queues (routing.admin refuses others)
NUMBER_PATTERN = r"(?:\+|%2[Bb])?[0-9]{3,15}"  # E.164 digits; "+" may arrive encoded
# Path parameter -> the form every stored id of it has; anything else is unknown (404).
PATH_PATTERNS = {
    "agent_id": ID_PATTERN,
    "queue_id": ID_PATTERN,
    "ticket_id": r"TK[0-9a-f]{32}",  # messaging.inbound.ticket_id_for
    "callback_id": r"cb_[A-Za-z0-9_-]{7,61}",  # callbacks.model.new_callback_id
    "list_id": r"cl_[A-Za-z0-9_-]{16}",  # campaigns.lists.new_list_id
    "campaign_id": r"cmp_[A-Za-z0-9_-]{8,40}",  # campaigns.admin.new_campaign_id
    "account_id": ID_PATTERN,  # the billing system's (reminders.accounts_api)
    "payment_id": ID_PATTERN,
    "policy_id": r"[a-z][a-z0-9_]{0,63}",  # reminders.policy.NAME
    "flow_id": ID_PATTERN,  # a flow's id (flows/<id>.yaml)
    "hotline": NUMBER_PATTERN,
    "hotline_id": NUMBER_PATTERN,  # a report's ?hotline= (reports.routes)
    "number": NUMBER_PATTERN,
    "channel_id": r"sms|voice",  # consent.CHANNELS (the opt-outs report's channel)
}
_PATH = {param: re.compile(pattern) for param, pattern in PATH_PATTERNS.items()}
_DIGITS = re.compile(rf"[0-9]{{1,{MAX_QUERY_DIGITS}}}")
# A JSON string (escapes included) and a bracket outside strings: enough to count nesting.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_object(raw: bytes | str | None, *, limit: int = ADMIN_BODY_BYTES,
                optional: bool = False) -> dict:
    """The request body as a JSON object (``optional``: an empty body is ``{}``).

    ``TooLarge`` over ``limit`` bytes; ``InvalidRequest`` naming the ``body`` for anything that is
    not UTF-8, not JSON, nested deeper than ``MAX_DEPTH`` or not an object.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw or b""
    if len(data) > limit:
        raise TooLarge("body", f"is larger than {limit} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("body", "is not UTF-8 text") from None
    if not text.strip():
        if optional:
            return {}
        raise InvalidRequest("body", "is required: a JSON object")
    if _depth(text) > MAX_DEPTH:
        raise InvalidRequest("body", f"is nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except (ValueError, RecursionError):  # RecursionError: never, after the depth check
        raise InvalidRequest("body", "is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidRequest("body", "must be a JSON object")
    return value


def _depth(text: str) -> int:
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} overflows a number")
    return value


def path_id(value: str, param: str, kind: str) -> str:
    """``value`` when it could name a stored ``kind`` (``PATH_PATTERNS[param]``), else
    ``NotFound``: an impossible id is simply unknown."""
    if not (isinstance(value, str) and _PATH[param].fullmatch(value)):
        text = str(value)
        raise NotFound(kind, text if len(text) <= 64 else text[:64] + "...")
    return value


def query_int(
    query: Mapping[str, str] | None, name: str, *, default: int, low: int, high: int
) -> int:
    """Query parameter ``name`` as a whole number from ``low`` to ``high``; ``default`` when it is
    absent or empty; ``InvalidRequest`` naming it for anything else."""
    text = (query or {}).get(name)
    if text is None or text == "":
        return default
    if not (_DIGITS.fullmatch(text) and low <= int(text) <= high):
        raise InvalidRequest(name, f"must be a whole number from {low} to {high}")
    return int(text)


def query_time(query: Mapping[str, str] | None, name: str) -> datetime | None:
    """Query parameter ``name`` as an instant (UTC), None when absent or empty. ISO 8601 with an
    offset (``2026-11-23T15:00:00Z``); a ``+`` that arrived unencoded reads as a space."""
    text = ((query or {}).get(name) or "").strip()
    if not text:
        return None
    at: datetime | None
    try:
        at = datetime.fromisoformat(text.replace(" ", "+"))
        at = at.astimezone(UTC) if at.tzinfo is not None else None
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved across a day
        at = None
    if at is None:
        raise InvalidRequest(name, "must be an ISO 8601 time with its offset, like "
                                   "2026-11-23T15:00:00Z")
    return at


MAX_RANGE_DAYS = 366


def query_dates(query: Mapping[str, str] | None, today: date, *, default_days: int = 30
                ) -> tuple[date, date]:
    """``from`` and ``to`` query dates (``2026-11-30``, inclusive); ``to`` defaults to
    ``today``, ``from`` to ``default_days`` before ``to``. ``InvalidRequest`` naming the
    parameter when it is not a date, ``from`` is after ``to``, or the range passes
    ``MAX_RANGE_DAYS``."""
    found: dict[str, date | None] = {}
    for name in ("from", "to"):
        text = ((query or {}).get(name) or "").strip()
        try:
            found[name] = date.fromisoformat(text) if text else None
        except ValueError:
            raise InvalidRequest(name, "must be a date like 2026-11-30") from None
    until = found["to"] or today
    since = found["from"] or until - timedelta(days=default_days)
    if since > until:
        raise InvalidRequest("from", "must not be after to")
    if (until - since).days >= MAX_RANGE_DAYS:
        raise InvalidRequest("from", f"a range of at most {MAX_RANGE_DAYS} days")
    return since, until
