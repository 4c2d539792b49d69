"""The figures of an agents-report row, from the sums of agent-time facts
(``routing.agent_facts`` names them; GLOSSARY.md the figures).

Pure arithmetic on one slot's rollup values: times in whole seconds (AHT a mean, rounded to a
tenth), shares 0..1 rounded to 4 places, None when there is nothing to divide by.

- AHT = (talk + hold + wrap-up) / handled; talk is the on-call time. There is no hold yet
  (the app never puts a caller on hold), so ``hold_seconds`` is 0.
- Occupancy = (on-call + wrap-up) / (available + reserved + on-call + wrap-up): busy time over
  the time the agent could take calls (breaks left out).
- Utilisation = (on-call + wrap-up) / logged in (breaks included).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

AGENT_COLUMNS = ("handled", "talk_seconds", "hold_seconds", "wrap_up_seconds", "aht_seconds",
                 "available_seconds", "reserved_seconds", "break_seconds", "logged_in_seconds",
                 "occupancy", "utilisation", "transfers")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def agent_figures(values: Mapping[str, int]) -> dict:
    """``{<AGENT_COLUMNS>}`` of one slot's sums (absent sums: 0)."""
    get = values.get
    handled, talk, wrap = get("handled", 0), get("on_call_seconds", 0), get("wrap_up_seconds", 0)
    available, reserved = get("available_seconds", 0), get("reserved_seconds", 0)
    busy = talk + wrap
    return {
        "handled": handled, "talk_seconds": talk, "hold_seconds": 0, "wrap_up_seconds": wrap,
        "aht_seconds": round(busy / handled, 1) if handled else None,
        "available_seconds": available, "reserved_seconds": reserved,
        "break_seconds": get("away_seconds", 0),
        "logged_in_seconds": get("logged_in_seconds", 0),
        "occupancy": _share(busy, available + reserved + busy),
        "utilisation": _share(busy, get("logged_in_seconds", 0)),
        "transfers": get("transfers", 0),
    }


def ranking(totals: Iterable[Mapping]) -> list[dict]:
    """Agents' totals ranked: most handled first, then the shorter AHT (none: last), then
    agent id: ``[{"rank": 1, "agent_id", "handled", "aht_seconds"}]``."""
    ordered = sorted(totals, key=lambda t: (-t["handled"], t["aht_seconds"] is None,
                                            t["aht_seconds"] or 0, t["agent_id"]))
    return [{"rank": n, "agent_id": t["agent_id"], "handled": t["handled"],
             "aht_seconds": t["aht_seconds"]} for n, t in enumerate(ordered, 1)]
