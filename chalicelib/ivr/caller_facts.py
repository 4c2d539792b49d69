"""Who called a hotline, counted per number and local day, for the repeat-callers report
(``reports.repeat_callers``) without ever scanning calls.

When an inbound call's final status is first applied (``ivr.service``), the call leaves one fact
(kind ``caller``, id ``call:<CallSid>:caller``: a status delivered twice counts once):

- scope ``callers``, id ``<hotline>#<shard>`` (``callers_id``): the shard, 0..``SHARDS``-1, is a
  hash of the caller's number, so one number always lands in the same shard;
- value ``n_<digits of the caller's E.164 number>: 1`` (``value_name``): the number called;
- and ``s_<the same digits>: 1`` (``served_name``) when the call was **served** (``served``): an
  agent answered it, the flow put it through to an outside number, or the flow ran to one of
  its own hangup nodes without the caller ever waiting in a queue. A caller who hung up in a
  menu, abandoned in a queue, left a voicemail or asked for a callback was not served on this
  call (the last two leave work for someone: the caller's need is still open). Facts recorded
  before ``s_`` existed carry no served count: their days show no served callers.

``callers`` is a day-only scope (``facts.DAY_ONLY_SCOPES``): its rollup partition
``callers#<hotline>#<shard>#<day>`` is one item holding a count per number that called that day.
**Size limit**: a DynamoDB item holds at most 400 KB; a number's attribute takes about 20 bytes
(name ``n_`` + up to 15 digits, and the number) and a served number as much again for its
``s_``, so one shard-day holds about 10,000 distinct callers (20,000 that were never served)
and a hotline-day ``SHARDS`` times that (about 80,000). Beyond that the rollup's update
fails and ``apply_fact`` raises: raise ``SHARDS`` (and rebuild) before a hotline gets there.
Only numbers we could call back count (``callbacks.numbers.callable_caller``): anonymous and
``client:`` callers leave no fact. ``at`` is when the call started; the zone is the hotline's
(``store.hotline_zone``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from chalicelib.calls.model import Call
from chalicelib.facts import Fact

KIND = "caller"
SHARDS = 8
PREFIX = "n_"
SERVED_PREFIX = "s_"
# how a flow ends when it put the caller through to someone outside (``ivr.engine``)
TRANSFERRED = "transfer"
# how a flow ends at one of its own hangup nodes (also: a voicemail node that recorded nothing,
# a failed transfer or payment without a branch for it)
FLOW_ENDED = "hangup"


def shard(number: str) -> int:
    """The shard (0..SHARDS-1) of an E.164 number: the first byte of its SHA-256."""
    return hashlib.sha256(number.encode()).digest()[0] % SHARDS


def callers_id(hotline: str, number_shard: int) -> str:
    """The ``callers`` scope id of one shard of a hotline: ``+14155550100#3``."""
    return f"{hotline}#{number_shard}"


def value_name(number: str) -> str:
    """``+14155550123`` → ``n_14155550123``."""
    return PREFIX + number.lstrip("+")


def served_name(number: str) -> str:
    """``+14155550123`` → ``s_14155550123``."""
    return SERVED_PREFIX + number.lstrip("+")


def number_of(name: str) -> str | None:
    """The E.164 number a value name counts (``n_14155550123`` → ``+14155550123``), else None."""
    return _digits_after(PREFIX, name)


def served_number_of(name: str) -> str | None:
    """The E.164 number a served count names (``s_14155550123`` → ``+14155550123``), else
    None."""
    return _digits_after(SERVED_PREFIX, name)


def _digits_after(prefix: str, name: str) -> str | None:
    digits = name[len(prefix):]
    return "+" + digits if name.startswith(prefix) and digits.isdigit() else None


def served(call: Call) -> bool:
    """The call was served (see the module's docstring), judged from the record as its final
    status finds it: an agent answered (``agent_id``), the flow ended ``transfer``red, or it
    ended at a hangup node (outcome ``hangup``) and the caller never joined a queue
    (``queue_id``: a queue's overflow ends in a voicemail node, which may end ``hangup``)."""
    if call.agent_id is not None or call.outcome == TRANSFERRED:
        return True
    return call.outcome == FLOW_ENDED and call.queue_id is None


def caller_fact(call_sid: str, hotline: str, number: str, started_at: datetime,
                zone: str, *, served: bool) -> Fact:
    """The ``caller`` fact of one call from E.164 ``number`` to ``hotline``; ``served``: see
    ``served``."""
    values = {value_name(number): 1}
    if served:
        values[served_name(number)] = 1
    return Fact(f"call:{call_sid}:caller", KIND, started_at, zone,
                {"callers": callers_id(hotline, shard(number))}, values).check()
