"""Test harness: a private DynamoDB Local and the test settings, set up before ``app`` is imported.

Chalice's test client swaps ``os.environ`` only during each call, and our models bind to their
tables at import (PITFALLS.md), so the environment is settled here, in ``pytest_configure``,
before any test module imports the app. Each xdist worker gets its own DynamoDB Local.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import PUBLIC_BASE_URL, TEST_ACCOUNT, TEST_TOKEN  # noqa: E402

_dynamodb = None


def pytest_configure(config):
    global _dynamodb
    from infra.local.dynamodb import DynamoDBLocal

    _dynamodb = DynamoDBLocal()
    _dynamodb.start()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ.update(
        {
            "SWITCHBOARD_STAGE": "test",
            "TABLE_PREFIX": f"test-{worker}-",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "DYNAMODB_ENDPOINT": _dynamodb.endpoint,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_ACCOUNT_SID": TEST_ACCOUNT,
            "TWILIO_AUTH_TOKEN": TEST_TOKEN,
            "TWILIO_VALIDATE_SIGNATURES": "true",
        }
    )
    os.environ.pop("TWILIO_API_BASE", None)
    os.environ.pop("SSM_PREFIX", None)
    os.environ.pop("FALLBACK_NUMBER", None)
    from chalicelib.settings import reset_settings
    from chalicelib.store.models import bind_models
    from chalicelib.store.tables import create_tables

    reset_settings()
    bind_models()
    create_tables()


def pytest_unconfigure(config):
    if _dynamodb is not None:
        _dynamodb.stop()


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> str:
    return _dynamodb.endpoint
