"""The IVR's funnel facts: node ids as value names, containment, a path cut into the flows it
ran, nodes visited twice counted once."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.calls.model import Call
from chalicelib.ivr import call_facts
from chalicelib.ivr.loader import load_flows
from chalicelib.ivr.model import Flow

ROOT = Path(__file__).resolve().parents[2]
STARTED = datetime(2026, 3, 9, 15, 10, tzinfo=UTC)
HOTLINE = "+14155550100"
VALUE = re.compile(r"[a-z][a-z0-9_]{0,39}")


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    loaded, errors = load_flows(ROOT / "flows")
    assert errors == []
    return loaded


def call(path: list[str], **fields) -> Call:
    return Call("CA" + "1" * 32, hotline=HOTLINE, flow_id=fields.pop("flow_id", "main"),
                flow_version=1, path=path, started_at=STARTED, **fields)


@pytest.mark.parametrize("node", ["main_menu", "Main-Menu", "9to5", "x" * 32, "x" * 33,
                                  "菜单", "a.b c", "_"])
def test_every_node_id_becomes_a_valid_value_name_with_either_prefix(node):
    key = call_facts.node_key(node)
    assert len(key) <= call_facts.KEY_LENGTH
    assert VALUE.fullmatch(call_facts.reached(node)) and VALUE.fullmatch(call_facts.left(node))
    assert call_facts.node_key(node) == key  # deterministic


def test_plain_ids_are_kept_and_mapped_ones_never_collide():
    assert call_facts.node_key("main_menu") == "main_menu"
    assert call_facts.node_key("x" * 32) == "x" * 32
    mapped = {call_facts.node_key(n) for n in ("Main_Menu", "main-menu", "main.menu", "main_menu",
                                                "x" * 40, "x" * 40 + "y")}
    assert len(mapped) == 6


def test_a_caller_who_hangs_up_in_the_menu_is_contained_and_left_there(flows):
    path = ["known_language", "choose_language", "vip_check", "main_menu", "main_menu"]
    [fact] = call_facts.ivr_facts(call(path), [(flows["main"], path)])
    assert fact.fact_id == "call:CA" + "1" * 32 + ":ivr:main"
    assert fact.kind == "ivr_call" and fact.at == STARTED
    assert fact.scopes == {"flow": "main", "hotline": HOTLINE}
    assert fact.zone == "America/New_York"  # main's business hours
    assert fact.values == {"calls": 1, "contained": 1, "reached_known_language": 1,
                           "reached_choose_language": 1, "reached_vip_check": 1,
                           "reached_main_menu": 1, "left_main_menu": 1}


@pytest.mark.parametrize("fields", [{"agent_id": "a-1"}, {"outcome": "queue"},
                                    {"outcome": "transfer"}, {"outcome": "callback"},
                                    {"queue_id": "support"}])
def test_a_call_handed_to_a_person_is_not_contained(flows, fields):
    path = ["main_menu", "agent_hours", "agent_queue"]
    [fact] = call_facts.ivr_facts(call(path, **fields), [(flows["main"], path)])
    assert fact.values["contained"] == 0 and fact.values["calls"] == 1


def test_a_voicemail_is_contained(flows):
    assert call_facts.is_contained(call(["leave_voicemail"], outcome="voicemail"))
    assert call_facts.is_contained(call(["main_menu"], outcome=None))


def test_a_path_through_a_goto_counts_in_each_flow_it_ran(flows):
    path = ["known_language", "choose_language", "vip_check", "main_menu", "to_billing",
            "account_number", "pin", "find_account"]
    segments = call_facts.split_path(path, flows["main"], flows.__getitem__)
    assert [(f.id, nodes) for f, nodes in segments] == [
        ("main", path[:5]), ("billing", path[5:])]
    main, billing = call_facts.ivr_facts(call(path, flow_id="billing"), segments)
    assert "left_find_account" in billing.values and not any(
        name.startswith("left_") for name in main.values)
    assert main.values["calls"] == billing.values["calls"] == 1
    assert billing.zone == "UTC"  # billing has no business hours of its own
    assert main.fact_id != billing.fact_id


def test_a_path_that_is_not_the_flows_is_refused(flows):
    with pytest.raises(ValueError, match="not in flow"):
        call_facts.split_path(["account_number"], flows["main"], flows.__getitem__)


def test_a_call_that_never_started_leaves_no_fact(flows):
    assert call_facts.ivr_facts(Call("CA" + "2" * 32, flow_id="main", path=["main_menu"]),
                                [(flows["main"], ["main_menu"])]) == []
