"""Agents on an agent campaign's open lines: joining, bridging answered customers, wrap-up, and
the preview mode's offers (``campaigns.seat`` has the states and why).

- **Join.** We call the agent (REST) at their endpoint (the routing profile's phone, SIP or
  Twilio Client); their leg's answer webhook (``joined``) puts them in their own conference
  room and the seat is ready. The leg's status callback (``leg_ended``) removes the seat.
- **Bridge.** When a customer answers (the lead's ``CampaignCalls``) ``bridge`` takes the
  longest-ready seat with one Query and one conditional write, and answers the TwiML that puts
  the customer in that agent's room; None when nobody is free (the caller plays the abandon
  message). ``customer_left`` starts the wrap-up; it ends by time or with a disposition.
- **Preview.** Each round (``preview_round``) offers one claimed contact to each ready seat for
  ``preview_seconds``. *Accept* reserves the seat (``dialing``) and places the call through
  the ``dial`` function it is given (the lead's ``VoiceDialer.place``, which passes the gate
  with an agent reserved); the answer is bridged to that seat. *Skip* ends the contact as
  ``skipped``. An offer that lapses sends its contact back to waiting, due at once (``release``:
  ``store.campaigns.change_contact``), never dialled without an agent.

An agent who hangs up leaves the campaign: their room ends, and a customer talking in it with
it. A customer bridged in the instant after (the seat not yet removed) would wait alone in a
new room until they hang up: a rare race we accept rather than pay a read of Twilio's
conference on every answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib.api_errors import Conflict, InvalidRequest, NotFound
from chalicelib.campaigns import seat as seat_rules
from chalicelib.campaigns.campaign import FINAL, PREVIEW, Campaign
from chalicelib.campaigns.contact import DIALING, DONE, SKIPPED, WAITING, CampaignContact
from chalicelib.campaigns.seat import (
    CONNECTING,
    PREVIEWING,
    READY,
    TALKING,
    WRAP_UP,
    Seat,
)
from chalicelib.campaigns.seat import (
    DIALING as SEAT_DIALING,
)
from chalicelib.logs import mask_number
from chalicelib.settings import Settings
from chalicelib.store import campaign_seats as store
from chalicelib.store import campaigns
from chalicelib.store.routing import get_agent
from chalicelib.telephony.rest import Connector
from chalicelib.telephony.retries import retried
from chalicelib.telephony.twiml import hangup
from chalicelib.telephony.twiml_routing import dial_address, render_into_room, render_open_line

log = logging.getLogger(__name__)

PLACED = "placed"  # VoiceDialer.place's outcome for a call that went out
WRITE_ATTEMPTS = 3  # a conditional write lost to a racing one is read and tried again


def seat_url(base: str, campaign_id: str, agent_id: str, step: str) -> str:
    """The agent leg's webhooks: ``join`` (TwiML on answer) and ``seat-status`` (final)."""
    return f"{base}/twilio/campaigns/{campaign_id}/seats/{agent_id}/{step}"


class Seats:
    """``clock``: aware UTC now; ``connector``: Twilio's REST edge (the agents' legs)."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime], connector: Connector):
        self.settings, self.clock, self.connector = settings, clock, connector

    # ---- reading ------------------------------------------------------------------------------
    @staticmethod
    def agent_campaign(campaign_id: str) -> Campaign:
        """The campaign; NotFound if unknown, Conflict if it is not an agent campaign."""
        campaign = campaigns.get(campaign_id)
        if campaign is None:
            raise NotFound("campaign", campaign_id)
        if not campaign.with_agents:
            raise Conflict(f"campaign '{campaign_id}' is {campaign.kind}: it has no agents")
        return campaign

    def seat(self, campaign_id: str, agent_id: str) -> dict:
        """``{campaign_id, agent_id, name, state, since, until, contact, disposition}``;
        ``contact`` (offered or on the line): ``{name, phone_last4, attributes}``."""
        now = self.clock()
        return self._view(self._get(campaign_id, agent_id, now), now)

    def agent_seats(self, agent_id: str) -> list[dict]:
        """The agent's seats on live agent campaigns, each as ``seat`` answers plus
        ``campaign_name``, ``campaign_kind`` (``preview`` offers contacts to accept or skip)
        and ``preview_seconds``: what the agent's desk shows. One Query of the live
        campaigns, then a read of each and of the agent's seat on it."""
        now = self.clock()
        found = []
        for campaign in campaigns.live_campaigns():
            if not campaign.with_agents:
                continue
            seat = store.get_seat(campaign.campaign_id, agent_id, now)
            if seat is not None:
                found.append({**self._view(seat, now), "campaign_name": campaign.name,
                              "campaign_kind": campaign.kind,
                              "preview_seconds": campaign.preview_seconds})
        return found

    def seats(self, campaign_id: str) -> list[dict]:
        now = self.clock()
        return [self._view(s, now) for s in store.seats(campaign_id, now)]

    def ready_count(self, campaign_id: str, now: datetime) -> int:
        """Seats ready at ``now`` (a finished wrap-up counts): one Query."""
        return len(seat_rules.ready_seats(store.seats(campaign_id, now), now))

    def occupancy(self, campaign_id: str, now: datetime) -> tuple[int, int]:
        """``(ready, busy)`` at ``now``: seats ready, and seats talking or in a wrap-up still
        running (they free up while new calls ring: the pacer's handle-time estimate). One
        Query."""
        seats = store.seats(campaign_id, now)
        ready = seat_rules.ready_seats(seats, now)
        busy = [seat for seat in seats if seat not in ready
                and seat.state in (seat_rules.TALKING, seat_rules.WRAP_UP)]
        return len(ready), len(busy)

    # ---- agents -------------------------------------------------------------------------------
    def join(self, campaign: Campaign, agent_id: str, now: datetime) -> dict:
        """Call agent ``agent_id`` onto ``campaign``'s open line: the seat, ``connecting``.
        NotFound for an unknown agent; Conflict if the campaign is over, the agent does not
        serve its queue, already has a seat, or Twilio refuses the call."""
        if campaign.status in FINAL:
            raise Conflict(f"campaign '{campaign.campaign_id}' is {campaign.status}")
        agent = get_agent(agent_id)
        if agent is None:
            raise NotFound("agent", agent_id)
        if campaign.queue_id and campaign.queue_id not in agent.queues:
            raise Conflict(f"agent '{agent_id}' does not serve queue '{campaign.queue_id}'")
        seat = Seat(campaign.campaign_id, agent_id, CONNECTING, agent_name=agent.name,
                    since=now, wrap_up_seconds=campaign.wrap_up_seconds)
        if not store.add_seat(seat, now):
            raise Conflict(f"agent '{agent_id}' is on campaign '{campaign.campaign_id}' "
                           "already")
        base = self.settings.public_base_url
        try:
            leg = self.connector.place_call(
                to=dial_address(agent.endpoint), from_=campaign.caller_id,
                url=seat_url(base, campaign.campaign_id, agent_id, "join"),
                status_callback=retried(seat_url(base, campaign.campaign_id, agent_id,
                                                 "seat-status")))
        except Exception as exc:  # noqa: BLE001 - any refusal: no line, no seat
            store.remove_seat(campaign.campaign_id, agent_id)
            log.warning("campaign %s: cannot call agent %s (%s)", campaign.campaign_id,
                        agent_id, getattr(exc, "code", None) or type(exc).__name__)
            raise Conflict(f"could not call agent '{agent_id}': Twilio refused or did not "
                           "answer") from None
        # the join webhook may have come first (and set the leg itself): then this loses
        seat = store.change_seat(seat, now, state=CONNECTING, leg_sid=leg) or seat
        log.info("campaign %s: calling agent %s onto the line", campaign.campaign_id, agent_id)
        return self._view(seat, now)

    def joined(self, campaign_id: str, agent_id: str, leg_sid: str, now: datetime) -> str:
        """The agent's leg answered: TwiML putting them in their room (the seat is ready), or a
        hang-up for a leg that is not the seat's (the agent left, or an older leg)."""
        for _ in range(WRITE_ATTEMPTS):
            seat = store.get_seat(campaign_id, agent_id, now)
            if seat is None or seat.leg_sid not in (None, leg_sid):
                log.info("campaign %s: agent %s leg %s has no seat: hanging up", campaign_id,
                         agent_id, leg_sid)
                return hangup()
            if seat.state != CONNECTING or store.change_seat(seat, now, state=READY,
                                                             leg_sid=leg_sid):
                break  # a retried webhook: the seat is in its room already
        return render_open_line(seat_rules.room(campaign_id, agent_id),
                                hold_music_url=self.settings.hold_music_url)

    def leg_ended(self, campaign_id: str, agent_id: str, leg_sid: str, now: datetime) -> None:
        """The agent's line ended (hung up, never answered, failed): the seat goes. An offered
        contact goes back to waiting; a call in the room ended with the room."""
        seat = store.get_seat(campaign_id, agent_id, now)
        if seat is None or seat.leg_sid != leg_sid:
            return  # a retried callback, or an older leg's
        if store.remove_seat(campaign_id, agent_id, leg_sid=leg_sid):
            log.info("campaign %s: agent %s left the line (%s)", campaign_id, agent_id,
                     seat.state)
            if seat.state == PREVIEWING and seat.contact:
                self.release(campaign_id, seat.contact, now)

    def leave(self, campaign_id: str, agent_id: str, now: datetime) -> dict:
        """Take the agent off the campaign now: their line is hung up (and a call in their room
        ends with it), an offered contact goes back to waiting. NotFound without a seat."""
        seat = self._get(campaign_id, agent_id, now)
        view = self._view(seat, now)
        store.remove_seat(campaign_id, agent_id)
        if seat.leg_sid:
            try:
                self.connector.hangup(seat.leg_sid)
            except Exception as exc:  # noqa: BLE001 - a line already gone is what we want
                log.info("campaign %s: agent %s line not hung up (%s)", campaign_id, agent_id,
                         getattr(exc, "code", None) or type(exc).__name__)
        if seat.state == PREVIEWING and seat.contact:
            self.release(campaign_id, seat.contact, now)
        return {**view, "state": "left"}

    # ---- customers ----------------------------------------------------------------------------
    def bridge(self, campaign: Campaign, contact: CampaignContact, call_sid: str,
               now: datetime) -> str | None:
        """TwiML putting an answered customer into a free agent's room, or None when no agent
        is free. Preview: the seat that accepted this contact (else any ready one). A retried
        answer webhook gets the same room again."""
        seats = store.seats(campaign.campaign_id, now)
        for seat in seats:
            if seat.call_sid == call_sid and seat.state == TALKING:
                return render_into_room(seat_rules.room(campaign.campaign_id, seat.agent_id))
        candidates = seat_rules.ready_seats(seats, now)
        if campaign.kind == PREVIEW:
            mine = [s for s in seats if s.state == SEAT_DIALING and s.contact == contact.phone]
            candidates = mine + candidates
        for seat in candidates:  # the first write wins nearly always; a lost race tries on
            taken = store.change_seat(seat, now, state=TALKING, call_sid=call_sid,
                                      contact=contact.phone, until=None,
                                      wrap_up_seconds=campaign.wrap_up_seconds)
            if taken is not None:
                log.info("campaign %s: %s bridged to agent %s", campaign.campaign_id,
                         mask_number(contact.phone), seat.agent_id)
                return render_into_room(seat_rules.room(campaign.campaign_id, seat.agent_id))
        return None

    def customer_left(self, campaign_id: str, call_sid: str, now: datetime) -> None:
        """The customer's call ``call_sid`` ended: its seat wraps up for the campaign's
        ``wrap_up_seconds`` (an accepted preview call that was never bridged: ready at once).
        Idempotent; an unknown call changes nothing."""
        seats = [s for s in store.seats(campaign_id, now) if s.call_sid == call_sid]
        for _ in range(WRITE_ATTEMPTS):
            if not seats:
                return
            seat = seats[0]
            if seat.state == TALKING:
                until = now + timedelta(seconds=seat.wrap_up_seconds)
                done = store.change_seat(seat, now, state=WRAP_UP, until=until)
            elif seat.state == SEAT_DIALING:
                done = store.change_seat(seat, now, state=READY, until=None, call_sid=None,
                                         contact=None)
            else:
                return  # wrapped up already: a retried status callback
            if done:
                return
            fresh = store.get_seat(campaign_id, seat.agent_id, now)
            seats = [fresh] if fresh and fresh.call_sid == call_sid else []

    # ---- preview ------------------------------------------------------------------------------
    def preview_round(self, campaign: Campaign, claim: Callable[[int], list[CampaignContact]],
                      now: datetime) -> int:
        """One round of a running preview campaign: lapsed offers go back (their contacts to
        waiting), lapsed dials free their seats, then each ready seat is offered one contact
        that ``claim(n)`` returns (claimed: ``dialing``) until ``now + preview_seconds``.
        Returns the offers made."""
        seats = []
        for seat in store.seats(campaign.campaign_id, now):
            if seat_rules.lapsed(seat, now):
                freed = store.change_seat(seat, now, state=READY, until=None, call_sid=None,
                                          contact=None)
                if freed is not None and seat.state == PREVIEWING and seat.contact:
                    log.info("campaign %s: agent %s let an offer lapse", campaign.campaign_id,
                             seat.agent_id)
                    self.release(campaign.campaign_id, seat.contact, now)
                seat = freed or seat
            seats.append(seat)
        ready = seat_rules.ready_seats(seats, now)
        contacts = claim(len(ready)) if ready else []
        until = now + timedelta(seconds=campaign.preview_seconds)
        offers = 0
        for index, contact in enumerate(contacts):
            offered = index < len(ready) and store.change_seat(
                ready[index], now, state=PREVIEWING, contact=contact.phone, until=until,
                call_sid=None)
            if offered:
                offers += 1
            else:  # the seat moved on meanwhile (its agent left): the contact waits again
                self.release(campaign.campaign_id, contact.phone, now)
        return offers

    def accept(self, campaign: Campaign, agent_id: str,
               dial: Callable[[CampaignContact, str], str], now: datetime) -> dict:
        """The agent takes the contact offered: the seat is reserved (``dialing``) and
        ``dial(contact, agent_id)`` places the call (``VoiceDialer.place``: the gate, with an
        agent reserved; the rate limit; Twilio). The seat, with ``outcome`` (dial's answer:
        ``placed``, ``deferred``, ``refused``...); any outcome but ``placed`` frees the seat
        at once. NotFound without a seat; Conflict with no offer standing."""
        if campaign.kind != PREVIEW:
            raise Conflict(f"campaign '{campaign.campaign_id}' is {campaign.kind}: agents "
                           "accept contacts only on a preview campaign")
        seat = self._get(campaign.campaign_id, agent_id, now)
        if seat.state != PREVIEWING or not seat.contact:
            raise Conflict(f"agent '{agent_id}' has no contact offered (the seat is "
                           f"{seat_rules.effective_state(seat, now)})")
        if seat.until is not None and seat.until <= now:
            raise Conflict("the offer has lapsed")
        reserved = store.change_seat(seat, now, state=SEAT_DIALING,
                                     until=seat_rules.dial_until(now, campaign.ring_seconds))
        if reserved is None:
            raise Conflict("the offer changed meanwhile; read the seat again")
        contact = campaigns.get_contact(campaign.campaign_id, seat.contact)
        outcome = "gone"
        if contact is not None and contact.status == DIALING:
            try:
                outcome = dial(contact, agent_id)
            except Exception:
                self._free(reserved, now)
                raise
        if outcome != PLACED:
            reserved = self._free(reserved, now) or reserved
            return {**self._view(reserved, now), "outcome": outcome}
        placed = campaigns.get_contact(campaign.campaign_id, seat.contact)
        if placed is not None and placed.call_sid:  # so an unanswered end frees the seat
            reserved = store.change_seat(reserved, now, state=SEAT_DIALING,
                                         call_sid=placed.call_sid) or reserved
        log.info("campaign %s: agent %s accepted %s", campaign.campaign_id, agent_id,
                 mask_number(seat.contact))
        return {**self._view(reserved, now), "outcome": outcome}

    def skip(self, campaign_id: str, agent_id: str, now: datetime) -> dict:
        """The agent passes on the contact offered: it is done, disposition ``skipped``.
        NotFound without a seat; Conflict with no offer standing."""
        seat = self._get(campaign_id, agent_id, now)
        if seat.state != PREVIEWING or not seat.contact:
            raise Conflict(f"agent '{agent_id}' has no contact offered")
        freed = store.change_seat(seat, now, state=READY, until=None, contact=None)
        if freed is None:
            raise Conflict("the offer changed meanwhile; read the seat again")
        contact = campaigns.get_contact(campaign_id, seat.contact)
        if contact is not None and contact.status == DIALING:
            history = contact.history + ({"at": now.isoformat(), "event": SKIPPED,
                                          "agent": agent_id},)
            campaigns.change_contact(contact, now, status=DONE, disposition=SKIPPED,
                                     outcome=SKIPPED, dial_by=None, history=history)
        return self._view(freed, now)

    def disposition(self, campaign_id: str, agent_id: str, disposition: str,
                    now: datetime) -> dict:
        """The agent's word on the conversation just ended: it ends the wrap-up (ready now)
        and is kept on the seat and in the contact's ``answers`` as ``agent_disposition`` (the
        results CSV shows it; the contact's own ``disposition``, such as an opt-out, is never
        overwritten). InvalidRequest for a bad label; NotFound without a seat; Conflict
        outside a wrap-up."""
        try:
            seat_rules.check_disposition(disposition)
        except ValueError as exc:
            raise InvalidRequest("disposition", str(exc)) from None
        seat = self._get(campaign_id, agent_id, now)
        if seat.state != WRAP_UP or not seat.contact:
            raise Conflict(f"agent '{agent_id}' has no call to wrap up (the seat is "
                           f"{seat_rules.effective_state(seat, now)})")
        noted = {"contact": seat_rules.last_digits(seat.contact), "disposition": disposition,
                 "at": now.isoformat()}
        ready = store.change_seat(seat, now, state=READY, until=None, call_sid=None,
                                  contact=None, disposition=noted)
        if ready is None:
            raise Conflict("the seat changed meanwhile; read it again")
        self._note_on_contact(campaign_id, seat.contact, disposition, now)
        return self._view(ready, now)

    # ---- helpers ------------------------------------------------------------------------------
    @staticmethod
    def release(campaign_id: str, phone: str, now: datetime) -> bool:
        """A claimed contact no agent took goes back to waiting, due at once (no attempt
        counted). False if it had moved on (it is someone else's now)."""
        contact = campaigns.get_contact(campaign_id, phone)
        if contact is None or contact.status != DIALING:
            return False
        return campaigns.change_contact(contact, now, status=WAITING, due_at=now,
                                        dial_by=None) is not None

    @staticmethod
    def _note_on_contact(campaign_id: str, phone: str, disposition: str,
                         now: datetime) -> None:
        for _ in range(WRITE_ATTEMPTS):  # the call's own status may be landing at this moment
            contact = campaigns.get_contact(campaign_id, phone)
            if contact is None:
                return
            answers = {**contact.answers, "agent_disposition": disposition}
            keep = {"due_at": contact.due_at} if contact.status == WAITING else {}
            if campaigns.change_contact(contact, now, status=contact.status, answers=answers,
                                        **keep):
                return
        log.warning("campaign %s: disposition for %s not noted on the contact", campaign_id,
                    mask_number(phone))

    @staticmethod
    def _free(seat: Seat, now: datetime) -> Seat | None:
        return store.change_seat(seat, now, state=READY, until=None, call_sid=None,
                                 contact=None)

    @staticmethod
    def _get(campaign_id: str, agent_id: str, now: datetime) -> Seat:
        seat = store.get_seat(campaign_id, agent_id, now)
        if seat is None:
            raise NotFound(f"agent '{agent_id}' has no seat on campaign '{campaign_id}'")
        return seat

    @staticmethod
    def _view(seat: Seat, now: datetime) -> dict:
        contact = campaigns.get_contact(seat.campaign_id, seat.contact) if seat.contact \
            else None
        return {
            "campaign_id": seat.campaign_id, "agent_id": seat.agent_id,
            "name": seat.agent_name, "state": seat_rules.effective_state(seat, now),
            "since": seat.since.isoformat() if seat.since else None,
            "until": seat.until.isoformat() if seat.until and seat.until > now else None,
            "contact": None if contact is None else {
                "name": contact.name, "phone_last4": seat_rules.last_digits(contact.phone),
                "attributes": dict(contact.attributes)},
            "disposition": seat.disposition,
        }
