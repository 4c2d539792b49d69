"""Roles and route rules (console.access), session tokens (console.tokens) and sign-in
(console.sign_in), without HTTP or AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.console import access
from chalicelib.console.access import Denied, Principal, check, needs_principal, rule_for
from chalicelib.console.sign_in import Authority, BadCredentials, api_key_hash, hash_password
from chalicelib.console.tokens import (
    CognitoVerifier,
    InvalidToken,
    LocalIssuer,
    claims_for,
    principal_of,
)
from chalicelib.settings import load_settings

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
KEY = "k" * 40
AGENT = Principal("agent", "agent", agent_id="ag-alice", queues=("support",))
SUPERVISOR = Principal("sup", "supervisor", queues=("support",))
ADMIN = Principal("root", "admin")
QUEUES = {"ag-alice": {"support"}, "ag-bob": {"support"}, "ag-zed": {"sales"}}


def allowed(principal, method, path, **params) -> bool:
    try:
        check(principal, rule_for(method, path), params, lambda a: QUEUES.get(a, set()))
    except Denied:
        return False
    return True


# ---- which routes, which rule ---------------------------------------------------------------

def test_webhooks_and_public_routes_need_no_principal_and_everything_else_does():
    assert not needs_principal("POST", "/twilio/voice")
    assert not needs_principal("POST", "/callbacks")
    assert not needs_principal("POST", "/console/session")
    assert not needs_principal("GET", "/console/{page}")
    assert needs_principal("GET", "/console/session")
    assert needs_principal("GET", "/board")
    assert needs_principal("POST", "/some/route/nobody/named")


def test_a_route_nobody_named_is_for_admins_only():
    assert rule_for("POST", "/some/route/nobody/named") == access.ADMIN
    assert rule_for("POST", "/dnc") == access.ADMIN
    assert rule_for("PUT", "/agents/{agent_id}") == access.ADMIN
    assert rule_for("GET", "/compliance/check") == access.SUPERVISOR
    assert rule_for("POST", "/campaigns/{campaign_id}/start") == access.SUPERVISOR


def test_an_agent_acts_on_their_own_desk_only():
    assert allowed(AGENT, "POST", "/agents/{agent_id}/state", agent_id="ag-alice")
    assert allowed(AGENT, "POST", "/agents/{agent_id}/voice-token", agent_id="ag-alice")
    assert allowed(AGENT, "POST", "/campaigns/{campaign_id}/seats/{agent_id}/accept",
                   campaign_id="cmp_1", agent_id="ag-alice")
    assert not allowed(AGENT, "POST", "/agents/{agent_id}/state", agent_id="ag-bob")
    assert not allowed(AGENT, "GET", "/board")
    assert not allowed(AGENT, "GET", "/campaigns")
    assert not allowed(AGENT, "PUT", "/agents/{agent_id}", agent_id="ag-alice")
    # listening in is a supervisor's, never on oneself
    assert not allowed(AGENT, "POST", "/agents/{agent_id}/monitor", agent_id="ag-alice")


def test_a_supervisor_acts_on_the_agents_and_queues_they_supervise():
    assert allowed(SUPERVISOR, "POST", "/agents/{agent_id}/state", agent_id="ag-bob")
    assert allowed(SUPERVISOR, "POST", "/agents/{agent_id}/monitor", agent_id="ag-bob")
    assert not allowed(SUPERVISOR, "POST", "/agents/{agent_id}/monitor", agent_id="ag-zed")
    assert not allowed(SUPERVISOR, "POST", "/agents/{agent_id}/state", agent_id="ag-unknown")
    # but never takes an agent's softphone token: it would ring with the agent's calls
    assert not allowed(SUPERVISOR, "POST", "/agents/{agent_id}/voice-token", agent_id="ag-bob")
    assert allowed(SUPERVISOR, "GET", "/queues/{queue_id}/board", queue_id="support")
    assert not allowed(SUPERVISOR, "GET", "/queues/{queue_id}/board", queue_id="sales")
    assert allowed(SUPERVISOR, "GET", "/board")
    assert allowed(SUPERVISOR, "POST", "/campaigns/{campaign_id}/start", campaign_id="c")
    assert not allowed(SUPERVISOR, "POST", "/queues")
    assert not allowed(SUPERVISOR, "DELETE", "/dnc/{number}", number="1")


def test_an_admin_does_everything_and_nobody_is_401():
    assert allowed(ADMIN, "POST", "/dnc")
    assert allowed(ADMIN, "POST", "/agents/{agent_id}/monitor", agent_id="ag-zed")
    with pytest.raises(Denied) as refused:
        check(None, access.SIGNED_IN, {}, lambda a: set())
    assert refused.value.status == 401
    with pytest.raises(Denied) as refused:
        check(AGENT, access.ADMIN, {}, lambda a: set())
    assert refused.value.status == 403


def test_answers_are_cut_to_a_supervisors_queues():
    assert access.visible_queues(SUPERVISOR) == {"support"}
    assert access.visible_queues(ADMIN) is None
    assert access.visible_queues(None) is None


# ---- tokens -----------------------------------------------------------------------------------

def test_a_local_session_says_who_and_ends_when_it_expires():
    issuer = LocalIssuer(KEY)
    token = issuer.issue(claims_for("agent", "agent", NOW, 3600, name="Alice",
                                    agent_id="ag-alice", queues=("support", "sales")))
    principal = issuer.verify(token, NOW + timedelta(minutes=59))
    assert principal == Principal("agent", "agent", "Alice", "ag-alice", ("support", "sales"))
    with pytest.raises(InvalidToken) as ended:
        issuer.verify(token, NOW + timedelta(hours=1, minutes=1))
    assert ended.value.expired


def test_a_forged_or_foreign_token_is_refused():
    claims = claims_for("admin", "admin", NOW, 3600)
    with pytest.raises(InvalidToken):
        LocalIssuer(KEY).verify(LocalIssuer("another-key-" + "x" * 32).issue(claims), NOW)
    with pytest.raises(InvalidToken):
        LocalIssuer(KEY).verify(jwt.encode({**claims, "iss": "elsewhere"}, KEY), NOW)
    with pytest.raises(InvalidToken):  # alg "none": no signature at all
        LocalIssuer(KEY).verify(jwt.encode(claims, None, algorithm="none"), NOW)
    with pytest.raises(InvalidToken):
        LocalIssuer(KEY).verify("not.a.token", NOW)


def test_claims_without_a_role_group_are_refused():
    with pytest.raises(InvalidToken):
        principal_of({"cognito:username": "x", "cognito:groups": ["guests"]})
    assert principal_of({"cognito:username": "x",
                         "cognito:groups": ["agent", "supervisor"]}).role == "supervisor"


class _Key:
    def __init__(self, key):
        self.key = key


def _cognito(monkeypatch) -> tuple[CognitoVerifier, rsa.RSAPrivateKey]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = CognitoVerifier("eu-west-1", "eu-west-1_pool", "client-1")
    monkeypatch.setattr(verifier._keys, "get_signing_key_from_jwt",
                        lambda token: _Key(private.public_key()))
    return verifier, private


def _id_token(private, **changes) -> str:
    claims = {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool",
              "aud": "client-1", "token_use": "id", "cognito:username": "sam",
              "cognito:groups": ["supervisor"], "custom:queues": "support, sales",
              "exp": int(NOW.timestamp()) + 3600, **changes}
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"})


def test_a_cognito_id_token_of_the_pool_and_client_is_a_principal(monkeypatch):
    verifier, private = _cognito(monkeypatch)
    principal = verifier.verify(_id_token(private), NOW)
    assert (principal.subject, principal.role, principal.queues) == (
        "sam", "supervisor", ("support", "sales"))
    for wrong in ({"aud": "another-client"}, {"token_use": "access"},
                  {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/other"},
                  {"exp": int(NOW.timestamp()) - 60}):
        with pytest.raises(InvalidToken):
            verifier.verify(_id_token(private, **wrong), NOW)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        verifier.verify(_id_token(other), NOW)


# ---- signing in and telling who a request is ---------------------------------------------------

SECRETS = ("API_KEY_HASHES", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID")


@pytest.fixture(autouse=True)
def _no_stage_secrets(monkeypatch):
    for name in SECRETS:  # read from the process environment, like Twilio's secrets
        monkeypatch.delenv(name, raising=False)


def _settings(monkeypatch=None, **env):
    for name in SECRETS:
        if name in env:
            monkeypatch.setenv(name, env.pop(name))
    users = {"agent": {"password": hash_password("pw"), "role": "agent",
                       "agent_id": "ag-alice", "queues": ["support"]}}
    return load_settings({"SWITCHBOARD_STAGE": "test", "CONSOLE_SIGNING_KEY": KEY,
                          "CONSOLE_USERS": json.dumps(users), **env})


def test_the_laptop_signs_its_users_in_and_refuses_a_wrong_password():
    authority = Authority(_settings(ADMIN_API_OPEN="false"))
    session = authority.sign_in("agent", "pw", NOW)
    assert session.expires_at == int(NOW.timestamp()) + 3600
    assert authority.authenticate({"authorization": f"Bearer {session.token}"}, NOW) == \
        session.principal
    for username, password in (("agent", "wrong"), ("nobody", "pw"), ("agent", "")):
        with pytest.raises(BadCredentials):
            authority.sign_in(username, password, NOW)


def test_a_request_with_nothing_is_nobody_unless_the_laptop_api_is_open():
    assert Authority(_settings(ADMIN_API_OPEN="false")).authenticate({}, NOW) is None
    assert Authority(_settings()).authenticate({}, NOW).via == "open"
    with pytest.raises(InvalidToken):  # a bad token is refused even on an open laptop
        Authority(_settings()).authenticate({"authorization": "Bearer nonsense"}, NOW)
    with pytest.raises(InvalidToken):
        Authority(_settings()).authenticate({"authorization": "Basic YTpi"}, NOW)


def test_machine_clients_are_known_by_their_keys_hash(monkeypatch):
    hashes = f"billing:{api_key_hash('sbk_secret_1')},crm:{api_key_hash('sbk_secret_2')}"
    authority = Authority(_settings(monkeypatch, ADMIN_API_OPEN="false", API_KEY_HASHES=hashes))
    assert authority.authenticate({"x-api-key": "sbk_secret_2"}, NOW).subject == "api-key:crm"
    with pytest.raises(InvalidToken):
        authority.authenticate({"x-api-key": "sbk_guess"}, NOW)


def test_deployed_stages_refuse_an_open_api_and_laptop_users():
    settings = load_settings({"SWITCHBOARD_STAGE": "prod", "ADMIN_API_OPEN": "true",
                              "CONSOLE_SIGNING_KEY": KEY, "CONSOLE_USERS": "{}"})
    assert not settings.admin_api_open
    assert settings.console_signing_key is None and settings.console_users == {}
    authority = Authority(settings)
    assert authority.authenticate({}, NOW) is None
    with pytest.raises(BadCredentials):
        authority.sign_in("agent", "pw", NOW)
    with pytest.raises(InvalidToken):
        authority.authenticate({"authorization": "Bearer " + LocalIssuer(KEY).issue(
            claims_for("admin", "admin", NOW, 3600))}, NOW)


def test_with_a_user_pool_sign_in_goes_to_cognito(monkeypatch):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    asked = []

    def cognito(client_id, username, password):
        asked.append((client_id, username))
        if password != "right":
            raise BadCredentials("wrong user name or password")
        return _id_token(private), 3600

    authority = Authority(_settings(monkeypatch, COGNITO_USER_POOL_ID="eu-west-1_pool",
                                    COGNITO_CLIENT_ID="client-1", AWS_REGION="eu-west-1"),
                          cognito)
    monkeypatch.setattr(authority.verifier._keys, "get_signing_key_from_jwt",
                        lambda token: _Key(private.public_key()))
    assert authority.local is None  # the pool, not the laptop's issuer
    session = authority.sign_in("sam", "right", NOW)
    assert session.principal.role == "supervisor" and asked == [("client-1", "sam")]
    with pytest.raises(BadCredentials):
        authority.sign_in("sam", "wrong", NOW)


def test_a_new_api_key_is_shown_once_and_its_entry_lets_it_in(monkeypatch, capsys):
    import manage

    assert manage.main(["api-keys", "new", "crm"]) == 0
    printed = capsys.readouterr().out.split()
    key = next(word for word in printed if word.startswith("sbk_"))
    entry = next(word for word in printed if word.startswith("crm:"))
    assert entry == f"crm:{api_key_hash(key)}" and key not in entry
    authority = Authority(_settings(monkeypatch, ADMIN_API_OPEN="false", API_KEY_HASHES=entry))
    assert authority.authenticate({"x-api-key": key}, NOW).subject == "api-key:crm"
    assert manage.main(["api-keys", "new", "Bad Name!"]) == 2
