"""Payment-reminder figures for ``make bench`` (run from ``tests/bench/run.py`` against DynamoDB
Local, texts to an in-process carrier emulator).

* planning over 100,000 accounts: the segment "overdue" read by its index (time, DynamoDB
  requests, Queries, Scans: must be 0), then the daily job's batch of all of them written as
  one campaign (time, requests by operation);
* texts handed to the sender per second against the configured rate, over a simulated minute;
* a race: payments posted from another thread while the job texts a 300-account batch:
  reminders sent although the last look at the account came after its payment must print 0;
  texts already on their way when the payment landed (read unpaid a few milliseconds before)
  are counted beside it.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from chalicelib.reminders import batches
from chalicelib.reminders.model import Payment
from chalicelib.settings import get_settings
from chalicelib.store import billing
from chalicelib.store.models import Account
from chalicelib.wiring import Root

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 15:00 in Shanghai: texts may go
ACCOUNTS = 100_000


def _phone(prefix: int, n: int) -> str:
    return f"+86139{prefix:02d}{n:06d}"


def _seed(count: int, due: date, run: str, prefix: int) -> list[str]:
    """Overdue CNY accounts written in batches (the bench measures planning, not loading)."""
    ids = []
    with Account.batch_write() as batch:
        for n in range(count):
            account_id = f"B{run}-{n:06d}"
            ids.append(account_id)
            batch.save(Account(
                account_id, name=f"客户{n}", phone=_phone(prefix, n),
                phones=[_phone(prefix, n)], language="zh-CN",
                timezone="Asia/Shanghai", currency="CNY", amount_due=12800 + n % 1000,
                balance_due=f"{(12800 + n % 1000) / 100:.2f}", due_date=due.isoformat(),
                status="overdue", version=1, due_bucket=f"open#{n % billing.SHARDS}"))
    return ids


def _carrier():
    from infra.local.carrier import Carrier, make_server

    carrier = Carrier(app_url="https://bench.switchboard.test/api", account_sid=None,
                      auth_token=None, transport=lambda url, params, headers: (200, "", ""),
                      background=False)
    server = make_server(carrier, "127.0.0.1", 0)
    server.start()
    settings = get_settings()
    settings.twilio_api_base = server.url
    from chalicelib.telephony import rest

    rest.reset_client()
    return carrier, server


def planning(counter) -> None:
    run = uuid.uuid4().hex[:6]
    day = date(2026, 9, 1) + timedelta(days=random.randrange(30))
    started = time.perf_counter()
    _seed(ACCOUNTS, day, run, random.randrange(10, 99))
    seeded = time.perf_counter() - started
    print(f"reminders: seeded {ACCOUNTS:,} overdue accounts in {seeded:.1f} s")
    before, ops = counter.count, dict(counter.by_operation)
    started = time.perf_counter()
    found = sum(1 for _ in billing.segment("overdue", day, day, today=NOW.date()))
    elapsed = time.perf_counter() - started
    requests = counter.count - before
    scans = counter.by_operation.get("Scan", 0) - ops.get("Scan", 0)
    queries = counter.by_operation.get("Query", 0) - ops.get("Query", 0)
    print(f"reminders: planning reads the 'overdue' segment of {found:,} accounts by index in "
          f"{elapsed:.1f} s: {requests} DynamoDB requests (Query {queries}), Scan {scans}   "
          f"(Scan must be 0)")
    # the daily job's batch of the whole segment: read, checked, written as one campaign
    body = {"segment": {"status": "overdue", "due_from": day.isoformat(),
                        "due_to": day.isoformat()},
            "channel": "sms", "template": "reminder_overdue", "caller_id": "+14155550100",
            "request_id": f"bench-{run}"}
    before, ops = counter.count, dict(counter.by_operation)
    started = time.perf_counter()
    made = batches.preview_or_send(body, NOW, limit=batches.JOB_MAX_ACCOUNTS)
    elapsed = time.perf_counter() - started
    by = {op: n - ops.get(op, 0) for op, n in counter.by_operation.items()
          if n - ops.get(op, 0)}
    print(f"reminders: the job's batch of {made['accounts']:,} accounts planned and written in "
          f"{elapsed:.1f} s: {counter.count - before} DynamoDB requests "
          f"({', '.join(f'{op} {n}' for op, n in sorted(by.items()))}), Scan "
          f"{by.get('Scan', 0)}   (Scan must be 0)")


def send_and_race(counter) -> None:
    carrier, server = _carrier()
    settings = get_settings()
    try:
        run = uuid.uuid4().hex[:6]
        day = date(2026, 8, 1) + timedelta(days=random.randrange(30))
        prefix = random.randrange(10, 99)
        _seed(300, day, run, prefix)
        original = carrier.record_message

        def stamped(**fields):  # when each text reached the carrier, to the microsecond
            message = original(**fields)
            message["created_at_epoch"] = time.time()
            return message

        carrier.record_message = stamped
        clock = [NOW]
        parts = Root(clock=lambda: clock[0],
                     sleep=lambda s: clock.__setitem__(0, clock[0] + timedelta(seconds=s)))
        body = {"segment": {"status": "overdue", "due_from": day.isoformat(),
                            "due_to": day.isoformat()},
                "channel": "sms", "template": "reminder_overdue",
                "caller_id": "+14155550100"}
        started = time.perf_counter()
        batch = batches.preview_or_send(body, NOW)
        print(f"reminders: a batch of {batch['accounts']} accounts written in "
              f"{time.perf_counter() - started:.2f} s")
        paid_at: dict[str, float] = {}
        stop = threading.Event()

        def pay_while_it_runs():
            ids = [f"B{run}-{n:06d}" for n in range(300)]
            random.shuffle(ids)
            for account_id in ids[:100]:
                if stop.is_set():
                    return
                billing.record_payment(Payment(f"P{uuid.uuid4().hex[:10]}", account_id,
                                               13800, "CNY", "billing", NOW))
                paid_at[account_id] = time.time()
                time.sleep(0.01)

        checked_at: dict[str, float] = {}
        real_check = parts.texts.check

        class TimedCheck:  # when each account passed its last look before the text
            def before_contact(self, campaign, contact, now):
                verdict = real_check.before_contact(campaign, contact, now)
                if not verdict.skip:
                    checked_at[contact.attributes.get("account_id", "")] = time.time()
                return verdict

        parts.texts.check = TimedCheck()
        payer = threading.Thread(target=pay_while_it_runs)
        saved = settings.outbound_texts_per_second
        settings.outbound_texts_per_second = 5
        payer.start()
        ticked = time.perf_counter()
        result = parts.campaigns.tick(seconds=60)
        stop.set()
        payer.join()
        settings.outbound_texts_per_second = saved
        by_phone = {_phone(prefix, n): f"B{run}-{n:06d}" for n in range(300)}
        sent = [m for m in carrier.messages if m["to"] in by_phone]
        late = in_flight = 0
        for message in sent:
            account_id = by_phone.get(message["to"], "")
            if account_id not in paid_at:
                continue
            if checked_at.get(account_id, 0) > paid_at[account_id]:
                late += 1  # the account was read after it was paid and still texted: a bug
            elif message.get("created_at_epoch", 0) > paid_at[account_id]:
                in_flight += 1  # read unpaid, paid in the milliseconds before the text left
        simulated = (clock[0] - NOW).total_seconds()
        skipped = result.get("text_skipped", 0)
        print(f"reminders: texts handed to the sender: {len(sent)} in {simulated:.0f} simulated "
              f"s, and {skipped} skipped as paid: {(len(sent) + skipped) / max(1.0, simulated):.2f}"
              f"/s at 5 configured ({time.perf_counter() - ticked:.1f} s of work)")
        print(f"reminders race: 100 payments posted while the job texted 300 accounts: "
              f"reminders sent after payment: {late}   (must be 0); paid while its text was "
              f"already on its way (read unpaid milliseconds before): {in_flight}")
    finally:
        server.stop()
        settings.twilio_api_base = None
