"""The browser softphone's access token: what Twilio's Voice SDK reads from it."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest

from chalicelib.telephony.access_tokens import MAX_TTL_SECONDS, SigningKey, voice_token

KEY = SigningKey("AC" + "1" * 32, "SK" + "2" * 32, "a-secret-for-tests-32-bytes-long!")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def decoded(token: str) -> dict:
    return jwt.decode(token, KEY.key_secret, algorithms=["HS256"],
                      options={"verify_exp": False, "verify_nbf": False})


def test_a_token_lets_the_identity_receive_calls_for_its_time():
    token, expires = voice_token(KEY, "ag-desk", NOW, ttl_seconds=600)
    claims = decoded(token)
    assert (claims["iss"], claims["sub"]) == (KEY.key_sid, KEY.account_sid)
    assert claims["grants"] == {"identity": "ag-desk", "voice": {"incoming": {"allow": True}}}
    assert (claims["nbf"], claims["exp"]) == (int(NOW.timestamp()), int(NOW.timestamp()) + 600)
    assert expires == datetime(2026, 11, 30, 9, 10, tzinfo=UTC)
    assert jwt.get_unverified_header(token)["cty"] == "twilio-fpa;v=1"


def test_a_twiml_app_lets_it_place_calls_too():
    token, _ = voice_token(KEY, "ag-desk", NOW, twiml_app_sid="AP" + "3" * 32)
    assert decoded(token)["grants"]["voice"]["outgoing"] == {"application_sid": "AP" + "3" * 32}


def test_a_token_signed_with_another_secret_is_refused_and_ttl_is_bounded():
    token, _ = voice_token(KEY, "ag-desk", NOW)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "not-the-secret-but-32-bytes-long!", algorithms=["HS256"],
                   options={"verify_exp": False, "verify_nbf": False})
    for ttl in (0, MAX_TTL_SECONDS + 1):
        with pytest.raises(ValueError, match="ttl_seconds"):
            voice_token(KEY, "ag-desk", NOW, ttl_seconds=ttl)
