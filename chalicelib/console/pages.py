"""The console's pages, served by the API itself: ``/console`` (sign in), ``/console/desk``
(the agent desk), ``/console/board`` (the supervisor's wallboard), ``/console/campaigns`` (the
campaign and reminder manager), in English or Chinese (``?lang=en|zh``; else the browser's
``Accept-Language``).

A page holds no data: its scripts (``page/session.js`` first, then ``page/<page>.js``) sign in
and fetch the admin API with the session's bearer token. Static files are the page scripts and
styles (``page/*.js``, ``page/*.css``) and third-party browser libraries bundled by
``make bundle`` into ``static/`` (the Twilio Voice SDK); never a CDN. Texts are in
``page/strings.json`` plus ``page/<page>.strings.json`` (``en`` and ``zh``, the same keys).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from chalicelib.api_errors import NotFound

PAGE_DIR = Path(__file__).parent / "page"
STATIC_DIR = Path(__file__).parent / "static"
PAGES = ("desk", "board", "campaigns")  # and the sign-in page, ``/console``
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}
TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,60}\.(js|css)")


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(str(PAGE_DIR)),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


@lru_cache(maxsize=8)
def strings(page: str, lang: str) -> dict:
    """The texts of ``page`` (``sign-in`` or one of PAGES) in ``lang``: the shared ones and
    the page's own."""
    texts = dict(json.loads((PAGE_DIR / "strings.json").read_text("utf-8"))[lang])
    own = PAGE_DIR / f"{page}.strings.json"
    if own.exists():
        texts.update(json.loads(own.read_text("utf-8"))[lang])
    return texts


def language(query: dict, accept_language: str | None) -> str:
    """``en`` or ``zh``: the query's ``lang``, else the browser's first choice we speak."""
    asked = (query.get("lang") or "").lower()
    if asked in LANGUAGES:
        return asked
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def render(page: str, lang: str) -> str:
    """The HTML of ``page`` (``sign-in`` or one of PAGES); NotFound for any other."""
    if page != "sign-in" and page not in PAGES:
        raise NotFound("console page", page)
    texts = strings(page, lang)
    return _templates().get_template(f"{page}.html").render(
        page=page, lang=lang, locale=LANGUAGES[lang], t=texts,
        strings_json=json.dumps(texts, ensure_ascii=False).replace("</", "<\\/"),
        pages=PAGES)


def static_file(name: str) -> tuple[bytes, str] | None:
    """``(body, content type)`` of a console script or style sheet, or of a bundled library;
    None for any other name (no paths: only a plain file name is looked up)."""
    if not _NAME.fullmatch(name):
        return None
    for folder in (PAGE_DIR, STATIC_DIR):
        path = folder / name
        if path.is_file():
            return path.read_bytes(), TYPES[path.suffix]
    return None
