"""Load the demo: a hotline number, two customers, a billing account, and the flows in ``flows/``.

200 more billing accounts (half overdue, some in Chinese with CNY and +86 numbers, some paid)
are in ``examples/accounts.csv``, loaded through the API as a billing system would:
``curl -X POST 'localhost:8000/accounts/import?chunk=0&last=true' -H 'Content-Type: text/csv'
--data-binary @infra/local/examples/accounts.csv``.

Idempotent: run it as often as you like (``make run`` does, every time). Flows are published only
when their content changed, so editing ``flows/`` and re-running gives a new version.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chalicelib.reminders.model import BillingAccount  # noqa: E402
from chalicelib.routing.model import Agent, Endpoint, QueueConfig  # noqa: E402
from chalicelib.store import billing, routing  # noqa: E402
from chalicelib.store.models import Account, Customer, Hotline  # noqa: E402

DEMO_HOTLINE = "+14155550100"
DEMO_VIP = "+14155550111"
DEMO_CALLER = "+14155550122"
DEMO_ACCOUNT = "79927398713"  # passes the Luhn check the billing flow asks for
DEMO_PIN = "1234"
DEMO_ZONE = "America/New_York"  # the demo business's day: counters and "today" figures


# Two agents whose phones the carrier emulator answers; they start offline: put them on with
# `curl -X POST localhost:8000/agents/ag-alice/state -d '{"state": "available"}'` or by texting
# ON from their mobile (`python -m infra.local.carrier sms ...`).
DEMO_AGENTS = [
    Agent("ag-alice", "Alice", Endpoint("phone", "+14155550161"), skills={"billing": 7},
          queues={"support": 1}, languages=["en-US"], wrap_up_seconds=20,
          mobile="+14155550181", timezone=DEMO_ZONE),
    Agent("ag-bo", "Bo", Endpoint("phone", "+14155550162"), skills={"billing": 5},
          queues={"support": 1}, languages=["zh-CN", "en-US"], wrap_up_seconds=20,
          mobile="+14155550182", timezone=DEMO_ZONE),
]


def load_demo(flows_dir: Path = ROOT / "flows") -> list[str]:
    from chalicelib.ivr.lint import lint_flows
    from chalicelib.ivr.loader import load_flows
    from chalicelib.store import flows as store

    Hotline(
        DEMO_HOTLINE,
        name="Switchboard demo hotline",
        entry_flow="main",
        default_language="en-US",
        default_region="US",
        fallback_number=None,
        fallback_voicemail=True,
        # web callbacks: numbers of these countries may ask; the form's topics and their queue
        allowed_regions=["US", "CA", "GB", "CN"],
        callback_topics={"support": "support", "billing": "support"},
        # missed calls: a "we missed you" text (one per number per day) and a callback request
        missed_call_sms=True,
        missed_call_sms_window_hours=24,
        missed_call_callback=True,
        missed_call_queue="support",
    ).save()
    Customer(DEMO_VIP, name="Ada Lovelace", vip=True, language=None,
             account_id=DEMO_ACCOUNT, account_manager="ag-alice", flags=["vip"]).save()
    Customer(DEMO_CALLER, name="Grace Hopper", vip=False, language="zh-CN").save()
    now = datetime.now(UTC)
    # the PIN is the IVR's, not the billing system's: saved first, then the billing data on it
    Account(DEMO_ACCOUNT, name="Ada Lovelace", phone=DEMO_VIP,
            pin_hash=hashlib.sha256(f"{DEMO_ACCOUNT}:{DEMO_PIN}".encode()).hexdigest()).save()
    billing.upsert_account(BillingAccount(
        DEMO_ACCOUNT, holder="Ada Lovelace", phones=(DEMO_VIP,), language="en-US",
        timezone=DEMO_ZONE, currency="USD", amount_due=4217, due_date=date(2026, 12, 15)),
        "demo-1", now=now)

    routing.save_queue(QueueConfig("support", "Support", max_size=25, service_level_seconds=20,
                                   timezone=DEMO_ZONE), now)
    for agent in DEMO_AGENTS:
        routing.save_agent_profile(agent, now)  # profiles only: agents log in themselves

    errors = lint_flows(flows_dir)
    if errors:
        raise SystemExit("demo flows do not lint:\n" + "\n".join(map(str, errors)))
    flows, _ = load_flows(flows_dir)
    report = []
    for flow_id in sorted(flows):
        version, created = store.publish(flows[flow_id], published_by="demo")
        report.append(f"{flow_id} v{version}{'' if created else ' (unchanged)'}")
    return report


if __name__ == "__main__":
    print("demo data loaded; flows: " + ", ".join(load_demo()))
