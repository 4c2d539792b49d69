"""The IVR report: calls per flow and how many the IVR handled alone (containment), by local
day or half-hour, and each flow's funnel over the range: how many calls reached each node and
how many left the IVR there. Read from the rollups of ``ivr_call`` facts (``ivr.call_facts``),
never from calls.

``report(first, last, interval, flow_id=None, page=WHOLE)`` answers ``GET /reports/ivr``:

    {"kind": "ivr", "from": "2026-11-01", "to": "2026-11-30", "interval": "day",
     "rows": [{"flow_id", "day", "half_hour"?, "calls", "contained", "containment"}],
     "totals": [{"flow_id", "calls", "contained", "containment"}],
     "funnel": [{"flow_id", "node", "reached", "left_here", "reached_share"}],
     "next": "/reports/ivr?...&cursor=..." or None}

``containment`` and ``reached_share`` are shares 0..1 of the flow's calls (None without calls).
A call that went from one flow to another (``goto``) is a call of both. The funnel lists the
nodes of each flow's live version in the flow's own order; nodes counted that the live version
no longer has follow, named by their value key. Days are each flow's own local days (the zone
its facts carry: ``call_facts.flow_zone``). Every published flow (``store.flows``), or only
``flow_id``: ``NotFound`` for one that is not published; ``InvalidRequest`` for an interval or a
range the reports do not take. Cost: one Scan of the flows' pointers, one GetItem per flow; by
day one BatchGetItem per 100 flow-days, by half-hour one Query per flow-day. Paged by flow id
(``reports.cursors``): a page holds whole flows (rows, totals and funnel: each flow's own) and
reads only their rollups; every page reads every flow's pointer and live version (their zones
decide how many half-hours they have).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from chalicelib.api_errors import NotFound
from chalicelib.ivr.call_facts import node_key
from chalicelib.ivr.model import Flow, flow_zone
from chalicelib.reports import grid
from chalicelib.reports.cursors import WHOLE, Page
from chalicelib.store import flows as flows_store

TARGET = "flow"  # the query parameter naming one flow
PAGED = True  # report() takes page= (reports.cursors)
INTERVALS = ("day", "half-hour")
MAX_DAYS = {"day": 366, "half-hour": 31}
IVR_COLUMNS = ("calls", "contained", "containment")
TOTAL_COLUMNS = ["flow_id", *IVR_COLUMNS]
FUNNEL_COLUMNS = ["flow_id", "node", "reached", "left_here", "reached_share"]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def ivr_figures(values: Mapping[str, int]) -> dict:
    """``{calls, contained, containment}`` of one slot's sums (absent sums: 0)."""
    calls, contained = values.get("calls", 0), values.get("contained", 0)
    return {"calls": calls, "contained": contained, "containment": _share(contained, calls)}


def call_order(flow: Flow) -> list[str]:
    """The flow's node ids in the order callers meet them: breadth first from the start (a
    stored flow's nodes come back sorted by name), then any node the start does not lead to."""
    order = [flow.start] if flow.start in flow.nodes else []
    for node_id in order:  # grows while it is read
        for _, target in flow.nodes[node_id].references("target"):
            if target in flow.nodes and target not in order:
                order.append(target)
    return order + [node_id for node_id in flow.nodes if node_id not in order]


def funnel(flow: Flow, summed: Mapping[str, int]) -> list[dict]:
    """The flow's nodes in the order callers meet them (``call_order``) with ``reached``,
    ``left_here`` and ``reached_share`` from the range's sums; then nodes counted that
    ``flow`` no longer has (named by their key)."""
    calls = summed.get("calls", 0)
    rows, known = [], set()
    for node in call_order(flow):
        key = node_key(node)
        known.add(key)
        rows.append(_funnel_row(flow.id, node, key, summed, calls))
    gone = sorted({name.split("_", 1)[1] for name in summed
                   if name.startswith(("reached_", "left_"))} - known)
    rows += [_funnel_row(flow.id, key, key, summed, calls) for key in gone]
    return rows


def _funnel_row(flow_id: str, node: str, key: str, summed: Mapping[str, int],
                calls: int) -> dict:
    reached = summed.get("reached_" + key, 0)
    return {"flow_id": flow_id, "node": node, "reached": reached,
            "left_here": summed.get("left_" + key, 0), "reached_share": _share(reached, calls)}


def _published(flow_id: str | None) -> list[Flow]:
    published = flows_store.published_flows()
    if flow_id is not None:
        published = [(f, v) for f, v in published if f == flow_id]
        if not published:
            raise NotFound("flow", flow_id)
    return [flows_store.get_version(f, v) for f, v in published]


def ivr_report(first: date, last: date, interval: str = "day",
               flow_id: str | None = None, page: Page = WHOLE) -> dict:
    days = grid.days_of(first, last, interval, MAX_DAYS)
    published = {flow.id: flow for flow in _published(flow_id)}
    members, after = grid.paged([(flow.id, flow_zone(flow)) for flow in published.values()],
                                days, interval, page)
    flows = [published[ident] for ident, _ in members]
    rows, summed = grid.scope_rows("flow", "flow_id", members, days, interval, ivr_figures)
    totals = [{"flow_id": flow.id, **ivr_figures(summed[flow.id])} for flow in flows]
    funnels = [step for flow in flows for step in funnel(flow, summed[flow.id])]
    return {"kind": "ivr", "from": first.isoformat(), "to": last.isoformat(),
            "interval": interval, "rows": rows, "totals": totals, "funnel": funnels,
            "next": page.next_path(after)}


def columns(report: dict) -> list[str]:
    """The rows' columns: ``flow_id, day[, half_hour], calls, contained, containment``."""
    return ["flow_id", "day"] + (["half_hour"] if report["interval"] == "half-hour"
                                 else []) + list(IVR_COLUMNS)


report = ivr_report  # the reports API's name for it (``reports.routes``)
