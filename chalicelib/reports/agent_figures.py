"""The figures of an agents-report row, from the sums of agent-time facts
(``routing.agent_facts`` names them; GLOSSARY.md the figures).

Pure arithmetic on one slot's rollup values: times in whole seconds (AHT a mean, rounded to a
tenth), shares 0..1 rounded to 4 places, None when there is nothing to divide by.

- AHT = (talk + hold + wrap-up) / handled. The agent is on the call while the caller is held
  (``routing/hold.py``, and the wait during a warm transfer's consultation), so hold is a part
  of the on-call time: talk = on-call - hold.
- Occupancy = (on-call + wrap-up) / (available + reserved + on-call + wrap-up): busy time over
  the time the agent could take calls (breaks left out).
- Utilisation = (on-call + wrap-up) / logged in (breaks included).
- Dispositions: the codes the agent gave their calls (``figures.disposition_counts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chalicelib.reports.figures import disposition_counts

AGENT_COLUMNS = ("handled", "talk_seconds", "hold_seconds", "holds", "wrap_up_seconds",
                 "aht_seconds", "available_seconds", "reserved_seconds", "break_seconds",
                 "logged_in_seconds", "occupancy", "utilisation", "transfers", "dispositions")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def agent_figures(values: Mapping[str, int]) -> dict:
    """``{<AGENT_COLUMNS>}`` of one slot's sums (absent sums: 0)."""
    get = values.get
    handled, on_call, wrap = get("handled", 0), get("on_call_seconds", 0), \
        get("wrap_up_seconds", 0)
    # a hold still running when the day's on-call time was counted: never a negative talk
    hold = min(get("hold_seconds", 0), on_call)
    available, reserved = get("available_seconds", 0), get("reserved_seconds", 0)
    busy = on_call + wrap
    return {
        "handled": handled, "talk_seconds": on_call - hold, "hold_seconds": hold,
        "holds": get("holds", 0), "wrap_up_seconds": wrap,
        "aht_seconds": round(busy / handled, 1) if handled else None,
        "available_seconds": available, "reserved_seconds": reserved,
        "break_seconds": get("away_seconds", 0),
        "logged_in_seconds": get("logged_in_seconds", 0),
        "occupancy": _share(busy, available + reserved + busy),
        "utilisation": _share(busy, get("logged_in_seconds", 0)),
        "transfers": get("transfers", 0),
        **disposition_counts(values),
    }


def ranking(totals: Iterable[Mapping]) -> list[dict]:
    """Agents' totals ranked: most handled first, then the shorter AHT (none: last), then
    agent id: ``[{"rank": 1, "agent_id", "handled", "aht_seconds"}]``."""
    ordered = sorted(totals, key=lambda t: (-t["handled"], t["aht_seconds"] is None,
                                            t["aht_seconds"] or 0, t["agent_id"]))
    return [{"rank": n, "agent_id": t["agent_id"], "handled": t["handled"],
             "aht_seconds": t["aht_seconds"]} for n, t in enumerate(ordered, 1)]
