"""Reminder policies: a sequence of steps around an account's due date, defined as data.

A policy (YAML under ``flows/reminders/``, one file each) names its ``purpose`` (collections
or informational: which rules of the compliance gate apply) and its steps, each ``day`` days
from the due date (negative: before it) on a ``channel``:

- ``sms``: a text from ``template`` (``chalicelib/templates/<language>/``);
- ``voice``: a call running the published ``flow`` (pay now, promise a date, an agent);
- ``agent``: the account is handed to the ``queue``'s agents (a progressive campaign).

This module only says *which steps are due*; whether an account may be reminded at all (paid,
disputed, in a plan, promised) is ``model.reminder_blocker``'s, and whether a contact may go
now is the compliance gate's.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

SMS, VOICE, AGENT = "sms", "voice", "agent"
CHANNELS = (SMS, VOICE, AGENT)
PURPOSES = ("collections", "informational")
NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_STEPS = 20
MAX_DAYS = 366  # a step a year away from its due date is a mistake, not a policy
POLICIES_DIR = Path(__file__).resolve().parents[2] / "flows" / "reminders"
# Chalice packages only chalicelib/: ``manage.py flows bundle`` copies the policies here
BUNDLE_DIR = Path(__file__).resolve().parent / "bundled"


@dataclass(frozen=True)
class Step:
    """One reminder: ``day`` from the due date, on ``channel``, with what it needs."""

    day: int
    channel: str
    template: str | None = None
    flow: str | None = None
    queue: str | None = None

    def on(self, due_date: date) -> date:
        """The calendar day this step falls on for a bill due on ``due_date``."""
        return due_date + timedelta(days=self.day)


@dataclass(frozen=True)
class ReminderPolicy:
    """``steps`` in day order; ``purpose`` decides the gate's rules."""

    policy_id: str
    name: str
    purpose: str
    steps: tuple[Step, ...]


def parse_policy(data: Mapping) -> ReminderPolicy:
    """A policy from its YAML (or JSON) form; ValueError naming the field when it is wrong."""
    if not isinstance(data, Mapping):
        raise ValueError("policy: must be a mapping")
    unknown = set(data) - {"policy", "name", "purpose", "steps"}
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]}: not a field of a policy")
    policy_id = data.get("policy")
    if not isinstance(policy_id, str) or not NAME.fullmatch(policy_id):
        raise ValueError("policy: a lower-case name like 'standard'")
    purpose = data.get("purpose")
    if purpose not in PURPOSES:
        raise ValueError(f"purpose: one of {', '.join(PURPOSES)}")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not 1 <= len(raw_steps) <= MAX_STEPS:
        raise ValueError(f"steps: a list of 1 to {MAX_STEPS} steps")
    steps = tuple(sorted((_step(raw, n) for n, raw in enumerate(raw_steps)),
                         key=lambda step: step.day))
    days = [step.day for step in steps]
    if len(set(days)) != len(days):
        raise ValueError("steps: at most one step a day")
    name = data.get("name", policy_id)
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name: text")
    return ReminderPolicy(policy_id, name.strip(), purpose, steps)


def _step(raw: object, n: int) -> Step:
    field = f"steps[{n}]"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{field}: a mapping with day and channel")
    unknown = set(raw) - {"day", "channel", "template", "flow", "queue"}
    if unknown:
        raise ValueError(f"{field}.{sorted(unknown)[0]}: not a field of a step")
    day = raw.get("day")
    if not isinstance(day, int) or isinstance(day, bool) or abs(day) > MAX_DAYS:
        raise ValueError(f"{field}.day: whole days from the due date, -{MAX_DAYS} to {MAX_DAYS}")
    channel = raw.get("channel")
    needs = {SMS: "template", VOICE: "flow", AGENT: "queue"}
    if channel not in needs:
        raise ValueError(f"{field}.channel: one of {', '.join(CHANNELS)}")
    names = {key: raw.get(key) for key in ("template", "flow", "queue")}
    for key, value in names.items():
        if value is not None and (not isinstance(value, str) or not NAME.fullmatch(value)):
            raise ValueError(f"{field}.{key}: a lower-case name")
        if value is not None and key != needs[channel]:
            raise ValueError(f"{field}.{key}: a {channel} step takes {needs[channel]}")
    if names[needs[channel]] is None:
        raise ValueError(f"{field}.{needs[channel]}: a {channel} step needs one")
    return Step(day=day, channel=channel, **names)


def due_steps(policy: ReminderPolicy, due_date: date, today: date,
              done: Collection[int]) -> list[int]:
    """Indexes of the steps whose day has come by ``today`` and that were not ``done``, in
    order. Only the latest of them is worth taking (``next_step``): an account loaded late does
    not get every missed text at once."""
    return [n for n, step in enumerate(policy.steps)
            if step.on(due_date) <= today and n not in done]


def next_step(policy: ReminderPolicy, due_date: date, today: date,
              done: Collection[int]) -> int | None:
    """The step to take today: the latest one due and not done, unless a later one was done
    already (the sequence never goes back); None when there is nothing to do."""
    due = due_steps(policy, due_date, today, done)
    if not due:
        return None
    latest = due[-1]
    if any(n > latest for n in done):
        return None
    return latest


def load_policies(directory: Path | None = None) -> dict[str, ReminderPolicy]:
    """Every ``*.yaml`` policy of ``directory`` by id (default: ``flows/reminders`` in a
    checkout, else the copies bundled into the package); ValueError naming the file and
    field."""
    if directory is None:
        directory = POLICIES_DIR if POLICIES_DIR.is_dir() else BUNDLE_DIR
    policies: dict[str, ReminderPolicy] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            policy = parse_policy(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (ValueError, yaml.YAMLError) as exc:
            raise ValueError(f"{path.name}: {exc}") from None
        if policy.policy_id != path.stem:
            raise ValueError(f"{path.name}: policy: must be '{path.stem}', its file's name")
        policies[policy.policy_id] = policy
    return policies


def bundle_policies(source: Path = POLICIES_DIR, target: Path = BUNDLE_DIR) -> list[Path]:
    """Check every policy of ``source`` and copy it into the package (``target``); stale
    copies go. ValueError as ``load_policies``."""
    load_policies(source)
    target.mkdir(parents=True, exist_ok=True)
    names = {path.name for path in source.glob("*.yaml")}
    for stale in target.glob("*.yaml"):
        if stale.name not in names:
            stale.unlink()
    written = []
    for path in sorted(source.glob("*.yaml")):
        copy = target / path.name
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(copy)
    return written
