"""One call's record as the domain reads it: what the caller did, where the flow is, who
serves the call and how it ended.

``store.calls`` returns a ``Call`` (never a storage item) and takes ids and values back; a
``Call`` is a snapshot, so code that changes the call writes through ``store.calls`` and, where it
carries the new values on, makes a new snapshot with ``dataclasses.replace``. The fields are named
like the stored attributes. Numbers are E.164 (a caller may also be ``client:...`` or anonymous),
times are aware UTC datetimes, durations are whole seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Call:
    call_sid: str
    hotline: str | None = None  # the number dialled (inbound) or shown (calls we place)
    caller: str | None = None  # the caller's number; for a callback call, the customer's
    direction: str | None = None  # Twilio's Direction, or ``outbound-callback``
    # ---- the IVR flow
    flow_id: str | None = None
    flow_version: int | None = None  # the version pinned when the call started
    language: str | None = None
    node: str | None = None  # the node waiting for Twilio's next request
    step: int = 0  # bumped by every IVR step: the guard against replays
    path: list[str] = field(default_factory=list)  # node ids in the order visited
    vars: dict[str, Any] | None = None  # live flow variables; dropped when the call ends
    attempts: dict[str, Any] | None = None  # retries per node
    inputs: dict[str, Any] | None = None  # what the caller entered, sensitive values redacted
    customer: dict[str, Any] | None = None  # the customer record as it was at call start
    fallback: dict[str, Any] | None = None  # the hotline's fallback, copied at call start
    last_response: str | None = None  # TwiML of the last step, replayed on retries
    # ---- Twilio's status callbacks
    status: str | None = None  # Twilio's CallStatus
    status_rank: int | None = None  # the place of the last status applied in a call's life
    status_seq: int | None = None  # Twilio's SequenceNumber of the last status applied
    outcome: str | None = None  # how the flow ended: hangup, voicemail, queue, agent, lost...
    started_at: datetime | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None
    duration: int | None = None  # seconds, Twilio's CallDuration
    open_bucket: str | None = None  # set while the call is open (the open-calls index)
    # ---- queues and agents
    queue_id: str | None = None  # set while the caller waits in a queue
    queue_entry_key: str | None = None  # the caller's place in that line
    agent_id: str | None = None  # the agent who served (or is serving) the call
    agent_leg_sid: str | None = None  # CallSid of that agent's leg (for warm transfer)
    consult_state: str | None = None  # dialing | talking (a warm transfer), or hold
    consult: dict[str, Any] | None = None  # {conference, from_agent, to, target, ..., leg}
    conference: str | None = None  # the room, once the call talks in a conference
    monitor: dict[str, Any] | None = None  # a supervisor on the call (routing/monitor.py)
    announced_at: int | None = None  # seconds waited at the last position announcement
    callback_id: str | None = None  # the callback request a call we placed returns
    recording: dict[str, Any] | None = None  # {sid, status, url, duration, channels}
    transfers: list[dict[str, Any]] | None = None  # [{at, from_agent, to, target, ...}] in order
    dispositions: list[dict[str, Any]] | None = None  # [{agent_id, code, at, note}] in order
    status_step: str | None = None  # a callback leg's status webhook (for reconciliation)
    reconciled_at: datetime | None = None  # when Twilio last said the call was still live
    expires: datetime | None = None  # when the record is deleted (retention)


@dataclass(frozen=True)
class Hotline:
    """A number customers dial: which flow answers it, what to do when things break, which
    numbers its web callbacks accept and how its missed calls are followed up. ``number``:
    E.164; ``allowed_regions``: ISO country codes (empty: any); ``callback_topics``: the web
    form's topics, each naming the queue that handles it; ``missed_call_sms_window_hours``: at
    most one "we missed you" text per number in this many hours."""

    number: str
    name: str
    entry_flow: str
    default_language: str = "en-US"
    default_region: str = "US"  # for reading national numbers
    fallback_number: str | None = None  # transfer here when a flow fails
    fallback_voicemail: bool = True  # else record a message
    allowed_regions: tuple[str, ...] = ("US", "CA")
    callback_topics: dict[str, str] | None = None
    missed_call_sms: bool = False
    missed_call_sms_window_hours: int = 24
    missed_call_callback: bool = False
    missed_call_queue: str | None = None  # else the queue the caller left, if any


@dataclass(frozen=True)
class Voicemail:
    """A message a caller left: the recording (``recording_url``, ``duration`` in seconds), the
    call and hotline it came through (E.164), the flow node that recorded it and, once Twilio
    has it, its transcription."""

    recording_sid: str
    call_sid: str
    hotline: str
    created_at: datetime
    caller: str | None = None
    recording_url: str | None = None
    duration: int | None = None
    language: str | None = None
    flow_node: str | None = None
    transcription: str | None = None
    transcription_status: str | None = None
