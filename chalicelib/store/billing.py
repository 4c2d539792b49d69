"""Billing accounts and payments in DynamoDB (``reminders.model`` in, ``reminders.model`` out).

The ``accounts`` table is the demo's, grown: every write keeps the IVR's ``balance_due`` (decimal
text with the currency's places) and ``due_date`` (ISO) in step with ``amount_due``, so flows'
``lookup`` nodes read what they always read. Every write is conditional on the item's
``version`` (absent on a demo item never written here), and re-reads and retries when it lost.

- **The billing system's changes** (``upsert_account``) are idempotent by its own change id,
  ``source_version``: the id last applied again changes nothing. When the caller also gives
  ``source_seq`` (a number that grows with each change, e.g. the billing system's sequence or
  epoch millis), a change older than or equal to the stored one is ignored, so a late retry of
  an old change cannot overwrite a newer one. Without a seq, the last write wins. The billing
  system's snapshot sets the amount due outright (it counts the payments it knows); our promise
  to pay (``promised_until``) is ours and kept.
- **Payments** (``record_payment``) go in one transaction: the payment item, written only if its
  id is absent, and the account's new amount, conditional on the version read. A payment
  delivered twice is applied once (the second finds its id taken: ``applied`` False); two
  payments racing both apply (the loser re-reads the account and tries again). The same id with
  another account, amount, currency or source is ``PaymentMismatch``. ``reverse_payment`` puts
  the amount back the same way (the account is due again).
- **Segments** (``segment``): the sparse ``by_due`` index holds accounts with an amount due and
  a due date that are current or overdue (not paid, disputed, in a plan or written off), under
  ``open#<shard>`` (``SHARDS`` shards by a hash of the account id), sorted by ``due_date``.
  "Overdue more than N days" is ``due_date <= today - N - 1`` and "due this week" is
  ``due_date BETWEEN monday AND sunday``: one key-condition Query per shard, no Scan. The status
  is recomputed for ``today`` on the way out (an account stored as current whose due date has
  passed since is overdue), so the stored one may be stale without harm.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.reminders.model import (
    APPLIED,
    CURRENCY_EXPONENTS,
    CURRENT,
    OVERDUE,
    REVERSED,
    BillingAccount,
    CurrencyMismatch,
    Payment,
    PaymentMismatch,
    UnknownAccount,
    UnknownPayment,
    VersionConflict,
    status_after,
)
from chalicelib.store.models import Account, PaymentItem, transaction_connection, update_if

SHARDS = 8
OPEN = (CURRENT, OVERDUE)
MAX_TRIES = 25  # racing writers on one account: each retry re-reads, so one wins every round


def local_today(account: BillingAccount, now: datetime) -> date:
    """``now``'s date where the account holder lives (UTC when the zone is unknown)."""
    try:
        zone = ZoneInfo(account.timezone) if account.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return now.astimezone(zone).date()


def _shard(account_id: str) -> int:
    return zlib.crc32(account_id.encode()) % SHARDS


def _balance_text(minor: int, currency: str) -> str:
    places = CURRENCY_EXPONENTS.get(currency, 2)
    sign, minor = ("-", -minor) if minor < 0 else ("", minor)
    whole, part = divmod(minor, 10**places)
    return f"{sign}{whole}" + (f".{part:0{places}d}" if places else "")


def _minor(text: str | None, currency: str) -> int:
    """A demo item's ``balance_due`` text as minor units (0 when absent or unreadable)."""
    try:
        return int(Decimal(text or "0").scaleb(CURRENCY_EXPONENTS.get(currency, 2)))
    except InvalidOperation:
        return 0


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _to_account(item: Account) -> BillingAccount:
    currency = item.currency or "USD"
    phones = tuple(item.phones or ([item.phone] if item.phone else []))
    amount = int(item.amount_due) if item.amount_due is not None else _minor(item.balance_due,
                                                                              currency)
    return BillingAccount(
        account_id=item.account_id, holder=item.name or "", phones=phones,
        language=item.language or "en-US", timezone=item.timezone, currency=currency,
        amount_due=amount, due_date=_date(item.due_date), status=item.status or CURRENT,
        promised_until=_date(item.promised_until), version=int(item.version or 0),
        updated_at=item.updated_at, source_version=item.source_version)


def _to_payment(item: PaymentItem) -> Payment:
    return Payment(payment_id=item.payment_id, account_id=item.account_id,
                   amount=int(item.amount), currency=item.currency, source=item.source,
                   at=item.at, status=item.status or APPLIED, confirmation=item.confirmation,
                   card_last4=item.card_last4, reversed_at=item.reversed_at)


def _read(account_id: str) -> Account | None:
    try:
        return Account.get(account_id, consistent_read=True)
    except DoesNotExist:
        return None


def get_account(account_id: str) -> BillingAccount | None:
    """The account, or None when there is none (read consistently: reminders re-read it just
    before each attempt)."""
    item = _read(account_id)
    return _to_account(item) if item is not None else None


def _version_condition(item: Account | None):
    if item is None:
        return Account.account_id.does_not_exist()
    if item.version is None:
        return Account.version.does_not_exist()
    return Account.version == item.version


def _balance_actions(account: BillingAccount) -> list:
    """The amount, status and the IVR's text in step; the account in the ``by_due`` index
    only while open (amount due, due date, current or overdue)."""
    is_open = account.status in OPEN and account.amount_due > 0 and account.due_date
    actions = [
        Account.amount_due.set(account.amount_due),
        Account.balance_due.set(_balance_text(account.amount_due, account.currency)),
        Account.status.set(account.status),
    ]
    actions.append(Account.due_bucket.set(f"open#{_shard(account.account_id)}") if is_open
                   else Account.due_bucket.remove())
    return actions


def _optional(attribute, value):
    return attribute.set(value) if value is not None else attribute.remove()


def upsert_account(account: BillingAccount, source_version: str, *,
                   source_seq: int | None = None,
                   now: datetime | None = None) -> tuple[BillingAccount, bool]:
    """Create or update the account from the billing system's change ``source_version``.

    ``account.status``: one of ``HELD`` is kept as given; otherwise the status is derived from
    the amount and due date (``status_after``) for the account's local date. Returns the
    stored account and whether this call changed it (False: the same change again, or one older
    than the stored ``source_seq``)."""
    now = now or datetime.now(UTC)
    for _ in range(MAX_TRIES):
        item = _read(account.account_id)
        if item is not None:
            if item.source_version == source_version:
                return _to_account(item), False
            if (source_seq is not None and item.source_seq is not None
                    and source_seq <= int(item.source_seq)):
                return _to_account(item), False
        status = status_after(account, account.amount_due, local_today(account, now))
        stored = replace(account, status=status, source_version=source_version, updated_at=now,
                         version=int(item.version or 0) + 1 if item is not None else 1,
                         promised_until=_date(item.promised_until) if item is not None
                         else account.promised_until)
        actions = [
            *_balance_actions(stored),
            Account.name.set(stored.holder),
            Account.phones.set(list(stored.phones)),
            _optional(Account.phone, stored.phones[0] if stored.phones else None),
            Account.language.set(stored.language),
            _optional(Account.timezone, stored.timezone),
            Account.currency.set(stored.currency),
            _optional(Account.due_date, stored.due_date.isoformat() if stored.due_date
                      else None),
            _optional(Account.promised_until, stored.promised_until.isoformat()
                      if stored.promised_until else None),
            Account.version.set(stored.version),
            Account.updated_at.set(now),
            Account.source_version.set(source_version),
            _optional(Account.source_seq, source_seq),
        ]
        if _update_if(account.account_id, actions, _version_condition(item)):
            return stored, True
    raise VersionConflict(f"account {account.account_id} kept changing")


def _update_if(account_id: str, actions: list, condition) -> bool:
    return update_if(Account(account_id), actions, condition)


def set_promise(account_id: str, until: date | None, expected_version: int, *,
                now: datetime | None = None) -> BillingAccount:
    """Pause reminders until ``until`` (inclusive; None lifts the pause), if the account is
    still at ``expected_version``: else ``VersionConflict``; ``UnknownAccount`` if none."""
    now = now or datetime.now(UTC)
    item = _read(account_id)
    if item is None:
        raise UnknownAccount(account_id)
    if int(item.version or 0) != expected_version:
        raise VersionConflict(f"account {account_id} is at version {item.version or 0}")
    actions = [_optional(Account.promised_until, until.isoformat() if until else None),
               Account.version.set(expected_version + 1), Account.updated_at.set(now)]
    if not _update_if(account_id, actions, _version_condition(item)):
        raise VersionConflict(f"account {account_id} changed meanwhile")
    return replace(_to_account(item), promised_until=until, version=expected_version + 1,
                   updated_at=now)


def _same_payment(stored: PaymentItem, payment: Payment) -> bool:
    return (stored.account_id, int(stored.amount), stored.currency, stored.source) == (
        payment.account_id, payment.amount, payment.currency, payment.source)


def _get_payment(payment_id: str) -> PaymentItem | None:
    try:
        return PaymentItem.get(payment_id, consistent_read=True)
    except DoesNotExist:
        return None


def _move_balance(item: Account, delta: int, now: datetime) -> tuple[BillingAccount, list]:
    """The account after ``delta`` minor units more are due, and the update actions."""
    before = _to_account(item)
    amount = before.amount_due + delta
    after = replace(before, amount_due=amount, version=before.version + 1, updated_at=now,
                    status=status_after(before, amount, local_today(before, now)))
    return after, [*_balance_actions(after), Account.version.set(after.version),
                   Account.updated_at.set(now)]


def record_payment(payment: Payment) -> tuple[BillingAccount, bool]:
    """Apply ``payment`` once: the account owes ``payment.amount`` less (its status follows:
    paid at 0). Returns the account and whether this call applied it (False: this payment id
    was recorded before, with the same body). ``UnknownAccount``, ``CurrencyMismatch``,
    ``PaymentMismatch`` (the id is taken by a different payment)."""
    for _ in range(MAX_TRIES):
        stored = _get_payment(payment.payment_id)
        if stored is not None:
            if not _same_payment(stored, payment):
                raise PaymentMismatch(payment.payment_id)
            account = get_account(payment.account_id)
            if account is None:
                raise UnknownAccount(payment.account_id)
            return account, False
        item = _read(payment.account_id)
        if item is None:
            raise UnknownAccount(payment.account_id)
        if (item.currency or "USD") != payment.currency:
            raise CurrencyMismatch(f"the account is in {item.currency}")
        after, actions = _move_balance(item, -payment.amount, payment.at)
        record = PaymentItem(payment.payment_id, account_id=payment.account_id,
                             amount=payment.amount, currency=payment.currency,
                             source=payment.source, at=payment.at, status=APPLIED,
                             confirmation=payment.confirmation, card_last4=payment.card_last4)
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(record, condition=PaymentItem.payment_id.does_not_exist())
                tx.update(Account(payment.account_id), actions=actions,
                          condition=_version_condition(item))
        except TransactWriteError:
            continue  # the id was taken (answered above on the next round) or the account moved
        return after, True
    raise VersionConflict(f"account {payment.account_id} kept changing")


def reverse_payment(payment_id: str, at: datetime) -> tuple[BillingAccount, bool]:
    """Undo a payment (a refund, a chargeback, a bounced transfer): the account owes its amount
    again and is current or overdue again. Returns the account and whether this call reversed
    it (False: reversed before). ``UnknownPayment``; ``UnknownAccount`` if its account is gone."""
    for _ in range(MAX_TRIES):
        stored = _get_payment(payment_id)
        if stored is None:
            raise UnknownPayment(payment_id)
        item = _read(stored.account_id)
        if item is None:
            raise UnknownAccount(stored.account_id)
        if stored.status == REVERSED:
            return _to_account(item), False
        after, actions = _move_balance(item, int(stored.amount), at)
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.update(PaymentItem(payment_id),
                          actions=[PaymentItem.status.set(REVERSED),
                                   PaymentItem.reversed_at.set(at)],
                          condition=PaymentItem.status == APPLIED)
                tx.update(Account(stored.account_id), actions=actions,
                          condition=_version_condition(item))
        except TransactWriteError:
            continue
        return after, True
    raise VersionConflict(f"payment {payment_id} kept racing")


def get_payment(payment_id: str) -> Payment | None:
    item = _get_payment(payment_id)
    return _to_payment(item) if item is not None else None


def payments_for(account_id: str) -> list[Payment]:
    """The account's payments, oldest first (the ``by_account`` index)."""
    return [_to_payment(item) for item in PaymentItem.by_account.query(account_id)]


def segment(status: str, due_from: date | None = None, due_to: date | None = None, *,
            today: date | None = None) -> Iterator[BillingAccount]:
    """Open accounts (an amount due, a due date, current or overdue) due between ``due_from``
    and ``due_to`` (inclusive, either may be None), one Query per shard of ``by_due``.

    ``status``: ``open`` (both), ``overdue`` or ``current``. With ``today`` the status is
    recomputed for it (the stored one may predate the due date); without, the stored one is
    used. Accounts come shard by shard, each shard by due date."""
    if status not in ("open", *OPEN):
        raise ValueError(f"segment status must be open, current or overdue, not {status!r}")
    condition: Condition | None = None
    if due_from is not None and due_to is not None:
        condition = Account.due_date.between(due_from.isoformat(), due_to.isoformat())
    elif due_from is not None:
        condition = Account.due_date >= due_from.isoformat()
    elif due_to is not None:
        condition = Account.due_date <= due_to.isoformat()
    for shard in range(SHARDS):
        for item in Account.by_due.query(f"open#{shard}", range_key_condition=condition):
            account = _to_account(item)
            if today is not None:
                account = replace(account, status=status_after(account, account.amount_due,
                                                               today))
            if status == "open" or account.status == status:
                yield account
