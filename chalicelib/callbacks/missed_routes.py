"""The missed-calls admin API, as JSON: list a hotline's missed calls, show one number's, resolve.

Like the routing admin API every route is an admin route (``console.routes.sign_in_guard``).
A record is
addressed by the hotline and the caller's number, digits only (``/missed-calls/14155550100/
8613800138000``; a leading ``+`` or ``%2B`` is accepted too), so ids are URL-safe and guessable
only by someone who already holds the API key. Errors: 400 naming the ``field``, 404 (also for a
path that is no number at all), 409, 413 for a body over 64 KB.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api_errors import json_answer
from chalicelib.api_input import path_id
from chalicelib.callbacks import missed
from chalicelib.wiring import root

missed_api = Blueprint(__name__)


def _answer(action, status: int = 200) -> Response:
    """Run ``action(missed)``; its result or its error becomes the JSON response."""
    return json_answer(lambda: action(missed), status)


def _numbers(hotline: str, number: str) -> tuple[str, str]:
    return path_id(hotline, "hotline", "hotline"), path_id(number, "number", "number")


def _now():
    return root().now()


@missed_api.route("/missed-calls", methods=["GET"])
def list_missed_calls():
    params = dict(missed_api.current_request.query_params or {})
    return _answer(lambda missed: missed.list_missed_calls(params))


@missed_api.route("/missed-calls/{hotline}/{number}", methods=["GET"])
def get_missed_call(hotline, number):
    return _answer(lambda missed: missed.get_missed_call(*_numbers(hotline, number)))


@missed_api.route("/missed-calls/{hotline}/{number}/resolve", methods=["POST"])
def resolve_missed_call(hotline, number):
    body = missed_api.current_request.raw_body
    return _answer(lambda missed: missed.resolve_missed_call(*_numbers(hotline, number), body,
                                                             _now()))
