"""The reminder batches API: preview or send a batch to a segment of accounts, remind one
account, a batch's progress and results, its results as CSV. Admin routes,
signed in like the other admin APIs (``console.routes``; README: Payment reminders). The work is
``reminders.batches``'s."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api_errors import InvalidRequest, json_answer
from chalicelib.api_input import json_object, path_id, query_dates, query_int
from chalicelib.reminders import batches, results
from chalicelib.wiring import root

reminders_api = Blueprint(__name__)
MAX_PAID_DAYS = 365


def _batch_id(value: str) -> str:
    return path_id(value, "campaign_id", "reminder batch")


def _flag(query: dict, name: str) -> bool:
    value = query.get(name, "false")
    if value not in ("true", "false"):
        raise InvalidRequest(name, "must be true or false")
    return value == "true"


@reminders_api.route("/reminder-batches", methods=["POST"])
def post_batch():
    request = reminders_api.current_request
    query = dict(request.query_params or {})
    outcome: dict = {}

    def create():
        preview = _flag(query, "preview")
        body = batches.preview_or_send(json_object(request.raw_body), root().now(), preview)
        outcome["created"] = "batch_id" in body and not body.get("repeated")
        return body

    return _created(json_answer(create), outcome)


def _csv(answer, filename: str):
    """A CSV download of a ``json_answer`` whose body is the CSV text (errors stay JSON)."""
    if answer.status_code != 200:
        return answer
    return Response(body=answer.body, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"'})


def _created(answer, outcome: dict):
    """201 for a batch made now; 200 for a preview or the same ``request_id`` again."""
    if outcome.get("created") and answer.status_code == 200:
        answer.status_code = 201
    return answer


@reminders_api.route("/reminders", methods=["POST"])
def post_reminder():
    raw = reminders_api.current_request.raw_body
    outcome: dict = {}

    def remind():
        body = batches.remind_one(json_object(raw), root().now())
        outcome["created"] = not body.get("repeated")
        return body

    return _created(json_answer(remind), outcome)


@reminders_api.route("/reminder-batches/{batch_id}", methods=["GET"])
def batch_report(batch_id):
    query = dict(reminders_api.current_request.query_params or {})
    return json_answer(lambda: results.batch_report(
        _batch_id(batch_id), root().now(),
        query_int(query, "paid_within_days", default=7, low=1, high=MAX_PAID_DAYS)))


@reminders_api.route("/reminder-batches/{batch_id}/results", methods=["GET"])
def batch_results(batch_id):
    answer = json_answer(lambda: results.results_csv(_batch_id(batch_id)))
    return _csv(answer, f"{batch_id}-results.csv")


@reminders_api.route("/reminder-policies", methods=["GET"])
def list_policies():
    return json_answer(lambda: {"policies": results.policies_view()})


@reminders_api.route("/reminder-policies/{policy_id}/results", methods=["GET"])
def policy_results(policy_id):
    """``?from=&to=`` (dates, default the last 30 days), ``paid_within_days``,
    ``format=json|csv``."""
    query = dict(reminders_api.current_request.query_params or {})
    fmt = query.get("format", "json")

    def report():
        if fmt not in ("json", "csv"):
            raise InvalidRequest("format", "must be json or csv")
        since, until = query_dates(query, root().now().date())
        policy = path_id(policy_id, "policy_id", "reminder policy")
        days = query_int(query, "paid_within_days", default=7, low=1, high=MAX_PAID_DAYS)
        make = results.policy_csv if fmt == "csv" else results.policy_report
        return make(policy, since, until, root().now(), days)

    answer = json_answer(report)
    return _csv(answer, f"{policy_id}-results.csv") if fmt == "csv" else answer
