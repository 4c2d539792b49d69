"""``GET /openapi.json``: the public and admin JSON APIs described as OpenAPI 3.0.

Covered: everything under ``/agents``, ``/queues``, ``/board``, ``/tickets``, ``/missed-calls``,
``/compliance``, ``/dnc``, ``/contact-lists``, ``/campaigns`` and ``/callbacks`` (and this
document). Not covered: ``/twilio/*``, whose contract is Twilio's.
``tests/integration/test_openapi.py`` keeps the two lists equal, route by route and method by
method, and ``tests/integration/test_api_fuzz.py`` fuzzes every operation with schemathesis.

Where the code has the rule as a constant (path id patterns, field names, lengths, enums), the
document is built from it, so the two cannot drift; the numeric bounds of agents' and queues'
fields are written here as ``routing.admin`` checks them.
The document is built on the first request (it imports the admin modules and with them PynamoDB,
which Twilio's webhooks should not pay for at cold start), then kept; only ``servers`` is per
request: the public base URL.
"""

from __future__ import annotations

import json
from functools import lru_cache

from chalice import Blueprint, Response

from chalicelib.api_input import ID_PATTERN, NUMBER_PATTERN, PATH_PATTERNS
from chalicelib.callbacks import model as callbacks_model
from chalicelib.callbacks import web
from chalicelib.callbacks.missed import MAX_LIST
from chalicelib.callbacks.routes import PREVIEW_PARAMS
from chalicelib.campaigns import admin as campaign_admin
from chalicelib.campaigns import campaign_input
from chalicelib.campaigns.campaign import KINDS, RETRYABLE
from chalicelib.campaigns.campaign import STATUSES as CAMPAIGN_STATUSES
from chalicelib.campaigns.policy import KNOWN as COMPLIANCE_OVERRIDES
from chalicelib.campaigns.seat import DISPOSITION_FORM, DISPOSITION_PATTERN, SEAT_STATES
from chalicelib.compliance.api import DNC_CHANNELS
from chalicelib.compliance.rules import CHANNELS, PURPOSES
from chalicelib.messaging.model import TICKET_STATUSES as STATUSES
from chalicelib.messaging.tickets import MAX_LIMIT
from chalicelib.reminders.model import CURRENCY_EXPONENTS, PAYMENT_SOURCES
from chalicelib.reminders.model import STATUSES as ACCOUNT_STATUSES
from chalicelib.reports.pages import PAGE_KINDS
from chalicelib.routing import admin
from chalicelib.routing.alerts import DEFAULT_ALERTS
from chalicelib.routing.alerts import KINDS as ALERT_KINDS
from chalicelib.routing.model import DEFAULT_DISPOSITIONS, AgentState, Strategy
from chalicelib.settings import get_settings
from chalicelib.store.missed import STATUS_FILTERS

openapi_api = Blueprint(__name__)

ADMIN_PREFIXES = ("/agents", "/queues", "/board", "/tickets", "/missed-calls", "/compliance",
                  "/dnc", "/consents", "/contact-lists", "/campaigns", "/accounts", "/payments",
                  "/reminder-batches", "/reminders", "/reminder-policies", "/reports",
                  "/console")
PUBLIC_PREFIXES = ("/callbacks",)
# what a list's answer holds for whom (console.access.visible_queues)
CUT = ("A supervisor's answer holds only the queues they supervise (and the agents serving "
       "them); an admin's, every one.")
ADMIN_SECURITY: list[dict] = [{"bearer": []}, {"apiKey": []}]  # either one


@openapi_api.route("/openapi.json", methods=["GET"])
def openapi_document():
    body = {**document(), "servers": [{"url": get_settings().public_base_url}]}
    return Response(body=body, status_code=200, headers={
        "Content-Type": "application/json", "Cache-Control": "public, max-age=300"})


# ---- small builders -------------------------------------------------------------------------


def _pattern(regex: str) -> str:
    return f"^(?:{regex})$"


def _string(max_length: int, *, pattern: str | None = None, nullable: bool = False,
            description: str | None = None) -> dict:
    schema: dict = {"type": "string", "maxLength": max_length}
    if pattern:
        schema["pattern"] = pattern
    if nullable:
        schema["nullable"] = True
    if description:
        schema["description"] = description
    return schema


def _text(max_length: int, description: str | None = None) -> dict:
    """A non-blank string (the API strips it)."""
    return _string(max_length, pattern=r"\S", description=description) | {"minLength": 1}


def _integer(low: int, high: int, default: int | None = None, description: str | None = None):
    schema: dict = {"type": "integer", "minimum": low, "maximum": high}
    if default is not None:
        schema["default"] = default
    if description:
        schema["description"] = description
    return schema


def _object(properties: dict, required: tuple = (), *, closed: bool = True,
            description: str | None = None) -> dict:
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict, *, required: bool = True, form: bool = False) -> dict:
    content = {"application/json": {"schema": schema}}
    if form:
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"required": required, "content": content}


def _param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


def _errors(*codes: int) -> dict:
    names = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
             409: "Conflict", 413: "TooLarge", 415: "UnsupportedMediaType"}
    return {str(code): {"$ref": f"#/components/responses/{names[code]}"} for code in codes}


def _operation(tag: str, summary: str, security: list, responses: dict, *,
               parameters: list | None = None, body: dict | None = None,
               description: str | None = None) -> dict:
    operation: dict = {"tags": [tag], "summary": summary, "security": security}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = body
    operation["responses"] = responses
    return operation


def _admin(summary: str, responses: dict, *, tag: str, **details) -> dict:
    """An admin operation: a console session or an API key (either), 401 without one, 403
    when the role may not (``console.access``)."""
    return _operation(tag, summary, ADMIN_SECURITY, {**responses, **_errors(401, 403)},
                      **details)


def _public(summary: str, responses: dict, **details) -> dict:
    """A public callback operation: no key (the callback id is the only key to a request)."""
    return _operation("callbacks", summary, [], responses, **details)


# ---- the document ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def document() -> dict:
    """The OpenAPI document (without ``servers``), as a JSON-ready dict."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Switchboard JSON APIs",
            "version": "1",
            "description": (
                "The admin API (agents, queues, boards, tickets, missed calls) and the public "
                "web-callback API. Admin routes need a console session (`Authorization: Bearer "
                "<token>` from `POST /console/session`) or a machine client's API key "
                "(`x-api-key`): 401 without either, 403 when the user's role may not (an agent "
                "acts on their own desk, a supervisor on their queues). On a laptop (stages "
                "`local`, `test`) a request with neither acts as an admin. Unknown or "
                "impossible ids answer 404, invalid bodies and query parameters 400 naming "
                "the `field`, impossible state changes 409, admin bodies over 64 KB (CSV "
                "chunks: 5 MB) 413. Twilio's webhooks (`/twilio/*`) are not described here."),
        },
        "tags": [{"name": "agents"}, {"name": "queues"}, {"name": "tickets"},
                 {"name": "missed-calls"}, {"name": "callbacks"}, {"name": "compliance"},
                 {"name": "contact-lists"}, {"name": "campaigns"}, {"name": "campaign-seats"},
                 {"name": "accounts"}, {"name": "payments"}, {"name": "reminders"},
                 {"name": "reports"}, {"name": "console"}, {"name": "meta"}],
        "paths": {**_routing_paths(), **_ticket_paths(), **_missed_paths(), **_callback_paths(),
                  **_compliance_paths(), **_contact_list_paths(), **_campaign_paths(),
                  **_seat_paths(), **_billing_paths(), **_reminder_paths(),
                  **_report_paths(), **_console_paths(),
                  "/openapi.json": {"get": {
                      "tags": ["meta"], "summary": "This document", "security": [],
                      "responses": {"200": _json("OpenAPI 3.0", {"type": "object"})}}}},
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key",
                           "description": "A machine client's API key (`manage.py api-keys "
                                          "new`); the stage keeps its SHA-256 only."},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "A console session: the stage's Cognito ID token "
                                          "(a laptop's own, signed locally)."}},
            "parameters": _parameters(),
            "schemas": _schemas(),
            "responses": _responses(),
        },
    }


def _parameters() -> dict:
    def path(name: str, description: str, max_length: int) -> dict:
        return {"name": name, "in": "path", "required": True, "description": description,
                "schema": _string(max_length, pattern=_pattern(PATH_PATTERNS[name]))}

    return {
        "agent_id": path("agent_id", "The agent's id; any other form is unknown (404).", 64),
        "queue_id": path("queue_id", "The queue's id; any other form is unknown (404).", 64),
        "ticket_id": path("ticket_id", "`TK` and 32 hex digits.", 34),
        "callback_id": path("callback_id", "`cb_` and 144 random bits, URL-safe base64.", 64),
        "hotline": path("hotline", "The hotline's number as digits (a leading `+`, or `%2B`, "
                                   "is accepted).", 18),
        "list_id": path("list_id", "`cl_` and 96 random bits, URL-safe base64.", 19),
        "campaign_id": path("campaign_id", "`cmp_` and random URL-safe characters; any other "
                                           "form is unknown (404).", 44),
        "account_id": path("account_id", "The billing system's account id; any other form is "
                                         "unknown (404).", 64),
        "batch_id": {**path("campaign_id", "The reminder batch's id: its campaign's (`cmp_` "
                                           "...); any other form is unknown (404).", 44),
                     "name": "batch_id"},
        "payment_id": path("payment_id", "The payment's id as the billing system (or the IVR) "
                                         "gave it.", 64),
        "policy_id": path("policy_id", "A reminder policy's name (`flows/reminders/<name>.yaml`)"
                                       "; any other form is unknown (404).", 64),
        "number": path("number", "The caller's number as digits (a leading `+`, or `%2B`, is "
                                 "accepted).", 18),
        "origin": {"name": "Origin", "in": "header", "required": False,
                   "schema": {"type": "string"},
                   "description": "A browser's origin: refused with 403 unless it is "
                                  "`CALLBACK_ALLOWED_ORIGINS` or the API's own."},
    }


def _responses() -> dict:
    error = _ref("Error")
    return {
        "BadRequest": _json("Invalid body or query parameter; `field` names it.", error),
        "NotFound": _json("Unknown (or impossible) id.", error),
        "Conflict": _json("Contradicts what is stored: a duplicate, a mobile registered to "
                          "another agent, or a state change not possible now.", error),
        "TooLarge": _json("The body is over 64 KB (a CSV chunk: 5 MB; `field`: `body`).",
                          error),
        "UnsupportedMediaType": _json("A Content-Type the route does not read (Chalice).",
                                      {"type": "object"}),
        "Unauthorized": _json("No console session or API key, or one that is invalid or "
                              "expired (`code`: `sign_in_required`, `session_expired`).",
                              _ref("Refusal")),
        "Forbidden": _json("The user's role may not do this (`code`: `forbidden`).",
                           _ref("Refusal")),
        "CallbackError": _json("`{error, field, message}`: the `field` to point at and a "
                               "code (`invalid`, `missing`, `too_long`, `malformed`, "
                               "`too_large` for a body over 4 KB, ...).", _ref("CallbackError")),
        "OriginRefused": _json("The browser's `Origin` may not use the callback service.",
                               _ref("CallbackError")),
        "CallbackNotFound": _json("No such callback request (or an impossible id).",
                                  _ref("CallbackError")),
    }


def _schemas() -> dict:
    ident = _string(64, pattern=_pattern(ID_PATTERN))
    levels = {"type": "object", "additionalProperties": _integer(1, 10),
              "description": "Skill (an id like the agents') -> level 1..10."}
    timestamp = {"type": "string", "format": "date-time", "nullable": True}
    endpoint = _object({
        "kind": {"type": "string", "enum": ["phone", "sip", "client"], "default": "phone"},
        "address": _text(256, "E.164 for `phone`, `sip:user@host` for `sip`, a Twilio Client "
                              "identity for `client`."),
    }, ("address",))
    live = {  # what GET shows of the agent's live state; ignored when sent back (GET -> PUT)
        "state": {"type": "string", "enum": [s.value for s in AgentState], "readOnly": True},
        "state_since": timestamp | {"readOnly": True},
        "state_reason": {"type": "string", "nullable": True, "readOnly": True},
        "idle_since": timestamp | {"readOnly": True},
        "calls_today": {"type": "integer", "readOnly": True},
        "missed_in_row": {"type": "integer", "readOnly": True},
    }
    agent = {
        "agent_id": ident,
        "name": _text(200),
        "endpoint": endpoint,
        "skills": levels,
        "queues": {"type": "object", "additionalProperties": _integer(1, 99),
                   "description": "Queue id -> tier (1 = first); every queue must exist."},
        "languages": {"type": "array",
                      "items": _string(64, pattern=_pattern(admin.LANGUAGE_TAG.pattern))},
        "regions": {"type": "array",
                    "items": _string(15, pattern=_pattern(admin.CALLER_REGION.pattern)),
                    "description": "ISO countries or dialling prefixes the agent prefers."},
        "wrap_up_seconds": _integer(0, 3600, 30),
        "mobile": {"type": "string", "nullable": True, "pattern": r"^\+[1-9][0-9]{1,14}$",
                   "description": "E.164, valid by libphonenumber; one agent per mobile."},
        "timezone": _string(64, nullable=True, description=(
            "IANA time zone of the agent's day (calls today); default: their first queue's.")),
        **live,
    }
    hours = _object({
        "timezone": _text(200, "An IANA time zone."),
        "weekly": {"type": "object",
                   "additionalProperties": {"type": "array", "items": {
                       "type": "string", "pattern": r"^\d\d:\d\d-\d\d:\d\d$"}},
                   "description": "`mon`, `mon-fri`, ... -> spans like `09:00-17:00`."},
        "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
    }, description="Empty: always open.")
    queue = {
        "queue_id": ident,
        "name": _text(200),
        "strategy": {"type": "string", "enum": [s.value for s in Strategy],
                     "default": Strategy.LONGEST_IDLE.value},
        "required_skills": levels,
        "tiers": {"type": "array", "items": _object(
            {"after_seconds": _integer(0, 86400), "tier": _integer(1, 99)},
            ("after_seconds", "tier"))},
        "max_wait_seconds": _integer(1, 86400, 600),
        "max_size": _integer(1, 10000, 50),
        "overflow": _object({
            "kind": {"type": "string", "enum": list(admin.OVERFLOW_KINDS)},
            "queue": ident,
            "to": {"type": "string", "pattern": r"^\+[1-9][0-9]{1,14}$"},
        }, description="`{}` (the flow decides), `{kind: queue, queue}`, `{kind: callback}` or "
                       "`{kind: transfer, to}`."),
        "join_empty": {"type": "string", "enum": ["overflow", "wait"], "default": "overflow"},
        "sticky_days": _integer(0, 365, 0),
        "sticky_wait_seconds": _integer(0, 600, 30),
        "vip_priority": _integer(0, 999, 10),
        "region_routing": {"type": "boolean", "default": False},
        "whisper": {"type": "boolean", "default": True},
        "record": {"type": "boolean", "default": False},
        "announce_every_seconds": _integer(0, 3600, 60),
        "offer_callback": {"type": "boolean", "default": True},
        "offer_voicemail": {"type": "boolean", "default": True},
        "service_level_seconds": _integer(1, 3600, 20),
        "max_misses": _integer(0, 50, 3),
        "hours": hours,
        "callback_strategy": {"type": "string", "enum": ["agent-first", "customer-first"],
                              "default": "agent-first"},
        "callback_max_attempts": _integer(1, 10, 3),
        "timezone": _string(64, nullable=True, description=(
            "IANA time zone of the queue's business day (today's figures); default: its "
            "hours' zone, else UTC.")),
        "alerts": _object({
            "callers_waiting": _integer(0, 10000) | {"nullable": True},
            "oldest_wait_seconds": _integer(0, 86400) | {"nullable": True},
            "min_answered_today": _integer(0, 100000) | {"nullable": True},
            "service_level_below": {"type": "number", "minimum": 0, "maximum": 1,
                                    "nullable": True},
            "abandon_rate_above": {"type": "number", "minimum": 0, "maximum": 1,
                                   "nullable": True},
            "seconds_in_state": _object({s.value: _integer(1, 86400) | {"nullable": True}
                                         for s in AgentState}),
        }, description="The wallboard's thresholds; each optional (default "
                       f"{json.dumps(DEFAULT_ALERTS)}), null switches one off."),
        "dispositions": {"type": "array", "minItems": 1, "maxItems": 30, "uniqueItems": True,
                         "items": {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,27}$"},
                         "default": list(DEFAULT_DISPOSITIONS),
                         "description": "The codes its agents choose from at wrap-up."},
    }
    board = {"type": "object", "properties": {
        "queue_id": {"type": "string"}, "name": {"type": "string"},
        "as_of": {"type": "string", "format": "date-time"},
        "callers_waiting": {"type": "integer"}, "callers_being_connected": {"type": "integer"},
        "callbacks_waiting": {"type": "integer"},
        "oldest_wait_seconds": {"type": "integer", "nullable": True},
        "agents_by_state": {"type": "object", "additionalProperties": {"type": "integer"}},
        "agents": {"type": "array", "items": {"type": "object"}},
        "offered_today": {"type": "integer"}, "answered_today": {"type": "integer"},
        "abandoned_today": {"type": "integer"},
        "service_level_today": {"type": "number", "nullable": True},
        "abandon_rate_today": {"type": "number", "nullable": True},
        "average_speed_of_answer_today": {"type": "number", "nullable": True},
        "alerts": {"type": "array", "description": (
            "The queue's thresholds crossed now, most urgent first: `oldest_wait_seconds`, "
            "`callers_waiting`, `service_level_below`, `abandon_rate_above`, "
            "`seconds_in_state` (with `agent_id` and `state`)."), "items": {
            "type": "object", "properties": {
                "alert": {"type": "string", "enum": list(ALERT_KINDS)},
                "value": {"type": "number"}, "threshold": {"type": "number"},
                "agent_id": {"type": "string"}, "state": {"type": "string"}}}},
    }}
    missed_call = {"type": "object", "properties": {
        "hotline": {"type": "string"}, "caller": {"type": "string"},
        "status": {"type": "string"}, "count": {"type": "integer"},
        "first_at": timestamp, "last_at": timestamp,
        "reasons": {"type": "array", "items": {"type": "string"}},
        "call_sids": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
        "follow_up": {"type": "object"}, "path": {"type": "string"},
    }}
    form = {key: _string(4096, nullable=True) for key in sorted(web.FIELDS)}
    form["name"] = _string(web.MAX_NAME, nullable=True)
    form["topic"] = _string(web.MAX_TOPIC, nullable=True)
    form["language"] = _string(16, nullable=True, description=", ".join(web.LANGUAGES))
    form["preferred_time"] = _string(64, nullable=True,
                                     description="`asap`, or ISO 8601 inside the queue's hours")
    callback = {"type": "object", "properties": {
        "id": {"type": "string"},
        "status": {"type": "string", "enum": list(callbacks_model.STATUSES)},
        "kind": {"type": "string", "enum": list(callbacks_model.KINDS)},
        "queue": {"type": "string"}, "topic": {"type": "string", "nullable": True},
        "language": {"type": "string", "nullable": True},
        "phone": {"type": "string", "description": "Masked."},
        "requested_at": {"type": "string", "format": "date-time"},
        "position": {"type": "integer", "nullable": True},
        "estimated_wait_seconds": {"type": "integer", "nullable": True},
        "scheduled_for": timestamp,
        "status_url": {"type": "string"}, "cancel_url": {"type": "string"},
        "attempts": {"type": "integer"},
        "history": {"type": "array", "items": {"type": "object"}},
    }}
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {
            "error": {"type": "string"}, "field": {"type": "string"}}},
        "Refusal": {"type": "object", "required": ["error", "code"], "properties": {
            "error": {"type": "string"}, "code": {"type": "string", "enum": [
                "sign_in_required", "session_expired", "forbidden", "bad_credentials"]}}},
        "CallbackError": {"type": "object", "required": ["error"], "properties": {
            "error": {"type": "string"}, "field": {"type": "string"},
            "message": {"type": "string"}, "id": {"type": "string"},
            "status": {"type": "string"}, "scope": {"type": "string"},
            "status_url": {"type": "string"}, "cancel_url": {"type": "string"}}},
        "AgentInput": _object(agent, ("name", "endpoint"), description=(
            "Unknown fields are refused; the live-state fields GET returns are ignored, so "
            "GET -> edit -> PUT works. `agent_id` is required on POST and must match the URL "
            "on PUT.")),
        "Agent": {"type": "object", "properties": agent},
        "AgentStateChange": _object({
            "state": {"type": "string", "enum": [s.value for s in admin.HAND_STATES],
                      "description": "Other states follow the call (400)."},
            "reason": _text(200),
        }, ("state",)),
        "Transfer": _object({
            "to": {"type": "string", "enum": list(admin.TRANSFER_KINDS)},
            "target": _text(200, "A queue id, an agent id or an E.164 number."),
            "mode": {"type": "string", "enum": list(admin.TRANSFER_MODES), "default": "cold"},
        }, ("to", "target")),
        "MonitorInput": _object({
            "mode": {"type": "string", "enum": ["listen", "whisper", "barge"], "description": (
                "listen: muted; whisper: only the agent hears the supervisor (coaching); "
                "barge: both hear them.")},
            "endpoint": {"type": "string", "maxLength": 140,
                         "pattern": r"^(client:[A-Za-z0-9_.@-]{1,128}|\+[1-9][0-9]{6,14})$",
                         "description": "Where the supervisor hears the call: "
                                        "`client:<identity>` (a browser softphone) or an E.164 "
                                        "number."},
        }, ("mode", "endpoint")),
        "Monitor": {"type": "object", "properties": {
            "call_sid": {"type": "string"}, "agent_id": {"type": "string"},
            "mode": {"type": "string", "enum": ["listen", "whisper", "barge"]},
            "endpoint": {"type": "string"},
            "room": {"type": "string", "description": "The conference room the call talks in."},
            "since": {"type": "string", "format": "date-time",
                      "description": "When the monitor began."},
            "supervisor_leg": {"type": "string", "nullable": True,
                               "description": "CallSid of the supervisor's leg."}}},
        "MonitorOver": {"type": "object", "properties": {
            "call_sid": {"type": "string"},
            "monitor": {"type": "object", "nullable": True, "description": "Always null."}}},
        "DispositionInput": _object({
            "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,27}$"},
            "call_sid": _text(64, "A call the agent handled (default: the current or last)."),
            "note": _text(500),
        }, ("code",)),
        "Disposition": {"type": "object", "properties": {
            "call_sid": {"type": "string"}, "agent_id": {"type": "string"},
            "code": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
            "note": {"type": "string", "nullable": True}}},
        "Hold": {"type": "object", "properties": {
            "call_sid": {"type": "string"}, "hold": {"type": "string", "enum": ["on", "off"]},
            "since": {"type": "string", "nullable": True,
                      "description": "When the hold began (on)."},
            "held_seconds": {"type": "integer", "description": "How long it lasted (off)."}}},
        "QueueInput": _object(queue, ("name",), description=(
            "Unknown fields are refused. `queue_id` is required on POST and must match the URL "
            "on PUT.")),
        "Queue": {"type": "object", "properties": queue},
        "Board": board,
        "Ticket": {"type": "object", "properties": {
            "ticket_id": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "from": {"type": "string"}, "to": {"type": "string"},
            "body": {"type": "string", "nullable": True},
            "media_urls": {"type": "array", "items": {"type": "string"}},
            "language": {"type": "string", "nullable": True},
            "message_sid": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"}, "closed_at": timestamp}},
        "MissedCall": missed_call,
        "Resolve": _object({"by": _string(500, nullable=True),
                            "note": _string(500, nullable=True)}),
        "CallbackForm": _object(form, description=(
            "`phone` is required, and `queue` or `topic`. At most 4096 bytes (400 "
            "`too_large`).")),
        "Callback": callback,
    }


def _limit(high: int, default: int = 50) -> dict:
    return _query("limit", _integer(1, high, default), f"At most this many (1 to {high}).")


BEFORE = {"name": "before", "in": "query", "required": False,
          "schema": {"type": "string", "format": "date-time"},
          "description": "ISO 8601 with its offset: the page before this instant (the cursor)."}


def _routing_paths() -> dict:
    agent, queue = [_param("agent_id")], [_param("queue_id")]
    written = _errors(400, 409, 413, 415)

    def op(summary, responses, **kwargs):
        tag = kwargs.pop("tag", "agents")
        return _admin(summary, responses, tag=tag, **kwargs)

    agent_json = _json("The agent", _ref("Agent"))
    queue_json = _json("The queue", _ref("Queue"))
    return {
        "/agents": {
            "post": op("Create an agent", {"201": agent_json, **written},
                       body=_body(_ref("AgentInput"))),
            "get": op("All agents", {"200": _json("Agents", {"type": "object", "properties": {
                "agents": {"type": "array", "items": _ref("Agent")}}})}, description=CUT),
        },
        "/agents/{agent_id}": {
            "get": op("One agent", {"200": agent_json, **_errors(404)}, parameters=agent),
            "put": op("Replace an agent's profile", {"200": agent_json, **_errors(404),
                                                    **written},
                      parameters=agent, body=_body(_ref("AgentInput"))),
        },
        "/agents/{agent_id}/state": {
            "post": op("Set available, away or offline", {
                "200": agent_json, **_errors(404), **written},
                parameters=agent, body=_body(_ref("AgentStateChange")),
                description="409 while the agent is being connected to a caller."),
        },
        "/agents/{agent_id}/transfer": {
            "post": op("Transfer the agent's caller (cold or warm)", {
                "200": _json("What was done", {"type": "object", "properties": {
                    "call_sid": {"type": "string"}, "to": {"type": "string"},
                    "target": {"type": "string"}, "mode": {"type": "string"},
                    "consult": {"type": "string"}}}),
                **_errors(404), **written},
                parameters=agent, body=_body(_ref("Transfer")),
                description="409 when the agent is on no call or the target cannot take it."),
        },
        "/agents/{agent_id}/transfer/{step}": {
            "post": op("Complete or cancel a warm transfer", {
                "200": _json("What was done", {"type": "object"}), **_errors(404, 409)},
                parameters=[*agent, {"name": "step", "in": "path", "required": True,
                                     "schema": {"type": "string",
                                                "enum": ["complete", "cancel"]}}]),
        },
        "/agents/{agent_id}/hold": {
            "post": op("Put the agent's caller on hold music", {
                "200": _json("The hold", _ref("Hold")), **_errors(404, 409)},
                parameters=agent,
                description="Holding a held call answers the same; 409 when the agent is on "
                            "no call or a warm transfer runs. The time held is reported "
                            "(agents report, hold_seconds)."),
            "delete": op("Bring the held caller back to the agent", {
                "200": _json("The hold, over", _ref("Hold")), **_errors(404, 409)},
                parameters=agent, description="409 when the agent's call is not on hold."),
        },
        "/agents/{agent_id}/monitor": {
            "post": op("Listen to, whisper to or barge into the agent's call", {
                "200": _json("The monitor", _ref("Monitor")), **written, **_errors(404)},
                parameters=agent, body=_body(_ref("MonitorInput")),
                description="A supervisor's: the `endpoint` is called into the call's "
                            "conference room (a call still bridged to its agent is moved into "
                            "one first). Posting again changes the mode; the same mode answers "
                            "the same. One monitor per call: another endpoint is 409 naming who "
                            "monitors. 409 when the agent is on no call, the call has ended, "
                            "is on hold or in a transfer, or the supervisor cannot be called. "
                            "While monitored, holds and transfers are 409."),
            "delete": op("End the supervisor's leg on the agent's call", {
                "200": _json("No monitor any more", _ref("MonitorOver")), **_errors(404, 409)},
                parameters=agent,
                description="Answers the same when nobody monitors; 409 when the agent is on "
                            "no call."),
        },
        "/agents/{agent_id}/disposition": {
            "post": op("Say what became of the agent's call (a disposition code)", {
                "200": _json("The code as recorded", _ref("Disposition")),
                **_errors(404), **written},
                parameters=agent, body=_body(_ref("DispositionInput")),
                description="Usually during wrap-up. The call: `call_sid`, else the agent's "
                            "current call, else the last one they handled. The code must be "
                            "one of the call's queue's `dispositions`. One code per agent and "
                            "call: the same again answers the same, another is 409. Counted "
                            "in the agents and queues reports (`disposition_<code>`)."),
        },
        "/agents/{agent_id}/voice-token": {
            "post": op("An access token for the agent's browser softphone", {
                "200": _json("The token (a JWT for the Twilio Voice JavaScript SDK)", {
                    "type": "object", "properties": {
                        "agent_id": {"type": "string"}, "identity": {"type": "string"},
                        "token": {"type": "string"},
                        "expires_at": {"type": "string", "format": "date-time"},
                        "ttl_seconds": {"type": "integer"},
                        "outgoing": {"type": "boolean", "description": (
                            "The token may place calls (a TwiML app is set).")},
                        "edge": {"type": "string", "enum": ["twilio", "emulator"],
                                 "description": (
                            "Where the browser's softphone registers: `twilio` (the Voice "
                            "SDK's Twilio.Device) or `emulator` (the local carrier emulator "
                            "stands in for Twilio: TWILIO_API_BASE is set and not on "
                            "twilio.com).")},
                        "emulator_url": {"type": "string", "description": (
                            "With `edge` `emulator` only: the emulator's base URL; the "
                            "softphone calls its `/_emulator/clients/{identity}` API.")}}}),
                **_errors(404, 409)},
                parameters=agent,
                description="The agent's endpoint must be a `client` (409 otherwise, or when "
                            "the stage has no API key to sign with). Valid an hour: ask "
                            "again before `expires_at`."),
        },
        "/agents/{agent_id}/history": {
            "get": op("The agent's state changes, newest first", {
                "200": _json("History", {"type": "object", "properties": {
                    "agent_id": {"type": "string"},
                    "events": {"type": "array", "items": {"type": "object", "properties": {
                        "at": {"type": "string"}, "state": {"type": "string"},
                        "previous": {"type": "string", "nullable": True},
                        "reason": {"type": "string", "nullable": True},
                        "call_sid": {"type": "string", "nullable": True}}}}}}),
                **_errors(400, 404)},
                parameters=[*agent, _limit(500)]),
        },
        "/agents/{agent_id}/context": {
            "get": op("The screen pop of the agent's current call", {
                "200": _json("Caller, customer, IVR path, inputs (redacted), wait, previous "
                             "contacts, transfers, and the billing account the customer "
                             "names as it is now (balance, status, last payments; null "
                             "without one); `consult_state` (`hold`, or `dialing`/`talking` "
                             "in a warm transfer), `dispositions` (the codes the call's queue "
                             "offers) and `disposition` (the code this agent gave, or null)",
                             {"type": "object"}),
                **_errors(404)}, parameters=agent,
                description="In wrap-up: the call being wrapped up. 404 when the agent has "
                            "no current call (nor one to wrap up)."),
        },
        "/agents/{agent_id}/today": {
            "get": op("The agent's own figures so far today", {
                "200": _json("The agents report's totals for this agent and their local "
                             "today", {"type": "object", "properties": {
                                 "agent_id": {"type": "string"},
                                 "day": {"type": "string", "format": "date"},
                                 "timezone": {"type": "string"},
                                 **{name: {"type": "integer"} for name in (
                                     "handled", "talk_seconds", "hold_seconds", "holds",
                                     "wrap_up_seconds", "available_seconds",
                                     "reserved_seconds", "break_seconds",
                                     "logged_in_seconds", "transfers", "dispositions")},
                                 **{name: {"type": "number", "nullable": True} for name in (
                                     "aht_seconds", "occupancy", "utilisation")},
                                 "disposition_codes": {
                                     "type": "object",
                                     "additionalProperties": {"type": "integer"}}}}),
                **_errors(404)}, parameters=agent,
                description="The agents report (`GET /reports/agents`) of this one agent for "
                            "today in their zone (`timezone`, else UTC), by day: its figures "
                            "unchanged, the `disposition_<code>` counts as "
                            "`disposition_codes`. Times in whole seconds; a state still "
                            "running counts once it ends; `break_seconds` is break and away "
                            "time."),
        },
        "/queues": {
            "post": op("Create a queue", {"201": queue_json, **written},
                       body=_body(_ref("QueueInput")), tag="queues"),
            "get": op("All queues", {"200": _json("Queues", {"type": "object", "properties": {
                "queues": {"type": "array", "items": _ref("Queue")}}})}, tag="queues",
                      description=CUT),
        },
        "/queues/{queue_id}": {
            "get": op("One queue", {"200": queue_json, **_errors(404)}, parameters=queue,
                      tag="queues"),
            "put": op("Replace a queue's configuration", {
                "200": queue_json, **_errors(400, 404, 413, 415)},
                parameters=queue, body=_body(_ref("QueueInput")), tag="queues"),
        },
        "/queues/{queue_id}/board": {
            "get": op("One queue's real-time board", {
                "200": _json("The board", _ref("Board")), **_errors(404)},
                parameters=queue, tag="queues"),
        },
        "/board": {
            "get": op("Every queue's board", {"200": _json("Boards", {
                "type": "object", "properties": {
                    "as_of": {"type": "string", "format": "date-time"},
                    "queues": {"type": "array", "items": _ref("Board")}}})}, tag="queues",
                description=CUT),
        },
    }


def _ticket_paths() -> dict:
    ticket = [_param("ticket_id")]
    ticket_json = _json("The ticket", _ref("Ticket"))
    return {
        "/tickets": {"get": _admin("Tickets, newest first", {
            "200": _json("A page", {"type": "object", "properties": {
                "tickets": {"type": "array", "items": _ref("Ticket")},
                "next_before": {"type": "string", "nullable": True,
                                "description": "`before` of the next page; null at the end"}}}),
            **_errors(400)},
            parameters=[_query("status", {"type": "string", "enum": list(STATUSES),
                                          "default": "open"}, "Which tickets."),
                        _limit(MAX_LIMIT), BEFORE], tag="tickets")},
        "/tickets/{ticket_id}": {"get": _admin("One ticket", {"200": ticket_json,
                                                              **_errors(404)},
                                               parameters=ticket, tag="tickets")},
        "/tickets/{ticket_id}/close": {"post": _admin(
            "Close a ticket (closing a closed one changes nothing)",
            {"200": ticket_json, **_errors(404)}, parameters=ticket, tag="tickets")},
    }


def _missed_paths() -> dict:
    numbers = [_param("hotline"), _param("number")]
    return {
        "/missed-calls": {"get": _admin("A hotline's missed calls, newest miss first", {
            "200": _json("Missed calls", {"type": "object", "properties": {
                "hotline": {"type": "string"}, "status": {"type": "string", "nullable": True},
                "missed_calls": {"type": "array", "items": _ref("MissedCall")}}}),
            **_errors(400)},
            parameters=[
                _query("hotline", _string(18, pattern=_pattern(NUMBER_PATTERN)),
                       "The hotline's number (digits; `+` may be sent encoded).", True),
                _query("status", {"type": "string", "enum": list(STATUS_FILTERS)},
                       "`unresolved` is open or followed up."),
                _limit(MAX_LIST), BEFORE], tag="missed-calls")},
        "/missed-calls/{hotline}/{number}": {"get": _admin(
            "One number's open record and its resolved history", {
                "200": _json("The number's missed calls", {"type": "object", "properties": {
                    "hotline": {"type": "string"}, "caller": {"type": "string"},
                    "open": {"allOf": [_ref("MissedCall")], "nullable": True},
                    "resolved": {"type": "array", "items": _ref("MissedCall")}}}),
                **_errors(404)}, parameters=numbers, tag="missed-calls")},
        "/missed-calls/{hotline}/{number}/resolve": {"post": _admin(
            "Resolve the open record", {
                "200": _json("The resolved record", _ref("MissedCall")),
                **_errors(400, 404, 409, 413, 415)},
            parameters=numbers, body=_body(_ref("Resolve"), required=False),
            description="The body is optional. 409 when concurrent updates keep winning.",
            tag="missed-calls")},
    }


def _compliance_paths() -> dict:
    e164 = _string(16, description="E.164, e.g. +14155550123")
    decision = {"type": "object", "properties": {
        "number": {"type": "string"}, "channel": {"type": "string"},
        "purpose": {"type": "string"}, "allowed": {"type": "boolean"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "next_allowed_at": {"type": "string", "format": "date-time", "nullable": True}}}
    dnc_body = _object({"number": e164,
                        "channel": {"type": "string", "enum": list(DNC_CHANNELS),
                                    "default": "all"},
                        "reason": _text(500)}, ("number",))
    consent_body = _object({"number": e164,
                            "purpose": {"type": "string", "enum": list(PURPOSES)},
                            "channel": {"type": "string", "enum": list(CHANNELS)},
                            "source": _text(500), "evidence": _text(500)},
                           ("number", "purpose", "channel", "source"))
    return {
        "/compliance/check": {"get": _admin(
            "May this number be contacted now? The gate's decision, with reasons",
            {"200": _json("The decision", decision), **_errors(400)},
            parameters=[
                _query("number", e164, "The recipient.", True),
                _query("channel", {"type": "string", "enum": list(CHANNELS)}, "How.", True),
                _query("purpose", {"type": "string", "enum": list(PURPOSES),
                                   "default": "informational"}, "Why."),
                _query("caller_id", e164, "The number shown (checked if given)."),
                _query("subject", _string(64), "What it is about (a debt, for collections)."),
            ], tag="compliance")},
        "/dnc": {"post": _admin(
            "Put a number on our do-not-call list (at once, for every campaign and path)",
            {"201": _json("The entry", {"type": "object"}), **_errors(400, 413, 415)},
            body=_body(dnc_body), tag="compliance")},
        "/dnc/{number}": {"delete": _admin(
            "Take a number off our do-not-call list",
            {"200": _json("How many entries were removed", {"type": "object"}),
             **_errors(400)}, parameters=[_param("number")], tag="compliance")},
        "/dnc/import": {"post": _admin(
            "Import our internal do-not-call list from CSV (like a contact list's chunk: "
            "at most 2,000 rows, 5 MB); bad rows are reported, the rest added",
            {"200": _json("How many were added, and the rows refused with their reason",
                          {"type": "object", "properties": {
                              "added": {"type": "integer"}, "received": {"type": "integer"},
                              "rejected": {"type": "array", "items": {"type": "object"}}}}),
             **_errors(400, 413, 415)},
            parameters=[_query("region", _string(2), "ISO country reading national numbers "
                                                     "(default US)."),
                        _query("source", _string(100), "Where the list came from.")],
            body={"required": True, "content": {"text/csv": {"schema": {
                "type": "string", "description": "CSV with a header line: `phone` "
                                                  "(required), `channel` (voice, sms, all), "
                                                  "`reason`."}}}},
            tag="compliance")},
        "/consents": {"post": _admin(
            "Record a consent in the ledger (marketing contacts need one)",
            {"201": _json("The consent", {"type": "object"}), **_errors(400, 413, 415)},
            body=_body(consent_body), tag="compliance")},
        "/consents/{number}": {"delete": _admin(
            "Revoke a consent (the ledger keeps when)",
            {"200": _json("The revocation", {"type": "object"}), **_errors(400, 404)},
            parameters=[_param("number"),
                        _query("purpose", {"type": "string", "enum": list(PURPOSES)},
                               "The consent's purpose.", True),
                        _query("channel", {"type": "string", "enum": list(CHANNELS)},
                               "The consent's channel.", True)],
            tag="compliance")},
    }


def _contact_list_paths() -> dict:
    counts = {name: {"type": "integer"} for name in
              ("received", "accepted", "rejected", "duplicates", "blocked")}
    reasons = {"type": "object", "additionalProperties": {"type": "integer"},
               "description": "Accepted rows the compliance gate refuses for good, by reason "
                              "(`do_not_call`, `opted_out`)."}
    report = {"type": "object", "required": ["list_id", "status", *counts], "properties": {
        "list_id": {"type": "string"}, "name": {"type": "string"},
        "default_region": {"type": "string"}, "fallback_timezone": {"type": "string"},
        "allowed_regions": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["new", "importing", "complete"]},
        "chunks": {"type": "integer"}, **counts, "blocked_reasons": reasons}}
    chunk = {"type": "object", "properties": {
        "number": {"type": "integer"}, **counts, "blocked_reasons": reasons,
        "last": {"type": "boolean"},
        "replayed": {"type": "boolean", "description": "This chunk was received before: "
                                                       "nothing was added."}}}
    create = _object({
        "name": _text(200),
        "default_region": _string(2, description="ISO country reading national numbers "
                                                 "(default US)"),
        "fallback_timezone": _string(64, description="IANA zone for numbers whose zones are "
                                                     "unknown (default UTC)"),
        "allowed_regions": {"type": "array", "maxItems": 50, "items": _string(2),
                            "description": "ISO countries accepted; empty: any"},
    }, ("name",))
    list_id = [_param("list_id")]
    csv_body = {"required": True, "content": {"text/csv": {"schema": {
        "type": "string", "description": "CSV, a header line first (in every chunk): "
                                          "`phone` (required), `name`, `language`, "
                                          "`timezone`, any other column an attribute."}}}}
    return {
        "/contact-lists": {"post": _admin(
            "Create a contact list", {"201": _json("The new list", report),
                                      **_errors(400, 413, 415)},
            body=_body(create), tag="contact-lists")},
        "/contact-lists/{list_id}": {"get": _admin(
            "The list's import report: counts and status",
            {"200": _json("The report", report), **_errors(404)},
            parameters=list_id, tag="contact-lists")},
        "/contact-lists/{list_id}/rows": {"post": _admin(
            "Import one chunk of CSV (at most 5 MB); the same chunk again adds nothing", {
                "200": _json("The chunk's counts and the list's",
                             {"type": "object", "properties": {"chunk": chunk,
                                                               "list": report}}),
                **_errors(400, 404, 409, 413, 415)},
            parameters=[*list_id,
                        _query("chunk", _integer(0, 9999), "The chunk's number, from 0.",
                               True),
                        _query("last", {"type": "string", "enum": ["true", "false"]},
                               "`true` on the file's last chunk (the list is then complete "
                               "once every chunk before it is in).")],
            body=csv_body,
            description="A malformed row never stops the import: it is rejected with its "
                        "reason. 400 names `body` (not UTF-8 CSV) or `phone` (no phone "
                        "column); 409: this chunk number came before with other content.",
            tag="contact-lists")},
        "/contact-lists/{list_id}/rejected": {"get": _admin(
            "The rows not imported (rejected and duplicates), as CSV with a `reason` column",
            {"200": {"description": "`reason,chunk,line` then the row's fields",
                     "content": {"text/csv": {"schema": {"type": "string"}}}},
             **_errors(404)},
            parameters=list_id, tag="contact-lists")},
    }


def _seat_paths() -> dict:
    contact = {"type": "object", "nullable": True, "properties": {
        "name": {"type": "string", "nullable": True},
        "phone_last4": {"type": "string", "nullable": True},
        "attributes": {"type": "object", "additionalProperties": {"type": "string"}}},
        "description": "The contact offered, being dialled, on the line or wrapped up."}
    timestamp = {"type": "string", "format": "date-time", "nullable": True}
    seat: dict = {
        "type": "object", "required": ["campaign_id", "agent_id", "state"], "properties": {
        "campaign_id": {"type": "string"}, "agent_id": {"type": "string"},
        "name": {"type": "string", "nullable": True},
        "state": {"type": "string", "enum": [*SEAT_STATES, "left"]},
        "since": timestamp,
        "until": timestamp | {"description": "When the offer, the dial or the wrap-up ends."},
        "contact": contact,
        "disposition": {"type": "object", "nullable": True,
                        "description": "The last one posted: `{contact, disposition, at}` "
                                       "(`contact`: its last 4 digits)."},
        "outcome": {"type": "string", "description": "accept only: the dialler's outcome "
                                                     "(`placed`, `deferred`, `refused`...)."}}}
    seat_json = _json("The seat", seat)
    campaign, agent = [_param("campaign_id")], [_param("campaign_id"), _param("agent_id")]
    not_agents = "404: unknown campaign (or agent, or seat); 409: not an agent campaign"

    def op(summary, responses, **kwargs):
        return _admin(summary, responses, tag="campaign-seats", **kwargs)

    return {
        "/campaigns/{campaign_id}/seats": {
            "post": op("Call an agent onto the campaign's open line", {
                "201": seat_json, **_errors(400, 404, 409, 413, 415)},
                parameters=campaign,
                body=_body(_object({"agent_id": _string(64, pattern=_pattern(ID_PATTERN))},
                                   ("agent_id",))),
                description=f"{not_agents}, the campaign is over, the agent does not serve "
                            "its queue, has a seat already, or Twilio refused the call."),
            "get": op("The campaign's seats", {
                "200": _json("Seats", {"type": "object", "properties": {
                    "campaign_id": {"type": "string"},
                    "seats": {"type": "array", "items": seat}}}),
                **_errors(404, 409)}, parameters=campaign, description=not_agents),
        },
        "/agents/{agent_id}/seats": {
            "get": op("The agent's own seats on live agent campaigns (their desk's offers)", {
                "200": _json("Seats", {"type": "object", "properties": {
                    "agent_id": {"type": "string"},
                    "seats": {"type": "array", "items": seat | {"properties": {
                        **seat["properties"],
                        "campaign_name": {"type": "string"},
                        "campaign_kind": {"type": "string", "description":
                                          "`preview`: offers to accept or skip"},
                        "preview_seconds": {"type": "integer"}}}}}}),
                **_errors(404)}, parameters=[_param("agent_id")],
                description="404 for an id no agent can have; an agent on no live campaign: "
                            "`seats` is empty."),
        },
        "/campaigns/{campaign_id}/seats/{agent_id}": {
            "get": op("One agent's seat", {"200": seat_json, **_errors(404, 409)},
                      parameters=agent, description=not_agents),
            "delete": op("Take the agent off the campaign (their line is hung up)", {
                "200": seat_json, **_errors(404, 409)}, parameters=agent,
                description=not_agents),
        },
        "/campaigns/{campaign_id}/seats/{agent_id}/accept": {
            "post": op("Preview: call the contact offered, this agent reserved", {
                "200": seat_json, **_errors(404, 409)}, parameters=agent,
                description=f"{not_agents}, not a preview campaign, or no offer standing."),
        },
        "/campaigns/{campaign_id}/seats/{agent_id}/skip": {
            "post": op("Preview: pass on the contact offered (it ends as `skipped`)", {
                "200": seat_json, **_errors(404, 409)}, parameters=agent,
                description=f"{not_agents}, or no offer standing."),
        },
        "/campaigns/{campaign_id}/seats/{agent_id}/disposition": {
            "post": op("End the wrap-up with the agent's disposition", {
                "200": seat_json, **_errors(400, 404, 409, 413, 415)}, parameters=agent,
                body=_body(_object({"disposition": _string(
                    40, pattern=_pattern(DISPOSITION_PATTERN), description=DISPOSITION_FORM)},
                    ("disposition",))),
                description=f"{not_agents}, or the seat is not wrapping up. Kept on the "
                            "contact as `answers.agent_disposition`."),
        },
    }


def _callback_paths() -> dict:
    callback = [_param("callback_id"), _param("origin")]
    status = _json("The request: status, place in line, history", _ref("Callback"))
    errors = {"403": {"$ref": "#/components/responses/OriginRefused"}}
    preflight = {"204": {"description": "CORS preflight answered for an allowed origin"},
                 **errors}
    return {
        "/callbacks": {
            "post": _public("Ask to be called back", {
                "202": _json("Accepted: scheduled or queued", _ref("Callback")),
                "400": {"$ref": "#/components/responses/CallbackError"},
                **errors,
                "409": _json("One open request per number and queue (`already_requested`, "
                             "with `id` and `status_url`), or the number is waiting on a call "
                             "(`already_in_line`).", _ref("CallbackError")),
                "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
                "429": {"description": "Too many requests from this client or for this "
                                       "number", "headers": {"Retry-After": {
                                           "schema": {"type": "integer"},
                                           "description": "Seconds"}},
                        "content": {"application/json": {"schema": _ref("CallbackError")}}},
            }, parameters=[_param("origin")], body=_body(_ref("CallbackForm"), required=False,
                                                           form=True)),
            "options": _public("CORS preflight", preflight, parameters=[_param("origin")]),
        },
        "/callbacks/{callback_id}": {
            "get": _public("A request's status", {
                "200": {"description": "JSON, or with `Accept: text/html` the status page "
                                       "with a cancel button",
                        "content": {"application/json": {"schema": _ref("Callback")},
                                    "text/html": {"schema": {"type": "string"}}}},
                **errors, "404": {"$ref": "#/components/responses/CallbackNotFound"}},
                parameters=callback),
            "delete": _public("Cancel a request (again: still 200)", {
                "200": status, **errors,
                "404": {"$ref": "#/components/responses/CallbackNotFound"},
                "409": _json("Too late: connected, completed or failed (`not_cancellable`)",
                             _ref("CallbackError"))}, parameters=callback),
            "options": _public("CORS preflight", preflight, parameters=callback),
        },
        "/callbacks/widget.js": {"get": _public("The embeddable widget", {
            "200": {"description": "JavaScript",
                    "content": {"application/javascript": {"schema": {"type": "string"}}}}})},
        "/callbacks/widget": {"get": _public("A preview page embedding the widget", {
            "200": {"description": "HTML", "content": {"text/html": {"schema": {
                "type": "string"}}}}},
            parameters=[_query(name, {"type": "string", "pattern": _pattern(regex.pattern)},
                               "Becomes the widget's attribute when well formed.")
                        for name, regex in PREVIEW_PARAMS.items()])},
    }


def _campaign_input() -> dict:
    """``POST /campaigns``'s body, from ``campaigns.campaign_input``'s rules."""
    spans = {"type": "array", "minItems": 1, "items": {
        "type": "string", "pattern": r"^\d\d:\d\d-\d\d:\d\d$"}}
    weekly = {"type": "object", "minProperties": 1, "additionalProperties": spans,
              "description": "`mon`, `mon-fri`, ... -> spans like `09:00-20:00` in the "
                             "recipient's local time, inside 08:00-21:00."}
    rule = _object({"delay_seconds": _integer(*campaign_input.RETRY_DELAY),
                    "max_attempts": _integer(*campaign_input.RETRY_ATTEMPTS)},
                   ("delay_seconds", "max_attempts"))
    e164 = {"type": "string", "pattern": r"^\+[1-9][0-9]{1,14}$"}
    ident = _string(64, pattern=_pattern(ID_PATTERN))
    numbers = {name: {"type": "number", "minimum": low, "maximum": high}
               for name, (low, high) in campaign_input.NUMBERS.items()}
    integers = {name: _integer(low, high)
                for name, (low, high) in campaign_input.INTEGERS.items()}
    overrides = _object({
        "country_windows": {"type": "object", "nullable": True,
                            "additionalProperties": weekly,
                            "description": "ISO country -> stricter weekly hours"},
        "restricted_dates": {"type": "array", "nullable": True,
                             "items": {"type": "string", "format": "date"}},
        "caps": {"type": "array", "nullable": True, "items": _object({
            "channel": {"type": "string", "enum": list(CHANNELS)},
            "count": _integer(1, 1000), "days": _integer(1, 365)},
            ("channel", "count", "days"))},
        "debt_cap": {"type": "array", "nullable": True, "minItems": 2, "maxItems": 2,
                     "items": _integer(1, 1000), "description": "[count, days]"},
        "abandoned_hold_hours": _integer(0, 720),
        "consent_required": {"type": "array", "nullable": True,
                             "items": {"type": "string", "enum": list(PURPOSES)}},
    }, description="Overrides of the compliance gate's defaults for this campaign.")
    assert set(overrides["properties"]) == set(COMPLIANCE_OVERRIDES)
    schema = _object({
        "name": _text(campaign_input.MAX_NAME),
        "kind": {"type": "string", "enum": list(KINDS)},
        "purpose": {"type": "string", "enum": list(campaign_input.PURPOSES)},
        "list_id": _string(19, pattern=_pattern(PATH_PATTERNS["list_id"])),
        "caller_id": e164 | {"description": "E.164; always sent as the caller ID"},
        "starts_at": {"type": "string", "format": "date-time", "nullable": True},
        "ends_at": {"type": "string", "format": "date-time", "nullable": True},
        "window": weekly,
        "flow_id": ident | {"description": "agentless (required): a published flow"},
        "queue_id": ident | {"description": "agent kinds (required), agentless (optional)"},
        "template": _string(64, pattern=_pattern(campaign_input.SMS_TEMPLATE.pattern),
                            description="sms (required): a text template (a folder of "
                                        "chalicelib/templates/campaigns/)"),
        "language": {"type": "string", "enum": list(campaign_input.LANGUAGES),
                     "default": "en-US"},
        "machine": {"type": "string", "enum": list(campaign_input.MACHINE_POLICIES),
                    "default": "hangup"},
        "machine_template": _string(64, pattern=_pattern(
            campaign_input.VOICE_TEMPLATE.pattern)),
        "abandon_template": _string(64, pattern=_pattern(
            campaign_input.VOICE_TEMPLATE.pattern)),
        "retries": {"type": "object", "properties": dict.fromkeys(RETRYABLE, rule),
                    "additionalProperties": False},
        **integers, **numbers,
        "fallback_tz": _string(64, nullable=True, description="IANA zone; default: the "
                                                               "list's"),
        "compliance": overrides,
        "subject_attribute": _string(64, nullable=True, description="The list column "
                                                                    "naming a debt"),
        "start": {"type": "boolean", "default": False},
    }, ("name", "kind", "purpose", "list_id", "caller_id"))
    assert set(schema["properties"]) == campaign_input.FIELDS
    return schema


def _campaign_paths() -> dict:
    nullable = {"nullable": True}
    text, when = {"type": "string"}, {"type": "string", "format": "date-time"}
    campaign = {"type": "object", "required": ["campaign_id", "status"], "properties": {
        "campaign_id": text, "name": text, "kind": {"type": "string", "enum": list(KINDS)},
        "channel": text, "purpose": text,
        "status": {"type": "string", "enum": list(CAMPAIGN_STATUSES)},
        "version": {"type": "integer"},
        "list_id": text, "caller_id": text, "created_at": when,
        **{name: when | nullable for name in ("updated_at", "starts_at", "ends_at",
                                               "started_at", "ended_at")},
        **{name: text | nullable for name in ("flow_id", "queue_id", "template",
                                               "machine_template", "subject_attribute")},
        "window": {"type": "object"}, "language": text, "machine": text,
        "abandon_template": text, "retries": {"type": "object"}, "fallback_tz": text,
        "compliance": {"type": "object"}, "loaded": {"type": "integer"},
        "load_done": {"type": "boolean"},
        **{name: {"type": "number"} for name in campaign_input.NUMBERS},
        **{name: {"type": "integer"} for name in campaign_input.INTEGERS},
    }}
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    progress = {"type": "object", "properties": {
        "contacts": {"type": "object", "properties": {
            "by_status": {"type": "object", "properties": {
                status: {"type": "integer"} for status in ("waiting", "in_progress", "done")}},
            "by_disposition": counts, "loaded": {"type": "integer"},
            "load_done": {"type": "boolean"},
            "list_size": {"type": "integer", "nullable": True},
            "list_status": text | nullable}},
        "live": {"type": "object", "properties": {
            "since": when, "window_hours": {"type": "integer"},
            **{name: {"type": "integer"} for name in ("dials", "live_answers", "abandoned",
                                                      "machine_answers", "texts",
                                                      "ringing")},
            "abandon_rate": {"type": "number", "description": "abandoned / live answers"},
            "answer_rate": {"type": "number", "description": "live answers / dials"}}},
        "pace": {"type": "object", "nullable": True, "description": "The pacer's last "
                 "decision: dial_level, mode, answer_rate, abandon_rate, at"},
        "segments": {"type": "object", "nullable": True, "description": "SMS: what the "
                     "texts cost in segments (GSM-7 or UCS-2), counted over the list's "
                     "first rows and extrapolated to all"}}}
    report = {"allOf": [campaign, {"type": "object", "properties": {"progress": progress}}]}
    campaign_json = _json("The campaign", campaign)
    ident = [_param("campaign_id")]
    recycle = _object({"dispositions": {
        "type": "array", "minItems": 1, "items": {
            "type": "string", "enum": list(campaign_admin.RECYCLABLE)}}}, ("dispositions",))

    def lifecycle(summary: str, description: str) -> dict:
        return {"post": _admin(summary, {"200": campaign_json, **_errors(404, 409)},
                               parameters=ident, description=description,
                               tag="campaigns")}

    return {
        "/campaigns": {
            "post": _admin("Create a campaign (draft; `start: true` starts it)", {
                "201": campaign_json, **_errors(400, 409, 413, 415)},
                body=_body(_campaign_input()), tag="campaigns",
                description="Everything it names is checked now, never at dial time: the "
                            "contact list, the published flow (agentless), the queue "
                            "(agent kinds), the voice and text templates. 400 names the "
                            "field; 409 when `start` is asked on a list still importing."),
            "get": _admin("Campaigns, newest first", {"200": _json("Campaigns", {
                "type": "object", "properties": {"campaigns": {"type": "array",
                                                               "items": campaign}}})},
                tag="campaigns"),
        },
        "/campaigns/{campaign_id}": {"get": _admin(
            "A campaign and its progress: contacts by status and disposition, live "
            "abandonment and answer rates, calls ringing, the dial level",
            {"200": _json("The campaign and its progress", report), **_errors(404)},
            parameters=ident, tag="campaigns")},
        "/campaigns/{campaign_id}/start": lifecycle(
            "Start: scheduled until `starts_at`, then running",
            "409 unless a draft, or when its list is not completely imported or its end "
            "date has passed."),
        "/campaigns/{campaign_id}/pause": lifecycle(
            "Pause: no new call or text from the next tick", "409 unless running or "
            "scheduled."),
        "/campaigns/{campaign_id}/resume": lifecycle("Resume a paused campaign",
                                                     "409 unless paused."),
        "/campaigns/{campaign_id}/stop": lifecycle(
            "Stop for good (contacts stay as they are)", "409 once completed or stopped."),
        "/campaigns/{campaign_id}/recycle": {"post": _admin(
            "Send contacts done with these dispositions back to waiting, attempts reset", {
                "200": _json("How many moved; `more`: send the request again", {
                    "type": "object", "properties": {
                        "campaign_id": text, "recycled": {"type": "integer"},
                        "more": {"type": "boolean"}}}),
                **_errors(400, 404, 409, 413, 415)},
            parameters=ident, body=_body(recycle), tag="campaigns",
            description="At most 2,000 contacts a request. Answered, replied, opted-out, "
                        "blocked and invalid numbers are never recycled (400); a completed "
                        "or stopped campaign recycles nothing (409).")},
        "/campaigns/{campaign_id}/results": {"get": _admin(
            "The results as CSV: one row per contact", {
                "200": {"description": "`phone,name,status,attempts,outcome,disposition,"
                                       "answered_at,last_attempt_at,agent_id`, one "
                                       "`answer_<key>` column per survey answer, `history`",
                        "content": {"text/csv": {"schema": {"type": "string"}}}},
                **_errors(404)},
            parameters=ident, tag="campaigns")},
    }


def _billing_paths() -> dict:
    """Accounts and payments (``reminders.accounts_api``)."""
    text, nullable = {"type": "string"}, {"type": "string", "nullable": True}
    money = _string(20, pattern=r"^[0-9]+(\.[0-9]+)?$",
                    description="A decimal string in the currency's major unit (`42.17`); "
                                "never a JSON number.")
    currency = {"type": "string", "enum": list(CURRENCY_EXPONENTS), "default": "USD"}
    account: dict = {"type": "object", "properties": {
        "account_id": text, "holder": text, "phones": {"type": "array", "items": text},
        "language": text, "timezone": nullable, "currency": text, "amount_due": text,
        "amount_due_minor": {"type": "integer"}, "due_date": nullable,
        "status": {"type": "string", "enum": list(ACCOUNT_STATUSES)},
        "promised_until": nullable,
        "reminder_blocker": {"type": "string", "nullable": True, "description":
                             "Why no reminder may go now (`paid`, `disputed`, `in_plan`, "
                             "`written_off`, `promised`, `nothing_due`, `no_due_date`); "
                             "null when one may."},
        "version": {"type": "integer"}, "updated_at": nullable, "source_version": nullable}}
    payment = {"type": "object", "properties": {
        "payment_id": text, "account_id": text, "amount": text,
        "amount_minor": {"type": "integer"}, "currency": text,
        "source": {"type": "string", "enum": list(PAYMENT_SOURCES)}, "at": text,
        "status": {"type": "string", "enum": ["applied", "reversed"]},
        "confirmation": nullable, "card_last4": nullable, "reversed_at": nullable}}
    report = {**account, "properties": {**account["properties"],
                                        "payments": {"type": "array", "items": payment}}}
    create = _object({
        "account_id": _string(64, pattern=_pattern(ID_PATTERN)), "holder": _text(200),
        "phones": {"type": "array", "minItems": 1, "maxItems": 5, "items": _string(32),
                   "description": "E.164, the primary first"},
        "language": _string(35), "timezone": _string(64), "currency": currency,
        "amount_due": money, "due_date": _string(10, nullable=True, description="YYYY-MM-DD"),
        "status": {"type": "string", "enum": list(ACCOUNT_STATUSES)},
        "source_version": _text(128, "The billing system's id of this change: the same id "
                                     "again changes nothing."),
        "source_seq": _integer(0, 10**18 - 1, description="Grows with every change: an older "
                                                           "change is ignored."),
    }, ("account_id", "holder", "phones", "amount_due", "source_version"), closed=False)
    pay = _object({
        "payment_id": _string(64, pattern=_pattern(ID_PATTERN)),
        "account_id": _string(64, pattern=_pattern(ID_PATTERN)),
        "amount": money, "currency": currency,
        "source": {"type": "string", "enum": ["billing", "agent"], "default": "billing"},
        "at": {"type": "string", "format": "date-time"}, "confirmation": _string(64),
    }, ("payment_id", "account_id", "amount", "currency"), closed=False)
    saved = {"type": "object", "properties": {
        "account": account, "outcome": {"type": "string",
                                        "enum": ["created", "updated", "unchanged"]}}}
    recorded = {"type": "object", "properties": {"payment": payment, "account": account,
                                                 "applied": {"type": "boolean"}}}
    reversed_ = {"type": "object", "properties": {
        "payment": {**payment, "nullable": True}, "account": account,
        "reversed": {"type": "boolean"}}}
    row = {"type": "object", "properties": {
        "line": {"type": "integer"}, "account_id": nullable,
        "outcome": {"type": "string",
                    "enum": ["created", "updated", "unchanged", "rejected"]},
        "field": text, "error": text}}
    imported = {"type": "object", "properties": {
        "chunk": {"type": "integer"}, "last": {"type": "boolean"},
        **{name: {"type": "integer"} for name in
           ("received", "created", "updated", "unchanged", "rejected")},
        "rows": {"type": "array", "items": row}}}
    csv_body = {"required": True, "content": {"text/csv": {"schema": {
        "type": "string", "description": "CSV, a header line first (in every chunk): the "
                                          "fields of `POST /accounts` as columns (`phones` "
                                          "separated by `;`, or `phone`); `source_version` "
                                          "optional (default: the row's digest)."}}}}
    return {
        "/accounts": {"post": _admin(
            "Create or update an account (idempotent by `source_version`)", {
                "200": _json("Updated, or unchanged (the same change again, or an older "
                             "`source_seq`)", saved),
                "201": _json("Created", saved), **_errors(400, 409, 413, 415)},
            body=_body(create), tag="accounts")},
        "/accounts/import": {"post": _admin(
            "Import one CSV chunk of accounts (at most 5 MB and 2,000 rows)", {
                "200": _json("Each row's outcome and the counts", imported),
                **_errors(400, 413, 415)},
            parameters=[_query("chunk", _integer(0, 99_999), "The chunk's number, from 0.",
                               True),
                        _query("last", {"type": "string", "enum": ["true", "false"]},
                               "`true` on the file's last chunk.")],
            body=csv_body,
            description="A bad row never stops the import: it is reported `rejected` with "
                        "its `field` and `error`. Rows are idempotent: a chunk sent again "
                        "reports them `unchanged`.", tag="accounts")},
        "/accounts/{account_id}": {"get": _admin(
            "The account: balance, status, why a reminder may not go now, payments",
            {"200": _json("The account", report), **_errors(404)},
            parameters=[_param("account_id")], tag="accounts")},
        "/payments": {"post": _admin(
            "Record a payment (idempotent by `payment_id`)", {
                "201": _json("Applied: the account owes less", recorded),
                "200": _json("This payment id was recorded before: `applied` false",
                             recorded),
                **_errors(400, 404, 409, 413, 415)},
            body=_body(pay),
            description="409: the payment id was recorded with another account, amount, "
                        "currency or source. 400 `currency`: not the account's.",
            tag="payments")},
        "/payments/{payment_id}/reverse": {"post": _admin(
            "Reverse a payment (refund, chargeback): the account is due again", {
                "200": _json("`reversed` false: it was reversed before", reversed_),
                **_errors(404, 409)},
            parameters=[_param("payment_id")], tag="payments")},
    }


def _report_paths() -> dict:
    figures = {name: {"type": "number", "nullable": True} for name in (
        "offered", "answered", "abandoned", "service_level", "asa_seconds", "abandon_rate",
        "average_abandon_wait_seconds", "abandoned_in_sl")}
    row = {"type": "object", "properties": {
        "queue_id": {"type": "string"}, "day": {"type": "string", "format": "date"},
        "half_hour": {"type": "string", "description": "`HH:MM` local; `HH:MM+` in the hour "
                                                      "a fall-back night repeats"},
        **figures}}
    report = {"type": "object", "properties": {
        "kind": {"type": "string"}, "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"}, "interval": {"type": "string"},
        "rows": {"type": "array", "items": row}, "totals": {"type": "array", "items": row},
        "next": {"type": "string", "nullable": True,
                 "description": "The next page's path and query, relative to the API's base "
                                "URL (`/reports/agents?...&cursor=...`); null on the last "
                                "page and for the kinds that are one page"}}}
    kind = {"name": "kind", "in": "path", "required": True,
            "description": "The report: `queues` (per queue, with the disposition codes its "
                           "calls were given: `disposition_<code>`); `agents` (per agent: "
                           "handled, talk, hold, wrap-up, AHT, occupancy, utilisation, "
                           "transfers, disposition codes, and a `ranking`); `ivr` (per "
                           "flow: calls, contained, containment, and a `funnel` per node: reached, "
                           "left_here, reached_share); `staffing` (one `queue`, by half-hour, "
                           "the week from `from` or next week; options `target_sl`, "
                           "`answer_within`, `shrinkage`, `patience` (Erlang A), "
                           "`max_occupancy`, `aht`, `weeks`); `campaigns` (per campaign and "
                           "local day: dials, live_answers, abandoned, abandon_rate, "
                           "machine_answers, texts, average_talk_seconds; totals with "
                           "contacts by disposition and, for reminder batches, paid accounts "
                           "and amounts; day only); `opt-outs` (per channel and UTC day: "
                           "opt_outs, opt_ins, net; day only); `repeat-callers` (one "
                           "`hotline`, required; numbers that called at least `times` times "
                           "within `days` days, their last outcomes, first-contact "
                           "resolution); `missed` (per hotline and day: missed by reason, "
                           "followed_up, average_follow_up_seconds).",
            "schema": {"type": "string", "enum": ["queues", "agents", "ivr", "staffing",
                                                  "campaigns", "opt-outs", "repeat-callers",
                                                  "missed"]}}
    return {"/reports/{kind}": {"get": _admin(
        "A report by local day or half-hour, from the rollups", {
            "200": {"description": "The report (JSON), its rows as CSV (`format=csv`), or a "
                                   "workbook (`format=xlsx`; send its type in `Accept`): one "
                                   "page of it",
                    "headers": {"Link": {
                        "description": "A file (CSV, text, XLSX) with a next page: "
                                       "`<.../reports/{kind}?...&cursor=...>; rel=\"next\"`, "
                                       "relative to the request's URL (JSON says it in `next`)",
                        "schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": report},
                                "text/csv": {"schema": {"type": "string"}},
                                "text/plain": {"schema": {"type": "string"}},
                                "application/vnd.openxmlformats-officedocument.spreadsheetml"
                                ".sheet": {"schema": {"type": "string", "format": "binary"}}}},
            **_errors(400, 404)},
        parameters=[
            kind,
            _query("from", {"type": "string", "format": "date"},
                   "First local day; default 30 days before `to`."),
            _query("to", {"type": "string", "format": "date"}, "Last local day; default today."),
            _query("interval", {"type": "string", "enum": ["day", "half-hour"]},
                   "`day` (at most 366 days) or `half-hour` (at most 31)."),
            _query("queue", {"type": "string"}, "One queue (404 if unknown); default all."),
            _query("flow", {"type": "string"}, "`ivr`: one published flow (404 if not)."),
            _query("agent", {"type": "string"}, "`agents`: one agent (404 if unknown)."),
            _query("campaign", {"type": "string"}, "`campaigns`: one campaign (404 if unknown)."),
            _query("channel", {"type": "string", "enum": ["sms", "voice"]},
                   "`opt-outs`: one channel."),
            _query("hotline", {"type": "string"}, "`repeat-callers` (required), `missed`: one "
                   "hotline, E.164 (`%2B14155550100` or digits); 404 if unknown."),
            _query("times", {"type": "integer", "minimum": 2, "maximum": 1000},
                   "`repeat-callers`: N calls (default 3)."),
            _query("days", {"type": "integer", "minimum": 1, "maximum": 31},
                   "`repeat-callers`: within D days (default 7)."),
            _query("format", {"type": "string", "enum": ["json", "csv", "xlsx", "text"]},
                   "`csv`, `xlsx` or `text` (aligned plain-text tables): a download."),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 10000},
                   "Rows a page holds at most (default 10000). `queues`, `agents`, `ivr`, "
                   "`missed`, `campaigns`: a page holds whole members (a queue, agent, flow, "
                   "hotline, campaign with all its rows and totals, by id; one member with "
                   "more rows than `limit` is a page alone); `repeat-callers`: numbers in "
                   "the report's order. The other kinds are one page."),
            _query("cursor", {"type": "string", "maxLength": 1024},
                   "Opaque: the next page, as `next` (or the `Link` header) gives it. Send it "
                   "with the query it came with (`limit` and `format` may change): 400 "
                   "naming `cursor` otherwise, or for a kind that is one page.")],
        tag="reports",
        description="Service level: answered within the queue's threshold over answered (as "
                    "the board). Every day or half-hour of the range is a row, zeros where "
                    "nothing happened. Large reports come in pages (`limit`, `cursor`, "
                    "`next`): `ranking` ranks the page's agents; every other total is one "
                    "member's (`repeat-callers`: the hotline's, the same on every page).")},
        **_report_page_paths()}


def _report_page_paths() -> dict:
    """The report pages (``reports.page_routes``): HTML and the bundled Chart.js, no key."""
    page_kind = {"name": "kind", "in": "path", "required": True,
                 "description": "The report with a page: every kind of `GET /reports/{kind}`.",
                 "schema": {"type": "string", "enum": list(PAGE_KINDS)}}
    date_ = {"type": "string", "format": "date"}
    return {
        "/reports/{kind}/page": {"get": _operation("reports", "The report as charts", [], {
            "200": {"description": "HTML holding no figures: its script fetches "
                                   "`GET /reports/{kind}` with the API key typed into the page",
                    "content": {"text/html": {"schema": {"type": "string"}}}},
            **_errors(404)},
            parameters=[
                page_kind,
                _query("from", date_, "First local day, passed on to the report."),
                _query("to", date_, "Last local day, passed on to the report."),
                _query("interval", {"type": "string", "enum": ["day", "half-hour"]},
                       "Passed on to the report."),
                _query("queue", {"type": "string"}, "queues: one queue (default all); "
                       "staffing: the queue to plan (required)."),
                _query("agent", {"type": "string"}, "agents: one agent; default all."),
                _query("flow", {"type": "string"}, "ivr: one flow; default all."),
                _query("campaign", {"type": "string"}, "campaigns: one campaign."),
                _query("channel", {"type": "string", "enum": ["sms", "voice"]},
                       "opt-outs: one channel."),
                _query("hotline", {"type": "string"}, "repeat-callers: the hotline (E.164, "
                       "required); missed: one hotline."),
                _query("times", {"type": "integer"}, "repeat-callers: N, calls at least "
                       "(default 3)."),
                _query("days", {"type": "integer"}, "repeat-callers: D, within days "
                       "(default 7)."),
                _query("target_sl", {"type": "number"}, "staffing: service-level target "
                       "(share)."),
                _query("answer_within", {"type": "number"}, "staffing: seconds."),
                _query("shrinkage", {"type": "number"}, "staffing: share."),
                _query("patience", {"type": "number"}, "staffing: seconds (Erlang A); absent: "
                       "Erlang C."),
                _query("lang", {"type": "string", "enum": ["en", "zh"]},
                       "The page's language (default `en`); ill-formed parameters are "
                       "left out.")])},
        "/reports/static/chart.js": {"get": _operation("reports", "Chart.js, as bundled", [], {
            "200": {"description": "JavaScript (cached a year; the page asks for `?v=<version>`)",
                    "content": {"application/javascript": {"schema": {"type": "string"}}}},
            "404": {"description": "Not bundled (`make bundle`)",
                    "content": {"application/javascript": {"schema": {"type": "string"}}}}})},
    }


def _reminder_paths() -> dict:
    """Reminder batches (``reminders.batches``)."""
    text, day = {"type": "string"}, _string(10, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                             description="YYYY-MM-DD")
    counts = {"type": "object", "additionalProperties": {"type": "integer"},
              "description": "Accounts refused by reason: `no_phone`, `duplicate_phone`, "
                             "`promised`, `disputed`, ..."}
    how = {
        "channel": {"type": "string", "enum": ["sms", "voice", "agent"], "description": (
            "`sms`: a text (`template`); `voice`: a call running `flow`; `agent`: a "
            "progressive campaign for `queue`, whose agents join its open line "
            "(`POST /campaigns/{id}/seats`) and take each answered customer")},
        "template": _string(64, pattern=r"^[a-z][a-z0-9_]{0,63}$", description=(
            "SMS: a folder under templates/campaigns/ (`reminder_due`, `reminder_overdue`)")),
        "flow": _string(64, pattern=_pattern(ID_PATTERN), description=(
            "Voice: a published or bundled flow (default `reminder_call`)")),
        "queue": _string(64, pattern=_pattern(ID_PATTERN), description=(
            "Agent (required): the queue whose agents take the calls; unknown: 400")),
        "caller_id": _string(16, description="E.164, shown to the people reached"),
        "name": _text(200, "The campaign's name; for voice and agent the business name the "
                           "voicemail says (required)."),
        "language": {"type": "string", "enum": list(campaign_input.LANGUAGES)},
        "request_id": _string(64, pattern=_pattern(ID_PATTERN), description=(
            "Your id of this request: sent again, it answers the batch made the first time "
            "(200, `repeated`) and sends nothing more.")),
    }
    batch = _object({
        "segment": _object({
            "status": {"type": "string", "enum": ["overdue", "open", "current"]},
            "overdue_more_than_days": _integer(0, 3650), "due_from": day, "due_to": day},
            ("status",)),
        **how,
        "purpose": {"type": "string", "enum": ["collections", "informational"]},
        "starts_at": {"type": "string", "format": "date-time"},
        "preview": {"type": "boolean"},
    }, ("segment", "channel", "caller_id"))
    one = _object({"account_id": _string(64, pattern=_pattern(ID_PATTERN)), **how,
                   "at": {"type": "string", "format": "date-time"}},
                  ("account_id", "channel", "caller_id"))
    created = {"type": "object", "properties": {
        "batch_id": text, "accounts": {"type": "integer"}, "refused": counts,
        "campaign": {"type": "object"}}}
    preview = {"type": "object", "properties": {
        "preview": {"type": "boolean"}, "accounts": {"type": "integer"}, "refused": counts,
        "samples": {"type": "array", "items": {"type": "object", "properties": {
            "account_id": text, "holder": text, "language": text, "amount": text,
            "due_date": text}}}}}
    report = {"type": "object", "description": "The campaign's report (`GET /campaigns/{id}`) "
                                               "with `batch_id` and `results`",
              "properties": {"batch_id": text, "results": {"type": "object", "properties": {
                  **{name: {"type": "integer"} for name in
                     ("sent", "delivered", "answered", "opted_out")},
                  "by_disposition": {"type": "object"}, "paid": {"type": "object"}}}}}
    batch_id = _param("batch_id")
    return {
        "/reminder-batches": {"post": _admin(
            "Preview or send reminders to a segment of accounts (a campaign)", {
                "200": _json("Preview: nothing sent, nothing written", preview),
                "201": _json("The batch is created and its campaign running or scheduled",
                             created), **_errors(400, 409, 413, 415)},
            # 200 also answers the same `request_id` again (the batch made then)
            parameters=[_query("preview", {"type": "string", "enum": ["true", "false"]},
                               "`true`: count and sample only.")],
            body=_body(batch), tag="reminders",
            description="409: the segment reaches no account that may be reminded now. 413: "
                        "more than 5,000 accounts (narrow the segment).")},
        "/reminders": {"post": _admin(
            "Remind one account now (or `at`): a one-account batch", {
                "201": _json("The batch", created),
                "200": _json("The same `request_id` again: the batch made then", created),
                **_errors(400, 404, 409, 413, 415)},
            body=_body(one), tag="reminders",
            description="409 names why the account may not be reminded now (`paid`, "
                        "`promised`, `no_due_date`, `no_phone`...).")},
        "/reminder-batches/{batch_id}": {"get": _admin(
            "The batch's progress and results (texts, answers, opt-outs, paid since)", {
                "200": _json("The batch", report), **_errors(400, 404)},
            parameters=[batch_id, _query("paid_within_days", _integer(1, 365, 7),
                                         "Count payments this many days from the start.")],
            tag="reminders")},
        "/reminder-batches/{batch_id}/results": {"get": _admin(
            "The results as CSV: one row per account", {
                "200": {"description": "account_id, phone, disposition, attempts, paid, "
                                       "amount_paid, currency, last_payment_at",
                        "content": {"text/csv": {"schema": {"type": "string"}}}},
                **_errors(404)},
            parameters=[batch_id], tag="reminders")},
        "/reminder-policies": {"get": _admin(
            "The reminder policies and their steps", {
                "200": _json("Policies", {"type": "object", "properties": {
                    "policies": {"type": "array", "items": {"type": "object"}}}})},
            tag="reminders")},
        "/reminder-policies/{policy_id}/results": {"get": _admin(
            "What a policy's batches achieved: totals, per step, per batch", {
                "200": {"description": "JSON: `{policy, name, purpose, from, to, "
                                       "paid_within_days, totals, steps, batches}`, each with "
                                       "accounts, sent, delivered, answered, opted_out, "
                                       "paid_accounts, amounts; CSV: a row per batch",
                        "content": {"application/json": {"schema": {"type": "object"}},
                                    "text/csv": {"schema": {"type": "string"}}}},
                **_errors(400, 404)},
            parameters=[_param("policy_id"),
                        _query("from", {"type": "string", "format": "date"},
                               "First day (UTC) a batch was made; default 30 days before `to`."),
                        _query("to", {"type": "string", "format": "date"},
                               "Last day (inclusive); default today. At most 366 days."),
                        _query("paid_within_days", _integer(1, 365, 7),
                               "Count payments this many days from each batch's start."),
                        _query("format", {"type": "string", "enum": ["json", "csv"]},
                               "`csv`: a download, a row per batch.")],
            tag="reminders")},
    }


def _console_paths() -> dict:
    """Signing in, and the console's pages (``console.routes``)."""
    html = {"content": {"text/html": {"schema": {"type": "string"}}}}
    lang = _query("lang", {"type": "string", "enum": ["en", "zh"]},
                  "The page's language; default: the browser's `Accept-Language`.")
    user = {"type": "object", "properties": {
        "username": {"type": "string"}, "name": {"type": "string"},
        "role": {"type": "string", "enum": ["agent", "supervisor", "admin"]},
        "agent_id": {"type": "string", "nullable": True},
        "queues": {"type": "array", "items": {"type": "string"}}}}
    credentials = {"type": "object", "required": ["username", "password"],
                   "additionalProperties": False, "properties": {
                       "username": _string(128), "password": _string(256)}}
    return {
        "/console/session": {
            "post": _operation("console", "Sign in", [], {
                "200": _json("The session: send `token` as `Authorization: Bearer`",
                             {"type": "object", "properties": {
                                 "token": {"type": "string"},
                                 "expires_at": {"type": "integer",
                                                "description": "Epoch seconds"},
                                 "expires_in": {"type": "integer",
                                                "description": "Seconds from now"},
                                 "user": user}}),
                "401": _json("Wrong user name or password (`code`: `bad_credentials`)",
                             _ref("Refusal")),
                **_errors(400, 413)},
                body={"required": True, "content": {"application/json": {
                    "schema": credentials}}}),
            "get": _admin("Who the session is", {"200": _json("The user", {
                "type": "object", "properties": {"user": user}})}, tag="console")},
        "/console": {"get": _operation("console", "The sign-in page", [], {
            "200": {"description": "HTML", **html}}, parameters=[lang])},
        "/console/{page}": {"get": _operation("console", "A console page", [], {
            "200": {"description": "HTML holding no data: its script signs in and reads the "
                                   "admin API", **html},
            **_errors(404)},
            parameters=[{"name": "page", "in": "path", "required": True,
                         "schema": {"type": "string", "enum": ["desk", "board", "campaigns"]}},
                        lang])},
        "/console/static/{name}": {"get": _operation("console", "A console script or style", [],
            {"200": {"description": "JavaScript or CSS",
                     "content": {"application/javascript": {"schema": {"type": "string"}},
                                 "text/css": {"schema": {"type": "string"}}}},
             **_errors(404)},
            parameters=[{"name": "name", "in": "path", "required": True,
                         "schema": {"type": "string", "maxLength": 64}}])},
    }
