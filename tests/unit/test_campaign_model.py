"""A campaign's lifecycle, a contact's retry policy and a campaign's gate policy: pure rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.campaigns.campaign import (
    COMPLETED,
    DRAFT,
    PAUSED,
    RUNNING,
    SCHEDULED,
    STOPPED,
    Campaign,
    LifecycleError,
    RetryRule,
    due_to_run,
    past_end,
    transition,
)
from chalicelib.campaigns.contact import (
    DONE,
    WAITING,
    CampaignContact,
    after_attempt,
    phone_of,
)
from chalicelib.campaigns.policy import policy_of
from chalicelib.compliance.rules import Cap

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def campaign(**fields) -> Campaign:
    return Campaign(campaign_id="cmp_1", name="n", kind="agentless", purpose="informational",
                    list_id="lst_1", caller_id="+14155550100", created_at=NOW, **fields)


def test_start_runs_at_once_or_waits_for_the_start_date():
    assert transition(campaign(), "start", NOW).status == RUNNING
    later = campaign(starts_at=NOW + timedelta(days=1))
    scheduled = transition(later, "start", NOW)
    assert scheduled.status == SCHEDULED and not due_to_run(scheduled, NOW)
    assert due_to_run(scheduled, NOW + timedelta(days=1))
    assert transition(scheduled, "run", NOW + timedelta(days=1)).status == RUNNING


def test_pause_resume_stop_and_the_arrows_that_do_not_exist():
    running = transition(campaign(), "start", NOW)
    paused = transition(running, "pause", NOW)
    assert paused.status == PAUSED
    assert transition(paused, "resume", NOW).status == RUNNING
    stopped = transition(paused, "stop", NOW)
    assert stopped.status == STOPPED and stopped.ended_at == NOW
    for action in ("start", "pause", "resume", "stop"):
        with pytest.raises(LifecycleError):
            transition(stopped, action, NOW)
    with pytest.raises(LifecycleError):
        transition(campaign(), "resume", NOW)
    with pytest.raises(LifecycleError):
        transition(running, "start", NOW)
    with pytest.raises(ValueError):
        transition(running, "explode", NOW)
    assert transition(running, "complete", NOW).status == COMPLETED
    assert campaign().status == DRAFT


def test_the_end_date():
    ending = campaign(ends_at=NOW)
    assert past_end(ending, NOW) and not past_end(ending, NOW - timedelta(seconds=1))
    assert not past_end(campaign(), NOW)


def test_retryable_outcomes_wait_then_end_after_the_last_attempt():
    rules = {"busy": RetryRule(600, 3)}
    step = after_attempt(1, "busy", rules, NOW)
    assert step.status == WAITING and step.due_at == NOW + timedelta(seconds=600)
    assert after_attempt(3, "busy", rules, NOW).status == DONE
    assert after_attempt(3, "busy", rules, NOW).disposition == "busy"
    assert after_attempt(1, "no_answer", rules, NOW).disposition == "no_answer"  # no rule
    assert after_attempt(1, "answered", rules, NOW).disposition == "answered"


def test_contact_ids_and_attempt_keys():
    contact = CampaignContact(campaign_id="cmp_1", phone="+14155550123", attempts=2)
    assert contact.contact_id == "14155550123" and phone_of("14155550123") == "+14155550123"
    assert contact.attempt_key == "campaign:cmp_1:14155550123:2"
    for bad in ("", "12", "+1415", "1415５550123", "1" * 16):
        with pytest.raises(ValueError):
            phone_of(bad)


def test_the_gate_policy_of_a_campaign():
    policy = policy_of(campaign(window={"mon-fri": ["09:00-20:00"]}, compliance={
        "restricted_dates": ["2026-12-25"], "caps": [{"channel": "voice", "count": 2,
                                                     "days": 7}],
        "abandoned_hold_hours": 24, "debt_cap": None}))
    assert policy.window == {"mon-fri": ["09:00-20:00"]}
    assert policy.restricted_dates == frozenset({"2026-12-25"})
    assert policy.caps == (Cap("voice", 2, 7),)
    assert policy.abandoned_hold == timedelta(hours=24) and policy.debt_cap is None


@pytest.mark.parametrize("fields, message", [
    ({"window": {"mon-sun": ["07:00-20:00"]}}, "08:00 and 21:00"),
    ({"window": {"mon-sun": ["10:00-22:00"]}}, "08:00 and 21:00"),
    ({"window": {"someday": ["10:00-12:00"]}}, "window"),
    ({"compliance": {"restricted_dates": ["25/12"]}}, "restricted_dates"),
    ({"compliance": {"caps": [{"channel": "fax", "count": 1, "days": 1}]}}, "caps"),
    ({"compliance": {"abandoned_hold_hours": -1}}, "abandoned_hold_hours"),
    ({"compliance": {"no_such_rule": 1}}, "no_such_rule"),
    ({"compliance": {"country_windows": {"GB": {"mon-sun": ["06:00-09:00"]}}}},
     "country_windows"),
])
def test_bad_policy_overrides_name_their_field(fields, message):
    with pytest.raises(ValueError, match=message):
        policy_of(replace(campaign(), **fields))
