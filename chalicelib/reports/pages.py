"""The report pages: one HTML page per report kind (``PAGE_KINDS``), in English or Chinese, that
draws the report as charts with Chart.js, bundled with the app (``static/chart.umd.js``, copied
from the pinned npm package by ``make bundle``; never a CDN).

The page carries no figures. Its script (``page/<kind>.js``, inlined) fetches the report's JSON
from ``GET /reports/{kind}`` on the same origin, sending the API key the user types (kept in the
tab's ``sessionStorage`` only), then draws the charts and tables; under ``chalice local`` no key
is checked. Ticked "live", it asks again every 30 s and moves the charts in place. Every text is
in ``page/strings.json`` (``en``, ``zh``); numbers are formatted in the page by the browser for
``en-US`` or ``zh-CN``. Without the bundled library the page still shows the tables and says
the charts are unavailable.

``render(kind, query) -> str`` raises ``NotFound`` for a kind without a page; query parameters
that are not the kind's (``KIND_PARAMS``) or not well formed (``PARAMS``) are left out (the
report API would refuse them). The page's form is ``page/<kind>_form.html``, its charts and
tables ``page/<kind>_body.html``; the agents and staffing scripts share ``page/common.js``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from chalicelib.api_errors import NotFound
from chalicelib.api_input import ID_PATTERN

PAGE_DIR = Path(__file__).parent / "page"
CHART_JS = Path(__file__).parent / "static" / "chart.umd.js"
PAGE_KINDS = {"queues": "queue", "agents": "agent", "staffing": "queue"}  # kind -> its target
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}
PARAMS = {
    "from": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "to": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "interval": re.compile(r"day|half-hour"),
    "queue": re.compile(ID_PATTERN),
    "agent": re.compile(ID_PATTERN),
    "target_sl": re.compile(r"0?\.\d{1,4}"),
    "answer_within": re.compile(r"\d{1,4}(\.\d{1,2})?"),
    "shrinkage": re.compile(r"0?\.\d{1,4}|0"),
    "patience": re.compile(r"\d{1,5}(\.\d{1,2})?"),
}
KIND_PARAMS = {  # the query parameters each page takes (and passes on to its report)
    "queues": ("from", "to", "interval", "queue"),
    "agents": ("from", "to", "interval", "agent"),
    "staffing": ("queue", "from", "target_sl", "answer_within", "shrinkage", "patience"),
}
SHARED_SCRIPT = {"agents": "common.js", "staffing": "common.js"}
_VERSION = re.compile(rb"Chart\.js v([0-9][0-9A-Za-z.+-]{0,30})")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(PAGE_DIR), autoescape=True)


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    """``{"en": {name: text}, "zh": {...}}``: every text the pages show."""
    return json.loads((PAGE_DIR / "strings.json").read_text(encoding="utf-8"))


def chart_library() -> str | None:
    """The bundled Chart.js (UMD build, licence header kept), or None when not bundled."""
    try:
        return CHART_JS.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def chart_version() -> str | None:
    """The bundled Chart.js's version, from its licence header (the page's cache buster)."""
    try:
        with CHART_JS.open("rb") as library:
            found = _VERSION.search(library.read(300))
    except FileNotFoundError:
        return None
    return found.group(1).decode() if found else None


def render(kind: str, query: Mapping[str, str]) -> str:
    """The page of ``kind`` as HTML, in ``query["lang"]`` (``en`` unless ``zh``)."""
    if kind not in PAGE_KINDS:
        raise NotFound("report page", kind)
    lang = "zh" if query.get("lang") == "zh" else "en"
    params = {name: value for name, value in query.items()
              if name in KIND_PARAMS[kind] and PARAMS[name].fullmatch(value or "")}
    config = {"kind": kind, "target": PAGE_KINDS[kind], "params": params, "lang": lang,
              "locale": LANGUAGES[lang], "strings": strings()[lang]}
    return _environment().get_template("report.html").render(
        t=strings()[lang], lang=lang, locale=LANGUAGES[lang], kind=kind, params=params,
        config=config, chart_version=chart_version(), script=_script(kind))


@lru_cache(maxsize=4)
def _script(kind: str) -> str:
    """The page's script, inlined as it is (not a template: ``{#`` is fine in JavaScript)."""
    parts = [SHARED_SCRIPT[kind]] if kind in SHARED_SCRIPT else []
    script = "\n".join((PAGE_DIR / name).read_text(encoding="utf-8")
                       for name in [*parts, f"{kind}.js"])
    if "</script" in script.lower():
        raise ValueError(f"page/{kind}.js: '</script' would end the inline script")
    return script
