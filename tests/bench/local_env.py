"""The environment a bench script runs the app in against its own DynamoDB Local: local
credentials, a fake Twilio account (no emulator: ``TWILIO_API_BASE`` unset), and a table prefix
(None: whatever the settings default to)."""

from __future__ import annotations

import os

BASE = "https://bench.switchboard.test/api"
TOKEN = "bench-token-not-a-secret"


def use_local_dynamodb(endpoint: str, table_prefix: str | None = "bench-") -> None:
    os.environ.update(
        DYNAMODB_ENDPOINT=endpoint, AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",
        AWS_REGION="us-east-1", PUBLIC_BASE_URL=BASE, TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32)
    os.environ.pop("TWILIO_API_BASE", None)
    if table_prefix is None:
        os.environ.pop("TABLE_PREFIX", None)
    else:
        os.environ["TABLE_PREFIX"] = table_prefix
