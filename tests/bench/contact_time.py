"""Micro-benchmark of ``hours.calling_window.next_contact_time``: what the dispatcher pays per
request to find when it may call. Pure CPU, no DynamoDB: ``python tests/bench/contact_time.py``.

10,000 requests over 10,000 distinct numbers (US, China, UK, Australian mobiles with eight zones,
Newfoundland with two), four queue schedules (always open, New York office hours with a holiday,
London weekdays, Shanghai split shifts) and random times over a week; first pass with cold caches
(per-number zones, per-day candidates), then warm; requests with no possible time (a Shanghai
customer and New York office hours never overlap) search the whole horizon and cost the most.
Printed, never asserted.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from chalicelib.hours.calling_window import next_contact_time  # noqa: E402

REQUESTS = 10_000
HOURS = [
    {},
    {"timezone": "America/New_York", "weekly": {"mon-fri": ["09:00-17:00"], "sat": ["10:00-13:00"]},
     "holidays": ["2026-12-25"]},
    {"timezone": "Europe/London", "weekly": {"mon-fri": ["08:00-20:00"]}},
    {"timezone": "Asia/Shanghai", "weekly": {"mon-sun": ["09:00-12:00", "13:00-18:00"]}},
]


def requests(seed: int = 1) -> list[tuple[str, datetime, dict]]:
    rng = random.Random(seed)
    numbers = ([f"+1415555{i:04d}" for i in range(2000)] + [f"+86138{i:08d}" for i in range(2000)]
               + [f"+4420{i:08d}" for i in range(2000)] + [f"+61412{i:06d}" for i in range(2000)]
               + [f"+1709555{i:04d}" for i in range(2000)])
    rng.shuffle(numbers)
    base = datetime(2026, 11, 20, tzinfo=UTC)
    return [(numbers[i % len(numbers)], base + timedelta(seconds=rng.randrange(7 * 86400)),
             rng.choice(HOURS)) for i in range(REQUESTS)]


def main() -> None:
    work = requests()
    for label in ("cold caches", "warm caches"):
        times: dict[bool, list[float]] = {True: [], False: []}
        for number, at, hours in work:
            start = time.perf_counter()
            found = next_contact_time(number, at, hours, "America/New_York")
            times[found is not None].append(time.perf_counter() - start)
        total = sum(map(sum, times.values()))
        print(f"next_contact_time, {label}: {total * 1e6 / len(work):6.1f} us per request "
              f"({len(work) / total:6.0f}/s); with a time: "
              f"{_mean_us(times[True]):6.1f} us ({len(times[True])}), none within 14 days: "
              f"{_mean_us(times[False]):6.1f} us ({len(times[False])})")


def _mean_us(values: list[float]) -> float:
    return sum(values) * 1e6 / len(values) if values else 0.0


if __name__ == "__main__":
    main()
