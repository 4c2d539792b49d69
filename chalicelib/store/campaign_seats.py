"""Agents' seats on a campaign: ``seat#<agent_id>`` entries under the campaign's id in the
campaigns table (``CampaignEntry``), so one Query reads every seat of a campaign.

Every change is conditional on the ``version`` and ``state`` the caller read
(``change_seat``): two answered calls racing for the last ready seat get it once, and an
offer that expired while the agent pressed *accept* is accepted or expired, never both. A seat
lives ``SEAT_HOURS`` after its last change (TTL) in case its agent's leg ended without our
hearing of it; reads skip expired ones (TTL deletion lags).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.campaigns.seat import Seat
from chalicelib.store.models import CampaignEntry, delete_if, save_if_absent, update_if

PREFIX = "seat#"
# Twilio ends a call after 4 hours unless told otherwise (its TimeLimit): a seat untouched for
# longer than that has lost its line.
SEAT_HOURS = 6


def _seat(item: CampaignEntry) -> Seat:
    body = dict(item.body or {})
    since = body.get("since")
    return Seat(campaign_id=item.campaign_id, agent_id=item.entry.removeprefix(PREFIX),
                state=item.state or "", version=int(item.version or 1),
                agent_name=body.get("agent_name"), leg_sid=item.leg_sid,
                call_sid=item.call_sid, contact=item.contact, until=item.until,
                since=datetime.fromisoformat(since) if since else None,
                wrap_up_seconds=int(body.get("wrap_up_seconds") or 0),
                disposition=body.get("disposition"))


def _body(seat: Seat) -> dict[str, Any]:
    return {"agent_name": seat.agent_name, "since": seat.since.isoformat() if seat.since else None,
            "wrap_up_seconds": seat.wrap_up_seconds, "disposition": seat.disposition}


def _alive(item: CampaignEntry, now: datetime) -> bool:
    return item.expires is None or item.expires > now


def seats(campaign_id: str, now: datetime) -> list[Seat]:
    """Every seat of the campaign (one consistent Query)."""
    return [_seat(item) for item in CampaignEntry.query(
        campaign_id, CampaignEntry.entry.startswith(PREFIX), consistent_read=True)
        if _alive(item, now)]


def get_seat(campaign_id: str, agent_id: str, now: datetime) -> Seat | None:
    try:
        item = CampaignEntry.get(campaign_id, PREFIX + agent_id, consistent_read=True)
    except DoesNotExist:
        return None
    return _seat(item) if _alive(item, now) else None


def add_seat(seat: Seat, now: datetime) -> bool:
    """Store a new seat; False if the agent has one on this campaign already."""
    item = CampaignEntry(seat.campaign_id, PREFIX + seat.agent_id, state=seat.state,
                         version=seat.version, leg_sid=seat.leg_sid, call_sid=seat.call_sid,
                         contact=seat.contact, until=seat.until, body=_body(seat),
                         updated_at=now, expires=now + timedelta(hours=SEAT_HOURS))
    if save_if_absent(item, CampaignEntry.entry.does_not_exist()):
        return True
    # an expired seat (TTL not yet applied) is no seat: take its place
    return update_if(CampaignEntry(seat.campaign_id, PREFIX + seat.agent_id),
                     _actions(seat, now), CampaignEntry.expires <= now)


_CHANGEABLE = ("leg_sid", "call_sid", "contact", "until", "since", "wrap_up_seconds",
               "disposition", "agent_name")


def change_seat(seat: Seat, now: datetime, *, state: str, **changes: Any) -> Seat | None:
    """Move ``seat`` (as read) to ``state`` with ``changes`` if nobody changed it since: the new
    seat, or None. ``since`` becomes ``now`` when the state changes (unless given)."""
    unknown = set(changes) - set(_CHANGEABLE)
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)} on a seat")
    if state != seat.state:
        changes.setdefault("since", now)
    new = replace(seat, state=state, version=seat.version + 1, **changes)
    ok = update_if(CampaignEntry(seat.campaign_id, PREFIX + seat.agent_id), _actions(new, now),
                   (CampaignEntry.version == seat.version) & (CampaignEntry.state == seat.state))
    return new if ok else None


def _actions(seat: Seat, now: datetime) -> list:
    actions = [CampaignEntry.state.set(seat.state), CampaignEntry.version.set(seat.version),
               CampaignEntry.body.set(_body(seat)), CampaignEntry.updated_at.set(now),
               CampaignEntry.expires.set(now + timedelta(hours=SEAT_HOURS))]
    for name in ("leg_sid", "call_sid", "contact", "until"):
        attribute, value = getattr(CampaignEntry, name), getattr(seat, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    return actions


def remove_seat(campaign_id: str, agent_id: str, *, leg_sid: str | None = None) -> bool:
    """Delete the seat (only while its line is ``leg_sid``, when given: a late word of an old
    leg never removes the agent's new seat); False if there was none to delete."""
    item = CampaignEntry(campaign_id, PREFIX + agent_id)
    condition = CampaignEntry.entry.exists()
    if leg_sid is not None:
        condition &= CampaignEntry.leg_sid == leg_sid
    return delete_if(item, condition)
