"""The IVR funnel lists a flow's nodes in the order callers meet them, whatever order the stored
flow's nodes come back in."""

from __future__ import annotations

from chalicelib.ivr.model import Flow
from chalicelib.reports.ivr import call_order


def flow(nodes: dict) -> Flow:
    return Flow.from_document({
        "flow": "order", "languages": ["en-US"],
        "voices": {"en-US": {"voice": "Polly.Joanna", "language": "en-US"}},
        "start": "welcome", "nodes": nodes,
        "templates": {"en-US": {"ask": "Why are you calling?"}},
    })


def test_breadth_first_from_the_start_then_the_rest():
    nodes = {  # sorted by name, as a stored flow comes back
        "a_bye": {"kind": "hangup"},
        "b_reason": {"kind": "collect", "prompt": "ask", "into": "reason", "input": "speech",
                     "next": "a_bye", "on_fail": "c_sorry"},
        "c_sorry": {"kind": "hangup"},
        "welcome": {"kind": "collect", "prompt": "ask", "into": "x", "input": "speech",
                    "next": "b_reason", "on_fail": "a_bye"},
        "z_orphan": {"kind": "hangup"},
    }
    assert call_order(flow(nodes)) == ["welcome", "b_reason", "a_bye", "c_sorry", "z_orphan"]
