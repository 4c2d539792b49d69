"""Reminder batches: a segment of billing accounts texted, called or handed to agents, as one
campaign.

A batch IS a campaign (``campaigns``): purpose ``collections`` for overdue bills, else
``informational``; its contacts are written straight from the accounts segment
(``store.billing.segment``: one Query per shard of the sparse ``by_due`` index), so it has no
contact list: its ``list_id`` is ``batch:<campaign id>``, ``load_done`` is true from the start
and ``loaded`` is the number of contacts. The campaign job runs it like any other, and the
``reminders.check.BillCheck`` re-reads each account right before each attempt (a bill paid
meanwhile ends the contact with disposition ``paid``; the text gets today's amount).

- ``preview_or_send(body, now)``: ``POST /reminder-batches`` (``batch_input.parse_request``
  reads the body: the channel sms, voice or agent decides the campaign's kind);
- ``remind_one(body, now)``: ``POST /reminders``, a one-account batch (409 when the account may
  not be reminded now: ``model.reminder_blocker``'s reason);
- the results of a batch, and of a policy's batches: ``reminders/results.py``.

Accounts the segment reaches but that get no reminder are counted by reason (``refused``):
``no_phone``, ``duplicate_phone`` (a number already in the batch: one contact per number),
and ``reminder_blocker``'s (``promised``, ...). Paid, held and dateless accounts are not in the
segment's index at all, so a batch never reaches them (``POST /reminders`` names them).

Errors: ``InvalidRequest`` naming the field (400), ``TooLarge`` over ``MAX_ACCOUNTS`` (413:
contacts are written inside the request, within API Gateway's 29 s; refused before anything is
written), ``NotFound`` (404), ``Conflict`` (409). The hourly job (``schedule.py``, 15 minutes)
makes batches of up to ``JOB_MAX_ACCOUNTS``, written page by page as the segment is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from typing import Any

from chalicelib.api_errors import Conflict, InvalidRequest, NotFound, TooLarge
from chalicelib.api_input import query_time
from chalicelib.campaigns import admin
from chalicelib.campaigns.campaign import Campaign, transition
from chalicelib.campaigns.campaign_input import check_policy
from chalicelib.campaigns.contact import (
    WAITING,
    CampaignContact,
)
from chalicelib.reminders.batch_input import (
    ONE_FIELDS,
    batch_id,
    campaign_fields,
    parse_request,
    renamed,
)
from chalicelib.reminders.model import (
    OVERDUE,
    BillingAccount,
    reminder_blocker,
)
from chalicelib.reminders.money import format_amount
from chalicelib.store import billing
from chalicelib.store import campaigns as store

LIST_PREFIX = "batch:"
MAX_ACCOUNTS = 5000  # contacts written in the request (25 a BatchWriteItem): a few seconds
# the hourly job has 15 minutes: 250,000 contacts are 10,000 BatchWriteItems (a minute or two)
JOB_MAX_ACCOUNTS = 250_000
PAGE = 500
SAMPLES = 5
NO_PHONE, DUPLICATE_PHONE = "no_phone", "duplicate_phone"


@dataclass
class Reach:
    """What a segment gives: how many contacts (one per number), the first ``SAMPLES``
    accounts, and refusals by reason."""

    count: int = 0
    samples: list[BillingAccount] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)


# ---- reaching accounts ----------------------------------------------------------------------
def _contact(campaign_id: str, account: BillingAccount, due_at: datetime,
             now: datetime) -> CampaignContact:
    return CampaignContact(
        campaign_id=campaign_id, phone=account.phones[0], status=WAITING, name=account.holder,
        language=account.language, timezone=account.timezone, due_at=due_at, updated_at=now,
        attributes={"account_id": account.account_id, "holder": account.holder,
                    "amount_due": str(account.amount_due), "currency": account.currency,
                    "due_date": account.due_date.isoformat() if account.due_date else ""})


def reach(accounts: Iterable[BillingAccount], campaign_id: str, due_at: datetime,
          now: datetime, limit: int = MAX_ACCOUNTS) -> tuple[Reach, Iterator[CampaignContact]]:
    """The contacts the accounts make (one per number, the first phone of each), as a lazy
    stream, and the ``Reach`` it fills as it is consumed (refusals by reason, samples).
    TooLarge once more than ``limit`` contacts come. Nothing is held but the numbers seen."""
    found = Reach()

    def contacts() -> Iterator[CampaignContact]:
        phones: set[str] = set()
        for account in accounts:
            reason = (reminder_blocker(account, billing.local_today(account, now))
                      or (NO_PHONE if not account.phones else None)
                      or (DUPLICATE_PHONE if account.phones[0] in phones else None))
            if reason:
                found.refused[reason] += 1
                continue
            if found.count >= limit:
                raise TooLarge("segment", f"reaches more than {limit} accounts: narrow it "
                                          "(due_from, due_to) and send several batches")
            phones.add(account.phones[0])
            found.count += 1
            if len(found.samples) < SAMPLES:
                found.samples.append(account)
            yield _contact(campaign_id, account, due_at, now)

    return found, contacts()


def _sample(account: BillingAccount) -> dict:
    return {"account_id": account.account_id, "holder": account.holder,
            "language": account.language,
            "amount": format_amount(account.amount_due, account.currency, account.language),
            "due_date": account.due_date.isoformat() if account.due_date else None}


# ---- create ---------------------------------------------------------------------------------
def _again(batch_id: str | None) -> dict | None:
    """The batch made before for the same ``request_id`` (its answer again), or None."""
    before = store.get(batch_id) if batch_id else None
    if before is None:
        return None
    if not before.list_id.startswith(LIST_PREFIX):
        raise Conflict("request_id is taken by another campaign")
    return {"batch_id": before.campaign_id, "accounts": before.loaded, "refused": {},
            "campaign": admin.view(before), "repeated": True}


def _create(fields: dict[str, Any], accounts: Iterable[BillingAccount], now: datetime,
            preview: bool, batch_id: str | None = None, limit: int = MAX_ACCOUNTS,
            step: tuple[str, int] | None = None) -> dict:
    """Preview (nothing written) or write the contacts, a page at a time as the segment is
    read, then the campaign, running (or scheduled for its ``starts_at``)."""
    campaign_id = batch_id or admin.new_campaign_id()
    campaign = Campaign(campaign_id=campaign_id, created_at=now, updated_at=now,
                        **{**fields, "list_id": LIST_PREFIX + campaign_id},
                        reminder_policy=step[0] if step else None,
                        reminder_step=step[1] if step else None)
    check_policy(campaign)
    try:
        admin.check_references(campaign)
    except InvalidRequest as exc:
        raise renamed(exc) from None
    due_at = max(now, campaign.starts_at or now)
    found, contacts = reach(accounts, campaign_id, due_at, now, limit)
    if preview:
        for _ in contacts:
            pass
        return {"preview": True, "accounts": found.count, "refused": dict(found.refused),
                "samples": [_sample(a) for a in found.samples],
                "channel": campaign.channel, "purpose": campaign.purpose}
    if limit <= MAX_ACCOUNTS:
        contacts = iter(list(contacts))  # a request: refused (413) before anything is written
    # contacts first: the campaign the job sees is complete. A run that dies half-way leaves
    # orphans nobody reads; run again (the same batch id), it writes them again, the same.
    while page := list(islice(contacts, PAGE)):
        store.add_contacts(page)
    if not found.count:
        raise Conflict("the segment reaches no account that may be reminded now")
    store.set_totals(campaign_id, {"status_waiting": found.count})
    started = transition(replace(campaign, loaded=found.count, load_done=True), "start", now)
    if not store.create(started):
        raise Conflict("a campaign with this id exists already; send the request again")
    return {"batch_id": campaign_id, "accounts": found.count,
            "refused": dict(found.refused), "campaign": admin.view(started)}


def preview_or_send(body: dict, now: datetime, preview_query: bool = False,
                    limit: int = MAX_ACCOUNTS, step: tuple[str, int] | None = None) -> dict:
    """``POST /reminder-batches``. Preview: ``{preview, accounts, refused: {reason: n},
    samples: [{account_id, holder, language, amount, due_date}] (first 5), channel,
    purpose}``, nothing written. Else: ``{batch_id, accounts, refused, campaign}``; 409 when
    the segment reaches nobody. With the caller's ``request_id``, the same id again answers
    the batch made the first time (``repeated: true``) and writes nothing. ``limit``: the
    most contacts (``MAX_ACCOUNTS`` inside an API request; the job passes
    ``JOB_MAX_ACCOUNTS``); ``step``: the job's (policy id, step day) the batch is for."""
    segment, fields, preview = parse_request(body, now, preview_query)
    wanted_id = batch_id(body)
    if not preview and (again := _again(wanted_id)) is not None:
        return again
    accounts = billing.segment(segment.status, segment.due_from, segment.due_to,
                               today=now.date())
    return _create(fields, accounts, now, preview, wanted_id, limit, step)


def remind_one(body: dict, now: datetime) -> dict:
    """``POST /reminders`` ``{account_id, channel, template | flow | queue, caller_id, at?,
    name?}``: a one-account batch, now or at ``at``. 404 for an unknown account; 409 naming
    the reason when it may not be reminded now (paid, disputed, promised, no_due_date,
    no_phone...)."""
    unknown = set(body) - ONE_FIELDS
    if unknown:
        raise InvalidRequest(sorted(unknown)[0], "is not a field of a reminder")
    account_id = body.get("account_id")
    if not isinstance(account_id, str) or not account_id.strip() or len(account_id) > 64:
        raise InvalidRequest("account_id", "is required: the billing system's account id")
    at = body.get("at")
    if at is not None:
        if not isinstance(at, str):
            raise InvalidRequest("at", "must be an ISO 8601 time with its offset")
        query_time({"at": at}, "at")
    account = billing.get_account(account_id)
    purpose = "collections" if account is not None and account.status == OVERDUE \
        else "informational"
    fields = campaign_fields(body, purpose=purpose, now=now, starts_at=at)
    wanted_id = batch_id(body)
    if (again := _again(wanted_id)) is not None:
        return again
    if account is None:
        raise NotFound("account", account_id)
    reason = reminder_blocker(account, billing.local_today(account, now)) or (
        NO_PHONE if not account.phones else None)
    if reason:
        raise Conflict(f"{reason}: account {account_id} may not be reminded now")
    return _create(fields, [account], now, preview=False, batch_id=wanted_id)
