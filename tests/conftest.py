"""Test harness: the test settings, set before ``app`` is imported, and a private DynamoDB Local
started only for the tests that need storage.

Chalice's test client swaps ``os.environ`` only during each call, and our models bind to their
tables at import (PITFALLS.md), so the environment is settled here, in ``pytest_configure``,
before any test module imports the app. DynamoDB Local (Java, from npm) is not started there:
the ``dynamodb_endpoint`` fixture starts it the first time a test asks for storage (``baseline``,
``own_data``: every integration and browser test), makes the tables and points the models at it.
Until then ``DYNAMODB_ENDPOINT`` names a port where nothing listens, so ``pytest tests/unit``
needs no Java, no npm and no network, and a unit test that touches storage fails at once (it
belongs in tests/integration). Each xdist worker has its own tables and, if it needs one, its own
DynamoDB Local.

``SWITCHBOARD_TEST_OFFLINE=1`` makes a run refuse to start DynamoDB Local and to connect beyond
this machine (tests/integration/test_infra.py runs tests/unit that way).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import (  # noqa: E402
    PUBLIC_BASE_URL,
    TEST_ACCOUNT,
    TEST_API_KEY_SECRET,
    TEST_API_KEY_SID,
    TEST_CONSOLE_SIGNING_KEY,
    TEST_TOKEN,
)

_traveller = None

# CI runs the suite a second time with the wall clock moved ahead (``make test-future``): no test
# may depend on today's date.
CLOCK_SHIFT = "SWITCHBOARD_TEST_CLOCK_SHIFT_DAYS"
# No DynamoDB Local, no connection beyond loopback: what tests/unit must pass with.
OFFLINE = "SWITCHBOARD_TEST_OFFLINE"
# Where storage points until a test starts DynamoDB Local: nothing listens on the discard port.
NO_DYNAMODB = "http://127.0.0.1:9"
UNIT = Path(__file__).resolve().parent / "unit"


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


def _offline() -> bool:
    return os.environ.get(OFFLINE, "").strip().lower() in ("1", "true", "yes", "on")


def _stay_on_this_machine() -> None:
    """Refuse every connection and name lookup beyond loopback (``SWITCHBOARD_TEST_OFFLINE``)."""
    import ipaddress
    import socket

    def local(host) -> bool:
        if host in (None, "", "localhost"):
            return True
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def refuse(what) -> OSError:
        return OSError(f"{OFFLINE} is set: no network beyond this machine ({what!r})")

    def guard(real):
        def call(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not local(address[0]):
                raise refuse(address)
            return real(sock, address)
        return call

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if not local(host):
            raise refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guard(socket.socket.connect)
    socket.socket.connect_ex = guard(socket.socket.connect_ex)
    socket.getaddrinfo = getaddrinfo


def pytest_report_header(config):
    if _traveller is not None:
        from datetime import UTC, datetime

        return f"wall clock moved ahead {os.environ[CLOCK_SHIFT]} days: now {datetime.now(UTC)}"
    return None


def pytest_configure(config):
    _shift_the_clock()
    if _offline():
        _stay_on_this_machine()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ.update(
        {
            "SWITCHBOARD_STAGE": "test",
            "TABLE_PREFIX": f"test-{worker}-",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "DYNAMODB_ENDPOINT": NO_DYNAMODB,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_ACCOUNT_SID": TEST_ACCOUNT,
            "TWILIO_AUTH_TOKEN": TEST_TOKEN,
            "TWILIO_API_KEY_SID": TEST_API_KEY_SID,
            "TWILIO_API_KEY_SECRET": TEST_API_KEY_SECRET,
            "TWILIO_VALIDATE_SIGNATURES": "true",
        }
    )
    from infra.local.console_users import console_environment

    os.environ.update(console_environment(TEST_CONSOLE_SIGNING_KEY))  # the demo's users
    os.environ.pop("TWILIO_API_BASE", None)
    os.environ.pop("SSM_PREFIX", None)
    os.environ.pop("FALLBACK_NUMBER", None)
    from chalicelib.settings import reset_settings
    from chalicelib.store.models import bind_models

    reset_settings()
    bind_models()


def pytest_collection_modifyitems(config, items):
    """A unit test may not ask for DynamoDB Local: one that needs storage is an integration
    test."""
    wrong = [item.nodeid for item in items
             if UNIT in item.path.parents and "dynamodb_endpoint" in item.fixturenames]
    if wrong:
        raise pytest.UsageError("these tests need DynamoDB Local: move them to "
                                "tests/integration:\n  " + "\n  ".join(wrong))


def pytest_unconfigure(config):
    if _traveller is not None:
        _traveller.stop()


@pytest.fixture(scope="session")
def dynamodb_endpoint():
    """This session's DynamoDB Local with the suite's (empty) tables, started on a free port the
    first time a test needs storage; the settings and the models are pointed at it."""
    if _offline():
        pytest.fail(f"{OFFLINE} is set: this run may not start DynamoDB Local", pytrace=False)
    from chalicelib.settings import get_settings
    from chalicelib.store.models import bind_models
    from chalicelib.store.tables import create_tables
    from infra.local.dynamodb import DynamoDBLocal

    server = DynamoDBLocal().start()
    try:
        # the environment too: Chalice's test client copies it into every call
        os.environ["DYNAMODB_ENDPOINT"] = server.endpoint
        settings = get_settings()
        settings.dynamodb_endpoint = server.endpoint
        bind_models(settings)
        # No TTL here: DynamoDB Local deletes expired items by the real clock, and the tests'
        # clocks pin dates (23 Nov 2026) that the calendar leaves behind.
        create_tables(ttl=False)
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def baseline(dynamodb_endpoint):
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
