"""Reminder policies: parsed from data, the steps due on a day, never going back."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.reminders.policy import (
    AGENT,
    SMS,
    VOICE,
    due_steps,
    load_policies,
    next_step,
    parse_policy,
)

DUE = date(2026, 12, 10)


def standard():
    return load_policies()["standard"]


def test_the_standard_policy_loads_in_day_order():
    policy = standard()
    assert policy.purpose == "collections"
    assert [(s.day, s.channel) for s in policy.steps] == [
        (-3, SMS), (0, VOICE), (3, SMS), (7, VOICE), (10, AGENT)]
    assert policy.steps[0].template == "reminder_due"
    assert policy.steps[1].flow == "reminder_call" and policy.steps[4].queue == "support"


def test_the_steps_due_on_a_day():
    policy = standard()
    assert next_step(policy, DUE, date(2026, 12, 6), done=()) is None  # four days before
    assert next_step(policy, DUE, date(2026, 12, 7), done=()) == 0  # the text, 3 days before
    assert next_step(policy, DUE, date(2026, 12, 8), done={0}) is None
    assert next_step(policy, DUE, DUE, done={0}) == 1  # the call on the due date
    assert due_steps(policy, DUE, date(2026, 12, 17), done={0}) == [1, 2, 3]


def test_an_account_loaded_late_gets_the_latest_step_only_and_never_goes_back():
    policy = standard()
    assert next_step(policy, DUE, date(2026, 12, 14), done=()) == 2  # not the missed ones
    assert next_step(policy, DUE, date(2026, 12, 14), done={2}) is None
    assert next_step(policy, DUE, date(2026, 12, 30), done={4}) is None  # handed over: done


@pytest.mark.parametrize("data, field", [
    ({"policy": "x", "purpose": "marketing", "steps": [{"day": 0, "channel": "sms",
                                                         "template": "t"}]}, "purpose"),
    ({"policy": "X!", "purpose": "collections", "steps": []}, "policy"),
    ({"policy": "x", "purpose": "collections", "steps": []}, "steps"),
    ({"policy": "x", "purpose": "collections",
      "steps": [{"day": 0, "channel": "sms"}]}, "steps[0].template"),
    ({"policy": "x", "purpose": "collections",
      "steps": [{"day": 0, "channel": "voice", "template": "t"}]}, "steps[0].template"),
    ({"policy": "x", "purpose": "collections",
      "steps": [{"day": 1.5, "channel": "sms", "template": "t"}]}, "steps[0].day"),
    ({"policy": "x", "purpose": "collections",
      "steps": [{"day": 0, "channel": "fax", "queue": "q"}]}, "steps[0].channel"),
    ({"policy": "x", "purpose": "collections",
      "steps": [{"day": 1, "channel": "sms", "template": "t"},
                {"day": 1, "channel": "voice", "flow": "f"}]}, "at most one step a day"),
    ({"policy": "x", "purpose": "collections", "color": "red",
      "steps": [{"day": 1, "channel": "sms", "template": "t"}]}, "color"),
    ("not a mapping", "policy"),
])
def test_a_bad_policy_names_its_field(data, field):
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_policy(data)


def test_policies_are_bundled_into_the_package_and_read_from_there(tmp_path):
    from chalicelib.reminders.policy import POLICIES_DIR, bundle_policies

    (tmp_path / "old.yaml").write_text("stale")
    written = bundle_policies(POLICIES_DIR, tmp_path)
    assert [p.name for p in written] == ["standard.yaml"] and not (tmp_path / "old.yaml").exists()
    assert load_policies(tmp_path)["standard"] == standard()
    (tmp_path / "broken.yaml").write_text("policy: broken\npurpose: marketing\nsteps: []\n")
    with pytest.raises(ValueError, match="broken.yaml: purpose"):
        load_policies(tmp_path)
