"""Stop when paid: the campaigns' last look before each reminder call or text.

A reminder run is a campaign whose contacts carry the ``account_id`` of their bill. Right
before each attempt the dialler and the text sender ask this check
(``campaigns.checks.ContactCheck``), which reads the account again (a consistent read, so a
payment recorded a moment ago counts) and:

- ends the contact with the reason when no reminder may go (``model.reminder_blocker``: paid,
  disputed, in a plan, written off, promised, nothing due, no due date);
- otherwise gives the template today's values: the amount still due (after a partial payment),
  its currency and due date, the holder's name.

A contact without an ``account_id`` (any other campaign) passes as it is.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.campaigns.campaign import Campaign
from chalicelib.campaigns.checks import Verdict
from chalicelib.campaigns.contact import CampaignContact
from chalicelib.reminders.model import reminder_blocker
from chalicelib.store import billing

UNKNOWN_ACCOUNT = "unknown_account"


class BillCheck:
    def before_contact(self, campaign: Campaign, contact: CampaignContact,
                       now: datetime) -> Verdict:
        account_id = contact.attributes.get("account_id")
        if not account_id:
            return Verdict()
        account = billing.get_account(account_id)
        if account is None:
            return Verdict(skip=UNKNOWN_ACCOUNT)
        blocker = reminder_blocker(account, billing.local_today(account, now))
        if blocker:
            return Verdict(skip=blocker)
        return Verdict(attributes={
            "amount_due": str(account.amount_due), "currency": account.currency,
            "due_date": account.due_date.isoformat() if account.due_date else "",
            "holder": account.holder})
