"""Signing in to the console, and telling who a request comes from.

* :func:`sign_in` turns a user name and password into a session: the stage's Cognito user pool
  when it has one (``cognito.initiate_auth``), else the laptop's demo users
  (``settings.console_users``) and :class:`~chalicelib.console.tokens.LocalIssuer`.
* :func:`authenticate` reads a request's headers: ``Authorization: Bearer <session token>``
  (a person), ``x-api-key: <key>`` (a machine client; its SHA-256 must be one of the stage's
  ``API_KEY_HASHES``), or neither (a principal only where the admin API is open: the laptop).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime

from chalicelib.console.access import ROLES, Principal, machine
from chalicelib.console.tokens import (
    CognitoVerifier,
    InvalidToken,
    LocalIssuer,
    claims_for,
    principal_of,
)

PBKDF2_ITERATIONS = 120_000


class BadCredentials(Exception):
    """The user name or password is wrong (401), or the user may not sign in yet."""


@dataclass(frozen=True)
class Session:
    """A signed-in session: the bearer ``token``, when it ends (``expires_at``, epoch
    seconds) and who it is."""

    token: str
    expires_at: int
    principal: Principal
    expires_in: int = 3600  # seconds from now: a browser's clock may be off, this is not

    def public(self) -> dict:
        return {"token": self.token, "expires_at": self.expires_at,
                "expires_in": self.expires_in, "user": self.principal.public()}


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>`` for a laptop user's password."""
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ITERATIONS)
    return "$".join(("pbkdf2_sha256", str(PBKDF2_ITERATIONS),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def _password_matches(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt),
                                     int(iterations))
    except (ValueError, TypeError):
        return False
    return scheme == "pbkdf2_sha256" and hmac.compare_digest(actual, expected)


def api_key_hash(key: str) -> str:
    """The SHA-256 (hex) a machine client's API key is stored as."""
    return hashlib.sha256(key.encode()).hexdigest()


class Authority:
    """The stage's sign-in: built from the settings once per Lambda instance."""

    def __init__(self, settings, cognito=None):
        self.settings = settings
        pool = settings.optional("COGNITO_USER_POOL_ID")
        client = settings.optional("COGNITO_CLIENT_ID")
        self.cognito_client_id = client if pool and client else None
        self.verifier = (CognitoVerifier(settings.aws_region, pool, client)
                         if self.cognito_client_id else None)
        self.cognito = cognito  # ``(client_id, username, password) -> (id_token, ttl_s)``
        key = settings.console_signing_key
        self.local = LocalIssuer(key) if key and not self.verifier else None
        hashes = settings.optional("API_KEY_HASHES") or ""
        self.api_keys = {h.split(":", 1)[-1].strip().lower(): h.split(":", 1)[0].strip()
                         for h in hashes.split(",") if h.strip()}

    # --- signing in ---------------------------------------------------------------------
    def sign_in(self, username: str, password: str, now: datetime) -> Session:
        """A session for ``username``; BadCredentials when the pair is wrong or the stage has
        no way to sign in (neither a user pool nor laptop users)."""
        if self.verifier and self.cognito and self.cognito_client_id:
            token, ttl = self.cognito(self.cognito_client_id, username, password)
            try:
                principal = self.verifier.verify(token, now)
            except InvalidToken as exc:
                raise BadCredentials(str(exc)) from None
            return Session(token, int(now.timestamp()) + ttl, principal, ttl)
        user = self.settings.console_users.get(username)
        if not self.local or not user or not _password_matches(password, user["password"]):
            raise BadCredentials("wrong user name or password")
        role = user.get("role")
        if role not in ROLES:
            raise BadCredentials(f"user {username!r} has no role")
        ttl = self.settings.console_token_ttl_seconds
        claims = claims_for(username, role, now, ttl, name=user.get("name", ""),
                            agent_id=user.get("agent_id"), queues=tuple(user.get("queues", ())))
        return Session(self.local.issue(claims), int(claims["exp"]), principal_of(claims), ttl)

    # --- every admin request -----------------------------------------------------------
    def authenticate(self, headers, now: datetime) -> Principal | None:
        """The principal of a request with these (case-insensitive) headers, or None when it
        carries nothing. Raises InvalidToken for a bad, expired or unknown token or key."""
        authorization = (headers.get("authorization") or "").strip()
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidToken("Authorization must be 'Bearer <session token>'")
            return self._verify(token.strip(), now)
        key = (headers.get("x-api-key") or "").strip()
        if key:
            name = self.api_keys.get(api_key_hash(key))
            if name is None:
                if self.settings.admin_api_open:
                    return machine("laptop", via="open")  # the laptop checks no keys
                raise InvalidToken("unknown API key")
            return machine(name)
        if self.settings.admin_api_open:
            return machine("laptop", via="open")
        return None

    def _verify(self, token: str, now: datetime) -> Principal:
        if self.verifier:
            return self.verifier.verify(token, now)
        if self.local:
            return self.local.verify(token, now)
        raise InvalidToken("this stage has no console sign-in")
