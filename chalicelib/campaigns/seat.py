"""An agent's seat on an agent campaign (preview, progressive, predictive): the agent sits on an
open line, in a Twilio conference room of their own, so an answered customer is bridged in at
once. A person who answers and has no agent within 2 s counts as abandoned (FTC TSR 16 CFR
310.4(b)(4)(i); ``../shared/docs/OUTBOUND.md``): ringing the agent then would take too long.

States (``store.campaign_seats`` keeps them, every change conditional on ``version``)::

    connecting --(the agent's leg answers: join webhook)--> ready
    ready --(a customer answers: bridge)--> talking --(the customer leaves)--> wrap_up
    wrap_up --(until passes, or the agent posts a disposition)--> ready
    ready --(preview: a contact offered)--> previewing --(accept)--> dialing --(answer)--> talking
    previewing --(skip, or until passes)--> ready
    dialing --(the call ends unanswered, or until passes)--> ready

A wrap-up whose ``until`` has passed *is* ready (``effective_state``): nothing has to run for an
agent to become free again. Plain Python: no storage, no Twilio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

CONNECTING = "connecting"
READY = "ready"
PREVIEWING = "previewing"
DIALING = "dialing"
TALKING = "talking"
WRAP_UP = "wrap_up"
SEAT_STATES = (CONNECTING, READY, PREVIEWING, DIALING, TALKING, WRAP_UP)

# An accepted preview call rings for the campaign's ring time; answering-machine detection may
# take up to 30 s more before the answer webhook (Twilio's AMD timeout). After that the agent
# is free again even if no word of the call reached us.
DIAL_MARGIN = timedelta(seconds=45)

# What an agent may record as the outcome of a conversation: a short label of their team's
# vocabulary (``sale``, ``call_back``, ``wrong_person``...), kept on the contact.
DISPOSITION_PATTERN = r"[a-z][a-z0-9_]{0,39}"
DISPOSITION_FORM = ("a short label: a lower-case letter, then up to 39 lower-case letters, "
                    "digits or underscores")
_DISPOSITION = re.compile(DISPOSITION_PATTERN)


@dataclass(frozen=True)
class Seat:
    """One agent on one campaign. ``leg_sid``: the agent's own call (their open line);
    ``contact``: the phone (E.164) of the contact offered, being dialled, talked to or wrapped
    up; ``call_sid``: that customer's call once placed or bridged; ``until``: when an offer, a
    dial or a wrap-up ends (aware UTC); ``since``: when the seat entered its state;
    ``wrap_up_seconds``: the campaign's, copied when a customer is bridged; ``disposition``:
    the last one the agent posted, ``{contact, disposition, at}``."""

    campaign_id: str
    agent_id: str
    state: str
    version: int = 1
    agent_name: str | None = None
    leg_sid: str | None = None
    call_sid: str | None = None
    contact: str | None = None
    until: datetime | None = None
    since: datetime | None = None
    wrap_up_seconds: int = 10
    disposition: dict | None = None


def room(campaign_id: str, agent_id: str) -> str:
    """The agent's conference room on this campaign (no personal data: Twilio's advice)."""
    return f"seat-{campaign_id}-{agent_id}"


def effective_state(seat: Seat, now: datetime) -> str:
    """The seat's state at ``now``: a wrap-up whose ``until`` has passed is ready."""
    if seat.state == WRAP_UP and seat.until is not None and seat.until <= now:
        return READY
    return seat.state


def ready_since(seat: Seat) -> datetime | None:
    """When the seat became ready (a finished wrap-up: when it ended)."""
    return seat.until if seat.state == WRAP_UP else seat.since


def ready_seats(seats: list[Seat], now: datetime) -> list[Seat]:
    """The seats ready at ``now``, longest ready first (the fair order: the agent who waited
    longest takes the next customer)."""
    ready = [s for s in seats if effective_state(s, now) == READY]
    floor = datetime.min.replace(tzinfo=now.tzinfo)
    return sorted(ready, key=lambda s: (ready_since(s) or floor, s.agent_id))


def lapsed(seat: Seat, now: datetime) -> bool:
    """An offer or an accepted dial whose time is over (the seat goes back to ready)."""
    return seat.state in (PREVIEWING, DIALING) and seat.until is not None and seat.until <= now


def dial_until(now: datetime, ring_seconds: int) -> datetime:
    """How long a seat waits for the customer an agent accepted to answer."""
    return now + timedelta(seconds=ring_seconds) + DIAL_MARGIN


def last_digits(phone: str | None) -> str | None:
    """The last 4 digits of a number: what an agent is shown of a contact's phone."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits[-4:] if digits else None


def check_disposition(value: object) -> str:
    """``value`` if it is a disposition label (``DISPOSITION_PATTERN``), else ValueError."""
    if not (isinstance(value, str) and _DISPOSITION.fullmatch(value)):
        raise ValueError(f"must be {DISPOSITION_FORM}")
    return value
