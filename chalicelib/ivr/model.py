"""The flow language: a flow is a graph of typed nodes plus the prompt templates it speaks.

Flows are written as YAML (``loader``), checked by ``lint``, published as JSON documents
(``Flow.to_document``) and run by ``engine``. This module is the one description of the language:
each node kind is a dataclass whose fields *are* its schema (a field without a default is a
required key, its annotation is the type checked, any other key is unknown), and field metadata
marks the fields that name other nodes (``target``), prompt templates (``template``), inline
template strings (``inline``) and branch conditions (``condition``). Lint and the engine read
those marks, so no second list of "which fields point where" can drift from the schema.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from types import UnionType
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

from chalicelib.facts import zone_of

NODE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # node ids end up in webhook URLs
TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # template names end up in file paths
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class LintError:
    """One problem in a flow, located as ``file:line`` for the person editing it."""

    file: str
    line: int | None
    node: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.node:
            where += f": node '{self.node}'"
        return f"{where}: {self.message}"


class FlowError(Exception):
    """A flow that cannot be built at all (bad YAML, bad schema); ``errors`` says why."""

    def __init__(self, errors: list[LintError]):
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


def _role(role: str, default: Any = MISSING) -> Any:
    return field(default=default, metadata={"role": role})


def _target(default: Any = MISSING) -> Any:
    return _role("target", default)


def _template(default: Any = MISSING) -> Any:
    return _role("template", default)


# ---- nodes ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Node:
    """One step of a flow; subclasses are the node kinds, keyed by ``kind`` in the document."""

    kind: ClassVar[str]
    waits: ClassVar[bool] = False  # answers with a verb Twilio calls back about
    # template fields spoken only after the node waited, i.e. in a later webhook than the one
    # that entered it (a voicemail's thanks, a queue's hold prompt)
    said_later: ClassVar[tuple[str, ...]] = ()

    def may_end_call(self) -> bool:
        """Whether the flow can finish here (used to find loops a caller can never leave)."""
        return False

    def references(self, role: str) -> list[tuple[tuple[str, ...], str]]:
        """``(path within the node, value)`` of every field marked with ``role``."""
        return list(_references(self, role, ()))


def _references(value: Any, role: str, path: tuple[str, ...]) -> Iterator[tuple[tuple, str]]:
    if is_dataclass(value):
        for f in fields(value):
            key = f.metadata.get("key", f.name)
            item = getattr(value, f.name)
            if f.metadata.get("role") == role:
                if item is not None:
                    yield path + (key,), item
            else:
                yield from _references(item, role, path + (key,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _references(item, role, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, role, path + (str(index),))


@dataclass(frozen=True, kw_only=True)
class SayNode(Node):
    kind = "say"
    template: str = _template()
    next: str = _target()


@dataclass(frozen=True, kw_only=True)
class PlayNode(Node):
    kind = "play"
    url: str = _role("inline")
    loop: int = 1
    next: str = _target()


@dataclass(frozen=True, kw_only=True)
class MenuOption:
    next: str = _target()
    set: dict[str, str | int | bool] = field(default_factory=dict)
    speech: dict[str, list[str]] = field(default_factory=dict)  # language -> words


@dataclass(frozen=True, kw_only=True)
class MenuNode(Node):
    kind = "menu"
    waits = True
    prompt: str = _template()
    each_language: bool = False  # say the prompt once per flow language, in its own voice
    options: dict[str, MenuOption]  # DTMF key -> option
    input: str = field(default="both", metadata={"choices": ("dtmf", "speech", "both")})
    timeout: int = 5
    retries: int = 2
    reprompt: str | None = _template(None)
    on_timeout: str = _target()
    on_invalid: str = _target()


@dataclass(frozen=True, kw_only=True)
class CollectNode(Node):
    kind = "collect"
    waits = True
    prompt: str = _template()
    into: str
    input: str = field(default="dtmf", metadata={"choices": ("dtmf", "speech")})
    min_length: int = 1
    max_length: int | None = None
    pattern: str | None = None
    luhn: bool = False
    digits: bool = False  # a number: speech is read as digits (see ``wants_digits``)
    finish_on_key: str = "#"
    sensitive: bool = False  # the value must never reach logs, reports or screen pops
    timeout: int = 5
    retries: int = 2
    reprompt: str | None = _template(None)
    next: str = _target()
    on_fail: str = _target()

    @property
    def wants_digits(self) -> bool:
        """The caller gives a number: ``digits``, ``luhn`` or a digits-only ``pattern``
        (``[0-9]{4}``, ``\\d{6,8}``). Spoken, it is read as digits ("seven nine nine two",
        "7992-7398", "double seven", "七九九二": ``chalicelib.text.spoken_digits``) before it is
        checked and stored."""
        return self.digits or self.luhn or bool(
            self.pattern and DIGITS_ONLY_PATTERN.fullmatch(self.pattern))


DIGITS_ONLY_PATTERN = re.compile(r"\^?(?:(?:\[0-9\]|\\d)(?:\{\d+(?:,\d*)?\}|[+*?])?)+\$?")


@dataclass(frozen=True, kw_only=True)
class LookupNode(Node):
    """Read a self-service record into variables.

    ``next`` only when the record exists and has a value (not None, not blank) for every field
    in ``into``, except the variables listed in ``optional``; else ``on_missing``, so a prompt
    never speaks an empty slot ("your balance is $, due on ."). ``sensitive`` variables (a PIN's
    hash) are treated like a sensitive collect: redacted, and gone after this webhook step.
    """

    kind = "lookup"
    source: str
    key: str = _role("inline")
    into: dict[str, str]  # variable -> field of the record found
    optional: list[str] = field(default_factory=list)  # variables that may be empty
    sensitive: list[str] = field(default_factory=list)
    next: str = _target()
    on_missing: str = _target()


@dataclass(frozen=True, kw_only=True)
class BranchCase:
    condition: str = field(metadata={"key": "if", "role": "condition"})
    next: str = _target()


@dataclass(frozen=True, kw_only=True)
class BranchNode(Node):
    kind = "branch"
    cases: list[BranchCase]
    otherwise: str = field(metadata={"key": "else", "role": "target"})


@dataclass(frozen=True, kw_only=True)
class HoursNode(Node):
    kind = "hours"
    timezone: str
    weekly: dict[str, list[str]]  # "mon" or "mon-fri" -> ["09:00-17:00", ...]: hours.weekly
    holidays: list[str] = field(default_factory=list)  # YYYY-MM-DD, closed all day
    open: str = _target()
    closed: str = _target()


@dataclass(frozen=True, kw_only=True)
class VoicemailNode(Node):
    kind = "voicemail"
    waits = True
    prompt: str = _template()
    max_length: int = 120
    transcribe: bool = True
    thanks: str | None = _template(None)  # said before hanging up when there is no ``next``
    next: str | None = _target(None)
    said_later = ("thanks",)

    def may_end_call(self) -> bool:
        return self.next is None


@dataclass(frozen=True, kw_only=True)
class SmsNode(Node):
    """Text the caller. With ``on_refused``, a caller who cannot be texted (opted out; no number
    to text: anonymous, ``client:...``) goes there instead, so the flow can say so; without it,
    the text is attempted and refused by the sender (recorded as ``opted_out``)."""

    kind = "sms"
    template: str = _template()
    next: str = _target()
    on_refused: str | None = _target(None)


@dataclass(frozen=True, kw_only=True)
class QueueNode(Node):
    kind = "queue"
    waits = True
    said_later = ("hold_prompt",)
    queue: str
    hold_prompt: str = _template()
    music: str | None = None
    max_wait: int = 300
    on_overflow: str = _target()

    def may_end_call(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class TransferNode(Node):
    kind = "transfer"
    waits = True
    to: str
    timeout: int = 20
    on_fail: str | None = _target(None)

    def may_end_call(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class PayNode(Node):
    """Take a card payment with Twilio ``<Pay>`` and branch on its ``Result``.

    ``amount``, ``currency``, ``account`` and ``description`` are inline templates
    (``"{{ balance_due }}"``); the amount must render a positive decimal in major units with at
    most two decimals, else the node goes to ``on_error``. ``connector`` names the Twilio Pay
    Connector (default: the ``PAY_CONNECTOR`` setting). Branches, by Twilio's ``Result``:
    ``success`` -> ``on_success`` (sets ``payment_confirmation``, ``payment_card_last4`` and
    ``payment_amount``, the amount charged in minor units);
    ``too-many-failed-attempts`` (declined, bad or no input after ``max_attempts``) ->
    ``on_declined``; ``caller-interrupted-with-star`` -> ``on_star``; ``caller-hung-up`` ->
    ``on_hangup`` (default: the call ends); ``payment-connector-error``, ``validation-error``
    (a bad ``<Pay>`` attribute: retrying cannot help), ``internal-error`` and anything else ->
    ``on_error``, which lint requires to reach a person or a retry, never silence.

    An amount the caller chose (a ``collect`` node before this one) is held within
    ``min_amount`` and ``max_amount`` (inline templates in major units, e.g. ``"1"`` and
    ``"{{ balance_due }}"``): outside them, or not a usable amount at all, the node goes to
    ``on_invalid_amount`` (default ``on_error``) before any ``<Pay>``, so nobody is charged more
    than they owe.
    """

    kind = "pay"
    waits = True
    amount: str = _role("inline")
    currency: str = _role("inline", "USD")
    account: str = _role("inline")  # the account the payment is for (PaymentTaken.account_id)
    description: str | None = _role("inline", None)
    prompt: str = _template()  # asks for the card number (<Prompt for="payment-card-number">)
    connector: str | None = None
    timeout: int = 5  # seconds Twilio waits for each input
    max_attempts: int = 1  # tries per input before Result=too-many-failed-attempts (1-3)
    security_code: bool = True
    postal_code: bool = False
    on_success: str = _target()
    on_declined: str = _target()
    on_star: str = _target()
    on_error: str = _target()
    on_hangup: str | None = _target(None)
    min_amount: str | None = _role("inline", None)
    max_amount: str | None = _role("inline", None)
    on_invalid_amount: str | None = _target(None)

    def may_end_call(self) -> bool:
        return True  # the caller may hang up during the payment


# set on a pay node's ``on_success``; ``payment_amount``: what was charged, minor units
PAY_VARS = ("payment_confirmation", "payment_card_last4", "payment_amount")


@dataclass(frozen=True, kw_only=True)
class PromiseNode(Node):
    """Record a promise to pay: reminders to ``account`` pause until ``days`` days after the
    holder's local today (issue 11: "press 2 to promise a payment date").

    ``account``, ``days`` and ``timezone`` are inline templates (``"{{ promise_days }}"``;
    ``timezone`` an IANA zone, blank or unknown: UTC). ``days`` must render a whole number from
    1 to ``max_days``, else ``on_invalid`` (nothing is recorded). Otherwise the node hands a
    ``PromiseMade`` effect to the service (its ``PromiseSink`` writes the account) and goes to
    ``next`` with ``promised_until`` (ISO date) set for the thanks prompt.
    """

    kind = "promise"
    account: str = _role("inline")
    days: str = _role("inline")
    timezone: str = _role("inline", "")
    max_days: int = 30
    next: str = _target()
    on_invalid: str = _target()


PROMISE_VARS = ("promised_until",)  # set on a promise node's ``next``


@dataclass(frozen=True, kw_only=True)
class GotoNode(Node):
    kind = "goto"
    flow: str

    def may_end_call(self) -> bool:
        return True  # leaves this flow


@dataclass(frozen=True, kw_only=True)
class HangupNode(Node):
    kind = "hangup"
    template: str | None = _template(None)

    def may_end_call(self) -> bool:
        return True


NODE_KINDS: dict[str, type[Node]] = {
    cls.kind: cls
    for cls in (
        SayNode,
        PlayNode,
        MenuNode,
        CollectNode,
        LookupNode,
        BranchNode,
        HoursNode,
        VoicemailNode,
        SmsNode,
        QueueNode,
        TransferNode,
        PayNode,
        PromiseNode,
        GotoNode,
        HangupNode,
    )
}


# ---- the flow ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Voice:
    voice: str  # Twilio <Say voice>, e.g. Polly.Joanna
    language: str  # Twilio <Say language>, e.g. cmn-CN
    speech: str | None = None  # <Gather language> for speech input, when not ``language``


_LOCAL = {"local": True}  # where the flow came from: never part of the document


@dataclass(frozen=True, kw_only=True)
class Flow:
    id: str = field(metadata={"key": "flow"})
    description: str = ""
    languages: list[str]  # the first is the default
    voices: dict[str, Voice]
    start: str
    nodes: dict[str, Node] = field(repr=False)
    # language -> template name -> source; the loader fills it from templates/<lang>/<name>.j2
    templates: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    version: int | None = None
    source: str = field(default="", compare=False, metadata=_LOCAL)  # the YAML file
    templates_dir: str = field(default="", compare=False, metadata=_LOCAL)
    marks: dict = field(default_factory=dict, compare=False, repr=False, metadata=_LOCAL)

    @classmethod
    def from_document(
        cls,
        document: dict,
        *,
        source: str = "",
        templates_dir: str = "",
        marks: dict[tuple[str, ...], int] | None = None,
    ) -> Flow:
        """Build a flow from its document; raise FlowError listing every schema problem.

        ``source``, ``templates_dir`` and ``marks`` (document path -> YAML line, see ``loader``)
        say where the flow was read from, so errors can point there; none is in the document.
        """
        problems: list[tuple[tuple[str, ...], str]] = []
        local = {"source": source, "templates_dir": templates_dir, "marks": marks or {}}
        flow = _build(cls, document, (), problems, local)
        if flow is not None:
            problems.extend(_name_problems(flow))
        if problems:
            flow_id = document.get("flow") if isinstance(document, dict) else None
            file = source or f"flow {flow_id}"
            raise FlowError([_error_at(file, marks or {}, path, msg) for path, msg in problems])
        return flow

    def to_document(self) -> dict:
        """The JSON-able document that is published; templates travel inside it."""
        return _dump(self)

    @cached_property
    def checksum(self) -> str:
        """Identifies the content (not the version number): same document, same checksum."""
        document = self.to_document()
        document.pop("version", None)
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def input_vars(self) -> set[str]:
        """Variables the caller's own input sets: collected values and menu choices."""
        names = {node.into for node in self.nodes.values() if isinstance(node, CollectNode)}
        for node in self.nodes.values():
            if isinstance(node, MenuNode):
                names.update(name for option in node.options.values() for name in option.set)
        return names

    @property
    def sensitive_vars(self) -> set[str]:
        """Variables that live only within the webhook step that set them (``ivr.service``
        stores them redacted): sensitive collects and look-up fields marked ``sensitive``."""
        names = {
            node.into
            for node in self.nodes.values()
            if isinstance(node, CollectNode) and node.sensitive
        }
        for node in self.nodes.values():
            if isinstance(node, LookupNode):
                names.update(node.sensitive)
        return names

    def template_names(self) -> set[str]:
        return {name for node in self.nodes.values() for _, name in node.references("template")}

    def template_file(self, language: str, name: str) -> str:
        return str(Path(self.templates_dir or "templates") / language / f"{name}.j2")

    def error(self, path: tuple[str, ...], message: str) -> LintError:
        """A LintError at a document path, on the YAML line the loader saw for it."""
        return _error_at(self.source or f"flow {self.id}", self.marks, path, message)


def _error_at(file: str, marks: dict, path: tuple[str, ...], message: str) -> LintError:
    """Errors under ``nodes`` name their node; the line is that of the closest marked path."""
    node = path[1] if len(path) > 1 and path[0] == "nodes" else None
    prefixes = (path[:end] for end in range(len(path), -1, -1))
    line = next((marks[prefix] for prefix in prefixes if prefix in marks), None)
    return LintError(file, line, node, message)


def _name_problems(flow: Flow) -> Iterator[tuple[tuple[str, ...], str]]:
    """Names that become URLs and file paths must be plain before anything uses them."""
    if not flow.languages:
        yield ("languages",), "a flow needs at least one language (the first is the default)"
    for index, language in enumerate(flow.languages):
        if not LANGUAGE.match(language):
            yield ("languages", str(index)), f"'{language}' is not a language tag like en-US"
    for node_id, node in flow.nodes.items():
        if not NODE_ID.match(node_id):
            message = f"node id '{node_id}' must be lowercase letters, digits and _ (max 64)"
            yield ("nodes", node_id), message
        for path, name in node.references("template"):
            if not TEMPLATE_NAME.match(name):
                message = f"template name '{name}' must be lowercase letters, digits and _"
                yield ("nodes", node_id, *path), message


# ---- document <-> dataclasses --------------------------------------------------------------


def _build(cls: type, raw: Any, path: tuple, problems: list, given: dict | None = None) -> Any:
    """Check ``raw`` against ``cls``'s fields and construct it; on problems return None."""
    if not isinstance(raw, dict):
        problems.append((path, "expected a mapping"))
        return None
    before = len(problems)
    hints = get_type_hints(cls)
    values = dict(given or {})
    known = set()
    for f in fields(cls):
        if f.metadata.get("local"):
            continue
        key = f.metadata.get("key", f.name)
        known.add(key)
        if key in raw:
            value = _convert(raw[key], hints[f.name], path + (key,), problems)
            choices = f.metadata.get("choices")
            if choices and value not in choices:
                problems.append((path + (key,), f"'{key}' must be one of: {', '.join(choices)}"))
            values[f.name] = value
        elif f.default is MISSING and f.default_factory is MISSING:
            problems.append((path, f"missing required key '{key}'"))
    for key in raw:
        if key not in known:
            problems.append(
                (path + (str(key),), f"unknown key '{key}' (expected: {', '.join(sorted(known))})")
            )
    return cls(**values) if len(problems) == before else None


def _build_node(raw: Any, path: tuple, problems: list) -> Node | None:
    if not isinstance(raw, dict) or "kind" not in raw:
        problems.append((path, "a node must be a mapping with a 'kind'"))
        return None
    cls = NODE_KINDS.get(raw["kind"]) if isinstance(raw["kind"], str) else None
    if cls is None:
        problems.append(
            (
                path + ("kind",),
                f"unknown node kind '{raw['kind']}' (expected one of: {', '.join(NODE_KINDS)})",
            )
        )
        return None
    return _build(cls, {k: v for k, v in raw.items() if k != "kind"}, path, problems)


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def _convert(value: Any, hint: Any, path: tuple, problems: list) -> Any:
    origin = get_origin(hint)
    key = path[-1]
    if origin in (Union, UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        if value is None and len(options) < len(get_args(hint)):
            return None
        if len(options) == 1:
            return _convert(value, options[0], path, problems)
        if isinstance(value, tuple(options)):  # a union of scalars
            return value
        problems.append((path, f"'{key}' must be a string, number or true/false"))
        return None
    if origin is list:
        if not isinstance(value, list):
            problems.append((path, f"'{key}' must be a list"))
            return None
        (item,) = get_args(hint)
        return [_convert(v, item, path + (str(i),), problems) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            problems.append((path, f"'{key}' must be a mapping"))
            return None
        item = get_args(hint)[1]
        # YAML reads `1:` as an integer; menu keys and the like are strings in the document.
        return {str(k): _convert(v, item, path + (str(k),), problems) for k, v in value.items()}
    if hint is Node:
        return _build_node(value, path, problems)
    if isinstance(hint, type) and is_dataclass(hint):
        return _build(hint, value, path, problems)
    if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    problems.append((path, f"'{key}' must be {_TYPE_NAMES[hint]}, not {value!r}"))
    return None


def _dump(value: Any) -> Any:
    if is_dataclass(value):
        document = {"kind": value.kind} if isinstance(value, Node) else {}
        for f in fields(value):
            item = getattr(value, f.name)
            default = f.default_factory() if f.default_factory is not MISSING else f.default
            if not f.metadata.get("local") and item != default:
                document[f.metadata.get("key", f.name)] = _dump(item)
        return document
    if isinstance(value, dict):
        return {key: _dump(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dump(item) for item in value]
    return value


@dataclass(frozen=True)
class PublishedVersion:
    """One published version of a flow: who published it and when (aware UTC), and the
    checksum of its compiled document (publishing the same document twice makes no version)."""

    flow_id: str
    version: int
    checksum: str
    published_at: datetime
    published_by: str | None = None


def flow_zone(flow: Flow) -> str:
    """The zone a flow's report facts count in (``chalicelib.facts``): its first ``hours``
    node's, when that is a valid IANA zone, else UTC. One rule for a flow's own facts
    (``ivr.call_facts``) and for a hotline's, by its entry flow (``store.hotline_zone``)."""
    for node in flow.nodes.values():
        if isinstance(node, HoursNode) and node.timezone:
            try:
                zone_of(node.timezone)
            except ValueError:
                continue  # a template or a typo: not a calendar to count in
            return node.timezone
    return "UTC"
