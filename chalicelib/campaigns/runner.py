"""The ``run_campaigns`` job: every minute, start what is due, copy lists in, and pace.

One run (``tick``):

1. **Lifecycle.** The live campaigns come from one Query (``store.campaigns.live_campaigns``).
   A scheduled campaign whose start has come runs; one past its end date, or with every
   contact settled, completes. A page of its list is copied in (``loader.py``).
2. **Rounds**, every ``ROUND_SECONDS`` for ``campaign_tick_seconds`` (50 s of each minute):
   - each running campaign's status is read again, so a paused or stopped campaign places no
     new call after the round it was paused in;
   - each says how many contacts it wants now: an agentless campaign as many as its share of the
     calls per second allows, a progressive or predictive one what the pacer says
     (``pacer.pace``: ready agents, agents talking who free up while new calls ring, judged
     from the campaign's handle and answer times, calls ringing, the window's answers and
     abandons), a preview campaign offers contacts to its free agents
     (``Seats.preview_round``), an SMS campaign its share of the texts per second;
   - the account's calls (and texts) per second are shared by weight (``throttle.share``);
   - contacts are claimed from the sharded due index (``due_contacts``: one Query per shard,
     never a Scan), each by a version-conditional write (``waiting -> dialing``, with
     ``dial_by``), so runs racing claim a contact once;
   - a contact found there still ``dialing`` or ``calling`` long after it should have moved
     on (a run that died, a status that was lost) goes to ``recovery.py``;
   - each claimed contact is dialled (``VoiceDialer.place``: gate, calls-per-second slot, REST)
     or texted (``TextSender.send``), campaigns interleaved. A 20429 from Twilio ends the
     round's dialling; the contacts left are released.

Returns the run's tallies (``make bench`` and the logs read them).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from math import ceil
from typing import Protocol

from chalicelib.campaigns import loader
from chalicelib.campaigns.campaign import (
    PREDICTIVE,
    PREVIEW,
    PROGRESSIVE,
    RUNNING,
    SMS_KIND,
    Campaign,
    due_to_run,
    past_end,
    transition,
)
from chalicelib.campaigns.contact import (
    CALLING,
    DIAL_EXPIRY,
    DIALING,
    DONE,
    WAITING,
    CampaignContact,
)
from chalicelib.campaigns.dialer import BACKOFF, VoiceDialer
from chalicelib.campaigns.pacer import Figures, pace
from chalicelib.campaigns.recovery import Recovery
from chalicelib.campaigns.throttle import share
from chalicelib.logs import mask_number
from chalicelib.settings import Settings
from chalicelib.store import campaigns as store

log = logging.getLogger(__name__)

ROUND_SECONDS = 2.0  # the pacer looks again this often: agents free up all the time
# a campaign that found fewer due contacts than its share asks again after this (a retry that
# falls due meanwhile waits at most this long)
DRAINED_PAUSE = timedelta(seconds=10)
PACE_SAVE_SECONDS = 15  # how often the pacer's decision is written for the report


class TextSending(Protocol):
    def send(self, campaign: Campaign, contact: CampaignContact) -> str: ...


class SeatDesk(Protocol):
    def occupancy(self, campaign_id: str, now: datetime) -> tuple[int, int]: ...

    def preview_round(self, campaign: Campaign,
                      claim: Callable[[int], list[CampaignContact]], now: datetime) -> int: ...


class CampaignRunner:
    """``clock``: aware UTC now; ``sleep``: waits between rounds (a simulated clock's in
    tests); ``texts`` and ``seats`` are looked up on use (the wiring's parts)."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime], dialer: VoiceDialer,
                 texts: Callable[[], TextSending], seats: Callable[[], SeatDesk],
                 recovery: Recovery, sleep: Callable[[float], None] = time.sleep):
        self.settings, self.clock, self.dialer = settings, clock, dialer
        self._texts, self._seats, self.recovery, self.sleep = texts, seats, recovery, sleep
        self._tally: Counter[str] = Counter()
        # each container starts its reads at its own shard, so racing runs rarely contend
        self._shard = random.randrange(store.DUE_SHARDS)
        self._pace_saved: dict[str, datetime] = {}
        # campaigns whose last claim found fewer due contacts than it asked for: they stand
        # aside until then, so their share of the rate goes to campaigns with people waiting
        self._drained: dict[str, datetime] = {}
        self._turn = 0

    def tick(self, seconds: float | None = None) -> dict:
        """One run: lifecycle, then pacing rounds for ``seconds`` (default: the setting)."""
        tally = self._tally = Counter()
        start = self.clock()
        deadline = start + timedelta(seconds=seconds if seconds is not None
                                     else self.settings.campaign_tick_seconds)
        campaigns = [c for c in (self._prepare(c, start, tally)
                                 for c in store.live_campaigns()) if c.status == RUNNING]
        while campaigns:
            round_start = self.clock()
            self._round(campaigns, tally)
            next_round = round_start + timedelta(seconds=ROUND_SECONDS)
            if next_round > deadline:
                break
            rest = (next_round - self.clock()).total_seconds()
            if rest > 0:  # dialling under the calls per second may have used the round up
                self.sleep(rest)
            campaigns = [c for c in (store.get(c.campaign_id) for c in campaigns)
                         if c is not None and c.status == RUNNING
                         and not past_end(c, self.clock())]
        result = dict(tally)
        if result:
            log.info("run_campaigns: %s", result)
        return result

    # ---- lifecycle -------------------------------------------------------------------------
    def _prepare(self, campaign: Campaign, now: datetime, tally: Counter) -> Campaign:
        if due_to_run(campaign, now):
            campaign = self._move(campaign, "run", now) or campaign
        if campaign.status != RUNNING:
            return campaign
        if past_end(campaign, now):
            return self._move(campaign, "complete", now) or campaign
        campaign = loader.load_page(campaign, now)
        if campaign.load_done and self._settled(campaign):
            tally["completed"] += 1
            return self._move(campaign, "complete", now) or campaign
        return campaign

    @staticmethod
    def _settled(campaign: Campaign) -> bool:
        """Every contact loaded is done (none waiting, none in progress)."""
        totals = store.totals(campaign.campaign_id)
        return totals.get(f"status_{WAITING}", 0) <= 0 and \
            totals.get(f"status_{DONE}", 0) >= campaign.loaded

    @staticmethod
    def _move(campaign: Campaign, action: str, now: datetime) -> Campaign | None:
        saved = store.save(transition(campaign, action, now), campaign.version)
        if saved is not None:
            log.info("campaign %s %s", campaign.campaign_id, saved.status)
        return saved

    # ---- one round ---------------------------------------------------------------------------
    def _round(self, campaigns: list[Campaign], tally: Counter) -> None:
        now = self.clock()
        voice = [c for c in campaigns if c.kind != SMS_KIND and c.kind != PREVIEW]
        texts = [c for c in campaigns if c.kind == SMS_KIND]
        for campaign in campaigns:
            if campaign.kind == PREVIEW:
                claim = partial(self._claim, campaign, now=now, preview=True)
                tally["offered"] += self._seats().preview_round(campaign, claim, now)
        calls = ceil(self.settings.outbound_cps * ROUND_SECONDS)
        sms = ceil(self.settings.outbound_texts_per_second * ROUND_SECONDS)
        claimed: list[tuple[Campaign, CampaignContact]] = []
        self._turn += 1
        for group, capacity in ((voice, calls), (texts, sms)):
            demands = {c.campaign_id: (0 if self._drained.get(c.campaign_id, now) > now
                                       else self._demand(c, capacity, now)) for c in group}
            shares = share(capacity, demands, {c.campaign_id: c.weight for c in group},
                           self._turn)
            for campaign in group:
                wanted = shares.get(campaign.campaign_id, 0)
                claimed += [(campaign, contact)
                            for contact in self._claim(campaign, wanted, now=now)]
        tally["claimed"] += len(claimed)
        order = _interleaved(claimed)
        for index, (campaign, contact) in enumerate(order):
            if campaign.kind == SMS_KIND:
                tally[f"text_{self._texts().send(campaign, contact)}"] += 1
                continue
            outcome = self.dialer.place(campaign, contact)
            tally[outcome] += 1
            if outcome == BACKOFF:  # Twilio says slow down: release the rest of the round
                for _, left in order[index + 1:]:
                    store.change_contact(left, self.clock(), status=WAITING,
                                         due_at=self.clock(), dial_by=None)
                    tally["released"] += 1
                break

    def _demand(self, campaign: Campaign, capacity: int, now: datetime) -> int:
        """How many contacts ``campaign`` wants this round (before the shares)."""
        if campaign.kind not in (PROGRESSIVE, PREDICTIVE):
            return capacity  # agentless calls and texts: as many as the rate allows
        window = now - timedelta(hours=campaign.abandon_window_hours)
        figures = store.figures_since(campaign.campaign_id, window)
        ready, busy = self._seats().occupancy(campaign.campaign_id, now)
        talks, timed = figures["talks"], figures["answers_timed"]
        decision = pace(
            Figures(ready_agents=ready, ringing=store.ringing(campaign.campaign_id),
                    dials=figures["dials"], live_answers=figures["live_answers"],
                    abandoned=figures["abandoned"], machine_answers=figures["machine_answers"],
                    # agents talking free up while new calls ring: the handle times say how
                    # likely (pacer.free_rate)
                    talking=busy,
                    handle_seconds=(figures["talk_seconds"] / talks + campaign.wrap_up_seconds
                                    if talks else 0.0),
                    answer_delay_seconds=(figures["answer_wait_seconds"] / timed
                                          if timed else 0.0)),
            target=campaign.abandon_target, predictive=campaign.kind == PREDICTIVE,
            max_dial_level=campaign.max_dial_level)
        saved = self._pace_saved.get(campaign.campaign_id)
        if saved is None or now - saved >= timedelta(seconds=PACE_SAVE_SECONDS):
            store.set_pace(campaign.campaign_id, decision.dial_level, decision.mode,
                           decision.answer_rate, decision.abandon_rate, now)
            self._pace_saved[campaign.campaign_id] = now
        return decision.calls

    def _claim(self, campaign: Campaign, wanted: int, *, now: datetime,
               preview: bool = False) -> list[CampaignContact]:
        """Claim up to ``wanted`` due contacts (``waiting -> dialing``); a preview's claim
        lasts while the agent looks at it."""
        if wanted <= 0:
            return []
        dial_by = now + DIAL_EXPIRY + (timedelta(seconds=campaign.preview_seconds)
                                       if preview else timedelta())
        due, _ = store.due_contacts(campaign.campaign_id, now, wanted, self._next_shard())
        if len(due) < wanted:  # nobody else is due now: its share goes to the others a while
            self._drained[campaign.campaign_id] = now + DRAINED_PAUSE
        claimed = []
        for contact in due:
            if contact.status == DIALING:  # a claim left by a run that died
                self._tally[f"stale_{self.recovery.stale_claim(contact, now)}"] += 1
                continue
            if contact.status == CALLING:  # a call whose final status never came
                self._tally[f"call_{self.recovery.overdue_call(campaign, contact, now)}"] += 1
                continue
            moved = store.change_contact(contact, now, status=DIALING, dial_by=dial_by)
            if moved is not None:
                claimed.append(moved)
            else:  # runs racing: normal, and the winner dials it
                log.debug("campaign %s: %s claimed by another run", campaign.campaign_id,
                          mask_number(contact.phone))
        return claimed

    def _next_shard(self) -> int:
        self._shard = (self._shard + 1) % store.DUE_SHARDS
        return self._shard


def _interleaved(claimed: list[tuple[Campaign, CampaignContact]]
                 ) -> list[tuple[Campaign, CampaignContact]]:
    """Round-robin across campaigns, so one campaign's batch does not wait for another's."""
    by_campaign: dict[str, list[tuple[Campaign, CampaignContact]]] = {}
    for pair in claimed:
        by_campaign.setdefault(pair[0].campaign_id, []).append(pair)
    queues = list(by_campaign.values())
    order = []
    while any(queues):
        for queue in queues:
            if queue:
                order.append(queue.pop(0))
    return order

