"""The contact-list API: create a list, send its CSV in chunks, read its report, download the
rows refused; and our internal do-not-call lists, imported the same way. Admin routes, signed
in like the other admin APIs (README: Sign-in and API keys; Contact lists)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api_errors import InvalidRequest, json_answer
from chalicelib.api_input import json_object, path_id, query_int
from chalicelib.campaigns import dnc_lists, lists
from chalicelib.wiring import root

contact_lists_api = Blueprint(__name__)
CSV_TYPES = ["text/csv", "text/plain", "application/octet-stream"]


def _list_id(value: str) -> str:
    return path_id(value, "list_id", "contact list")


@contact_lists_api.route("/contact-lists", methods=["POST"])
def create_contact_list():
    raw = contact_lists_api.current_request.raw_body
    return json_answer(lambda: lists.create_list(json_object(raw), root().now()), status=201)


@contact_lists_api.route("/contact-lists/{list_id}", methods=["GET"])
def contact_list_report(list_id):
    return json_answer(lambda: lists.report(_list_id(list_id)))


@contact_lists_api.route("/contact-lists/{list_id}/rows", methods=["POST"],
                         content_types=CSV_TYPES)
def add_contact_rows(list_id):
    request = contact_lists_api.current_request
    query = dict(request.query_params or {})

    def add():
        if not query.get("chunk"):
            raise InvalidRequest("chunk", "is required: the chunk's number, from 0")
        chunk = query_int(query, "chunk", default=0, low=0, high=lists.MAX_CHUNK)
        last = query.get("last", "false")
        if last not in ("true", "false"):
            raise InvalidRequest("last", "must be true or false")
        return lists.add_chunk(_list_id(list_id), chunk, request.raw_body, root().compliance,
                               last=last == "true")

    return json_answer(add)


@contact_lists_api.route("/contact-lists/{list_id}/rejected", methods=["GET"])
def rejected_contact_rows(list_id):
    answer = json_answer(lambda: lists.rejected_csv(_list_id(list_id)))
    if answer.status_code != 200:
        return answer
    return Response(body=answer.body, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{list_id}-rejected.csv"'})


@contact_lists_api.route("/dnc/import", methods=["POST"],
                         content_types=CSV_TYPES)
def import_do_not_call():
    request = contact_lists_api.current_request
    return json_answer(lambda: dnc_lists.import_do_not_call(
        request.raw_body, request.query_params, root().now()))
