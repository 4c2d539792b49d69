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
_traveller = None

# CI runs the suite a second time with the wall clock moved ahead (``make test-future``): no test
# may depend on today's date.
CLOCK_SHIFT = "SWITCHBOARD_TEST_CLOCK_SHIFT_DAYS"


def _shift_the_clock() -> None:
    """Move Python's wall clock (``time.time``, ``datetime.now``) ahead by the days in
    ``SWITCHBOARD_TEST_CLOCK_SHIFT_DAYS``; it keeps ticking from there."""
    global _traveller
    days = os.environ.get(CLOCK_SHIFT, "").strip()
    if not days:
        return
    from datetime import UTC, datetime, timedelta

    import time_machine

    _traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=int(days)), tick=True)
    _traveller.start()


def pytest_report_header(config):
    if _traveller is not None:
        from datetime import UTC, datetime

        return f"wall clock moved ahead {os.environ[CLOCK_SHIFT]} days: now {datetime.now(UTC)}"
    return None


def pytest_configure(config):
    global _dynamodb
    from infra.local.dynamodb import DynamoDBLocal

    _shift_the_clock()

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
    # No TTL here: DynamoDB Local deletes expired items by the real clock, and the tests' clocks
    # pin dates (23 Nov 2026) that the calendar leaves behind.
    create_tables(ttl=False)


def pytest_unconfigure(config):
    if _dynamodb is not None:
        _dynamodb.stop()
    if _traveller is not None:
        _traveller.stop()


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> str:
    return _dynamodb.endpoint


@pytest.fixture(scope="session")
def baseline():
    """The database as the demo leaves it (loaded once): what every test that touches storage
    starts from."""
    import app  # noqa: F401 - the app binds its models first
    from infra.local.demo import load_demo
    from tests.support import TableSnapshot

    load_demo()
    return TableSnapshot().capture().track_writes()


@pytest.fixture
def own_data(baseline):
    """Each test owns its data: the tables go back to the demo's before it runs (a sweep or a
    dispatch then meets only this test's queues, agents and requests, whatever ran before),
    and the in-process caches forget what an earlier test read. Integration and browser tests
    use it automatically."""
    from chalicelib.store import directory, flows

    baseline.restore()
    flows.clear_cache()
    directory.clear_cache()
