"""The routing directory lists every queue and agent with one read, never a Scan once it is
complete, and misses nothing written before it existed. DynamoDB Local."""

from __future__ import annotations

import pytest
from pynamodb.connection.base import Connection

from chalicelib.routing.model import Agent, Endpoint, QueueConfig
from chalicelib.store import routing
from chalicelib.store.models import QueueItem
from tests.integration.conftest import OPEN_HOURS


@pytest.fixture
def operations(monkeypatch):
    """The DynamoDB operations made while the test runs, in order."""
    made: list[str] = []
    original = Connection.dispatch

    def counting(conn, operation_name, operation_kwargs):
        made.append(operation_name)
        return original(conn, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    return made


def forget_the_directory() -> None:
    """As a table written before the directory came in: no ids, no flags."""
    QueueItem(routing.DIRECTORY).update(actions=[
        QueueItem.queue_ids.remove(), QueueItem.agent_ids.remove(),
        QueueItem.queues_listed.remove(), QueueItem.agents_listed.remove()])


def mine(found, attribute: str) -> list[str]:
    """The test's own ids (the demo's queues and agents are in the tables too)."""
    return [getattr(x, attribute) for x in found if getattr(x, attribute).startswith("dir")]


def agent(agent_id: str) -> Agent:
    return Agent(agent_id, agent_id.title(), Endpoint("client", agent_id))


def test_agents_and_queues_from_before_the_directory_are_found_once_then_read_by_key(
        operations):
    for agent_id in ("dir-b", "dir-a"):
        routing.save_agent_profile(agent(agent_id), OPEN_HOURS)
    routing.save_queue(QueueConfig("dirq1", "One"), OPEN_HOURS)
    forget_the_directory()
    # a queue and an agent saved after the upgrade, before anyone listed them
    routing.save_agent_profile(agent("dir-c"), OPEN_HOURS)
    routing.save_queue(QueueConfig("dirq2", "Two"), OPEN_HOURS)
    operations.clear()
    assert mine(routing.agents(), "agent_id") == ["dir-a", "dir-b", "dir-c"]
    assert mine(routing.queues(), "queue_id") == ["dirq1", "dirq2"]
    assert operations.count("Scan") == 2  # once each, to complete the directory
    operations.clear()
    assert mine(routing.agents(), "agent_id") == ["dir-a", "dir-b", "dir-c"]
    assert mine(routing.queues(), "queue_id") == ["dirq1", "dirq2"]
    assert "Scan" not in operations
    # a new agent is listed at once, still without a Scan
    routing.save_agent_profile(agent("dir-d"), OPEN_HOURS)
    operations.clear()
    assert mine(routing.agents(), "agent_id")[-1] == "dir-d"
    assert "Scan" not in operations


def test_many_agents_are_read_in_batches(operations):
    for n in range(130):
        routing.save_agent_profile(agent(f"dir-many-{n:03d}"), OPEN_HOURS)
    routing.agents()  # completes the directory (fresh tables: nothing to find)
    operations.clear()
    listed = routing.agents()
    assert mine(listed, "agent_id") == [f"dir-many-{n:03d}" for n in range(130)]
    assert operations.count("BatchGetItem") == 2 and operations.count("GetItem") == 1
    assert "Scan" not in operations
