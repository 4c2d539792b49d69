"""Prompt templates and branch conditions: Jinja2 in a sandbox, compiled once per flow version.

Templates are written by the people who edit flows, so they run in Jinja's
``SandboxedEnvironment``. Each published flow carries its template sources; they are compiled on
first use and cached per ``(flow checksum, language, name)``: versions are immutable, so a warm
Lambda never compiles a prompt twice. Each language gets its own loader, so a template may
``{% include %}`` another of the same language.

At run time a missing variable renders as nothing (``ChainableUndefined``: even
``customer.vip`` with no customer is just falsy) and a template that fails renders as an empty
prompt: a live call must never fail on wording. ``lint`` finds both statically instead.
Prompts are spoken: whitespace is collapsed (and dropped next to Chinese, which has no spaces)
and nothing is HTML-escaped (the TwiML renderer escapes XML).
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import date
from functools import lru_cache

from jinja2 import ChainableUndefined, DictLoader, Template, nodes
from jinja2.sandbox import SandboxedEnvironment

from chalicelib.ivr.model import Flow
from chalicelib.reminders.money import FILTERS as MONEY_FILTERS

log = logging.getLogger(__name__)

_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"  # ideographs and their punctuation
_SPACE_BY_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")  # Chinese has no spaces


def spoken_date(value: object, format: str) -> str:
    """Format an ISO date (as look-ups return them) with strftime, e.g. ``'%B %-d, %Y'``.

    Anything that is not a date renders as nothing, like an undefined variable.
    """
    try:
        return date.fromisoformat(str(value)[:10]).strftime(format)
    except ValueError:
        return ""


def sha256_hex(value: object) -> str:
    """Hex SHA-256 of a value's text: lets a flow compare a PIN with a stored hash."""
    return hashlib.sha256(str(value).encode()).hexdigest()


def _environment(loader: DictLoader | None = None) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=loader,
        undefined=ChainableUndefined,
        autoescape=False,
        finalize=lambda value: "" if value is None else value,
    )
    env.filters["date"] = spoken_date
    env.filters["sha256"] = sha256_hex
    env.filters.update(MONEY_FILTERS)  # money, spoken_money, long_date: a failure renders ""
    return env


_shared = _environment()  # inline strings and conditions: they include nothing
_compiled: dict[tuple[str, str, str], Template] = {}

GLOBALS = frozenset(_shared.globals)  # range, dict, namespace...: never "undeclared"


def compiled(flow: Flow, language: str, name: str) -> Template:
    """Template ``name`` of ``flow`` in ``language``, compiled once per flow content."""
    key = (flow.checksum, language, name)
    if key not in _compiled:
        env = _environment(DictLoader(flow.templates.get(language, {})))
        _compiled[key] = env.get_template(name)
    return _compiled[key]


def render(flow: Flow, language: str, name: str, context: dict) -> str:
    """The prompt ``name`` in ``language``, as one line of text to speak or send."""
    return _speak(compiled(flow, language, name), context, f"{flow.id}/{language}/{name}")


def render_string(source: str, context: dict) -> str:
    """An inline template from a node field (a look-up key, a media URL)."""
    return _speak(_inline(source), context, source)


def evaluate(expression: str, context: dict) -> bool:
    """A branch condition; one that fails to evaluate is false."""
    try:
        return bool(_condition(expression)(**context))
    except Exception:  # noqa: BLE001 - a bad condition takes the else branch, never the call down
        log.exception("branch condition %r failed", expression)
        return False


def parse(source: str) -> nodes.Template:
    """The syntax tree lint inspects; raises TemplateSyntaxError."""
    return _shared.parse(source)


def parse_condition(expression: str) -> nodes.Template:
    """A condition as a syntax tree (its variables are those of ``{{ expression }}``)."""
    _shared.compile_expression(expression)  # rejects trailing text a {{ }} wrapper would accept
    return _shared.parse("{{ " + expression + " }}")


def _speak(template: Template, context: dict, label: str) -> str:
    try:
        text = template.render(context)
    except Exception:  # noqa: BLE001 - a broken prompt is skipped, the call goes on
        log.exception("template %s failed to render", label)
        return ""
    return _SPACE_BY_CJK.sub("", " ".join(text.split()))


@lru_cache(maxsize=512)
def _inline(source: str) -> Template:
    return _shared.from_string(source)


@lru_cache(maxsize=512)
def _condition(expression: str):
    return _shared.compile_expression(expression)
