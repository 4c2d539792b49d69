"""The figures of a campaigns-report row, from a campaign's hourly counters
(``store.campaigns.FIGURES``), and the UTC hours grouped into the campaign's local days.

Pure arithmetic: ``abandon_rate`` = abandoned / live answers (a share 0..1, 4 places; None when
nobody answered), live answers including the abandoned ones (as the pacer counts them);
``average_talk_seconds`` = talk seconds / calls an agent took (a tenth; None without any).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime

from chalicelib.facts import zone_of

CAMPAIGN_COLUMNS = ("dials", "live_answers", "abandoned", "abandon_rate", "machine_answers",
                    "texts", "average_talk_seconds")


def campaign_figures(values: Mapping[str, int]) -> dict:
    """``CAMPAIGN_COLUMNS`` of summed hourly counters (absent: 0)."""
    get = values.get
    live, abandoned, talks = get("live_answers", 0), get("abandoned", 0), get("talks", 0)
    return {
        "dials": get("dials", 0), "live_answers": live, "abandoned": abandoned,
        "abandon_rate": round(abandoned / live, 4) if live else None,
        "machine_answers": get("machine_answers", 0), "texts": get("texts", 0),
        "average_talk_seconds": round(get("talk_seconds", 0) / talks, 1) if talks else None,
    }


def by_local_day(hours: Mapping[datetime, Mapping[str, int]],
                 zone: str) -> dict[date, Counter[str]]:
    """The hourly counters (``{aware UTC hour start: {figure: n}}``) summed per local day of
    ``zone``: an hour counts on the local day its start falls on (in a zone half an hour off
    UTC, the hour across midnight counts on the day it starts). ValueError for an unknown
    zone."""
    tz = zone_of(zone)
    days: dict[date, Counter[str]] = {}
    for hour, values in hours.items():
        day = hour.astimezone(UTC).astimezone(tz).date()
        days.setdefault(day, Counter()).update(values)
    return days
