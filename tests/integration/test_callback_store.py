"""The callback request store on DynamoDB Local: the contract the dispatcher builds on.

One open request per (queue, number), transitions conditional on the version, the sparse due
index read with a Query per shard, cancels that free the number and the place in line.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.callbacks import requests
from chalicelib.callbacks.model import all_due_shards
from chalicelib.routing.model import QueueConfig, WaitingCaller
from chalicelib.store import callbacks as store
from chalicelib.store import routing
from chalicelib.store.models import CallbackLock, CallbackRequest

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
HOTLINE = "+14155550100"
OPEN_QUEUE = "cbstore-open"
HOURS_QUEUE = "cbstore-hours"  # weekdays 09:00-17:00 New York
HOURS = {"timezone": "America/New_York", "weekly": {"mon-fri": ["09:00-17:00"]},
         "holidays": []}
_numbers = itertools.count(1000)


def fresh_number() -> str:
    return f"+1646555{next(_numbers):04d}"


@pytest.fixture(autouse=True)
def queues(app_module):
    routing.save_queue(QueueConfig(OPEN_QUEUE, "Callbacks store test"), NOW)
    routing.save_queue(QueueConfig(HOURS_QUEUE, "Office hours", hours=HOURS), NOW)


def ask(phone: str, queue_id: str = OPEN_QUEUE, now: datetime = NOW, **kwargs):
    return requests.request_callback(hotline=HOTLINE, queue_id=queue_id, phone=phone,
                                     name="Ada", language="en-US", kind=kwargs.pop("kind", "web"),
                                     now=now, **kwargs)


def test_an_asap_request_takes_a_place_in_the_line():
    phone = fresh_number()
    callback_id, created = ask(phone)
    assert created and callback_id.startswith("cb_")
    req = store.get_request(callback_id)
    assert (req.status, req.kind, req.queue_id, req.phone, req.version) == \
        ("queued", "web", OPEN_QUEUE, phone, 1)
    assert req.attempts == 0 and req.max_attempts == 3
    assert req.due_shard is None and req.due_at is None
    assert req.joined_at == NOW
    assert [h["status"] for h in req.history] == ["queued"]
    entry = routing.get_entry(OPEN_QUEUE, req.entry_key)
    assert (entry.kind, entry.call_sid, entry.caller, entry.status) == \
        ("callback", callback_id, phone, "waiting")
    assert CallbackLock.get(f"{OPEN_QUEUE}#{phone}").callback_id == callback_id


def test_a_queue_callback_keeps_the_callers_original_place():
    # Given a caller who joined at 10:00 and another who joined at 10:05
    phone = fresh_number()
    first_key = routing.join_queue(WaitingCaller("CAcbstorefirst", OPEN_QUEUE, phone, NOW))
    later = WaitingCaller("CAcbstorelater", OPEN_QUEUE, fresh_number(), NOW + timedelta(minutes=5))
    later_key = routing.join_queue(later)
    # When the first one's queue callback is stored at 10:06 with the original join time (and
    # the line ticket of the call's place), and the call leaves the line
    first = routing.get_entry(OPEN_QUEUE, first_key)
    callback_id, _ = ask(phone, kind="queue", now=NOW + timedelta(minutes=6),
                         joined_at=NOW, ticket=first.ticket)
    routing.leave_queue(OPEN_QUEUE, first_key, ticket_handed_over=True)
    req = store.get_request(callback_id)
    # Then it sorts ahead of the later caller
    assert req.entry_key < later_key
    assert routing.position_in_line(OPEN_QUEUE, req.entry_key) < \
        routing.position_in_line(OPEN_QUEUE, later_key)
    routing.leave_queue(OPEN_QUEUE, later_key)


def test_a_second_request_for_the_same_number_and_queue_returns_the_first():
    phone = fresh_number()
    first, created = ask(phone)
    again, created_again = ask(phone, now=NOW + timedelta(minutes=1))
    assert created and not created_again and again == first
    # another queue is another request
    other, created_other = ask(phone, queue_id=HOURS_QUEUE)
    assert created_other and other != first
    assert {r.callback_id for r in requests.open_for_number(phone)} >= {first, other}


def test_concurrent_submissions_create_exactly_one_request():
    phone = fresh_number()
    results, errors = [], []
    barrier = threading.Barrier(6)

    def submit():
        barrier.wait()
        try:
            results.append(ask(phone))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(created for _, created in results) == 1
    assert len({callback_id for callback_id, _ in results}) == 1
    stored = list(CallbackRequest.by_phone.query(phone))
    assert len(stored) == 1


def test_a_preferred_time_schedules_the_request_in_the_due_index():
    later = NOW + timedelta(days=1)
    callback_id, _ = ask(fresh_number(), preferred_at=later)
    req = store.get_request(callback_id)
    assert (req.status, req.preferred_at, req.due_at, req.entry_key) == \
        ("scheduled", later, later, None)
    assert req.due_shard in all_due_shards()


def test_asap_while_closed_is_scheduled_for_the_next_opening():
    monday_evening = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # 18:00 in New York
    callback_id, _ = ask(fresh_number(), queue_id=HOURS_QUEUE, now=monday_evening)
    req = store.get_request(callback_id)
    assert req.status == "scheduled"
    assert req.due_at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # Tuesday 09:00
    assert req.preferred_at is None


def test_due_requests_returns_exactly_the_due_scheduled_ones():
    # Given requests due at several times far from every other test's (their own window)
    base = datetime(2027, 3, 1, 20, 0, tzinfo=UTC)  # noon for a 415 number: callable
    made = {}
    for minutes in (0, 10, 20, 30, 40, 50):
        callback_id, _ = ask(fresh_number(), now=base - timedelta(days=1),
                             preferred_at=base + timedelta(minutes=minutes))
        made[minutes] = callback_id
    queued_id, _ = ask(fresh_number(), now=base)  # queued: never in the index
    # When the dispatcher looks at base + 25 minutes
    due = store.due_requests(base + timedelta(minutes=25), limit=100)
    due_ids = [req.callback_id for req in due if req.due_at >= base]
    # Then it gets the three due ones, earliest first, and no queued or future one
    assert due_ids == [made[0], made[10], made[20]]
    assert queued_id not in {req.callback_id for req in due}
    assert all(req.status == "scheduled" for req in due)
    # And the limit holds
    assert len(store.due_requests(base + timedelta(hours=1), limit=2)) == 2


def test_transitions_are_conditional_on_the_version_and_leave_the_due_index():
    callback_id, _ = ask(fresh_number(), preferred_at=NOW + timedelta(hours=2))
    at = NOW + timedelta(hours=2, minutes=1)
    assert callback_id in {r.callback_id for r in store.due_requests(at, limit=1000)}
    # Two dispatchers read version 1; only the first transition applies
    assert store.transition(callback_id, 1, "dialing", at, detail="customer-first",
                            attempts=1, call_sid="CAcbstore1")
    assert not store.transition(callback_id, 1, "dialing", at, attempts=1)
    req = store.get_request(callback_id)
    assert (req.status, req.version, req.attempts, req.call_sid) == ("dialing", 2, 1, "CAcbstore1")
    assert req.due_shard is None and req.due_at is None
    assert callback_id not in {r.callback_id for r in store.due_requests(at, limit=1000)}
    # A retry later puts it back in the index at its new time
    retry_at = at + timedelta(minutes=15)
    assert store.transition(callback_id, 2, "scheduled", at, due_at=retry_at,
                            last_error="busy", call_sid=None)
    req = store.get_request(callback_id)
    assert (req.status, req.due_at, req.last_error, req.call_sid) == \
        ("scheduled", retry_at, "busy", None)
    assert callback_id not in {r.callback_id for r in store.due_requests(at, limit=1000)}
    assert callback_id in {r.callback_id for r in store.due_requests(retry_at, limit=1000)}
    assert [h["status"] for h in req.history] == ["scheduled", "dialing", "scheduled"]
    assert req.history[1]["detail"] == "customer-first"
    with pytest.raises(ValueError):
        store.transition(callback_id, 3, "teleported", at)
    with pytest.raises(ValueError):
        store.transition(callback_id, 3, "queued", at, phone="+15550000000")


def test_closing_a_request_frees_the_number_for_a_new_one():
    phone = fresh_number()
    callback_id, _ = ask(phone)
    req = store.get_request(callback_id)
    assert store.transition(req, 1, "dialing", NOW)
    assert store.transition(callback_id, 2, "connected", NOW)
    assert store.transition(callback_id, 3, "completed", NOW + timedelta(minutes=5))
    closed = store.get_request(callback_id)
    assert closed.closed_at == NOW + timedelta(minutes=5)
    assert closed.expires == NOW + timedelta(minutes=5, days=store.CLOSED_RETENTION_DAYS)
    new_id, created = ask(phone, now=NOW + timedelta(minutes=6))
    assert created and new_id != callback_id


def test_cancel_frees_the_place_in_line_and_is_idempotent():
    phone = fresh_number()
    callback_id, _ = ask(phone)
    key = store.get_request(callback_id).entry_key
    assert store.cancel(callback_id, NOW)
    req = store.get_request(callback_id)
    assert (req.status, req.entry_key) == ("cancelled", None)
    assert routing.get_entry(OPEN_QUEUE, key) is None
    assert store.cancel(callback_id, NOW)  # again: still cancelled
    assert not store.cancel(callback_id, NOW, closed_only=True)
    assert not store.cancel("cb_doesnotexist000000000", NOW)
    assert ask(phone)[1]  # the number may ask again


def test_a_connected_request_cannot_be_cancelled():
    callback_id, _ = ask(fresh_number())
    assert store.transition(callback_id, 1, "dialing", NOW)
    assert store.transition(callback_id, 2, "connected", NOW)
    assert not store.cancel(callback_id, NOW)
    assert requests.cancel_request(callback_id, NOW) == "connected"


def test_cancel_open_for_number_cancels_every_open_request_of_that_number():
    phone = fresh_number()
    first, _ = ask(phone)
    second, _ = ask(phone, queue_id=HOURS_QUEUE, preferred_at=NOW + timedelta(hours=3))
    assert requests.cancel_open_for_number(phone, NOW) == 2
    assert {store.get_request(i).status for i in (first, second)} == {"cancelled"}
    assert requests.cancel_open_for_number(phone, NOW) == 0
    assert requests.cancel_open_for_number(fresh_number(), NOW) == 0


def test_queue_up_moves_a_due_request_into_the_line():
    callback_id, _ = ask(fresh_number(), preferred_at=NOW + timedelta(hours=1))
    due_at = NOW + timedelta(hours=1)
    [req] = [r for r in store.due_requests(due_at, limit=1000) if r.callback_id == callback_id]
    assert store.queue_up(req, due_at)
    assert not store.queue_up(req, due_at)  # the same stale item twice: refused
    queued = store.get_request(callback_id)
    assert (queued.status, queued.joined_at) == ("queued", due_at)
    assert routing.get_entry(OPEN_QUEUE, queued.entry_key).call_sid == callback_id


def test_unknown_queues_and_kinds_are_refused():
    with pytest.raises(requests.UnknownQueue):
        ask(fresh_number(), queue_id="no-such-queue")
    with pytest.raises(ValueError):
        ask(fresh_number(), kind="carrier-pigeon")


def test_a_stale_lock_of_a_vanished_request_does_not_block_the_number():
    # Given a lock whose request is gone (TTL deleted it, say)
    phone = fresh_number()
    CallbackLock(f"{OPEN_QUEUE}#{phone}", callback_id="cb_vanishedrequest00000000",
                 created_at=NOW).save()
    # When the number asks again, it gets a new request
    callback_id, created = ask(phone)
    assert created
    assert CallbackLock.get(f"{OPEN_QUEUE}#{phone}").callback_id == callback_id
