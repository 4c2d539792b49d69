"""Campaigns and their contacts in DynamoDB (``CampaignEntry``, ``CampaignContactItem``).

- **A campaign** is one item whose settings travel as JSON; each change is conditional on its
  ``version`` (``save``), so the job and a person pressing *pause* cannot undo each other. Only
  scheduled and running campaigns carry ``live``: the job finds them with one Query.
- **Contacts** are copied from the contact list in pages (``load_contacts``), each written only
  if absent, so a page written twice (a retried job) never resets a contact that moved on.
- **Contacts not done are in the due index** at the time the job should look at them again
  (waiting: when due; dialing or calling: when overdue), spread over ``DUE_SHARDS`` partitions
  per campaign: ``due_contacts`` is one Query per shard, never a Scan. ``change_contact`` is the one
  write that moves a contact; it is conditional on the status and version the caller read, so
  two job runs racing claim a contact once and a retried webhook applies its outcome once.
- **Figures** are counters bumped with atomic ADDs: per UTC hour (``hour#...``: dials, live
  answers, abandoned, machines — the pacer's window and the live abandon rate), the calls
  ringing now, and ``totals``: contacts waiting, done, and done by disposition (the progress
  report; the rest of those loaded are in progress: one ADD per claim and one per outcome).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.campaigns.campaign import LIVE, Campaign, RetryRule
from chalicelib.campaigns.contact import DONE, WAITING, CampaignContact, looked_at_again
from chalicelib.store.connection import shared_connection
from chalicelib.store.models import (
    CampaignContactItem,
    CampaignEntry,
    save_if_absent,
    update_if,
)

CAMPAIGN = "campaign"
RINGING = "ringing"
TOTALS = "totals"
PACE = "pace"
DUE_SHARDS = 8
HOUR_FORMAT = "%Y-%m-%dT%H"
FIGURES = ("dials", "live_answers", "abandoned", "machine_answers", "texts",
           # the pacer's handle and answer times: sums, and how many calls they sum over
           "talk_seconds", "talks", "answer_wait_seconds", "answers_timed")
_DATES = ("created_at", "starts_at", "ends_at", "updated_at", "started_at", "ended_at",
          "load_lease_until")


def _table() -> str:
    meta: Any = CampaignEntry.Meta  # its table_name is set by models.bind_models
    return meta.table_name


# ---- campaigns -------------------------------------------------------------------------------
def _body(campaign: Campaign) -> dict:
    body = asdict(campaign)
    for name in _DATES:
        body[name] = body[name].isoformat() if body[name] else None
    return body


def _campaign(item: CampaignEntry) -> Campaign:
    body = dict(item.body or {})
    for name in _DATES:
        body[name] = datetime.fromisoformat(body[name]) if body.get(name) else None
    body["retries"] = {k: RetryRule(**v) for k, v in (body.get("retries") or {}).items()}
    body["status"], body["version"] = item.status, int(item.version or 1)
    return Campaign(**body)


def _live(campaign: Campaign) -> str | None:
    return "live" if campaign.status in LIVE else None


def create(campaign: Campaign) -> bool:
    """Store a new campaign; False if its id is taken."""
    item = CampaignEntry(campaign.campaign_id, CAMPAIGN, status=campaign.status,
                         version=campaign.version, body=_body(campaign), live=_live(campaign),
                         listing=CAMPAIGN, created_at=campaign.created_at,
                         updated_at=campaign.created_at)
    return save_if_absent(item, CampaignEntry.entry.does_not_exist())


def get(campaign_id: str) -> Campaign | None:
    try:
        return _campaign(CampaignEntry.get(campaign_id, CAMPAIGN, consistent_read=True))
    except DoesNotExist:
        return None


def save(campaign: Campaign, expected_version: int) -> Campaign | None:
    """Write ``campaign`` if the stored one is still ``expected_version``; the saved campaign
    (version bumped), or None when someone else changed it first."""
    saved = replace(campaign, version=expected_version + 1)
    live = _live(saved)
    ok = update_if(
        CampaignEntry(campaign.campaign_id, CAMPAIGN),
        [CampaignEntry.status.set(saved.status), CampaignEntry.version.set(saved.version),
         CampaignEntry.body.set(_body(saved)),
         CampaignEntry.live.set(live) if live else CampaignEntry.live.remove(),
         CampaignEntry.updated_at.set(saved.updated_at or saved.created_at)],
        CampaignEntry.version == expected_version)
    return saved if ok else None


def live_campaigns() -> list[Campaign]:
    """Scheduled and running campaigns: one Query of the sparse ``live`` index, then reads."""
    ids = [item.campaign_id for item in CampaignEntry.live_index.query("live")]
    return [c for c in (get(cid) for cid in ids) if c is not None]


def campaigns_created_between(start: datetime, end: datetime) -> list[Campaign]:
    """Campaigns created from ``start`` (inclusive) to ``end`` (exclusive), oldest first: one
    Query of the ``by_creation`` index (paged), then batched reads; no Scan."""
    keys = [(item.campaign_id, CAMPAIGN) for item in CampaignEntry.by_creation.query(
        CAMPAIGN, CampaignEntry.created_at.between(start, end - timedelta(microseconds=1)))]
    found: dict[str, Campaign] = {}
    for n in range(0, len(keys), 100):
        found.update({item.campaign_id: _campaign(item)
                      for item in CampaignEntry.batch_get(keys[n:n + 100])})
    return [found[cid] for cid, _ in keys if cid in found]


def all_campaigns(limit: int = 200) -> list[Campaign]:
    """The newest ``limit`` campaigns, newest first (the ``by_creation`` index, no Scan)."""
    keys = [(item.campaign_id, CAMPAIGN) for item in CampaignEntry.by_creation.query(
        CAMPAIGN, scan_index_forward=False, limit=limit)]
    found = {item.campaign_id: _campaign(item) for item in CampaignEntry.batch_get(keys)}
    return [found[cid] for cid, _ in keys if cid in found]


# ---- figures ---------------------------------------------------------------------------------
def _add(campaign_id: str, entry: str, deltas: dict[str, int],
         expires: datetime | None = None) -> None:
    """ADD each delta to a top-level number of one entry (created on first use)."""
    deltas = {name: value for name, value in deltas.items() if value}
    if not deltas:
        return
    names = {f"#a{i}": name for i, name in enumerate(deltas)}
    values: dict[str, Any] = {f":v{i}": {"N": str(v)} for i, v in enumerate(deltas.values())}
    expression = "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(deltas)))
    if expires is not None:
        names["#x"] = "expires"
        values[":x"] = {"N": str(int(expires.timestamp()))}
        expression += " SET #x = :x"
    # PynamoDB's dispatch, not the bare client: the same retries, and ``make bench`` counts it
    shared_connection().dispatch("UpdateItem", {
        "TableName": _table(),
        "Key": {"campaign_id": {"S": campaign_id}, "entry": {"S": entry}},
        "UpdateExpression": expression, "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values})


def count(campaign_id: str, at: datetime, **figures: int) -> None:
    """Add to the hour of ``at`` (UTC): ``dials``, ``live_answers``, ``abandoned``,
    ``machine_answers``, ``texts``; ``talk_seconds`` over ``talks`` (calls an agent took) and
    ``answer_wait_seconds`` over ``answers_timed`` (dial to a person's answer). Kept 40 days
    (the longest window is 30)."""
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise ValueError(f"unknown figures {sorted(unknown)}")
    _add(campaign_id, "hour#" + at.strftime(HOUR_FORMAT), figures,
         expires=at + timedelta(days=40))


def figures_since(campaign_id: str, since: datetime) -> dict[str, int]:
    """The counters summed over the hours from ``since`` (UTC, rounded down) on: one Query."""
    totals = dict.fromkeys(FIGURES, 0)
    for item in CampaignEntry.query(
            campaign_id, CampaignEntry.entry >= "hour#" + since.strftime(HOUR_FORMAT)):
        if not item.entry.startswith("hour#"):
            continue
        for name in FIGURES:
            totals[name] += int(getattr(item, name) or 0)
    return totals


def figures_by_hour(campaign_id: str, start: datetime,
                    end: datetime) -> dict[datetime, dict[str, int]]:
    """The counters of each UTC hour from ``start`` (rounded down) to ``end`` (exclusive),
    hours with none left out: ``{aware UTC hour start: {figure: n}}``; one Query (paged).
    Hours older than 40 days are gone (``count``'s expiry)."""
    low = "hour#" + start.astimezone(UTC).strftime(HOUR_FORMAT)
    high = "hour#" + (end.astimezone(UTC) - timedelta(microseconds=1)).strftime(HOUR_FORMAT)
    found: dict[datetime, dict[str, int]] = {}
    for item in CampaignEntry.query(campaign_id, CampaignEntry.entry.between(low, high)):
        hour = datetime.strptime(item.entry[len("hour#"):], HOUR_FORMAT).replace(tzinfo=UTC)
        found[hour] = {name: int(getattr(item, name) or 0) for name in FIGURES}
    return found


def add_ringing(campaign_id: str, delta: int) -> None:
    _add(campaign_id, RINGING, {"ringing": delta})


def ringing(campaign_id: str) -> int:
    """Calls placed and not yet answered or ended (never below 0)."""
    try:
        item = CampaignEntry.get(campaign_id, RINGING)
    except DoesNotExist:
        return 0
    return max(0, int(item.ringing or 0))


def set_pace(campaign_id: str, dial_level: float, mode: str, answer_rate: float,
             abandon_rate: float, at: datetime) -> None:
    """What the pacer decided last (``GET /campaigns/{id}`` shows it)."""
    CampaignEntry(campaign_id, PACE, body={"dial_level": round(dial_level, 3), "mode": mode,
                                          "answer_rate": round(answer_rate, 4),
                                          "abandon_rate": round(abandon_rate, 4),
                                          "at": at.isoformat()}).save()


def pace(campaign_id: str) -> dict | None:
    """The pacer's last decision: ``{dial_level, mode, answer_rate, abandon_rate, at}``."""
    try:
        return dict(CampaignEntry.get(campaign_id, PACE).body or {})
    except DoesNotExist:
        return None


def add_totals(campaign_id: str, deltas: dict[str, int]) -> None:
    """Bump the progress counters (``status_<s>``, ``disposition_<d>``)."""
    _add(campaign_id, TOTALS, deltas)


def set_totals(campaign_id: str, figures: dict[str, int]) -> None:
    """Start the progress counters at ``figures`` (replacing any): a campaign written whole
    before it exists (a reminder batch), so writing it again never counts twice."""
    item: dict[str, Any] = {"campaign_id": {"S": campaign_id}, "entry": {"S": TOTALS}}
    item.update({name: {"N": str(value)} for name, value in figures.items()})
    shared_connection().dispatch("PutItem", {"TableName": _table(), "Item": item})


def totals(campaign_id: str) -> dict[str, int]:
    """The progress counters: ``{"status_waiting": 12, "status_done": 5,
    "disposition_answered": 3, ...}`` (contacts loaded and neither waiting nor done are in
    progress: being dialled, ringing or talking)."""
    response = shared_connection().dispatch("GetItem", {
        "TableName": _table(), "ConsistentRead": True,
        "Key": {"campaign_id": {"S": campaign_id}, "entry": {"S": TOTALS}}})
    item = response.get("Item") or {}
    return {name: int(value["N"]) for name, value in item.items()
            if "N" in value and name.startswith(("status_", "disposition_"))}


# ---- contacts --------------------------------------------------------------------------------
def due_shard(campaign_id: str, phone: str) -> str:
    """Which of the campaign's due partitions a contact sits in (a hash of the number)."""
    digest = hashlib.sha256(phone.encode()).digest()
    return f"{campaign_id}#{int.from_bytes(digest[:4], 'big') % DUE_SHARDS}"


def _contact(item: CampaignContactItem) -> CampaignContact:
    return CampaignContact(
        campaign_id=item.campaign_id, phone=item.phone, status=item.status,
        version=int(item.version or 1), attempts=int(item.attempts or 0), name=item.name,
        language=item.language, timezone=item.timezone,
        attributes=dict(item.attributes or {}), due_at=item.due_at, dial_by=item.dial_by,
        call_sid=item.call_sid, outcome=item.outcome, disposition=item.disposition,
        answers=dict(item.answers or {}), history=tuple(item.history or ()),
        agent_id=item.agent_id, updated_at=item.updated_at)


def _item(contact: CampaignContact) -> CampaignContactItem:
    waiting = contact.status == WAITING
    return CampaignContactItem(
        contact.campaign_id, contact.phone, status=contact.status, version=contact.version,
        attempts=contact.attempts, name=contact.name, language=contact.language,
        timezone=contact.timezone, attributes=contact.attributes or None,
        due_shard=due_shard(contact.campaign_id, contact.phone) if waiting else None,
        due_at=contact.due_at if waiting else None, disposition=contact.disposition,
        updated_at=contact.updated_at,
        account_id=(contact.attributes or {}).get("account_id") or None)


def add_contact(contact: CampaignContact) -> bool:
    """Store a new contact unless the campaign holds the number already (False)."""
    return save_if_absent(_item(contact), CampaignContactItem.phone.does_not_exist())


def add_contacts(contacts: Iterable[CampaignContact]) -> None:
    """Write a page of new contacts at once (BatchWriteItem, 25 a request). Only for a page no
    one has seen yet (``load_contacts`` decides): a batch overwrites."""
    with CampaignContactItem.batch_write() as batch:
        for contact in contacts:
            batch.save(_item(contact))


def get_contact(campaign_id: str, phone: str) -> CampaignContact | None:
    try:
        return _contact(CampaignContactItem.get(campaign_id, phone, consistent_read=True))
    except DoesNotExist:
        return None


def contacts(campaign_id: str) -> Iterator[CampaignContact]:
    """Every contact of the campaign, by number (one paged Query)."""
    for item in CampaignContactItem.query(campaign_id):
        yield _contact(item)


def contacts_of_account(account_id: str, limit: int = 200) -> list[CampaignContact]:
    """Every campaign contact made for billing account ``account_id`` (its reminders), by
    the sparse ``by_account`` index: one Query."""
    return [_contact(item) for item in CampaignContactItem.by_account.query(
        account_id, limit=limit)]


def due_contacts(campaign_id: str, now: datetime, limit: int,
                 first_shard: int = 0) -> tuple[list[CampaignContact], int]:
    """Up to ``limit`` waiting contacts due at ``now``, earliest first within each shard,
    reading the shards from ``first_shard`` round (so job runs spread over them), and the
    number of Queries made."""
    found: list[CampaignContact] = []
    queries = 0
    for n in range(DUE_SHARDS):
        if len(found) >= limit:
            break
        shard = f"{campaign_id}#{(first_shard + n) % DUE_SHARDS}"
        queries += 1
        found.extend(_contact(item) for item in CampaignContactItem.due.query(
            shard, CampaignContactItem.due_at <= now, limit=limit - len(found)))
    return found[:limit], queries


_SETTABLE = ("attempts", "dial_by", "call_sid", "outcome", "disposition", "answers", "history",
             "agent_id", "due_at")


def change_contact(contact: CampaignContact, now: datetime, *, status: str,
                   **changes: Any) -> CampaignContact | None:
    """Move ``contact`` (as read) to ``status`` with ``changes`` if nobody changed it since:
    the new contact, or None (someone else moved it first). A contact not done stays in the
    due index at ``contact.looked_at_again`` (``due_at``: a waiting contact's time, default
    now, or a call's next check); a done one leaves it. The progress totals follow."""
    unknown = set(changes) - set(_SETTABLE)
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)} on a contact")
    changes["due_at"] = looked_at_again(status, now, changes.get("dial_by", contact.dial_by),
                                        changes.get("due_at"))
    new = replace(contact, status=status, version=contact.version + 1, updated_at=now,
                  **changes)
    actions = [CampaignContactItem.status.set(status),
               CampaignContactItem.version.set(new.version),
               CampaignContactItem.updated_at.set(now)]
    for name, value in changes.items():
        attribute = getattr(CampaignContactItem, name)
        if name == "history":
            value = list(value) if value else None
        if name == "answers":
            value = value or None
        actions.append(attribute.remove() if value is None else attribute.set(value))
    shard = CampaignContactItem.due_shard
    actions.append(shard.set(due_shard(contact.campaign_id, contact.phone))
                   if status != DONE else shard.remove())
    ok = update_if(CampaignContactItem(contact.campaign_id, contact.phone), actions,
                   (CampaignContactItem.version == contact.version)
                   & (CampaignContactItem.status == contact.status))
    if not ok:
        return None
    deltas: dict[str, int] = {}
    if status != contact.status:  # only the ends are counted: in progress is what is left
        for end in (WAITING, DONE):
            deltas[f"status_{end}"] = (status == end) - (contact.status == end)
    was = contact.disposition if contact.status == DONE else None
    now_is = new.disposition if status == DONE else None
    if was != now_is:  # ended, re-ended (sent -> delivered -> replied) or recycled
        if was:
            deltas[f"disposition_{was}"] = -1
        if now_is:
            deltas[f"disposition_{now_is}"] = 1
    add_totals(contact.campaign_id, deltas)
    return new
