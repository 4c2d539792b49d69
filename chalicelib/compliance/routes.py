"""The compliance API: check a number against the gate, keep the do-not-call list (a CSV of
them imports with the contact lists: ``campaigns/routes.py``) and the consent ledger. Admin
routes, signed in like the other admin APIs (README: Sign-in and API keys)."""

from __future__ import annotations

from urllib.parse import unquote

from chalice import Blueprint

from chalicelib.api_errors import json_answer
from chalicelib.api_input import json_object
from chalicelib.compliance import api
from chalicelib.wiring import root

compliance_api = Blueprint(__name__)


@compliance_api.route("/compliance/check", methods=["GET"])
def compliance_check():
    query = compliance_api.current_request.query_params
    return json_answer(lambda: api.check(root().compliance, query))


@compliance_api.route("/dnc", methods=["POST"])
def add_do_not_call():
    raw = compliance_api.current_request.raw_body
    return json_answer(lambda: api.add_do_not_call(json_object(raw), root().now()), status=201)


@compliance_api.route("/dnc/{number}", methods=["DELETE"])
def remove_do_not_call(number):
    return json_answer(lambda: api.remove_do_not_call(unquote(number)))


@compliance_api.route("/consents", methods=["POST"])
def record_consent():
    raw = compliance_api.current_request.raw_body
    return json_answer(lambda: api.record_consent(json_object(raw), root().now()), status=201)


@compliance_api.route("/consents/{number}", methods=["DELETE"])
def revoke_consent(number):
    query = compliance_api.current_request.query_params
    return json_answer(lambda: api.revoke_consent(unquote(number), query, root().now()))
