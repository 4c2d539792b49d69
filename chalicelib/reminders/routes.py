"""The billing system's API: accounts (one by JSON, many by CSV chunks), an account's report,
payments and their reversal. Admin routes, signed in like the other admin APIs
(README: Accounts and payments). The work is ``reminders.accounts_api``'s."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api_errors import InvalidRequest, json_answer
from chalicelib.api_input import json_object, path_id, query_int
from chalicelib.reminders import accounts_api
from chalicelib.wiring import root

billing_api = Blueprint(__name__)
CSV_TYPES = ["text/csv", "text/plain", "application/octet-stream"]
MAX_CHUNK = 99_999


def _created(answer, created: bool):
    if created and answer.status_code == 200:
        answer.status_code = 201
    return answer


@billing_api.route("/accounts", methods=["POST"])
def save_account():
    raw = billing_api.current_request.raw_body
    outcome: dict = {}

    def save():
        body, outcome["created"] = accounts_api.save_account(json_object(raw), root().now())
        return body

    return _created(json_answer(save), outcome.get("created", False))


@billing_api.route("/accounts/import", methods=["POST"],
                   content_types=CSV_TYPES)
def import_accounts():
    request = billing_api.current_request
    query = dict(request.query_params or {})

    def add():
        if not query.get("chunk"):
            raise InvalidRequest("chunk", "is required: the chunk's number, from 0")
        chunk = query_int(query, "chunk", default=0, low=0, high=MAX_CHUNK)
        last = query.get("last", "false")
        if last not in ("true", "false"):
            raise InvalidRequest("last", "must be true or false")
        return accounts_api.import_chunk(chunk, request.raw_body, root().now(),
                                         last=last == "true")

    return json_answer(add)


@billing_api.route("/accounts/{account_id}", methods=["GET"])
def account_report(account_id):
    return json_answer(lambda: accounts_api.account_report(
        path_id(account_id, "account_id", "account"), root().now()))


@billing_api.route("/payments", methods=["POST"])
def post_payment():
    raw = billing_api.current_request.raw_body
    outcome: dict = {}

    def record():
        body, outcome["applied"] = accounts_api.post_payment(json_object(raw), root().now())
        return body

    return _created(json_answer(record), outcome.get("applied", False))


@billing_api.route("/payments/{payment_id}/reverse", methods=["POST"])
def reverse_payment(payment_id):
    return json_answer(lambda: accounts_api.reverse(
        path_id(payment_id, "payment_id", "payment"), root().now()))
