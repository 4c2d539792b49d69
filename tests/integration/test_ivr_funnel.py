"""The IVR funnel from real calls: the carrier places calls into the demo hotline, their final
statuses leave one fact per flow they ran, the rollups add them up (what the stream does), and
the IVR report shows calls, containment and each node reached and left, matching the paths
stored on the calls. A final status delivered again adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.api_errors import NotFound
from chalicelib.reports import ivr
from chalicelib.store import facts, rollups
from chalicelib.store.models import CallRecord
from tests.integration.conftest import OPEN_HOURS, signed_post

HOTLINE = "+14155550100"
ACCOUNT, PIN = "79927398713", "1234"
SCRIPTS = {
    "+14155550181": ["1", "hangup"],  # English, then hangs up at the main menu
    "+14155550182": ["1", "3", "record:6:call me back please"],  # a voicemail
    "+14155550183": ["1", "1", ACCOUNT + "#", PIN, "1"],  # billing: the balance, by text
}
DAY = OPEN_HOURS.date()


def apply_stored_facts(kind: str = "ivr_call") -> int:
    """What the stream consumer does, for every stored fact around the test's day; how many
    of ``kind`` it added (other facts, e.g. a missed call's callback, are added too)."""
    return sum(rollups.apply_fact(f) and f.kind == kind
               for f in facts.facts_of_days(DAY - timedelta(days=1), DAY + timedelta(days=1)))


def expected_funnel(paths: list[list[str]], flow_id: str):
    """Reached and left counts of ``main`` or ``billing``, counted here by hand from stored
    paths: up to ``to_billing`` (included) a path runs in main, after it in billing; a caller
    leaves in the part their path ends in."""
    reached: Counter[str] = Counter()
    left: Counter[str] = Counter()
    for path in paths:
        cut = path.index("to_billing") + 1 if "to_billing" in path else len(path)
        part = path[:cut] if flow_id == "main" else path[cut:]
        reached.update(set(part))
        if part and cut == len(path) or flow_id == "billing" and part:
            left[path[-1]] += 1
    return reached, left


def test_three_callers_make_the_funnel_their_paths_describe(carrier, client):
    sids = []
    for caller, script in SCRIPTS.items():
        t = carrier.place_inbound_call(HOTLINE, caller, script)
        assert not t.errors and not t.application_error, t.errors
        assert t.status == "completed"
        sids.append(t.call_sid)
    records = [CallRecord.get(sid, consistent_read=True) for sid in sids]
    paths = [list(r.path) for r in records]
    assert [r.flow_id for r in records] == ["main", "main", "billing"]
    assert all(r.agent_id is None for r in records)

    # one fact per flow each call ran: three in main, one of them went on to billing
    assert apply_stored_facts() == 4
    report = ivr.report(DAY, DAY, "day", None)
    rows = {(r["flow_id"], r["day"]): r for r in report["rows"]}
    main, billing = rows[("main", DAY.isoformat())], rows[("billing", DAY.isoformat())]
    assert (main["calls"], main["contained"], main["containment"]) == (3, 3, 1.0)
    assert (billing["calls"], billing["contained"]) == (1, 1)
    assert {r["flow_id"]: r["calls"] for r in report["totals"]}["main"] == 3

    # the funnel matches the stored paths, node by node, in each flow's order
    for flow_id in ("main", "billing"):
        rows_of = [r for r in report["funnel"] if r["flow_id"] == flow_id]
        reached, left = expected_funnel(paths, flow_id)
        assert {r["node"]: r["reached"] for r in rows_of if r["reached"]} == dict(reached)
        assert {r["node"]: r["left_here"] for r in rows_of if r["left_here"]} == dict(left)
    main_funnel = {r["node"]: r for r in report["funnel"] if r["flow_id"] == "main"}
    assert main_funnel["main_menu"]["reached"] == 3
    assert main_funnel["main_menu"]["left_here"] == 1  # the caller who hung up there
    assert main_funnel["leave_voicemail"]["left_here"] == 1
    assert main_funnel["to_billing"]["reached_share"] == round(1 / 3, 4)
    assert sum(r["left_here"] for r in report["funnel"]) == 3  # every caller left once

    # a final status delivered again (Twilio's retry, then a later sequence number): no facts
    stored = len(list(facts.facts_of_days(DAY - timedelta(days=1), DAY + timedelta(days=1))))
    for sequence in ("99", "100"):
        response = signed_post(client, "/twilio/voice/status", {
            "CallSid": sids[0], "CallStatus": "completed", "CallDuration": "9",
            "SequenceNumber": sequence, "From": "+14155550181", "To": HOTLINE,
            "Direction": "inbound"})
        assert response.status_code == 200
    assert len(list(facts.facts_of_days(DAY - timedelta(days=1),
                                        DAY + timedelta(days=1)))) == stored
    assert apply_stored_facts() == 0
    assert ivr.report(DAY, DAY, "day", "main")["totals"] == [
        {"flow_id": "main", "calls": 3, "contained": 3, "containment": 1.0}]


def test_the_report_by_half_hour_counts_each_call_where_it_began(carrier, client):
    t = carrier.place_inbound_call(HOTLINE, "+14155550181", ["1", "hangup"])
    assert not t.errors, t.errors
    apply_stored_facts()
    report = ivr.report(DAY, DAY, "half-hour", "main")
    counted = [r for r in report["rows"] if r["calls"]]
    assert len(report["rows"]) == 48
    assert [(r["half_hour"], r["calls"]) for r in counted] == [("10:00", 1)]  # 15:00 UTC in NY
    assert ivr.columns(report) == ["flow_id", "day", "half_hour", "calls", "contained",
                                   "containment"]


def test_an_unknown_flow_is_not_found(client):
    with pytest.raises(NotFound):
        ivr.report(DAY, DAY, "day", "no_such_flow")
    empty = ivr.report(DAY, DAY, "day", "billing")
    assert empty["rows"][0]["calls"] == 0 and empty["rows"][0]["containment"] is None
