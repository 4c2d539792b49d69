"""Through an outage: DynamoDB killed (or hung) mid-IVR and mid-queue, then back.

Every voice route answers valid TwiML while storage is gone, status-type webhooks ask Twilio to
retry (503) instead of losing what they carry, and once storage is back the system recovers by
itself: the scheduled jobs ask Twilio how calls stand (reconciliation) and the line drains,
without anyone repairing anything.

The outage gets its own DynamoDB Local, keeping its data on disk so that it survives being
killed; the suite's database is bound again afterwards.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from chalicelib.routing.model import AgentState, QueueConfig
from chalicelib.settings import get_settings
from chalicelib.store import calls, directory, flows, routing
from chalicelib.store.models import bind_models
from tests.integration.conftest import OPEN_HOURS, signed_post

HOTLINE = "+14155550100"
QUEUE = "support"
TWILIO_BUDGET = 15.0  # seconds Twilio waits for a webhook before it gives up on it


def new_caller() -> str:
    return f"+1212555{uuid.uuid4().int % 10000:04d}"


@pytest.fixture
def world(edge, carrier):
    """The demo's support queue (callers wait when nobody is free), a settable clock and a fake
    Twilio edge for calls (texts reach the carrier emulator)."""
    routing.save_queue(QueueConfig(QUEUE, "Support", join_empty="wait"), OPEN_HOURS)
    return edge.client, edge.twilio, edge.routing, edge.voice, edge.clock


def post(client, path: str, sid: str, caller: str, **params):
    """A signed webhook; (status, parsed TwiML or None, seconds it took)."""
    started = time.monotonic()
    response = signed_post(client, path, {"CallSid": sid, "From": caller, "To": HOTLINE,
                                          **params})
    took = time.monotonic() - started
    body = response.body.decode()
    twiml = ET.fromstring(body) if response.status_code == 200 and body.startswith("<") \
        else None
    return response.status_code, twiml, took


def answered(client, sid: str, caller: str, path: str, **params) -> ET.Element:
    """The route answered valid TwiML in time: what a caller hears, never Twilio's error."""
    status, twiml, took = post(client, path, sid, caller, **params)
    assert status == 200 and twiml is not None and twiml.tag == "Response", (path, status)
    assert took < TWILIO_BUDGET, (path, took)
    return twiml


def to_queue(client, caller: str) -> str:
    sid = "CA" + uuid.uuid4().hex
    answered(client, sid, caller, "/twilio/voice")
    answered(client, sid, caller, "/twilio/voice/step/1/choose_language", Digits="1")
    twiml = answered(client, sid, caller, "/twilio/voice/step/2/main_menu", Digits="2")
    assert twiml.find("Enqueue") is not None
    return sid


def available(agent_id: str) -> None:
    agent = routing.get_agent(agent_id)
    agent.state, agent.state_since = AgentState.AVAILABLE, OPEN_HOURS
    routing.change_agent_state(agent, AgentState.OFFLINE, OPEN_HOURS)


# ---- reconciliation: a final status Twilio could not deliver ----------------------------------


def test_a_call_whose_final_status_was_lost_is_settled_from_twilios_own_record(world):
    client, edge, service, voice, clock = world
    caller = new_caller()
    sid = to_queue(client, caller)
    # the caller hung up; the final status callback never reached us
    edge.states[sid] = ("completed", 95)
    clock.now = OPEN_HOURS + timedelta(minutes=11)
    assert voice.reconcile_calls() == {"checked": 1, "settled": 1, "lost": 0}
    record = calls.get_call(sid)
    assert (record.status, record.duration, record.open_bucket) == ("completed", 95, None)
    # the line is free and the call counts as abandoned, as the callback would have done
    assert [e for e in routing.queue_entries(QUEUE) if e.kind == "call"] == []
    assert int(routing.queue_day(QUEUE, OPEN_HOURS.date().isoformat()).abandoned) == 1
    # a late real callback changes nothing more
    post(client, "/twilio/voice/status", sid, caller, CallStatus="completed", CallDuration="95",
         SequenceNumber="3")
    assert int(routing.queue_day(QUEUE, OPEN_HOURS.date().isoformat()).abandoned) == 1


def test_a_live_call_is_left_alone_and_asked_about_again_later(world):
    client, edge, service, voice, clock = world
    sid = to_queue(client, new_caller())
    edge.states[sid] = ("in-progress", 0)
    clock.now = OPEN_HOURS + timedelta(minutes=11)
    assert voice.reconcile_calls()["checked"] == 1
    clock.now += timedelta(minutes=5)
    assert voice.reconcile_calls()["checked"] == 0  # asked 5 minutes ago
    clock.now += timedelta(minutes=11)
    assert voice.reconcile_calls()["checked"] == 1
    assert calls.get_call(sid).open_bucket is not None


def test_a_call_twilio_does_not_know_is_closed_as_lost_and_unreachable_twilio_waits(world):
    client, edge, service, voice, clock = world
    sid = to_queue(client, new_caller())
    clock.now = OPEN_HOURS + timedelta(minutes=11)
    edge.unreachable = True  # nobody to ask: a young call stays open
    assert voice.reconcile_calls() == {"checked": 1, "settled": 0, "lost": 0}
    edge.unreachable = False  # Twilio answers 404: no such call
    assert voice.reconcile_calls() == {"checked": 1, "settled": 0, "lost": 1}
    assert calls.get_call(sid).outcome == "lost"
    assert [e for e in routing.queue_entries(QUEUE) if e.kind == "call"] == []


# ---- DynamoDB killed mid-IVR and mid-queue ----------------------------------------------------


@pytest.fixture
def outage_db(world, tmp_path):
    """A DynamoDB Local of this test's own, with its data in files (in memory-backed /dev/shm
    where there is one: the same files, without the disk's fsyncs), holding the demo."""
    import shutil
    import tempfile

    from chalicelib.store.tables import create_tables
    from infra.local.demo import load_demo
    from infra.local.dynamodb import DynamoDBLocal

    settings = get_settings()
    suite_endpoint = settings.dynamodb_endpoint
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    data = tempfile.mkdtemp(prefix="outage-", dir=shm or tmp_path)
    db = DynamoDBLocal(db_path=data).start()
    settings.dynamodb_endpoint = db.endpoint
    bind_models(settings)
    try:
        create_tables(ttl=False)
        load_demo()
        routing.save_queue(QueueConfig(QUEUE, "Support", join_empty="wait"), OPEN_HOURS)
        flows.clear_cache()
        directory.clear_cache()
        yield db
    finally:
        if db.running:
            os.kill(db._proc.pid, signal.SIGCONT)
        db.stop()
        shutil.rmtree(data, ignore_errors=True)
        settings.dynamodb_endpoint = suite_endpoint
        bind_models(settings)
        flows.clear_cache()
        directory.clear_cache()


def restart(db):
    from infra.local.dynamodb import DynamoDBLocal

    again = DynamoDBLocal(port=db.port, db_path=db.db_path).start()
    db._proc, db._log = again._proc, again._log


def test_dynamodb_killed_mid_ivr_and_mid_queue_every_route_answers_then_queues_drain(
    world, outage_db
):
    client, edge, service, voice, clock = world
    # Given a caller at the main menu, and a caller waiting in line (nobody is free)
    in_ivr, holding = new_caller(), new_caller()
    ivr_sid = "CA" + uuid.uuid4().hex
    answered(client, ivr_sid, in_ivr, "/twilio/voice")
    answered(client, ivr_sid, in_ivr, "/twilio/voice/step/1/choose_language", Digits="1")
    queued_sid = to_queue(client, holding)
    answered(client, queued_sid, holding, "/twilio/voice/hold/agent_queue", QueueTime="0")
    hotline_cached = directory.last_known_hotline(HOTLINE)
    assert hotline_cached is not None

    # When DynamoDB dies
    outage_db.stop()

    # Then every voice route still answers TwiML, in time
    menu = answered(client, ivr_sid, in_ivr, "/twilio/voice/step/2/main_menu", Digits="2")
    assert menu.find("Record") is not None or menu.find("Dial") is not None  # the fallback
    hold = answered(client, queued_sid, holding, "/twilio/voice/hold/agent_queue",
                    QueueTime="40")
    assert hold.find("Play") is not None and hold.find("Leave") is None  # keeps the place
    new_sid = "CA" + uuid.uuid4().hex
    assert answered(client, new_sid, new_caller(), "/twilio/voice").find("Say") is not None
    voice_routes = [
        ("/twilio/voice/hold/agent_queue/choice", {"Digits": "1"}),
        (f"/twilio/voice/agent/connect/{QUEUE}/{queued_sid}", {}),
        (f"/twilio/voice/agent/dialed/{QUEUE}/{queued_sid}", {"DialCallStatus": "no-answer"}),
        (f"/twilio/voice/agent/whisper/{QUEUE}/{queued_sid}/ag-alice", {}),
        (f"/twilio/voice/agent/consult/{queued_sid}/join", {}),
        (f"/twilio/voice/agent/consult/{queued_sid}/left/ag-alice", {}),
        ("/twilio/voice/callback/cb_abcdefghijklmnopqrstuvwx/agent", {}),
        ("/twilio/voice/callback/cb_abcdefghijklmnopqrstuvwx/customer", {"AnsweredBy": "human"}),
        ("/twilio/voice/callback/cb_abcdefghijklmnopqrstuvwx/dialed",
         {"DialCallStatus": "completed"}),
        ("/twilio/voice/callback/cb_abcdefghijklmnopqrstuvwx/hold", {}),
        ("/twilio/voice/fallback", {"ErrorCode": "11200"}),
        ("/twilio/voice/fallback/dialed", {"DialCallStatus": "busy"}),
        ("/twilio/voice/fallback/recorded", {"RecordingSid": "RE" + "1" * 32,
                                             "RecordingUrl": "https://x.test/r"}),
        ("/twilio/voice/step/3/agent_queue", {"QueueResult": "leave"}),
    ]
    other = "CA" + uuid.uuid4().hex  # a call of no consequence: the holding caller holds on
    for path, params in voice_routes:
        answered(client, other, new_caller(), path, **params)
    # and what status-type webhooks carry is not taken and lost: Twilio is asked to retry
    for path, params in [
        ("/twilio/voice/status", {"CallStatus": "completed", "CallDuration": "20"}),
        ("/twilio/voice/transcription", {"RecordingSid": "RE" + "2" * 32,
                                         "TranscriptionText": "hello"}),
        ("/twilio/voice/recording", {"RecordingSid": "RE" + "3" * 32,
                                     "RecordingStatus": "completed"}),
        (f"/twilio/voice/agent/consult/{queued_sid}/status", {"CallStatus": "completed"}),
        ("/twilio/voice/callback/cb_abcdefghijklmnopqrstuvwx/agent-status",
         {"CallStatus": "completed"}),
        ("/twilio/sms/status", {"MessageSid": "SM" + "4" * 32, "MessageStatus": "delivered"}),
        ("/twilio/sms", {"MessageSid": "SM" + "5" * 32, "Body": "STOP"}),
    ]:
        status, _, took = post(client, path, ivr_sid, in_ivr, **params)
        assert status == 503 and took < TWILIO_BUDGET, (path, status)

    # The caller at the menu hangs up meanwhile: that final status is lost with storage; the
    # caller on hold is still there, as Twilio knows
    post(client, "/twilio/voice/status", ivr_sid, in_ivr, CallStatus="completed",
         CallDuration="31", SequenceNumber="4")
    edge.states[ivr_sid] = ("completed", 31)
    edge.states[queued_sid] = ("in-progress", 0)

    # When DynamoDB comes back, hung first (the JVM stopped: connections wait, then time out)
    restart(outage_db)
    os.kill(outage_db._proc.pid, signal.SIGSTOP)
    try:
        hung = answered(client, queued_sid, holding, "/twilio/voice/hold/agent_queue",
                        QueueTime="80")
        assert hung.find("Play") is not None
    finally:
        os.kill(outage_db._proc.pid, signal.SIGCONT)

    # Then, with no one repairing anything, the scheduled jobs and the next hold request
    # settle what was lost and connect the waiting caller to the agent who logs in
    available("ag-alice")
    clock.now = OPEN_HOURS + timedelta(minutes=11)
    assert voice.reconcile_calls()["settled"] >= 1
    assert calls.get_call(ivr_sid).status == "completed"
    service.sweep()
    # (the sweep reads only what is due; the caller's next hold request finds the agent free)
    answered(client, queued_sid, holding, "/twilio/voice/hold/agent_queue", QueueTime="700")
    assert queued_sid in edge.urls
    assert routing.get_agent("ag-alice").state is AgentState.RESERVED
    waiting = [e for e in routing.queue_entries(QUEUE) if e.kind == "call"]
    assert [e.call_sid for e in waiting] == [queued_sid]
