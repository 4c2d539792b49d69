"""How long to wait before calling a customer back again after an attempt failed.

When the next attempt may happen (calling window, queue hours) is ``hours.calling_window``'s
rule; this is only the spacing between attempts. Pure: ``now`` and the jitter come in.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta


def retry_at(
    attempt: int,
    now: datetime,
    *,
    base_seconds: float = 120,
    factor: float = 2.0,
    cap_seconds: float = 3600,
    jitter: float = 0.0,
) -> datetime:
    """When to try again after failed attempt number ``attempt`` (1 = the first try failed).

    Exponential: ``base``, ``base*factor``, ... capped at ``cap``. ``jitter`` is a random value in
    [0, 1] from the caller (so tests can fix it): it pulls the delay down by up to half, spreading
    the retries of many requests that failed together (an outage) without ever exceeding the cap.
    ValueError for an ``attempt`` below 1 or a ``jitter`` outside [0, 1].
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be between 0 and 1")
    if factor <= 1.0 or base_seconds >= cap_seconds:
        delay = min(base_seconds, cap_seconds)
    elif (attempt - 1) * math.log(factor) >= math.log(cap_seconds / base_seconds):
        delay = cap_seconds  # also keeps factor ** attempt from overflowing
    else:
        delay = base_seconds * factor ** (attempt - 1)
    return now + timedelta(seconds=delay * (1.0 - jitter / 2))
