"""What the routing admin API does: validate a JSON body, build the routing dataclasses, store them.

Plain values in (a parsed body, ``now``), JSON-ready dicts out, so the Chalice routes in
``routing.routes`` stay a few lines each. Three exceptions say what went wrong and the routes map
them to HTTP: ``InvalidRequest`` 400, ``NotFound`` 404, ``Conflict`` 409.

Validation is strict: an unknown field is refused, because a typo ("skils") silently dropping an
agent's skills would only show as calls routed wrongly. Every message starts with the field's
path (``skills.billing``, ``tiers[0].tier``) so a form can point at it. Fields that ``GET``
returns but that are the agent's live state (``state``, ``calls_today``, ...) are ignored on
``PUT``, so GET → edit → PUT works, and the state only ever changes through ``change_state``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Literal, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from chalicelib.api_errors import Conflict, InvalidRequest, NotFound
from chalicelib.api_input import ID_PATTERN
from chalicelib.hours.weekly import opening_minutes
from chalicelib.logs import mask_text
from chalicelib.routing import agent_states, alerts, wrap_up
from chalicelib.routing.estimates import abandon_rate
from chalicelib.routing.model import (
    Agent,
    AgentState,
    Endpoint,
    OverflowTier,
    QueueConfig,
    QueueDayFigures,
    Strategy,
    TransferRefused,
    business_day,
)
from chalicelib.routing.monitor import MODES as MONITOR_MODES
from chalicelib.store import routing as store
from chalicelib.store.calls import get_call

log = logging.getLogger(__name__)

_ID = re.compile(ID_PATTERN)  # the form the API's paths accept too (api_input.path_id)
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
CALLER_REGION = re.compile(r"[A-Z]{2}|\+[0-9]{1,14}")  # an ISO country, or a dialling prefix
_CLIENT = re.compile(r"[A-Za-z0-9_.@-]{1,128}")

AGENT_FIELDS = frozenset(
    {"agent_id", "name", "endpoint", "skills", "queues", "languages", "regions",
     "wrap_up_seconds", "mobile", "timezone"}
)
AGENT_LIVE_FIELDS = frozenset(
    {"state", "state_since", "state_reason", "idle_since", "calls_today", "missed_in_row"}
)
QUEUE_FIELDS = frozenset(QueueConfig.__dataclass_fields__)
# With no overflow set, the flow's queue node decides (its on_overflow, e.g. voicemail).
OVERFLOW_KINDS = ("queue", "callback", "transfer")
OVERFLOW_FIELDS = {"queue": frozenset({"kind", "queue"}), "callback": frozenset({"kind"}),
                   "transfer": frozenset({"kind", "to"})}
# Reserved, on-call and wrap-up follow the call (webhooks, the sweeper); people set only these.
HAND_STATES = (AgentState.AVAILABLE, AgentState.AWAY, AgentState.OFFLINE)
LINE_LIMIT = 1000  # entries a board reads per queue; a line holds at most max_size callers
# A board of more queues reads every agent once (the directory: a GetItem and a BatchGet per
# 100 agents) instead of a Query and a BatchGet per queue: 20 queues of 10 agents, 3 requests
# instead of 40 (``tests/bench/console.py``).
AGENTS_BY_QUEUE_UP_TO = 3
BOARD_THREADS = 8  # queues a board reads at once




# ---- validation -----------------------------------------------------------------------------


def _object(value, field: str, allowed: frozenset[str] | None = None) -> dict:
    if not isinstance(value, dict):
        raise InvalidRequest(field, "must be a JSON object")
    unknown = sorted(set(value) - allowed) if allowed is not None else []
    if unknown:
        prefix = "" if field == "body" else f"{field}."
        raise InvalidRequest(prefix + unknown[0], "is not a known field")
    return value


@overload
def _text(body: dict, key: str, *, required: Literal[True], field: str | None = None,
          max_length: int = 200) -> str: ...
@overload
def _text(body: dict, key: str, *, required: bool = False, field: str | None = None,
          max_length: int = 200) -> str | None: ...
def _text(body: dict, key: str, *, required: bool = False, field: str | None = None,
          max_length: int = 200) -> str | None:
    field = field or key
    value = body.get(key)
    if value is None:
        if required:
            raise InvalidRequest(field, "is required")
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidRequest(field, f"must be a non-empty string of at most {max_length} chars")
    return value.strip()


def _identifier(value, field: str) -> str:
    if value is None:
        raise InvalidRequest(field, "is required")
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidRequest(field, "must be 1 to 64 letters, digits, '_', '.' or '-'")
    return value


def _integer(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(field, f"must be an integer from {low} to {high}")
    return value


def _boolean(body: dict, key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise InvalidRequest(key, "must be true or false")
    return value


def _choice(body: dict, key: str, choices, default: str | None = None,
            field: str | None = None) -> str:
    value = body.get(key, default)
    allowed = [str(choice) for choice in choices]
    if value is None:
        raise InvalidRequest(field or key, f"is required: one of {', '.join(allowed)}")
    if value not in allowed:
        raise InvalidRequest(field or key, f"must be one of {', '.join(allowed)}")
    return value


def _e164(value, field: str) -> str:
    """A dialable number in E.164 (``+14155550100``), checked against libphonenumber's plans."""
    if not isinstance(value, str):
        raise InvalidRequest(field, "must be a phone number in E.164 form, like +14155550100")
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed) or value != (
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    ):
        raise InvalidRequest(field, "must be a valid phone number in E.164 form, like +14155550100")
    return value


def _levels(value, field: str) -> dict[str, int]:
    """Skill levels: ``{"billing": 7}``, each an integer from 1 to 10."""
    levels = _object(value if value is not None else {}, field)
    for name in levels:
        _identifier(name, f"{field}.{name}")
    return {
        name: _integer(level, f"{field}.{name}", 1, 10) for name, level in sorted(levels.items())
    }


def _strings(value, field: str, pattern: re.Pattern) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest(field, "must be a list of strings")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not pattern.fullmatch(item):
            raise InvalidRequest(f"{field}[{i}]", f"{json.dumps(item)} is not allowed here")
    return list(value)


# ---- agents ---------------------------------------------------------------------------------


def _endpoint(value) -> Endpoint:
    body = _object(value, "endpoint", frozenset({"kind", "address"}))
    kind = _choice(body, "kind", ("phone", "sip", "client"), "phone", field="endpoint.kind")
    address = _text(body, "address", required=True, field="endpoint.address", max_length=256)
    if kind == "phone":
        _e164(address, "endpoint.address")
    elif kind == "sip" and not re.fullmatch(r"sips?:[^@\s]+@[^@\s]+", address):
        raise InvalidRequest("endpoint.address", "must be a SIP URI like sip:alice@pbx.example")
    elif kind == "client" and not _CLIENT.fullmatch(address):
        raise InvalidRequest("endpoint.address", "must be a Twilio Client identity")
    return Endpoint(kind, address)


def _agent_from_body(body: dict, agent_id: str) -> Agent:
    body = {key: value for key, value in body.items() if key not in AGENT_LIVE_FIELDS}
    _object(body, "body", AGENT_FIELDS)
    if body.get("agent_id", agent_id) != agent_id:
        raise InvalidRequest("agent_id", "does not match the agent in the URL")
    queues = _object(body.get("queues", {}), "queues")
    for queue_id in queues:
        _identifier(queue_id, f"queues.{queue_id}")
    agent = Agent(
        agent_id=agent_id,
        name=_text(body, "name", required=True),
        endpoint=_endpoint(body.get("endpoint")),
        skills=_levels(body.get("skills"), "skills"),
        queues={q: _integer(tier, f"queues.{q}", 1, 99) for q, tier in sorted(queues.items())},
        languages=_strings(body.get("languages"), "languages", LANGUAGE_TAG),
        regions=_strings(body.get("regions"), "regions", CALLER_REGION),
        wrap_up_seconds=_integer(body.get("wrap_up_seconds", 30), "wrap_up_seconds", 0, 3600),
        mobile=_e164(body["mobile"], "mobile") if body.get("mobile") is not None else None,
    )
    configs: dict[str, QueueConfig] = {}
    for queue_id in agent.queues:
        config = store.get_queue(queue_id)
        if config is None:
            raise InvalidRequest(f"queues.{queue_id}", f"no queue '{queue_id}'")
        configs[queue_id] = config
    # the agent's day (calls today) is their own zone's, else their first queue's
    agent.timezone = _zone_name(body.get("timezone"), "timezone")
    if agent.timezone is None and configs:
        first = min(agent.queues, key=lambda queue_id: (agent.queues[queue_id], queue_id))
        agent.timezone = configs[first].zone
    if agent.mobile:
        holder = store.agent_by_mobile(agent.mobile)
        if holder is not None and holder.agent_id != agent_id:
            raise Conflict(f"mobile: already registered to agent '{holder.agent_id}'")
    return agent


def _zone_name(value, field: str) -> str | None:
    """An IANA time zone name (``America/New_York``), or None when not given."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidRequest(field, "must be an IANA time zone such as America/New_York")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(field, "is not an IANA time zone") from exc
    return value


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def agent_json(agent: Agent, now: datetime) -> dict:
    return {
        "agent_id": agent.agent_id,
        "name": agent.name,
        "endpoint": {"kind": agent.endpoint.kind, "address": agent.endpoint.address},
        "skills": agent.skills,
        "queues": agent.queues,
        "languages": agent.languages,
        "regions": agent.regions,
        "wrap_up_seconds": agent.wrap_up_seconds,
        "mobile": agent.mobile,
        "state": agent.state.value,
        "state_since": _iso(agent.state_since),
        "state_reason": agent.state_reason,
        "idle_since": _iso(agent.idle_since),
        "calls_today": agent_states.calls_handled_today(agent, now),
        "timezone": agent.timezone,
        "missed_in_row": agent.missed_in_row,
    }


def _stored_agent(agent_id: str) -> Agent:
    agent = store.get_agent(agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    return agent


def create_agent(body: dict, now: datetime) -> dict:
    agent_id = _identifier(body.get("agent_id"), "agent_id")
    agent = _agent_from_body(body, agent_id)
    if store.get_agent(agent_id) is not None:
        raise Conflict(f"agent '{agent_id}' already exists")
    store.save_agent_profile(agent, now)
    return agent_json(_stored_agent(agent_id), now)


def list_agents(now: datetime, queues: Collection[str] | None = None) -> dict:
    """Every agent, by id; with ``queues`` (a supervisor's), only those serving one of them."""
    agents = store.agents()  # by id, from the directory: no Scan
    if queues is not None:
        agents = [agent for agent in agents if set(agent.queues) & set(queues)]
    return {"agents": [agent_json(agent, now) for agent in agents]}


def get_agent(agent_id: str, now: datetime) -> dict:
    return agent_json(_stored_agent(agent_id), now)


def update_agent(agent_id: str, body: dict, now: datetime) -> dict:
    _stored_agent(agent_id)
    store.save_agent_profile(_agent_from_body(body, agent_id), now)
    return agent_json(_stored_agent(agent_id), now)


def change_state(
    agent_id: str, body: dict, now: datetime, on_available: Callable[[str], object]
) -> dict:
    """Move an agent to available, away or offline by hand, recording ``reason`` in history.

    ``on_available`` (the routing service's dispatch) runs after the agent became available; if
    it fails, the state change stands and the scheduled sweep offers the waiting callers.
    """
    _object(body, "body", frozenset({"state", "reason"}))
    state = AgentState(_choice(body, "state", [s.value for s in AgentState]))
    if state not in HAND_STATES:
        raise InvalidRequest("state", f"'{state}' follows the call; set available, away or offline")
    reason = _text(body, "reason")
    agent = _stored_agent(agent_id)
    if agent.state is state and state is not AgentState.AWAY:
        return agent_json(agent, now)  # already there: a repeated request changes nothing
    if agent.state is AgentState.RESERVED:
        raise Conflict(f"agent {agent_id} is being connected to a caller; try again when the call"
                       " is answered or the offer lapses")
    try:
        updated = agent_states.transition(agent, state, now, reason)
        store.change_agent_state(updated, agent.state, now)
    except agent_states.InvalidTransition as exc:
        raise Conflict(str(exc)) from exc
    except store.StateConflict as exc:
        raise Conflict(f"agent {agent_id} changed state meanwhile; read it and retry") from exc
    log.info("agent %s: %s -> %s (%s)", agent_id, agent.state.value, state.value,
             mask_text(reason or "no reason"))
    if state is AgentState.AVAILABLE:
        try:
            on_available(agent_id)
        except Exception:  # noqa: BLE001 - the state is stored; the sweep dispatches later
            log.exception("dispatch after agent %s became available failed", agent_id)
    return agent_json(_stored_agent(agent_id), now)


def agent_history(agent_id: str, limit: int = 50) -> dict:
    """The agent's state changes, newest first, at most ``limit`` (the API allows 1 to 500)."""
    _stored_agent(agent_id)
    events = store.agent_history(agent_id, limit=limit)
    return {
        "agent_id": agent_id,
        "events": [
            {"at": event.at.isoformat(), "state": event.state.value, "previous": event.previous,
             "reason": event.reason, "call_sid": event.call_sid}
            for event in events
        ],
    }


# ---- queues ---------------------------------------------------------------------------------


def _tiers(value) -> list[OverflowTier]:
    if not isinstance(value, list):
        raise InvalidRequest("tiers", "must be a list of {after_seconds, tier}")
    tiers = []
    for i, item in enumerate(value):
        field = f"tiers[{i}]"
        item = _object(item, field, frozenset({"after_seconds", "tier"}))
        tiers.append(OverflowTier(
            after_seconds=_integer(item.get("after_seconds"), f"{field}.after_seconds", 0, 86400),
            tier=_integer(item.get("tier"), f"{field}.tier", 1, 99),
        ))
    return tiers


def _overflow(value, queue_id: str) -> dict:
    """Where callers go when the queue gives up; only the target is checked here."""
    overflow = _object(value, "overflow")
    if not overflow:
        return {}
    kind = _choice(overflow, "kind", OVERFLOW_KINDS, field="overflow.kind")
    _object(overflow, "overflow", OVERFLOW_FIELDS[kind])  # stored as given: nothing else
    if kind == "transfer":
        _e164(overflow.get("to"), "overflow.to")
    if kind == "queue":
        target = _identifier(overflow.get("queue"), "overflow.queue")
        if target == queue_id:
            raise InvalidRequest("overflow.queue", "cannot overflow into the same queue")
    return overflow


def _hours(value) -> dict:
    """Queue hours like a flow's hours node: ``{timezone, weekly, holidays}``; {} = always."""
    hours = _object(value, "hours", frozenset({"timezone", "weekly", "holidays"}))
    if not hours:
        return {}
    timezone = _text(hours, "timezone", required=True, field="hours.timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest("hours.timezone", "is not an IANA time zone") from exc
    weekly = _object(hours.get("weekly"), "hours.weekly")
    for days, spans in weekly.items():
        if not isinstance(spans, list):
            raise InvalidRequest(f"hours.weekly.{days}", "must be a list of spans like 09:00-17:00")
    try:
        opening_minutes(weekly)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest("hours.weekly", str(exc)) from exc
    holidays = hours.get("holidays", [])
    days_off = []
    for i, day in enumerate(holidays if isinstance(holidays, list) else [None]):
        try:
            # stored as YYYY-MM-DD, the form the hours check compares with
            days_off.append(date.fromisoformat(day).isoformat())
        except (TypeError, ValueError) as exc:
            raise InvalidRequest(f"hours.holidays[{i}]", "must be a date YYYY-MM-DD") from exc
    # the stripped time zone: the calls and the board read it back with ZoneInfo
    return {"timezone": timezone, "weekly": weekly, "holidays": days_off}


def _queue_from_body(body: dict, queue_id: str) -> QueueConfig:
    _object(body, "body", QUEUE_FIELDS)
    if body.get("queue_id", queue_id) != queue_id:
        raise InvalidRequest("queue_id", "does not match the queue in the URL")
    base = QueueConfig(queue_id, name="")

    def number(key: str, low: int, high: int) -> int:
        return _integer(body.get(key, getattr(base, key)), key, low, high)

    def flag(key: str) -> bool:
        return _boolean(body, key, getattr(base, key))

    return QueueConfig(
        queue_id=queue_id,
        name=_text(body, "name", required=True),
        strategy=Strategy(_choice(body, "strategy", [s.value for s in Strategy], base.strategy)),
        required_skills=_levels(body.get("required_skills"), "required_skills"),
        tiers=_tiers(body.get("tiers", [])),
        max_wait_seconds=number("max_wait_seconds", 1, 86400),
        max_size=number("max_size", 1, 10000),
        overflow=_overflow(body.get("overflow", {}), queue_id),
        join_empty=_choice(body, "join_empty", ("overflow", "wait"), base.join_empty),
        sticky_days=number("sticky_days", 0, 365),
        sticky_wait_seconds=number("sticky_wait_seconds", 0, 600),
        vip_priority=number("vip_priority", 0, 999),
        region_routing=flag("region_routing"),
        whisper=flag("whisper"),
        record=flag("record"),
        announce_every_seconds=number("announce_every_seconds", 0, 3600),
        offer_callback=flag("offer_callback"),
        offer_voicemail=flag("offer_voicemail"),
        service_level_seconds=number("service_level_seconds", 1, 3600),
        max_misses=number("max_misses", 0, 50),
        hours=_hours(body.get("hours", {})),
        callback_strategy=_choice(body, "callback_strategy", ("agent-first", "customer-first"),
                                  base.callback_strategy),
        callback_max_attempts=number("callback_max_attempts", 1, 10),
        timezone=_zone_name(body.get("timezone"), "timezone") or "",
        dispositions=wrap_up.check_codes(body.get("dispositions", base.dispositions)),
        alerts=_alerts(body.get("alerts", {})),
    )


ALERT_LIMITS = {"callers_waiting": (0, 10000), "oldest_wait_seconds": (0, 86400),
                "min_answered_today": (0, 100000)}
ALERT_SHARES = ("service_level_below", "abandon_rate_above")


def _alerts(value) -> dict:
    """A queue's wallboard thresholds (``routing/alerts.py``): each optional, null = off."""
    body = _object(value, "alerts", frozenset({*ALERT_LIMITS, *ALERT_SHARES, "seconds_in_state"}))
    found: dict = {}
    for key, (low, high) in ALERT_LIMITS.items():
        if key in body:
            found[key] = None if body[key] is None else \
                _integer(body[key], f"alerts.{key}", low, high)
    for key in ALERT_SHARES:
        if key in body:
            share = body[key]
            if share is not None and (isinstance(share, bool) or
                                      not isinstance(share, (int, float)) or
                                      not 0 <= share <= 1):
                raise InvalidRequest(f"alerts.{key}", "must be a share from 0 to 1, or null")
            found[key] = share
    if "seconds_in_state" in body:
        states = _object(body["seconds_in_state"], "alerts.seconds_in_state",
                         frozenset(s.value for s in AgentState))
        found["seconds_in_state"] = {
            state: None if limit is None else
            _integer(limit, f"alerts.seconds_in_state.{state}", 1, 86400)
            for state, limit in states.items()}
    return found


def _stored_queue(queue_id: str) -> QueueConfig:
    config = store.get_queue(queue_id)
    if config is None:
        raise NotFound("queue", queue_id)
    return config


def create_queue(body: dict, now: datetime) -> dict:
    queue_id = _identifier(body.get("queue_id"), "queue_id")
    config = _queue_from_body(body, queue_id)
    if store.get_queue(queue_id) is not None:
        raise Conflict(f"queue '{queue_id}' already exists")
    store.save_queue(config, now)
    return store.config_to_dict(config)


def list_queues(visible: Collection[str] | None = None) -> dict:
    """Every queue's configuration, by id; with ``visible`` (a supervisor's), only those."""
    queues = store.queues()  # by id, from the directory: no Scan
    if visible is not None:
        queues = [config for config in queues if config.queue_id in visible]
    return {"queues": [store.config_to_dict(config) for config in queues]}


def get_queue(queue_id: str) -> dict:
    return store.config_to_dict(_stored_queue(queue_id))


def update_queue(queue_id: str, body: dict, now: datetime) -> dict:
    _stored_queue(queue_id)
    config = _queue_from_body(body, queue_id)
    store.save_queue(config, now)
    return store.config_to_dict(config)


# ---- the wallboard and the screen pop -------------------------------------------------------


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    return max(0, int((now - moment).total_seconds())) if moment else None


def queue_board(queue_id: str, now: datetime) -> dict:
    return _board(_stored_queue(queue_id), now)


def board(now: datetime, visible: Collection[str] | None = None) -> dict:
    """Every queue's board (``_board``), by id; with ``visible`` (a supervisor's queues), only
    those: the others are not read at all."""
    queues = store.queues()  # by id, from the directory: no Scan
    if visible is not None:
        queues = [config for config in queues if config.queue_id in visible]
    members: dict[str, list[Agent]] | None = None
    if len(queues) > AGENTS_BY_QUEUE_UP_TO:
        members = {config.queue_id: [] for config in queues}
        for agent in store.agents():
            for queue_id in agent.queues:
                if queue_id in members:
                    members[queue_id].append(agent)

    def one(config: QueueConfig) -> dict:
        return _board(config, now, members[config.queue_id] if members else None)

    if len(queues) <= 1:
        return {"as_of": now.isoformat(), "queues": [one(config) for config in queues]}
    # Each queue's reads wait on the network, not the CPU: a few at once.
    with ThreadPoolExecutor(max_workers=min(BOARD_THREADS, len(queues))) as pool:
        return {"as_of": now.isoformat(), "queues": list(pool.map(one, queues))}


def _board(config: QueueConfig, now: datetime, agents: list[Agent] | None = None) -> dict:
    """One queue's line and agents: one Query for the line, a GetItem for the day's figures,
    and (unless ``agents`` are given) a Query and a BatchGet for the agents."""
    line = [entry for entry in store.queue_entries(config.queue_id, limit=LINE_LIMIT)
            if entry.expires is None or entry.expires > now]  # TTL deletion lags
    calls = [entry for entry in line if entry.kind == "call"]
    if agents is None:
        agents = store.queue_agents(config.queue_id)
    agents = sorted(agents, key=lambda agent: agent.agent_id)
    by_state = {state.value: 0 for state in AgentState}
    for agent in agents:
        by_state[agent.state.value] += 1
    found = {
        "queue_id": config.queue_id,
        "name": config.name,
        "as_of": now.isoformat(),
        "callers_waiting": len(calls),
        "callers_being_connected": sum(1 for entry in calls if entry.status == "reserved"),
        "callbacks_waiting": len(line) - len(calls),
        "oldest_wait_seconds": _seconds_since(min((e.joined_at for e in calls), default=None),
                                              now),
        "agents_by_state": by_state,
        "agents": [
            {"agent_id": agent.agent_id, "name": agent.name, "state": agent.state.value,
             "state_reason": agent.state_reason,
             "seconds_in_state": _seconds_since(agent.state_since, now)}
            for agent in agents
        ],
        **_today(config, now),
    }
    found["alerts"] = alerts.board_alerts(found, alerts.thresholds_of(config.alerts))
    return found


def _today(config: QueueConfig, now: datetime) -> dict:
    """Service level, abandon rate and ASA so far today (the queue's local day, in
    ``QueueConfig.zone``), from the queue's day counters."""
    today = business_day(now, config.zone)
    day = store.queue_day(config.queue_id, today) or QueueDayFigures(config.queue_id, today)
    return {
        "day": today,
        "timezone": config.zone,
        "offered_today": day.offered,
        "answered_today": day.answered,
        "abandoned_today": day.abandoned,
        "service_level_today": service_level_share(day.answered_in_sl, day.answered),
        "service_level_seconds": config.service_level_seconds,
        "abandon_rate_today": abandon_rate(day.abandoned, day.offered),
        "average_speed_of_answer_today": (round(day.wait_seconds / day.answered, 1)
                                          if day.answered else None),
    }


def service_level_share(in_level: int, answered: int) -> float | None:
    return round(in_level / answered, 4) if answered else None


def previous_contacts(phone: str | None, current_call: str) -> list[dict]:
    """The caller's recent contacts with us, newest first, without the call in progress."""
    contact = store.get_contact(phone) if phone else None
    return [c for c in contact.recent if c.get("call_sid") != current_call] if contact else []


AccountOnScreen = Callable[[dict | None, datetime], dict | None]


def agent_context(agent_id: str, now: datetime,
                  account_on_screen: AccountOnScreen | None = None) -> dict:
    """The screen pop: who is calling, what they did in the IVR, and how long they waited;
    ``account``: what ``account_on_screen(customer, now)`` says of the billing account the
    customer record names (balance, status, last payments), None without one.

    The wait runs from joining the queue when the line entry is still there, else from the start
    of the call (which then includes the IVR).

    In wrap-up the call is the one just handled (``wrap_up.last_handled_call``), so the desk
    keeps the screen pop while the agent writes the note. For the wrap-up form the answer
    carries ``dispositions`` (the codes the call's queue offers, ``wrap_up.codes_for``),
    ``disposition`` (the code this agent gave the call, or None) and ``consult_state``
    (``hold``, ``dialing`` or ``talking`` during a warm transfer, else None).
    """
    agent = store.get_agent(agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    call_sid = agent.current_call or agent.reserved_call
    if not call_sid and agent.state is AgentState.WRAP_UP:
        call_sid = wrap_up.last_handled_call(agent)
    if not call_sid:
        raise NotFound("current call for agent", agent_id)
    record = get_call(call_sid)
    if record is None:
        raise NotFound("call", call_sid)
    entry = (store.get_entry(record.queue_id, record.queue_entry_key)
             if record.queue_id and record.queue_entry_key else None)
    joined = entry.joined_at if entry else None
    given = next((d for d in record.dispositions or [] if d.get("agent_id") == agent_id), None)
    return {
        "agent_id": agent_id,
        "agent_state": agent.state.value,
        "call_sid": call_sid,
        "caller": record.caller,
        "hotline": record.hotline,
        "language": record.language,
        "customer": record.customer,
        "queue_id": record.queue_id,
        "ivr_path": list(record.path or []),
        "inputs": dict(record.inputs or {}),
        "call_started_at": _iso(record.started_at),
        "joined_queue_at": _iso(joined),
        "waited_seconds": _seconds_since(joined or record.started_at, now),
        "previous_contacts": previous_contacts(record.caller, call_sid),
        "transfers": list(record.transfers or []),
        "account": account_on_screen(record.customer, now) if account_on_screen else None,
        "consult_state": record.consult_state,
        "dispositions": wrap_up.codes_for(record.queue_id),
        "disposition": given,
    }



TRANSFER_KINDS = ("queue", "agent", "number")
TRANSFER_MODES = ("cold", "warm")


def transfer(agent_id: str, body: dict, service) -> dict:
    """Transfer the agent's current caller, cold or warm; the call keeps its context."""
    _object(body, "body", frozenset({"to", "target", "mode"}))
    kind = _choice(body, "to", TRANSFER_KINDS)
    target = _text(body, "target", required=True)
    target = _e164(target, "target") if kind == "number" else _identifier(target, "target")
    mode = _choice(body, "mode", TRANSFER_MODES, default="cold")
    _stored_agent(agent_id)
    try:
        return service.transfer(agent_id, kind, target, mode)
    except TransferRefused as exc:
        raise Conflict(str(exc)) from exc


def finish_warm_transfer(agent_id: str, step: str, service) -> dict:
    """``complete`` hands the caller to the consulted party; ``cancel`` returns to the caller."""
    if step not in ("complete", "cancel"):
        raise NotFound("transfer step", step)
    _stored_agent(agent_id)
    try:
        return service.warm.complete(agent_id) if step == "complete" \
            else service.warm.cancel(agent_id)
    except TransferRefused as exc:
        raise Conflict(str(exc)) from exc


def hold_call(agent_id: str, on: bool, service) -> dict:
    """Put the agent's caller on hold (``on``) or bring them back (``routing/hold.py``);
    ``Conflict`` when the agent is on no call, a transfer runs, or nothing is held."""
    _stored_agent(agent_id)
    try:
        return service.holds.hold(agent_id) if on else service.holds.resume(agent_id)
    except TransferRefused as exc:
        raise Conflict(str(exc)) from exc


def monitor_call(agent_id: str, body: dict | None, service) -> dict:
    """``{"mode": "listen"|"whisper"|"barge", "endpoint": "client:<identity>"|"+E164"}`` starts
    or changes a supervisor's monitor of the agent's call; ``body`` None ends it
    (``routing/monitor.py``). ``Conflict`` when there is no live call or another monitors it."""
    _stored_agent(agent_id)
    try:
        if body is None:
            return service.monitors.stop(agent_id)
        _object(body, "body", frozenset({"mode", "endpoint"}))
        mode = _choice(body, "mode", MONITOR_MODES)
        endpoint = _text(body, "endpoint", required=True, max_length=140)
        if endpoint.startswith("client:"):
            if not _CLIENT.fullmatch(endpoint[len("client:"):]):
                raise InvalidRequest("endpoint", "must be client:<identity> or an E.164 number")
        else:
            _e164(endpoint, "endpoint")
        return service.monitors.monitor(agent_id, mode, endpoint)
    except TransferRefused as exc:
        raise Conflict(str(exc)) from exc


def set_disposition(agent_id: str, body: dict, now: datetime) -> dict:
    """``{"code", "call_sid"?, "note"?}``: what became of the agent's call (``routing/wrap_up.py``
    says which call and which codes)."""
    _object(body, "body", frozenset({"code", "call_sid", "note"}))
    code = _text(body, "code", required=True)
    call_sid = _text(body, "call_sid")
    if call_sid is not None:
        call_sid = _identifier(call_sid, "call_sid")
    return wrap_up.set_disposition(agent_id, code, call_sid,
                                   _text(body, "note", max_length=500), now)

