"""One call on the emulated carrier: its parameters, webhooks, status callbacks and transcript.

A ``Call`` plays Twilio's part for a single leg: it fetches TwiML (retrying once with the same
idempotency token, then the fallback URL), hands each document to the TwiML follower, sends the
status callbacks and keeps a transcript that tests can assert on. Control from outside (a REST
redirect, a hang-up, a queue dequeue) arrives through a mailbox checked between verbs, so a call
never has to be interrupted in the middle of a webhook.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from . import amd
from .clock import VirtualClock
from .signing import (
    API_VERSION,
    country_of,
    mask,
    mask_text,
    new_idempotency_token,
    strip_fragment,
    webhook_headers,
    with_query,
)

if TYPE_CHECKING:
    from . import Carrier

log = logging.getLogger("switchboard.carrier")

APP_ERROR_TEXT = "We are sorry, an application error has occurred. Goodbye."
XML_TYPES = ("text/xml", "application/xml")


# --------------------------------------------------------------------------- caller scripts


@dataclass
class Action:
    """One parsed caller-script step (see ``parse_action`` for the accepted spellings)."""

    kind: str  # digits | speech | wait | hangup | record | dial | hold | answer | sms | pay
    digits: str = ""
    text: str = ""
    seconds: float = 0.0
    key: str = ""  # record: the key that ended it, or "hangup"
    outcome: str = ""  # dial: completed|busy|...; answer: human|machine|...; pay: PAY_OUTCOMES
    raw: str = ""


_DIGITS = re.compile(r"^[0-9*#w]+$")
_RECORD = re.compile(r"^record:(\d+(?:\.\d+)?)([0-9*#]|!)?(?::(.*))?$", re.S)
DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed")
ANSWERS = ("human", "answer", "machine", "fax", "unknown", "busy", "no-answer", "failed")
NOT_ANSWERED = ("busy", "no-answer", "failed")
PAY_OUTCOMES = ("success", "decline", "star", "hangup", "timeout", "error")
OUT_OF_BAND = ("dial", "hold")  # consumed by the next Dial / Enqueue, skipped by input points


def parse_action(step: str) -> Action:
    """Parse one script step: ``"123#"``, ``"say:words"``, ``"wait"``, ``"hangup"``,
    ``"record:8"`` / ``"record:8#"`` / ``"record:8!"`` (caller hangs up) / ``"record:8:text"``,
    ``"dial:busy"`` / ``"dial:completed:45"`` / ``"dial:completed:live"`` (talk until hung up,
    redirected or the conference ends), ``"hold:120"``, ``"pay:success"`` (or decline, star,
    hangup, timeout, error: how the next ``<Pay>`` ends), ``"sms:STOP"`` (a text this party sends
    when the call ends) and, first in an answer script, ``"human"`` / ``"machine"`` /
    ``"fax"`` / ``"unknown"`` (AMD cannot tell) / ``"busy"`` / ``"no-answer"`` / ``"failed"``."""
    raw = step
    step = step.strip()
    low = step.lower()
    if low in ("hangup", "h"):
        return Action("hangup", raw=raw)
    if low in ("wait", "", "timeout"):
        return Action("wait", raw=raw)
    if low.startswith("say:") or low.startswith("s:"):
        return Action("speech", text=step.split(":", 1)[1].strip(), raw=raw)
    if low.startswith("sms:"):
        body = step.split(":", 1)[1].strip()
        if not body:
            raise ValueError(f"empty text in script step {raw!r}")
        return Action("sms", text=body, raw=raw)
    if low.startswith("pay:"):
        outcome = low[4:].strip()
        if outcome not in PAY_OUTCOMES:
            raise ValueError(f"unknown pay outcome in script step {raw!r} "
                             f"(expected one of: {', '.join(PAY_OUTCOMES)})")
        return Action("pay", outcome=outcome, raw=raw)
    if low.startswith("hold:"):
        return Action("hold", seconds=float(low[5:]), raw=raw)
    if low.startswith("dial:"):
        parts = low.split(":")
        if parts[1] not in DIAL_OUTCOMES:
            raise ValueError(f"unknown dial outcome in script step {raw!r}")
        if len(parts) > 2 and parts[2] == "live":
            talk = math.inf
        else:
            talk = float(parts[2]) if len(parts) > 2 and parts[2] else 30.0
        return Action("dial", outcome=parts[1], seconds=talk, raw=raw)
    match = _RECORD.match(step)
    if match:
        key = match.group(2) or ""
        return Action("record", seconds=float(match.group(1)), text=match.group(3) or "",
                      key="hangup" if key == "!" else key, raw=raw)
    if low in ANSWERS:
        return Action("answer", outcome="human" if low == "answer" else low, raw=raw)
    if _DIGITS.match(step):
        return Action("digits", digits=step, raw=raw)
    raise ValueError(f"cannot parse caller script step {raw!r}")


def parse_script(script: str | Iterable[str] | None) -> list[Action]:
    if script is None:
        return []
    if isinstance(script, str):
        script = [s for s in script.split(",")] if script.strip() else []
    return [parse_action(s) for s in script]


def parse_reply(kind: str, line: str | None) -> Action:
    """A line typed at a prompt: digits, ``s:words``, empty = timeout, ``h`` = hang up (EOF
    too); at a Record, ``seconds[:transcript]`` and empty = silence. Raises ValueError."""
    if line is None:
        return Action("hangup", raw="EOF")
    line = line.strip()
    if line.lower() in ("h", "hangup"):
        return Action("hangup", raw=line)
    if not line:
        return Action("wait", raw=line)
    if kind == "record":
        seconds, _, text = line.partition(":")
        return parse_action(f"record:{seconds.strip()}" + (f":{text.strip()}" if text else ""))
    return parse_action(line)


@dataclass
class HoldPlan:
    """How long a scripted caller stays on hold: until told otherwise, or ``hold:N``, or
    ``hangup`` (after one pass of the hold music)."""

    hangup_after: float | None = None
    hangup_first: bool = False


class ScriptInput:
    """Answers the call's input points from a script, in order. ``dial:`` and ``hold:`` steps
    wait for the next Dial / Enqueue; an input point with nothing left hangs up. ``sms:``
    steps are set aside in ``texts`` (bodies, in order): the party sends them when the call
    ends, wherever they stand in the script."""

    interactive = False

    def __init__(self, script: str | Iterable[str] | None = None) -> None:
        steps = parse_script(script)
        self.texts = [s.text for s in steps if s.kind == "sms"]
        self.steps = deque(s for s in steps if s.kind != "sms")

    def _take_out_of_band(self, kind: str) -> Action | None:
        for i, step in enumerate(self.steps):
            if step.kind not in OUT_OF_BAND:
                return None
            if step.kind == kind:
                del self.steps[i]
                return step
        return None

    def answer(self) -> str:
        if self.steps and self.steps[0].kind == "answer":
            return self.steps.popleft().outcome
        return "human"

    def next_input(self, spec: dict[str, Any]) -> Action | None:
        for i, step in enumerate(self.steps):
            if step.kind not in OUT_OF_BAND:
                del self.steps[i]
                return step
        return None

    def gather(self, spec: dict[str, Any]) -> Action | None:
        return self.next_input(spec)

    def record(self, spec: dict[str, Any]) -> Action | None:
        return self.next_input(spec)

    def dial(self, spec: dict[str, Any]) -> Action | None:
        return self._take_out_of_band("dial")

    def pay(self, spec: dict[str, Any]) -> Action | None:
        return self.next_input(spec)

    def hold(self, spec: dict[str, Any]) -> HoldPlan:
        step = self._take_out_of_band("hold")
        if step is not None:
            return HoldPlan(hangup_after=step.seconds)
        if self.steps and self.steps[0].kind == "hangup":
            self.steps.popleft()
            return HoldPlan(hangup_first=True)
        return HoldPlan()


# --------------------------------------------------------------------------- control flow


@dataclass
class Fetch:
    """A TwiML request to make next: where, how, with which extra parameters."""

    url: str | None
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)
    kind: str = "action"
    twiml: str | None = None  # inline TwiML (Calls API ``Twiml``) instead of a URL
    after: list[Callable[[], None]] = field(default_factory=list)  # async callbacks to send


@dataclass
class Document:
    root: ElementTree.Element
    url: str  # base for relative URLs


class CallEnded(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, status: str = "completed", by: str = "app", answered: bool = True):
        super().__init__(status)
        self.status, self.by, self.answered = status, by, answered


class Redirected(Exception):  # noqa: N818
    def __init__(self, target: Fetch, reason: str = "api"):
        super().__init__(target.url)
        self.target, self.reason = target, reason


class BridgeRequested(Exception):  # noqa: N818
    def __init__(self, bridge: Bridge):
        super().__init__(bridge.dequeuer)
        self.bridge = bridge


class AppError(Exception):
    """The app's answer was unusable even after retry and fallback: the caller hears the
    application-error message and the call ends."""


class LimitExceeded(Exception):  # noqa: N818
    pass


@dataclass
class Redirect:
    url: str | None
    method: str = "POST"
    twiml: str | None = None
    reason: str = "api"  # api (Calls update) | dequeue (Queue member update)


@dataclass
class EndCall:
    status: str = "completed"
    by: str = "api"  # who hung up: api (REST) | client (a softphone user)


@dataclass
class Bridge:
    dequeuer: str
    url: str | None
    method: str
    talk: float


@dataclass
class LegControl:
    """A REST redirect or hang-up of a bridged child leg, handed to the parent that carries it."""

    leg: Call
    message: Redirect | EndCall


@dataclass
class RoomEnded:
    """A participant with endConferenceOnExit left: everyone's <Dial><Conference> ends."""

    room: str
    by: str


@dataclass
class Delivery:
    status: int | None
    body: str
    content_type: str
    error: str | None
    attempts: int
    url: str = ""
    method: str = "POST"
    token: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


def send_webhook(carrier: Carrier, url: str, method: str, params: dict[str, str]) -> Delivery:
    """Deliver one signed webhook as Twilio does, with the same idempotency token on every
    attempt. Retries follow the URL's connection overrides (``#rc=5&rp=5xx,ct,rt``: count and
    policy); without them, one retry on a failed connection only, as Twilio's default is. The
    fragment is never sent, nor signed."""
    retries, policy = connection_overrides(url)
    url = strip_fragment(url)
    method = method.upper()
    target, body = (with_query(url, params), None) if method == "GET" else (url, params)
    token = new_idempotency_token()
    headers = webhook_headers(carrier.auth_token, target, body, token)
    status, text, ctype, err, attempts = None, "", "", None, 0
    for _ in range(1 + retries):
        attempts += 1
        try:
            status, text, ctype = carrier.transport(target, body, headers)
            err = None
        except Exception as exc:  # noqa: BLE001 - any transport failure is a failed delivery
            status, text, ctype, err = None, "", "", f"{type(exc).__name__}: {exc}"
        if not _retry(status, err, policy):
            break
    return Delivery(status, text or "", ctype or "", err, attempts, url, method, token)


def connection_overrides(url: str) -> tuple[int, frozenset[str]]:
    """``(retry count, retry policy)`` from a webhook URL's fragment (Twilio: "Webhooks
    connection overrides"; rc 0-5, default 1; rp of ``4xx``, ``5xx``, ``ct``, ``rt``, ``all``,
    default ``ct``)."""
    from urllib.parse import parse_qs

    fragment = url.split("#", 1)[1] if "#" in url else ""
    values = parse_qs(fragment)
    try:
        retries = max(0, min(5, int(values.get("rc", ["1"])[0])))
    except ValueError:
        retries = 1
    policy = frozenset(p.strip() for v in values.get("rp", ["ct"]) for p in v.split(","))
    return retries, policy


def _retry(status: int | None, err: str | None, policy: frozenset[str]) -> bool:
    if err is not None:  # no answer at all: a failed connection or a timeout
        return bool(policy & {"ct", "rt", "all"})
    if status is not None and status >= 500:
        return bool(policy & {"5xx", "all"})
    if status is not None and status >= 400:
        return bool(policy & {"4xx", "all"})
    return False


# --------------------------------------------------------------------------- transcript


@dataclass
class CallTranscript:
    """What happened on a call, in order. ``events`` are dicts with a ``type`` and ``t`` (virtual
    seconds since the call started); ``errors`` must stay empty in a healthy run."""

    call_sid: str
    direction: str
    from_: str
    to: str
    parent_call_sid: str | None = None
    status: str = "queued"
    duration: int = 0
    answered_by: str | None = None
    ended_by: str | None = None
    application_error: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def said(self) -> list[str]:
        return [e["text"] for e in self.events if e["type"] == "say"]

    @property
    def webhooks(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == "webhook"]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_sid": self.call_sid, "direction": self.direction, "from": self.from_,
            "to": self.to, "parent_call_sid": self.parent_call_sid, "status": self.status,
            "duration": self.duration, "answered_by": self.answered_by,
            "ended_by": self.ended_by, "application_error": self.application_error,
            "said": self.said, "events": self.events, "errors": self.errors,
        }

    def format_text(self) -> str:
        lines = [f"call {self.call_sid} {self.direction} {mask(self.from_)} -> {mask(self.to)}"]
        lines += [f"  {describe(e)}" for e in self.events if describe(e)]
        lines.append(f"status {self.status}, {self.duration}s"
                     + (f", {len(self.errors)} error(s)" if self.errors else ""))
        return "\n".join(lines)


def describe(event: dict[str, Any]) -> str:
    """One human line per event (the CLI's live view and ``format_text``)."""
    t = f"[{event.get('t', 0):7.1f}s] "
    kind = event["type"]
    if kind == "say":
        tag = "/".join(x for x in (event.get("voice"), event.get("language")) if x)
        return f"{t}🔊 [{tag}] {event['text']}"
    if kind == "play":
        return f"{t}♪ {event.get('url') or 'digits ' + event.get('digits', '')}"
    if kind == "pause":
        return f"{t}… pause {event['length']}s"
    if kind == "gather":
        return f"{t}⌨ gather -> {event.get('outcome')} {event.get('result') or ''}".rstrip()
    if kind == "record":
        return f"{t}● record -> {event.get('outcome')} {event.get('duration', '')}".rstrip()
    if kind == "webhook":
        return (f"{t}→ {event['method']} {event['url']} [{event['kind']}] "
                f"{event.get('status') or event.get('error')}")
    if kind == "error":
        return f"{t}!! error {event.get('code')}: {event.get('message')}"
    rest = {k: v for k, v in event.items() if k not in ("type", "t", "whisper")}
    return f"{t}{kind} {rest}"


# --------------------------------------------------------------------------- the call


class Call:
    """One leg. ``run()`` drives it to the end and returns its transcript."""

    def __init__(self, carrier: Carrier, *, to: str, from_: str, direction: str,
                 url: str | None = None, method: str = "POST", twiml: str | None = None,
                 input: Any = None, sid: str, status_url: str | None = None,
                 status_events: Iterable[str] = ("completed",), status_method: str = "POST",
                 fallback_url: str | None = None, fallback_method: str = "POST",
                 parent_sid: str | None = None, forwarded_from: str | None = None,
                 caller_name: str | None = None, machine_detection: str | None = None,
                 async_amd: bool = False, amd_callback: str | None = None,
                 amd_callback_method: str = "POST",
                 machine_detection_timeout: float = amd.DEFAULT_TIMEOUT,
                 ring_timeout: float = 60.0, hold_pace: float = 0.0,
                 on_event: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.carrier, self.sid = carrier, sid
        self.to, self.from_, self.direction = to, from_, direction
        self.url, self.method, self.twiml = url, method.upper(), twiml
        self.input = input if input is not None else ScriptInput()
        self.status_url, self.status_method = status_url, status_method.upper()
        self.status_events = {e.strip().lower() for e in status_events}
        self.fallback_url, self.fallback_method = fallback_url, fallback_method.upper()
        self.parent_sid, self.forwarded_from, self.caller_name = (
            parent_sid, forwarded_from, caller_name)
        self.machine_detection, self.async_amd, self.amd_callback = (
            machine_detection, async_amd, amd_callback)
        self.amd_callback_method = amd_callback_method.upper()
        self.machine_detection_timeout = machine_detection_timeout
        self.amd_pending: tuple[float, amd.Verdict] | None = None  # async: (due time, verdict)
        self.ring_timeout, self.hold_pace, self.on_event = ring_timeout, hold_pace, on_event
        self.clock = VirtualClock()
        self.transcript = CallTranscript(sid, direction, from_, to, parent_sid)
        self.status = "queued"
        self.answered_at: float | None = None
        self.requests = 0
        self.sequence = 0
        self.queue_name: str | None = None
        self.enqueued_at = 0.0
        self.done = threading.Event()
        self._mail: deque[Any] = deque()
        self._mail_ready = threading.Condition()
        self.link: Call | None = None  # the parent carrying this child leg in a live bridge

    # ---- mailbox -------------------------------------------------------------------------

    def post(self, message: Any) -> None:
        with self._mail_ready:  # the link is read under the lock ``link_to`` sets it under
            link = self.link
            if link is None:
                self._mail.append(message)
                self._mail_ready.notify_all()
                return
        if link._forward(self, message):
            return
        with self._mail_ready:
            self._mail.append(message)
            self._mail_ready.notify_all()

    def link_to(self, parent: Call) -> None:
        """Bridge this child leg into ``parent``'s thread: control already waiting here (a
        softphone that hung up at once) goes to the parent too, none is lost in between."""
        with self._mail_ready:
            self.link = parent
            pending = list(self._mail)
            self._mail.clear()
        for message in pending:
            parent._forward(self, message)

    def _forward(self, leg: Call, message: Any) -> bool:
        """A bridged child leg has no thread of its own: its parent acts on its control."""
        with self._mail_ready:
            if leg.link is not self:
                return False
            self._mail.append(LegControl(leg, message))
            self._mail_ready.notify_all()
            return True

    def unlink(self, leg: Call) -> None:
        with self._mail_ready:
            leg.link = None

    def wait_mail(self, timeout: float) -> Any:
        """Wait (really, on the mailbox condition) up to ``timeout`` seconds for outside
        control; return the message, or None on timeout. Live talks and rooms wait here."""
        with self._mail_ready:
            if not self._mail:
                self._mail_ready.wait_for(lambda: bool(self._mail), timeout)
            return self._mail.popleft() if self._mail else None

    def idle(self, seconds: float) -> None:
        """Wait (really) up to ``seconds`` for outside control, running deferred carrier work
        first: the hold loop's only real-time pause, so humans and tests can act."""
        self.carrier.run_pending_if_deferred()
        if seconds <= 0:
            return
        with self._mail_ready:
            if not self._mail:
                self._mail_ready.wait(seconds)

    def checkpoint(self, in_queue: bool = False) -> None:
        """Between verbs: enforce the safety limits, post a due AMD verdict and obey outside
        control."""
        self.post_amd_verdict()
        limits = self.carrier.limits
        if self.clock.now > limits.max_call_seconds:
            raise LimitExceeded(f"call exceeded {limits.max_call_seconds:.0f} virtual seconds")
        while True:
            with self._mail_ready:
                if not self._mail:
                    return
                message = self._mail.popleft()
            self.obey(message)
            if isinstance(message, Bridge) and in_queue:
                raise BridgeRequested(message)
            # LegControl / RoomEnded outside a bridge or room: stale, nothing to do

    def obey(self, message: Any) -> None:
        """A REST hang-up or redirect ends what the call is doing (raises); else nothing."""
        if isinstance(message, EndCall):
            raise CallEnded(message.status, by=message.by,
                            answered=self.answered_at is not None)
        if isinstance(message, Redirect):
            raise Redirected(Fetch(message.url, message.method, kind="redirect",
                                   twiml=message.twiml), reason=message.reason)

    # ---- transcript ----------------------------------------------------------------------

    def emit(self, event_type: str, /, **data: Any) -> dict[str, Any]:
        event = {"type": event_type, "t": round(self.clock.now, 2), **data}
        self.transcript.events.append(event)
        if self.on_event is not None:
            self.on_event(event)
        return event

    def error(self, code: int | str, message: str, url: str | None = None,
              fatal: bool = False) -> None:
        url = strip_fragment(url) if url else url
        event = self.emit("error", code=code, message=message, url=url, fatal=fatal)
        self.transcript.errors.append(event)
        log.warning("call %s error %s: %s (%s)", self.sid, code, mask_text(message),
                    mask_text(url or ""))

    # ---- webhooks ------------------------------------------------------------------------

    def voice_params(self, status: str | None = None) -> dict[str, str]:
        """The parameters Twilio sends on every voice request (empty hints included)."""
        p = {
            "AccountSid": self.carrier.account_sid, "ApiVersion": API_VERSION,
            "CallSid": self.sid, "CallStatus": status or self.status,
            "Direction": self.direction, "From": self.from_, "To": self.to,
            "Caller": self.from_, "Called": self.to,
        }
        for prefix, number in (("From", self.from_), ("To", self.to),
                               ("Caller", self.from_), ("Called", self.to)):
            p[f"{prefix}Country"] = country_of(number)
            for hint in ("City", "State", "Zip"):
                p[f"{prefix}{hint}"] = ""
        if self.parent_sid:
            p["ParentCallSid"] = self.parent_sid
        if self.forwarded_from:
            p["ForwardedFrom"] = self.forwarded_from
        if self.caller_name:
            p["CallerName"] = self.caller_name
        if self.transcript.answered_by and not self.async_amd:
            p["AnsweredBy"] = self.transcript.answered_by
        return p

    def deliver(self, url: str, method: str, params: dict[str, str], kind: str,
                count: bool = True) -> Delivery:
        """One webhook for this call, counted against the per-call safety limit."""
        if count:
            self.requests += 1
            if self.requests > self.carrier.limits.max_requests:
                raise LimitExceeded(f"more than {self.carrier.limits.max_requests} webhooks")
        d = send_webhook(self.carrier, url, method, params)
        log.info("call %s %s %s [%s] -> %s", self.sid, d.method, mask_text(d.url), kind,
                 d.status or d.error)
        self.emit("webhook", kind=kind, url=d.url, method=d.method, params=dict(params),
                  status=d.status, content_type=d.content_type, body=d.body,
                  attempts=d.attempts, idempotency_token=d.token,
                  **({"error": d.error} if d.error else {}))
        return d

    def notify(self, url: str | None, method: str, params: dict[str, str], kind: str,
               count: bool = True) -> None:
        """A callback whose answer is ignored (status, transcription, a late action)."""
        if not url:
            return
        d = self.deliver(url, method, params, kind, count=count)
        if not d.ok:
            self.error(11200, f"HTTP retrieval failure ({kind}): {d.status or d.error}", url)

    def fetch(self, target: Fetch) -> Document:
        """Get the next TwiML document, going to the fallback URL if the answer is unusable."""
        base = target.url or self.url or self.carrier.app_url
        if target.twiml is not None:
            root, problem = parse_twiml(target.twiml, "text/xml")
            if problem:
                self.error(problem[0], problem[1], None, fatal=True)
                raise AppError(problem[1])
            return Document(root, base)
        params = {**self.voice_params(), **target.params}
        delivery = self.deliver(target.url, target.method, params, target.kind)
        for send in target.after:
            send()
        root, problem = check_delivery(delivery)
        if problem is None:
            return Document(root, target.url)
        self.error(problem[0], problem[1], target.url)
        if self.fallback_url and target.kind != "fallback":
            fb_params = {**params, "ErrorCode": str(problem[0]),
                         "ErrorUrl": strip_fragment(target.url)}
            delivery = self.deliver(self.fallback_url, self.fallback_method, fb_params,
                                    "fallback")
            root, problem = check_delivery(delivery)
            if problem is None:
                return Document(root, self.fallback_url)
            self.error(problem[0], problem[1], self.fallback_url)
        self.transcript.errors[-1]["fatal"] = True  # this one reached the caller
        raise AppError(problem[1])

    def send_status(self, event: str, status: str) -> None:
        """A call-progress status callback, if this event was asked for (with ``AnsweredBy``
        once AMD has a verdict, async too)."""
        if not self.status_url or event not in self.status_events:
            return
        params = self.voice_params(status)
        if self.transcript.answered_by:
            params["AnsweredBy"] = self.transcript.answered_by
        params.update({
            "CallbackSource": "call-progress-events", "Timestamp": self.clock.timestamp(),
            "SequenceNumber": str(self.sequence),
        })
        if event == "completed":
            params["CallDuration"] = str(self.transcript.duration)
            params["Duration"] = str(-(-self.transcript.duration // 60))
        self.sequence += 1
        self.notify(self.status_url, self.status_method, params, "status", count=False)

    # ---- lifecycle -----------------------------------------------------------------------

    def answer(self) -> None:
        if self.answered_at is None:
            self.answered_at = self.clock.now
            self.status = "in-progress"

    def advance(self, seconds: float) -> None:
        """Pass ``seconds`` of virtual time on the line; an async AMD verdict that falls due
        meanwhile is posted at its own moment, not after the verb."""
        pending = self.amd_pending
        if pending is not None and self.clock.now + seconds >= pending[0]:
            spent = max(0.0, pending[0] - self.clock.now)
            self.clock.advance(spent)
            self.post_amd_verdict()
            seconds -= spent
        self.clock.advance(seconds)

    def _ring_outbound(self) -> None:
        """Outbound legs: initiated, ringing, then the callee's answer script decides (a
        registered softphone's desk, see ``softphones.ring_alone``). With
        AMD the verdict is known before the TwiML is fetched (sync: the call waits for it) or
        falls due while the TwiML runs (async, ``post_amd_verdict``)."""
        self.status = "initiated"
        self.send_status("initiated", "initiated")
        self.status = "ringing"
        self.send_status("ringing", "ringing")
        disposition = self.input.answer()
        softphone = self.carrier.clients.rings(self.to)
        if softphone:  # a registered browser: the desk decides, in real time
            from .softphones import ring_alone

            disposition = ring_alone(self)
        if disposition in NOT_ANSWERED:
            if not softphone:
                self.clock.advance({"busy": 3.0, "failed": 1.0}.get(disposition,
                                                                    self.ring_timeout))
            raise CallEnded(disposition, by="callee", answered=False)
        if not softphone:
            self.clock.advance(4.0)  # a few rings
        self.checkpoint()
        self.answer()
        verdict = None
        if self.machine_detection:
            mistaken = disposition == "human" and self.carrier.amd_mistakes_a_person()
            verdict = amd.detect(disposition, self.machine_detection,
                                 self.machine_detection_timeout, mistaken)
            if self.async_amd:
                self.amd_pending = (self.clock.now + verdict.seconds, verdict)
            else:
                self.clock.advance(verdict.seconds)
                self.transcript.answered_by = verdict.answered_by
        self.emit("answer", answered_by=self.transcript.answered_by, callee=disposition,
                  **({"amd_false_positive": True} if verdict and verdict.false_positive
                     else {}))
        self.send_status("answered", "in-progress")

    def post_amd_verdict(self, ending: bool = False) -> None:
        """Async AMD: once the virtual clock reaches the verdict, post it to
        ``AsyncAmdStatusCallback`` (AccountSid, CallSid, AnsweredBy, MachineDetectionDuration
        in ms). A call ``ending`` before then gets ``unknown`` after the time it lasted."""
        pending = self.amd_pending
        if pending is None or (not ending and self.clock.now < pending[0]):
            return
        self.amd_pending = None
        verdict = pending[1]
        if self.clock.now < pending[0]:
            elapsed = self.clock.now - (self.answered_at or 0.0)
            verdict = amd.Verdict("unknown", elapsed, verdict.false_positive)
        self.transcript.answered_by = verdict.answered_by
        self.emit("amd", answered_by=verdict.answered_by, duration_ms=verdict.millis)
        if self.amd_callback:
            params = {"AccountSid": self.carrier.account_sid, "CallSid": self.sid,
                      "AnsweredBy": verdict.answered_by,
                      "MachineDetectionDuration": verdict.millis}
            self.notify(self.amd_callback, self.amd_callback_method, params, "amd",
                        count=False)

    def run(self, start: Fetch | None = None) -> CallTranscript:
        """Drive the call to its end. ``start``: a child leg leaving a bridge (REST redirect)
        carries on in its own thread from that TwiML."""
        from .twiml import Follower

        log.info("call %s %s %s -> %s", self.sid, self.direction, mask(self.from_),
                 mask(self.to))
        follower = Follower(self)
        ended_by, status = "app", "completed"
        try:
            if start is not None:
                self.emit("redirect", url=start.url, reason="api")
                target: Fetch | None = start
            elif self.direction == "outbound-api":
                self._ring_outbound()
                self.checkpoint()
                target = Fetch(self.url, self.method, kind="voice", twiml=self.twiml)
            else:
                self.status = "ringing"
                target = Fetch(self.url, self.method, kind="voice", twiml=self.twiml)
            while target is not None:
                try:
                    document = self.fetch(target)
                    target = follower.run(document)
                except Redirected as r:
                    self.emit("redirect", url=r.target.url, reason=r.reason)
                    target = r.target
            ended_by = "end-of-document"
        except CallEnded as end:
            status, ended_by = end.status, end.by
            if not end.answered:
                self.answered_at = None
        except AppError:
            self.answer()
            self.transcript.application_error = True
            self.emit("say", text=APP_ERROR_TEXT, voice="", language="en-US", system=True)
            self.advance(3.0)
            ended_by = "application-error"
        except LimitExceeded as exc:
            self.error("limit", str(exc), fatal=True)
            ended_by = "limit"
        except KeyboardInterrupt:  # Ctrl-C at the terminal: the caller hangs up
            ended_by = "caller"
            raise
        finally:
            self._finish(status, ended_by)
        return self.transcript

    def run_whisper(self, url: str, method: str) -> bool:
        """The callee side of a <Dial><Number url=...>: run the whisper TwiML on this leg.
        The parties are bridged when it ends normally, not when it hangs up."""
        from .twiml import Follower

        follower = Follower(self)
        self.answer()
        target: Fetch | None = Fetch(url, method.upper(), kind="whisper")
        try:
            while target is not None:
                target = follower.run(self.fetch(target))
        except CallEnded as end:
            if end.by == "end-of-document":
                return True
            self._finish(end.status, end.by, callback=False)
            return False
        except (AppError, LimitExceeded, Redirected) as exc:
            self._finish("completed", type(exc).__name__, callback=False)
            return False
        return True

    def finish_leg(self, talk: int) -> None:
        """A bridged child leg ends with its parent's talk time."""
        self._finish("completed", "bridge-ended", callback=False)

    def _finish(self, status: str, ended_by: str, callback: bool = True) -> None:
        self.post_amd_verdict(ending=True)
        t = self.transcript
        t.status, t.ended_by = status, ended_by
        t.duration = 0 if self.answered_at is None else self.clock.elapsed(self.answered_at)
        self.status = status
        self.emit("hangup", by=ended_by, status=status, duration=t.duration)
        if callback:
            self.send_status("completed", status)
        self.carrier.call_finished(self)
        log.info("call %s ended %s by %s after %ss", self.sid, status, ended_by, t.duration)
        self.done.set()


# --------------------------------------------------------------------------- checking answers


def check_delivery(d: Delivery) -> tuple[ElementTree.Element | None, tuple[int, str] | None]:
    """Is this answer usable TwiML? Returns (root, None) or (None, (error code, message))."""
    if d.error or d.status is None:
        return None, (11205, f"HTTP connection failure: {d.error}")
    if not 200 <= d.status < 300:
        return None, (11200, f"HTTP retrieval failure: status {d.status}")
    return parse_twiml(d.body, d.content_type)


def parse_twiml(body: str, content_type: str):
    from .twiml import validate

    media = (content_type or "").split(";")[0].strip().lower()
    if media not in XML_TYPES:
        return None, (12300, f"Invalid Content-Type: {content_type or 'none'}")
    try:
        root = ElementTree.fromstring(body.strip().encode())
    except ElementTree.ParseError as exc:
        return None, (12100, f"Document parse failure: {exc}")
    if root.tag != "Response":
        return None, (12100, f"Document parse failure: root is <{root.tag}>, not <Response>")
    problem = validate(root)
    if problem:
        return None, (12200, f"Schema validation: {problem}")
    return root, None
