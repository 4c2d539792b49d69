"""Next week's calls per half-hour from past weeks, and the agents each half-hour needs.

The forecast is deliberately simple and explainable: for each weekday × half-hour of the coming
week, offered calls are a weighted average of the same weekday and half-hour over the last K
weeks, the most recent week weighing K, the one before K − 1, … the oldest 1 (a linear decay:
recent weeks count more, one odd week moves the forecast by at most its share of the weights).
AHT is the call-weighted mean handle time over the same half-hours, so a quiet half-hour's
odd call barely moves it.

Half-hours are local wall-clock time in the queue's time zone (``zoneinfo``), so 9:00 is 9:00 on
both sides of a daylight-saving change. On the spring-forward day the skipped half-hours do not
exist and are not generated (46 half-hours); on the fall-back day the repeated hour is generated
twice, first and second occurrence (``fold`` 0 and 1; 50 half-hours, in the order they happen),
both forecast from the same wall-clock half-hour of past weeks. In the history a repeated hour is
read once, its first occurrence; a half-hour that did not exist on a past day is left out of the
average (not counted as zero calls), while a past half-hour without a history row is zero calls,
provided the day is not before the history's first day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.reports.staffing import Staffing, agents_for

HALF_HOUR_SECONDS = 1800


@dataclass(frozen=True)
class Interval:
    """One local half-hour: aware ``start`` in the queue's zone, calls offered, AHT in seconds."""

    start: datetime
    offered: float
    aht_seconds: float


def half_hours(day: date, zone: ZoneInfo) -> list[datetime]:
    """The day's local half-hours as aware datetimes: 48, or 46 / 50 on a DST change day.

    A wall-clock time that does not exist (spring forward) is skipped; one that happens twice
    (fall back) appears twice, ``fold=0`` and ``fold=1``, in the order they happen.
    """
    starts = []
    for slot in range(48):
        wall = datetime.combine(day, time(slot // 2, 30 * (slot % 2)), tzinfo=zone)
        if not _exists(wall):
            continue
        starts.append(wall)
        second = wall.replace(fold=1)
        if second.utcoffset() != wall.utcoffset():
            starts.append(second)
    return sorted(starts, key=lambda start: start.timestamp())


def _exists(wall: datetime) -> bool:
    """A wall-clock time exists when it survives a round trip through UTC."""
    back = wall.astimezone(ZoneInfo("UTC")).astimezone(wall.tzinfo)
    return back.replace(tzinfo=None, fold=0) == wall.replace(tzinfo=None, fold=0)


def forecast_week(
    history: Iterable[tuple[datetime, float, float]],
    week_start: date,
    zone: ZoneInfo,
    *,
    weeks: int = 4,
    default_aht_seconds: float = 180.0,
) -> list[Interval]:
    """Forecast the 7 local days from ``week_start``, one ``Interval`` per local half-hour.

    ``history`` holds (local start of a half-hour, offered calls, average handle seconds); naive
    starts are wall-clock time in ``zone``, aware ones are converted to it. ``weeks`` is K, the
    number of past weeks averaged (weights K..1, most recent first). A half-hour with no calls
    in its samples gets the history's overall call-weighted AHT, or ``default_aht_seconds``.

    Raises ValueError for weeks < 1, negative calls or handle seconds, or default AHT ≤ 0.
    """
    if weeks < 1:
        raise ValueError("at least one past week is needed")
    if default_aht_seconds <= 0:
        raise ValueError("the default handle time must be more than 0 seconds")
    by_slot: dict[tuple[date, int, int], tuple[float, float]] = {}
    first_day: date | None = None
    all_calls = all_seconds = 0.0
    for start, offered, aht in history:
        if offered < 0 or aht < 0:
            raise ValueError("offered calls and handle seconds must be at least 0")
        local = start.astimezone(zone) if start.tzinfo is not None else start
        if local.fold:
            continue  # the repeated hour of a fall-back day: its first occurrence only
        key = (local.date(), local.hour, local.minute - local.minute % 30)
        calls, seconds = by_slot.get(key, (0.0, 0.0))
        by_slot[key] = (calls + offered, seconds + offered * aht)
        first_day = local.date() if first_day is None else min(first_day, local.date())
        all_calls += offered
        all_seconds += offered * aht
    fallback_aht = all_seconds / all_calls if all_calls > 0 else default_aht_seconds
    intervals = []
    for offset in range(7):
        day = week_start + timedelta(days=offset)
        for start in half_hours(day, zone):
            intervals.append(_forecast_slot(start, by_slot, first_day, weeks, fallback_aht))
    return intervals


def _forecast_slot(
    start: datetime,
    by_slot: dict[tuple[date, int, int], tuple[float, float]],
    first_day: date | None,
    weeks: int,
    fallback_aht: float,
) -> Interval:
    weighted_calls = total_weight = calls = seconds = 0.0
    for back in range(1, weeks + 1):
        past = start.date() - timedelta(weeks=back)
        if first_day is None or past < first_day:
            continue
        wall = datetime.combine(past, start.time(), tzinfo=start.tzinfo)
        if not _exists(wall):
            continue
        weight = weeks + 1 - back
        past_calls, past_seconds = by_slot.get((past, start.hour, start.minute), (0.0, 0.0))
        weighted_calls += weight * past_calls
        total_weight += weight
        calls += past_calls
        seconds += past_seconds
    offered = weighted_calls / total_weight if total_weight else 0.0
    aht = seconds / calls if calls > 0 else fallback_aht
    return Interval(start=start, offered=offered, aht_seconds=aht)


def staffing_plan(
    intervals: Sequence[Interval],
    target_sl: float,
    answer_within: float,
    shrinkage: float,
    patience: float | None = None,
    *,
    max_occupancy: float | None = None,
) -> list[tuple[Interval, Staffing]]:
    """Agents per half-hour for ``target_sl`` (share 0..1) answered within ``answer_within``
    seconds, with ``shrinkage`` (share 0..1) and, given ``patience`` (mean seconds before a caller
    hangs up), Erlang A instead of Erlang C. Raises ValueError as ``agents_for`` does."""
    return [
        (
            interval,
            agents_for(
                interval.offered,
                HALF_HOUR_SECONDS,
                interval.aht_seconds,
                target_sl,
                answer_within,
                max_occupancy=max_occupancy,
                shrinkage=shrinkage,
                patience_seconds=patience,
            ),
        )
        for interval in intervals
    ]
