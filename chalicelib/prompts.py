"""System prompts: what Switchboard itself says when no flow is speaking (unknown number,
fallback after a failure). Like every prompt they are Jinja2 templates, one folder per language
under ``chalicelib/templates``; a missing language falls back to English."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, TemplateNotFound, select_autoescape

from chalicelib.reminders.money import FILTERS

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_LANGUAGE = "en-US"

# Voice and TwiML language used for system prompts in each language.
VOICES = {
    "en-US": ("Polly.Joanna", "en-US"),
    "zh-CN": ("Polly.Zhiyu", "cmn-CN"),
}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(default=False),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)  # money, spoken_money, long_date
    return env


def render_prompt(name: str, language: str | None = None, **context) -> tuple[str, str, str]:
    """Return (text, voice, twiml_language) for a system prompt."""
    language = language if language in VOICES else DEFAULT_LANGUAGE
    try:
        template = _environment().get_template(f"{language}/{name}.j2")
    except TemplateNotFound:
        language = DEFAULT_LANGUAGE
        template = _environment().get_template(f"{language}/{name}.j2")
    text = " ".join(template.render(**context).split())
    voice, twiml_language = VOICES[language]
    return text, voice, twiml_language
