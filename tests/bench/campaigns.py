"""Campaign figures for ``make bench`` (run from ``tests/bench/run.py`` against DynamoDB Local).

* one ``run_campaigns`` tick (50 simulated seconds, 1 call per second) over a running campaign
  of 100,000 contacts: contacts claimed, calls placed, DynamoDB requests per dial, Query
  count and Scan operations (must be 0: the due index is queried by shard);
* a race: several ticks at once over one campaign, with a high calls-per-second setting so
  they contend: duplicate dials must print 0.

The contacts are written straight into the campaign's table (the bench measures dialling, not
importing); the compliance gate, the rate counter and the claims are the real ones.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chalicelib.campaigns.campaign import RUNNING, Campaign
from chalicelib.campaigns.contact import WAITING, CampaignContact
from chalicelib.settings import get_settings
from chalicelib.store import campaigns as store
from chalicelib.wiring import Root

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # noon in California: inside calling hours
CONTACTS = 100_000


class DialRecorder:
    """Twilio's Calls API, recorded: the number each placed call went to."""

    def __init__(self):
        self.placed: list[str] = []
        self.lock = threading.Lock()

    def place_call(self, *, to, from_, url, status_callback, machine_detection=None,
                   ring_seconds=None, amd_callback=None) -> str:
        with self.lock:
            self.placed.append(to)
        return "CA" + uuid.uuid4().hex


def _campaign(contacts: int) -> Campaign:
    run = uuid.uuid4().hex[:8]
    campaign = Campaign(campaign_id=f"cmp_bench{run}", name="bench", kind="agentless",
                        purpose="informational", list_id=f"lst_bench{run}",
                        caller_id="+14155550100", created_at=NOW, status=RUNNING,
                        flow_id="main", fallback_tz="America/Los_Angeles", load_done=True,
                        loaded=contacts, started_at=NOW)
    store.create(campaign)
    base = uuid.uuid4().int % 800 + 100
    store.add_contacts(
        CampaignContact(campaign_id=campaign.campaign_id,
                        phone=f"+1415{(base * 1000 + n) % 10_000_000:07d}",
                        status=WAITING, due_at=NOW - timedelta(seconds=n % 600),
                        updated_at=NOW)
        for n in range(contacts))
    store.add_totals(campaign.campaign_id, {"status_waiting": contacts})
    return campaign


def _stop(campaign_id: str) -> None:
    """Out of the live index, so later figures do not tick it."""
    current = store.get(campaign_id)
    if current is not None:
        store.save(replace(current, status="stopped"), current.version)


def _root(clock, recorder) -> Root:
    def sleep(seconds: float) -> None:
        clock[0] += timedelta(seconds=seconds)

    return Root(clock=lambda: clock[0], connector=recorder, sleep=sleep)


def tick_with_100k(counter) -> None:
    started = time.perf_counter()
    campaign = _campaign(CONTACTS)
    print(f"campaigns: seeded {CONTACTS:,} contacts in {time.perf_counter() - started:.1f} s")
    recorder = DialRecorder()
    clock = [NOW]
    parts = _root(clock, recorder)
    before, ops = counter.count, dict(counter.by_operation)
    started = time.perf_counter()
    result = parts.campaigns.tick(seconds=50)
    elapsed = time.perf_counter() - started
    requests = counter.count - before
    scans = counter.by_operation.get("Scan", 0) - ops.get("Scan", 0)
    queries = counter.by_operation.get("Query", 0) - ops.get("Query", 0)
    dialled = len(recorder.placed)
    print(f"campaigns: one tick (50 simulated s at {get_settings().outbound_cps:g} CPS) over "
          f"{CONTACTS:,} contacts: {result.get('claimed', 0)} claimed, {dialled} dialled, "
          f"{elapsed:.1f} s of DynamoDB work")
    print(f"campaigns: DynamoDB requests in the tick: {requests} "
          f"({requests / max(1, dialled):.1f} per dial); Query {queries}, Scan {scans}   "
          f"(Scan must be 0)")
    _stop(campaign.campaign_id)


def race(threads: int = 6) -> None:
    settings = get_settings()
    saved, settings.outbound_cps = settings.outbound_cps, 200
    try:
        campaign = _campaign(600)
        recorder = DialRecorder()
        barrier = threading.Barrier(threads)

        def work():
            clock = [NOW]
            parts = _root(clock, recorder)
            barrier.wait()
            parts.campaigns.tick(seconds=4)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        dials = Counter(recorder.placed)
        duplicates = sum(n - 1 for n in dials.values() if n > 1)
        print(f"campaigns race: {threads} ticks at once over one 600-contact campaign for "
              f"{time.perf_counter() - started:.1f} s: {len(dials)} contacts dialled, "
              f"duplicate dials {duplicates}   (must be 0)")
        _stop(campaign.campaign_id)
    finally:
        settings.outbound_cps = saved
