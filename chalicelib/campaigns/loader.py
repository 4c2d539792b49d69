"""Copying a campaign's contact list into the campaign, a page per job run.

A 100,000-row list cannot be copied inside one API request (API Gateway gives 29 s), so the
job copies ``PAGE`` rows a run while the campaign is live, and contacts become due as they
arrive. One run at a time writes a page: it takes a lease by saving the campaign with
``load_pending`` (conditional on its version) before writing. A page is written with
BatchWriteItem (25 rows a request); a page whose writer died half-way (the lease ran out with
``load_pending`` still set) is written again row by row, each only if absent, so a contact that
was claimed meanwhile is never reset and dialled twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.campaigns.campaign import Campaign
from chalicelib.campaigns.contact import WAITING, CampaignContact
from chalicelib.store import campaigns as store
from chalicelib.store import contact_lists

PAGE = 2000  # rows a run copies: ~80 batch requests, a few seconds
LEASE = timedelta(minutes=5)


def load_page(campaign: Campaign, now: datetime, page: int = PAGE) -> Campaign:
    """Copy the next page of the list (if this run wins the lease); the campaign as it now
    stands (reloaded when another run changed it first)."""
    if campaign.load_done:
        return campaign
    if campaign.load_lease_until and campaign.load_lease_until > now:
        return campaign  # another run is writing a page
    rows, more = contact_lists.rows_page(campaign.list_id, campaign.load_cursor, page)
    last = rows[-1].phone if rows else campaign.load_cursor
    recovering = campaign.load_pending is not None
    leased = store.save(replace(campaign, load_pending=last or "", load_lease_until=now + LEASE,
                                updated_at=now), campaign.version)
    if leased is None:
        return store.get(campaign.campaign_id) or campaign
    contacts = [CampaignContact(campaign_id=campaign.campaign_id, phone=row.phone,
                                status=WAITING, name=row.name, language=row.language,
                                timezone=row.timezone, attributes=dict(row.attributes),
                                due_at=now, updated_at=now) for row in rows]
    if recovering:
        added = sum(store.add_contact(contact) for contact in contacts)
    else:
        store.add_contacts(contacts)
        added = len(contacts)
    store.add_totals(campaign.campaign_id, {"status_waiting": added})
    done = replace(leased, load_cursor=last, load_pending=None, load_lease_until=None,
                   loaded=leased.loaded + added, load_done=not more, updated_at=now)
    saved = store.save(done, leased.version)
    return saved or store.get(campaign.campaign_id) or done
