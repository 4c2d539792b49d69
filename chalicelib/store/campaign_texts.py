"""The last campaign text each number got, so that its reply finds the campaign contact.

One ``CampaignEntry`` per number (hash key ``text#<E.164>``, range ``last``), overwritten by
every campaign text to that number and gone by TTL after ``REPLY_WINDOW``: a reply within the
window is the answer to the latest text; anything later is an ordinary message. The items
live apart from every campaign's own partition, so no campaign Query ever sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.models import CampaignEntry

REPLY_WINDOW = timedelta(days=7)
_LAST = "last"


@dataclass(frozen=True)
class CampaignText:
    """A campaign's text to ``phone`` (E.164): the contact of ``campaign_id`` it went to, its
    ``message_sid``, the number it came from (``sender``: a reply goes there), the
    ``template`` it was written from, ``sent_at`` (aware UTC)."""

    phone: str
    campaign_id: str
    message_sid: str
    sender: str
    template: str | None
    sent_at: datetime


def _key(phone: str) -> str:
    return f"text#{phone}"


def note_text(text: CampaignText) -> None:
    """Remember ``text`` as the last campaign text to its number (kept ``REPLY_WINDOW``)."""
    CampaignEntry(_key(text.phone), _LAST, body={
        "campaign_id": text.campaign_id, "message_sid": text.message_sid,
        "sender": text.sender, "template": text.template, "sent_at": text.sent_at.isoformat(),
    }, expires=text.sent_at + REPLY_WINDOW).save()


def last_text(phone: str, now: datetime) -> CampaignText | None:
    """The last campaign text to ``phone`` if it went within ``REPLY_WINDOW`` before ``now``
    (TTL deletion lags, so the age is checked here too)."""
    try:
        item = CampaignEntry.get(_key(phone), _LAST)
    except DoesNotExist:
        return None
    body = item.body or {}
    sent_at = datetime.fromisoformat(body["sent_at"])
    if now - sent_at > REPLY_WINDOW:
        return None
    return CampaignText(phone, body["campaign_id"], body["message_sid"], body["sender"],
                        body.get("template"), sent_at)
