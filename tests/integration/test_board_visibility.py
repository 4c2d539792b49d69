"""Who sees which queues on the wallboard: a supervisor their own queues, an admin every queue.

Through Chalice's test client on DynamoDB Local, signed in as the demo's users
(infra/local/console_users.py: ``supervisor`` oversees ``support``) with a Bearer token, as the
console's board page calls the API.
"""

from __future__ import annotations

import json
import uuid

from chalice.test import Client

from infra.local.demo import DEMO_AGENTS

SUPPORT_AGENTS = {agent.agent_id for agent in DEMO_AGENTS}  # the demo's: all in support


def call(client, method: str, path: str, body=None, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    kwargs: dict = {"headers": headers}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    response = getattr(client.http, method)(path, **kwargs)
    return response.status_code, json.loads(response.body or b"null")


def sign_in(client, username: str) -> str:
    status, session = call(client, "post", "/console/session",
                           {"username": username, "password": username})
    assert status == 200, session
    return session["token"]


def other_queue(client) -> tuple[str, str]:
    """A queue the demo's supervisor does not oversee, with an agent serving only it."""
    queue_id, agent_id = f"q-{uuid.uuid4().hex[:8]}", f"ag-{uuid.uuid4().hex[:8]}"
    assert call(client, "post", "/queues", {"queue_id": queue_id, "name": "Billing"})[0] == 201
    assert call(client, "post", "/agents", {
        "agent_id": agent_id, "name": "Grace Hopper", "queues": {queue_id: 1},
        "endpoint": {"kind": "phone", "address": "+14155550150"}})[0] == 201
    return queue_id, agent_id


def test_a_supervisor_sees_only_their_queues_and_agents(app_module):
    with Client(app_module.app) as client:
        # Given a queue and an agent that are not the supervisor's
        queue_id, agent_id = other_queue(client)
        token = sign_in(client, "supervisor")
        # When the supervisor reads the board, the agents and the queues
        status, board = call(client, "get", "/board", token=token)
        _, agents = call(client, "get", "/agents", token=token)
        _, queues = call(client, "get", "/queues", token=token)
        # Then only their queue is there, with its agents
        assert status == 200
        assert [q["queue_id"] for q in board["queues"]] == ["support"]
        assert {a["agent_id"] for a in board["queues"][0]["agents"]} == SUPPORT_AGENTS
        assert {a["agent_id"] for a in agents["agents"]} == SUPPORT_AGENTS
        assert [q["queue_id"] for q in queues["queues"]] == ["support"]
        # and the other queue's own board is refused
        status, refused = call(client, "get", f"/queues/{queue_id}/board", token=token)
        assert status == 403 and refused["code"] == "forbidden"
        assert agent_id not in json.dumps([board, agents])


def test_an_admin_sees_every_queue(app_module):
    with Client(app_module.app) as client:
        queue_id, agent_id = other_queue(client)
        token = sign_in(client, "admin")
        _, board = call(client, "get", "/board", token=token)
        _, agents = call(client, "get", "/agents", token=token)
        assert {"support", queue_id} <= {q["queue_id"] for q in board["queues"]}
        assert {"ag-alice", agent_id} <= {a["agent_id"] for a in agents["agents"]}


def test_an_agent_may_not_read_the_board(app_module):
    with Client(app_module.app) as client:
        status, refused = call(client, "get", "/board", token=sign_in(client, "agent"))
        assert status == 403 and refused["code"] == "forbidden"


def test_a_board_of_many_queues_reads_every_agent_once_and_says_the_same(app_module):
    from datetime import UTC, datetime

    from chalicelib.routing.admin import AGENTS_BY_QUEUE_UP_TO
    from chalicelib.wiring import Root, install

    previous = install(Root(clock=lambda: datetime(2026, 11, 23, 15, 0, tzinfo=UTC)))
    try:
        with Client(app_module.app) as client:
            # Given more queues than a board reads agent by queue, one agent in two of them
            made = [other_queue(client) for _ in range(AGENTS_BY_QUEUE_UP_TO + 1)]
            (first, shared), (second, _) = made[0], made[1]
            assert call(client, "put", f"/agents/{shared}", {
                "agent_id": shared, "name": "Grace Hopper", "queues": {first: 1, second: 2},
                "endpoint": {"kind": "phone", "address": "+14155550150"}})[0] == 200
            # When the whole board is read
            status, board = call(client, "get", "/board")
            # Then each queue's part is what its own board says, the shared agent in both
            assert status == 200 and len(board["queues"]) > AGENTS_BY_QUEUE_UP_TO
            for part in board["queues"]:
                assert call(client, "get", f"/queues/{part['queue_id']}/board") == (200, part)
            parts = {part["queue_id"]: part for part in board["queues"]}
            for queue_id in (first, second):
                assert shared in {a["agent_id"] for a in parts[queue_id]["agents"]}
    finally:
        install(previous)
