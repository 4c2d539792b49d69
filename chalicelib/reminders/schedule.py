"""The ``run_reminders`` job: each day, every policy's steps become reminder batches.

A step of a policy falls on ``due date + day`` (``policy.py``), so the accounts a step reaches
today are the open accounts due on ``today - day``: one segment read by index, no Scan. Each
(policy, step, day) becomes one batch (``batches.preview_or_send``) whose id derives from
that triple (its ``request_id``), so the job running twice a day, or racing itself, sends one
batch. The campaign engine then runs it: through the compliance gate, the account read again
right before each attempt (``check.py``: paid meanwhile, no reminder).

``today`` is the UTC date: an account's own local day may differ by one near midnight, which
moves a reminder by at most a day, never skips one (the batch is made once per UTC day).

An ``agent`` step makes an agent batch: a progressive campaign for the step's ``queue``. The
queue's agents join its open line (``POST /campaigns/{id}/seats``); the job dials one account
per ready agent and bridges the customer who answers, the account on the agent's seat view.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from chalicelib.api_errors import Conflict, InvalidRequest, TooLarge
from chalicelib.reminders import batches
from chalicelib.reminders.policy import AGENT, SMS, ReminderPolicy, Step, load_policies

log = logging.getLogger(__name__)


def run_policies(now: datetime, caller_id: str | None,
                 policies: dict[str, ReminderPolicy] | None = None) -> dict:
    """Make today's batches for every policy step; ``{"<policy>:<day>": accounts | reason}``
    (a step the batch API refuses, e.g. its queue unknown, is ``"refused: <why>"``).
    ``caller_id``: the number reminders come from (E.164); without one nothing is sent."""
    if not caller_id:
        return {"skipped": "no caller id: set REMINDER_CALLER_ID"}
    today = now.date()
    made: dict = {}
    for policy in (policies if policies is not None else load_policies()).values():
        for step in policy.steps:
            key = f"{policy.policy_id}:{step.day}"
            due_on = today - timedelta(days=step.day)
            body = _batch_body(policy, step, due_on.isoformat(), caller_id,
                               f"{policy.policy_id}.{step.day}.{today.isoformat()}")
            try:
                answer = batches.preview_or_send(body, now, limit=batches.JOB_MAX_ACCOUNTS,
                                                 step=(policy.policy_id, step.day))
            except Conflict:  # nobody is due on that day
                made[key] = 0
                continue
            except (InvalidRequest, TooLarge) as exc:  # a deleted queue, a day past the cap:
                # the other steps still run
                log.warning("run_reminders: step %s refused: %s", key, exc)
                made[key] = f"refused: {exc}"
                continue
            made[key] = answer.get("accounts", 0)
    log.info("run_reminders: %s", made)
    return made


def _batch_body(policy: ReminderPolicy, step: Step, due_on: str, caller_id: str,
                request_id: str) -> dict:
    body: dict = {
        "segment": {"status": "open", "due_from": due_on, "due_to": due_on},
        "channel": step.channel, "caller_id": caller_id, "purpose": policy.purpose,
        "name": policy.name, "request_id": request_id,
    }
    if step.channel == SMS:
        body["template"] = step.template
    elif step.channel == AGENT:
        body["queue"] = step.queue
    else:
        body["flow"] = step.flow
    return body
