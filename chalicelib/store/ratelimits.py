"""Fixed-window rate limits, counted in DynamoDB so every Lambda sees the same count.

One item per (scope, subject, window), bumped with a conditional ADD: the increment and the check
are one atomic write, so concurrent requests cannot both slip under the limit. The subject (an IP
address, a phone number) is stored only as a hash, and the item expires by TTL after its window.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from chalicelib.store.models import RateCounter, update_if


def hit(scope: str, subject: str, limit: int, window_seconds: int, now: datetime) -> int | None:
    """Count one request of ``subject`` in ``scope``; None if it is within ``limit`` for the
    current window, else the seconds until the window ends (for ``Retry-After``)."""
    epoch = int(now.timestamp())
    start = epoch - epoch % window_seconds
    digest = hashlib.sha256(f"{scope}:{subject}".encode()).hexdigest()[:32]
    counter = RateCounter(f"{scope}#{digest}#{start}")
    allowed = update_if(
        counter,
        [RateCounter.hits.add(1),
         RateCounter.expires.set(now + timedelta(seconds=2 * window_seconds))],
        RateCounter.hits.does_not_exist() | (RateCounter.hits < limit),
    )
    return None if allowed else max(1, start + window_seconds - epoch)


def bump_window(scope: str, window_start: int, now: datetime) -> int:
    """Count one event in ``scope``'s window starting at ``window_start`` (epoch seconds) and
    return the count after it: the shared counter behind a calls-per-second limiter, seen the
    same by every Lambda. The item expires a minute later."""
    counter = RateCounter(f"{scope}#{window_start}")
    counter.update(actions=[RateCounter.hits.add(1),
                            RateCounter.expires.set(now + timedelta(seconds=60))])
    return int(counter.hits)
