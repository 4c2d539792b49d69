"""What Twilio posts to our webhooks, parsed in one place: the form and the typed requests.

Every ``/twilio/*`` route reads its body through here and gets a typed request: ``VoiceRequest``
(any voice webhook: the IVR, the agent connection, callback calls), ``InboundSms`` (a text to a
hotline), ``DeliveryStatus`` (a text's status callback), or the ``FormParams`` themselves. A body
that is not a form, or lacks what that webhook always carries (a ``CallSid`` starting ``CA``, a
``MessageSid``, ...), raises ``MalformedWebhook``, and every route answers that one way: 400
(``webhooks.malformed``). The signature middleware (``webhooks``) parses the same form with
``parse_form`` before any handler runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import overload
from urllib.parse import parse_qsl

CALL_SID_PREFIX = "CA"
MESSAGE_SID_PREFIXES = ("SM", "MM")


class MalformedWebhook(ValueError):
    """The body is not a form Twilio could have sent, or lacks what this webhook carries."""


@overload
def whole_number(value: str | None, default: int) -> int: ...
@overload
def whole_number(value: str | None, default: None = None) -> int | None: ...
def whole_number(value: str | None, default: int | None = None) -> int | None:
    """A count Twilio sends (``CallDuration``, ``SequenceNumber``, a step in our own URLs) as an
    int, or ``default``: ASCII digits only (``'²'.isdigit()`` is true) and at most 9 of them."""
    if value and len(value) <= 9 and value.isascii() and value.isdigit():
        return int(value)
    return default


class FormParams(dict):
    """A webhook's form: ``params[name]`` is the last value (what handlers read), ``getall``
    every value of a repeated key (what the signature covers: Twilio signs them all)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] | Mapping[str, str] = ()):
        pairs = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
        super().__init__(pairs)
        self._all: dict[str, list[str]] = {}
        for name, value in pairs:
            self._all.setdefault(name, []).append(value)

    def getall(self, name: str) -> list[str]:
        return list(self._all.get(name, [self[name]] if name in self else []))

    @overload
    def whole_number(self, name: str, default: int) -> int: ...
    @overload
    def whole_number(self, name: str, default: None = None) -> int | None: ...
    def whole_number(self, name: str, default: int | None = None) -> int | None:
        """Parameter ``name`` as a count (see ``whole_number``), or ``default``."""
        return whole_number(self.get(name), default)

    def sid(self, name: str, prefixes: str | tuple[str, ...]) -> str:
        """Parameter ``name``, a Twilio sid starting with one of ``prefixes``; MalformedWebhook
        if it is missing or does not."""
        value = self.get(name, "")
        if not value.startswith(prefixes):
            raise MalformedWebhook(f"{name} is missing or malformed")
        return value


def parse_form(raw_body: bytes | str | None) -> FormParams:
    """Parse a form body keeping blank fields (Twilio signs ``Digits=`` too) and every value of
    a repeated key; MalformedWebhook if it is not ``application/x-www-form-urlencoded`` UTF-8."""
    if not raw_body:
        return FormParams()
    try:
        text = raw_body.decode("utf-8") if isinstance(raw_body, bytes) else raw_body
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedWebhook(f"body is not a valid form: {exc}") from exc
    return FormParams(pairs)


@dataclass(frozen=True)
class VoiceRequest:
    """The parameters every Twilio voice webhook carries, checked; ``params`` has the rest."""

    call_sid: str
    caller: str  # From
    hotline: str  # To
    direction: str
    caller_country: str | None
    params: FormParams

    @classmethod
    def parse(cls, raw_body: bytes | str | None) -> VoiceRequest:
        return cls.from_params(parse_form(raw_body))

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> VoiceRequest:
        """From parsed parameters (or a plain dict: a status we learnt by REST)."""
        form = params if isinstance(params, FormParams) else FormParams(params)
        return cls(
            call_sid=form.sid("CallSid", CALL_SID_PREFIX),
            caller=form.get("From", ""),
            hotline=form.get("To", ""),
            direction=form.get("Direction", "inbound"),
            caller_country=form.get("FromCountry") or None,
            params=form,
        )

    @overload
    def whole_number(self, name: str, default: int) -> int: ...
    @overload
    def whole_number(self, name: str, default: None = None) -> int | None: ...
    def whole_number(self, name: str, default: int | None = None) -> int | None:
        return self.params.whole_number(name, default)


@dataclass(frozen=True)
class InboundSms:
    """A text to one of our numbers."""

    message_sid: str
    sender: str  # From
    hotline: str  # To
    body: str
    media_urls: list[str] = field(default_factory=list)
    opt_out_type: str | None = None  # Twilio's OptOutType when Advanced Opt-Out handled it

    @classmethod
    def parse(cls, raw_body: bytes | str | None) -> InboundSms:
        form = parse_form(raw_body)
        media = form.whole_number("NumMedia", 0)
        return cls(
            message_sid=form.sid("MessageSid", MESSAGE_SID_PREFIXES),
            sender=form.get("From", ""),
            hotline=form.get("To", ""),
            body=form.get("Body", ""),
            media_urls=[form[f"MediaUrl{i}"] for i in range(media) if form.get(f"MediaUrl{i}")],
            opt_out_type=form.get("OptOutType") or None,
        )


@dataclass(frozen=True)
class DeliveryStatus:
    """A status callback for a text we sent: ``status`` lower case (queued, sent, delivered,
    undelivered, failed, ...), ``error_code`` Twilio's on a failure."""

    message_sid: str
    status: str
    error_code: str | None

    @classmethod
    def parse(cls, raw_body: bytes | str | None) -> DeliveryStatus:
        form = parse_form(raw_body)
        sid = form.sid("MessageSid", MESSAGE_SID_PREFIXES)
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
        if not status:
            raise MalformedWebhook("MessageStatus is missing")
        return cls(sid, status, (form.get("ErrorCode") or "").strip() or None)
