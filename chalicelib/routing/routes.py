"""The routing admin API: agents, queues, the wallboard and the agent's screen pop, as JSON.

Every route is an admin route: ``console.routes.sign_in_guard`` lets through a console session
(``Authorization: Bearer``) or a machine client's API key (``x-api-key``) whose role the route's
rule allows (``console.access``: an agent their own desk, a supervisor their queues), before the
handler runs. On a laptop (stage ``local``) a request with neither is an admin's, as before.

Each route parses the request and calls one function of ``routing.admin``, whose errors become
400 (``InvalidRequest``, with the ``field``), 404 (``NotFound``) and 409 (``Conflict``), each as
``{"error": "..."}``. The request itself is checked first by ``api_input``: the body (one JSON
object, at most 64 KB, else 413), the ids in the path (one no agent or queue can have is 404
before any read) and the query's numbers. The admin module, and with it PynamoDB and
phonenumbers, loads on the first API request, so Twilio's webhooks do not pay for it at cold
start (see ``make bench``). The time comes from the routing service's clock, so a simulated clock
governs dispatch and the board alike.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api_errors import json_answer
from chalicelib.api_input import json_object, path_id, query_int
from chalicelib.routing import admin, softphone
from chalicelib.wiring import root

routing_api = Blueprint(__name__)


def _answer(action, status: int = 200) -> Response:
    """Run ``action(admin)``; its result or its error becomes the JSON response."""
    return json_answer(lambda: action(admin), status)


def _body(admin) -> dict:
    return json_object(routing_api.current_request.raw_body)


def _agent(agent_id: str) -> str:
    return path_id(agent_id, "agent_id", "agent")


def _queue(queue_id: str) -> str:
    return path_id(queue_id, "queue_id", "queue")


def _now():
    return root().now()


def _visible() -> frozenset[str] | None:
    """The queues the caller's answers are cut to (a supervisor's); None: all (admins)."""
    # the sign-in guard leaves the queues a supervisor's answers are cut to (None: all)
    return (routing_api.current_request.context or {}).get("visible_queues")


def _available(agent_id: str) -> None:
    root().routing.agent_became_available(agent_id)


@routing_api.route("/agents", methods=["POST"])
def create_agent():
    return _answer(lambda admin: admin.create_agent(_body(admin), _now()), status=201)


@routing_api.route("/agents", methods=["GET"])
def list_agents():
    return _answer(lambda admin: admin.list_agents(_now(), _visible()))


@routing_api.route("/agents/{agent_id}", methods=["GET"])
def get_agent(agent_id):
    return _answer(lambda admin: admin.get_agent(_agent(agent_id), _now()))


@routing_api.route("/agents/{agent_id}", methods=["PUT"])
def update_agent(agent_id):
    return _answer(lambda admin: admin.update_agent(_agent(agent_id), _body(admin), _now()))


@routing_api.route("/agents/{agent_id}/state", methods=["POST"])
def change_agent_state(agent_id):
    return _answer(lambda admin: admin.change_state(_agent(agent_id), _body(admin), _now(),
                                                      _available))


@routing_api.route("/agents/{agent_id}/transfer", methods=["POST"])
def transfer_call(agent_id):
    """Transfer the agent's caller: ``{"to": "queue"|"agent"|"number", "target": ...,
    "mode": "cold"|"warm"}``; a warm one is finished with ``.../transfer/complete|cancel``."""
    return _answer(lambda admin: admin.transfer(_agent(agent_id), _body(admin), root().routing))


@routing_api.route("/agents/{agent_id}/transfer/{step}", methods=["POST"])
def finish_warm_transfer(agent_id, step):
    return _answer(lambda admin: admin.finish_warm_transfer(_agent(agent_id), step,
                                                               root().routing))


@routing_api.route("/agents/{agent_id}/hold", methods=["POST", "DELETE"])
def hold_call(agent_id):
    """POST puts the agent's caller on hold music; DELETE brings them back."""
    on = routing_api.current_request.method == "POST"
    return _answer(lambda admin: admin.hold_call(_agent(agent_id), on, root().routing))


@routing_api.route("/agents/{agent_id}/monitor", methods=["POST", "DELETE"])
def monitor_call(agent_id):
    """POST ``{"mode": "listen"|"whisper"|"barge", "endpoint"}`` puts a supervisor on the
    agent's call (or changes the mode); DELETE ends the supervisor's leg."""
    on = routing_api.current_request.method == "POST"
    return _answer(lambda admin: admin.monitor_call(_agent(agent_id),
                                                    _body(admin) if on else None,
                                                    root().routing))


@routing_api.route("/agents/{agent_id}/disposition", methods=["POST"])
def set_disposition(agent_id):
    """What became of the agent's call: ``{"code", "call_sid"?, "note"?}`` (wrap-up)."""
    return _answer(lambda admin: admin.set_disposition(_agent(agent_id), _body(admin), _now()))


@routing_api.route("/agents/{agent_id}/voice-token", methods=["POST"])
def voice_token(agent_id):
    """An access token for the agent's browser softphone (Twilio Voice JavaScript SDK)."""
    return _answer(lambda _: softphone.voice_token(_agent(agent_id), root().settings, _now()))


@routing_api.route("/agents/{agent_id}/history", methods=["GET"])
def agent_history(agent_id):
    query = routing_api.current_request.query_params
    return _answer(lambda admin: admin.agent_history(
        _agent(agent_id), query_int(query, "limit", default=50, low=1, high=500)))


@routing_api.route("/agents/{agent_id}/context", methods=["GET"])
def agent_context(agent_id):
    return _answer(lambda admin: admin.agent_context(_agent(agent_id), _now(),
                                                     root().account_on_screen))


@routing_api.route("/queues", methods=["POST"])
def create_queue():
    return _answer(lambda admin: admin.create_queue(_body(admin), _now()), status=201)


@routing_api.route("/queues", methods=["GET"])
def list_queues():
    return _answer(lambda admin: admin.list_queues(_visible()))


@routing_api.route("/queues/{queue_id}", methods=["GET"])
def get_queue(queue_id):
    return _answer(lambda admin: admin.get_queue(_queue(queue_id)))


@routing_api.route("/queues/{queue_id}", methods=["PUT"])
def update_queue(queue_id):
    return _answer(lambda admin: admin.update_queue(_queue(queue_id), _body(admin), _now()))


@routing_api.route("/queues/{queue_id}/board", methods=["GET"])
def queue_board(queue_id):
    return _answer(lambda admin: admin.queue_board(_queue(queue_id), _now()))


@routing_api.route("/board", methods=["GET"])
def board():
    """Every queue's board; a supervisor's has only their queues."""
    return _answer(lambda admin: admin.board(_now(), _visible()))
