"""The repeat-callers arithmetic (pure): per number, per local day counts in, repeat callers and
first-contact resolution out. ``reports.repeat_callers`` reads the counts; this module only adds.

Definitions, for a range ``[first, last]`` of local days, ``times`` (N) and ``days`` (D):

- a **caller** of the range: a number with at least one call on a day of the range;
- a **repeat caller**: a number with at least N calls within some window of D consecutive days
  that ends on a day of the range (the window may start before the range: a caller who called
  twice the day before ``first`` and once on ``first`` repeats, for N=3);
- **most_in_window**: the most calls the number made in one such window;
- a **served** caller: a caller with a served call (``ivr.caller_facts.served``: answered by
  an agent, put through by the flow, or ended by the flow at one of its hangup nodes) on the
  first day they called in the range. Calls are counted by day, so which call of that day came
  first is not known: a caller who hung up in a queue and got through later the same day is
  served (and, having called twice, not resolved);
- **first-contact resolution** (FCR): the share of served callers whose first call in the range
  was served and was their only call in the D days starting that day (that day and the D-1 days
  after it: a second call on the same day counts as calling again). Days after today have no
  calls yet, so a caller near the end of the range looks resolved until their window has
  passed. None without served callers.

  Why over served callers, not all callers: FCR is the usual measure of how often a contact the
  center *handled* needed no other contact, so it counts the contacts that were handled. A
  caller nobody served (hung up in a menu, abandoned in a queue, left a voicemail, asked for a
  callback) had no first contact to resolve: counting them as resolved made a long queue look
  like good service, and counting them as unresolved would make FCR move with the abandon
  rate, which the queue report already shows. Their calls still count in ``callers``,
  ``calls`` and the repeat callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta


def e164(number: str) -> str:
    """A hotline named in a query as ``+14155550100``, ``%2B14155550100``, ``14155550100`` or
    `` 14155550100`` (a ``+`` a query string decoded to a space): ``+14155550100``."""
    text = number.strip()
    for prefix in ("%2B", "%2b", "+"):
        text = text.removeprefix(prefix)
    return "+" + text


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def days_to_read(first: date, last: date, days: int) -> list[date]:
    """Every day the figures need: D-1 days before the range (windows ending in it) to D-1
    days after it (first-contact windows starting in it)."""
    return days_between(first - timedelta(days=days - 1), last + timedelta(days=days - 1))


def most_in_window(counts: Mapping[date, int], first: date, last: date, days: int) -> int:
    """The most calls in a window of ``days`` days ending on a day of ``[first, last]``."""
    return max(sum(counts.get(end - timedelta(days=n), 0) for n in range(days))
               for end in days_between(first, last))


def resolved_first_time(counts: Mapping[date, int], served: Mapping[date, int], start: date,
                        days: int) -> bool:
    """The call on ``start`` was served and was the number's only call in the ``days`` days from
    ``start``."""
    return served.get(start, 0) >= 1 and \
        sum(counts.get(start + timedelta(days=n), 0) for n in range(days)) == 1


def repeat_figures(counts: Mapping[str, Mapping[date, int]], first: date, last: date,
                   times: int, days: int, *,
                   served: Mapping[str, Mapping[date, int]]) -> tuple[list[dict], dict]:
    """``counts``: ``{number: {day: calls}}``; ``served``: ``{number: {day: served calls}}``
    (days outside ``days_to_read`` are ignored). Returns the repeat callers, most calls in the
    range first (then by number), each ``{number, calls, most_in_window, first_day, last_day}``
    (ISO days, of the range), and the totals ``{callers, calls, repeat_callers,
    served_callers, first_contact_resolution}`` (a share 0..1 of ``served_callers``)."""
    rows: list[dict] = []
    callers = calls = resolved = served_callers = 0
    in_range = days_between(first, last)
    for number, by_day in counts.items():
        called = [day for day in in_range if by_day.get(day, 0) > 0]
        if not called:
            continue
        callers += 1
        mine = sum(by_day[day] for day in called)
        calls += mine
        served_by_day = served.get(number, {})
        served_callers += served_by_day.get(called[0], 0) >= 1
        resolved += resolved_first_time(by_day, served_by_day, called[0], days)
        most = most_in_window(by_day, first, last, days)
        if most >= times:
            rows.append({"number": number, "calls": mine, "most_in_window": most,
                         "first_day": called[0].isoformat(),
                         "last_day": called[-1].isoformat()})
    rows.sort(key=lambda row: (-row["calls"], row["number"]))
    share = round(resolved / served_callers, 4) if served_callers else None
    return rows, {"callers": callers, "calls": calls, "repeat_callers": len(rows),
                  "served_callers": served_callers, "first_contact_resolution": share}
