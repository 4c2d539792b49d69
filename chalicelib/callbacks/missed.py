"""Missed calls: callers we did not serve, merged per number, and what the hotline does about it.

A miss is recorded with one ``reason``, where the code that knows it happened calls
``record_missed_call``:

- ``voicemail``: the flow saved a voicemail (``ivr.service``, the ``SaveVoicemail`` effect);
- ``after_hours``: the flow took the *closed* branch of an *hours* node (``ivr.service``, the
  ``HoursClosed`` effect), recorded when it happens rather than at the end of the call, so the
  text can reach the caller while they still remember calling;
- ``abandoned``: the caller hung up while waiting in a queue (``routing.service.caller_gone``);
- ``callback_failed``: a callback request's last attempt failed (the dispatcher).

Misses from one number to one hotline merge into one open record (count, first and last time,
reasons, call sids) until someone resolves it; one call is one miss, however many reasons it
collects (closed, then a voicemail). Storage and its race-safety live in ``store.missed``.

Follow-up, by the hotline's policy (``Hotline.missed_call_*``), once per newly missed call:

- an automatic callback request (``callbacks.requests.request_callback``, kind ``missed``) in
  ``missed_call_queue`` (or the queue the caller left), if the number is one we call back;
- a "we missed you" text (``templates/<language>/missed_call.j2``), at most one per number per
  ``missed_call_sms_window_hours``: the window is claimed by a conditional write, so concurrent
  misses send one text. ``messaging.outbound.send_sms`` asks the compliance gate itself.

A failed callback gets neither: the dispatcher sends its own apology, and a new automatic
callback would only fail again. Callers with no number to call back (anonymous, ``client:``,
Twilio's placeholder numbers) are not recorded at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import unquote

from chalicelib.api_errors import Conflict, InvalidRequest, NotFound
from chalicelib.api_input import json_object, query_int, query_time
from chalicelib.callbacks.missed_facts import follow_up_fact, missed_fact
from chalicelib.callbacks.model import MissedCall
from chalicelib.callbacks.numbers import NumberRefused, callable_caller, normalise_number
from chalicelib.callbacks.requests import AlreadyInLine, request_callback
from chalicelib.compliance.gate import ComplianceGate
from chalicelib.compliance.rules import VOICE
from chalicelib.facts import Fact
from chalicelib.logs import mask_number, ref
from chalicelib.messaging.outbound import send_sms
from chalicelib.prompts import render_prompt
from chalicelib.settings import Settings
from chalicelib.store import directory, facts
from chalicelib.store import missed as store
from chalicelib.store.hotline_zone import hotline_zone

log = logging.getLogger(__name__)

REASONS = ("abandoned", "after_hours", "voicemail", "callback_failed")
NO_FOLLOW_UP = frozenset({"callback_failed"})
TEMPLATE = "missed_call"
MAX_LIST = 200
NOTE_MAX = 500




# ---- recording a miss ------------------------------------------------------------------------


def record_missed_call(
    *,
    hotline: str,
    caller: str,
    reason: str,
    call_sid: str | None,
    language: str | None,
    queue_id: str | None,
    now: datetime,
    settings: Settings,
    gate: ComplianceGate,
) -> None:
    """Merge this miss into the number's open record and apply the hotline's follow-up policy
    (a text goes through the compliance ``gate``).

    Safe to call from concurrent Lambdas for the same number; safe to call twice for one call
    (the second counts nothing and follows up nothing).
    """
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {REASONS}, not {reason!r}")
    line = directory.get_hotline(hotline)
    if line is None:
        log.warning("missed call to unknown hotline %s not recorded", mask_number(hotline))
        return
    number = callable_caller(caller, line.default_region or "US")
    if number is None:
        log.info("missed call (%s) from %s: no number to call back, not recorded", reason,
                 mask_number(caller))
        return
    merge = store.merge_miss(
        hotline=line.number, caller=number, reason=reason, call_sid=call_sid,
        language=language, queue_id=queue_id, now=now,
        retention_days=settings.call_retention_days,
    )
    log.info("missed call (%s) from %s to %s: %s miss %d", reason, mask_number(number),
             mask_number(line.number), "new" if merge.new_call else "same call,",
             merge.record.miss_count)
    if merge.new_call:
        _record_fact(lambda zone: missed_fact(merge.record, reason, call_sid, queue_id, now,
                                              zone), line.number)
    if not merge.new_call or reason in NO_FOLLOW_UP:
        return
    language = language or merge.record.language or line.default_language
    callback_id = None
    if line.missed_call_callback:
        callback_id = _request_callback(line, number, language, queue_id, now, gate)
    texted = False
    if line.missed_call_sms:
        texted = _send_text(line, number, reason, callback_id is not None, language, call_sid,
                            now, settings, gate)
    if callback_id is not None or texted:
        _record_fact(lambda zone: follow_up_fact(merge.record, now, zone), line.number)


def _record_fact(build: Callable[[str], Fact], hotline: str) -> None:
    """Record a fact (``missed_facts``) in the hotline's zone, right after the change it is
    about: the merge is one UpdateItem and the follow-ups their own writes, so there is no
    transaction to join. A failure is logged: a report figure is never worth the follow-up."""
    try:
        facts.record(build(hotline_zone(hotline)))
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("missed call to %s: fact not recorded", mask_number(hotline))


def _request_callback(line, number: str, language: str | None, queue_id: str | None,
                      now: datetime, gate: ComplianceGate) -> str | None:
    """An automatic callback request; its id, or None when the policy cannot apply."""
    queue = line.missed_call_queue or queue_id
    if not queue:
        log.warning("hotline %s calls back missed calls but names no missed_call_queue",
                    mask_number(line.number))
        return None
    try:  # a call we pay for: the hotline's allowed countries apply, as for web requests
        normalise_number(number, line.default_region or "US", line.allowed_regions or ())
    except NumberRefused as exc:
        log.info("no callback for missed call from %s: %s", mask_number(number), exc.code)
        return None
    blocked = gate.blocked(number, VOICE)
    if blocked:  # it asked us not to: no automatic call, not even one queued
        log.info("no callback for missed call from %s: %s", mask_number(number),
                 ", ".join(blocked))
        return None
    customer = directory.get_customer(number) or {}
    try:
        callback_id, created = request_callback(
            hotline=line.number, queue_id=queue, phone=number, name=customer.get("name"),
            language=language, kind="missed", now=now,
        )
    except AlreadyInLine:
        log.info("missed call from %s: on the line in %s already; no callback",
                 mask_number(number), queue)
        return None
    except Exception:  # noqa: BLE001 - the text (and the record) must still happen
        log.exception("callback request for missed call from %s failed", mask_number(number))
        return None
    store.note_follow_up(line.number, number, callback_id=callback_id)
    log.info("missed call from %s: callback %s (%s)", mask_number(number), ref(callback_id),
             "new" if created else "already requested")
    return callback_id


def _send_text(line, number: str, reason: str, callback: bool, language: str | None,
               call_sid: str | None, now: datetime, settings: Settings,
               gate: ComplianceGate) -> bool:
    """Text the caller if the window allows; True when a text went out."""
    window = timedelta(hours=int(line.missed_call_sms_window_hours or 0))
    if not store.claim_sms_window(line.number, number, now, window):
        log.info("missed call from %s: texted within the last %s, no text", mask_number(number),
                 window)
        return False
    body, _, _ = render_prompt(TEMPLATE, language, hotline_name=line.name, callback=callback,
                               reason=reason)
    key = f"missed:{store.contact_key(line.number, number)}:{now:%Y%m%dT%H%M%S}"
    sid = send_sms(key=key, to=number, sender=line.number, body=body, template=TEMPLATE,
                   call_sid=call_sid, settings=settings, now=now, gate=gate)
    if sid:
        store.note_follow_up(line.number, number, sms_sid=sid, sms_sent_at=now)
    return bool(sid)


# ---- the admin API ---------------------------------------------------------------------------


def list_missed_calls(params: dict) -> dict:
    """``GET /missed-calls?hotline=&status=&limit=&before=``: newest miss first."""
    hotline = _number(params.get("hotline"), "hotline")
    status = params.get("status") or None
    if status is not None and status not in store.STATUS_FILTERS:
        raise InvalidRequest("status", f"must be one of {', '.join(store.STATUS_FILTERS)}")
    limit = query_int(params, "limit", default=50, low=1, high=MAX_LIST)
    before = query_time(params, "before")
    records = store.list_for_hotline(hotline, status, limit, before)
    return {"hotline": hotline, "status": status,
            "missed_calls": [_with_path(record) for record in records]}


def get_missed_call(hotline: str, number: str) -> dict:
    """``GET /missed-calls/{hotline}/{number}``: the open record and the resolved ones."""
    hotline, number = _number(hotline, "hotline"), _number(number, "number")
    current = store.get_open(hotline, number)
    resolved = store.history(hotline, number)
    if current is None and not resolved:
        raise NotFound(f"no missed calls from {number} to {hotline}")
    return {"hotline": hotline, "caller": number,
            "open": _with_path(current) if current else None,
            "resolved": [view(record) for record in resolved]}


def resolve_missed_call(hotline: str, number: str, raw_body: bytes | None, now: datetime) -> dict:
    """``POST /missed-calls/{hotline}/{number}/resolve`` with an optional ``{by, note}``."""
    hotline, number = _number(hotline, "hotline"), _number(number, "number")
    body = json_object(raw_body, optional=True)
    unknown = sorted(set(body) - {"by", "note"})
    if unknown:
        raise InvalidRequest(unknown[0], "is not a known field")
    by, note = body.get("by"), body.get("note")
    for field, value in (("by", by), ("note", note)):
        if value is not None and (not isinstance(value, str) or len(value) > NOTE_MAX):
            raise InvalidRequest(field, f"must be text of at most {NOTE_MAX} characters")
    try:
        resolved = store.resolve(hotline, number, now, by=by, note=note)
    except store.Contention as exc:
        raise Conflict(str(exc)) from exc
    if resolved is None:
        raise NotFound(f"no open missed call from {number} to {hotline}")
    # after the transaction, not in it: a record followed up already has its fact, and a
    # put-if-absent inside would cancel the resolve
    _record_fact(lambda zone: follow_up_fact(resolved, now, zone), hotline)
    return view(resolved)


def view(record: MissedCall) -> dict:
    """A record as the API answers with it (plain JSON-ready values)."""
    return {
        "hotline": record.hotline,
        "caller": record.caller,
        "status": record.status,
        "count": record.miss_count,
        "first_at": _iso(record.first_at),
        "last_at": _iso(record.last_at),
        "reasons": sorted(record.reasons),
        "last_reason": record.last_reason,
        "call_sids": list(record.call_sids),
        "language": record.language,
        "queue_id": record.queue_id,
        "follow_up": {
            "sms_sent_at": _iso(record.sms_sent_at),
            "sms_sid": record.sms_sid,
            "callback_id": record.callback_id,
        },
        "resolved_at": _iso(record.resolved_at),
        "resolved_by": record.resolved_by,
        "note": record.note,
    }


def _with_path(record: MissedCall) -> dict:
    path = f"/missed-calls/{record.hotline.lstrip('+')}/{record.caller.lstrip('+')}"
    return {**view(record), "path": path}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _number(value, field: str) -> str:
    """A number in a URL: ``+14155550100``, ``14155550100`` or ``%2B14155550100``."""
    text = unquote(value or "").strip()
    digits = text[1:] if text.startswith("+") else text
    if not (digits.isdigit() and digits.isascii() and 3 <= len(digits) <= 15):
        raise InvalidRequest(field, "must be a phone number in E.164 form, like 14155550100")
    return "+" + digits


