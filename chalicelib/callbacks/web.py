"""``POST /callbacks`` from a web form: validate, apply the abuse controls, create the request,
text a confirmation, and describe requests for ``GET /callbacks/{id}``.

Plain values in (the raw body and its content type, the client's IP, ``now``, settings), plain
dicts out; the Chalice routes in ``callbacks.routes`` map the exceptions to HTTP:
``Invalid`` 400 ``{error, field, message}``, ``Duplicate`` 409, ``RateLimited`` 429 and
``OriginRefused`` 403.

Abuse controls, cheapest first: the body size, the ``Origin`` of a browser request, a request
count per client IP (every POST counts, valid or not), then the number itself (real, callable,
in an allowed country, not opted out), a request count per number, and finally one open request
per number and queue (the storage transaction enforces that one).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from chalicelib.api_input import json_object
from chalicelib.callbacks import slots
from chalicelib.callbacks.model import (
    CANCELLED,
    QUEUED,
    SCHEDULED,
    CallbackRequest,
    looks_like_callback_id,
)
from chalicelib.callbacks.numbers import NumberRefused, normalise_number
from chalicelib.callbacks.requests import (
    AlreadyInLine,
    UnknownQueue,
    cancel_request,
    request_callback,
)
from chalicelib.compliance.gate import ComplianceGate
from chalicelib.compliance.rules import OPTED_OUT, VOICE
from chalicelib.hours.schedule import zone_of
from chalicelib.logs import mask_number
from chalicelib.messaging.keywords import CANCEL_CALLBACK_WORD, CANCEL_CALLBACK_WORD_ZH
from chalicelib.messaging.outbound import send_sms
from chalicelib.prompts import render_prompt
from chalicelib.routing.estimates import estimated_wait
from chalicelib.routing.model import AgentState
from chalicelib.settings import Settings
from chalicelib.store import callbacks as store
from chalicelib.store import directory, ratelimits, routing

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4096
LANGUAGES = ("en-US", "zh-CN")
FIELDS = frozenset({"phone", "name", "topic", "queue", "preferred_time", "language", "hotline"})
_QUEUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME = 80
MAX_TOPIC = 40


class Invalid(ValueError):
    """Bad input; ``field`` names the form field, ``code`` says what is wrong."""

    def __init__(self, field: str, code: str, message: str):
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message

    def body(self) -> dict:
        return {"error": self.code, "field": self.field, "message": self.message}


class Duplicate(Exception):
    def __init__(self, existing_id: str):
        super().__init__(existing_id)
        self.existing_id = existing_id


class RateLimited(Exception):
    def __init__(self, scope: str, retry_after: int):
        super().__init__(scope)
        self.scope = scope
        self.retry_after = retry_after


class OriginRefused(Exception):
    """A browser on a page that is not allowed to embed the widget."""


class OnTheLine(Exception):
    """The number is waiting in this queue's line on a call right now: that call keeps its
    place, no callback request is made (409)."""


# ---- the origin check ------------------------------------------------------------------------


def own_origin(settings: Settings) -> str:
    parts = urlsplit(settings.public_base_url)
    return f"{parts.scheme}://{parts.netloc}"


def check_origin(origin: str | None, settings: Settings) -> str | None:
    """The origin to echo in CORS headers (None when the request carries none), or
    ``OriginRefused``. The API's own origin is always allowed (the preview page), ``*`` in
    ``CALLBACK_ALLOWED_ORIGINS`` allows every page."""
    if origin is None:
        return None
    origin = origin.strip().rstrip("/")
    allowed = set(settings.callback_allowed_origins) | {own_origin(settings)}
    if origin in allowed or ("*" in allowed and origin != "null"):
        return origin
    raise OriginRefused(origin)


# ---- parsing ---------------------------------------------------------------------------------


def parse_form(raw: bytes | None, content_type: str | None) -> dict[str, str]:
    """A JSON object or a urlencoded form as ``{field: text}``; ``Invalid`` for anything else."""
    raw = raw or b""
    if len(raw) > MAX_BODY_BYTES:
        raise Invalid("body", "too_large", f"The request is larger than {MAX_BODY_BYTES} bytes.")
    kind = (content_type or "").split(";")[0].strip().lower()
    try:
        if kind == "application/x-www-form-urlencoded":
            data = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        else:  # the APIs' one JSON parser: depth-safe, an object or nothing
            data = json_object(raw, limit=MAX_BODY_BYTES, optional=True)
    except (UnicodeDecodeError, ValueError) as exc:  # InvalidRequest is a ValueError
        raise Invalid("body", "malformed",
                      "The request body cannot be read: send one JSON object or a form.") from exc
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise Invalid(unknown[0], "unknown_field", f"'{unknown[0]}' is not a field of this form.")
    form = {}
    for key, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise Invalid(key, "malformed", f"'{key}' must be text.")
        form[key] = value.strip()
    return form


def _label(form: dict, key: str, limit: int) -> str | None:
    value = _CONTROL.sub("", form.get(key) or "").strip()
    if len(value) > limit:
        raise Invalid(key, "too_long", f"At most {limit} characters.")
    return value or None


# ---- submitting ------------------------------------------------------------------------------


def submit(form: dict[str, str], *, client_ip: str, now: datetime, settings: Settings,
           gate: ComplianceGate) -> dict:
    """Validate a callback form and create the request; the 202 body, or an exception."""
    retry = ratelimits.hit("callbacks-ip", client_ip or "unknown", settings.callback_rate_per_ip,
                           settings.callback_rate_window_seconds, now)
    if retry is not None:
        log.warning("callback requests from one client IP over the limit")
        raise RateLimited("ip", retry)

    hotline = _hotline(form, settings)
    language = form.get("language") or hotline.default_language or "en-US"
    if language not in LANGUAGES:
        raise Invalid("language", "unsupported_language",
                      f"Choose one of: {', '.join(LANGUAGES)}.")
    if not form.get("phone"):  # the one field every form needs: said first
        raise Invalid("phone", "missing", "Enter the number we should call.")
    queue, topic = _queue(form, hotline)
    try:
        phone = normalise_number(form["phone"], hotline.default_region or "US",
                                 list(hotline.allowed_regions or []))
    except NumberRefused as exc:
        raise Invalid("phone", exc.code, exc.message) from None
    blocked = gate.blocked(phone, VOICE)
    if OPTED_OUT in blocked:
        raise Invalid("phone", "opted_out", "This number asked us not to contact it. Text START "
                                            "to our number to allow calls again.")
    if blocked:
        raise Invalid("phone", "do_not_call", "This number is on our do-not-call list.")
    name = _label(form, "name", MAX_NAME)
    hours = queue.hours or {}
    try:
        preferred = slots.check_preferred(slots.parse_preferred(form.get("preferred_time"), hours),
                                          hours, now, settings.callback_max_days_ahead)
    except slots.SlotRefused as exc:
        raise Invalid("preferred_time", exc.code, exc.message) from None

    retry = ratelimits.hit("callbacks-number", phone, settings.callback_rate_per_number,
                           settings.callback_rate_window_seconds, now)
    if retry is not None:
        log.warning("callback requests for %s over the limit", mask_number(phone))
        raise RateLimited("number", retry)
    try:
        callback_id, created = request_callback(
            hotline=hotline.number, queue_id=queue.queue_id, phone=phone, name=name,
            language=language, kind="web", now=now, preferred_at=preferred, topic=topic)
    except UnknownQueue:
        raise Invalid("queue", "unknown_queue", "There is no such queue.") from None
    except AlreadyInLine:
        raise OnTheLine() from None
    if not created:
        raise Duplicate(callback_id)
    req = store.get_request(callback_id)
    if req is None:  # stored a moment ago: only a vanished table could do this
        raise NotFound(callback_id)
    view = describe(req, now, settings)
    send_confirmation(req, now, settings, gate, view["estimated_wait_seconds"])
    return view


def _hotline(form: dict, settings: Settings):
    number = form.get("hotline") or settings.callback_default_hotline
    if not number:
        raise Invalid("hotline", "missing", "Name the hotline (no default is configured).")
    hotline = directory.get_hotline(re.sub(r"[\s().-]", "", number))
    if hotline is None:
        raise Invalid("hotline", "unknown_hotline", "There is no such hotline.")
    return hotline


def _queue(form: dict, hotline):
    """The queue that will call back, from ``queue`` or the hotline's ``callback_topics``."""
    topics = dict(hotline.callback_topics or {})
    topic = _label(form, "topic", MAX_TOPIC)
    queue_id = form.get("queue")
    if topic is not None and topics and topic not in topics:
        raise Invalid("topic", "unknown_topic", f"Choose one of: {', '.join(sorted(topics))}.")
    if not queue_id:
        if topic is None and topics:  # the form offers topics: the visitor has to pick one
            raise Invalid("topic", "missing",
                          f"Choose a topic ({', '.join(sorted(topics))}) or name a queue.")
        if topic is None:
            raise Invalid("queue", "missing", "Name the queue that should call back.")
        if topic not in topics:
            raise Invalid("topic", "unknown_topic", "This hotline has no callback topics.")
        queue_id = topics[topic]
    if not _QUEUE_ID.fullmatch(queue_id):
        raise Invalid("queue", "unknown_queue", "There is no such queue.")
    queue = routing.get_queue(queue_id)
    if queue is None:
        raise Invalid("queue", "unknown_queue", "There is no such queue.")
    return queue, topic


# ---- describing ------------------------------------------------------------------------------


def urls(callback_id: str, settings: Settings) -> dict:
    url = f"{settings.public_base_url}/callbacks/{callback_id}"
    return {"status_url": url, "cancel_url": url}


def describe(req: CallbackRequest, now: datetime, settings: Settings, *,
             history: bool = False) -> dict:
    """What the customer may see of a request: status, place in line or time, never the full
    number. ``history`` adds the outcomes (``GET /callbacks/{id}``)."""
    position = wait = None
    if req.status == QUEUED and req.entry_key:
        position = routing.position_in_line(req.queue_id, req.entry_key)
        wait = _estimated_wait(req.queue_id, position)
    view = {
        "id": req.callback_id,
        "status": req.status,
        "kind": req.kind,
        "queue": req.queue_id,
        "topic": req.topic,
        "language": req.language,
        "phone": mask_number(req.phone),
        "requested_at": req.requested_at.isoformat(),
        "position": position,
        "estimated_wait_seconds": wait,
        "scheduled_for": req.due_at.isoformat() if req.status == SCHEDULED and req.due_at
        else None,
        **urls(req.callback_id, settings),
    }
    if history:
        view["attempts"] = int(req.attempts or 0)
        view["history"] = list(req.history or [])
    return view


def _estimated_wait(queue_id: str, position: int) -> int | None:
    agents = routing.queue_agents(queue_id)
    staffed = sum(a.state not in (AgentState.OFFLINE, AgentState.AWAY) for a in agents)
    free = sum(a.state is AgentState.AVAILABLE for a in agents)
    return estimated_wait(position, staffed, routing.recent_handle_times(queue_id),
                          free_agents=free)


# ---- the confirmation text -------------------------------------------------------------------


def send_confirmation(req: CallbackRequest, now: datetime, settings: Settings,
                      gate: ComplianceGate,
                      estimated_wait_seconds: int | None = None) -> str | None:
    """Text the customer when we will call and how to cancel (reply ``CANCEL CALL`` or open the
    status link), once per request whatever retries happen; the message sid or None."""
    at = None
    if req.status == SCHEDULED and req.due_at:
        queue = routing.get_queue(req.queue_id)
        at = req.due_at.astimezone(zone_of(queue.hours if queue else None))
    minutes = max(1, round(estimated_wait_seconds / 60)) if estimated_wait_seconds else None
    text, _, _ = render_prompt(
        "callback_confirmation", req.language,
        at=at, minutes=minutes, status_url=urls(req.callback_id, settings)["status_url"],
        cancel_word=CANCEL_CALLBACK_WORD_ZH if req.language == "zh-CN" else CANCEL_CALLBACK_WORD,
    )
    return send_sms(key=f"callback-confirmation:{req.callback_id}", to=req.phone,
                    sender=req.hotline, body=text, template="callback_confirmation",
                    call_sid=None, settings=settings, now=now, gate=gate)


# ---- status and cancel -----------------------------------------------------------------------


class NotFound(LookupError):
    pass


class CannotCancel(Exception):
    """Too late: the customer is talking to an agent, or the request is over."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def _find(callback_id: str, now: datetime) -> CallbackRequest:
    req = store.get_request(callback_id) if looks_like_callback_id(callback_id) else None
    if req is None or (req.expires is not None and req.expires <= now):
        raise NotFound(callback_id)  # (TTL deletion lags: an expired one is gone already)
    return req


def status(callback_id: str, now: datetime, settings: Settings) -> dict:
    return describe(_find(callback_id, now), now, settings, history=True)


def cancel(callback_id: str, now: datetime, settings: Settings) -> dict:
    """Cancel a request (idempotent: a cancelled one stays cancelled); ``CannotCancel`` once an
    agent is connected or the request is completed or failed."""
    _find(callback_id, now)
    result = cancel_request(callback_id, now, "cancelled on the web")
    if result is None:
        raise NotFound(callback_id)
    if result != CANCELLED:
        raise CannotCancel(result)
    req = store.get_request(callback_id)
    if req is None:
        raise NotFound(callback_id)
    return describe(req, now, settings, history=True)
