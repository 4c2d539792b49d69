"""The report pages: one HTML page per report kind (``PAGE_KINDS``: ``queues``, ``agents``,
``staffing``, ``ivr``, ``campaigns``, ``opt-outs``, ``repeat-callers``, ``missed``), in English
or Chinese, that draws the report as charts with Chart.js, bundled with the app
(``static/chart.umd.js``, copied from the pinned npm package by ``make bundle``; never a CDN).

The page carries no figures. Its script (``page/common.js`` then ``page/<kind>.js``, inlined)
fetches the report's JSON from ``GET /reports/{kind}`` on the same origin, sending the API key
the user types (kept in the tab's ``sessionStorage`` only), following the answer's ``next``
pages when it has them (their ``rows``, ``totals`` and the kind's other lists put end to end),
then draws the charts and tables; under ``chalice local`` no key is checked. Ticked "live", it
asks again every 30 s and moves the charts in place. Every text is in ``page/strings.json``
(``en``, ``zh``: the same keys); numbers are formatted in the page by the browser for ``en-US``
or ``zh-CN``. Without the bundled library the page still shows the tables and says the charts
are unavailable. An empty From or To is filled with the range the report answered.

What each page draws: queues — calls over time (line), service level and abandon rate (bar),
answered against abandoned (pie), callbacks per queue (bar); agents — handled (bar), time per
state (stacked bar), occupancy (line); staffing — forecast calls (bar), agents needed and
scheduled (line); ivr — each flow's funnel, reached and left per node (bar), contained against
handed to a person (pie), calls over time (line); campaigns — dials, live answers and abandoned
per campaign (bar), abandon rate by day (line); opt-outs — opt-outs by channel (pie), opt-outs
and opt-ins by day (line); repeat-callers — calls of the top repeat numbers (bar), first-contact
resolution (a figure); missed — missed and followed up by day (line), mean follow-up time per
hotline (bar). Each has its tables.

``render(kind, query) -> str`` raises ``NotFound`` for a kind without a page; query parameters
that are not the kind's (``KIND_PARAMS``) or not well formed (``PARAMS``) are left out (the
report API would refuse them); a hotline's ``+`` sent unencoded (a space) is put back. The
page's form is ``page/<kind>_form.html``, its charts and tables ``page/<kind>_body.html``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from chalicelib.api_errors import NotFound
from chalicelib.api_input import ID_PATTERN, PATH_PATTERNS

PAGE_DIR = Path(__file__).parent / "page"
CHART_JS = Path(__file__).parent / "static" / "chart.umd.js"
PAGE_KINDS = {"queues": "queue", "agents": "agent", "staffing": "queue", "ivr": "flow",
              "campaigns": "campaign", "opt-outs": "channel", "repeat-callers": "hotline",
              "missed": "hotline"}  # kind -> its target (the report module's TARGET)
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
    "flow": re.compile(PATH_PATTERNS["flow_id"]),
    "campaign": re.compile(PATH_PATTERNS["campaign_id"]),
    "channel": re.compile(PATH_PATTERNS["channel_id"]),
    "hotline": re.compile(r"[+ ]?[0-9]{3,15}"),  # E.164; a "+" typed unencoded arrives as " "
    "times": re.compile(r"[0-9]{1,4}"),
    "days": re.compile(r"[0-9]{1,2}"),
}
KIND_PARAMS = {  # the query parameters each page takes (and passes on to its report)
    "queues": ("from", "to", "interval", "queue"),
    "agents": ("from", "to", "interval", "agent"),
    "staffing": ("queue", "from", "target_sl", "answer_within", "shrinkage", "patience"),
    "ivr": ("from", "to", "interval", "flow"),
    "campaigns": ("from", "to", "campaign"),
    "opt-outs": ("from", "to", "channel"),
    "repeat-callers": ("hotline", "from", "to", "times", "days"),
    "missed": ("from", "to", "hotline"),
}
SHARED_SCRIPT = dict.fromkeys(PAGE_KINDS, "common.js")  # every page's script starts with it
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
    params = {name: "+" + value[1:] if value.startswith(" ") else value
              for name, value in query.items()
              if name in KIND_PARAMS[kind] and PARAMS[name].fullmatch(value or "")}
    config = {"kind": kind, "target": PAGE_KINDS[kind], "params": params, "lang": lang,
              "locale": LANGUAGES[lang], "strings": strings()[lang]}
    return _environment().get_template("report.html").render(
        t=strings()[lang], lang=lang, locale=LANGUAGES[lang], kind=kind, params=params,
        config=config, chart_version=chart_version(), script=_script(kind))


@lru_cache(maxsize=len(PAGE_KINDS))
def _script(kind: str) -> str:
    """The page's script, inlined as it is (not a template: ``{#`` is fine in JavaScript)."""
    parts = [SHARED_SCRIPT[kind]] if kind in SHARED_SCRIPT else []
    script = "\n".join((PAGE_DIR / name).read_text(encoding="utf-8")
                       for name in [*parts, f"{kind}.js"])
    if "</script" in script.lower():
        raise ValueError(f"page/{kind}.js: '</script' would end the inline script")
    return script
