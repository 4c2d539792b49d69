"""The facts a queue leaves for the reports (``chalicelib.facts``): a caller offered, answered
after waiting so long, or hanging up while waiting.

Each fact's id is the line entry's (``<queue>:<entry key>``, the entry key holding the
CallSid and when the caller joined) and what happened, so a webhook Twilio retries, or a race
between two Lambdas that both see the caller leave, records one fact. A fact counts in the
queue's own local day and half-hour (``QueueConfig.zone``), like the board's day figures, and
for the hotline the caller dialled; an answer counts for the agent too.

Values (whole numbers): ``offered``; ``answered``, ``answered_in_sl`` (within the queue's
service-level threshold, seconds), ``wait_seconds`` (summed: ASA = wait_seconds / answered);
``abandoned``, ``abandon_wait_seconds`` (how long they waited before hanging up),
``abandoned_in_sl`` (hung up within the threshold: the short abandons some centres leave out).
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.facts import Fact
from chalicelib.routing.model import QueueConfig


def _scopes(queue: QueueConfig, hotline: str | None, agent_id: str | None = None) -> dict:
    scopes = {"queue": queue.queue_id}
    if hotline:
        scopes["hotline"] = hotline
    if agent_id:
        scopes["agent"] = agent_id
    return scopes


def _id(queue: QueueConfig, entry_key: str, what: str) -> str:
    return f"queue:{queue.queue_id}:{entry_key}:{what}"


def offered(queue: QueueConfig, entry_key: str, at: datetime, hotline: str | None) -> Fact:
    return Fact(_id(queue, entry_key, "offered"), "queue_offered", at, queue.zone,
                _scopes(queue, hotline), {"offered": 1})


def answered(queue: QueueConfig, entry_key: str, at: datetime, hotline: str | None,
             agent_id: str, waited: int) -> Fact:
    """``waited``: whole seconds from joining the line to the agent's answer."""
    return Fact(_id(queue, entry_key, "answered"), "queue_answered", at, queue.zone,
                _scopes(queue, hotline, agent_id),
                {"answered": 1, "wait_seconds": max(waited, 0),
                 "answered_in_sl": int(waited <= queue.service_level_seconds)})


def abandoned(queue: QueueConfig, entry_key: str, at: datetime, hotline: str | None,
              waited: int) -> Fact:
    """``waited``: whole seconds from joining the line to hanging up."""
    return Fact(_id(queue, entry_key, "abandoned"), "queue_abandoned", at, queue.zone,
                _scopes(queue, hotline),
                {"abandoned": 1, "abandon_wait_seconds": max(waited, 0),
                 "abandoned_in_sl": int(waited <= queue.service_level_seconds)})
