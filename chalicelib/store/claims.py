"""Claims: the one way a side effect is taken exactly once when Twilio retries, duplicates and
reorders its webhooks, and many Lambdas run at once.

A claim key is derived from Twilio's own ids (``sms-command:<MessageSid>``,
``handle-time:<CallSid>:<DialCallSid>``), never from our clock, so a retry of the same webhook
derives the same key. ``claim`` writes it with the condition that it is absent; ``claim_in``
adds that conditional put to a transaction, so the claim and the change it guards commit or fail
together (no claimed-but-not-done gap). The item expires long after Twilio's last retry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.store.models import Claim, save_if_absent

CLAIM_DAYS = 7  # Twilio retries within seconds; a week also covers a reconciliation job


class AlreadyClaimed(Exception):
    """The effect was taken before (a retried or replayed webhook): nothing was written."""


def _item(key: str, now: datetime) -> Claim:
    return Claim(key, created_at=now, expires=now + timedelta(days=CLAIM_DAYS))


def claim(key: str, now: datetime) -> bool:
    """Take ``key``; True the first time, False for every later attempt (a retry)."""
    return save_if_absent(_item(key, now), Claim.claim_key.does_not_exist())


def claim_in(tx: TransactWrite, key: str, now: datetime) -> None:
    """Add the claim of ``key`` to ``tx``: the transaction fails if it was taken before."""
    tx.save(_item(key, now), condition=Claim.claim_key.does_not_exist())


def is_claimed(key: str) -> bool:
    try:
        Claim.get(key, consistent_read=True)
    except DoesNotExist:
        return False
    return True
