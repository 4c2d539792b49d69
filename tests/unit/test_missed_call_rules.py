"""The pure edges of missed calls: which callers can be recorded, how the flow engine reports a
closed *hours* branch, and how the admin API reads its parameters. Storage, texts and races are
in ``tests/integration/test_missed_calls.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.callbacks import missed
from chalicelib.ivr import engine
from chalicelib.ivr.loader import load_flows
from chalicelib.store.missed import contact_key
from chalicelib.telephony import verbs as v

ROOT = Path(__file__).resolve().parents[2]
CHRISTMAS = datetime(2026, 12, 25, 15, 0, tzinfo=UTC)  # the demo's agent hours are closed
MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("caller", "expected"), [
    ("+14155550177", "+14155550177"),
    ("+8613800138000", "+8613800138000"),
    ("+442071234567", "+442071234567"),
    ("+266696687", None),  # Twilio's "anonymous"
    ("+7378742833", None),  # Twilio's "restricted"
    ("+86282452253", None),  # Twilio's "unknown"
    ("client:alice", None),
    ("sip:alice@example.com", None),
    ("anonymous", None),
    ("", None),
    (None, None),
    ("+19005550123", None),  # premium rate: never called back
    ("+1415555", None),  # incomplete
])
def test_only_callers_we_could_call_back_are_recorded(caller, expected):
    assert missed.callable_caller(caller) == expected


def test_record_ids_are_url_safe_digits():
    assert contact_key("+14155550100", "+8613800138000") == "14155550100-8613800138000"


class _Ports:
    def __init__(self, flows):
        self.flows = flows

    def lookup(self, source, key):
        return None

    def live_flow(self, flow_id):
        return self.flows[flow_id]


def _pick_agent(now: datetime) -> v.StepResult:
    """Chinese, then "agent" in the demo's main menu: the flow reaches its agent_hours node."""
    flows, errors = load_flows(ROOT / "flows")
    assert errors == []
    flow, ports = flows["main"], _Ports(flows)
    ctx = engine.CallContext(call_sid="CA1", caller="+14155550177", hotline="+14155550100",
                             now=now)
    state = engine.CallState(flow_id="main", flow_version=1, language="en-US")
    engine.start(flow, ctx, state, ports)
    engine.resume(flow, "choose_language", {"Digits": "2"}, ctx, state, ports)
    return engine.resume(flow, "main_menu", {"Digits": "2"}, ctx, state, ports)


def test_the_engine_reports_a_closed_hours_branch_as_an_effect():
    result = _pick_agent(CHRISTMAS)
    assert result.visited[:2] == ["agent_hours", "after_hours"]
    assert result.effects == [v.HoursClosed("agent_hours", "zh-CN")]


def test_an_open_hours_branch_reports_nothing():
    result = _pick_agent(MONDAY)
    assert result.visited[:2] == ["agent_hours", "agent_queue"]
    assert not any(isinstance(effect, v.HoursClosed) for effect in result.effects)


@pytest.mark.parametrize("value", ["+14155550100", "14155550100", "%2B14155550100",
                                   " +14155550100 "])
def test_numbers_in_urls_are_read_with_or_without_the_plus(value):
    assert missed._number(value, "hotline") == "+14155550100"


@pytest.mark.parametrize("value", ["", None, "abc", "+1", "1" * 16, "１２３４５"])
def test_anything_else_in_a_number_field_is_refused(value):
    with pytest.raises(missed.InvalidRequest) as caught:
        missed._number(value, "number")
    assert caught.value.field == "number"


def test_reasons_are_checked():
    with pytest.raises(ValueError):
        missed.record_missed_call(hotline="+14155550100", caller="+14155550177", reason="lost",
                                  call_sid=None, language=None, queue_id=None, now=MONDAY,
                                  settings=None, gate=None)
