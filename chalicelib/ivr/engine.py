"""The flow interpreter: where a call goes next, as plain data.

Each public function answers one kind of Twilio webhook. ``start`` runs a new call from the
flow's start node; ``resume`` takes Twilio's action request for the node that was waiting
(Gather, Record, Enqueue, Dial, Pay) and decides where that input leads; ``hold`` answers a queue's
waitUrl. From there the engine runs every node that needs nothing from the caller (say, play,
branch, hours, lookup, sms, promise, goto), collecting verbs, until it reaches a node that waits for
Twilio to call back or one that ends the call: one webhook, one ``StepResult``.

The engine is pure. It reads the clock from ``CallContext.now``, changes only the ``CallState``
it is given (the service persists it), reaches storage only through ``Ports``, and returns side
effects (texts, voicemails, payments taken, promises to pay) for the service to carry out once
the step is saved.
The same request replayed against the same state gives the same answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib import text
from chalicelib.hours.schedule import is_open
from chalicelib.ivr import templates
from chalicelib.ivr.model import (
    CollectNode,
    Flow,
    HoursNode,
    MenuNode,
    Node,
    PayNode,
    PromiseNode,
    QueueNode,
)
from chalicelib.telephony import verbs as v

MAX_NODES_PER_STEP = 100  # a flow that runs this many nodes without waiting is broken

BUILTIN_VARS = ("caller", "hotline", "customer", "caller_country", "language", "now")
# in a queue's hold prompt only
HOLD_VARS = ("queue_position", "queue_time", "estimated_wait_minutes")
# set when a queue node takes its ``on_overflow`` branch: why the caller reached no agent
OVERFLOW_VARS = ("overflow_reason",)
OVERFLOW_REASONS = ("closed", "no_agents", "full", "max_wait", "unavailable", "chose_voicemail")
QUEUE_OVERFLOW = {"leave", "queue-full", "error", "system-error"}
# Routing's reasons (``routing.selection.overflow_action``, ``RoutingService.overflow_reason``),
# which ``ivr.service`` passes as ``OverflowReason`` (ours, not a Twilio parameter), in the
# words a prompt uses.
ROUTING_OVERFLOW = {"closed": "closed", "join-empty": "no_agents", "full": "full",
                    "max-wait": "max_wait", "voicemail": "chose_voicemail"}
# Twilio's own QueueResult: ``leave`` is our Leave after the wait limit (``hold``).
TWILIO_OVERFLOW = {"leave": "max_wait", "queue-full": "full"}
TRANSFER_CONNECTED = {"completed", "answered"}
GATHER_INPUT = {"dtmf": "dtmf", "speech": "speech", "both": "dtmf speech"}
# Twilio <Pay>'s ``Result`` on the action request -> the pay node's branch; any other value
# (payment-connector-error, validation-error, internal-error, new ones) is ``on_error``.
PAY_RESULTS = {"success": "on_success", "too-many-failed-attempts": "on_declined",
               "caller-interrupted-with-star": "on_star", "caller-hung-up": "on_hangup"}
AMOUNT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")  # major units, at most two decimals
CURRENCY = re.compile(r"^[A-Z]{3}$")
# ISO 4217 currencies with no minor unit (the rest we take have two: USD, CNY, EUR, GBP...)
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG"})


def minor_units(amount: Decimal, currency: str) -> int:
    """``amount`` in major units as an integer of the currency's minor units (42.17 USD ->
    4217; 500 JPY -> 500)."""
    return int(amount) if currency in ZERO_DECIMAL else int(amount * 100)


class EngineError(Exception):
    """The flow cannot go on (a broken flow or a request for a node that does not wait)."""


@dataclass
class CallContext:
    """Facts about the call, read-only."""

    call_sid: str
    caller: str
    hotline: str
    now: datetime  # aware, UTC
    customer: dict | None = None  # {'name', 'vip', 'language', 'account_id', 'flags'}
    caller_country: str | None = None
    hold_music_url: str = ""
    pay_connector: str = "Default"  # a pay node's Pay Connector when it names none


@dataclass
class CallState:
    """Where the call is in its flows; mutable, persisted by the service between webhooks."""

    flow_id: str
    flow_version: int | None  # None only for a flow never published (tests, lint)
    language: str
    vars: dict = field(default_factory=dict)
    attempts: dict = field(default_factory=dict)  # node -> failed tries at a menu or collect


class Ports(Protocol):
    def lookup(self, source: str, key: str) -> dict | None: ...  # self-service data

    def live_flow(self, flow_id: str) -> Flow: ...  # for goto

    # a text to ``number`` would be sent: a number that takes texts and has not opted out
    def may_text(self, number: str) -> bool: ...


def start(flow: Flow, ctx: CallContext, state: CallState, ports: Ports) -> v.StepResult:
    """A new call: run from the flow's start node."""
    step = _Step(flow, ctx, state, ports)
    return step.run(flow.start)


def resume(
    flow: Flow, node_id: str, event: dict, ctx: CallContext, state: CallState, ports: Ports
) -> v.StepResult:
    """Twilio's action request for the waiting node ``node_id``; ``event`` is its POST params.

    ``visited`` lists the nodes run after the waiting one, not the waiting node itself.
    """
    step = _Step(flow, ctx, state, ports)
    node = step.node(node_id)
    if not node.waits:
        raise EngineError(f"node '{node_id}' ({node.kind}) does not wait for Twilio")
    return step.run(getattr(step, f"_resume_{node.kind}")(node_id, node, event))


def hold(
    flow: Flow,
    node_id: str,
    event: dict,
    ctx: CallContext,
    state: CallState,
    line: dict | None = None,
) -> list:
    """What a caller waiting in queue node ``node_id`` hears next; Twilio loops it.

    Once the caller has waited ``max_wait`` seconds, ``Leave`` ends the wait: Twilio then posts
    QueueResult=leave to the node's resume, which goes to ``on_overflow``. ``line`` carries what
    routing knows of the caller's place (``queue_position``, ``estimated_wait_minutes``), which
    beats Twilio's own position when the line is ours.
    """
    step = _Step(flow, ctx, state, ports=None)
    node = step.node(node_id)
    if not isinstance(node, QueueNode):
        raise EngineError(f"node '{node_id}' is not a queue")
    waited = _int(event.get("QueueTime"))
    if waited >= node.max_wait:
        return [v.Leave()]
    extra = {"queue_position": _int(event.get("QueuePosition")) or None, "queue_time": waited}
    extra.update(line or {})
    music = node.music or ctx.hold_music_url
    return [
        *step.say(node.hold_prompt, extra=extra),
        v.Play(music) if music else v.Pause(seconds=20),  # no music: don't re-ask Twilio at once
    ]


class _Step:
    """One webhook's run through the flow; ``_enter_<kind>``/``_resume_<kind>`` per node kind.

    Each handler returns the next node to run, or None when the step stops (a verb now waits for
    Twilio, or the call ended).
    """

    def __init__(self, flow: Flow, ctx: CallContext, state: CallState, ports: Ports | None):
        self.flow, self.ctx, self.state, self._ports = flow, ctx, state, ports
        self.result = v.StepResult(flow=flow)

    @property
    def ports(self) -> Ports:
        if self._ports is None:  # only ``hold`` has none, and it renders prompts, never a node
            raise EngineError("this step has no ports: it cannot run a node")
        return self._ports

    def run(self, node_id: str | None) -> v.StepResult:
        while node_id is not None:
            if len(self.result.visited) >= MAX_NODES_PER_STEP:
                raise EngineError(
                    f"flow '{self.flow.id}' ran {MAX_NODES_PER_STEP} nodes without waiting "
                    f"(last: {' -> '.join(self.result.visited[-5:])})"
                )
            node = self.node(node_id)
            self.result.visited.append(node_id)
            node_id = getattr(self, f"_enter_{node.kind}")(node_id, node)
        return self.result

    def node(self, node_id: str) -> Node:
        try:
            return self.flow.nodes[node_id]
        except KeyError:
            raise EngineError(f"flow '{self.flow.id}' has no node '{node_id}'") from None

    # ---- speaking ------------------------------------------------------------------------
    @property
    def language(self) -> str:
        language = self.state.language
        return language if language in self.flow.languages else self.flow.languages[0]

    def context(self, extra: dict | None = None) -> dict:
        """What templates and conditions see: the call's variables, then the built-ins."""
        return {
            **self.state.vars,
            "caller": self.ctx.caller,
            "hotline": self.ctx.hotline,
            "customer": self.ctx.customer or {},
            "caller_country": self.ctx.caller_country,
            "language": self.language,
            "now": self.ctx.now,
            **(extra or {}),
        }

    def say(
        self, name: str | None, language: str | None = None, extra: dict | None = None
    ) -> list[v.Say]:
        """``[Say]`` for template ``name`` in the call's (or the given) language; [] if silent."""
        if name is None:
            return []
        language = language or self.language
        text = templates.render(self.flow, language, name, self.context(extra))
        voice = self.flow.voices.get(language)
        if not text:
            return []
        return [v.Say(text, voice.voice if voice else None, voice.language if voice else None)]

    def speech_language(self) -> str:
        voice = self.flow.voices.get(self.language)
        return (voice.speech or voice.language) if voice else self.language

    def end(self, outcome: str, *before: v.Say) -> None:
        """The flow is over: say ``before``, hang up, record the outcome."""
        self.result.verbs.extend(before)
        self.result.verbs.append(v.Hangup())
        self.result.outcome = outcome

    def wait(self, node_id: str, verb) -> None:
        self.result.verbs.append(verb)
        self.result.waiting_on = node_id

    def retry(self, node_id: str, node, give_up: str) -> str:
        """Ask again (with the reprompt) until ``retries`` run out, then go to ``give_up``."""
        failed = self.state.attempts.get(node_id, 0) + 1
        if failed > node.retries:
            self.state.attempts.pop(node_id, None)
            return give_up
        self.state.attempts[node_id] = failed
        return node_id

    # ---- nodes that run straight through --------------------------------------------------
    def _enter_say(self, node_id, node):
        self.result.verbs.extend(self.say(node.template))
        return node.next

    def _enter_play(self, node_id, node):
        url = templates.render_string(node.url, self.context())
        if url:
            self.result.verbs.append(v.Play(url, node.loop))
        return node.next

    def _enter_branch(self, node_id, node):
        context = self.context()
        for case in node.cases:
            if templates.evaluate(case.condition, context):
                return case.next
        return node.otherwise

    def _enter_hours(self, node_id, node):
        if _is_open(node, self.ctx.now):
            return node.open
        # a caller we could not serve: a missed call for the follow-up (callbacks.missed)
        self.result.effects.append(v.HoursClosed(node_id, self.language))
        return node.closed

    def _enter_lookup(self, node_id, node):
        key = templates.render_string(node.key, self.context())
        record = self.ports.lookup(node.source, key) if key else None
        if record is None:
            return node.on_missing
        found = {variable: record.get(name) for variable, name in node.into.items()}
        if any(_blank(value) and variable not in node.optional
               for variable, value in found.items()):
            return node.on_missing  # a half record would be spoken with empty slots
        for variable, value in found.items():
            if _blank(value):
                self.state.vars.pop(variable, None)  # not an earlier look-up's value
            else:
                self.state.vars[variable] = value
        return node.next

    def _enter_sms(self, node_id, node):
        if node.on_refused is not None and not self.ports.may_text(self.ctx.caller):
            return node.on_refused
        body = templates.render(self.flow, self.language, node.template, self.context())
        key = f"{self.ctx.call_sid}:{node_id}"  # one text per node per call, however often run
        self.result.effects.append(v.SendSms(self.ctx.caller, body, node.template, key))
        return node.next

    def _enter_promise(self, node_id, node: PromiseNode):
        context = self.context()
        account = templates.render_string(node.account, context).strip()
        raw = templates.render_string(node.days, context).strip()
        if not account or not (raw.isascii() and raw.isdigit()) \
                or not 1 <= int(raw) <= node.max_days:
            return node.on_invalid
        zone = templates.render_string(node.timezone, context).strip() if node.timezone else ""
        until = _local_date(self.ctx.now, zone) + timedelta(days=int(raw))
        self.state.vars["promised_until"] = until.isoformat()
        self.result.effects.append(v.PromiseMade(
            account_id=account, days=int(raw), until=until, call_sid=self.ctx.call_sid,
            node=node_id))
        return node.next

    def _enter_goto(self, node_id, node):
        target = self.ports.live_flow(node.flow)
        for name in self.flow.sensitive_vars - target.sensitive_vars:
            # the service redacts the sensitive variables of the flow a step ends in: this
            # flow's would be stored in clear under the other's name
            self.state.vars.pop(name, None)
        self.flow = self.result.flow = target
        self.state.flow_id, self.state.flow_version = target.id, target.version
        self.state.language = self.language
        return target.start

    def _enter_hangup(self, node_id, node):
        self.end("hangup", *self.say(node.template))

    # ---- nodes that wait for Twilio ------------------------------------------------------
    def _enter_menu(self, node_id, node):
        prompts = self.say(node.reprompt) if node_id in self.state.attempts else []
        for language in self.flow.languages if node.each_language else [self.language]:
            prompts += self.say(node.prompt, language)
        listens = node.input != "dtmf"
        hints = [word for o in node.options.values() for word in o.speech.get(self.language, [])]
        gather = v.Gather(
            node=node_id,
            prompts=tuple(prompts),
            input=GATHER_INPUT[node.input],
            num_digits=1 if node.input != "speech" else None,
            timeout=node.timeout,
            finish_on_key="" if "#" in node.options else None,  # then '#' is a choice
            language=self.speech_language() if listens else None,
            hints=tuple(hints) if listens else (),
            speech_timeout="auto" if listens else None,
        )
        self.wait(node_id, gather)

    def _resume_menu(self, node_id, node, event):
        digits = (event.get("Digits") or "").strip()
        speech = (event.get("SpeechResult") or "").strip()
        if not digits and not speech:
            return self.retry(node_id, node, node.on_timeout)
        key = digits if digits in node.options else _spoken_option(node, speech, self.language)
        if key is None:
            return self.retry(node_id, node, node.on_invalid)
        self.state.attempts.pop(node_id, None)
        option = node.options[key]
        for variable, value in option.set.items():
            if variable == "language":
                self.state.language = value
            else:
                self.state.vars[variable] = value
        return option.next

    def _enter_collect(self, node_id, node):
        prompts = self.say(node.reprompt) if node_id in self.state.attempts else []
        prompts += self.say(node.prompt)
        by_keypad = node.input == "dtmf"
        fixed = node.max_length if node.max_length == node.min_length else None
        gather = v.Gather(
            node=node_id,
            prompts=tuple(prompts),
            input=node.input,
            num_digits=fixed if by_keypad else None,
            timeout=node.timeout,
            finish_on_key=node.finish_on_key if by_keypad else None,
            language=None if by_keypad else self.speech_language(),
            speech_timeout=None if by_keypad else "auto",
        )
        self.wait(node_id, gather)

    def _resume_collect(self, node_id, node, event):
        if node.input == "dtmf":
            value = (event.get("Digits") or "").strip()
        elif node.wants_digits:
            value = text.spoken_digits(event.get("SpeechResult"))
        else:
            value = text.tidy(event.get("SpeechResult"))
        if value is None or not _acceptable(node, value):
            return self.retry(node_id, node, node.on_fail)
        self.state.attempts.pop(node_id, None)
        self.state.vars[node.into] = value
        return node.next

    def _enter_voicemail(self, node_id, node):
        self.result.verbs.extend(self.say(node.prompt))
        self.wait(node_id, v.Record(node_id, node.max_length, node.transcribe))

    def _resume_voicemail(self, node_id, node, event):
        duration = _int(event.get("RecordingDuration"))
        recorded = bool(event.get("RecordingSid")) and duration > 0
        if recorded:
            self.result.effects.append(
                v.SaveVoicemail(
                    recording_sid=event["RecordingSid"],
                    recording_url=event.get("RecordingUrl", ""),
                    duration=duration,
                    node=node_id,
                    language=self.language,
                )
            )
        if node.next is not None:
            return node.next
        return self.end("voicemail", *self.say(node.thanks)) if recorded else self.end("hangup")

    def _enter_queue(self, node_id, node):
        self.wait(node_id, v.Enqueue(node_id, node.queue))

    def _resume_queue(self, node_id, node, event):
        if event.get("QueueResult") in QUEUE_OVERFLOW:
            self.state.vars["overflow_reason"] = _overflow_reason(event)
            return node.on_overflow
        if "DialCallStatus" in event and "QueueResult" not in event:
            # the queue's own overflow transferred the caller out (see ivr.service)
            if event["DialCallStatus"] in TRANSFER_CONNECTED:
                return self.end("transfer")
            self.state.vars["overflow_reason"] = "unavailable"
            return node.on_overflow
        self.end("queue")  # bridged (the agent hung up first) or the caller hung up

    def _enter_transfer(self, node_id, node):
        self.wait(node_id, v.Dial(node_id, node.to, node.timeout))

    def _resume_transfer(self, node_id, node, event):
        if event.get("DialCallStatus") in TRANSFER_CONNECTED:
            return self.end("transfer")
        if node.on_fail:
            return node.on_fail
        self.end("hangup")  # busy, no-answer, failed, canceled

    def _charge(self, node: PayNode) -> tuple[Decimal, str, str] | None:
        """``(amount in major units, currency, account)`` the node charges, rendered from the
        call's variables; None when any is unusable (no amount due, a bad currency)."""
        context = self.context()
        raw = templates.render_string(node.amount, context).strip()
        currency = templates.render_string(node.currency, context).strip().upper()
        account = templates.render_string(node.account, context).strip()
        if not AMOUNT.match(raw) or not CURRENCY.match(currency) or not account:
            return None
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            return None
        if currency in ZERO_DECIMAL and amount != amount.to_integral_value():
            return None  # no cents in yen
        return (amount, currency, account) if amount > 0 else None

    def _payee_ok(self, node: PayNode) -> bool:
        """The node's currency and account render usable values (so a refused charge is the
        amount's fault)."""
        context = self.context()
        currency = templates.render_string(node.currency, context).strip().upper()
        return bool(CURRENCY.match(currency)
                    and templates.render_string(node.account, context).strip())

    def _within_limits(self, node: PayNode, amount: Decimal) -> bool:
        """``amount`` is within the node's ``min_amount`` and ``max_amount`` (each rendered
        from the call's variables; a limit that renders no amount refuses every charge)."""
        context = self.context()
        for raw, inside in ((node.min_amount, lambda limit: amount >= limit),
                            (node.max_amount, lambda limit: amount <= limit)):
            if raw is None:
                continue
            limit = templates.render_string(raw, context).strip()
            if not AMOUNT.match(limit) or not inside(Decimal(limit)):
                return False
        return True

    def _enter_pay(self, node_id, node):
        charge = self._charge(node)
        if charge is not None and not self._within_limits(node, charge[0]):
            return node.on_invalid_amount or node.on_error
        if charge is None:
            if node.on_invalid_amount and self._payee_ok(node):
                return node.on_invalid_amount  # only the amount is wrong (the caller's entry)
            return node.on_error  # nothing sensible to charge: a person or a retry, not silence
        amount, currency, account = charge
        description = (templates.render_string(node.description, self.context()).strip()
                       if node.description else None)
        self.wait(node_id, v.Pay(
            node=node_id,
            charge_amount=f"{amount:.0f}" if currency in ZERO_DECIMAL else f"{amount:.2f}",
            currency=currency.lower(),
            connector=node.connector or self.ctx.pay_connector,
            description=description or None,
            prompts=tuple(self.say(node.prompt)),
            timeout=node.timeout,
            max_attempts=node.max_attempts,
            security_code=node.security_code,
            postal_code=node.postal_code,
            account=account,
        ))

    def _resume_pay(self, node_id, node, event):
        branch = PAY_RESULTS.get(event.get("Result") or "", "on_error")
        if branch == "on_hangup" and node.on_hangup is None:
            return self.end("hangup")
        if branch == "on_success":
            charge = self._charge(node)
            if charge is None:  # the variables changed under us: cannot say what was paid
                raise EngineError(f"pay node '{node_id}' succeeded with no amount to record")
            amount, currency, account = charge
            card = last4(event.get("PaymentCardNumber"))
            confirmation = (event.get("PaymentConfirmationCode") or "").strip()
            self.state.vars["payment_confirmation"] = confirmation
            self.state.vars["payment_card_last4"] = card
            self.state.vars["payment_amount"] = minor_units(amount, currency)
            self.result.effects.append(v.PaymentTaken(
                account_id=account, amount=minor_units(amount, currency), currency=currency,
                confirmation=confirmation, card_last4=card,
                card_type=(event.get("PaymentCardType") or "").strip(),
                call_sid=self.ctx.call_sid, node=node_id, language=self.language))
        return getattr(node, branch)


def last4(masked: str | None) -> str:
    """The last four digits of Twilio's masked card number ("xxxxxxxxxxxx1111"): never more,
    whatever the connector sends."""
    digits = "".join(ch for ch in (masked or "") if ch.isascii() and ch.isdigit())
    return digits[-4:]


def _local_date(now: datetime, zone: str):
    """``now``'s date in IANA ``zone``; UTC's when the zone is blank or unknown."""
    try:
        return now.astimezone(ZoneInfo(zone)).date() if zone else now.date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


def _is_open(node: HoursNode, now: datetime) -> bool:
    return is_open(node.timezone, node.weekly, node.holidays, now)


def _overflow_reason(event: dict) -> str:
    """Why the caller overflowed, as ``overflow_reason`` (one of ``OVERFLOW_REASONS``)."""
    ours = event.get("OverflowReason")
    if ours:
        return ROUTING_OVERFLOW.get(ours, "unavailable")
    return TWILIO_OVERFLOW.get(event.get("QueueResult") or "", "unavailable")


def _spoken_option(node: MenuNode, speech: str, language: str) -> str | None:
    """The first option with a word in what the caller said (or who said the key itself).

    Both sides compare in ``chalicelib.text.fold`` form (width, case, spacing, surrounding
    punctuation: "Ｂｉｌｌｉｎｇ。" is "billing", "２." is key 2). Latin words must stand alone
    ("no" is not in "know"); CJK has no spaces, so any occurrence counts ("我想查账单" contains
    "账单").
    """
    said = text.fold(speech)
    if said in node.options:
        return said
    for key, option in node.options.items():
        for word in option.speech.get(language, []):
            word = text.fold(word)
            pattern = rf"(?<!\w){re.escape(word)}(?!\w)" if word.isascii() else re.escape(word)
            if re.search(pattern, said):
                return key
    return None


def _blank(value) -> bool:
    """No value to speak: missing, None, or an empty or blank string."""
    return value is None or (isinstance(value, str) and not value.strip())


def _acceptable(node: CollectNode, value: str) -> bool:
    if len(value) < node.min_length or (node.max_length and len(value) > node.max_length):
        return False
    if node.pattern and not re.fullmatch(node.pattern, value):
        return False
    return not node.luhn or _luhn_valid(value)


def _luhn_valid(number: str) -> bool:
    """The mod-10 check digit used by account and card numbers: catches most typos."""
    if not (number.isascii() and number.isdigit()):  # '²'.isdigit() is true
        return False
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(number)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
