"""One DynamoDB connection, one botocore client, for every table and transaction."""

from __future__ import annotations

import uuid

import botocore.session
from pynamodb.transactions import TransactWrite

from chalicelib.settings import get_settings
from chalicelib.store import claims, connection, directory, routing
from chalicelib.store.models import bind_models, transaction_connection
from tests.integration.conftest import OPEN_HOURS


def test_every_table_and_transaction_shares_one_botocore_client(monkeypatch, demo):
    created = []
    original = botocore.session.Session.create_client

    def counting(self, *args, **kwargs):
        created.append(args[0] if args else kwargs.get("service_name"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    bind_models(get_settings())  # a new container: nothing built yet
    try:
        directory.clear_cache()
        assert directory.get_hotline(demo.DEMO_HOTLINE) is not None  # hotlines
        routing.list_queues()  # queues
        routing.queue_agents("support")  # members, agents
        key = f"test-one-client:{uuid.uuid4().hex}"
        assert claims.claim(key, OPEN_HOURS)  # claims
        with TransactWrite(connection=transaction_connection()) as tx:  # a transaction
            claims.claim_in(tx, key + ":tx", OPEN_HOURS)
    finally:
        bind_models(get_settings())
    assert created == ["dynamodb"]
    assert connection.shared_connection().client is connection.shared_connection().client


def test_the_shared_connection_fails_fast_when_dynamodb_is_down():
    """Twilio waits 15 s for a webhook: storage must give up within a few seconds."""
    conn = connection.shared_connection()
    config = conn.client.meta.config
    assert config.connect_timeout == connection.CONNECT_TIMEOUT_SECONDS == 1
    assert config.read_timeout == connection.READ_TIMEOUT_SECONDS == 2
    assert config.retries["total_max_attempts"] == 1 + connection.MAX_RETRY_ATTEMPTS
