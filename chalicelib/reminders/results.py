"""What reminders achieved: per batch and per policy (issue 11, scope 6).

A batch is a campaign (``batches.py``); its contacts' dispositions say what the reminder did
(sent, delivered, answered, opted out...) and the account's payments say what followed: an
account counts as paid when a payment (any source: ``<Pay>``, the billing system, an agent)
was applied from the batch's start to ``paid_within_days`` days after. A policy's results add
up the batches the hourly job made for it (``Campaign.reminder_policy``), step by step.

- ``batch_report(batch_id, now, paid_within_days)``: ``GET /reminder-batches/{id}``;
- ``results_csv(batch_id)``: ``GET /reminder-batches/{id}/results``, a row per account;
- ``policy_report(policy_id, since, until, now, paid_within_days)``:
  ``GET /reminder-policies/{id}/results``; ``policy_csv(...)``: the same, a row per batch.

Cost: one payments Query per account reached (the payments are read, never scanned); a
policy over a date range lists its batches from the campaigns' ``by_creation`` index.
Errors: ``NotFound`` (404) for an unknown batch or policy.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.api_errors import NotFound
from chalicelib.campaigns import admin
from chalicelib.campaigns.campaign import Campaign
from chalicelib.campaigns.contact import (
    ANSWERED,
    DELIVERED,
    OPTED_OUT,
    REPLIED,
    SENT,
    UNDELIVERED,
)
from chalicelib.reminders.batches import LIST_PREFIX
from chalicelib.reminders.model import APPLIED, Payment
from chalicelib.reminders.model import format_amount as plain_amount
from chalicelib.reminders.policy import ReminderPolicy, load_policies
from chalicelib.store import billing
from chalicelib.store import campaigns as store

RESULT_COLUMNS = ("account_id", "phone", "disposition", "attempts", "paid", "amount_paid",
                  "currency", "last_payment_at")
POLICY_COLUMNS = ("batch_id", "step_day", "channel", "created_at", "status", "accounts",
                  "sent", "delivered", "answered", "opted_out", "paid_accounts",
                  "amounts_collected")


@dataclass
class Tally:
    """What a batch (or several) did: ``accounts`` reached, contacts by ``dispositions``,
    accounts ``paid`` within the window and the amounts ``collected`` (minor units by
    currency)."""

    accounts: int = 0
    dispositions: Counter[str] = field(default_factory=Counter)
    paid: int = 0
    collected: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.accounts += other.accounts
        self.dispositions.update(other.dispositions)
        self.paid += other.paid
        self.collected.update(other.collected)

    def view(self) -> dict:
        """``{sent, delivered, answered, opted_out, by_disposition, paid_accounts, amounts:
        {currency: {minor, amount}}}``: sent = texts out; answered = a person answered (or
        replied to the text)."""
        d = self.dispositions
        return {
            "accounts": self.accounts,
            "sent": sum(d[x] for x in (SENT, DELIVERED, UNDELIVERED, REPLIED)),
            "delivered": d[DELIVERED] + d[REPLIED],
            "answered": d[ANSWERED] + d[REPLIED],
            "opted_out": d[OPTED_OUT],
            "by_disposition": dict(sorted(d.items())),
            "paid_accounts": self.paid,
            "amounts": {currency: {"minor": minor, "amount": plain_amount(minor, currency)}
                        for currency, minor in sorted(self.collected.items())},
        }


def get_batch(batch_id: str) -> Campaign:
    campaign = store.get(batch_id)
    if campaign is None or not campaign.list_id.startswith(LIST_PREFIX):
        raise NotFound("reminder batch", batch_id)
    return campaign


def _paid(payments: list[Payment], since: datetime, until: datetime | None) -> list[Payment]:
    return [p for p in payments if p.status == APPLIED and p.at >= since
            and (until is None or p.at < until)]


def _since(campaign: Campaign) -> datetime:
    return campaign.started_at or campaign.starts_at or campaign.created_at


def tally(campaign: Campaign, paid_within_days: int) -> Tally:
    """The batch's contacts and what its accounts paid within ``paid_within_days`` of its
    start."""
    since = _since(campaign)
    until = since + timedelta(days=paid_within_days)
    found = Tally()
    for contact in store.contacts(campaign.campaign_id):
        found.accounts += 1
        if contact.disposition:
            found.dispositions[contact.disposition] += 1
        account_id = contact.attributes.get("account_id")
        payments = _paid(billing.payments_for(account_id), since, until) if account_id else []
        if payments:
            found.paid += 1
            for payment in payments:
                found.collected[payment.currency] += payment.amount
    return found


def batch_report(batch_id: str, now: datetime, paid_within_days: int = 7) -> dict:
    """``GET /reminder-batches/{id}``: the campaign's report (``campaigns.admin.report``) and
    ``results``: ``Tally.view`` plus ``paid: {within_days, since, accounts, amounts}``."""
    campaign = get_batch(batch_id)
    report = admin.report(batch_id, now)
    view = tally(campaign, paid_within_days).view()
    results = {key: view[key] for key in ("sent", "delivered", "answered", "opted_out",
                                          "by_disposition")}
    results["paid"] = {"within_days": paid_within_days, "since": _since(campaign).isoformat(),
                       "accounts": view["paid_accounts"], "amounts": view["amounts"]}
    return {**report, "batch_id": batch_id, "results": results}


def results_csv(batch_id: str) -> str:
    """``GET /reminder-batches/{id}/results``: one row per account (``RESULT_COLUMNS``); paid
    = a payment since the batch started (any source), ``amount_paid`` their sum as decimal
    text in ``currency``, ``last_payment_at`` ISO 8601."""
    campaign = get_batch(batch_id)
    since = _since(campaign)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    for contact in store.contacts(batch_id):
        account_id = contact.attributes.get("account_id", "")
        payments = _paid(billing.payments_for(account_id), since, None) if account_id else []
        currency = contact.attributes.get("currency", "")
        amount = sum(p.amount for p in payments)
        writer.writerow([
            account_id, contact.phone, contact.disposition or contact.status, contact.attempts,
            "yes" if payments else "no",
            plain_amount(amount, payments[0].currency) if payments else "",
            payments[0].currency if payments else currency,
            max(p.at for p in payments).isoformat() if payments else ""])
    return out.getvalue()


# ---- per policy -------------------------------------------------------------------------------
def _policy(policy_id: str) -> ReminderPolicy:
    policy = load_policies().get(policy_id)
    if policy is None:
        raise NotFound("reminder policy", policy_id)
    return policy


def policy_batches(policy_id: str, since: date, until: date) -> list[Campaign]:
    """The batches the job made for the policy, created from ``since`` to ``until``
    (inclusive UTC days), oldest first."""
    made = store.campaigns_created_between(_midnight(since), _midnight(until + timedelta(1)))
    return [c for c in made if c.reminder_policy == policy_id]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def policy_report(policy_id: str, since: date, until: date, now: datetime,
                  paid_within_days: int = 7) -> dict:
    """``GET /reminder-policies/{id}/results``: ``{policy, name, purpose, from, to,
    paid_within_days, totals, steps: [{day, channel, batches, ...Tally.view}], batches:
    [{batch_id, step_day, channel, created_at, status, ...Tally.view}]}`` over the batches
    made from ``since`` to ``until``. 404 for an unknown policy."""
    policy = _policy(policy_id)
    totals = Tally()
    by_step: dict[int, Tally] = {step.day: Tally() for step in policy.steps}
    made: dict[int, int] = Counter()
    rows = []
    for campaign in policy_batches(policy_id, since, until):
        found = tally(campaign, paid_within_days)
        totals.add(found)
        day = campaign.reminder_step if campaign.reminder_step is not None else 0
        by_step.setdefault(day, Tally()).add(found)
        made[day] += 1
        rows.append({"batch_id": campaign.campaign_id, "step_day": campaign.reminder_step,
                     "channel": _channel(campaign), "created_at": campaign.created_at.isoformat(),
                     "status": campaign.status, **found.view()})
    channels = {step.day: step.channel for step in policy.steps}
    return {
        "policy": policy.policy_id, "name": policy.name, "purpose": policy.purpose,
        "from": since.isoformat(), "to": until.isoformat(),
        "paid_within_days": paid_within_days, "totals": totals.view(),
        "steps": [{"day": day, "channel": channels.get(day), "batches": made[day],
                   **by_step[day].view()} for day in sorted(by_step)],
        "batches": rows,
    }


def _channel(campaign: Campaign) -> str:
    return "agent" if campaign.with_agents else campaign.channel


def policy_csv(policy_id: str, since: date, until: date, now: datetime,
               paid_within_days: int = 7) -> str:
    """The policy's results as CSV, one row per batch (``POLICY_COLUMNS``; amounts as
    ``CUR decimal`` joined by ``; ``)."""
    report = policy_report(policy_id, since, until, now, paid_within_days)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(POLICY_COLUMNS)
    for row in report["batches"]:
        amounts = "; ".join(f"{cur} {value['amount']}" for cur, value in row["amounts"].items())
        writer.writerow([row["batch_id"], row["step_day"], row["channel"], row["created_at"],
                         row["status"], row["accounts"], row["sent"], row["delivered"],
                         row["answered"], row["opted_out"], row["paid_accounts"], amounts])
    return out.getvalue()


def policies_view() -> list[dict]:
    """``GET /reminder-policies``: every policy with its steps (``{day, channel, template |
    flow | queue}``)."""
    return [{"policy": p.policy_id, "name": p.name, "purpose": p.purpose,
             "steps": [{key: value for key, value in vars(step).items() if value is not None}
                       for step in p.steps]}
            for p in load_policies().values()]
