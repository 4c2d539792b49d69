"""The public callback API and the embeddable widget.

No API key: a web visitor has none. ``POST /callbacks`` is guarded by the abuse controls in
``callbacks.web``; ``GET``/``DELETE /callbacks/{id}`` by the id itself (144 random bits, known
only to whoever asked). Browsers get CORS headers for the allowed origins
(``CALLBACK_ALLOWED_ORIGINS`` plus the API's own); a request whose ``Origin`` is not allowed is
refused with 403 before anything else happens.

``GET /callbacks/widget.js`` is the widget itself, ``GET /callbacks/widget`` a preview page that
embeds it (and, with ``?id=``, shows one request's status with a cancel button: the link in the
confirmation text leads there). The files ship in ``chalicelib/callbacks/widget/``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from chalice import Blueprint, Response
from jinja2 import Environment

from chalicelib.callbacks import web
from chalicelib.settings import get_settings
from chalicelib.wiring import root

log = logging.getLogger(__name__)
callbacks_api = Blueprint(__name__)

FORM_OR_JSON = ["application/json", "application/x-www-form-urlencoded"]
WIDGET_DIR = Path(__file__).parent / "widget"
CORS_METHODS = "GET, POST, DELETE, OPTIONS"
PREVIEW_PARAMS = {
    "queue": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"),
    "language": re.compile(r"en-US|zh-CN"),
    "hotline": re.compile(r"\+?[0-9]{3,15}"),
    "topics": re.compile(r"[\w .,:-]{1,300}"),
    "id": re.compile(r"cb_[A-Za-z0-9_-]{8,60}"),
}


def _now():
    return root().now()


def _json(status: int, body: dict, origin: str | None, headers: dict | None = None) -> Response:
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store",
               **(headers or {})}
    if origin:
        headers.update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
    return Response(body=body, status_code=status, headers=headers)


def _answer(action, status: int = 200) -> Response:
    """Check the origin, run ``action(web, settings)``, map its result or error to JSON."""
    settings = get_settings()
    request = callbacks_api.current_request
    try:
        origin = web.check_origin(request.headers.get("origin"), settings)
    except web.OriginRefused:
        return _json(403, {"error": "origin_not_allowed",
                           "message": "This page may not use the callback service."}, None)
    try:
        return _json(status, action(web, settings), origin)
    except web.Invalid as exc:
        return _json(400, exc.body(), origin)
    except web.Duplicate as exc:
        return _json(409, {"error": "already_requested", "id": exc.existing_id,
                           **web.urls(exc.existing_id, settings),
                           "message": "You already asked for a callback; we will call you."},
                     origin)
    except web.OnTheLine:
        return _json(409, {"error": "already_in_line",
                           "message": "This number is waiting in line on a call right now: "
                                      "stay on the line and an agent will answer."}, origin)
    except web.RateLimited as exc:
        return _json(429, {"error": "rate_limited", "scope": exc.scope,
                           "message": "Too many requests; try again later."}, origin,
                     {"Retry-After": str(exc.retry_after)})
    except web.NotFound:
        return _json(404, {"error": "not_found", "message": "No such callback request."}, origin)
    except web.CannotCancel as exc:
        return _json(409, {"error": "not_cancellable", "status": exc.status,
                           "message": f"The callback is already {exc.status}."}, origin)


def _client_ip() -> str:
    context = callbacks_api.current_request.context or {}
    return (context.get("identity") or {}).get("sourceIp") or "unknown"


def _preflight() -> Response:
    response = _answer(lambda web, settings: {}, status=204)
    if response.status_code == 204:
        response.body = ""
        response.headers.update({"Access-Control-Allow-Methods": CORS_METHODS,
                                 "Access-Control-Allow-Headers": "Content-Type",
                                 "Access-Control-Max-Age": "600"})
    return response


@callbacks_api.route("/callbacks", methods=["POST"], content_types=FORM_OR_JSON)
def create_callback():
    request = callbacks_api.current_request

    def submit(web, settings):
        form = web.parse_form(request.raw_body, request.headers.get("content-type"))
        view = web.submit(form, client_ip=_client_ip(), now=_now(), settings=settings,
                          gate=root().compliance)
        if view["status"] == "queued":
            _dispatch_now(view["queue"])
        return view

    return _answer(submit, status=202)


def _dispatch_now(queue_id: str) -> None:
    """A routing round right away: a free agent calls the visitor back without waiting for the
    every-minute job. Best effort; the job dials the request anyway."""
    try:
        root().routing.dispatch(queue_id)
    except Exception:  # noqa: BLE001 - the request is stored; the job will dial it
        log.exception("immediate dispatch of queue %s failed", queue_id)


@callbacks_api.route("/callbacks", methods=["OPTIONS"])
def callbacks_preflight():
    return _preflight()


@callbacks_api.route("/callbacks/{callback_id}", methods=["GET"])
def get_callback(callback_id):
    accept = callbacks_api.current_request.headers.get("accept") or ""
    if "text/html" in accept and PREVIEW_PARAMS["id"].fullmatch(callback_id):
        return _page({"id": callback_id})  # the link in the text, opened in a browser
    return _answer(lambda web, settings: web.status(callback_id, _now(), settings))


@callbacks_api.route("/callbacks/{callback_id}", methods=["DELETE"])
def cancel_callback(callback_id):
    return _answer(lambda web, settings: web.cancel(callback_id, _now(), settings))


@callbacks_api.route("/callbacks/{callback_id}", methods=["OPTIONS"])
def callback_preflight(callback_id):
    return _preflight()


@callbacks_api.route("/callbacks/widget.js", methods=["GET"])
def widget_js():
    return Response(body=_file("widget.js"), status_code=200, headers={
        "Content-Type": "application/javascript; charset=utf-8",
        "Cache-Control": "public, max-age=300",
        "Access-Control-Allow-Origin": "*",  # a script tag needs none; a module loader does
    })


@callbacks_api.route("/callbacks/widget", methods=["GET"])
def widget_preview():
    return _page(callbacks_api.current_request.query_params or {})


def _page(params: Mapping[str, str]) -> Response:
    """The preview page: the widget embedded as a customer's site would; query parameters
    (queue, topics, language, hotline, id) become its data attributes when well formed."""
    attributes = {key: value for key, value in params.items()
                  if key in PREVIEW_PARAMS and PREVIEW_PARAMS[key].fullmatch(value or "")}
    if not attributes.get("id") and not attributes.get("queue") and not attributes.get("topics"):
        attributes["queue"] = "support"
    html = Environment(autoescape=True).from_string(_file("preview.html")).render(
        attributes=attributes, base=get_settings().public_base_url)
    return Response(body=html, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


@lru_cache(maxsize=4)
def _file(name: str) -> str:
    return (WIDGET_DIR / name).read_text(encoding="utf-8")
