"""Who called a hotline, counted per number and local day, for the repeat-callers report
(``reports.repeat_callers``) without ever scanning calls.

When an inbound call's final status is first applied (``ivr.service``), the call leaves one fact
(kind ``caller``, id ``call:<CallSid>:caller``: a status delivered twice counts once):

- scope ``callers``, id ``<hotline>#<shard>`` (``callers_id``): the shard, 0..``SHARDS``-1, is a
  hash of the caller's number, so one number always lands in the same shard;
- value ``n_<digits of the caller's E.164 number>: 1`` (``value_name``).

``callers`` is a day-only scope (``facts.DAY_ONLY_SCOPES``): its rollup partition
``callers#<hotline>#<shard>#<day>`` is one item holding a count per number that called that day.
**Size limit**: a DynamoDB item holds at most 400 KB; a number's attribute takes about 20 bytes
(name ``n_`` + up to 15 digits, and the number), so one shard-day holds about 20,000 distinct
callers and a hotline-day ``SHARDS`` times that (about 160,000). Beyond that the rollup's update
fails and ``apply_fact`` raises: raise ``SHARDS`` (and rebuild) before a hotline gets there.
Only numbers we could call back count (``callbacks.numbers.callable_caller``): anonymous and
``client:`` callers leave no fact. ``at`` is when the call started; the zone is the hotline's
(``store.hotline_zone``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from chalicelib.facts import Fact

KIND = "caller"
SHARDS = 8
PREFIX = "n_"


def shard(number: str) -> int:
    """The shard (0..SHARDS-1) of an E.164 number: the first byte of its SHA-256."""
    return hashlib.sha256(number.encode()).digest()[0] % SHARDS


def callers_id(hotline: str, number_shard: int) -> str:
    """The ``callers`` scope id of one shard of a hotline: ``+14155550100#3``."""
    return f"{hotline}#{number_shard}"


def value_name(number: str) -> str:
    """``+14155550123`` → ``n_14155550123``."""
    return PREFIX + number.lstrip("+")


def number_of(name: str) -> str | None:
    """The E.164 number a value name counts (``n_14155550123`` → ``+14155550123``), else None."""
    digits = name[len(PREFIX):]
    return "+" + digits if name.startswith(PREFIX) and digits.isdigit() else None


def caller_fact(call_sid: str, hotline: str, number: str, started_at: datetime,
                zone: str) -> Fact:
    """The ``caller`` fact of one call from E.164 ``number`` to ``hotline``."""
    return Fact(f"call:{call_sid}:caller", KIND, started_at, zone,
                {"callers": callers_id(hotline, shard(number))},
                {value_name(number): 1}).check()
