"""The texts of SMS campaigns: Jinja2 templates under ``chalicelib/templates/campaigns/``.

One folder per template, named by the campaign's ``template`` (lower case, digits, ``_``)::

    campaigns/appointment_survey/en-US.j2    the text in each language it is written in
    campaigns/appointment_survey/zh-CN.j2
    campaigns/appointment_survey/replies.json    optional: normalised reply -> answer

A text is rendered with ``name`` (may be None), ``attributes`` (the list's free columns; a
column a row leaves out reads as ""), ``phone_last4`` and ``language``; any other name is an
error (``StrictUndefined``), found when the campaign is created (``check``). Lines are
stripped and blank ones dropped: each line of the template is a line of the text.

``replies.json`` maps what people answer to the answer stored (``{"1": "confirmed", "是":
"confirmed"}``); replies and keys are compared in ``text.fold`` form, so "１", " 1." and "1"
are one reply. A key may not be a keyword the SMS channel keeps for itself (STOP, YES, HELP,
CANCEL, 退订, ...: ``messaging.keywords``): those never reach a campaign (Twilio answers YES
and STOP itself on long codes).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from chalicelib.messaging import keywords
from chalicelib.prompts import DEFAULT_LANGUAGE, TEMPLATES_DIR
from chalicelib.reminders.money import FILTERS
from chalicelib.text import fold

CAMPAIGN_TEMPLATES = TEMPLATES_DIR / "campaigns"
NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")  # a folder name, never a path
REPLIES_FILE = "replies.json"


class Attributes(dict):
    """A contact's free columns: one the row does not have reads as ""."""

    def __missing__(self, key: str) -> str:
        return ""


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(CAMPAIGN_TEMPLATES)),
        autoescape=False,  # plain text, never HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)  # money, spoken_money, long_date
    return env


def _folder(name: str) -> Path:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"template: {name!r} is not a template name (a-z, 0-9, _)")
    return CAMPAIGN_TEMPLATES / name


def languages(name: str) -> tuple[str, ...]:
    """The languages ``name`` is written in (ValueError for a bad name; () when unknown)."""
    folder = _folder(name)
    return tuple(sorted(p.stem for p in folder.glob("*.j2"))) if folder.is_dir() else ()


def language_for(name: str, wanted: str | None, fallback: str) -> str:
    """The language to write ``name`` in for someone who reads ``wanted``: that one, else one
    of the same language (``zh`` -> ``zh-CN``), else ``fallback`` (the campaign's), else
    English, else any. ValueError when the template does not exist."""
    written = languages(name)
    if not written:
        raise ValueError(f"template: no campaign template {name!r}")
    primary = (wanted or "").split("-")[0].lower()
    for language in (wanted, *[w for w in written if w.split("-")[0].lower() == primary],
                     fallback, DEFAULT_LANGUAGE):
        if language in written:
            return language
    return written[0]


def render(name: str, language: str, context: dict[str, Any]) -> str:
    """The text of ``name`` in ``language`` (one of ``languages(name)``) with ``context``:
    lines stripped, blank lines dropped. jinja2's TemplateError when it does not render."""
    raw = _environment().get_template(f"{name}/{language}.j2").render(**context)
    return "\n".join(line.strip() for line in raw.splitlines() if line.strip())


@lru_cache(maxsize=64)
def replies(name: str) -> dict[str, str]:
    """The template's reply choices, keys folded (``{}`` when it has none). ValueError naming
    the problem for a sidecar that is not a JSON object of text to text, or that claims a
    keyword the SMS channel keeps."""
    path = _folder(name) / REPLIES_FILE
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"template: {name}/{REPLIES_FILE} is not JSON: {exc}") from None
    if not isinstance(document, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and fold(k) and v
            for k, v in document.items()):
        raise ValueError(f"template: {name}/{REPLIES_FILE} maps replies to answers (text)")
    choices: dict[str, str] = {}
    for reply, answer in document.items():
        if keywords.classify(reply).intent is not keywords.Intent.OTHER:
            raise ValueError(f"template: {name}/{REPLIES_FILE}: {reply!r} is a keyword the "
                             "SMS channel keeps (opt-out, opt-in, help, cancel)")
        choices[fold(reply)] = answer
    return choices


def choice_of(name: str, body: str) -> str | None:
    """The answer a reply ``body`` gives to template ``name``, or None (free text)."""
    return replies(name).get(fold(body))


def check(name: str, fallback: str) -> None:
    """ValueError naming the problem unless ``name`` exists in ``fallback`` (the campaign's
    language, what anyone else gets) and its reply choices are sound."""
    written = languages(name)
    if not written:
        raise ValueError(f"template: no campaign template {name!r}")
    if fallback not in written:
        raise ValueError(f"template: {name!r} is not written in {fallback} "
                         f"(only {', '.join(written)})")
    replies(name)
