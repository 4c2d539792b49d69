"""The tickets admin API: customers' texts that no agent could take, as JSON.

Like the routing admin API, every route is an admin route (``console.routes.sign_in_guard``),
and the ticket logic, with PynamoDB, loads on the first request rather than at the app's cold
start. Time comes from the composition root's one clock (``wiring.root().now()``),
so tests can simulate it.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api_errors import json_answer
from chalicelib.api_input import path_id
from chalicelib.messaging import tickets
from chalicelib.wiring import root

messaging_api = Blueprint(__name__)


def _answer(action) -> Response:
    """Run ``action(tickets)``; its result or its error becomes the JSON response."""
    return json_answer(lambda: action(tickets))


def _now():
    return root().now()


@messaging_api.route("/tickets", methods=["GET"])
def list_tickets():
    query = messaging_api.current_request.query_params
    return _answer(lambda tickets: tickets.list_tickets(query))


@messaging_api.route("/tickets/{ticket_id}", methods=["GET"])
def get_ticket(ticket_id):
    return _answer(lambda tickets: tickets.get_ticket(path_id(ticket_id, "ticket_id", "ticket")))


@messaging_api.route("/tickets/{ticket_id}/close", methods=["POST"])
def close_ticket(ticket_id):
    return _answer(lambda tickets: tickets.close_ticket(
        path_id(ticket_id, "ticket_id", "ticket"), _now()))
