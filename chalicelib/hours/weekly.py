"""Weekly hours as they are written in flows and queue configurations.

``{"mon-fri": ["09:00-17:00"], "sat": ["10:00-12:00"]}``: a day (``mon``) or a range of days
(``mon-fri``) maps to spans of local wall time; ``24:00`` may end a day, and overnight hours are
split across two days. Parsing is strict and every error is a ``ValueError`` whose message says
what to write instead (lint and the admin API show it as is).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60

_SPAN = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")


def parse_days(days: str) -> range:
    """``mon`` or ``mon-fri`` as weekday numbers (0 = Monday); ValueError says what is wrong."""
    first, _, last = days.partition("-")
    last = last or first
    if first not in DAYS or last not in DAYS:
        raise ValueError(f"'{days}' is not a day ({', '.join(DAYS)}) or a range like mon-fri")
    if DAYS.index(last) < DAYS.index(first):
        raise ValueError(f"'{days}' runs backwards; write the days in order, mon to sun")
    return range(DAYS.index(first), DAYS.index(last) + 1)


def parse_span(span: str) -> tuple[int, int]:
    """``09:00-17:00`` as ``(start, end)`` minutes after local midnight (24:00 may end a day);
    ValueError if it is not such a span, or ends before it starts."""
    match = _SPAN.fullmatch(span)
    if not match:
        raise ValueError(f"'{span}' is not an interval like 09:00-17:00")
    h1, m1, h2, m2 = map(int, match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > MINUTES_PER_DAY:
        raise ValueError(f"'{span}' is not a valid time of day")
    if end <= start:
        raise ValueError(f"'{span}' ends before it starts; split overnight hours across two days")
    return start, end


def opening_minutes(weekly: Mapping[str, list[str]]) -> dict[int, list[tuple[int, int]]]:
    """Weekday (0 = Monday) -> ``[(start, end)]`` in minutes after local midnight, in the order
    written; weekdays without hours are absent. ValueError (TypeError for a span that is not a
    string) on anything ``parse_days`` or ``parse_span`` refuses."""
    week: dict[int, list[tuple[int, int]]] = {}
    for days, spans in weekly.items():
        for day in parse_days(days):
            week.setdefault(day, []).extend(parse_span(span) for span in spans)
    return week
