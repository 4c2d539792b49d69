"""The compliance gate's rules for one campaign: the defaults of ``compliance.rules.Policy``
with the campaign's calling window and its ``compliance`` overrides.

Overrides (all optional, checked when the campaign is created: ``policy_of`` raises
ValueError naming the field): ``country_windows`` ``{ISO: weekly hours}``,
``restricted_dates`` ``[YYYY-MM-DD]``, ``caps`` ``[{channel, count, days}]``,
``debt_cap`` ``[count, days]`` or null, ``abandoned_hold_hours``, ``consent_required``
``[purpose]``.
"""

from __future__ import annotations

from datetime import date, timedelta

from chalicelib.campaigns.campaign import Campaign
from chalicelib.compliance.rules import CHANNELS, PURPOSES, Cap, Policy
from chalicelib.hours.weekly import opening_minutes

# The US calling window (FCC 47 CFR 64.1200(c)(1), FTC TSR 16 CFR 310.4(c)): a campaign may
# narrow it, never widen it.
EARLIEST_MINUTE, LATEST_MINUTE = 8 * 60, 21 * 60
KNOWN = ("country_windows", "restricted_dates", "caps", "debt_cap", "abandoned_hold_hours",
         "consent_required")


def check_window(weekly: dict, field: str = "window") -> None:
    """ValueError unless ``weekly`` is valid hours (``hours.weekly`` form) inside 08:00-21:00."""
    try:
        spans = opening_minutes(weekly)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{field}: {exc}") from None
    for day_spans in spans.values():
        for start, end in day_spans:
            if start < EARLIEST_MINUTE or end > LATEST_MINUTE:
                raise ValueError(f"{field}: calls and texts only between 08:00 and 21:00 in "
                                 "the recipient's time")


def policy_of(campaign: Campaign) -> Policy:
    """The gate's policy for ``campaign``; ValueError (naming the field) for a bad override."""
    overrides = campaign.compliance or {}
    unknown = set(overrides) - set(KNOWN)
    if unknown:
        raise ValueError(f"compliance: unknown rule {sorted(unknown)[0]!r}")
    check_window(campaign.window)
    changes: dict = {"window": campaign.window}
    for country, weekly in (overrides.get("country_windows") or {}).items():
        check_window(weekly, f"compliance.country_windows.{country}")
    if "country_windows" in overrides:
        changes["country_windows"] = dict(overrides["country_windows"] or {})
    if "restricted_dates" in overrides:
        dates = overrides["restricted_dates"] or []
        for day in dates:
            try:
                date.fromisoformat(day)
            except (TypeError, ValueError):
                raise ValueError("compliance.restricted_dates: YYYY-MM-DD dates") from None
        changes["restricted_dates"] = frozenset(dates)
    if "caps" in overrides:
        caps = []
        for cap in overrides["caps"] or []:
            try:
                caps.append(Cap(str(cap["channel"]), int(cap["count"]), int(cap["days"])))
            except (KeyError, TypeError, ValueError):
                raise ValueError("compliance.caps: [{channel, count, days}]") from None
            if caps[-1].channel not in CHANNELS or caps[-1].count < 1 or caps[-1].days < 1:
                raise ValueError("compliance.caps: channel voice or sms, count and days >= 1")
        changes["caps"] = tuple(caps)
    if "debt_cap" in overrides:
        cap = overrides["debt_cap"]
        if cap is not None and not (isinstance(cap, list) and len(cap) == 2
                                    and all(isinstance(n, int) and n >= 1 for n in cap)):
            raise ValueError("compliance.debt_cap: [count, days] or null")
        changes["debt_cap"] = tuple(cap) if cap else None
    if "abandoned_hold_hours" in overrides:
        hours = overrides["abandoned_hold_hours"]
        if not isinstance(hours, int) or not 0 <= hours <= 24 * 30:
            raise ValueError("compliance.abandoned_hold_hours: 0 to 720")
        changes["abandoned_hold"] = timedelta(hours=hours)
    if "consent_required" in overrides:
        purposes = overrides["consent_required"] or []
        if any(p not in PURPOSES for p in purposes):
            raise ValueError(f"compliance.consent_required: purposes among {PURPOSES}")
        changes["consent_required"] = frozenset(purposes)
    return Policy(**changes)
