"""Sign-in and roles through the real app (Chalice's test client, DynamoDB Local, the demo's
agents ag-alice and ag-bo on queue support, the demo users of infra/local/console_users.py)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from chalicelib.console.access import needs_principal

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def closed(client):
    """The admin API as deployed: nothing gets in without a session or an API key."""
    from chalicelib.settings import get_settings

    settings = get_settings()
    settings.admin_api_open = False
    yield client
    settings.admin_api_open = True


def sign_in(client, username: str, password: str | None = None):
    return client.http.post("/console/session", headers=JSON, body=json.dumps(
        {"username": username, "password": password or username}))


def bearer(client, username: str) -> dict:
    answer = sign_in(client, username)
    assert answer.status_code == 200, answer.body
    return {"Authorization": f"Bearer {answer.json_body['token']}", **JSON}


def test_signing_in_gives_a_session_with_the_users_role(client, clock):
    answer = sign_in(client, "agent")
    assert answer.status_code == 200
    body = answer.json_body
    assert body["user"] == {"username": "agent", "name": "Alice", "role": "agent",
                            "agent_id": "ag-alice", "queues": ["support"]}
    assert body["expires_at"] == int(clock.now.timestamp()) + 3600
    assert body["expires_in"] == 3600
    who = client.http.get("/console/session", headers={"Authorization": f"Bearer {body['token']}"})
    assert who.json_body["user"]["username"] == "agent"


def test_a_wrong_password_or_a_malformed_body_is_refused(client):
    wrong = sign_in(client, "agent", "nope")
    assert (wrong.status_code, wrong.json_body["code"]) == (401, "bad_credentials")
    assert sign_in(client, "nobody").status_code == 401
    for body in ("", "[]", json.dumps({"username": "agent"}),
                 json.dumps({"username": "agent", "password": 7}),
                 json.dumps({"username": "a" * 129, "password": "x"})):
        answer = client.http.post("/console/session", headers=JSON, body=body)
        assert answer.status_code == 400, body


def _concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: {"number": "14155550100", "hotline": "14155550100"}
                  .get(m.group(1), "x1"), path)


def test_every_admin_route_refuses_a_request_with_no_session_or_key(closed, app_module):
    checked = 0
    for path, methods in app_module.app.routes.items():
        for method in methods:
            if not needs_principal(method, path):
                continue
            answer = closed.http.request(method, _concrete(path), headers=JSON, body=b"{}")
            assert answer.status_code == 401, (method, path, answer.body)
            assert answer.json_body["code"] == "sign_in_required"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            checked += 1
    assert checked > 60
    # the public routes still answer
    assert closed.http.get("/").status_code == 200
    assert closed.http.get("/console").status_code == 200
    assert closed.http.get("/openapi.json").status_code == 200


def test_an_agent_works_their_own_desk_and_nobody_elses(closed):
    headers = bearer(closed, "agent")
    assert closed.http.get("/agents/ag-alice", headers=headers).status_code == 200
    state = closed.http.post("/agents/ag-alice/state", headers=headers,
                             body=json.dumps({"state": "available"}))
    assert state.status_code == 200, state.body
    for method, path in (("GET", "/agents/ag-bo"), ("POST", "/agents/ag-bo/state"),
                         ("GET", "/board"), ("GET", "/campaigns"), ("POST", "/queues"),
                         ("GET", "/reports/queues")):
        answer = closed.http.request(method, path, headers=headers,
                                     body=json.dumps({"state": "available"}))
        assert (answer.status_code, answer.json_body["code"]) == (403, "forbidden"), path
    assert closed.http.get("/agents/ag-bo", headers=headers).json_body["code"] == "forbidden"


def test_a_supervisor_oversees_their_queues_agents_and_an_admin_everything(closed):
    supervisor = bearer(closed, "supervisor")
    answer = closed.http.post("/agents/ag-bo/state", headers=supervisor,
                              body=json.dumps({"state": "available", "reason": "asked to"}))
    assert answer.status_code == 200, answer.body
    assert closed.http.get("/queues/support/board", headers=supervisor).status_code == 200
    assert closed.http.get("/queues/sales/board", headers=supervisor).status_code == 403
    assert closed.http.get("/campaigns", headers=supervisor).status_code == 200
    refused = closed.http.put("/agents/ag-bo", headers=supervisor, body=json.dumps({}))
    assert refused.status_code == 403
    admin = bearer(closed, "admin")
    assert closed.http.get("/queues/sales/board", headers=admin).status_code == 404  # no queue
    assert closed.http.get("/board", headers=admin).status_code == 200


def test_an_expired_session_is_asked_to_sign_in_again(closed, clock):
    headers = bearer(closed, "agent")
    clock.now += timedelta(hours=1, minutes=1)
    answer = closed.http.get("/agents/ag-alice", headers=headers)
    assert (answer.status_code, answer.json_body["code"]) == (401, "session_expired")
    forged = dict(headers, Authorization=headers["Authorization"][:-3] + "abc")
    assert closed.http.get("/agents/ag-alice", headers=forged).json_body["code"] == \
        "sign_in_required"


def test_a_machine_clients_api_key_is_an_admin(closed, monkeypatch):
    from chalicelib.console.sign_in import api_key_hash

    monkeypatch.setenv("API_KEY_HASHES", f"crm:{api_key_hash('sbk_test_key')}")
    from chalicelib.settings import get_settings

    get_settings()._secrets.pop("API_KEY_HASHES", None)
    import chalicelib.console.routes as console_routes

    monkeypatch.setattr(console_routes, "_authority", None)
    assert closed.http.get("/board", headers={"x-api-key": "sbk_test_key"}).status_code == 200
    refused = closed.http.get("/board", headers={"x-api-key": "sbk_guess"})
    assert (refused.status_code, refused.json_body["code"]) == (401, "sign_in_required")
    get_settings()._secrets.pop("API_KEY_HASHES", None)
