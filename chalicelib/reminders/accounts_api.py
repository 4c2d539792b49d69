"""What the accounts and payments API does: check the billing system's input, store it through
``store.billing``, and answer plain dicts (``reminders/routes.py`` turns them into HTTP).

**An account** (``POST /accounts``, and each row of ``POST /accounts/import``):
``account_id`` (letters, digits, ``_.-``, at most 64), ``holder``, ``phones`` (E.164, the first
is the primary; 1 to 5; a CSV row gives them in ``phones`` separated by ``;`` or in ``phone``),
``language`` (a tag, default ``en-US``), ``timezone`` (IANA), ``currency`` (ISO 4217, one of
``reminders.model.CURRENCY_EXPONENTS``; default USD), ``amount_due`` **a decimal string in the
currency's major unit** ("42.17"; never a JSON number: no float for money), ``due_date``
(``YYYY-MM-DD`` or empty), ``status`` (``disputed``, ``in_plan`` and ``written_off`` are kept;
``current``/``overdue``/``paid`` are derived from the amount and due date whatever is sent),
``source_version`` (the billing system's id of this change: required in JSON; a CSV row without
one gets the digest of its own fields, so the same row again changes nothing) and an optional
``source_seq`` (a whole number that grows with every change: an older change is then ignored).

**A payment** (``POST /payments``): ``payment_id`` (the billing system's id: the idempotency
key), ``account_id``, ``amount`` (decimal string, > 0), ``currency`` (must be the account's),
``source`` (``billing`` or ``agent``; ``pay`` is the IVR's own), optional ``at`` (ISO 8601
with offset; default now) and ``confirmation``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime

from chalicelib.api_errors import Conflict, InvalidRequest, NotFound, TooLarge
from chalicelib.api_input import ID_PATTERN
from chalicelib.campaigns.contact import CampaignContact
from chalicelib.campaigns.list_rows import (
    LANGUAGE_TAG,
    MAX_CHUNK_BYTES,
    MAX_CHUNK_ROWS,
    MAX_FIELD_CHARS,
    CsvRefused,
    decode,
    valid_zone,
)
from chalicelib.compliance.api import e164
from chalicelib.reminders.model import (
    CURRENCY_EXPONENTS,
    HELD,
    STATUSES,
    BillingAccount,
    CurrencyMismatch,
    Payment,
    PaymentMismatch,
    UnknownAccount,
    UnknownPayment,
    VersionConflict,
    format_amount,
    parse_amount,
    reminder_blocker,
)
from chalicelib.store import billing, campaigns

MAX_PHONES = 5
MAX_TEXT = 200
API_SOURCES = ("billing", "agent")
ACCOUNT_FIELDS = ("account_id", "holder", "phones", "language", "timezone", "currency",
                  "amount_due", "due_date", "status", "source_version", "source_seq")
_ID = re.compile(ID_PATTERN)
_SEQ = re.compile(r"[0-9]{1,18}")


def _text(body: Mapping, name: str, *, required: bool = False, limit: int = MAX_TEXT
          ) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidRequest(name, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidRequest(name, "must be a string")
    value = value.strip()
    if len(value) > limit:
        raise InvalidRequest(name, f"is longer than {limit} characters")
    return value or None


def _ident(body: Mapping, name: str) -> str:
    value = _text(body, name, required=True, limit=64)
    if not (value and _ID.fullmatch(value)):
        raise InvalidRequest(name, "must be 1 to 64 letters, digits, '_', '.' or '-'")
    return value


def _currency(body: Mapping) -> str:
    value = (_text(body, "currency", limit=3) or "USD").upper()
    if value not in CURRENCY_EXPONENTS:
        raise InvalidRequest("currency", "must be one of " + ", ".join(CURRENCY_EXPONENTS))
    return value


def _amount(body: Mapping, name: str, currency: str, *, positive: bool = False) -> int:
    value = body.get(name)
    if not isinstance(value, str):
        raise InvalidRequest(name, "is required: a decimal string like \"42.17\"")
    try:
        minor = parse_amount(value, currency)
    except ValueError as exc:
        raise InvalidRequest(name, str(exc)) from None
    if positive and minor <= 0:
        raise InvalidRequest(name, "must be more than 0")
    return minor


def _due_date(body: Mapping) -> date | None:
    value = _text(body, "due_date", limit=10)
    if value is None:
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidRequest("due_date", "must be a date like 2026-12-15")


def _phones(body: Mapping) -> tuple[str, ...]:
    value = body.get("phones")
    if isinstance(value, str):
        value = [part for part in re.split(r"[;\s]+", value) if part]
    if value is None and isinstance(body.get("phone"), str):
        value = [body["phone"]]
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_PHONES:
        raise InvalidRequest("phones", f"must be a list of 1 to {MAX_PHONES} E.164 numbers")
    numbers = []
    for raw in value:
        if not isinstance(raw, str) or len(raw) > 32:
            raise InvalidRequest("phones", "must be E.164 numbers like +14155550123")
        number = e164(raw, "phones")
        if number not in numbers:
            numbers.append(number)
    return tuple(numbers)


def parse_account(body: Mapping) -> tuple[BillingAccount, str | None, int | None]:
    """The account, its ``source_version`` (None if absent) and ``source_seq`` from a JSON body
    or a CSV row; ``InvalidRequest`` naming the first wrong field."""
    account_id = _ident(body, "account_id")
    holder = _text(body, "holder", required=True) or ""
    phones = _phones(body)
    language = _text(body, "language", limit=35) or "en-US"
    if not LANGUAGE_TAG.fullmatch(language):
        raise InvalidRequest("language", "must be a language tag like en-US or zh-CN")
    zone = _text(body, "timezone", limit=64)
    if zone is not None and not valid_zone(zone):
        raise InvalidRequest("timezone", "must be an IANA time zone like America/New_York")
    currency = _currency(body)
    amount = _amount(body, "amount_due", currency)
    status = (_text(body, "status", limit=20) or "current").lower()
    if status not in STATUSES:
        raise InvalidRequest("status", "must be one of " + ", ".join(STATUSES))
    source_version = _text(body, "source_version", limit=128)
    seq = body.get("source_seq")
    if isinstance(seq, str) and _SEQ.fullmatch(seq.strip()):
        seq = int(seq.strip())
    elif seq == "":
        seq = None
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)
                            or not 0 <= seq < 10**18):
        raise InvalidRequest("source_seq", "must be a whole number from 0 below 10**18")
    account = BillingAccount(account_id=account_id, holder=holder, phones=phones,
                             language=language, timezone=zone, currency=currency,
                             amount_due=amount, due_date=_due_date(body),
                             status=status if status in HELD else "current")
    return account, source_version, seq


def save_account(body: Mapping, now: datetime) -> tuple[dict, bool]:
    """``POST /accounts``: the stored account and whether it was created or changed."""
    account, source_version, seq = parse_account(body)
    if source_version is None:
        raise InvalidRequest("source_version", "is required: the billing system's change id")
    existed = billing.get_account(account.account_id) is not None
    try:
        stored, changed = billing.upsert_account(account, source_version, source_seq=seq,
                                                 now=now)
    except VersionConflict as exc:
        raise Conflict(str(exc)) from None
    outcome = ("updated" if existed else "created") if changed else "unchanged"
    return {"account": account_view(stored, now), "outcome": outcome}, changed and not existed


def import_chunk(chunk: int, body: bytes | str | None, now: datetime, *, last: bool) -> dict:
    """``POST /accounts/import``: one CSV chunk (a header line first; columns as the JSON
    fields, ``phones`` separated by ``;``), at most 5 MB and 2,000 rows. A bad row never stops
    the chunk: each row is reported ``created``, ``updated``, ``unchanged`` or ``rejected`` with
    the field and why. Sending a chunk again is harmless (rows are idempotent)."""
    data = body.encode("utf-8") if isinstance(body, str) else body or b""
    if len(data) > MAX_CHUNK_BYTES:
        raise TooLarge("body", f"is larger than {MAX_CHUNK_BYTES} bytes: send smaller chunks")
    try:
        text = decode(data)
    except CsvRefused as refused:
        raise InvalidRequest(refused.field, str(refused).split(": ", 1)[1]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except (StopIteration, csv.Error):
        raise InvalidRequest("body", "is required: CSV with a header line") from None
    if "account_id" not in header or len(set(header)) != len(header):
        raise InvalidRequest("header", "needs an account_id column and distinct column names")
    rows: list[dict] = []
    counts = {"received": 0, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    line = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:
            fields = None
        if fields == []:
            line = reader.line_num + 1
            continue
        counts["received"] += 1
        if counts["received"] > MAX_CHUNK_ROWS:
            raise TooLarge("body", f"has more than {MAX_CHUNK_ROWS} rows: send smaller chunks")
        result = _import_row(header, fields, now)
        counts[result["outcome"]] += 1
        rows.append({"line": line, **result})
        line = reader.line_num + 1
    return {"chunk": chunk, "last": last, **counts, "rows": rows}


def _import_row(header: list[str], fields: list[str] | None, now: datetime) -> dict:
    def rejected(field: str, error: str) -> dict:
        return {"outcome": "rejected", "field": field, "error": error}

    if fields is None:
        return rejected("row", "is not CSV")
    if len(fields) > len(header) and any(value.strip() for value in fields[len(header):]):
        return rejected("row", "has more fields than the header")
    if any(len(value) > MAX_FIELD_CHARS for value in fields):
        return rejected("row", f"has a field over {MAX_FIELD_CHARS} characters")
    values = dict(zip(header, (value.strip() for value in fields), strict=False))
    if not values.get("phones") and values.get("phone"):
        values["phones"] = values["phone"]
    try:
        account, source_version, seq = parse_account(values)
        if source_version is None:  # the row's own content is its version
            digest = hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:32]
            source_version = f"csv:{digest}"
        existed = billing.get_account(account.account_id) is not None
        _, changed = billing.upsert_account(account, source_version, source_seq=seq, now=now)
    except InvalidRequest as exc:
        return {"account_id": values.get("account_id"),
                **rejected(exc.field, str(exc).split(": ", 1)[-1])}
    except VersionConflict as exc:
        return {"account_id": account.account_id, **rejected("account_id", str(exc))}
    outcome = ("updated" if existed else "created") if changed else "unchanged"
    return {"account_id": account.account_id, "outcome": outcome}


def account_view(account: BillingAccount, now: datetime) -> dict:
    """An account as the API shows it: amounts as decimal strings and in minor units."""
    today = billing.local_today(account, now)
    return {
        "account_id": account.account_id, "holder": account.holder,
        "phones": list(account.phones), "language": account.language,
        "timezone": account.timezone, "currency": account.currency,
        "amount_due": format_amount(account.amount_due, account.currency),
        "amount_due_minor": account.amount_due,
        "due_date": account.due_date.isoformat() if account.due_date else None,
        "status": account.status,
        "promised_until": (account.promised_until.isoformat() if account.promised_until
                           else None),
        "reminder_blocker": reminder_blocker(account, today),
        "version": account.version,
        "updated_at": account.updated_at.isoformat() if account.updated_at else None,
        "source_version": account.source_version,
    }


def payment_view(payment: Payment) -> dict:
    view = asdict(payment)
    view["amount"] = format_amount(payment.amount, payment.currency)
    view["amount_minor"] = payment.amount
    view["at"] = payment.at.isoformat()
    view["reversed_at"] = payment.reversed_at.isoformat() if payment.reversed_at else None
    return view


POP_PAYMENTS = 3  # the agent's screen pop shows the last few; GET /accounts/{id} has all


def account_on_screen(customer: dict | None, now: datetime) -> dict | None:
    """The billing account a caller's customer record (or a reminder contact) names, read
    now, for the agent's screen pop: ``account_view``'s shape plus ``payments``, newest first
    (at most ``POP_PAYMENTS``); None when the record names none or it is unknown."""
    account_id = (customer or {}).get("account_id")
    account = billing.get_account(str(account_id)) if account_id else None
    if account is None:
        return None
    payments = sorted(billing.payments_for(account.account_id), key=lambda p: p.at,
                      reverse=True)[:POP_PAYMENTS]
    return {**account_view(account, now), "payments": [payment_view(p) for p in payments]}


def account_report(account_id: str, now: datetime) -> dict:
    """``GET /accounts/{id}``: the account, why a reminder may not go now, its payments and
    its reminders (every campaign contact made for it: calls and texts, how each ended)."""
    account = billing.get_account(account_id)
    if account is None:
        raise NotFound("account", account_id)
    return {**account_view(account, now),
            "payments": [payment_view(p) for p in billing.payments_for(account_id)],
            "reminders": [reminder_view(c) for c in campaigns.contacts_of_account(account_id)]}


def reminder_view(contact: CampaignContact) -> dict:
    """One reminder run's contact with this account: how it went, attempt by attempt."""
    return {"campaign_id": contact.campaign_id, "phone_last4": contact.phone[-4:],
            "status": contact.status, "attempts": contact.attempts,
            "disposition": contact.disposition, "history": list(contact.history),
            "updated_at": contact.updated_at.isoformat() if contact.updated_at else None}


def _instant(body: Mapping, name: str, default: datetime) -> datetime:
    value = _text(body, name, limit=40)
    if value is None:
        return default
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise InvalidRequest(name, "must be an ISO 8601 time with its offset")
    return at


def post_payment(body: Mapping, now: datetime) -> tuple[dict, bool]:
    """``POST /payments``: ``({payment, account, applied}, applied)``. The same payment id
    again answers ``applied: false``; with another body, ``Conflict``."""
    payment_id = _ident(body, "payment_id")
    account_id = _ident(body, "account_id")
    account = billing.get_account(account_id)
    if account is None:
        raise NotFound("account", account_id)
    currency = _currency(body)
    amount = _amount(body, "amount", currency, positive=True)
    source = _text(body, "source", limit=10) or "billing"
    if source not in API_SOURCES:
        raise InvalidRequest("source", "must be one of " + ", ".join(API_SOURCES))
    if currency != account.currency:
        raise InvalidRequest("currency", f"must be the account's: {account.currency}")
    payment = Payment(payment_id=payment_id, account_id=account_id, amount=amount,
                      currency=currency, source=source, at=_instant(body, "at", now),
                      confirmation=_text(body, "confirmation", limit=64))
    try:
        stored, applied = billing.record_payment(payment)
    except PaymentMismatch:
        raise Conflict(f"payment '{payment_id}' was recorded with another body") from None
    except CurrencyMismatch as exc:
        raise InvalidRequest("currency", str(exc)) from None
    except UnknownAccount:
        raise NotFound("account", account_id) from None
    except VersionConflict as exc:
        raise Conflict(str(exc)) from None
    recorded = billing.get_payment(payment_id) or payment
    return {"payment": payment_view(recorded), "account": account_view(stored, now),
            "applied": applied}, applied


def reverse(payment_id: str, now: datetime) -> dict:
    """``POST /payments/{id}/reverse``: ``{payment, account, reversed}`` (False: before)."""
    try:
        account, reversed_now = billing.reverse_payment(payment_id, now)
    except UnknownPayment:
        raise NotFound("payment", payment_id) from None
    except UnknownAccount as exc:
        raise NotFound("account", str(exc)) from None
    except VersionConflict as exc:
        raise Conflict(str(exc)) from None
    payment = billing.get_payment(payment_id)
    return {"payment": payment_view(payment) if payment else None,
            "account": account_view(account, now), "reversed": reversed_now}
