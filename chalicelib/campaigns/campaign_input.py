"""A campaign as the admin API receives it (``POST /campaigns``): every field checked for its
type, form and range, each error an ``InvalidRequest`` naming the field (400). Plain Python:
what needs storage (the list, the flow, the queue, the templates) is ``campaigns.admin``'s.

Bounds and their sources: ring 15-60 s (FTC TSR 16 CFR 310.4(b)(1)(iv); Amazon Connect's ring
timeout range), retries 60 s - 7 days and 1-10 attempts (VICIdial's recycling range, widened),
an abandonment target of at most 5 % (the rules allow 3 %; a test campaign may be laxer, never
beyond) over 1-720 hours (Ofcom's 24 h, the FTC's 30 days), a preview of 5-300 s (Amazon
Connect: 1-300), the calling window inside 08:00-21:00 (``campaigns.policy``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from chalicelib.api_errors import InvalidRequest
from chalicelib.api_input import ID_PATTERN, PATH_PATTERNS, query_time
from chalicelib.callbacks.numbers import NumberRefused, normalise_number
from chalicelib.campaigns.campaign import (
    AGENT_KINDS,
    AGENTLESS,
    DEFAULT_RETRIES,
    HANG_UP,
    KINDS,
    LEAVE_MESSAGE,
    MAX_RING_SECONDS,
    MIN_RING_SECONDS,
    RETRYABLE,
    SMS_KIND,
    Campaign,
    RetryRule,
)
from chalicelib.campaigns.list_rows import valid_zone
from chalicelib.campaigns.policy import KNOWN, check_window, policy_of
from chalicelib.compliance.rules import PURPOSES as ALL_PURPOSES
from chalicelib.compliance.rules import REQUESTED

# A campaign is never "requested": nobody asked for it (``compliance.rules``).
PURPOSES = tuple(p for p in ALL_PURPOSES if p != REQUESTED)
LANGUAGES = ("en-US", "zh-CN")  # the languages of the system prompts (``prompts.VOICES``)
MACHINE_POLICIES = (HANG_UP, LEAVE_MESSAGE)
DEFAULT_MACHINE_TEMPLATE = "campaign_machine_message"
DEFAULT_ABANDON_TEMPLATE = "abandon"
# a voice template under chalicelib/templates/<language>/ (a file name, no path)
VOICE_TEMPLATE = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")
# an SMS template: a folder under chalicelib/templates/campaigns/ (``campaigns.texting``)
SMS_TEMPLATE = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_NAME = 200

FIELDS = frozenset({
    "name", "kind", "purpose", "list_id", "caller_id", "starts_at", "ends_at", "window",
    "flow_id", "queue_id", "template", "language", "machine", "machine_template",
    "abandon_template", "retries", "ring_seconds", "abandon_target", "abandon_window_hours",
    "max_dial_level", "weight", "preview_seconds", "wrap_up_seconds", "fallback_tz",
    "compliance", "subject_attribute", "start",
})
# name -> (low, high): whole numbers
INTEGERS = {
    "ring_seconds": (MIN_RING_SECONDS, MAX_RING_SECONDS),
    "abandon_window_hours": (1, 720),
    "preview_seconds": (5, 300),
    "wrap_up_seconds": (0, 600),
}
# name -> (low, high): any number
NUMBERS = {
    "abandon_target": (0.0, 0.05),
    "max_dial_level": (1.0, 10.0),
    "weight": (0.1, 100.0),
}
RETRY_DELAY = (60, 7 * 24 * 3600)
RETRY_ATTEMPTS = (1, 10)
RESERVED_COLUMNS = ("phone", "name", "language", "timezone")


def parse_campaign(body: dict, now: datetime) -> tuple[dict[str, Any], bool]:
    """The ``Campaign`` fields ``body`` sets (all but ``campaign_id``, ``created_at`` and the
    defaults), and whether to start it at once (``"start": true``). Checks what needs no
    storage; InvalidRequest naming the first field at fault."""
    unknown = set(body) - FIELDS
    if unknown:
        raise InvalidRequest(sorted(unknown)[0], "is not a field of a campaign")
    fields: dict[str, Any] = {
        "name": _text(body, "name", MAX_NAME),
        "kind": _choice(body, "kind", KINDS),
        "purpose": _choice(body, "purpose", PURPOSES),
        "list_id": _list_id(body.get("list_id")),
        "caller_id": caller_id(body.get("caller_id")),
    }
    kind = fields["kind"]
    fields.update(_schedule(body, now))
    if "window" in body:
        fields["window"] = _window(body["window"])
    fields.update(_references(body, kind))
    fields["language"] = _choice(body, "language", LANGUAGES, default="en-US")
    fields.update(_answering_machine(body))
    if "retries" in body:
        fields["retries"] = retries(body["retries"])
    for name, (low, high) in INTEGERS.items():
        if name in body:
            fields[name] = _integer(body[name], name, low, high)
    for name, (least, most) in NUMBERS.items():
        if name in body:
            fields[name] = _number(body[name], name, least, most)
    if body.get("fallback_tz") is not None:
        zone = body["fallback_tz"]
        if not isinstance(zone, str) or not valid_zone(zone):
            raise InvalidRequest("fallback_tz", "must be an IANA time zone like "
                                                "America/New_York")
        fields["fallback_tz"] = zone
    if "compliance" in body:
        fields["compliance"] = _compliance(body["compliance"])
    if body.get("subject_attribute") is not None:
        fields["subject_attribute"] = _subject(body["subject_attribute"])
    start = body.get("start", False)
    if not isinstance(start, bool):
        raise InvalidRequest("start", "must be true or false")
    return fields, start


def check_policy(campaign: Campaign) -> None:
    """The gate's policy for the campaign can be built (``campaigns.policy.policy_of``);
    InvalidRequest naming the field it blames."""
    try:
        policy_of(campaign)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise InvalidRequest(field, message or str(exc)) from None
    except (TypeError, AttributeError):  # a shape _compliance let through
        raise InvalidRequest("compliance", "is not a set of rule overrides") from None


def caller_id(raw: object, field: str = "caller_id") -> str:
    """``raw`` as the E.164 number shown to the people we call: given with its ``+`` and
    country, and one the callbacks would dial (``callbacks.numbers``: a landline, mobile,
    VoIP or toll-free number, no premium rate), since people call it back."""
    if not isinstance(raw, str) or not raw.strip().startswith("+"):
        raise InvalidRequest(field, "is required: an E.164 number like +14155550100")
    try:
        return normalise_number(raw, "US", ())
    except NumberRefused as refused:
        raise InvalidRequest(field, f"{refused.code}: {refused.message}") from None


def retries(raw: object) -> dict[str, RetryRule]:
    """``{busy|no_answer|machine|failed: {delay_seconds, max_attempts}}`` over the defaults
    (``campaign.DEFAULT_RETRIES``): an outcome not given keeps its default."""
    if not isinstance(raw, dict):
        raise InvalidRequest("retries", f"must be an object with keys among {RETRYABLE}")
    rules = dict(DEFAULT_RETRIES)
    for outcome, rule in raw.items():
        field = f"retries.{outcome}"
        if outcome not in RETRYABLE:
            raise InvalidRequest(field, f"is not an outcome: {', '.join(RETRYABLE)}")
        if not isinstance(rule, dict) or set(rule) != {"delay_seconds", "max_attempts"}:
            raise InvalidRequest(field, "must be {delay_seconds, max_attempts}")
        rules[outcome] = RetryRule(
            _integer(rule["delay_seconds"], f"{field}.delay_seconds", *RETRY_DELAY),
            _integer(rule["max_attempts"], f"{field}.max_attempts", *RETRY_ATTEMPTS))
    return rules


# ---- one field each -------------------------------------------------------------------------
def _text(body: dict, name: str, max_length: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidRequest(name, f"is required: text of at most {max_length} characters")
    return value.strip()


def _choice(body: dict, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = body.get(name, default)
    if value not in allowed:
        raise InvalidRequest(name, f"must be one of {', '.join(allowed)}")
    return str(value)


def _list_id(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(PATH_PATTERNS["list_id"], value):
        raise InvalidRequest("list_id", "is required: a contact list's id (cl_...)")
    return value


def _reference(value: object, name: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(ID_PATTERN, value):
        raise InvalidRequest(name, "must be an id of letters, digits, '_', '.' and '-'")
    return value


def _schedule(body: dict, now: datetime) -> dict:
    times: dict[str, datetime] = {}
    for name in ("starts_at", "ends_at"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidRequest(name, "must be an ISO 8601 time with its offset, like "
                                       "2026-11-23T15:00:00Z")
        at = query_time({name: value}, name)
        if at is not None:
            times[name] = at
    ends = times.get("ends_at")
    if ends is not None and ends <= max(now, times.get("starts_at", now)):
        raise InvalidRequest("ends_at", "must be later than starts_at and than now")
    return times


def _window(value: object) -> dict[str, list[str]]:
    if not isinstance(value, dict) or not value or not all(
            isinstance(spans, list) and spans and all(isinstance(s, str) for s in spans)
            for spans in value.values()):
        raise InvalidRequest("window", 'must be weekly hours like {"mon-fri": '
                                       '["09:00-20:00"]}, at least one span')
    try:
        check_window(value)
    except ValueError as exc:
        raise InvalidRequest("window", str(exc).partition(": ")[2] or str(exc)) from None
    return {days: list(spans) for days, spans in value.items()}


def _references(body: dict, kind: str) -> dict:
    """What the kind needs: a flow (agentless), a queue (agent kinds; agentless may have one
    for "press 1"), a text template (SMS); nothing else."""
    found: dict[str, str] = {}
    flow, queue, template = body.get("flow_id"), body.get("queue_id"), body.get("template")
    if kind == AGENTLESS:
        if flow is None:
            raise InvalidRequest("flow_id", "is required for an agentless campaign: a "
                                            "published flow")
        found["flow_id"] = _reference(flow, "flow_id")
    elif flow is not None:
        raise InvalidRequest("flow_id", "is only for agentless campaigns")
    if kind in AGENT_KINDS and queue is None:
        raise InvalidRequest("queue_id", f"is required for a {kind} campaign: the queue "
                                         "whose agents take its calls")
    if kind == SMS_KIND and queue is not None:
        raise InvalidRequest("queue_id", "is not for SMS campaigns")
    if queue is not None:
        found["queue_id"] = _reference(queue, "queue_id")
    if kind == SMS_KIND:
        if not isinstance(template, str) or not SMS_TEMPLATE.fullmatch(template):
            raise InvalidRequest("template", "is required for an SMS campaign: a text "
                                             "template's name")
        found["template"] = template
    elif template is not None:
        raise InvalidRequest("template", "is only for SMS campaigns")
    return found


def _answering_machine(body: dict) -> dict:
    machine = _choice(body, "machine", MACHINE_POLICIES, default=HANG_UP)
    fields: dict[str, Any] = {"machine": machine}
    template = body.get("machine_template")
    if template is None and machine == LEAVE_MESSAGE:
        template = DEFAULT_MACHINE_TEMPLATE
    if template is not None:
        fields["machine_template"] = _voice_template(template, "machine_template")
    fields["abandon_template"] = _voice_template(
        body.get("abandon_template", DEFAULT_ABANDON_TEMPLATE), "abandon_template")
    return fields


def _voice_template(value: object, field: str) -> str:
    if not isinstance(value, str) or not VOICE_TEMPLATE.fullmatch(value):
        raise InvalidRequest(field, "must be a voice template's name (letters, digits, '_')")
    return value


def _integer(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(field, f"must be a whole number from {low} to {high}")
    return value


def _number(value: object, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not low <= value <= high:
        raise InvalidRequest(field, f"must be a number from {low:g} to {high:g}")
    return float(value)


# the shape policy_of expects of each override (it checks the values)
_OVERRIDE_TYPES: dict[str, tuple[type, ...]] = {
    "country_windows": (dict,), "restricted_dates": (list,), "caps": (list,),
    "debt_cap": (list,), "abandoned_hold_hours": (int,), "consent_required": (list,),
}


def _compliance(value: object) -> dict:
    if not isinstance(value, dict):
        raise InvalidRequest("compliance", f"must be an object with rules among {KNOWN}")
    for name, override in value.items():
        if name in _OVERRIDE_TYPES and override is not None and \
                not isinstance(override, _OVERRIDE_TYPES[name]):
            raise InvalidRequest(f"compliance.{name}", "has the wrong type (README: "
                                                       "Campaigns)")
    for country, weekly in (value.get("country_windows") or {}).items():
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise InvalidRequest("compliance.country_windows", "keys are ISO countries (US)")
        if not isinstance(weekly, dict) or not all(
                isinstance(spans, list) and all(isinstance(s, str) for s in spans)
                for spans in weekly.values()):
            raise InvalidRequest(f"compliance.country_windows.{country}",
                                 "must be weekly hours")
    for cap in value.get("caps") or []:
        if not isinstance(cap, dict):
            raise InvalidRequest("compliance.caps", "[{channel, count, days}]")
    return value


def _subject(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 64:
        raise InvalidRequest("subject_attribute", "must be the name of a list column")
    column = value.strip().lower()
    if column in RESERVED_COLUMNS:
        raise InvalidRequest("subject_attribute", f"must be a free column, not {column!r}")
    return column
