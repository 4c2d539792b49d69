"""What the flow engine asks the telephony layer to do, in plain data.

The engine never builds TwiML or calls Twilio: it returns these verbs and effects, and
``chalicelib.telephony.twiml`` renders the verbs while ``chalicelib.ivr.service`` carries out the
effects. Verbs that wait for the caller (Gather, Record, Dial, Enqueue, Pay) name the node whose
``resume`` handles Twilio's next request; the renderer turns that into an action URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Say:
    text: str
    voice: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Play:
    url: str
    loop: int = 1


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


@dataclass(frozen=True)
class Gather:
    """Collect DTMF and/or speech; Twilio posts the result (even an empty one) to ``node``."""

    node: str
    prompts: tuple = ()  # Say / Play / Pause played while listening
    input: str = "dtmf"  # "dtmf", "speech" or "dtmf speech"
    num_digits: int | None = None
    timeout: int = 5
    finish_on_key: str | None = None
    language: str | None = None  # speech recognition language
    hints: tuple[str, ...] = ()
    speech_timeout: str | None = None


@dataclass(frozen=True)
class Record:
    """Record a voicemail; Twilio posts the recording to ``node``."""

    node: str
    max_length: int = 120
    transcribe: bool = True
    play_beep: bool = True
    timeout: int = 5
    finish_on_key: str = "#"


@dataclass(frozen=True)
class Enqueue:
    """Put the caller in a queue; Twilio asks ``node``'s hold handler what to play meanwhile."""

    node: str
    queue: str


@dataclass(frozen=True)
class Leave:
    """Leave the queue (from hold music); Twilio then posts QueueResult=leave to the node."""


@dataclass(frozen=True)
class Dial:
    """Transfer to an outside number; Twilio posts DialCallStatus to ``node``."""

    node: str
    number: str
    timeout: int = 20
    caller_id: str | None = None


@dataclass(frozen=True)
class Pay:
    """Take a card payment with Twilio ``<Pay>`` (PCI mode on the account: the card number goes
    from the caller's keypad to the Pay Connector and never reaches us); Twilio posts
    ``Result`` and the masked card to ``node``. ``charge_amount``: a decimal string in major
    units ("42.17"), as Twilio's ``chargeAmount``; ``currency`` lowercase ISO 4217 ("usd")."""

    node: str
    charge_amount: str
    currency: str
    connector: str  # the Pay Connector's unique name on the Twilio account
    description: str | None = None
    prompts: tuple = ()  # Say / Play / Pause asking for the card number
    timeout: int = 5
    max_attempts: int = 1
    security_code: bool = True
    postal_code: bool = False
    account: str = ""  # who the charge is for: carried in the action URL (see twiml._pay)


@dataclass(frozen=True)
class Hangup:
    pass


# ---- effects: side effects the service carries out after the step is saved ----------------


@dataclass(frozen=True)
class SendSms:
    to: str
    body: str
    template: str  # the template name, kept with the message record
    key: str  # idempotency key: the same key is never sent twice


@dataclass(frozen=True)
class SaveVoicemail:
    recording_sid: str
    recording_url: str
    duration: int
    node: str
    language: str | None = None


@dataclass(frozen=True)
class KeepPlaceForCallback:
    """Put the caller in ``queue``'s line as a callback request (they hang up, keep the place)."""

    queue: str


@dataclass(frozen=True)
class HoursClosed:
    """The flow took the closed branch of *hours* node ``node``: the caller called after hours
    (recorded as a missed call)."""

    node: str
    language: str | None = None


@dataclass(frozen=True)
class PaymentTaken:
    """A ``<Pay>`` charge succeeded at the connector. ``amount`` in minor units (cents) of
    ``currency`` (uppercase ISO 4217); ``card_last4`` the only card digits we ever hold;
    ``confirmation`` the connector's PaymentConfirmationCode, unique per charge: the key that
    makes recording it idempotent. ``language``: the caller's, for the receipt."""

    account_id: str
    amount: int
    currency: str
    confirmation: str
    card_last4: str
    card_type: str
    call_sid: str
    node: str
    language: str | None = None


@dataclass(frozen=True)
class PromiseMade:
    """The account holder promised to pay within ``days`` days (1 to the node's ``max_days``)
    of their local today; ``until`` is that date as the engine saw it (UTC now in the
    account's zone). ``call_sid`` + ``node``: the idempotency key of the promise."""

    account_id: str
    days: int
    until: date
    call_sid: str
    node: str


@dataclass
class StepResult:
    """The outcome of one engine step: what to play, the new state, what else to do."""

    verbs: list = field(default_factory=list)
    effects: list = field(default_factory=list)
    visited: list[str] = field(default_factory=list)  # node ids run in this step, in order
    waiting_on: str | None = None  # node whose resume handles the next request
    outcome: str | None = None  # set when the flow ended: "hangup", "voicemail", "queue", ...
    flow: object = None  # the Flow current after the step (another one after a goto)
