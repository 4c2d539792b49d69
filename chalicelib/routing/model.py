"""The routing vocabulary as plain data: agents, queues, waiting callers, and offers.

Everything here is free of AWS and HTTP so that strategies, overflow and estimates can be tested
on a simulated clock; ``chalicelib.store`` maps these to DynamoDB items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "UTC"  # a queue or agent that names no time zone
# what an agent may say became of a call, unless its queue names its own codes
DEFAULT_DISPOSITIONS = ("resolved", "follow_up", "escalated", "not_resolved", "wrong_number")


def business_day(now: datetime, zone: str | None) -> str:
    """The ISO date ``now`` falls on in time zone ``zone``: the business's local "today" that
    day counters, agents' calls today and the board's figures use (never UTC's day, which for
    a New York queue turns at 19:00 or 20:00)."""
    return now.astimezone(_zone(zone or DEFAULT_ZONE)).date().isoformat()


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class AgentState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    RESERVED = "reserved"  # chosen for a caller, being connected
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"  # after-call work
    AWAY = "away"  # break or away: logged in, not taking calls


class Strategy(StrEnum):
    LONGEST_IDLE = "longest-idle"
    ROUND_ROBIN = "round-robin"
    RING_ALL = "ring-all"
    FEWEST_CALLS = "fewest-calls-today"
    SKILLS = "skills-based"


@dataclass(frozen=True)
class Endpoint:
    """Where an agent's phone rings: a number, a SIP URI, or a Twilio Client identity."""

    kind: str  # "phone" | "sip" | "client"
    address: str


@dataclass
class Agent:
    agent_id: str
    name: str
    endpoint: Endpoint
    skills: dict[str, int] = field(default_factory=dict)  # skill -> level 1..10
    queues: dict[str, int] = field(default_factory=dict)  # queue id -> tier (1 = first)
    languages: list[str] = field(default_factory=list)
    wrap_up_seconds: int = 30
    state: AgentState = AgentState.OFFLINE
    state_since: datetime | None = None
    state_reason: str | None = None
    idle_since: datetime | None = None  # when the agent last became available after work
    calls_today: int = 0
    calls_today_date: str | None = None  # ISO date of calls_today, in the agent's day
    missed_in_row: int = 0
    mobile: str | None = None  # registered phone for SMS state commands
    regions: list[str] = field(default_factory=list)  # e.g. ["US", "+1415"]: caller regions
    reserved_until: datetime | None = None  # while reserved for a caller: when the offer lapses
    timezone: str | None = None  # IANA zone of the agent's working day (calls today)
    # as stored when read; written by ``store.routing.change_agent_state``'s own arguments
    reserved_call: str | None = None  # CallSid (or callback id) the agent is reserved for
    current_call: str | None = None  # CallSid of the call the agent is talking on
    # on an unsaved copy made by ``agent_states.transition``: the stored state it leaves and
    # since when (None on an agent as read), for the agent-time fact and the write's condition
    left_state: AgentState | None = None
    left_since: datetime | None = None
    profile_version: int = 0  # as read: a state change is counted in the queues it read


def language_for(agent: Agent, preferred: str | None) -> str | None:
    """The language to speak to ``agent`` in (whispers, agent-facing prompts and texts): the
    caller's ``preferred`` one if the agent speaks it (``en`` matches ``en-US``), else the first
    the agent lists; with none listed, ``preferred``."""
    if not agent.languages:
        return preferred
    if preferred:
        primary = preferred.split("-")[0].lower()
        for language in agent.languages:
            if language == preferred:
                return language
        for language in agent.languages:
            if language.split("-")[0].lower() == primary:
                return language
    return agent.languages[0]


@dataclass
class OverflowTier:
    """After ``after_seconds`` of waiting, agents of tier ``tier`` may take the call too."""

    after_seconds: int
    tier: int


@dataclass
class QueueConfig:
    queue_id: str
    name: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    required_skills: dict[str, int] = field(default_factory=dict)  # skills-based minimums
    tiers: list[OverflowTier] = field(default_factory=list)  # widen to later tiers over time
    max_wait_seconds: int = 600
    max_size: int = 50
    overflow: dict = field(default_factory=dict)  # {"kind": queue|voicemail|callback|transfer, ...}
    join_empty: str = "overflow"  # "overflow" (no agent logged in -> at once) or "wait"
    sticky_days: int = 0  # 0 = off
    sticky_wait_seconds: int = 30
    vip_priority: int = 10
    region_routing: bool = False
    whisper: bool = True
    record: bool = False
    announce_every_seconds: int = 60
    offer_callback: bool = True
    offer_voicemail: bool = True
    service_level_seconds: int = 20
    max_misses: int = 3  # offers an agent lets ring out in a row before being set away (0: never)
    hours: dict = field(default_factory=dict)  # {timezone, weekly, holidays}; empty = always open
    callback_strategy: str = "agent-first"  # or "customer-first" (calls the customer, then queues)
    callback_max_attempts: int = 3
    timezone: str = ""  # IANA zone of the queue's business day; "" = hours' zone, else UTC
    # the disposition codes its agents choose from at wrap-up (``routing/wrap_up.py``)
    dispositions: list[str] = field(default_factory=lambda: list(DEFAULT_DISPOSITIONS))
    # the wallboard's thresholds (``routing/alerts.py``): empty = the defaults
    alerts: dict = field(default_factory=dict)

    @property
    def zone(self) -> str:
        """The time zone of the queue's day: its own, else its hours', else UTC."""
        return self.timezone or (self.hours or {}).get("timezone") or DEFAULT_ZONE


@dataclass
class WaitingCaller:
    """A caller in a queue (or a queue-callback request keeping its place)."""

    call_sid: str
    queue_id: str
    caller: str
    joined_at: datetime
    priority: int = 0  # higher first
    language: str | None = None
    country: str | None = None  # ISO region of the caller's number
    customer_name: str | None = None
    vip: bool = False
    dedicated_agent: str | None = None  # a VIP's account manager
    sticky_agent: str | None = None  # who served this caller last, if recent
    skills: dict[str, int] = field(default_factory=dict)  # extra needs of this caller
    # the ticket of the place this caller takes over (a back-dated join: ``routing.tickets``);
    # None takes the next ticket of the band
    ticket: int | None = None


@dataclass(frozen=True)
class LineEntry:
    """A place in a queue's line as stored: a caller on hold (``kind`` "call") or a callback
    request keeping its place (``kind`` "callback"; ``call_sid`` is then the callback id).

    ``entry_key`` sorts the line in dispatch order (``<999-priority>#<joined ISO>#<call sid>``).
    ``status``: waiting | reserved (offered to ``reserved_agents`` until ``reserved_until``) |
    voicemail or callback (the caller chose to leave one; out of dispatch) | dialing (a
    customer-first callback being called). Times are aware UTC datetimes.
    """

    queue_id: str
    entry_key: str
    call_sid: str
    caller: str  # E.164 when the number is known
    joined_at: datetime
    priority: int = 0  # higher first
    status: str = "waiting"
    kind: str = "call"  # call | callback
    language: str | None = None
    country: str | None = None  # ISO region of the caller's number
    customer_name: str | None = None
    vip: bool = False
    dedicated_agent: str | None = None
    sticky_agent: str | None = None
    reserved_agents: tuple[str, ...] = ()  # agent ids, while reserved
    reserved_until: datetime | None = None
    line_caller: str | None = None  # "<queue>#<E.164>" on calls with a number
    expires: datetime | None = None  # TTL: deletion lags, so readers check it
    ticket: int | None = None  # its ticket in its priority band (``routing.tickets``)


@dataclass(frozen=True)
class QueueRouting:
    """A queue's configuration with its routing data, read together: ``handle_times`` are the
    last talk times in seconds (for estimated waits), ``last_agent_id`` the round-robin
    pointer."""

    config: QueueConfig
    handle_times: tuple[float, ...] = ()
    last_agent_id: str | None = None


@dataclass(frozen=True)
class QueuePresence:
    """How many of a queue's agents are in each state now (``store.presence``): read in O(1)
    whatever the queue's size, for admission, estimated waits and "is anyone free"."""

    queue_id: str
    counts: dict[AgentState, int]

    def __getitem__(self, state: AgentState) -> int:
        return max(0, self.counts.get(state, 0))

    @property
    def logged_in(self) -> int:
        """Agents not logged out (away included): a queue with none overflows."""
        return sum(self[state] for state in AgentState if state is not AgentState.OFFLINE)

    @property
    def staffed(self) -> int:
        """Agents taking calls (neither logged out nor away): they share the line's wait."""
        return self.logged_in - self[AgentState.AWAY]


@dataclass(frozen=True)
class QueueDayFigures:
    """One queue's counters for one day (``day``: ISO date in the queue's time zone).
    ``wait_seconds`` is summed over answered calls (for the average speed of answer)."""

    queue_id: str
    day: str
    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0  # answered within the queue's service level
    abandoned: int = 0
    wait_seconds: int = 0


@dataclass(frozen=True)
class ContactHistory:
    """What we remember of a caller (``phone``, E.164) across calls: who served them last and
    when (aware UTC), and their recent contacts, newest first, each
    ``{call_sid, at (ISO), queue_id, agent_id, outcome}``."""

    phone: str
    last_agent_id: str | None = None
    last_served_at: datetime | None = None
    recent: tuple[dict, ...] = ()


@dataclass(frozen=True)
class AgentStateChange:
    """One entry of an agent's state history: at ``at`` (aware UTC) the agent went to
    ``state`` from ``previous`` (the state(s) the change expected, comma-separated)."""

    agent_id: str
    at: datetime
    state: AgentState
    previous: str | None = None
    reason: str | None = None
    call_sid: str | None = None


@dataclass(frozen=True)
class Offer:
    """A decision: connect ``caller`` to ``agents`` (several for ring-all)."""

    caller: WaitingCaller
    agents: tuple[Agent, ...]


class TransferRefused(Exception):
    """The transfer cannot happen now (no call, target busy or unknown); the call is untouched."""
