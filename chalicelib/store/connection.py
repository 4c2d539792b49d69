"""One DynamoDB connection, and so one botocore client, for every table in a container.

PynamoDB gives each model its own ``Connection`` and each connection builds its own botocore
session and client (~50 ms of a cold start each, 9–13 tables a call: ``make bench`` prints the
count). A botocore client is thread-safe and not tied to a table, so every model and every
transaction here shares one, built on first use under a lock.
"""

from __future__ import annotations

import threading

from pynamodb.connection import Connection

# Twilio waits 15 s for a webhook: a DynamoDB that is down or hung must fail a request within a
# few seconds (2 attempts of at most 1 s to connect + 2 s to read), leaving time for the
# storage-free fallback answer.
CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = 2
MAX_RETRY_ATTEMPTS = 1

_lock = threading.Lock()
_endpoint: tuple[str | None, str | None] = (None, None)
_shared: Connection | None = None


def bind(region: str | None, host: str | None) -> None:
    """Point the shared connection at ``region`` and ``host`` (a local endpoint URL, or None for
    AWS); the client is rebuilt on next use."""
    global _endpoint, _shared
    with _lock:
        _endpoint = (region, host)
        _shared = None


def shared_connection() -> Connection:
    """The container's one connection; its botocore client is created here, once."""
    global _shared
    conn = _shared
    if conn is not None:
        return conn
    with _lock:
        if _shared is None:
            region, host = _endpoint
            conn = Connection(
                region=region, host=host,
                connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS,
                read_timeout_seconds=READ_TIMEOUT_SECONDS,
                max_retry_attempts=MAX_RETRY_ATTEMPTS,
            )
            conn.client  # noqa: B018 - build the client now, while holding the lock
            _shared = conn
        return _shared
