"""The console's routes, and the guard every admin route passes.

* ``POST /console/session`` ``{"username", "password"}`` signs in: 200 ``{"token",
  "expires_at", "user": {"username", "name", "role", "agent_id", "queues"}}``, 401 for a wrong
  pair. ``GET /console/session`` answers who the bearer is (any signed-in user).
* ``GET /console`` (sign in), ``/console/{page}`` (``desk``, ``board``, ``campaigns``) and
  ``/console/static/{name}``: the pages and their scripts (``console.pages``). Public: they hold
  no data.
* :func:`sign_in_guard` (registered by ``app.py`` as HTTP middleware): every admin route
  (``access.needs_principal``) needs a console session (``Authorization: Bearer``) or a machine
  client's API key (``x-api-key``), and passes its route's rule (``access.rule_for``): 401
  ``{"error", "code": "sign_in_required"|"session_expired"}`` or 403 ``{"error", "code":
  "forbidden"}``. The principal is left in the request's ``context["principal"]``, and the
  queues a supervisor's answers are cut to in ``context["visible_queues"]`` (None: all).
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api_errors import InvalidRequest, NotFound, json_answer
from chalicelib.api_input import json_object
from chalicelib.console import access, pages
from chalicelib.wiring import root

if TYPE_CHECKING:
    from chalicelib.console.sign_in import Authority

console_api = Blueprint(__name__)
log = logging.getLogger(__name__)
_authority: tuple[object, Authority] | None = None
HTML: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY"}


def authority() -> Authority:
    """The stage's sign-in, made once per settings object (tests swap the settings). Loaded
    with the first admin request: Twilio's webhooks never pay for PyJWT and cryptography at a
    cold start."""
    from chalicelib.console.cognito import password_sign_in
    from chalicelib.console.sign_in import Authority

    global _authority
    settings = root().settings
    if _authority is None or _authority[0] is not settings:
        _authority = (settings, Authority(settings, password_sign_in(settings.aws_region)))
    return _authority[1]


def _hashed(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()[:12]


def _refuse(status: int, message: str, code: str) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="switchboard"'
    return Response(body={"error": message, "code": code}, status_code=status, headers=headers)


def _queues_of_agent(agent_id: str) -> set[str]:
    from chalicelib.routing import admin  # loaded with the first supervisor check only

    try:
        return set(admin.get_agent(agent_id, root().now()).get("queues") or ())
    except NotFound:
        return set()


def sign_in_guard(event, get_response):
    """HTTP middleware: sign-in and roles for every admin route (see the module's text)."""
    if not access.needs_principal(event.method, event.path):
        return get_response(event)
    from chalicelib.console.tokens import InvalidToken

    try:
        principal = authority().authenticate(event.headers, root().now())
    except InvalidToken as exc:
        return _refuse(401, str(exc), "session_expired" if exc.expired else "sign_in_required")
    try:
        access.check(principal, access.rule_for(event.method, event.path),
                     event.uri_params or {}, _queues_of_agent)
    except access.Denied as exc:
        if principal is not None:
            log.info("refused %s %s to %s (%s)", event.method, event.path,
                     _hashed(principal.subject), principal.role)
        code = "forbidden" if exc.status == 403 else "sign_in_required"
        return _refuse(exc.status, str(exc), code)
    event.context["principal"] = principal
    # what a supervisor's answers are cut to (None: everything), for the routes that list
    event.context["visible_queues"] = access.visible_queues(principal)
    return get_response(event)


def principal_of(request):
    """The principal the guard left on a request (None outside the guard: a public route)."""
    return (request.context or {}).get("principal")


def _text(body: dict, field: str, longest: int) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value or len(value) > longest:
        raise InvalidRequest(field, f"a text of 1 to {longest} characters")
    return value


@console_api.route("/console/session", methods=["POST"])
def sign_in():
    from chalicelib.console.sign_in import BadCredentials

    request = console_api.current_request

    def answer() -> dict:
        body = json_object(request.raw_body)
        username, password = _text(body, "username", 128), _text(body, "password", 256)
        return authority().sign_in(username, password, root().now()).public()

    try:
        return json_answer(answer)
    except BadCredentials as exc:
        return _refuse(401, str(exc), "bad_credentials")


@console_api.route("/console/session", methods=["GET"])
def who_am_i():
    principal = principal_of(console_api.current_request)
    return {"user": principal.public() if principal else None}


def _page(name: str) -> Response:
    request = console_api.current_request
    lang = pages.language(dict(request.query_params or {}), request.headers.get("accept-language"))
    try:
        return Response(body=pages.render(name, lang), status_code=200, headers=HTML)
    except NotFound as exc:
        return Response(body={"error": str(exc)}, status_code=404,
                        headers={"Content-Type": "application/json"})


@console_api.route("/console", methods=["GET"])
def sign_in_page():
    return _page("sign-in")


@console_api.route("/console/{page}", methods=["GET"])
def console_page(page):
    return _page(page)


@console_api.route("/console/static/{name}", methods=["GET"])
def console_static(name):
    found = pages.static_file(name)
    if found is None:
        return Response(body={"error": f"no console file '{name}'"}, status_code=404,
                        headers={"Content-Type": "application/json"})
    body, content_type = found  # text: scripts and styles (a binary type would need base64)
    # scripts change with a deploy; a short cache keeps a tab's reloads cheap and fresh
    return Response(body=body.decode("utf-8"), status_code=200, headers={
        "Content-Type": content_type, "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff"})
