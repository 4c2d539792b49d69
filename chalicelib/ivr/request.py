"""The parameters every Twilio voice webhook carries, checked once at the edge."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class VoiceRequest:
    """The Twilio parameters every voice webhook carries, already checked."""

    call_sid: str
    caller: str
    hotline: str
    direction: str
    caller_country: str | None
    params: dict

    @classmethod
    def from_params(cls, params: dict) -> VoiceRequest:
        call_sid = params.get("CallSid", "")
        if not call_sid.startswith("CA"):
            raise ValueError("CallSid is missing or malformed")
        return cls(
            call_sid=call_sid,
            caller=params.get("From", ""),
            hotline=params.get("To", ""),
            direction=params.get("Direction", "inbound"),
            caller_country=params.get("FromCountry") or None,
            params=params,
        )
