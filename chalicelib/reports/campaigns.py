"""The campaigns report: what each outbound campaign and reminder batch did, per local day —
attempts, people reached, abandoned calls and their share, answering machines, texts, talk time
— with each campaign's contacts by disposition and, for reminder batches, what was paid after.

``campaign_report(first, last, interval="day", campaign_id=None, page=WHOLE)`` answers
``GET /reports/campaigns``:

    {"kind": "campaigns", "from": "2026-11-01", "to": "2026-11-30", "interval": "day",
     "rows": [{"campaign_id", "day", dials, live_answers, abandoned, abandon_rate,
               machine_answers, texts, average_talk_seconds}],
     "totals": [{"campaign_id", "name", "status", "reminder_batch", <the same figures>,
                 "contacts_by_disposition": {"answered": 3, ...}, "contacts_done",
                 "paid_accounts", "amount_collected": {"USD": {"minor", "amount"}},
                 "amounts_collected": "USD 12.50"}],
     "notes": ["..."], "next": "/reports/campaigns?...&cursor=..." or None}

**Sources, and why no new facts.** The campaign engine already keeps, per campaign and UTC
hour, counters written once per call (``store.campaigns.count``): an attempt (``dials``,
``live_answers``, ``talk_seconds``) is counted by ``CampaignCalls.ended`` only when its
outcome's conditional contact change applied (``_settle`` → ``store.change_contact``, on the
contact's version and status: a retried status webhook changes nothing and counts nothing);
``abandoned`` and ``machine_answers`` under the claims ``campaign-answer:<CallSid>`` /
``campaign-machine:<CallSid>`` (``claims.claim``); ``texts`` by ``CampaignTexts._settle`` only
when the contact's change applied. Those hourly sums are kept once, so reading them is as
exact as facts would be; they expire after 40 days (``count``), so older days read as zeros.
The totals are the campaign's own counters (``store.campaigns.totals``: contacts by
disposition, whatever the range) and, for a reminder batch (``list_id`` ``batch:...``), the
accounts paid within 7 days of its start and the amounts (``reminders.results.tally``: one
payments Query per contact, so only when at most ``MAX_TALLIED_BATCHES`` batches are in the
report; otherwise ``paid_accounts`` and the amounts are None and a note says so).

**Days** are the campaign's ``fallback_tz`` days (UTC when unknown); an hour counts on the day
it starts (``campaign_figures.by_local_day``). Only ``interval=day`` (the counters are hourly).

**Which campaigns**: one named (``NotFound`` when unknown), else those created from
``LOOKBACK_DAYS`` before the range to its end plus every live one (scheduled, running: a
campaign made long ago may still be calling), minus drafts and those ended before the range.
A campaign created earlier than the look-back and ended since is left out: name it to see it.
Cost: two Queries of the campaigns index, then one Query and one GetItem per campaign.

**Pages.** Rows grow with the campaigns (366 a campaign), so the report is paged by campaign id
(``reports.cursors``): a page holds whole campaigns, their rows and totals (each campaign's;
there is no total across campaigns) and reads only their counters. Whether payments are read
(``MAX_TALLIED_BATCHES``) is decided on all the range's campaigns, the same on every page.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.campaigns.campaign import DRAFT, Campaign
from chalicelib.facts import zone_of
from chalicelib.reminders.batches import LIST_PREFIX
from chalicelib.reminders.results import tally
from chalicelib.reports.campaign_figures import CAMPAIGN_COLUMNS, by_local_day, campaign_figures
from chalicelib.reports.cursors import WHOLE, Page
from chalicelib.store import campaigns as store

TARGET = "campaign"  # the query parameter naming one campaign
PAGED = True  # report() takes page= (reports.cursors)
INTERVALS = ("day",)
MAX_DAYS = 366
LOOKBACK_DAYS = 90
MAX_TALLIED_BATCHES = 20
PAID_WITHIN_DAYS = 7
TOTAL_COLUMNS = ["campaign_id", "name", "status", *CAMPAIGN_COLUMNS, "contacts_done",
                 "paid_accounts", "amounts_collected"]


def _midnight(day: date, zone: str = "UTC") -> datetime:
    return datetime.combine(day, time(), tzinfo=zone_of(zone)).astimezone(UTC)


def _zone(campaign: Campaign) -> str:
    try:
        zone_of(campaign.fallback_tz or "UTC")
    except ValueError:
        return "UTC"
    return campaign.fallback_tz or "UTC"


def _campaigns(first: date, last: date, campaign_id: str | None) -> list[Campaign]:
    if campaign_id is not None:
        campaign = store.get(campaign_id)
        if campaign is None:
            raise NotFound("campaign", campaign_id)
        return [campaign]
    # local days run from UTC−12 to UTC+14: a day of slack either side covers every zone
    start, end = _midnight(first) - timedelta(days=1), _midnight(last) + timedelta(days=2)
    found = {c.campaign_id: c for c in store.campaigns_created_between(
        start - timedelta(days=LOOKBACK_DAYS), end)}
    found.update({c.campaign_id: c for c in store.live_campaigns() if c.created_at < end})
    return sorted((c for c in found.values() if c.status != DRAFT
                   and (c.ended_at is None or c.ended_at >= start)),
                  key=lambda c: c.campaign_id)


def _is_batch(campaign: Campaign) -> bool:
    return campaign.list_id.startswith(LIST_PREFIX)


def _totals(campaign: Campaign, summed: Counter[str], paid: bool) -> dict:
    counters = store.totals(campaign.campaign_id)
    dispositions = {name[len("disposition_"):]: n for name, n in sorted(counters.items())
                    if name.startswith("disposition_") and n}
    row = {"campaign_id": campaign.campaign_id, "name": campaign.name,
           "status": campaign.status, "reminder_batch": _is_batch(campaign),
           **campaign_figures(summed), "contacts_by_disposition": dispositions,
           "contacts_done": counters.get("status_done", 0), "paid_accounts": None,
           "amount_collected": None, "amounts_collected": None}
    if paid and _is_batch(campaign):
        view = tally(campaign, PAID_WITHIN_DAYS).view()
        row["paid_accounts"], row["amount_collected"] = view["paid_accounts"], view["amounts"]
        row["amounts_collected"] = "; ".join(f"{currency} {value['amount']}"
                                             for currency, value in view["amounts"].items())
    return row


def campaign_report(first: date, last: date, interval: str = "day",
                    campaign_id: str | None = None, page: Page = WHOLE) -> dict:
    if interval not in INTERVALS:
        raise InvalidRequest("interval", "campaign counters are hourly: interval=day")
    if (last - first).days >= MAX_DAYS:
        raise InvalidRequest("from", f"a day report covers at most {MAX_DAYS} days")
    campaigns = _campaigns(first, last, campaign_id)
    batches = sum(_is_batch(c) for c in campaigns)
    paid = batches <= MAX_TALLIED_BATCHES
    notes = [f"counts by hour are kept 40 days; paid: within {PAID_WITHIN_DAYS} days of a "
             "batch's start"]
    if not paid:
        notes.append(f"{batches} reminder batches: payments are read for at most "
                     f"{MAX_TALLIED_BATCHES}; name one (campaign=) to see what it collected")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    mine, after = page.take(campaigns, key=lambda c: c.campaign_id, rows=lambda _: len(days))
    rows: list[dict] = []
    totals: list[dict] = []
    for campaign in mine:
        zone = _zone(campaign)
        hours = store.figures_by_hour(campaign.campaign_id, _midnight(first, zone),
                                      _midnight(last + timedelta(days=1), zone))
        local = by_local_day(hours, zone)
        summed: Counter[str] = Counter()
        for day in days:
            values = local.get(day, Counter())
            summed.update(values)
            rows.append({"campaign_id": campaign.campaign_id, "day": day.isoformat(),
                         **campaign_figures(values)})
        totals.append(_totals(campaign, summed, paid))
    return {"kind": "campaigns", "from": first.isoformat(), "to": last.isoformat(),
            "interval": interval, "rows": rows, "totals": totals, "notes": notes,
            "next": page.next_path(after)}


def columns(report: dict) -> list[str]:
    """The rows' columns: ``campaign_id, day, <CAMPAIGN_COLUMNS>``."""
    return ["campaign_id", "day", *CAMPAIGN_COLUMNS]


report = campaign_report  # the reports API's name for it (``reports.routes``)
