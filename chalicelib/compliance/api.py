"""What the compliance API does: read its parameters, check a number, keep the do-not-call list.
``InvalidRequest`` (400, naming the ``field``) says what was wrong; ``compliance.routes`` maps
it to HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import phonenumbers

from chalicelib.api_errors import InvalidRequest, NotFound
from chalicelib.compliance.gate import ComplianceGate
from chalicelib.compliance.rules import ALL_CHANNELS, CHANNELS, INFORMATIONAL, PURPOSES
from chalicelib.store import compliance as store

DNC_CHANNELS = (*CHANNELS, ALL_CHANNELS)


def e164(raw: str | None, field: str = "number") -> str:
    """``raw`` as E.164 (it must carry its country: ``+`` and digits); InvalidRequest if it is
    not a valid number."""
    text = (raw or "").strip()
    if not text.startswith("+"):
        raise InvalidRequest(field, "must be an E.164 number like +14155550123")
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise InvalidRequest(field, "is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidRequest(field, "is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _choice(query: Mapping[str, str], name: str, allowed: tuple[str, ...],
            default: str | None = None) -> str:
    value = query.get(name, default)
    if value not in allowed:
        raise InvalidRequest(name, f"must be one of {', '.join(allowed)}")
    return value


def check(gate: ComplianceGate, query: Mapping[str, str] | None) -> dict:
    """``?number=&channel=voice|sms&purpose=informational|marketing|collections
    [&caller_id=&subject=]``: ``{allowed, reasons, next_allowed_at}`` for a contact now (the
    caller ID defaults to "set": the check is about the recipient)."""
    query = query or {}
    number = e164(query.get("number"))
    channel = _choice(query, "channel", CHANNELS)
    purpose = _choice(query, "purpose", PURPOSES, INFORMATIONAL)
    caller_id = e164(query["caller_id"], "caller_id") if query.get("caller_id") else "(set)"
    decision = gate.check(number, channel, purpose, caller_id=caller_id,
                          subject=query.get("subject") or None)
    return {
        "number": number, "channel": channel, "purpose": purpose,
        "allowed": decision.allowed, "reasons": list(decision.reasons),
        "next_allowed_at": (decision.next_allowed_at.isoformat()
                            if decision.next_allowed_at else None),
    }


def add_do_not_call(body: dict, now: datetime) -> dict:
    """``{"number", "channel": voice|sms|all (default all), "reason"}``: on our list at once."""
    unknown = set(body) - {"number", "channel", "reason"}
    if unknown:
        raise InvalidRequest(sorted(unknown)[0], "is not a field of a do-not-call entry")
    number = e164(body.get("number") if isinstance(body.get("number"), str) else None)
    channel = body.get("channel", ALL_CHANNELS)
    if channel not in DNC_CHANNELS:
        raise InvalidRequest("channel", f"must be one of {', '.join(DNC_CHANNELS)}")
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise InvalidRequest("reason", "must be text of at most 500 characters")
    store.add_do_not_call(number, channel, "api", now, reason)
    return {"number": number, "channel": channel, "added_at": now.isoformat()}


def remove_do_not_call(raw_number: str) -> dict:
    """Take a number off our do-not-call list (every channel); the number in the path may drop
    its ``+``, as the other admin paths allow."""
    raw = raw_number.strip()
    number = e164(raw if raw.startswith("+") else "+" + raw)
    return {"number": number, "removed": store.remove_do_not_call(number)}


def record_consent(body: dict, now: datetime) -> dict:
    """The consent ledger: ``{"number", "purpose", "channel": voice|sms, "source", "evidence"}``
    (``source``: where it was given, a web form, a call; ``evidence``: a reference to keep,
    e.g. a recording or form id). Marketing contacts need one (``rules.py``)."""
    unknown = set(body) - {"number", "purpose", "channel", "source", "evidence"}
    if unknown:
        raise InvalidRequest(sorted(unknown)[0], "is not a field of a consent")
    number = e164(body.get("number") if isinstance(body.get("number"), str) else None)
    purpose = _choice(body, "purpose", PURPOSES)
    channel = _choice(body, "channel", CHANNELS)
    texts = {}
    for name, required in (("source", True), ("evidence", False)):
        value = body.get(name)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > 500:
            raise InvalidRequest(name, "must be text of 1 to 500 characters")
        texts[name] = value.strip()
    store.record_consent(number, purpose, channel, texts["source"], now, texts.get("evidence"))
    return {"number": number, "purpose": purpose, "channel": channel, "source": texts["source"],
            "evidence": texts.get("evidence"), "given_at": now.isoformat()}


def revoke_consent(raw_number: str, query: Mapping[str, str] | None, now: datetime) -> dict:
    """``?purpose=&channel=``: the consent no longer stands (the ledger keeps when)."""
    query = query or {}
    raw = raw_number.strip()
    number = e164(raw if raw.startswith("+") else "+" + raw)
    purpose = _choice(query, "purpose", PURPOSES)
    channel = _choice(query, "channel", CHANNELS)
    if not store.revoke_consent(number, purpose, channel, now):
        raise NotFound("consent", f"{purpose}/{channel}")
    return {"number": number, "purpose": purpose, "channel": channel,
            "revoked_at": now.isoformat()}
