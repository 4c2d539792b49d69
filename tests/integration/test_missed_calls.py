"""Missed calls: voicemails and after-hours calls become one merged record per number, with the
hotline's follow-up (one "we missed you" text per window, an automatic callback request), safe
under concurrent Lambdas; and the admin API that lists and resolves them.

Each test gets its own hotline (the demo flows, its own policy) and callers, so the text windows
and records of one test never meet another's."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta

import pytest

from chalicelib.callbacks.missed import record_missed_call, view
from chalicelib.callbacks.requests import get_request
from chalicelib.routing.model import QueueConfig
from chalicelib.settings import get_settings
from chalicelib.store import directory, routing
from chalicelib.store import missed as store
from chalicelib.store.models import Hotline, MissedCall
from chalicelib.wiring import root
from tests.integration.conftest import CLOSED, OPEN_HOURS

QUEUE = "missed-followup"
ENGLISH_VOICEMAIL = ["1", "3", "record:5:please call me"]  # English, main menu 3, a message


def open_record(hotline: str, caller: str) -> dict | None:
    """The number's open record as the API shows it."""
    record = store.get_open(hotline, caller)
    return view(record) if record is not None else None


def new_number(prefix: str = "+1617555") -> str:
    return prefix + f"{random.randrange(10_000):04d}"


@pytest.fixture
def followup_queue():
    routing.save_queue(QueueConfig(QUEUE, "Missed-call follow-up"), OPEN_HOURS)
    return QUEUE


@pytest.fixture
def hotline(demo, followup_queue):
    """A hotline running the demo flows, with both follow-ups on (tests turn them off)."""

    def make(**policy) -> str:
        number = new_number("+1312555")
        Hotline(number, name="Missed Test Line", entry_flow="main", default_language="en-US",
                default_region="US", allowed_regions=["US", "CA", "CN"],
                missed_call_sms=policy.get("sms", True),
                missed_call_sms_window_hours=policy.get("window", 24),
                missed_call_callback=policy.get("callback", True),
                missed_call_queue=policy.get("queue", QUEUE)).save()
        directory.clear_cache()
        return number

    return make


def texts_to(carrier, number: str) -> list[dict]:
    return [m for m in carrier.messages if m["to"] == number]


def assert_clean(transcript) -> None:
    assert not transcript.errors, transcript.errors
    assert not transcript.application_error


# ---- through real calls ------------------------------------------------------------------------


def test_a_voicemail_becomes_a_missed_call_with_one_text_and_a_callback(carrier, hotline):
    line, caller = hotline(), new_number()
    # When a caller leaves a voicemail
    t = carrier.place_inbound_call(line, caller, ENGLISH_VOICEMAIL)
    assert_clean(t)
    # Then there is one open missed call for the number, followed up
    record = open_record(line, caller)
    assert record["count"] == 1 and record["reasons"] == ["voicemail"]
    assert record["call_sids"] == [t.call_sid] and record["language"] == "en-US"
    assert record["status"] == "followed_up"
    # with a callback request of kind "missed" in the hotline's follow-up queue
    request = get_request(record["follow_up"]["callback_id"])
    assert (request.kind, request.phone, request.queue_id, request.hotline) == \
        ("missed", caller, QUEUE, line)
    # and exactly one text from the hotline, saying we will call back
    texts = texts_to(carrier, caller)
    assert len(texts) == 1 and texts[0]["from"] == line
    assert texts[0]["body"].startswith("Missed Test Line: Thanks for your message")
    assert "We will call you back" in texts[0]["body"]
    assert record["follow_up"]["sms_sid"] == texts[0]["sid"]


def test_a_number_that_opted_out_is_recorded_but_never_called_back_or_texted(carrier, hotline):
    from chalicelib.store import optouts
    from chalicelib.store.callbacks import lock_holder

    line, caller = hotline(), new_number()
    optouts.opt_out(caller, "opt out", OPEN_HOURS)
    t = carrier.place_inbound_call(line, caller, ENGLISH_VOICEMAIL)
    assert_clean(t)
    record = open_record(line, caller)
    assert record["count"] == 1 and record["follow_up"]["callback_id"] is None
    assert lock_holder(QUEUE, caller) is None, "no automatic callback request at all"
    assert texts_to(carrier, caller) == []


def test_a_second_miss_within_the_window_merges_and_sends_no_second_text(carrier, clock,
                                                                          hotline):
    line, caller = hotline(window=24), new_number()
    first = carrier.place_inbound_call(line, caller, ENGLISH_VOICEMAIL)
    clock.now = OPEN_HOURS + timedelta(hours=3)
    second = carrier.place_inbound_call(line, caller, ENGLISH_VOICEMAIL)
    record = open_record(line, caller)
    assert record["count"] == 2
    assert record["call_sids"] == [first.call_sid, second.call_sid]
    assert record["first_at"] == OPEN_HOURS.isoformat()
    assert record["last_at"] == clock.now.isoformat()
    assert len(texts_to(carrier, caller)) == 1
    # Once the window has passed, the next miss is texted again
    clock.now = OPEN_HOURS + timedelta(hours=25)
    carrier.place_inbound_call(line, caller, ENGLISH_VOICEMAIL)
    assert open_record(line, caller)["count"] == 3
    assert len(texts_to(carrier, caller)) == 2


def test_an_after_hours_call_is_one_miss_with_both_reasons(carrier, clock, hotline):
    # Christmas: the demo's agent hours are closed; the flow says so and offers voicemail
    clock.now = CLOSED
    line, caller = hotline(), new_number()
    t = carrier.place_inbound_call(line, caller, ["1", "2", "record:4"])
    assert_clean(t)
    record = open_record(line, caller)
    assert record["count"] == 1, "the closed branch and the voicemail are the same call"
    assert record["reasons"] == ["after_hours", "voicemail"]
    assert record["last_reason"] == "voicemail"
    texts = texts_to(carrier, caller)
    assert len(texts) == 1 and "we were closed" in texts[0]["body"]


def test_an_after_hours_caller_who_hangs_up_is_still_missed(carrier, clock, hotline):
    clock.now = CLOSED
    line, caller = hotline(sms=False, callback=False), new_number()
    t = carrier.place_inbound_call(line, caller, ["2", "2"])  # Chinese, agent; then hangs up
    assert_clean(t)
    record = open_record(line, caller)
    assert record["reasons"] == ["after_hours"] and record["language"] == "zh-CN"
    assert record["status"] == "open" and record["follow_up"]["callback_id"] is None


def test_policy_off_records_the_miss_but_sends_nothing(carrier, hotline):
    line, caller = hotline(sms=False, callback=False), new_number()
    carrier.place_inbound_call(line, caller, ENGLISH_VOICEMAIL)
    record = open_record(line, caller)
    assert record["count"] == 1 and record["status"] == "open"
    assert record["follow_up"] == {"sms_sent_at": None, "sms_sid": None, "callback_id": None}
    assert texts_to(carrier, caller) == []


def test_the_text_is_in_the_callers_language(carrier, hotline):
    line, caller = hotline(callback=False), new_number()
    carrier.place_inbound_call(line, caller, ["2", "3", "record:6:请回电"])
    [text] = texts_to(carrier, caller)
    assert text["body"].startswith("Missed Test Line：感谢您的留言")
    assert "欢迎随时再次致电" in text["body"], "no callback was promised"


# ---- straight into the domain function ---------------------------------------------------------


def test_concurrent_misses_merge_to_the_right_count_and_one_text(carrier, hotline):
    line, caller = hotline(), new_number()
    sids = [f"CA{uuid.uuid4().hex}" for _ in range(8)]
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def miss(sid: str, reason: str, seconds: int) -> None:
        try:
            start.wait()
            # each Lambda's own clock: the texts' idempotency keys differ, only the window holds
            record_missed_call(hotline=line, caller=caller, reason=reason, call_sid=sid,
                               language="en-US", queue_id=None,
                               now=OPEN_HOURS + timedelta(seconds=seconds),
                               settings=get_settings(), gate=root().compliance)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    # each call is reported twice at once (closed, then a voicemail), by 16 threads in all
    threads = [threading.Thread(target=miss, args=(sid, reason, n))
               for n, sid in enumerate(sids) for reason in ("after_hours", "voicemail")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    carrier.run_pending_if_deferred()
    record = open_record(line, caller)
    assert record["count"] == 8
    assert sorted(record["call_sids"]) == sorted(sids)
    assert record["reasons"] == ["after_hours", "voicemail"]
    assert len(texts_to(carrier, caller)) == 1
    assert get_request(record["follow_up"]["callback_id"]).phone == caller


def test_call_sids_are_bounded_but_the_count_goes_on(carrier, hotline):
    line, caller = hotline(sms=False, callback=False), new_number()
    sids = [f"CA{n:032d}" for n in range(store.MAX_CALL_SIDS + 5)]
    for sid in sids + sids[-1:]:  # the last one twice: still one miss
        record_missed_call(hotline=line, caller=caller, reason="abandoned", call_sid=sid,
                           language=None, queue_id="support", now=OPEN_HOURS,
                           settings=get_settings(), gate=root().compliance)
    record = open_record(line, caller)
    assert record["count"] == store.MAX_CALL_SIDS + 5
    assert record["call_sids"] == sids[:store.MAX_CALL_SIDS]
    assert record["queue_id"] == "support" and record["reasons"] == ["abandoned"]


def test_a_failed_callback_is_recorded_without_a_new_callback_or_text(carrier, hotline):
    line, caller = hotline(), new_number()
    record_missed_call(hotline=line, caller=caller, reason="callback_failed", call_sid=None,
                       language="en-US", queue_id=QUEUE, now=OPEN_HOURS,
                       settings=get_settings(), gate=root().compliance)
    record = open_record(line, caller)
    assert record["count"] == 1 and record["status"] == "open"
    assert texts_to(carrier, caller) == []


def test_a_follow_up_without_a_send_time_keeps_the_one_recorded(hotline):
    line, caller = hotline(sms=False, callback=False), new_number()
    store.merge_miss(hotline=line, caller=caller, reason="abandoned", call_sid=None,
                     language=None, queue_id=None, now=OPEN_HOURS, retention_days=1)
    assert store.note_follow_up(line, caller, sms_sid="SM1", sms_sent_at=OPEN_HOURS)
    assert store.note_follow_up(line, caller, sms_sid="SM2")
    record = store.get_open(line, caller)
    assert record is not None and record.sms_sid == "SM2"
    assert record.sms_sent_at == OPEN_HOURS  # not a NULL written over it


@pytest.mark.parametrize("caller", ["+266696687", "client:alice", "anonymous", "",
                                    "+19005550123", "911"])
def test_callers_we_cannot_call_back_are_not_recorded(carrier, hotline, caller):
    line = hotline()
    record_missed_call(hotline=line, caller=caller, reason="voicemail", call_sid="CA" + "0" * 32,
                       language=None, queue_id=None, now=OPEN_HOURS, settings=get_settings(),
                       gate=root().compliance)
    assert list(MissedCall.by_hotline.query(line)) == []
    assert carrier.messages == []


# ---- the admin API --------------------------------------------------------------------------


def test_the_api_lists_shows_and_resolves_missed_calls(client, hotline):
    line = hotline(sms=False, callback=False)
    older, newer = new_number(), new_number("+1617556")
    for caller, minutes in ((older, 0), (newer, 5)):
        record_missed_call(hotline=line, caller=caller, reason="voicemail",
                           call_sid=f"CA{uuid.uuid4().hex}", language=None, queue_id=None,
                           now=OPEN_HOURS + timedelta(minutes=minutes), settings=get_settings(),
                           gate=root().compliance)
    digits = line.lstrip("+")

    listed = client.http.get(f"/missed-calls?hotline={digits}").json_body
    assert [r["caller"] for r in listed["missed_calls"]] == [newer, older]  # newest first
    assert listed["missed_calls"][0]["path"] == f"/missed-calls/{digits}/{newer.lstrip('+')}"

    shown = client.http.get(listed["missed_calls"][1]["path"])
    assert shown.status_code == 200
    assert shown.json_body["open"]["caller"] == older and shown.json_body["resolved"] == []

    resolved = client.http.post(f"/missed-calls/%2B{digits}/{older.lstrip('+')}/resolve",
                                headers={"Content-Type": "application/json"},
                                body='{"by": "ag-alice", "note": "called back"}')
    assert resolved.status_code == 200
    assert resolved.json_body["status"] == "resolved"
    assert resolved.json_body["resolved_by"] == "ag-alice"

    open_only = client.http.get(f"/missed-calls?hotline=%2B{digits}&status=unresolved")
    assert [r["caller"] for r in open_only.json_body["missed_calls"]] == [newer]
    done = client.http.get(f"/missed-calls?hotline={digits}&status=resolved").json_body
    assert [r["caller"] for r in done["missed_calls"]] == [older]

    # a new miss after resolving opens a fresh record; the old one stays as history
    record_missed_call(hotline=line, caller=older, reason="abandoned",
                       call_sid=f"CA{uuid.uuid4().hex}", language=None, queue_id=None,
                       now=OPEN_HOURS + timedelta(hours=1), settings=get_settings(),
                       gate=root().compliance)
    shown = client.http.get(f"/missed-calls/{digits}/{older.lstrip('+')}").json_body
    assert shown["open"]["count"] == 1 and shown["open"]["reasons"] == ["abandoned"]
    assert [r["note"] for r in shown["resolved"]] == ["called back"]

    again = client.http.post(f"/missed-calls/{digits}/{newer.lstrip('+')}/resolve")
    assert again.status_code == 200
    twice = client.http.post(f"/missed-calls/{digits}/{newer.lstrip('+')}/resolve")
    assert twice.status_code == 404 and "no open missed call" in twice.json_body["error"]


@pytest.mark.parametrize(("path", "status", "field"), [
    ("/missed-calls", 400, "hotline"),
    ("/missed-calls?hotline=abc", 400, "hotline"),
    ("/missed-calls?hotline=14155550100&status=lost", 400, "status"),
    ("/missed-calls?hotline=14155550100&limit=0", 400, "limit"),
    ("/missed-calls?hotline=14155550100&before=yesterday", 400, "before"),
    ("/missed-calls/14155550100/19995550000", 404, None),
    ("/missed-calls/14155550100/not-a-number", 404, None),  # no number at all: unknown
    ("/missed-calls/14155550100/1" + "4" * 5000, 404, None),
    ("/missed-calls?hotline=14155550100&limit=%C2%B2", 400, "limit"),
    ("/missed-calls?hotline=14155550100&limit=" + "9" * 5000, 400, "limit"),
    ("/missed-calls?hotline=14155550100&before=0001-01-01T00:00:00%2B01:00", 400, "before"),
])
def test_the_api_says_what_is_wrong(client, path, status, field):
    response = client.http.get(path)
    assert response.status_code == status, response.body
    assert response.json_body.get("field") == field
    assert response.json_body["error"]
