"""What the job does with contacts it finds overdue in the due index: a claim left by a run
that died, and a call whose final status never came.

- **A stale claim** (``dialing`` past its expiry and ``STALE_DIAL``): the dialler takes the
  dial key ``campaign-dial:<campaign>:<digits>:<version>`` right before it calls Twilio, so
  whoever takes that key first decides. If the job takes it, no call was placed and none can be
  any more: the contact waits again. If the dialler took it, a call may be out: the contact is
  marked ``calling`` on that attempt and its status webhook (or the check below) settles it.
  Never two dials for one claim.
- **An overdue call** (``calling`` for ``CALL_CHECK``): Twilio is asked how the call stands
  (the Calls resource). A call still live is looked at again in an hour; a final one is
  settled as its status webhook would have (``CampaignCalls.ended``); a call Twilio does not
  know, or one placed but never named, is a failed attempt (the campaign's retry rule).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.campaigns.campaign import FAILED, Campaign
from chalicelib.campaigns.contact import (
    CALLING,
    WAITING,
    CampaignContact,
    after_attempt,
)
from chalicelib.logs import mask_number
from chalicelib.store import campaigns as store
from chalicelib.store import claims
from chalicelib.telephony.rest import Connector
from chalicelib.telephony.webhook_request import VoiceRequest

log = logging.getLogger(__name__)

LIVE_STATUSES = ("queued", "initiated", "ringing", "in-progress")
CHECK_AGAIN = timedelta(hours=1)


def dial_key(contact: CampaignContact) -> str:
    """The key one claim's dial is taken under (the contact's version while ``dialing``)."""
    return f"campaign-dial:{contact.campaign_id}:{contact.contact_id}:{contact.version}"


class CallOutcomes(Protocol):
    def ended(self, campaign_id: str, contact_id: str, attempt: int,
              req: VoiceRequest) -> bool: ...


class Recovery:
    """``connector``: Twilio's Calls resource; ``calls``: settles a final status."""

    def __init__(self, connector: Connector, calls: Callable[[], CallOutcomes]):
        self.connector, self._calls = connector, calls

    def stale_claim(self, contact: CampaignContact, now: datetime) -> str:
        """A ``dialing`` contact whose run died: ``released`` or ``adopted`` (see above)."""
        if claims.claim(dial_key(contact), now):
            store.change_contact(contact, now, status=WAITING, due_at=now, dial_by=None)
            return "released"
        store.change_contact(contact, now, status=CALLING, attempts=contact.attempts + 1,
                             dial_by=None)
        log.warning("campaign %s: %s was dialled by a run that died; waiting for its status",
                    contact.campaign_id, mask_number(contact.phone))
        return "adopted"

    def overdue_call(self, campaign: Campaign, contact: CampaignContact, now: datetime) -> str:
        """A ``calling`` contact with no final status: ``still_live``, ``reconciled`` or
        ``failed``."""
        state = None
        if contact.call_sid:
            try:
                state = self.connector.call_state(contact.call_sid)
            except Exception:  # noqa: BLE001 - Twilio unreachable: ask again later
                log.warning("campaign %s: cannot ask Twilio about %s", campaign.campaign_id,
                            contact.call_sid, exc_info=True)
                store.change_contact(contact, now, status=CALLING, due_at=now + CHECK_AGAIN)
                return "still_live"
        if state is not None and state[0] in LIVE_STATUSES:
            store.change_contact(contact, now, status=CALLING, due_at=now + CHECK_AGAIN)
            return "still_live"
        if state is not None and contact.call_sid:
            status, duration = state
            req = VoiceRequest.from_params({"CallSid": contact.call_sid, "CallStatus": status,
                                            "CallDuration": str(duration), "To": contact.phone,
                                            "From": campaign.caller_id})
            self._calls().ended(campaign.campaign_id, contact.contact_id, contact.attempts, req)
            return "reconciled"
        step = after_attempt(contact.attempts, FAILED, campaign.retries, now)
        history = contact.history + ({"at": now.isoformat(), "attempt": contact.attempts,
                                      "outcome": FAILED, "detail": "status lost"},)
        store.change_contact(contact, now, status=step.status, due_at=step.due_at,
                             disposition=step.disposition, outcome=FAILED, history=history)
        return "failed"
