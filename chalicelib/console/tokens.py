"""Console session tokens: JWTs that say who signed in and what they may do.

Two issuers, one set of claims (Amazon Cognito's ID-token claims, so the rest of the code reads
one shape): ``cognito:username``, ``cognito:groups`` (the role's group: ``agent``,
``supervisor`` or ``admin``), ``name``, ``custom:agent_id`` and ``custom:queues`` (comma
separated queue ids), ``exp``.

* In AWS, the stage's Cognito user pool signs ID tokens (RS256); :class:`CognitoVerifier`
  checks them against the pool's published keys (JWKS), the issuer, the app client (``aud``)
  and ``token_use=id``.
* On a laptop, :class:`LocalIssuer` signs the same claims with a secret (HS256) for the demo
  users, so the same console works with no AWS account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import jwt

from chalicelib.console.access import ROLES, Principal

LOCAL_ISSUER = "switchboard-local"
LEEWAY_SECONDS = 30  # clock skew between the issuer and Lambda


class InvalidToken(Exception):
    """The token is malformed, forged, for another pool or client, or expired (``expired``)."""

    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def principal_of(claims: dict) -> Principal:
    """The principal the claims describe; InvalidToken when they name no role."""
    groups = claims.get("cognito:groups") or []
    roles = [role for role in ROLES if role in groups]
    if not roles:
        raise InvalidToken("the user is in none of the groups agent, supervisor, admin")
    queues = tuple(q.strip() for q in str(claims.get("custom:queues") or "").split(",")
                   if q.strip())
    return Principal(subject=str(claims.get("cognito:username") or claims.get("sub") or ""),
                     role=roles[-1], name=str(claims.get("name") or ""),
                     agent_id=(claims.get("custom:agent_id") or None), queues=queues)


def claims_for(username: str, role: str, now: datetime, ttl_seconds: int, *, name: str = "",
               agent_id: str | None = None, queues: tuple[str, ...] = ()) -> dict:
    """The claims of a session for a user (the local issuer's; Cognito makes its own)."""
    issued = int(now.timestamp())
    claims = {"iss": LOCAL_ISSUER, "token_use": "id", "cognito:username": username,
              "cognito:groups": [role], "name": name or username, "iat": issued,
              "exp": issued + ttl_seconds, "custom:queues": ",".join(queues)}
    if agent_id:
        claims["custom:agent_id"] = agent_id
    return claims


def _decode(token: str, key, algorithms: list[str], now: datetime, **options) -> dict:
    try:
        # ``exp`` and ``iat`` are checked against the app's clock (a simulated one in tests),
        # not time.time
        claims = jwt.decode(token, key, algorithms=algorithms,
                            options={"verify_exp": False, "verify_iat": False,
                                     "verify_nbf": False, "require": ["exp"]}, **options)
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"not a valid session token: {exc}") from None
    if int(claims["exp"]) + LEEWAY_SECONDS < now.timestamp():
        raise InvalidToken("the session has expired: sign in again", expired=True)
    if int(claims.get("iat") or 0) - LEEWAY_SECONDS > now.timestamp():
        raise InvalidToken("the session starts in the future: check the clocks")
    return claims


@dataclass(frozen=True)
class LocalIssuer:
    """Signs and checks laptop sessions with ``secret`` (at least 32 bytes, HS256)."""

    secret: str

    def issue(self, claims: dict) -> str:
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def verify(self, token: str, now: datetime) -> Principal:
        claims = _decode(token, self.secret, ["HS256"], now, issuer=LOCAL_ISSUER)
        return principal_of(claims)


class CognitoVerifier:
    """Checks ID tokens of the user pool ``pool_id`` in ``region`` for app client
    ``client_id``. The pool's keys are fetched once per Lambda instance (and again for a key
    id not seen yet, when Cognito rotates them)."""

    def __init__(self, region: str, pool_id: str, client_id: str):
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        self.client_id = client_id
        self._keys = jwt.PyJWKClient(f"{self.issuer}/.well-known/jwks.json", cache_keys=True,
                                     lifespan=24 * 3600, timeout=5)

    def verify(self, token: str, now: datetime) -> Principal:
        try:
            key = self._keys.get_signing_key_from_jwt(token).key
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"not a valid session token: {exc}") from None
        claims = _decode(token, key, ["RS256"], now, issuer=self.issuer,
                         audience=self.client_id)
        if claims.get("token_use") != "id":
            raise InvalidToken("not an ID token")
        return principal_of(claims)
