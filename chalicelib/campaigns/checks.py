"""A last look before each contact: is it still wanted, and with what values?

A campaign's contacts are copied from a list, and the world moves on while a run dials: a bill
is paid, disputed, promised. Right before it admits an attempt, the dialler (and the text
sender) asks the campaign's ``ContactCheck``: ``skip`` ends the contact with that reason as its
disposition (``paid``, ``disputed``...: never a reminder after payment), and ``attributes``
are the fresh values a template speaks or writes (the amount still due after a partial
payment). The default check keeps every contact as it is; payment reminders plug theirs in
(``reminders/``), so the campaign engine knows nothing of bills.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from chalicelib.campaigns.campaign import Campaign
from chalicelib.campaigns.contact import CampaignContact


@dataclass(frozen=True)
class Verdict:
    """``skip``: why the contact must not be made (its disposition), or None; ``attributes``:
    values that replace the list's for this attempt."""

    skip: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


class ContactCheck(Protocol):
    def before_contact(self, campaign: Campaign, contact: CampaignContact,
                       now: datetime) -> Verdict: ...


class KeepEveryone:
    """The default: every contact as the list gave it."""

    def before_contact(self, campaign: Campaign, contact: CampaignContact,
                       now: datetime) -> Verdict:
        return Verdict()
