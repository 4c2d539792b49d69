"""Switchboard's local carrier: a Twilio stand-in for laptops and integration tests.

``Carrier`` places simulated calls into the app (signed webhooks, TwiML followed on a virtual
clock), holds the call queues, and backs the REST emulator in ``server.py`` so the app's
outbound calls, texts and queue dequeues work without a Twilio account. It never runs in Lambda.

    carrier = Carrier(app_url="http://127.0.0.1:8000", account_sid=..., auth_token=...)
    t = carrier.place_inbound_call(to="+14155550100", from_="+14155550111", script=["1"])
    assert not t.errors
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import amd
from .clock import rfc2822
from .participants import Participants
from .scripts import load_answer_scripts, normalize_scripts
from .session import (
    NOT_ANSWERED,
    Call,
    CallTranscript,
    EndCall,
    Fetch,
    Redirect,
    RoomEnded,
    ScriptInput,
    parse_script,
    send_webhook,
)
from .signing import (
    API_VERSION,
    Transport,
    make_sid,
    mask,
    queue_sid,
    requests_transport,
    valid_number,
)
from .softphones import SoftphoneConflict, Softphones

__all__ = ["Carrier", "CallTranscript", "CarrierError", "Limits", "ScriptInput",
           "SoftphoneConflict", "Softphones", "load_answer_scripts", "make_server", "queue_sid"]

log = logging.getLogger("switchboard.carrier")

DEFAULT = object()  # "use the app-url based default" (None disables a URL)
TEST_ACCOUNT_SID = "AC" + "0" * 32
TEST_AUTH_TOKEN = "local-carrier-test-token"

# Twilio's default keywords on long codes (exact single word, any case): an opt-out makes
# later texts to the sender fail with 21610 until an opt-in; calls are not affected.
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}


@dataclass
class Limits:
    """Safety limits per call, so a looping app ends a test instead of hanging it."""

    max_requests: int = 200
    max_call_seconds: float = 4 * 3600
    live_seconds: float = 120.0  # real seconds a live talk or a conference waits for an event


class CarrierError(Exception):
    """A REST request Twilio would refuse: carries Twilio's error code and HTTP status."""

    def __init__(self, code: int, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class Queues:
    """Named call queues (created on demand, like Twilio's) holding the waiting calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.members: dict[str, list[Call]] = {}
        self.waits: dict[str, list[int]] = {}

    def join(self, name: str, call: Call) -> None:
        with self._lock:
            self.members.setdefault(name, []).append(call)
            call.queue_name, call.enqueued_at = name, call.clock.now

    def leave(self, name: str, call: Call, waited: int) -> None:
        with self._lock:
            if call in self.members.get(name, []):
                self.members[name].remove(call)
            if call.queue_name == name:
                call.queue_name = None
                self.waits.setdefault(name, []).append(waited)

    def take_head(self, name: str) -> Call | None:
        with self._lock:
            members = self.members.get(name) or []
            return members.pop(0) if members else None

    def take(self, qsid: str, call_sid: str) -> Call | None:
        """Remove a member by queue SID and call SID (or ``Front``) for a REST dequeue."""
        with self._lock:
            for name, members in self.members.items():
                if queue_sid(name) != qsid or not members:
                    continue
                if call_sid.lower() == "front":
                    return members.pop(0)
                for call in members:
                    if call.sid == call_sid:
                        members.remove(call)
                        return call
        return None

    def name_of(self, qsid: str) -> str | None:
        with self._lock:
            names = set(self.members) | set(self.waits)
        return next((n for n in names if queue_sid(n) == qsid), None)

    def position(self, name: str, call: Call) -> int:
        with self._lock:
            members = self.members.get(name, [])
            return members.index(call) + 1 if call in members else 0

    def wait_params(self, name: str, qsid: str, call: Call, queue_time: int) -> dict[str, str]:
        with self._lock:
            members = self.members.get(name, [])
            waits = self.waits.get(name, [])
            position = members.index(call) + 1 if call in members else 1
            size = len(members)
        average = int(sum(waits) / len(waits)) if waits else 0
        return {"QueueSid": qsid, "QueuePosition": str(position), "QueueTime": str(queue_time),
                "AvgQueueTime": str(average), "CurrentQueueSize": str(size),
                "MaxQueueSize": "1000"}


class Rooms:
    """Conference rooms (created when the first participant enters, gone when empty).

    Participants wait in their own threads on their mailboxes; a participant leaving with
    endConferenceOnExit empties the room and posts ``RoomEnded`` to everyone else. Each room
    keeps the latest absolute virtual time of its participants, so clocks line up on leaving.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.members: dict[str, dict[Call, bool]] = {}  # room -> call -> endConferenceOnExit
        self.latest: dict[str, float] = {}
        self.sids: dict[str, str] = {}  # room -> its ConferenceSid while it runs

    def sid_of(self, name: str) -> str:
        """The ConferenceSid of the room ``name`` (a new one if the room is not running)."""
        with self._changed:
            return self.sids.setdefault(name, make_sid("CF"))

    def named(self, sid: str) -> str | None:
        """The name of the running room whose ConferenceSid is ``sid``."""
        with self._changed:
            return next((name for name, known in self.sids.items() if known == sid), None)

    def _touch(self, name: str, call: Call) -> None:
        moment = call.clock.epoch + call.clock.now
        self.latest[name] = max(self.latest.get(name, moment), moment)

    def join(self, name: str, call: Call, end_on_exit: bool) -> list[str]:
        """Enter ``name``; returns the SIDs of those already there."""
        with self._changed:
            members = self.members.setdefault(name, {})
            self.sids.setdefault(name, make_sid("CF"))
            present = [c.sid for c in members]
            members[call] = end_on_exit
            self._touch(name, call)
            self._changed.notify_all()
        return present

    def leave(self, name: str, call: Call) -> list[Call]:
        """Leave ``name`` (no-op if the room already ended) and line the clock up with the
        room's; returns the participants this exit ended the conference for."""
        with self._changed:
            members = self.members.get(name, {})
            present = call in members
            ends = members.pop(call, False)
            ended = list(members) if ends else []
            if ends:
                members.clear()
            if present:
                self._touch(name, call)
            latest = self.latest.get(name, 0.0) - call.clock.epoch
            if not members:
                self.members.pop(name, None)
                self.sids.pop(name, None)
            self._changed.notify_all()
        call.clock.now = max(call.clock.now, latest)
        for other in ended:
            other.post(RoomEnded(name, call.sid))
        return ended

    def present(self, name: str) -> list[Call]:
        with self._changed:
            return list(self.members.get(name, {}))

    def wait_for(self, name: str, predicate: Callable[[list[Call]], bool],
                 timeout: float = 10.0) -> list[Call]:
        """Wait (really) until ``predicate(participants)`` holds; TimeoutError if it never
        does. Tests use it to act once a party is in the room."""
        with self._changed:
            if not self._changed.wait_for(
                    lambda: predicate(list(self.members.get(name, {}))), timeout):
                raise TimeoutError(f"room {name!r}: condition not met after {timeout}s")
            return list(self.members.get(name, {}))


class Carrier:
    """The emulated carrier: calls, queues, texts and the work the REST API starts.

    With ``background=True`` (default) REST-created calls and message status callbacks run in
    threads; with ``background=False`` they wait for ``run_pending()`` (also run between hold
    loop passes), which keeps in-process transports such as Chalice's test client on one thread.

    Outbound campaign knobs: ``cps_limit`` (None = unlimited) refuses ``Calls.json`` requests
    beyond that many per wall-clock second with HTTP 429 / 20429, so the app's back-off can be
    tested (Twilio itself queues excess calls by default); ``amd_false_positive_rate`` (0-1)
    reports a person as a machine at that rate, drawn from ``random.Random(seed)`` so a run
    can be replayed. ``wall_clock`` (``time.time``) dates REST calls for ``stats()``.

    Softphones: ``clients`` (``Softphones``) holds the registered client identities; a Dial to
    one rings for real until the desk answers, rejects or the timeout passes
    (``client_pace``: virtual seconds per real second of ringing).
    """

    def __init__(self, app_url: str = "http://127.0.0.1:8000", account_sid: str | None = None,
                 auth_token: str | None = None, transport: Transport | None = None, *,
                 voice_url: str | None = None, status_url: Any = DEFAULT,
                 fallback_url: Any = DEFAULT, music_seconds: float = 30.0,
                 hold_pace: float = 0.0, background: bool = True,
                 emulator_url: str | None = None, limits: Limits | None = None,
                 cps_limit: int | None = None, amd_false_positive_rate: float = 0.0,
                 seed: int | None = 0, client_pace: float = 1.0) -> None:
        self.app_url = app_url.rstrip("/")
        self.account_sid = (account_sid or os.environ.get("TWILIO_ACCOUNT_SID")
                            or TEST_ACCOUNT_SID)
        self.auth_token = auth_token or os.environ.get("TWILIO_AUTH_TOKEN") or TEST_AUTH_TOKEN
        self.transport: Transport = transport or requests_transport
        self.voice_url = voice_url or self.app_url + "/twilio/voice"
        self.status_url = self.app_url + "/twilio/voice/status" if status_url is DEFAULT \
            else status_url
        self.fallback_url = self.app_url + "/twilio/voice/fallback" if fallback_url is DEFAULT \
            else fallback_url
        self.music_seconds, self.hold_pace, self.background = (
            music_seconds, hold_pace, background)
        self.emulator_url = emulator_url
        self.limits = limits or Limits()
        self.queues = Queues()
        self.rooms = Rooms()
        self.participants = Participants(self)  # the rooms' REST participants (participants.py)
        self.clients = Softphones(client_pace)
        self.calls: dict[str, Call] = {}
        self.messages: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []  # failures outside calls (message callbacks)
        self.answer_scripts: dict[str, list[str]] = {}
        self.opted_out: set[str] = set()
        self.inbound_texts: list[dict[str, Any]] = []  # texts sent to the app, with its answer
        self.cps_limit = cps_limit
        self.amd_false_positive_rate, self.seed = amd_false_positive_rate, seed
        self.wall_clock: Callable[[], float] = time.time
        self.calls_created_at: list[float] = []  # wall-clock time of each REST call created
        self.calls_refused = 0  # Calls.json requests refused by cps_limit
        self._cps_window = (0, 0)  # (wall-clock second, calls created in it)
        self._rng = random.Random(seed)
        self._replied: set[str] = set()  # text-only recipients that have replied already
        self._lock = threading.RLock()
        self._pending: deque[Callable[[], None]] = deque()
        self._threads: list[threading.Thread] = []
        self._local = threading.local()

    # ---- addresses -----------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        base = self.emulator_url or "https://api.twilio.com"
        return f"{base}/{API_VERSION}/Accounts/{self.account_sid}"

    def recording_url(self, sid: str) -> str:
        if self.emulator_url:
            return f"{self.emulator_url}/recordings/{sid}.mp3"
        return f"{self.api_base}/Recordings/{sid}"

    # ---- inbound calls -------------------------------------------------------------------

    def new_inbound_call(self, to: str, from_: str, script: str | Iterable[str] | None = None,
                         *, input: Any = None, voice_url: str | None = None,
                         method: str = "POST", status_url: Any = DEFAULT,
                         fallback_url: Any = DEFAULT, forwarded_from: str | None = None,
                         caller_name: str | None = None,
                         on_event: Callable[[dict[str, Any]], None] | None = None,
                         hold_pace: float | None = None) -> Call:
        """A registered inbound call, not yet running (``place_`` / ``start_`` run it)."""
        call = Call(
            self, sid=make_sid("CA"), to=to, from_=from_, direction="inbound",
            url=voice_url or self.voice_url, method=method,
            input=input if input is not None else ScriptInput(script),
            status_url=self.status_url if status_url is DEFAULT else status_url,
            fallback_url=self.fallback_url if fallback_url is DEFAULT else fallback_url,
            forwarded_from=forwarded_from, caller_name=caller_name, on_event=on_event,
            hold_pace=self.hold_pace if hold_pace is None else hold_pace)
        self._register(call)
        return call

    def place_inbound_call(self, to: str, from_: str,
                           script: str | Iterable[str] | None = None,
                           **options: Any) -> CallTranscript:
        """Place a call into the app and follow it to the end, in this thread.

        ``script`` steps answer the call's input points in order (see ``ScriptInput``); with
        no script the caller hangs up at the first input point. ``options`` are those of
        ``new_inbound_call`` (voice_url, status_url, fallback_url, on_event, hold_pace, ...).
        In deferred mode (``background=False``) work the call started is run before returning.
        """
        transcript = self.new_inbound_call(to, from_, script, **options).run()
        self.run_pending_if_deferred()  # texts and calls the app started during the call
        return transcript

    def start_inbound_call(self, to: str, from_: str,
                           script: str | Iterable[str] | None = None, **options: Any) -> Call:
        """Like ``place_inbound_call`` but in a thread; ``call.done.wait()``, then
        ``call.transcript``. Use it to act (REST dequeue, redirect) while the caller holds."""
        call = self.new_inbound_call(to, from_, script, **options)
        self._spawn(call.run)
        return call

    # ---- outbound calls (REST) -----------------------------------------------------------

    def create_outbound_call(self, to: str, from_: str, *, url: str | None = None,
                             twiml: str | None = None, method: str = "POST",
                             status_callback: str | None = None,
                             status_callback_event: Iterable[str] = (),
                             status_callback_method: str = "POST",
                             fallback_url: str | None = None, fallback_method: str = "POST",
                             machine_detection: str | None = None, async_amd: bool = False,
                             amd_callback: str | None = None, amd_callback_method: str = "POST",
                             machine_detection_timeout: float = amd.DEFAULT_TIMEOUT,
                             timeout: float = 60.0) -> Call:
        """What ``POST Calls.json`` does: validate, pace (``cps_limit``), register, and ring in
        the background. ``timeout``: ring seconds before no-answer."""
        if not valid_number(to):
            raise CarrierError(21211, f"The 'To' number {to} is not a valid phone number.")
        if not from_:
            raise CarrierError(21213, "No 'From' number is specified")
        if not url and not twiml:
            raise CarrierError(21205, "Url or Twiml parameter is required")
        self._count_call_created()
        events = [e for ev in status_callback_event for e in ev.split()] or ["completed"]
        steps = self.answer_scripts.get(to, [])
        call = Call(self, sid=make_sid("CA"), to=to, from_=from_, direction="outbound-api",
                    url=url, method=method, twiml=twiml, input=ScriptInput(steps),
                    status_url=status_callback, status_events=events,
                    status_method=status_callback_method, fallback_url=fallback_url,
                    fallback_method=fallback_method, machine_detection=machine_detection,
                    async_amd=async_amd, amd_callback=amd_callback,
                    amd_callback_method=amd_callback_method,
                    machine_detection_timeout=machine_detection_timeout, ring_timeout=timeout,
                    hold_pace=self.hold_pace)
        self._register(call)
        log.info("REST call %s to %s", call.sid, mask(to))
        self._schedule(call.run)
        return call

    def _count_call_created(self) -> None:
        """Date a new REST call; over ``cps_limit`` in this wall-clock second, refuse it."""
        with self._lock:  # the clock is read under the lock so seconds never go backwards
            now = self.wall_clock()
            if self.cps_limit is not None:
                if self._cps_window[0] != int(now):
                    self._cps_window = (int(now), 0)
                if self._cps_window[1] >= self.cps_limit:
                    self.calls_refused += 1
                    raise CarrierError(20429, "Too Many Requests", 429)
                self._cps_window = (int(now), self._cps_window[1] + 1)
            self.calls_created_at.append(now)

    def stats(self) -> dict[str, Any]:
        """How the app paced its dials: ``calls_created``, ``calls_per_second`` (counts per
        wall-clock second from the first REST call's second to the last's, gaps as 0),
        ``max_calls_in_any_second``, ``first_second`` (epoch seconds) and ``calls_refused``."""
        with self._lock:
            times, refused = list(self.calls_created_at), self.calls_refused
        counts: list[int] = []
        first = int(min(times)) if times else None
        if first is not None:
            counts = [0] * (int(max(times)) - first + 1)
            for moment in times:
                counts[int(moment) - first] += 1
        return {"calls_created": len(times), "max_calls_in_any_second": max(counts, default=0),
                "calls_per_second": counts, "first_second": first, "calls_refused": refused}

    def amd_mistakes_a_person(self) -> bool:
        """Draw whether AMD reports this person as a machine (``amd_false_positive_rate``)."""
        if self.amd_false_positive_rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < self.amd_false_positive_rate

    def child_leg(self, parent: Call, to: str, caller_id: str | None = None) -> Call:
        """The callee leg of a <Dial>; its answer script (minus the disposition) is its input."""
        script = ScriptInput(self.answer_scripts.get(to, []))
        script.answer()
        call = Call(self, sid=make_sid("CA"), to=to, from_=caller_id or parent.from_,
                    direction="outbound-dial", parent_sid=parent.sid, input=script,
                    status_url=None, hold_pace=parent.hold_pace)
        call.clock.epoch = parent.clock.epoch + parent.clock.now
        self._register(call)
        return call

    def continue_leg(self, leg: Call, target: Fetch) -> None:
        """A child leg redirected out of its bridge runs the new TwiML in its own thread
        (always a thread, even deferred: it may wait in a conference room)."""
        self._spawn(lambda: leg.run(start=target))

    def redirect_call(self, sid: str, url: str | None = None, method: str = "POST",
                      twiml: str | None = None) -> Call:
        call = self._live_call(sid)
        call.post(Redirect(url, method.upper(), twiml))
        return call

    def end_call(self, sid: str, status: str = "completed") -> Call:
        call = self._live_call(sid)
        call.post(EndCall("canceled" if call.answered_at is None else "completed")
                  if status in ("completed", "canceled") else EndCall(status))
        return call

    def dequeue_member(self, qsid: str, call_sid: str, url: str,
                       method: str = "POST") -> tuple[Call, int, int]:
        """REST dequeue: the member leaves its queue and fetches ``url``. Returns the call,
        its former position and its wait so far."""
        with self._lock:
            name = self.queues.name_of(qsid)
            position = 0
            if name is not None:
                members = self.queues.members.get(name, [])
                match = [c for c in members if c.sid == call_sid or call_sid.lower() == "front"]
                position = members.index(match[0]) + 1 if match else 0
            call = self.queues.take(qsid, call_sid)
        if call is None:
            raise CarrierError(20404, "The requested resource was not found", 404)
        call.post(Redirect(url, method.upper(), reason="dequeue"))
        return call, position, call.clock.elapsed(call.enqueued_at)

    def _live_call(self, sid: str) -> Call:
        call = self.calls.get(sid)
        if call is None:
            raise CarrierError(20404, "The requested resource was not found", 404)
        if call.done.is_set():
            raise CarrierError(21220, "Call is not in-progress. Cannot redirect.", 400)
        return call

    # ---- answer scripts and opt-outs -----------------------------------------------------

    def set_answer_script(self, number: str, steps: str | Iterable[str]) -> None:
        """How a callee (REST call or <Dial>) answers: optional first step ``human`` /
        ``machine`` / ``fax`` / ``unknown`` / ``busy`` / ``no-answer`` / ``failed``, then input
        steps; ``sms:TEXT`` steps are texts it sends back (see ``send_scripted_texts``)."""
        self.set_answer_scripts({number: steps})

    def set_answer_scripts(self, scripts: dict[str, Any]) -> int:
        """Set many at once (``{number: [steps] or "comma,separated"}``), all checked before
        any is set; returns how many were set."""
        parsed = normalize_scripts(scripts)
        with self._lock:
            self.answer_scripts.update(parsed)
            self._replied.difference_update(parsed)  # a new script replies afresh
        return len(parsed)

    def answer_disposition(self, number: str) -> str:
        """A Dial outcome for ``number`` from its answer script (machines and faxes answer)."""
        steps = parse_script(self.answer_scripts.get(number, []))
        if steps and steps[0].kind == "answer" and steps[0].outcome in NOT_ANSWERED:
            return steps[0].outcome
        return "completed"

    def opt_out(self, number: str) -> None:
        """The recipient replied STOP: texts to it fail with 21610, as on Twilio."""
        self.opted_out.add(number)

    # ---- texts back from scripted parties ------------------------------------------------

    def send_scripted_texts(self, call: Call) -> None:
        """When a call ends, its scripted party sends its ``sms:`` steps: a callee (REST call,
        Dial leg) texts the caller ID that rang it, an inbound caller the number it called."""
        texts = getattr(call.input, "texts", None)
        if not texts:
            return
        bodies, texts[:] = list(texts), []  # once per call
        sender, recipient = ((call.from_, call.to) if call.direction == "inbound"
                             else (call.to, call.from_))
        for body in bodies:
            status, _ = self.send_inbound_sms(recipient, sender, body, call_sid=call.sid)
            call.emit("text", **{"from": sender, "to": recipient, "body": body,
                                 "http_status": status})

    def _reply_to_text(self, message: dict[str, Any]) -> None:
        """A recipient scripted with ``sms:`` steps only replies to the first text it gets."""
        number = message["to"]
        steps = parse_script(self.answer_scripts.get(number, []))
        if not steps or any(s.kind != "sms" for s in steps):
            return
        with self._lock:
            if number in self._replied:
                return
            self._replied.add(number)
        if not message["from"]:  # sent through a Messaging Service: no number to answer
            log.warning("text %s has no From number; %s cannot reply", message["sid"],
                        mask(number))
            return
        for step in steps:
            self.send_inbound_sms(message["from"], number, step.text,
                                  in_reply_to=message["sid"])

    # ---- messages ------------------------------------------------------------------------

    def send_message(self, to: str, from_: str | None = None, body: str = "", *,
                     messaging_service_sid: str | None = None,
                     status_callback: str | None = None,
                     media_urls: Iterable[str] = ()) -> dict[str, Any]:
        """What ``POST Messages.json`` does (raises ``CarrierError`` as Twilio refuses)."""
        media_urls = list(media_urls)
        if not valid_number(to):
            raise CarrierError(21211, f"The 'To' number {to} is not a valid phone number.")
        if not from_ and not messaging_service_sid:
            raise CarrierError(21603, "A 'From' phone number is required.")
        if not body and not media_urls:
            raise CarrierError(21602, "Message body is required.")
        if to in self.opted_out:
            raise CarrierError(21610, "Attempt to send to unsubscribed recipient")
        return self.record_message(to=to, from_=from_, body=body, via="rest",
                                   messaging_service_sid=messaging_service_sid,
                                   status_callback=status_callback, media_urls=media_urls)

    def record_message(self, *, to: str, from_: str | None, body: str, via: str,
                       call_sid: str | None = None, messaging_service_sid: str | None = None,
                       status_callback: str | None = None,
                       media_urls: Iterable[str] = ()) -> dict[str, Any]:
        """Keep a text (REST or <Sms>) and schedule its sent/delivered status callbacks."""
        now = rfc2822()
        message = {
            "sid": make_sid("SM"), "account_sid": self.account_sid, "to": to, "from": from_,
            "body": body, "status": "queued" if from_ else "accepted", "via": via,
            "call_sid": call_sid, "messaging_service_sid": messaging_service_sid,
            "status_callback": status_callback, "media_urls": list(media_urls),
            "date_created": now, "date_updated": now, "date_sent": None, "callbacks": [],
            "num_segments": str(max(1, -(-len(body) // 160))),
        }
        with self._lock:
            self.messages.append(message)
        log.info("text %s %s -> %s (%s)", message["sid"], mask(from_), mask(to), via)
        self._schedule(lambda: self._deliver_message(message))
        return message

    def _deliver_message(self, message: dict[str, Any]) -> None:
        for status in ("sent", "delivered"):
            message["status"] = status
            message["date_updated"] = rfc2822()
            if status == "sent":
                message["date_sent"] = message["date_updated"]
            if not message["status_callback"]:
                continue
            params = {"AccountSid": self.account_sid, "ApiVersion": API_VERSION,
                      "MessageSid": message["sid"], "SmsSid": message["sid"],
                      "MessageStatus": status, "SmsStatus": status, "To": message["to"],
                      "From": message["from"] or ""}
            if message["messaging_service_sid"]:
                params["MessagingServiceSid"] = message["messaging_service_sid"]
            d = send_webhook(self, message["status_callback"], "POST", params)
            message["callbacks"].append({"status": status, "http_status": d.status,
                                         "error": d.error, "params": params})
            if not d.ok:
                self.errors.append({"code": 11200, "message": "message status callback failed",
                                    "url": d.url, "sid": message["sid"]})
        if message["via"] == "rest":
            self._reply_to_text(message)

    def send_inbound_sms(self, to: str, from_: str, body: str, url: str | None = None, *,
                         call_sid: str | None = None,
                         in_reply_to: str | None = None) -> tuple[int | None, str]:
        """Deliver a text to the app's messaging webhook (default ``{app_url}/twilio/sms``).
        Twilio's keywords set ``OptOutType`` (STOP / START / HELP) and an opt-out or opt-in
        changes ``opted_out``. Kept in ``inbound_texts`` with the app's answer."""
        sid = make_sid("SM")
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid,
                  "AccountSid": self.account_sid, "From": from_, "To": to, "Body": body,
                  "NumMedia": "0", "NumSegments": "1", "ApiVersion": API_VERSION,
                  "SmsStatus": "received"}
        word = body.strip().upper()
        if word in OPT_OUT_WORDS:
            params["OptOutType"] = "STOP"
            self.opted_out.add(from_)
        elif word in OPT_IN_WORDS:
            params["OptOutType"] = "START"
            self.opted_out.discard(from_)
        elif word in HELP_WORDS:
            params["OptOutType"] = "HELP"
        d = send_webhook(self, url or self.app_url + "/twilio/sms", "POST", params)
        with self._lock:
            self.inbound_texts.append({
                "sid": sid, "from": from_, "to": to, "body": body,
                "opt_out_type": params.get("OptOutType"), "call_sid": call_sid,
                "in_reply_to": in_reply_to, "date_sent": rfc2822(),
                "http_status": d.status, "error": d.error, "reply": d.body})
        return d.status, d.body

    # ---- work scheduling -----------------------------------------------------------------

    def _register(self, call: Call) -> None:
        with self._lock:
            self.calls[call.sid] = call

    def call_finished(self, call: Call) -> None:
        """A leg ended (its final status callback sent): its party's scripted texts go out, a
        softphone on it is free again."""
        self.clients.leg_finished(call)
        self.send_scripted_texts(call)

    def _spawn(self, work: Callable[[], Any]) -> None:
        thread = threading.Thread(target=work, daemon=True, name="carrier-work")
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _schedule(self, work: Callable[[], Any]) -> None:
        if self.background:
            self._spawn(work)
        else:
            with self._lock:
                self._pending.append(work)

    def run_pending(self) -> int:
        """Run deferred work (REST-created calls, message callbacks) in this thread."""
        if getattr(self._local, "running", False):
            return 0
        self._local.running = True
        done = 0
        try:
            while True:
                with self._lock:
                    if not self._pending:
                        return done
                    work = self._pending.popleft()
                work()
                done += 1
        finally:
            self._local.running = False

    def run_pending_if_deferred(self) -> None:
        if not self.background:
            self.run_pending()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no carrier work is running or pending; False on timeout."""
        deadline = time.monotonic() + timeout
        self.run_pending()
        while time.monotonic() < deadline:
            with self._lock:
                threads = [t for t in self._threads if t.is_alive()]
                self._threads = threads
                pending = bool(self._pending)
            if not threads and not pending:
                return True
            if pending:
                self.run_pending()
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        return False

    def wait_for_call(self, sid: str, timeout: float = 10.0) -> CallTranscript:
        call = self.calls[sid]
        self.run_pending_if_deferred()
        if not call.done.wait(timeout):
            raise TimeoutError(f"call {sid} still running after {timeout}s")
        return call.transcript

    def transcripts(self, direction: str | None = None) -> list[CallTranscript]:
        with self._lock:
            calls = list(self.calls.values())
        return [c.transcript for c in calls if direction in (None, c.direction)]

    def reset(self) -> None:
        """Forget calls, texts, queues, answer scripts, opt-outs and softphones (running calls
        end)."""
        with self._lock:
            for call in self.calls.values():
                if not call.done.is_set():
                    call.post(EndCall())
            self.calls.clear()
            self.messages.clear()
            self.errors.clear()
            self.answer_scripts.clear()
            self.opted_out.clear()
            self.inbound_texts.clear()
            self.calls_created_at.clear()
            self.calls_refused = 0
            self._cps_window = (0, 0)
            self._replied.clear()
            self._rng = random.Random(self.seed)
            self._pending.clear()
            self.queues = Queues()
            self.rooms = Rooms()
            self.participants = Participants(self)
        self.clients.reset()


def make_server(carrier: Carrier, host: str = "127.0.0.1", port: int = 0):
    """The REST emulator for ``carrier`` (not started: ``server.start()`` runs it in a thread,
    ``server.stop()`` ends it; ``server.url`` is its base URL)."""
    from .server import EmulatorServer

    return EmulatorServer(carrier, host, port)
