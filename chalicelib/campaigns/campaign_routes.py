"""The campaign admin API: create, list, report, start / pause / resume / stop, recycle, and
the results as CSV. Admin routes, signed in like the other admin APIs (README:
Campaigns). The work is ``campaigns.admin``'s."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api_errors import json_answer
from chalicelib.api_input import json_object, path_id
from chalicelib.campaigns import admin
from chalicelib.wiring import root

campaigns_api = Blueprint(__name__)


def _campaign_id(value: str) -> str:
    return path_id(value, "campaign_id", "campaign")


@campaigns_api.route("/campaigns", methods=["POST"])
def create_campaign():
    raw = campaigns_api.current_request.raw_body
    return json_answer(lambda: admin.create_campaign(json_object(raw), root().now()),
                       status=201)


@campaigns_api.route("/campaigns", methods=["GET"])
def list_campaigns():
    return json_answer(admin.list_campaigns)


@campaigns_api.route("/campaigns/{campaign_id}", methods=["GET"])
def campaign_report(campaign_id):
    return json_answer(lambda: admin.report(_campaign_id(campaign_id), root().now()))


def _lifecycle(campaign_id: str, action: str):
    return json_answer(lambda: admin.change_status(_campaign_id(campaign_id), action,
                                                   root().now()))


@campaigns_api.route("/campaigns/{campaign_id}/start", methods=["POST"])
def start_campaign(campaign_id):
    return _lifecycle(campaign_id, "start")


@campaigns_api.route("/campaigns/{campaign_id}/pause", methods=["POST"])
def pause_campaign(campaign_id):
    return _lifecycle(campaign_id, "pause")


@campaigns_api.route("/campaigns/{campaign_id}/resume", methods=["POST"])
def resume_campaign(campaign_id):
    return _lifecycle(campaign_id, "resume")


@campaigns_api.route("/campaigns/{campaign_id}/stop", methods=["POST"])
def stop_campaign(campaign_id):
    return _lifecycle(campaign_id, "stop")


@campaigns_api.route("/campaigns/{campaign_id}/recycle", methods=["POST"])
def recycle_contacts(campaign_id):
    raw = campaigns_api.current_request.raw_body
    return json_answer(lambda: admin.recycle(_campaign_id(campaign_id), json_object(raw),
                                             root().now()))


@campaigns_api.route("/campaigns/{campaign_id}/results", methods=["GET"])
def campaign_results(campaign_id):
    answer = json_answer(lambda: "".join(admin.results_csv(_campaign_id(campaign_id))))
    if answer.status_code != 200:
        return answer
    return Response(body=answer.body, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{campaign_id}-results.csv"'})
